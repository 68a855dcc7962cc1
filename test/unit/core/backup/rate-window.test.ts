import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  ALL_DAYS, WEEKDAYS, checkRateWindow, fullBucket, localTimeOf, msUntilRateChange, parseRate, parseTimeOfDay,
  rateAt, takeTokens, throttle, type RateSchedule, type Weekday,
} from '../../../../src/core/backup/rate-window.ts';
import { RecoveryError } from '../../../../src/core/errors.ts';

const MiB = 1024 * 1024;
const minute = 60_000;
const at = (weekday: Weekday, hh: number, mm = 0) => ({ weekday, msOfDay: (hh * 60 + mm) * minute });

/** "10 MiB/s between 08:00 and 18:00 on weekdays", 2 MiB/s overnight 22:00–06:00 every day, else unlimited. */
const office: RateSchedule = {
  windows: [
    { days: WEEKDAYS, startMinute: parseTimeOfDay('08:00'), endMinute: parseTimeOfDay('18:00'), bytesPerSecond: parseRate('10 MiB/s') },
    { days: ALL_DAYS, startMinute: parseTimeOfDay('22:00'), endMinute: parseTimeOfDay('06:00'), bytesPerSecond: parseRate('2 MiB/s') },
  ],
};

describe('rate windows', () => {
  it('applies the weekday office window with inclusive start and exclusive end', () => {
    expect(rateAt(office, at(1, 7, 59))).toBeUndefined();
    expect(rateAt(office, at(1, 8, 0))).toBe(10 * MiB);
    expect(rateAt(office, at(5, 17, 59))).toBe(10 * MiB);
    expect(rateAt(office, at(5, 18, 0))).toBeUndefined();
    expect(rateAt(office, at(6, 12, 0))).toBeUndefined(); // Saturday
    expect(rateAt(office, at(0, 12, 0))).toBeUndefined(); // Sunday
  });

  it('carries a window across midnight into the next day', () => {
    expect(rateAt(office, at(3, 22, 0))).toBe(2 * MiB);
    expect(rateAt(office, at(4, 5, 59))).toBe(2 * MiB);
    expect(rateAt(office, at(4, 6, 0))).toBeUndefined();
    // Friday-night-only window: reaches into Saturday morning, not into Friday morning.
    const friday: RateSchedule = { windows: [{ days: [5], startMinute: 23 * 60, endMinute: 60, bytesPerSecond: 1000 }] };
    expect(rateAt(friday, at(6, 0, 30))).toBe(1000);
    expect(rateAt(friday, at(5, 0, 30))).toBeUndefined();
  });

  it('lets the lowest rate win when windows overlap, and falls back to the default', () => {
    const s: RateSchedule = {
      defaultBytesPerSecond: 50 * MiB,
      windows: [
        { days: ALL_DAYS, startMinute: 0, endMinute: 1440, bytesPerSecond: 20 * MiB },
        { days: [1], startMinute: 9 * 60, endMinute: 10 * 60, bytesPerSecond: 1 * MiB },
      ],
    };
    expect(rateAt(s, at(1, 9, 30))).toBe(1 * MiB);
    expect(rateAt(s, at(2, 9, 30))).toBe(20 * MiB);
    expect(rateAt({ ...s, windows: [] }, at(2, 9, 30))).toBe(50 * MiB);
  });

  it('tells how long until the rate changes', () => {
    expect(msUntilRateChange(office, at(1, 7, 0))).toBe(60 * minute);
    expect(msUntilRateChange(office, at(1, 12, 0))).toBe(6 * 60 * minute);
    // Friday 18:00 → Friday 22:00 (overnight window), not Monday.
    expect(msUntilRateChange(office, at(5, 18, 0))).toBe(4 * 60 * minute);
    expect(msUntilRateChange({ windows: [] }, at(1, 0, 0))).toBeUndefined();
  });

  it('agrees with rateAt: the rate is constant until the change and differs right at it (property)', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 1439 }), (d, m) => {
      const t = at(d as Weekday, 0, m);
      const delta = msUntilRateChange(office, t);
      expect(delta).toBeDefined();
      const shift = (ms: number) => {
        const w = (d * 1440 * minute + m * minute + ms) % (7 * 1440 * minute);
        return { weekday: Math.floor(w / (1440 * minute)) as Weekday, msOfDay: w % (1440 * minute) };
      };
      expect(rateAt(office, shift(delta! - 1))).toBe(rateAt(office, t));
      expect(rateAt(office, shift(delta!))).not.toBe(rateAt(office, t));
    }));
  });

  it('converts instants to local weekday and time with the UTC offset', () => {
    // 2026-11-23 is a Monday; 07:30 UTC is 15:30 in UTC+8.
    const epoch = Date.UTC(2026, 10, 23, 7, 30);
    expect(localTimeOf(epoch, 480)).toEqual(at(1, 15, 30));
    expect(localTimeOf(epoch, -480)).toEqual(at(0, 23, 30));
    expect(localTimeOf(Date.UTC(1969, 11, 31, 12), 0)).toEqual(at(3, 12));
  });
});

