/**
 * Every `lifeline` subcommand, in the order `lifeline --help` lists them. Each is loaded only when
 * it runs: the server, the TUI and the codecs stay out of a command that does not need them, which
 * keeps `lifeline.exe` quick to start in WinPE and keeps one broken native addon from taking every
 * command down with it.
 */
import type { Command } from '../cli-kit.ts';

export interface CommandEntry {
  readonly path: readonly string[];
  load(): Promise<Command>;
}

type Module = Record<string, unknown>;

/** Entries for the commands `names` (export names) of one module, at `paths`. */
function fromModule(load: () => Promise<Module>, entries: readonly (readonly [path: string, exportName: string])[]): CommandEntry[] {
  return entries.map(([path, exportName]) => ({
    path: path.split(' '),
    async load() {
      return (await load())[exportName] as Command;
    },
  }));
}

export const commandEntries: readonly CommandEntry[] = [
  ...fromModule(() => import('./demo.ts'), [['demo', 'demo']]),
  ...fromModule(() => import('./disk.ts'), [['disk show', 'diskShow'], ['disk blocks', 'diskBlocks']]),
  ...fromModule(() => import('./drivers.ts'), [['drivers add', 'driversAdd'], ['drivers list', 'driversList'], ['drivers match', 'driversMatch'], ['drivers remove', 'driversRemove']]),
  ...fromModule(() => import('./backup.ts'), [['backup', 'backup']]),
  ...fromModule(() => import('./appliance.ts'), [['appliance', 'appliance']]),
  ...fromModule(() => import('./agent.ts'), [['agent', 'agent']]),
  ...fromModule(() => import('./server.ts'), [['server', 'server']]),
  ...fromModule(() => import('./target.ts'), [['target list', 'targetList'], ['target show', 'targetShow'], ['target bind', 'targetBind'], ['target unbind', 'targetUnbind']]),
  ...fromModule(() => import('./set.ts'), [['set list', 'setList'], ['set show', 'setShow'], ['set prune', 'setPrune']]),
  ...fromModule(() => import('./job.ts'), [
    ['job restore', 'jobRestore'], ['job backup', 'jobBackup'], ['job list', 'jobList'], ['job show', 'jobShow'], ['job start', 'jobStart'],
    ['job cancel', 'jobCancel'], ['job wait', 'jobWait'], ['job logs', 'jobLogs'],
  ]),
  ...fromModule(() => import('./key.ts'), [['key create', 'keyCreate'], ['key list', 'keyList'], ['key revoke', 'keyRevoke']]),
  ...fromModule(() => import('./token.ts'), [['token create', 'tokenCreate']]),
  ...fromModule(() => import('./tenant.ts'), [['tenant create', 'tenantCreate']]),
];
