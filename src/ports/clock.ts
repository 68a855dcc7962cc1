/**
 * Time for use cases that pace themselves (rate limits) or stamp what they make, so tests can run
 * them on a fake clock. `now` is epoch milliseconds; `sleep` resolves after about `ms` milliseconds.
 */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}
