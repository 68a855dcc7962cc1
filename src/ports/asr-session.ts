/**
 * Writes the ASR RestoreSession values into the restored system's registry (seed 001, "Using VSS
 * Automated System Recovery"): under HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion\ASR\RestoreSession,
 * `RestoredVolumes` (REG_MULTI_SZ, one \\?\Volume{GUID}\ per restored volume) and `LastInstance`
 * (REG_SZ, a fresh random cookie per restore), so applications learn that a bare-metal restore
 * happened.
 *
 * Implementations:
 * - MUST create a new `LastInstance` cookie on every call (UuidCreate or equivalent);
 * - MUST answer with the step's real outcome (see boot-tool.ts), `skipped` with the reason when the
 *   offline hive cannot be reached here;
 * - MUST write into the restored (offline) SOFTWARE hive, never the running WinPE's.
 */
import type { StepOutcome } from '../core/protocol/jobs.ts';
import type { AbortSignalLike } from '../core/units.ts';
import type { RestoredSystem } from './boot-tool.ts';

export interface AsrSession {
  setRestoreSession(system: RestoredSystem, signal?: AbortSignalLike): Promise<StepOutcome>;
}
