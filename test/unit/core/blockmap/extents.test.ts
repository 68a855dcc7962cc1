import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ClusterRunCollector, collectSetBits } from '../../../../src/core/blockmap/cluster-runs.ts';
import {
  alignExtents, intersectExtents, normalizeExtents, splitExtents, subtractExtents, totalBytes, type Extent,
} from '../../../../src/core/blockmap/extents.ts';

const e = (start: number, length: number): Extent => ({ start: BigInt(start), length: BigInt(length) });

/** The byte set of extents inside [0, 256): the model the properties compare against. */
function bytesOf(extents: readonly Extent[]): Set<number> {
  const set = new Set<number>();
  for (const x of extents) for (let b = Number(x.start); b < Number(x.start + x.length); b++) set.add(b);
  return set;
}

function isNormalized(extents: readonly Extent[]): boolean {
  return extents.every((x, i) => x.length > 0n && (i === 0 || extents[i - 1]!.start + extents[i - 1]!.length < x.start));
}

const extentArb = fc.record({ start: fc.bigInt(0n, 200n), length: fc.bigInt(0n, 40n) });
const extentsArb = fc.array(extentArb, { maxLength: 12 });

describe('extents', () => {
  it('normalizes: sorts, merges overlapping and adjacent, drops empty', () => {
    expect(normalizeExtents([e(10, 5), e(0, 3), e(3, 2), e(12, 10), e(40, 0), e(30, 1)])).toEqual([e(0, 5), e(10, 12), e(30, 1)]);
  });

  it('rejects negative starts and lengths', () => {
    expect(() => normalizeExtents([e(-1, 2)])).toThrow(expect.objectContaining({ code: 'blockmap.extent-invalid' }));
    expect(() => normalizeExtents([e(1, -2)])).toThrow(expect.objectContaining({ code: 'blockmap.extent-invalid' }));
  });

  it('subtracts, intersects, aligns and splits on examples', () => {
    expect(subtractExtents([e(0, 100)], [e(10, 10), e(50, 60)])).toEqual([e(0, 10), e(20, 30)]);
    expect(intersectExtents([e(0, 10), e(20, 10)], [e(5, 20)])).toEqual([e(5, 5), e(20, 5)]);
    expect(alignExtents([e(5, 1), e(8200, 10)], 4096n, 9000n)).toEqual([e(0, 4096), e(8192, 9000 - 8192)]);
    expect(splitExtents([e(100, 300)], 128n)).toEqual([e(100, 28), e(128, 128), e(256, 128), e(384, 16)]);
    expect(totalBytes([e(0, 10), e(5, 10)])).toBe(15n);
  });

  it('normalize keeps the byte set and yields a normalized list', () => {
    fc.assert(fc.property(extentsArb, (xs) => {
      const n = normalizeExtents(xs);
      expect(isNormalized(n)).toBe(true);
      expect(bytesOf(n)).toEqual(bytesOf(xs));
      expect(totalBytes(xs)).toBe(BigInt(bytesOf(xs).size));
    }));
  });

  it('subtract and intersect match set difference and intersection', () => {
    fc.assert(fc.property(extentsArb, extentsArb, (a, b) => {
      const sa = bytesOf(a);
      const sb = bytesOf(b);
      const diff = subtractExtents(a, b);
      const both = intersectExtents(a, b);
      expect(isNormalized(diff) && isNormalized(both)).toBe(true);
      expect(bytesOf(diff)).toEqual(new Set([...sa].filter((x) => !sb.has(x))));
      expect(bytesOf(both)).toEqual(new Set([...sa].filter((x) => sb.has(x))));
    }));
  });

  it('align covers the input within the limit, on unit boundaries, widening by less than a unit each side', () => {
    fc.assert(fc.property(extentsArb, fc.bigInt(1n, 64n), fc.bigInt(0n, 260n), (xs, unit, limit) => {
      const aligned = alignExtents(xs, unit, limit);
      const covered = bytesOf(aligned);
      const input = [...bytesOf(xs)];
      expect(isNormalized(aligned)).toBe(true);
      for (const b of input) if (b < limit) expect(covered.has(b)).toBe(true);
      for (const x of aligned) {
        expect(x.start % unit).toBe(0n);
        const end = x.start + x.length;
        expect(end % unit === 0n || end === limit).toBe(true);
        expect(end <= limit).toBe(true);
      }
      // Every aligned unit holds at least one input byte: nothing is added beyond rounding.
      for (const b of covered) {
        const unitStart = (BigInt(b) / unit) * unit;
        const hit = input.some((x) => BigInt(x) >= unitStart && BigInt(x) < unitStart + unit);
        expect(hit).toBe(true);
      }
    }));
  });

  it('split keeps every byte, cuts on the maxLength grid, and never exceeds maxLength', () => {
    fc.assert(fc.property(extentsArb, fc.bigInt(1n, 50n), (xs, max) => {
      const pieces = splitExtents(xs, max);
      expect(bytesOf(pieces)).toEqual(bytesOf(xs));
      expect(normalizeExtents(pieces)).toEqual(normalizeExtents(xs));
      for (const p of pieces) {
        expect(p.length > 0n && p.length <= max).toBe(true);
        expect(p.start / max).toBe((p.start + p.length - 1n) / max);
      }
    }));
  });

  it('rejects a non-positive unit or piece size', () => {
    expect(() => alignExtents([e(0, 1)], 0n, 10n)).toThrow(expect.objectContaining({ code: 'blockmap.extent-invalid' }));
    expect(() => splitExtents([e(0, 1)], -1n)).toThrow(expect.objectContaining({ code: 'blockmap.extent-invalid' }));
  });
});

describe('collectSetBits', () => {
  it('finds the same runs as a bit-by-bit scan, across chunk borders', () => {
    const bitsArb = fc.uint8Array({ minLength: 1, maxLength: 40 }).chain((bytes) =>
      fc.tuple(fc.constant(bytes), fc.integer({ min: 0, max: bytes.length * 8 }), fc.integer({ min: 1, max: bytes.length * 8 })));
    fc.assert(fc.property(bitsArb, ([bytes, bitCount, chunkBits]) => {
      const chunk = Math.ceil(chunkBits / 8) * 8;
      const collector = new ClusterRunCollector();
      for (let first = 0; first < bitCount; first += chunk) {
        collectSetBits(bytes.subarray(first / 8), Math.min(chunk, bitCount - first), BigInt(1000 + first), collector);
      }
      const expected: { first: bigint; count: bigint }[] = [];
      for (let b = 0; b < bitCount; b++) {
        if (((bytes[b >> 3]! >> (b & 7)) & 1) === 0) continue;
        const last = expected[expected.length - 1];
        if (last !== undefined && last.first + last.count === BigInt(1000 + b)) expected[expected.length - 1] = { first: last.first, count: last.count + 1n };
        else expected.push({ first: BigInt(1000 + b), count: 1n });
      }
      expect(collector.finish()).toEqual(expected);
    }));
  });
});
