/** How the chunk sink splits a batch into batched puts: one group per channel, within a put's limits. */
import { describe, expect, it } from 'vitest';
import { uploadGroups } from '../../../../src/app/backup/chunk-sink.ts';
import { MAX_CHUNK_OVERHEAD } from '../../../../src/core/backup/chunk-format.ts';
import { CHUNK_WRITE_MAX_BYTES, CHUNK_WRITE_MAX_IDS } from '../../../../src/core/protocol/schemas.ts';

const MiB = 1024 * 1024;
const blocks = (n: number, length = 256 * 1024) => Array.from({ length: n }, (_, i) => ({ i, length }));
const shape = (groups: { i: number }[][]) => groups.map((g) => g.map((x) => x.i));

describe('uploadGroups', () => {
  it('gives every channel a group, in order, and keeps every block exactly once', () => {
    expect(shape(uploadGroups(blocks(16), 4))).toEqual([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11], [12, 13, 14, 15]]);
    expect(shape(uploadGroups(blocks(5), 4))).toEqual([[0, 1], [2, 3], [4]]);
    expect(shape(uploadGroups(blocks(4), 1))).toEqual([[0, 1, 2, 3]]);
    expect(shape(uploadGroups(blocks(3), 8))).toEqual([[0], [1], [2]]);
    expect(uploadGroups([], 4)).toEqual([]);
  });

  it('never puts more ids or bytes in a group than one batched put takes', () => {
    const many = uploadGroups(blocks(200, 4096), 1);
    expect(many.map((g) => g.length)).toEqual([64, 64, 64, 8]);
    expect(Math.max(...many.map((g) => g.length))).toBe(CHUNK_WRITE_MAX_IDS);
    // 2 MiB blocks (the largest block size): at most seven fit in 16 MiB with their headers.
    const large = uploadGroups(blocks(16, 2 * MiB), 1);
    expect(large.map((g) => g.length)).toEqual([7, 7, 2]);
    for (const g of large) expect(g.reduce((n, b) => n + b.length + MAX_CHUNK_OVERHEAD, 0)).toBeLessThanOrEqual(CHUNK_WRITE_MAX_BYTES);
  });
});
