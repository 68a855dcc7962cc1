/**
 * Job schedules: the seven plans of a backup job (now, once, manual, hourly, daily, weekly,
 * monthly) and the next-run computation.
 *
 * Time rule: recurring schedules are wall-clock plans in a FIXED offset from UTC
 * (`utcOffsetMinutes`, e.g. +480 for UTC+08:00). There is no daylight saving: a plan at 02:00
 * runs every day at 02:00 − offset UTC, never twice, never skipped. Instants are `Date`s (UTC).
 *
 * Calendar rules:
 *  - weekdays are 0 = Sunday … 6 = Saturday; "every N weeks" counts ISO weeks (Monday first)
 *    from the week that holds `startDate`;
 *  - a monthly day the month does not have (31 in April, 29–31 in a short February) is skipped,
 *    not moved; `'last'` means the month's last day;
 *  - "every N days/weeks/months" counts from `startDate`, and nothing runs before `startDate`;
 *  - an hourly window `from`–`to` is inclusive; `to` earlier than `from` runs past midnight.
 *    The interval restarts at `from` every day.
 */
import { RecoveryError } from './errors.ts';

export type Weekday = 0 | 1 | 2 | 3 | 4 | 5 | 6;
/** Local wall-clock time, "HH:MM" (24 h). */
export type LocalTime = string;
/** Local calendar date, "YYYY-MM-DD". */
export type LocalDate = string;

interface Recurring {
  /** First local day the plan may run. */
  readonly startDate: LocalDate;
  /** Minutes east of UTC, −840…840. Fixed: no daylight saving. */
  readonly utcOffsetMinutes: number;
}

export type Schedule =
  /** Runs once, as soon as the job is created. */
  | { readonly kind: 'now' }
  /** Runs once at `at`: an ISO 8601 instant with `Z` or an explicit offset. */
  | { readonly kind: 'once'; readonly at: string }
  /** Never runs by itself; an operator starts it. */
  | { readonly kind: 'manual' }
  /** Every `every` hours (1–24) or minutes (1–1440) from `from` up to `to`, each day. */
  | (Recurring & { readonly kind: 'hourly'; readonly every: number; readonly unit: 'hours' | 'minutes'; readonly from: LocalTime; readonly to: LocalTime })
  /** At `at` every `everyDays` days (1–5). */
  | (Recurring & { readonly kind: 'daily'; readonly everyDays: number; readonly at: LocalTime })
  /** At `at` on the chosen weekdays of every `everyWeeks`-th week (1–52). */
  | (Recurring & { readonly kind: 'weekly'; readonly everyWeeks: number; readonly weekdays: readonly Weekday[]; readonly at: LocalTime })
  /** At `at` on chosen days of the chosen months, every `everyMonths`-th month (1–12). */
  | (Recurring & {
      readonly kind: 'monthly';
      readonly everyMonths: number;
      /** 1–12; all months when absent. */
      readonly months?: readonly number[];
      readonly on: MonthlyDays;
      readonly at: LocalTime;
    });

export type MonthlyDays =
  /** Days of the month, 1–31 or 'last'. */
  | { readonly days: readonly (number | 'last')[] }
  /** "The 2nd Tuesday", "the last Friday". */
  | { readonly nth: readonly { readonly week: 1 | 2 | 3 | 4 | 5 | 'last'; readonly weekday: Weekday }[] };

export type ScheduleKind = Schedule['kind'];
export const SCHEDULE_KINDS: readonly ScheduleKind[] = ['now', 'once', 'manual', 'hourly', 'daily', 'weekly', 'monthly'];

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** Monthly search horizon: 400 years holds every Gregorian pattern (Feb 29 included). */
const MONTH_SEARCH_LIMIT = 400 * 12;

/** now, once and manual run at most once by themselves; the others repeat. */
export function isOneShot(s: Schedule): boolean {
  return s.kind === 'now' || s.kind === 'once' || s.kind === 'manual';
}

/** The first run of a job created at `createdAt`; null when it never runs by itself. */
export function firstRun(s: Schedule, createdAt: Date): Date | null {
  switch (s.kind) {
    case 'now':
      return new Date(createdAt.getTime());
    case 'once':
      return new Date(Date.parse(s.at));
    case 'manual':
      return null;
    default:
      return nextRunAfter(s, new Date(createdAt.getTime() - 1));
  }
}

