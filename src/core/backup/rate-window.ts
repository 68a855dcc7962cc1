/**
 * Rate limits by time window (backup option "limit transfer speed / backup speed by period", in
 * KiB/s, MiB/s or GiB/s), and a token bucket that turns a rate into delays. Pure: every function
 * takes the time it should use.
 *
 * Rules:
 * 1. A window applies on its days from `startMinute` (inclusive) to `endMinute` (exclusive), in the
 *    machine's local time. A window whose end is not after its start crosses midnight: it starts on
 *    its listed days and ends on the following day.
 * 2. When several windows apply, the lowest rate wins; when none applies, `defaultBytesPerSecond`
 *    (absent = unlimited).
 * 3. The bucket allows bursts of up to `burstBytes`; a request larger than what is in the bucket
 *    goes into debt and waits until the debt is paid at the current rate, so any request size works.
 *    A delay is computed with the rate in force when it is asked for; a window change applies from
 *    the next request on.
 */
import { backupError } from './errors.ts';

/** 0 = Sunday … 6 = Saturday, as JavaScript's getDay(). */
export type Weekday = 0 | 1 | 2 | 3 | 4 | 5 | 6;

export const WEEKDAYS: readonly Weekday[] = [1, 2, 3, 4, 5];
export const ALL_DAYS: readonly Weekday[] = [0, 1, 2, 3, 4, 5, 6];

export interface RateWindow {
  readonly days: readonly Weekday[];
  /** Minutes after local midnight, 0–1439. */
  readonly startMinute: number;
  /** Minutes after local midnight, 1–1440; not after startMinute = crosses midnight. */
  readonly endMinute: number;
  /** > 0. */
  readonly bytesPerSecond: number;
}

export interface RateSchedule {
  readonly windows: readonly RateWindow[];
  /** Outside every window; absent = unlimited. */
  readonly defaultBytesPerSecond?: number;
}

/** A moment as the machine's wall clock shows it. */
export interface LocalTime {
  readonly weekday: Weekday;
  /** Milliseconds after local midnight. */
  readonly msOfDay: number;
}

export interface TokenBucket {
  /** Bytes available now; negative = debt. */
  readonly tokens: number;
  /** Epoch milliseconds of the last update. */
  readonly atMs: number;
}

const MS_PER_MINUTE = 60_000;
const MS_PER_DAY = 1440 * MS_PER_MINUTE;
const MS_PER_WEEK = 7 * MS_PER_DAY;

/** Local wall-clock time of an instant, given the UTC offset in force then (east of UTC positive, e.g. +480 for UTC+8). */
export function localTimeOf(epochMs: number, utcOffsetMinutes: number): LocalTime {
  const localMs = epochMs + utcOffsetMinutes * MS_PER_MINUTE;
  const dayNumber = Math.floor(localMs / MS_PER_DAY);
  // 1970-01-01 was a Thursday (4).
  const weekday = ((((dayNumber + 4) % 7) + 7) % 7) as Weekday;
  return { weekday, msOfDay: localMs - dayNumber * MS_PER_DAY };
}

/** Bytes per second allowed at `t`; undefined = unlimited. */
export function rateAt(schedule: RateSchedule, t: LocalTime): number | undefined {
  let rate: number | undefined;
  for (const w of schedule.windows) {
    if (windowApplies(w, t) && (rate === undefined || w.bytesPerSecond < rate)) rate = w.bytesPerSecond;
  }
  return rate ?? schedule.defaultBytesPerSecond;
}

function windowApplies(w: RateWindow, t: LocalTime): boolean {
  const minute = t.msOfDay / MS_PER_MINUTE;
  if (w.startMinute < w.endMinute) return w.days.includes(t.weekday) && minute >= w.startMinute && minute < w.endMinute;
  const yesterday = ((t.weekday + 6) % 7) as Weekday;
  return (w.days.includes(t.weekday) && minute >= w.startMinute) || (w.days.includes(yesterday) && minute < w.endMinute);
}

/** Milliseconds until the allowed rate next differs from the one at `t`; undefined when it never changes. */
export function msUntilRateChange(schedule: RateSchedule, t: LocalTime): number | undefined {
  const now = t.weekday * MS_PER_DAY + t.msOfDay;
  const current = rateAt(schedule, t);
  const deltas = new Set<number>();
  for (const w of schedule.windows) {
    for (const day of w.days) {
      for (const minute of [w.startMinute, w.endMinute + (w.endMinute <= w.startMinute ? 1440 : 0)]) {
        const boundary = (day * MS_PER_DAY + minute * MS_PER_MINUTE) % MS_PER_WEEK;
        deltas.add(((boundary - now) % MS_PER_WEEK + MS_PER_WEEK) % MS_PER_WEEK || MS_PER_WEEK);
      }
    }
  }
  for (const delta of [...deltas].sort((a, b) => a - b)) {
    const at = (now + delta) % MS_PER_WEEK;
    const next = rateAt(schedule, { weekday: Math.floor(at / MS_PER_DAY) as Weekday, msOfDay: at % MS_PER_DAY });
    if (next !== current) return delta;
  }
  return undefined;
}

