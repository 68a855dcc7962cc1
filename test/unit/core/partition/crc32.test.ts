import { crc32 as zlibCrc32 } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc32 } from '../../../../src/core/partition/crc32.ts';

const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('crc32', () => {
  it('gives the IEEE check value for "123456789"', () => {
    expect(crc32(ascii('123456789'))).toBe(0xcbf43926);
  });

  it('is 0 for no bytes and matches known vectors', () => {
    expect(crc32(new Uint8Array(0))).toBe(0);
    expect(crc32(ascii('a'))).toBe(0xe8b7be43);
    expect(crc32(ascii('The quick brown fox jumps over the lazy dog'))).toBe(0x414fa339);
  });

  it('agrees with zlib on random data, including chained calls', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), fc.uint8Array({ maxLength: 512 }), (a, b) => {
        expect(crc32(a)).toBe(zlibCrc32(a));
        const joined = new Uint8Array([...a, ...b]);
        expect(crc32(b, crc32(a))).toBe(crc32(joined));
      }),
      { numRuns: 300 },
    );
  });

  it('returns an unsigned 32-bit value', () => {
    const value = crc32(new Uint8Array(92).fill(0xff));
    expect(value).toBeGreaterThanOrEqual(0);
    expect(value).toBeLessThanOrEqual(0xffffffff);
    expect(value).toBe(zlibCrc32(new Uint8Array(92).fill(0xff)));
  });
});
