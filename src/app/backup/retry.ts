/**
 * The backup's retry policy for server calls (the BackupServer port leaves it to the caller): a
 * failure the adapter marks retryable (connection lost, 5xx, server.busy) is retried with backoff
 * until the job's reconnect window has passed since the first failure in a row; anything else, or
 * a failure past the window, is thrown as it came.
 */
import { isRecoveryError } from '../../core/errors.ts';
import type { Clock } from '../../ports/clock.ts';

const FIRST_DELAY_MS = 1000;
const MAX_DELAY_MS = 30_000;

export interface RetryPolicy {
  readonly clock?: Clock;
  readonly windowMs: number;
  /** Told before each wait, for the log. */
  readonly onRetry?: (what: string, error: Error, attempt: number, delayMs: number) => void;
}

export async function withRetry<T>(policy: RetryPolicy, what: string, call: () => Promise<T>): Promise<T> {
  let firstFailureAt: number | undefined;
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (e) {
      const clock = policy.clock;
      if (clock === undefined || !isRecoveryError(e) || !e.retryable) throw e;
      const now = clock.now();
      firstFailureAt ??= now;
      const left = firstFailureAt + policy.windowMs - now;
      if (left <= 0) throw e;
      const delayMs = Math.min(FIRST_DELAY_MS * 2 ** Math.min(attempt - 1, 16), MAX_DELAY_MS, left);
      policy.onRetry?.(what, e, attempt, delayMs);
      await clock.sleep(delayMs);
    }
  }
}
