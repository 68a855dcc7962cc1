import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { firstRun, nextRunAfter, parseSchedule, verifySchedule, type Schedule, type Weekday } from '../../../src/core/schedule.ts';
import { isRecoveryError } from '../../../src/core/errors.ts';

const at = (iso: string): Date => new Date(iso);
const iso = (d: Date | null): string | null => (d === null ? null : d.toISOString());

/** The first `count` runs after `from`, as ISO strings. */
function runs(s: Schedule, from: string, count: number): string[] {
  const out: string[] = [];
  let t: Date | null = at(from);
  for (let i = 0; i < count && t !== null; i++) {
    t = nextRunAfter(s, t);
    if (t !== null) out.push(t.toISOString());
  }
  return out;
}

describe('one-shot schedules', () => {
  it('now runs at creation and never again', () => {
    const created = at('2025-06-01T10:00:00Z');
    expect(iso(firstRun({ kind: 'now' }, created))).toBe('2025-06-01T10:00:00.000Z');
    expect(nextRunAfter({ kind: 'now' }, created)).toBeNull();
  });

  it('once runs at its instant, honouring the offset written in it, even when already past', () => {
    const s: Schedule = { kind: 'once', at: '2025-06-01T02:00:00+08:00' };
    expect(iso(firstRun(s, at('2025-01-01T00:00:00Z')))).toBe('2025-05-31T18:00:00.000Z');
    expect(iso(firstRun(s, at('2026-01-01T00:00:00Z')))).toBe('2025-05-31T18:00:00.000Z');
    expect(nextRunAfter(s, at('2025-05-31T18:00:00Z'))).toBeNull();
  });

  it('manual never runs by itself', () => {
    expect(firstRun({ kind: 'manual' }, at('2025-06-01T10:00:00Z'))).toBeNull();
    expect(nextRunAfter({ kind: 'manual' }, at('2025-06-01T10:00:00Z'))).toBeNull();
  });
});

describe('daily', () => {
  const s: Schedule = { kind: 'daily', everyDays: 2, at: '02:00', startDate: '2025-03-01', utcOffsetMinutes: 480 };

  it('runs at local 02:00 (UTC+8 = 18:00 UTC the day before) every second day from startDate', () => {
    expect(iso(firstRun(s, at('2025-01-01T00:00:00Z')))).toBe('2025-02-28T18:00:00.000Z');
    expect(runs(s, '2025-02-28T18:00:00Z', 3)).toEqual(['2025-03-02T18:00:00.000Z', '2025-03-04T18:00:00.000Z', '2025-03-06T18:00:00.000Z']);
  });

  it('a job created just after a run waits for the next one; created exactly at a run, it runs then', () => {
    expect(iso(firstRun(s, at('2025-03-02T18:00:00.001Z')))).toBe('2025-03-04T18:00:00.000Z');
    expect(iso(firstRun(s, at('2025-03-02T18:00:00Z')))).toBe('2025-03-02T18:00:00.000Z');
  });

  it('has no daylight saving: a fixed −05:00 plan keeps 24 h spacing across the US spring-forward night', () => {
    const ny: Schedule = { kind: 'daily', everyDays: 1, at: '02:30', startDate: '2025-03-07', utcOffsetMinutes: -300 };
    const r = runs(ny, '2025-03-07T00:00:00Z', 4);
    expect(r).toEqual(['2025-03-07T07:30:00.000Z', '2025-03-08T07:30:00.000Z', '2025-03-09T07:30:00.000Z', '2025-03-10T07:30:00.000Z']);
  });
});

