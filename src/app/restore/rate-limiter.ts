/**
 * A rate limit by time window (core/backup/rate-window.ts) applied in real time: `take(bytes)`
 * waits on the clock until the bytes may go. One limiter is shared by every channel of a job, so
 * the limit holds for the job as a whole. Without a schedule it never waits.
 */
import { fullBucket, throttle } from '../../core/backup/rate-window.ts';
import type { RateSchedule, TokenBucket } from '../../core/backup/rate-window.ts';
import type { Clock } from '../../ports/clock.ts';

export class RateLimiter {
  private bucket: TokenBucket;
  /** Milliseconds spent waiting, for the report. */
  waitedMs = 0;

  constructor(
    private readonly schedule: RateSchedule | undefined,
    private readonly clock: Clock,
    private readonly utcOffsetMinutes: number,
    private readonly burstBytes: number,
  ) {
    this.bucket = fullBucket(burstBytes, clock.now());
  }

  async take(bytes: number): Promise<void> {
    if (this.schedule === undefined) return;
    // The bucket is updated before waiting, so concurrent callers queue up behind each other's debt.
    const { bucket, delayMs } = throttle(this.schedule, this.bucket, bytes, { epochMs: this.clock.now(), utcOffsetMinutes: this.utcOffsetMinutes }, this.burstBytes);
    this.bucket = bucket;
    if (delayMs > 0) {
      this.waitedMs += delayMs;
      await this.clock.sleep(delayMs);
    }
  }
}
