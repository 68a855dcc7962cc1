/**
 * Throughput from cumulative byte counters sampled at times the controller reports (the reducers
 * have no clock). The rate is the slope over the last `windowMs`, so a stall shows as a falling
 * rate within seconds instead of being averaged over the whole job.
 */

export interface Sample {
  readonly atMs: number;
  readonly bytes: number;
}

export const RATE_WINDOW_MS = 5000;

/** Add a sample, keeping those inside the window plus the one just before it (the slope's anchor). */
export function addSample(samples: readonly Sample[], sample: Sample, windowMs = RATE_WINDOW_MS): Sample[] {
  const last = samples[samples.length - 1];
  // A counter that went backwards (a restarted agent) starts a new series.
  const base = last !== undefined && (sample.bytes < last.bytes || sample.atMs < last.atMs) ? [] : samples;
  const all = [...base, sample];
  let first = 0;
  while (first + 1 < all.length && (all[first + 1]?.atMs ?? 0) <= sample.atMs - windowMs) first++;
  return all.slice(first);
}

/** Bytes per second over the samples; null until two samples at different times exist. */
export function rateOf(samples: readonly Sample[]): number | null {
  const first = samples[0];
  const last = samples[samples.length - 1];
  if (first === undefined || last === undefined || last.atMs <= first.atMs) return null;
  return ((last.bytes - first.bytes) * 1000) / (last.atMs - first.atMs);
}

/** "12.3 MB/s" (decimal megabytes, as network tools count); "--" when unknown. */
export function formatRate(bytesPerSecond: number | null): string {
  if (bytesPerSecond === null) return '-- MB/s';
  const mb = bytesPerSecond / 1e6;
  return `${mb.toFixed(mb < 10 ? 2 : 1)} MB/s`;
}

/** Seconds to finish at this rate; null when nothing is moving. */
export function etaSeconds(remainingBytes: number, bytesPerSecond: number | null): number | null {
  if (remainingBytes <= 0) return 0;
  if (bytesPerSecond === null || bytesPerSecond <= 0) return null;
  return Math.ceil(remainingBytes / bytesPerSecond);
}

/** "1:02:03", "4:05"; "--:--" when unknown. */
export function formatDuration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '--:--';
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

/** Whole percent, never 100 before the last byte (an almost-done disk must not look finished). */
export function percentOf(done: number, total: number): number {
  if (total <= 0) return done > 0 ? 100 : 0;
  if (done >= total) return 100;
  return Math.min(99, Math.floor((done * 100) / total));
}