describe('hourly', () => {
  it('runs every 4 hours inside the 08:00–18:00 window, then restarts at 08:00 the next day', () => {
    const s: Schedule = { kind: 'hourly', every: 4, unit: 'hours', from: '08:00', to: '18:00', startDate: '2025-06-01', utcOffsetMinutes: 0 };
    expect(runs(s, '2025-06-01T09:00:00Z', 4)).toEqual([
      '2025-06-01T12:00:00.000Z', '2025-06-01T16:00:00.000Z', '2025-06-02T08:00:00.000Z', '2025-06-02T12:00:00.000Z',
    ]);
  });

  it('counts minutes, includes the window end, and crosses midnight when to < from', () => {
    const s: Schedule = { kind: 'hourly', every: 90, unit: 'minutes', from: '22:00', to: '01:00', startDate: '2025-06-01', utcOffsetMinutes: 60 };
    // Local 22:00, 23:30, 01:00 = UTC 21:00, 22:30, 00:00.
    expect(runs(s, '2025-06-01T00:00:00Z', 4)).toEqual([
      '2025-06-01T21:00:00.000Z', '2025-06-01T22:30:00.000Z', '2025-06-02T00:00:00.000Z', '2025-06-02T21:00:00.000Z',
    ]);
  });
});

describe('weekly', () => {
  it('runs on Monday and Friday of every second ISO week, counted from the week holding startDate', () => {
    // 2025-01-01 is a Wednesday; its week starts Monday 2024-12-30.
    const s: Schedule = { kind: 'weekly', everyWeeks: 2, weekdays: [1, 5], at: '23:00', startDate: '2025-01-01', utcOffsetMinutes: 0 };
    expect(runs(s, '2024-12-01T00:00:00Z', 4)).toEqual([
      '2025-01-03T23:00:00.000Z', '2025-01-13T23:00:00.000Z', '2025-01-17T23:00:00.000Z', '2025-01-27T23:00:00.000Z',
    ]);
  });
});

describe('monthly', () => {
  const base = { kind: 'monthly', everyMonths: 1, at: '03:00', startDate: '2025-01-01', utcOffsetMinutes: 0 } as const;

  it('skips months without a 31st', () => {
    const r = runs({ ...base, on: { days: [31] } }, '2025-01-01T00:00:00Z', 7);
    expect(r.map((t) => t.slice(0, 10))).toEqual(['2025-01-31', '2025-03-31', '2025-05-31', '2025-07-31', '2025-08-31', '2025-10-31', '2025-12-31']);
  });

  it("'last' is the month's last day, leap years included", () => {
    const r = runs({ ...base, startDate: '2024-01-01', on: { days: ['last'] } }, '2024-01-01T00:00:00Z', 14);
    expect(r.map((t) => t.slice(0, 10))).toContain('2024-02-29');
    expect(r.map((t) => t.slice(0, 10))).toContain('2025-02-28');
    expect(r.map((t) => t.slice(0, 10))).toContain('2024-04-30');
  });

  it('February 29th only runs in leap years', () => {
    const r = runs({ ...base, months: [2], on: { days: [29, 30] } }, '2025-01-01T00:00:00Z', 2);
    expect(r).toEqual(['2028-02-29T03:00:00.000Z', '2032-02-29T03:00:00.000Z']);
  });

  it('never runs when no chosen month has the chosen day', () => {
    expect(nextRunAfter({ ...base, months: [2], on: { days: [30] } }, at('2025-01-01T00:00:00Z'))).toBeNull();
  });

  it('runs on the last Friday and the 5th Monday (only in months that have one)', () => {
    expect(runs({ ...base, on: { nth: [{ week: 'last', weekday: 5 }] } }, '2025-01-01T00:00:00Z', 3).map((t) => t.slice(0, 10)))
      .toEqual(['2025-01-31', '2025-02-28', '2025-03-28']);
    expect(runs({ ...base, on: { nth: [{ week: 5, weekday: 1 }] } }, '2025-01-01T00:00:00Z', 3).map((t) => t.slice(0, 10)))
      .toEqual(['2025-03-31', '2025-06-30', '2025-09-29']);
  });

  it('every third month counts from the start month, filtered by the chosen months', () => {
    const s: Schedule = { ...base, everyMonths: 3, startDate: '2025-02-10', on: { days: [1, 15] } };
    expect(runs(s, '2025-01-01T00:00:00Z', 4).map((t) => t.slice(0, 10))).toEqual(['2025-02-15', '2025-05-01', '2025-05-15', '2025-08-01']);
    expect(runs({ ...s, months: [8, 11] }, '2025-01-01T00:00:00Z', 3).map((t) => t.slice(0, 10))).toEqual(['2025-08-01', '2025-08-15', '2025-11-01']);
  });
});

