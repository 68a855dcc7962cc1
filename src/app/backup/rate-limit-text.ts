/**
 * Rate limits as typed on a command line (one text per window, repeatable):
 *
 *   "10 MiB/s"                       the rate outside every window (or always, alone)
 *   "2 MiB/s mon-fri 08:00-18:00"    a window on some days
 *   "512 KiB/s 22:00-06:00"          every day, crossing midnight
 *   "1 GiB/s sat,sun"                whole days
 *
 * Days: mon tue wed thu fri sat sun, as ranges ("mon-fri", "fri-mon") or lists; "daily" = every day.
 * Windows use the machine's local time; overlapping windows give the lowest rate (rate-window.ts).
 */
import { ALL_DAYS, checkRateWindow, parseRate, parseTimeOfDay, type RateSchedule, type RateWindow, type Weekday } from '../../core/backup/rate-window.ts';
import { backupError } from '../../core/backup/errors.ts';

const DAY_NAMES: readonly string[] = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const TEXT = /^\s*(\d+(?:\.\d+)?\s*(?:[KMG]iB|B)\/s)(?:\s+([a-z,-]+))?(?:\s+(\d{1,2}:\d{2})-(\d{1,2}:\d{2}))?\s*$/i;

export function parseRateLimits(texts: readonly string[]): RateSchedule | undefined {
  if (texts.length === 0) return undefined;
  const windows: RateWindow[] = [];
  let defaultBytesPerSecond: number | undefined;
  for (const text of texts) {
    const m = TEXT.exec(text);
    if (!m?.[1]) {
      throw backupError('rate.invalid', `"${text}" is not a rate limit; write "10 MiB/s", or "2 MiB/s mon-fri 08:00-18:00" for a window`, { text });
    }
    const bytesPerSecond = parseRate(m[1]);
    if (m[2] === undefined && m[3] === undefined) {
      if (defaultBytesPerSecond !== undefined) throw backupError('rate.invalid', `"${text}": only one rate may apply outside the windows`, { text });
      defaultBytesPerSecond = bytesPerSecond;
      continue;
    }
    const days = m[2] === undefined ? ALL_DAYS : parseDays(m[2], text);
    const startMinute = m[3] === undefined ? 0 : parseTimeOfDay(m[3]);
    const endMinute = m[4] === undefined ? 1440 : parseTimeOfDay(m[4]);
    if (startMinute === 1440) throw backupError('rate.invalid', `"${text}": a window cannot start at 24:00`, { text });
    windows.push(checkRateWindow({ days, startMinute, endMinute: endMinute === 0 ? 1440 : endMinute, bytesPerSecond }));
  }
  return defaultBytesPerSecond === undefined ? { windows } : { windows, defaultBytesPerSecond };
}

function parseDays(text: string, whole: string): Weekday[] {
  if (text.toLowerCase() === 'daily') return [...ALL_DAYS];
  const days = new Set<Weekday>();
  for (const part of text.toLowerCase().split(',')) {
    const [from, to, extra] = part.split('-');
    const a = dayOf(from, whole);
    const b = to === undefined ? a : dayOf(to, whole);
    if (extra !== undefined) throw backupError('rate.invalid', `"${whole}": "${part}" is not a day or a range of days`, { text: whole });
    // A range may wrap over the weekend: fri-mon is fri, sat, sun, mon.
    for (let d = a; ; d = ((d + 1) % 7) as Weekday) {
      days.add(d);
      if (d === b) break;
    }
  }
  return [...days].sort((x, y) => x - y);
}

function dayOf(name: string | undefined, whole: string): Weekday {
  const index = DAY_NAMES.indexOf(name ?? '');
  if (index < 0) throw backupError('rate.invalid', `"${whole}": "${name ?? ''}" is not a day (mon, tue, wed, thu, fri, sat, sun)`, { text: whole });
  return index as Weekday;
}
