/**
 * Mutated metadata must never crash, hang or over-read: every outcome is a valid map or a
 * RecoveryError. Mutations are overlaid on a valid synthetic volume without copying it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { usedBlockMap, type ByteReader, type UsedBlockMap } from '../../../../src/core/blockmap/detect.ts';
import { normalizeExtents } from '../../../../src/core/blockmap/extents.ts';
import { RecoveryError } from '../../../../src/core/errors.ts';
import { buildFatVolume, buildNtfsVolume } from './synthetic-volumes.ts';

type Patch = readonly [offset: number, value: number];

/** Reads `bytes` with single-byte patches applied; counts bytes read to catch runaway loops. */
function overlayReader(bytes: Uint8Array, patches: readonly Patch[]): { read: ByteReader; bytesRead: () => number } {
  let total = 0;
  const read: ByteReader = async (offset, length) => {
    const start = Number(offset);
    if (start < 0 || length < 0 || start + length > bytes.length) throw new Error(`out-of-range read: ${length} at ${offset}`);
    total += length;
    const out = bytes.slice(start, start + length);
    for (const [at, value] of patches) if (at >= start && at < start + length) out[at - start] = value;
    return out;
  };
  return { read, bytesRead: () => total };
}

const interestingBytes = fc.constantFrom(0x00, 0x01, 0x02, 0x08, 0x10, 0x7f, 0x80, 0x81, 0xf4, 0xf6, 0xf8, 0xfe, 0xff);
const byteValue = fc.oneof(fc.integer({ min: 0, max: 255 }), interestingBytes);

function patchesIn(offsets: fc.Arbitrary<number>): fc.Arbitrary<Patch[]> {
  return fc.array(fc.tuple(offsets, byteValue), { minLength: 1, maxLength: 8 });
}

/** Outcome check shared by every fuzz case. */
async function expectMapOrRecoveryError(bytes: Uint8Array, partitionBytes: bigint, patches: readonly Patch[]): Promise<'map' | 'error'> {
  const reader = overlayReader(bytes, patches);
  let map: UsedBlockMap;
  try {
    map = await usedBlockMap(reader.read, partitionBytes);
  } catch (e) {
    if (!(e instanceof RecoveryError)) throw e;
    expect(e.code).toMatch(/^blockmap\./);
    return 'error';
  } finally {
    // A few metadata reads per volume at most: anything near a multiple of the volume means a loop.
    expect(reader.bytesRead()).toBeLessThanOrEqual(bytes.length * 2);
  }
  expect(normalizeExtents(map.extents)).toEqual(map.extents);
  const last = map.extents.at(-1);
  if (last !== undefined) expect(last.start + last.length <= partitionBytes).toBe(true);
  return 'map';
}

const ntfs = buildNtfsVolume({
  clusterCount: 256,
  // Records 0–3 in cluster 4, records 4–11 (so $Bitmap's record 6) in clusters 40–41.
  mftRuns: [{ lcn: 4, length: 1 }, { lcn: 40, length: 2 }],
  bitmapRuns: [{ lcn: 20, length: 1 }],
  used: [[0, 3], [4, 1], [20, 1], [40, 2], [100, 10]],
  label: 'Fuzz',
});
const ntfsBootFields = fc.oneof(
  fc.integer({ min: 0, max: 511 }),
  fc.constantFrom(0x0b, 0x0c, 0x0d, 0x0e, 0x10, 0x13, 0x16, 0x20, 0x28, 0x29, 0x2d, 0x2f, 0x30, 0x31, 0x37, 0x38, 0x40, 0x44),
);
/** Records 0 and 6 (weighted towards their headers, attribute headers and data runs) and the bitmap. */
const mftAt = 4 * 4096;
const ntfsMetadata = fc.oneof(
  fc.integer({ min: mftAt, max: mftAt + 1023 }),
  fc.integer({ min: 40 * 4096 + 2048, max: 40 * 4096 + 3071 }),
  fc.integer({ min: mftAt, max: mftAt + 0x100 }),
  fc.integer({ min: 40 * 4096 + 2048, max: 40 * 4096 + 2048 + 0x100 }),
  fc.integer({ min: 20 * 4096, max: 20 * 4096 + 31 }),
);

const floppy = buildFatVolume({
  bits: 12, sectorsPerCluster: 1, reservedSectors: 1, rootEntries: 224, sectorsPerFat: 9, totalSectors: 2880,
  entries: new Map([[2, 0xfff], [3, 4], [4, 0xfff], [100, 0xfff]]), rootLabel: 'FUZZ',
});
const fatBootFields = fc.oneof(
  fc.integer({ min: 0, max: 511 }),
  fc.constantFrom(0x00, 0x02, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x16, 0x17, 0x20, 0x23, 0x24, 0x27, 0x28, 0x2c, 0x2f),
);

describe('block maps under fuzzing', () => {
  it('10,000 mutated NTFS boot sectors: a map or a RecoveryError, never a crash or runaway read', async () => {
    const outcomes = { map: 0, error: 0 };
    await fc.assert(fc.asyncProperty(patchesIn(ntfsBootFields), async (patches) => {
      outcomes[await expectMapOrRecoveryError(ntfs.bytes, ntfs.partitionBytes, patches)]++;
    }), { numRuns: 10_000 });
    // Both paths were exercised: harmless mutations map, harmful ones are reported.
    expect(outcomes.map).toBeGreaterThan(100);
    expect(outcomes.error).toBeGreaterThan(100);
  });

  it('5,000 mutated $MFT records: a map or a RecoveryError', async () => {
    const outcomes = { map: 0, error: 0 };
    await fc.assert(fc.asyncProperty(patchesIn(ntfsMetadata), async (patches) => {
      outcomes[await expectMapOrRecoveryError(ntfs.bytes, ntfs.partitionBytes, patches)]++;
    }), { numRuns: 5_000 });
    expect(outcomes.map).toBeGreaterThan(100);
    expect(outcomes.error).toBeGreaterThan(100);
  });

  it('10,000 mutated FAT boot sectors: a map or a RecoveryError', async () => {
    const outcomes = { map: 0, error: 0 };
    await fc.assert(fc.asyncProperty(patchesIn(fatBootFields), async (patches) => {
      outcomes[await expectMapOrRecoveryError(floppy, BigInt(floppy.length), patches)]++;
    }), { numRuns: 10_000 });
    expect(outcomes.map).toBeGreaterThan(100);
  });

  it('random boot sectors: a map or a RecoveryError', async () => {
    const volume = new Uint8Array(256 * 1024);
    await fc.assert(fc.asyncProperty(fc.uint8Array({ minLength: 512, maxLength: 512 }), async (sector) => {
      const patches = Array.from(sector, (value, at): Patch => [at, value]);
      await expectMapOrRecoveryError(volume, BigInt(volume.length), patches);
    }), { numRuns: 2_000 });
  });
});