/**
 * An independent oracle: walk local days one by one and decide each with Date getters, the way a
 * person reads a calendar (week of month = ceil(day / 7), "last" = no same weekday 7 days later).
 */
function oracleNext(s: Extract<Schedule, { kind: 'daily' | 'weekly' | 'monthly' }>, after: Date): Date | null {
  const DAY = 86_400_000;
  const offset = s.utcOffsetMinutes * 60_000;
  const start = new Date(`${s.startDate}T00:00:00Z`);
  const startDay = start.getTime() / DAY;
  const [hh, mm] = s.at.split(':').map(Number) as [number, number];
  const atMs = (hh * 60 + mm) * 60_000;
  const firstDay = Math.max(startDay, Math.floor((after.getTime() + offset) / DAY) - 1);
  for (let day = firstDay; day < firstDay + 5000; day++) {
    const d = new Date(day * DAY);
    const dom = d.getUTCDate();
    const dim = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate();
    let runs: boolean;
    if (s.kind === 'daily') {
      runs = (day - startDay) % s.everyDays === 0;
    } else if (s.kind === 'weekly') {
      const mondayOfStart = startDay - ((start.getUTCDay() + 6) % 7);
      runs = s.weekdays.includes(d.getUTCDay() as Weekday) && Math.floor((day - mondayOfStart) / 7) % s.everyWeeks === 0;
    } else {
      const months = (d.getUTCFullYear() - start.getUTCFullYear()) * 12 + d.getUTCMonth() - start.getUTCMonth();
      const monthOk = months % s.everyMonths === 0 && (s.months === undefined || s.months.includes(d.getUTCMonth() + 1));
      const dayOk = 'days' in s.on
        ? s.on.days.some((x) => x === dom || (x === 'last' && dom === dim))
        : s.on.nth.some((n) => n.weekday === d.getUTCDay() && (n.week === 'last' ? dom + 7 > dim : Math.ceil(dom / 7) === n.week));
      runs = monthOk && dayOk;
    }
    const t = day * DAY + atMs - offset;
    if (runs && t > after.getTime()) return new Date(t);
  }
  return null;
}