/** Takes `bytes` from the bucket at `nowMs`; returns how long to wait before sending them. */
export function takeTokens(
  bucket: TokenBucket,
  bytes: number,
  nowMs: number,
  bytesPerSecond: number | undefined,
  burstBytes: number,
): { readonly bucket: TokenBucket; readonly delayMs: number } {
  if (bytesPerSecond === undefined) return { bucket: { tokens: burstBytes, atMs: nowMs }, delayMs: 0 };
  // A clock that stepped back refills nothing rather than draining the bucket.
  const elapsedMs = Math.max(0, nowMs - bucket.atMs);
  const refilled = Math.min(burstBytes, bucket.tokens + (bytesPerSecond * elapsedMs) / 1000);
  const tokens = refilled - bytes;
  return { bucket: { tokens, atMs: Math.max(nowMs, bucket.atMs) }, delayMs: tokens >= 0 ? 0 : Math.ceil((-tokens * 1000) / bytesPerSecond) };
}

/** The delay before sending `bytes` now, under the schedule's rate at this moment. */
export function throttle(
  schedule: RateSchedule,
  bucket: TokenBucket,
  bytes: number,
  now: { readonly epochMs: number; readonly utcOffsetMinutes: number },
  burstBytes: number,
): { readonly bucket: TokenBucket; readonly delayMs: number } {
  const rate = rateAt(schedule, localTimeOf(now.epochMs, now.utcOffsetMinutes));
  return takeTokens(bucket, bytes, now.epochMs, rate, burstBytes);
}

/** A full bucket: the first `burstBytes` go out at once. */
export function fullBucket(burstBytes: number, nowMs: number): TokenBucket {
  return { tokens: burstBytes, atMs: nowMs };
}

const RATE_UNITS: Readonly<Record<string, number>> = { 'b/s': 1, 'kib/s': 1024, 'mib/s': 1024 ** 2, 'gib/s': 1024 ** 3 };

/** "10 MiB/s", "512KiB/s", "1.5 GiB/s", "800 B/s" → bytes per second (> 0). */
export function parseRate(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([KMG]iB\/s|B\/s)\s*$/i.exec(text);
  const unit = m?.[2] === undefined ? undefined : RATE_UNITS[m[2].toLowerCase()];
  if (m?.[1] === undefined || unit === undefined) {
    throw backupError('rate.invalid', `"${text}" is not a rate; write it like "10 MiB/s" (units B/s, KiB/s, MiB/s, GiB/s)`, { text });
  }
  const rate = Math.floor(Number(m[1]) * unit);
  if (rate <= 0) throw backupError('rate.invalid', `"${text}" is not a positive rate`, { text });
  return rate;
}

/** "08:00" → 480; "24:00" → 1440 (only meaningful as an end). */
export function parseTimeOfDay(text: string): number {
  const m = /^\s*([01]?\d|2[0-4]):([0-5]\d)\s*$/.exec(text);
  const minutes = m?.[1] === undefined || m[2] === undefined ? NaN : Number(m[1]) * 60 + Number(m[2]);
  if (!(minutes <= 1440)) throw backupError('rate.invalid', `"${text}" is not a time of day (HH:MM, 00:00–24:00)`, { text });
  return minutes;
}

/** Checks a window built from user input; throws rate.invalid naming what is wrong. */
export function checkRateWindow(w: RateWindow): RateWindow {
  const bad = (why: string): never => {
    throw backupError('rate.invalid', `rate window ${why}`, { window: { ...w, days: [...w.days] } });
  };
  if (w.days.length === 0 || w.days.some((d) => !Number.isInteger(d) || d < 0 || d > 6)) bad('needs days from 0 (Sunday) to 6');
  if (!Number.isInteger(w.startMinute) || w.startMinute < 0 || w.startMinute > 1439) bad('start must be 00:00–23:59');
  if (!Number.isInteger(w.endMinute) || w.endMinute < 1 || w.endMinute > 1440) bad('end must be 00:01–24:00');
  if (!(w.bytesPerSecond > 0) || !Number.isFinite(w.bytesPerSecond)) bad('needs a positive rate');
  return w;
}
