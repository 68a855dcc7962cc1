import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { planSourceReads, type PlannedPartition } from '../../../../src/app/backup/source-plan.ts';
import { normalizeExtents, totalBytes, type Extent } from '../../../../src/core/blockmap/extents.ts';
import type { DiskGeometry } from '../../../../src/core/partition/types.ts';

const MiB = 1024n * 1024n;
const geometry = (sizeBytes: bigint, logicalSectorSize: 512 | 4096 = 512): DiskGeometry => ({ sizeBytes, logicalSectorSize, physicalSectorSize: logicalSectorSize });

describe('planSourceReads', () => {
  // A 16 MiB GPT disk: partition 1 at 1 MiB (4 MiB, two used runs), partition 2 at 6 MiB (8 MiB, whole).
  const disk = geometry(16n * MiB);
  const lastLba = 16n * MiB / 512n - 1n;
  const partitions: PlannedPartition[] = [
    { number: 1, startLba: 2048n, sectorCount: 8192n, used: [{ start: 0n, length: 8192n }, { start: 3n * MiB, length: 4096n }] },
    { number: 2, startLba: 12288n, sectorCount: 16384n },
  ];
  const input = {
    geometry: disk,
    tableSectors: [{ lba: 0n, count: 34 }, { lba: lastLba - 32n, count: 33 }],
    partitions,
    blockSize: 256 * 1024,
    onlyUsedBlocks: true,
  };

  it('covers the table sectors, every gap and the used blocks, nothing else', () => {
    const plan = planSourceReads(input);
    expect(plan.covered).toEqual([
      { start: 0n, length: MiB + 8192n }, // post-MBR gap (tables inside) + partition 1's first used run
      { start: 4n * MiB, length: 4096n }, // partition 1's second run (1 MiB + 3 MiB)
      { start: 5n * MiB, length: 11n * MiB }, // gap 5–6 MiB, partition 2 whole, the tail with the backup GPT
    ]);
    expect(plan.gaps).toEqual([{ start: 0n, length: MiB }, { start: 5n * MiB, length: MiB }, { start: 14n * MiB, length: 2n * MiB }]);
    expect(plan.tableBytes).toBe(67n * 512n);
    expect(plan.gapBytes).toBe(4n * MiB);
    expect(plan.partitionBytes).toBe(8192n + 4096n + 8n * MiB);
    expect(plan.totalBytes).toBe(plan.gapBytes + plan.partitionBytes);
  });

  it('cuts on multiples of the block size from the disk start', () => {
    const plan = planSourceReads(input);
    expect(plan.pieces.slice(0, 6)).toEqual([
      { start: 0n, length: 256n * 1024n },
      { start: 256n * 1024n, length: 256n * 1024n },
      { start: 512n * 1024n, length: 256n * 1024n },
      { start: 768n * 1024n, length: 256n * 1024n },
      { start: MiB, length: 8192n },
      { start: 4n * MiB, length: 4096n },
    ]);
    expect(totalBytes(plan.pieces)).toBe(plan.totalBytes);
  });

  it('reads every partition whole when only-used-blocks is off', () => {
    const plan = planSourceReads({ ...input, onlyUsedBlocks: false });
    expect(plan.covered).toEqual([{ start: 0n, length: 16n * MiB }]);
    expect(plan.pieces).toHaveLength(64);
  });

  it('reads a disk without partitions whole', () => {
    const plan = planSourceReads({ ...input, tableSectors: [], partitions: [] });
    expect(plan.covered).toEqual([{ start: 0n, length: 16n * MiB }]);
    expect(plan.gapBytes).toBe(16n * MiB);
  });

  it('widens used extents to whole sectors and keeps a damaged table inside the disk', () => {
    const plan = planSourceReads({
      geometry: geometry(8n * MiB, 4096),
      tableSectors: [{ lba: 0n, count: 6 }],
      partitions: [
        { number: 1, startLba: 256n, sectorCount: 512n, used: [{ start: 100n, length: 10n }] },
        // Claims to run 1 MiB past the end of the disk.
        { number: 2, startLba: 1792n, sectorCount: 512n },
      ],
      blockSize: 64 * 1024,
      onlyUsedBlocks: true,
    });
    expect(plan.covered).toEqual([{ start: 0n, length: MiB + 4096n }, { start: 3n * MiB, length: 5n * MiB }]);
  });

  it('refuses a block size that is not a whole number of sectors', () => {
    expect(() => planSourceReads({ ...input, geometry: geometry(16n * MiB, 4096), blockSize: 1000 })).toThrow(/block size 1000/);
  });

  it('property: pieces are ordered, sector-aligned, each inside one grid cell, and cover exactly tables ∪ gaps ∪ used', () => {
    const sector = 512n;
    const arbitraryPartition = fc.record({
      start: fc.integer({ min: 1, max: 4000 }),
      sectors: fc.integer({ min: 1, max: 2000 }),
      used: fc.option(fc.array(fc.record({ start: fc.integer({ min: 0, max: 1_200_000 }), length: fc.integer({ min: 0, max: 300_000 }) }), { maxLength: 6 }), { nil: undefined }),
    });
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 4096 }),
      fc.array(arbitraryPartition, { maxLength: 5 }),
      fc.array(fc.record({ lba: fc.integer({ min: 0, max: 4200 }), count: fc.integer({ min: 1, max: 40 }) }), { maxLength: 3 }),
      fc.constantFrom(65536, 131072, 262144),
      (diskSectors, parts, tables, blockSize) => {
        const g = geometry(BigInt(diskSectors) * sector);
        const partitionsIn: PlannedPartition[] = parts.map((p, i) => ({
          number: i + 1, startLba: BigInt(p.start), sectorCount: BigInt(p.sectors),
          ...(p.used ? { used: p.used.map((u) => ({ start: BigInt(u.start), length: BigInt(u.length) })) } : {}),
        }));
        const plan = planSourceReads({ geometry: g, tableSectors: tables.map((t) => ({ lba: BigInt(t.lba), count: t.count })), partitions: partitionsIn, blockSize, onlyUsedBlocks: true });

        // The expected set, byte by byte on a bitmap of sectors (a different method from the code's).
        const want = new Uint8Array(diskSectors);
        const mark = (startByte: bigint, endByte: bigint): void => {
          for (let s = startByte / sector; s * sector < endByte && s < BigInt(diskSectors); s++) if (s >= 0n) want[Number(s)] = 1;
        };
        const inPartition = new Uint8Array(diskSectors);
        for (const p of partitionsIn) for (let s = p.startLba; s < p.startLba + p.sectorCount && s < BigInt(diskSectors); s++) inPartition[Number(s)] = 1;
        inPartition.forEach((v, s) => { if (!v) want[s] = 1; });
        for (const t of tables) mark(BigInt(t.lba) * sector, BigInt(t.lba + t.count) * sector);
        for (const p of partitionsIn) {
          const base = p.startLba * sector;
          const size = p.sectorCount * sector;
          for (const u of p.used ?? [{ start: 0n, length: size }]) {
            const end = u.start + u.length < size ? u.start + u.length : size;
            if (u.start < end) mark(base + u.start, base + end);
          }
        }
        const got = new Uint8Array(diskSectors);
        let previousEnd = -1n;
        for (const piece of plan.pieces) {
          expect(piece.start % sector).toBe(0n);
          expect(piece.length % sector).toBe(0n);
          expect(piece.length).toBeGreaterThan(0n);
          expect(piece.start).toBeGreaterThanOrEqual(previousEnd);
          expect((piece.start + piece.length - 1n) / BigInt(blockSize)).toBe(piece.start / BigInt(blockSize));
          previousEnd = piece.start + piece.length;
          for (let s = piece.start / sector; s < previousEnd / sector; s++) got[Number(s)] = 1;
        }
        expect(previousEnd).toBeLessThanOrEqual(g.sizeBytes);
        expect(Array.from(got)).toEqual(Array.from(want));
        expect(normalizeExtents(plan.pieces as Extent[])).toEqual(plan.covered);
      },
    ), { numRuns: 300 });
  });
});