describe('next run agrees with a day-by-day calendar oracle', () => {
  const weekday = fc.integer({ min: 0, max: 6 }) as fc.Arbitrary<Weekday>;
  const nthWeek = fc.constantFrom(1, 2, 3, 4, 5, 'last') as fc.Arbitrary<1 | 2 | 3 | 4 | 5 | 'last'>;
  const common = {
    at: fc.tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 })).map(([h, m]) => `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`),
    startDate: fc.date({ min: new Date('2020-01-01T00:00:00Z'), max: new Date('2030-12-31T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10)),
    utcOffsetMinutes: fc.integer({ min: -720, max: 840 }),
  };
  const schedule = fc.oneof(
    fc.record({ kind: fc.constant('daily' as const), everyDays: fc.integer({ min: 1, max: 5 }), ...common }),
    fc.record({ kind: fc.constant('weekly' as const), everyWeeks: fc.integer({ min: 1, max: 6 }), weekdays: fc.uniqueArray(weekday, { minLength: 1, maxLength: 7 }), ...common }),
    fc.record({
      kind: fc.constant('monthly' as const),
      everyMonths: fc.integer({ min: 1, max: 12 }),
      on: fc.oneof(
        fc.record({ days: fc.uniqueArray(fc.oneof(fc.integer({ min: 1, max: 31 }), fc.constant('last' as const)), { minLength: 1, maxLength: 4 }) }),
        fc.record({ nth: fc.array(fc.record({ week: nthWeek, weekday }), { minLength: 1, maxLength: 3 }) }),
      ),
      ...common,
    }),
  );
  const instant = fc.date({ min: new Date('2019-06-01T00:00:00Z'), max: new Date('2032-01-01T00:00:00Z'), noInvalidDate: true });

  it('for random daily, weekly and monthly plans', () => {
    fc.assert(
      fc.property(schedule, instant, (s, after) => {
        expect(verifySchedule(s)).toEqual([]);
        const next = nextRunAfter(s, after);
        expect(iso(next)).toBe(iso(oracleNext(s, after)));
        if (next !== null) {
          expect(next.getTime()).toBeGreaterThan(after.getTime());
          // A run instant is reproduced from just before it: the sequence is stable.
          expect(iso(nextRunAfter(s, new Date(next.getTime() - 1)))).toBe(iso(next));
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('validation', () => {
  it('accepts each of the seven kinds in their documented shapes', () => {
    const valid: unknown[] = [
      { kind: 'now' },
      { kind: 'manual' },
      { kind: 'once', at: '2025-06-01T02:00:00Z' },
      { kind: 'hourly', every: 30, unit: 'minutes', from: '00:00', to: '23:59', startDate: '2025-06-01', utcOffsetMinutes: 0 },
      { kind: 'daily', everyDays: 5, at: '02:00', startDate: '2025-06-01', utcOffsetMinutes: -300 },
      { kind: 'weekly', everyWeeks: 1, weekdays: [0, 6], at: '02:00', startDate: '2025-06-01', utcOffsetMinutes: 0 },
      { kind: 'monthly', everyMonths: 1, months: [1, 7], on: { days: [1, 'last'] }, at: '02:00', startDate: '2025-06-01', utcOffsetMinutes: 0 },
    ];
    for (const s of valid) expect(verifySchedule(s), JSON.stringify(s)).toEqual([]);
  });

  it('reports every problem and throws schedule.invalid', () => {
    expect(verifySchedule({ kind: 'daily', everyDays: 6, at: '24:00', startDate: '2025-02-30', utcOffsetMinutes: 900 })).toEqual([
      'everyDays must be an integer 1–5',
      'at must be "HH:MM"',
      'startDate must be a calendar date "YYYY-MM-DD"',
      'utcOffsetMinutes must be an integer -840–840',
    ]);
    expect(verifySchedule({ kind: 'once', at: '2025-06-01T02:00:00' })).toEqual(['at must be an ISO 8601 instant with Z or an offset']);
    expect(verifySchedule({ kind: 'hourly', every: 25, unit: 'hours', from: '08:00', to: '18:00', startDate: '2025-06-01', utcOffsetMinutes: 0 }))
      .toEqual(['every must be an integer 1–24']);
    expect(verifySchedule({ kind: 'weekly', everyWeeks: 1, weekdays: [], at: '02:00', startDate: '2025-06-01', utcOffsetMinutes: 0 }))
      .toEqual(['weekdays must be a non-empty list of 0–6']);
    expect(verifySchedule({ kind: 'monthly', everyMonths: 1, on: { nth: [{ week: 6, weekday: 1 }] }, at: '02:00', startDate: '2025-06-01', utcOffsetMinutes: 0 }))
      .toEqual(['on.nth must be a non-empty list of { week: 1–5 | "last", weekday: 0–6 }']);
    expect(verifySchedule({ kind: 'yearly' })).toEqual(['kind must be one of now, once, manual, hourly, daily, weekly, monthly']);
    expect(verifySchedule(null)).toEqual(['schedule must be an object']);

    let thrown: unknown;
    try {
      parseSchedule({ kind: 'daily' });
    } catch (e) {
      thrown = e;
    }
    expect(isRecoveryError(thrown) && thrown.code).toBe('schedule.invalid');
  });
});