/** The first run strictly after `after`; null for one-shot plans, which never repeat. */
export function nextRunAfter(s: Schedule, after: Date): Date | null {
  if (s.kind === 'now' || s.kind === 'once' || s.kind === 'manual') return null;
  const offset = s.utcOffsetMinutes * MINUTE;
  const afterLocal = after.getTime() + offset;
  const startDay = dayNumber(s.startDate);
  let local: number | null;
  switch (s.kind) {
    case 'daily':
      local = nextDaily(startDay, minutesOf(s.at) * MINUTE, s.everyDays * DAY, afterLocal);
      break;
    case 'hourly':
      local = nextHourly(s, startDay, afterLocal);
      break;
    case 'weekly':
      local = nextWeekly(s, startDay, afterLocal);
      break;
    case 'monthly':
      local = nextMonthly(s, startDay, afterLocal);
      break;
  }
  return local === null ? null : new Date(local - offset);
}

function nextDaily(startDay: number, at: number, step: number, afterLocal: number): number {
  const first = startDay * DAY + at;
  if (afterLocal < first) return first;
  return first + (Math.floor((afterLocal - first) / step) + 1) * step;
}

function nextHourly(s: Extract<Schedule, { kind: 'hourly' }>, startDay: number, afterLocal: number): number {
  const step = s.every * (s.unit === 'hours' ? HOUR : MINUTE);
  const from = minutesOf(s.from) * MINUTE;
  const to = minutesOf(s.to) * MINUTE;
  const windowLength = to >= from ? to - from : DAY - from + to;
  // The previous day's window may run past midnight into today, hence the −1.
  for (let day = Math.max(startDay, Math.floor(afterLocal / DAY) - 1); ; day++) {
    const begin = day * DAY + from;
    const k = afterLocal < begin ? 0 : Math.floor((afterLocal - begin) / step) + 1;
    if (k * step <= windowLength) return begin + k * step;
  }
}

function nextWeekly(s: Extract<Schedule, { kind: 'weekly' }>, startDay: number, afterLocal: number): number | null {
  if (s.weekdays.length === 0) return null;
  const at = minutesOf(s.at) * MINUTE;
  const firstMonday = startDay - ((weekdayOf(startDay) + 6) % 7);
  const fromDay = Math.max(startDay, Math.floor(afterLocal / DAY));
  for (let day = fromDay; day <= fromDay + 7 * (s.everyWeeks + 1); day++) {
    const week = Math.floor((day - firstMonday) / 7);
    if (week % s.everyWeeks !== 0 || !s.weekdays.includes(weekdayOf(day))) continue;
    const local = day * DAY + at;
    if (local > afterLocal) return local;
  }
  return null;
}

function nextMonthly(s: Extract<Schedule, { kind: 'monthly' }>, startDay: number, afterLocal: number): number | null {
  const at = minutesOf(s.at) * MINUTE;
  const startMonth = monthIndexOf(startDay);
  const fromDay = Math.max(startDay, Math.floor(afterLocal / DAY));
  for (let m = monthIndexOf(fromDay); m < monthIndexOf(fromDay) + MONTH_SEARCH_LIMIT; m++) {
    if ((m - startMonth) % s.everyMonths !== 0) continue;
    if (s.months !== undefined && !s.months.includes((m % 12) + 1)) continue;
    for (const dom of daysOfMonth(s.on, m)) {
      const day = dayNumberOfMonth(m) + dom - 1;
      const local = day * DAY + at;
      if (day >= startDay && local > afterLocal) return local;
    }
  }
  return null;
}

/** The chosen days (1-based, ascending, unique) that month `m` (years × 12 + month0) really has. */
function daysOfMonth(on: MonthlyDays, m: number): number[] {
  const length = dayNumberOfMonth(m + 1) - dayNumberOfMonth(m);
  const days = new Set<number>();
  if ('days' in on) {
    for (const d of on.days) {
      const dom = d === 'last' ? length : d;
      if (dom <= length) days.add(dom);
    }
  } else {
    const firstWeekday = weekdayOf(dayNumberOfMonth(m));
    for (const { week, weekday } of on.nth) {
      const first = 1 + ((weekday - firstWeekday + 7) % 7);
      const dom = week === 'last' ? first + 7 * Math.floor((length - first) / 7) : first + 7 * (week - 1);
      if (dom <= length) days.add(dom);
    }
  }
  return [...days].sort((a, b) => a - b);
}

/** Days since 1970-01-01 of a "YYYY-MM-DD" date. */
function dayNumber(date: LocalDate): number {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return Date.UTC(y, m - 1, d) / DAY;
}

function dayNumberOfMonth(monthIndex: number): number {
  return Date.UTC(Math.floor(monthIndex / 12), monthIndex % 12, 1) / DAY;
}