describe('token bucket', () => {
  it('lets a burst through, then paces to the rate', () => {
    let bucket = fullBucket(MiB, 0);
    let r = takeTokens(bucket, MiB, 0, MiB, MiB);
    expect(r.delayMs).toBe(0);
    bucket = r.bucket;
    r = takeTokens(bucket, MiB / 2, 0, MiB, MiB);
    expect(r.delayMs).toBe(500);
    r = takeTokens(r.bucket, MiB / 2, 1000, MiB, MiB);
    expect(r.delayMs).toBe(0); // 1 s refilled 1 MiB, half of it owed
  });

  it('accepts requests larger than the burst by going into debt', () => {
    const r = takeTokens(fullBucket(64 * 1024, 0), 2 * MiB, 0, MiB, 64 * 1024);
    expect(r.delayMs).toBe(Math.ceil(((2 * MiB - 64 * 1024) * 1000) / MiB));
  });

  it('never exceeds rate × time + burst over a long run (property)', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 1, max: 4 * MiB }), { minLength: 1, maxLength: 50 }), fc.integer({ min: 1024, max: 100 * MiB }), (sizes, rate) => {
      const burst = MiB;
      let bucket = fullBucket(burst, 0);
      let now = 0;
      let sent = 0;
      for (const size of sizes) {
        const r = takeTokens(bucket, size, now, rate, burst);
        now += r.delayMs;
        bucket = r.bucket;
        sent += size;
        expect(sent).toBeLessThanOrEqual((rate * now) / 1000 + burst + 1);
      }
    }));
  });

  it('does not delay when unlimited, and survives a clock that steps back', () => {
    expect(takeTokens(fullBucket(0, 0), 10 * MiB, 5, undefined, 0).delayMs).toBe(0);
    const r = takeTokens({ tokens: 0, atMs: 10_000 }, 1000, 5_000, 1000, 1000);
    expect(r.delayMs).toBe(1000);
  });

  it('throttles by the window in force at that local time', () => {
    const mondayNoonUtc8 = Date.UTC(2026, 10, 23, 4, 0); // 12:00 in UTC+8
    const limited = throttle(office, { tokens: 0, atMs: mondayNoonUtc8 }, 10 * MiB, { epochMs: mondayNoonUtc8, utcOffsetMinutes: 480 }, MiB);
    expect(limited.delayMs).toBe(1000);
    const sundayNoon = Date.UTC(2026, 10, 22, 4, 0);
    expect(throttle(office, { tokens: 0, atMs: sundayNoon }, 10 * MiB, { epochMs: sundayNoon, utcOffsetMinutes: 480 }, MiB).delayMs).toBe(0);
  });
});

describe('parsing rates and times', () => {
  it('reads the units the backup options offer', () => {
    expect(parseRate('10 MiB/s')).toBe(10 * MiB);
    expect(parseRate('512KiB/s')).toBe(512 * 1024);
    expect(parseRate('1.5 GiB/s')).toBe(1.5 * 1024 * MiB);
    expect(parseRate(' 800 B/s ')).toBe(800);
    expect(parseTimeOfDay('08:00')).toBe(480);
    expect(parseTimeOfDay('24:00')).toBe(1440);
  });

  it.each(['', '10', '10 MB/s', '-1 MiB/s', '0 KiB/s', 'fast'])('refuses the rate %j', (text) => {
    expect(() => parseRate(text)).toThrow(RecoveryError);
    expect(() => parseRate(text)).toThrow(expect.objectContaining({ code: 'rate.invalid' }));
  });

  it.each(['8:60', '25:00', '24:01', 'noon', '0800'])('refuses the time %j', (text) => {
    expect(() => parseTimeOfDay(text)).toThrow(expect.objectContaining({ code: 'rate.invalid' }));
  });

  it('checks windows built from input', () => {
    const ok = { days: WEEKDAYS, startMinute: 480, endMinute: 1080, bytesPerSecond: 1 };
    expect(checkRateWindow(ok)).toBe(ok);
    for (const bad of [{ ...ok, days: [] }, { ...ok, days: [7 as Weekday] }, { ...ok, startMinute: 1440 }, { ...ok, endMinute: 0 }, { ...ok, bytesPerSecond: 0 }, { ...ok, bytesPerSecond: Infinity }]) {
      expect(() => checkRateWindow(bad)).toThrow(expect.objectContaining({ code: 'rate.invalid' }));
    }
  });
});
