/**
 * The steps after the data is restored and verified, through ports whose adapters know the
 * platform: driver injection, boot repair, ASR RestoreSession values. Each reports what really
 * happened; options that are off and restores that put no volume back are skipped, saying why.
 */
import type { Firmware } from '../../core/backup/manifest.ts';
import type { RestoreOptions, StepOutcome } from '../../core/protocol/jobs.ts';
import type { AbortSignalLike } from '../../core/units.ts';
import type { AsrSession } from '../../ports/asr-session.ts';
import type { BootTool, RestoredSystem } from '../../ports/boot-tool.ts';
import type { DriverTool } from '../../ports/driver-tool.ts';
import type { PreparedDisk } from './prepare-disk.ts';

export function restoredSystem(firmware: Firmware, disks: readonly PreparedDisk[]): RestoredSystem {
  return {
    firmware,
    disks: disks.map((d) => {
      const expected = d.table.kind === 'none' ? undefined : d.table.expected;
      const identity = expected === undefined ? undefined : expected.style === 'gpt' ? expected.diskGuid : expected.diskSignature.toString(16).padStart(8, '0');
      return { path: d.mapping.targetDisk, style: expected?.style ?? 'raw', ...(identity === undefined ? {} : { identity }) };
    }),
    volumes: disks.flatMap((d) => d.volumes),
  };
}

const NO_VOLUME: StepOutcome = { status: 'skipped', why: 'no partition was restored (raw disks only)' };

export async function injectDrivers(options: RestoreOptions, tool: DriverTool, system: RestoredSystem, hardwareIds: readonly string[], signal?: AbortSignalLike): Promise<StepOutcome> {
  if (!options.driverAutoUpdate) return { status: 'skipped', why: 'driver auto-update is off in the job options' };
  if (system.volumes.length === 0) return NO_VOLUME;
  return tool.injectDrivers({ system, hardwareIds }, signal);
}

export async function repairBoot(tool: BootTool, system: RestoredSystem, signal?: AbortSignalLike): Promise<StepOutcome> {
  if (system.volumes.length === 0) return NO_VOLUME;
  return tool.makeBootable(system, signal);
}

export async function setRestoreSession(options: RestoreOptions, asr: AsrSession, system: RestoredSystem, signal?: AbortSignalLike): Promise<StepOutcome> {
  if (!options.asrRestoreSession) return { status: 'skipped', why: 'ASR RestoreSession values are off in the job options' };
  if (system.volumes.length === 0) return NO_VOLUME;
  return asr.setRestoreSession(system, signal);
}
