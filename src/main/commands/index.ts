/** Every `lifeline` subcommand, in the order `lifeline --help` lists them. */
import type { Command } from '../cli-kit.ts';
import { diskBlocks, diskShow } from './disk.ts';
import { driversAdd, driversList, driversMatch, driversRemove } from './drivers.ts';
import { backup } from './backup.ts';
import { appliance } from './appliance.ts';
import { server } from './server.ts';
import { targetBind, targetList, targetShow, targetUnbind } from './target.ts';
import { setList, setPrune, setShow } from './set.ts';
import { jobCancel, jobList, jobLogs, jobRestore, jobShow, jobStart, jobWait } from './job.ts';
import { keyCreate, keyList, keyRevoke } from './key.ts';
import { tokenCreate } from './token.ts';
import { tenantCreate } from './tenant.ts';
import { agent } from './agent.ts';
import { demo } from './demo.ts';

export const commands: readonly Command[] = [diskShow, diskBlocks, driversAdd, driversList, driversMatch, driversRemove, backup, appliance,
  server, targetList, targetShow, targetBind, targetUnbind, setList, setShow, setPrune,
  jobRestore, jobList, jobShow, jobStart, jobCancel, jobWait, jobLogs, keyCreate, keyList, keyRevoke, tokenCreate, tenantCreate, agent, demo];
