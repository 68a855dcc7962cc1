/**
 * Turning a tool's rejection into the step's `failed` outcome: the ports want the tool's own words
 * (the RecoveryError message carries the command line and the tool's last line), not a throw.
 */
import { RecoveryError } from '../../../core/errors.ts';
import type { StepOutcome } from '../../../core/protocol/jobs.ts';
import type { AbortSignalLike } from '../../../core/units.ts';

export function failedOutcome(error: unknown, context: string): StepOutcome {
  if (error instanceof RecoveryError) return { status: 'failed', code: error.code, message: `${context}: ${error.message}` };
  throw error;
}

/** Stops before the next tool when the job was cancelled. */
export function throwIfAborted(signal: AbortSignalLike | undefined): void {
  if (signal?.aborted === true) throw new RecoveryError('restore.cancelled', 'the restore was cancelled before its finishing steps ended');
}