function monthIndexOf(day: number): number {
  const date = new Date(day * DAY);
  return date.getUTCFullYear() * 12 + date.getUTCMonth();
}

function weekdayOf(day: number): Weekday {
  return new Date(day * DAY).getUTCDay() as Weekday;
}

function minutesOf(time: LocalTime): number {
  const [h, m] = time.split(':').map(Number) as [number, number];
  return h * 60 + m;
}

// ---------------------------------------------------------------------------------------------
// Validation of untrusted schedule JSON (from the HTTP API or the database).

const TIME = /^([01]\d|2[0-3]):[0-5]\d$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
/** An instant needs its offset: a bare "2025-06-01T02:00" would depend on the host's zone. */
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;

/** Checks `value` field by field; throws `schedule.invalid` listing every problem found. */
export function parseSchedule(value: unknown): Schedule {
  const problems = verifySchedule(value);
  if (problems.length > 0) {
    throw new RecoveryError('schedule.invalid', `Invalid schedule: ${problems.join('; ')}`, { data: { problems } });
  }
  return value as Schedule;
}

/** Every problem with `value` as a schedule; empty when it is one. */
export function verifySchedule(value: unknown): string[] {
  if (typeof value !== 'object' || value === null) return ['schedule must be an object'];
  const s = value as Record<string, unknown>;
  const problems: string[] = [];
  const intIn = (field: string, min: number, max: number): void => {
    const v = s[field];
    if (!Number.isInteger(v) || (v as number) < min || (v as number) > max) problems.push(`${field} must be an integer ${min}–${max}`);
  };
  const time = (field: string): void => {
    if (typeof s[field] !== 'string' || !TIME.test(s[field])) problems.push(`${field} must be "HH:MM"`);
  };
  switch (s['kind']) {
    case 'now':
    case 'manual':
      return problems;
    case 'once':
      if (typeof s['at'] !== 'string' || !INSTANT.test(s['at']) || Number.isNaN(Date.parse(s['at']))) {
        problems.push('at must be an ISO 8601 instant with Z or an offset');
      }
      return problems;
    case 'hourly':
      intIn('every', 1, s['unit'] === 'minutes' ? 1440 : 24);
      if (s['unit'] !== 'hours' && s['unit'] !== 'minutes') problems.push('unit must be "hours" or "minutes"');
      time('from');
      time('to');
      break;
    case 'daily':
      intIn('everyDays', 1, 5);
      time('at');
      break;
    case 'weekly':
      intIn('everyWeeks', 1, 52);
      time('at');
      if (!isNonEmptyList(s['weekdays'], isWeekday)) problems.push('weekdays must be a non-empty list of 0–6');
      break;
    case 'monthly':
      intIn('everyMonths', 1, 12);
      time('at');
      if (s['months'] !== undefined && !isNonEmptyList(s['months'], (m) => Number.isInteger(m) && (m as number) >= 1 && (m as number) <= 12)) {
        problems.push('months must be a non-empty list of 1–12');
      }
      problems.push(...verifyMonthlyDays(s['on']));
      break;
    default:
      return [`kind must be one of ${SCHEDULE_KINDS.join(', ')}`];
  }
  if (!isLocalDate(s['startDate'])) problems.push('startDate must be a calendar date "YYYY-MM-DD"');
  intIn('utcOffsetMinutes', -840, 840);
  return problems;
}

function verifyMonthlyDays(on: unknown): string[] {
  if (typeof on !== 'object' || on === null) return ['on must be { days } or { nth }'];
  const o = on as Record<string, unknown>;
  if ('days' in o) {
    const ok = isNonEmptyList(o['days'], (d) => d === 'last' || (Number.isInteger(d) && (d as number) >= 1 && (d as number) <= 31));
    return ok ? [] : ['on.days must be a non-empty list of 1–31 or "last"'];
  }
  const ok = isNonEmptyList(o['nth'], (n) => {
    if (typeof n !== 'object' || n === null) return false;
    const { week, weekday } = n as Record<string, unknown>;
    return (week === 'last' || (Number.isInteger(week) && (week as number) >= 1 && (week as number) <= 5)) && isWeekday(weekday);
  });
  return ok ? [] : ['on.nth must be a non-empty list of { week: 1–5 | "last", weekday: 0–6 }'];
}

function isNonEmptyList(v: unknown, item: (x: unknown) => boolean): boolean {
  return Array.isArray(v) && v.length > 0 && v.every(item);
}

function isWeekday(v: unknown): v is Weekday {
  return Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 6;
}

function isLocalDate(v: unknown): boolean {
  if (typeof v !== 'string') return false;
  const m = DATE.exec(v);
  if (m === null) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d;
}
