/**
 * Paces a stream of bytes to a RateSchedule (core/backup/rate-window.ts) on an injected clock.
 * Concurrent callers share one bucket: each takes its bytes at once, so later callers wait out the
 * debt earlier ones left, and the total pace stays at the rate.
 */
import { fullBucket, throttle, type RateSchedule, type TokenBucket } from '../../core/backup/rate-window.ts';
import type { Clock } from '../../ports/clock.ts';

export class RateLimiter {
  private bucket: TokenBucket;
  /** How many times `take` had to wait, and for how long in all (for reports and tests). */
  sleeps = 0;
  sleptMs = 0;

  constructor(
    private readonly schedule: RateSchedule,
    private readonly clock: Clock,
    private readonly utcOffsetMinutes: number,
    private readonly burstBytes: number,
  ) {
    this.bucket = fullBucket(burstBytes, clock.now());
  }

  /** Resolves when `bytes` may be read or sent under the rate in force now. */
  async take(bytes: number): Promise<void> {
    const { bucket, delayMs } = throttle(this.schedule, this.bucket, bytes, { epochMs: this.clock.now(), utcOffsetMinutes: this.utcOffsetMinutes }, this.burstBytes);
    this.bucket = bucket;
    if (delayMs <= 0) return;
    this.sleeps++;
    this.sleptMs += delayMs;
    await this.clock.sleep(delayMs);
  }
}
