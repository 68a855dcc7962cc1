/**
 * Retrying server calls through a network cut, within the job's reconnect window (seed 000 §5.6
 * table 4: "the job continues if the network comes back within this time", 1–60 minutes).
 *
 * Rules:
 * 1. Only errors marked `retryable` (connection lost, 5xx, server.busy) are retried; anything else
 *    is thrown at once.
 * 2. Delays grow 1, 2, 4, 8, 15, 30, 30, … seconds; the window is measured from the first failure
 *    of this call, and a last attempt is made when it ends.
 * 3. Past the window the call fails with `restore.reconnect-window-exceeded` (data.lastCode says
 *    what the last failure was; the failure itself is the cause).
 */
import { isRecoveryError, RecoveryError } from '../../core/errors.ts';
import type { AbortSignalLike } from '../../core/units.ts';
import type { Clock } from '../../ports/clock.ts';

export const BACKOFF_MS: readonly number[] = [1_000, 2_000, 4_000, 8_000, 15_000, 30_000];

export interface RetryPolicy {
  readonly clock: Clock;
  readonly windowMs: number;
  readonly signal?: AbortSignalLike;
  /** Told about each retry (for the job's events). */
  readonly onRetry?: (what: string, error: RecoveryError, attempt: number, delayMs: number) => void;
}

/** Throws `restore.interrupted` once the signal fired. */
export function throwIfAborted(signal: AbortSignalLike | undefined): void {
  if (signal?.aborted) {
    throw new RecoveryError('restore.interrupted', 'the restore was interrupted before it finished', {
      cause: signal.reason,
    });
  }
}

export async function withRetry<T>(what: string, call: () => Promise<T>, policy: RetryPolicy): Promise<T> {
  let firstFailureAt: number | undefined;
  for (let attempt = 0; ; attempt++) {
    throwIfAborted(policy.signal);
    try {
      return await call();
    } catch (e) {
      if (!isRecoveryError(e) || !e.retryable) throw e;
      const now = policy.clock.now();
      firstFailureAt ??= now;
      const left = policy.windowMs - (now - firstFailureAt);
      if (left <= 0) {
        const minutes = Math.round(policy.windowMs / 60_000);
        throw new RecoveryError('restore.reconnect-window-exceeded',
          `${what}: the server could not be reached for the whole reconnect window (${minutes} min); last error: ${e.message}`,
          { cause: e, data: { lastCode: e.code, windowMinutes: minutes, attempts: attempt + 1 } });
      }
      const delay = Math.min(BACKOFF_MS[Math.min(attempt, BACKOFF_MS.length - 1)]!, left);
      policy.onRetry?.(what, e, attempt + 1, delay);
      await policy.clock.sleep(delay);
    }
  }
}
