import { describe, expect, it } from 'vitest';
import { isAllZero } from '../../../../src/app/backup/zero.ts';

describe('isAllZero', () => {
  it('finds a single set byte anywhere, in aligned and unaligned views', () => {
    const buffer = new Uint8Array(4096 + 7);
    for (const [start, length] of [[0, 4096], [1, 4096], [3, 1001], [0, 3]] as const) {
      const view = buffer.subarray(start, start + length);
      expect(isAllZero(view)).toBe(true);
      for (const at of [0, 1, length - 1, Math.floor(length / 2)]) {
        view[at] = 0x80;
        expect(isAllZero(view)).toBe(false);
        view[at] = 0;
      }
    }
    expect(isAllZero(new Uint8Array(0))).toBe(true);
  });
});
