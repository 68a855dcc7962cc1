/**
 * The tools that finish a restore (driver injection, boot repair, ASR values) for this platform.
 * Windows: dism, bcdboot/bcdedit and reg, with the driver catalogs on the boot media (the
 * `drivers` folder beside lifeline.exe) and in the working folder. Linux: each step says why it
 * cannot run here.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { linuxAsrSession, linuxBootTool, linuxDriverTool } from '../../adapters/linux/unsupported-tools.ts';
import { ChildProcessRunner } from '../../adapters/node/child-process-runner.ts';
import { FolderCatalogStore } from '../../adapters/node/driver-catalog-store.ts';
import { matchCatalogDrivers } from '../../app/driver-catalog.ts';
import type { AsrSession } from '../../ports/asr-session.ts';
import type { BootTool } from '../../ports/boot-tool.ts';
import type { DriverTool } from '../../ports/driver-tool.ts';

export interface FinishingTools {
  readonly drivers: DriverTool;
  readonly boot: BootTool;
  readonly asr: AsrSession;
}

/** Driver catalog folders that exist: beside the executable first (the boot media), then here. */
function catalogFolders(): string[] {
  const candidates = [join(dirname(process.execPath), 'drivers'), resolve('drivers')];
  return [...new Set(candidates)].filter((dir) => existsSync(join(dir, 'manifest.json')));
}

export async function finishingToolsForPlatform(): Promise<FinishingTools> {
  if (process.platform !== 'win32') return { drivers: linuxDriverTool, boot: linuxBootTool, asr: linuxAsrSession };
  // Only Windows loads the Windows adapter (and koffi with it).
  const [{ DismDriverTool }, { BcdBootTool }, { RegAsrSession }] = await Promise.all([
    import('../../adapters/win32/finish/dism-driver-tool.ts'),
    import('../../adapters/win32/finish/bcd-boot-tool.ts'),
    import('../../adapters/win32/finish/reg-asr-session.ts'),
  ]);
  const runner = new ChildProcessRunner();
  const catalogs = catalogFolders().map((dir) => ({ store: new FolderCatalogStore(dir) }));
  return {
    drivers: new DismDriverTool({ runner, catalogs, matchCatalogDrivers }),
    boot: new BcdBootTool({ runner }),
    asr: new RegAsrSession({ runner }),
  };
}
