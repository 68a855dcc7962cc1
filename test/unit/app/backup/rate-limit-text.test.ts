import { describe, expect, it } from 'vitest';
import { parseRateLimits } from '../../../../src/app/backup/rate-limit-text.ts';
import { localTimeOf, rateAt } from '../../../../src/core/backup/rate-window.ts';

const MiB = 1024 * 1024;

describe('parseRateLimits', () => {
  it('reads a plain rate as the rate outside every window', () => {
    expect(parseRateLimits(['10 MiB/s'])).toEqual({ windows: [], defaultBytesPerSecond: 10 * MiB });
    expect(parseRateLimits([])).toBeUndefined();
  });

  it('reads windows with day ranges, lists and times', () => {
    expect(parseRateLimits(['2MiB/s mon-fri 08:00-18:00', '512 KiB/s sat,sun', '1 GiB/s 22:00-06:00', '100 B/s fri-mon 12:00-24:00'])).toEqual({
      windows: [
        { days: [1, 2, 3, 4, 5], startMinute: 480, endMinute: 1080, bytesPerSecond: 2 * MiB },
        { days: [0, 6], startMinute: 0, endMinute: 1440, bytesPerSecond: 512 * 1024 },
        { days: [0, 1, 2, 3, 4, 5, 6], startMinute: 1320, endMinute: 360, bytesPerSecond: 1024 * MiB },
        { days: [0, 1, 5, 6], startMinute: 720, endMinute: 1440, bytesPerSecond: 100 },
      ],
    });
  });

  it('gives a schedule the rate-window rules apply to (weekday window over a default)', () => {
    const schedule = parseRateLimits(['10 MiB/s', '1 MiB/s mon-fri 09:00-17:00'])!;
    // Wednesday 7 January 2026 at 10:00 and 20:00 UTC.
    expect(rateAt(schedule, localTimeOf(Date.UTC(2026, 0, 7, 10), 0))).toBe(MiB);
    expect(rateAt(schedule, localTimeOf(Date.UTC(2026, 0, 7, 20), 0))).toBe(10 * MiB);
    // 10:00 UTC is 18:00 at UTC+8: outside the window there.
    expect(rateAt(schedule, localTimeOf(Date.UTC(2026, 0, 7, 10), 480))).toBe(10 * MiB);
  });

  it.each([
    ['fast', /is not a rate limit/],
    ['10 MB/s', /is not a rate limit/],
    ['0 MiB/s', /not a positive rate/],
    ['1 MiB/s funday', /"funday" is not a day/],
    ['1 MiB/s mon-fri-sat', /is not a day or a range/],
    ['1 MiB/s 25:00-26:00', /not a time of day/],
    ['1 MiB/s 24:00-01:00', /cannot start at 24:00/],
  ])('refuses %j', (text, message) => {
    expect(() => parseRateLimits([text])).toThrow(message);
  });

  it('refuses two rates for outside the windows', () => {
    expect(() => parseRateLimits(['1 MiB/s', '2 MiB/s'])).toThrow(/only one rate/);
  });
});
