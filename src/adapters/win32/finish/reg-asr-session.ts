/**
 * AsrSession on Windows (reference §6.5): loads the restored SOFTWARE hive under
 * HKLM\LIFELINE_SOFTWARE, writes RestoreSession (a new LastInstance GUID per call, the restored
 * volumes' GUID paths, QuickFormat when configured) and unloads the hive again, also after a failed
 * write (tools/reg.ts writeAsrRestoreSession).
 * Volume GUID paths: on GPT the partition's unique GUID, which is the volume GUID the restored
 * Windows itself uses for a basic-disk partition; on MBR the name WinPE's mount manager gave it.
 */
import { randomUUID } from 'node:crypto';
import type { StepOutcome } from '../../../core/protocol/jobs.ts';
import type { AbortSignalLike } from '../../../core/units.ts';
import type { AsrSession } from '../../../ports/asr-session.ts';
import type { RestoredSystem } from '../../../ports/boot-tool.ts';
import { writeAsrRestoreSession } from '../tools/reg.ts';
import { locateWindows } from './locate-windows.ts';
import type { FinishDeps, LocatedVolume } from './locate-windows.ts';
import { failedOutcome, throwIfAborted } from './outcome.ts';

export const SOFTWARE_MOUNT_KEY = 'HKLM\\LIFELINE_SOFTWARE';

export interface RegAsrSessionDeps extends FinishDeps {
  /** Writes QuickFormat (1 quick, 0 full) when set; left alone otherwise. */
  readonly quickFormat?: boolean;
  /** Default: node:crypto randomUUID. */
  readonly newGuid?: () => string;
}

/** `\\?\Volume{GUID}\` of a restored volume as the restored Windows will name it. */
export function restoredVolumePath(v: LocatedVolume): string {
  const unique = v.restored.uniqueGuid?.replace(/[{}]/g, '').toLowerCase();
  return unique === undefined ? v.volumeName : `\\\\?\\Volume{${unique}}\\`;
}

export class RegAsrSession implements AsrSession {
  constructor(private readonly deps: RegAsrSessionDeps) {}

  async setRestoreSession(system: RestoredSystem, signal?: AbortSignalLike): Promise<StepOutcome> {
    let step = 'locating the restored Windows';
    try {
      throwIfAborted(signal);
      const found = await locateWindows(system, this.deps);
      if ('skipped' in found) return { status: 'skipped', why: `${found.skipped}: the offline SOFTWARE hive cannot be reached` };
      const { windows, volumes } = found.located;
      const hive = `${windows.letter}\\Windows\\System32\\config\\SOFTWARE`;
      const lastInstance = (this.deps.newGuid ?? randomUUID)();
      const restoredVolumes = volumes.map(restoredVolumePath);
      step = `writing RestoreSession into ${hive}`;
      throwIfAborted(signal);
      await writeAsrRestoreSession(this.deps.runner, hive, {
        lastInstance, restoredVolumes, ...(this.deps.quickFormat === undefined ? {} : { quickFormat: this.deps.quickFormat }),
      }, SOFTWARE_MOUNT_KEY);
      const lines = [`RestoreSession written into ${hive}`, `LastInstance ${lastInstance}`, `RestoredVolumes ${restoredVolumes.join(', ')}`];
      if (this.deps.quickFormat !== undefined) lines.push(`QuickFormat ${this.deps.quickFormat ? 1 : 0}`);
      return { status: 'done', detail: lines.join('\n') };
    } catch (e) {
      return failedOutcome(e, step);
    }
  }
}
