/** planDiskRestore: which bytes go where, in which units (pure). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { DiskPlanInput, WorkItem } from '../../../../src/app/restore/restore-plan.ts';
import { planDiskRestore } from '../../../../src/app/restore/restore-plan.ts';
import type { ManifestDisk, ManifestExtent } from '../../../../src/core/backup/manifest.ts';

const K = 1024n;
const M = 1024n * K;

function data(offset: bigint, length: bigint, id = `c${offset}`): ManifestExtent {
  return { kind: 'data', diskOffset: offset, length, chunkId: id.padEnd(64, '0').slice(0, 64), storedHash: 'a'.repeat(64), storedLength: Number(length) };
}

function zero(offset: bigint, length: bigint): ManifestExtent {
  return { kind: 'zero', diskOffset: offset, length };
}

function disk(extents: ManifestExtent[], sizeBytes = 16n * M): ManifestDisk {
  return {
    number: 0, style: 'gpt', identity: { gptDiskGuid: '6f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9' },
    geometry: { sizeBytes, logicalSectorSize: 512, physicalSectorSize: 512 }, tableSectors: [], layout: { partitions: [] }, extents,
  };
}

function input(over: Partial<DiskPlanInput> & Pick<DiskPlanInput, 'disk'>): DiskPlanInput {
  return { targetSizeBytes: over.disk.geometry.sizeBytes, partitions: [], diskAreas: false, partitionRanges: [], reserved: [], writeBlockSize: 256 * 1024, ...over };
}

const part = (n: number, start: bigint, length: bigint, targetStart = start, targetLength = length) =>
  ({ sourceNumber: n, targetNumber: n, source: { offset: start, length }, target: { offset: targetStart, length: targetLength }, entry: 'created' as const });

describe('planDiskRestore', () => {
  it('plans only the selected partitions, shifted to where the target holds them', () => {
    const extents = [data(0n, 256n * K), data(M, 256n * K), zero(M + 256n * K, 768n * K), data(2n * M, 256n * K), data(3n * M, 256n * K)];
    const plan = planDiskRestore(input({
      disk: disk(extents),
      partitions: [part(2, 2n * M, 2n * M, 6n * M, 4n * M)],
      partitionRanges: [{ start: M, length: M }, { start: 2n * M, length: 2n * M }],
    }));
    expect(plan.regions.map((r) => r.label)).toEqual(['partition 2 -> 2']);
    expect(plan.units.map((u) => [u.kind, u.offset, u.length])).toEqual([['data', 6n * M, 256n * K], ['data', 7n * M, 256n * K]]);
    const first = plan.units[0]!.items[0] as Extract<WorkItem, { kind: 'data' }>;
    expect(first.chunk).toMatchObject({ from: 0, chunkLength: 256 * 1024 });
    expect(plan.dataBytes).toBe(512n * K);
  });

  it('restores the disk areas outside every partition, never the reserved table sectors, slicing chunks around them', () => {
    const extents = [data(0n, 256n * K), zero(256n * K, 768n * K), data(M, 256n * K), data(15n * M + 768n * K, 256n * K)];
    const plan = planDiskRestore(input({
      disk: disk(extents),
      diskAreas: true,
      partitionRanges: [{ start: M, length: 14n * M }],
      reserved: [{ start: 0n, length: 34n * 512n }, { start: 16n * M - 33n * 512n, length: 33n * 512n }],
    }));
    expect(plan.regions.map((r) => r.kind)).toEqual(['disk-area']);
    expect(plan.units.map((u) => [u.kind, u.offset, u.length])).toEqual([
      ['data', 34n * 512n, 256n * K - 34n * 512n],
      ['zero', 256n * K, 768n * K],
      ['data', 15n * M + 768n * K, 256n * K - 33n * 512n],
    ]);
    const head = plan.units[0]!.items[0] as Extract<WorkItem, { kind: 'data' }>;
    expect(head.chunk.from).toBe(34 * 512);
  });

  it('keeps disk areas inside a smaller target and plans nothing past its end', () => {
    const extents = [data(0n, 256n * K), data(15n * M, 256n * K)];
    const plan = planDiskRestore(input({ disk: disk(extents), targetSizeBytes: 8n * M, diskAreas: true }));
    expect(plan.units.map((u) => u.offset)).toEqual([0n]);
  });

  it('joins contiguous slices of one region into units of at most the write block size', () => {
    const extents = Array.from({ length: 8 }, (_, i) => data(M + BigInt(i) * 64n * K, 64n * K));
    const plan = planDiskRestore(input({ disk: disk(extents), partitions: [part(1, M, M)], writeBlockSize: 256 * 1024 }));
    expect(plan.units.map((u) => [u.offset, u.length, u.items.length])).toEqual([[M, 256n * K, 4], [M + 256n * K, 256n * K, 4]]);
  });

  it('keeps a chunk larger than the write block size whole in one unit', () => {
    const plan = planDiskRestore(input({ disk: disk([data(M, 2n * M)]), partitions: [part(1, M, 4n * M)], writeBlockSize: 64 * 1024 }));
    expect(plan.units.map((u) => [u.offset, u.length])).toEqual([[M, 2n * M]]);
  });

  it('never joins units across regions', () => {
    const extents = [data(M - 64n * K, 64n * K), data(M, 64n * K)];
    const plan = planDiskRestore(input({ disk: disk(extents), partitions: [part(1, 0n, M), part(2, M, M)] }));
    expect(plan.units.map((u) => u.region)).toEqual([0, 1]);
  });

  it('refuses a plan that would write the same bytes twice', () => {
    expect(() => planDiskRestore(input({ disk: disk([data(M, 256n * K)]), partitions: [part(1, M, M), part(2, M, M)] })))
      .toThrow(expect.objectContaining({ code: 'restore.plan-overlap' }));
  });

  it('covers exactly the extents inside the windows minus the reserved ranges (property)', () => {
    const sector = 512n;
    const arb = fc.record({
      cuts: fc.uniqueArray(fc.integer({ min: 1, max: 63 }), { minLength: 1, maxLength: 20 }),
      zeroMask: fc.array(fc.boolean(), { minLength: 21, maxLength: 21 }),
      reserved: fc.array(fc.tuple(fc.integer({ min: 0, max: 63 }), fc.integer({ min: 1, max: 8 })), { maxLength: 3 }),
      part: fc.tuple(fc.integer({ min: 0, max: 60 }), fc.integer({ min: 1, max: 60 })),
      wbs: fc.constantFrom(64 * 1024, 256 * 1024),
    });
    fc.assert(fc.property(arb, ({ cuts, zeroMask, reserved, part: [pStart, pLen], wbs }) => {
      // Extents over 64 blocks of 8 sectors, cut at `cuts`.
      const bounds = [0, ...[...cuts].sort((a, b) => a - b), 64].map((c) => BigInt(c) * 8n * sector);
      const extents: ManifestExtent[] = [];
      for (let i = 0; i + 1 < bounds.length; i++) {
        const [a, b] = [bounds[i]!, bounds[i + 1]!];
        if (a < b) extents.push(zeroMask[i] ? zero(a, b - a) : data(a, b - a));
      }
      const size = 64n * 8n * sector;
      const pr = { start: BigInt(pStart) * 8n * sector, length: BigInt(Math.min(pLen, 64 - pStart)) * 8n * sector };
      const res = reserved.map(([s, n]) => ({ start: BigInt(s) * 8n * sector, length: BigInt(n) * sector }));
      const plan = planDiskRestore(input({
        disk: disk(extents, size), partitions: pr.length > 0n ? [part(1, pr.start, pr.length)] : [], diskAreas: true,
        partitionRanges: [pr], reserved: res, writeBlockSize: wbs,
      }));
      // Every sector is planned at most once, never inside a reserved range, and each planned sector maps to its own extent.
      const planned = new Map<bigint, WorkItem>();
      let end = -1n;
      const problems: string[] = [];
      for (const u of plan.units) {
        if (u.offset <= end) problems.push(`unit at ${u.offset} overlaps`);
        end = u.offset + u.length - 1n;
        if (u.kind === 'data' && u.length > BigInt(wbs) && u.items.length > 1) problems.push(`unit at ${u.offset} too long`);
        for (const item of u.items) {
          const len = item.kind === 'data' ? BigInt(item.length) : item.length;
          for (let s = item.offset; s < item.offset + len; s += sector) planned.set(s, item);
        }
      }
      for (let s = 0n; s < size; s += sector) {
        const inReserved = res.some((r) => s >= r.start && s < r.start + r.length);
        const item = planned.get(s);
        if ((item === undefined) !== inReserved) problems.push(`sector at ${s}: planned ${item !== undefined}, reserved ${inReserved}`);
        const extent = extents.find((e) => s >= e.diskOffset && s < e.diskOffset + e.length)!;
        if (item !== undefined && item.kind !== extent.kind) problems.push(`sector at ${s}: ${item.kind} for a ${extent.kind} extent`);
        if (item?.kind === 'data' && extent.kind === 'data') {
          if (item.chunk.chunkId !== extent.chunkId || BigInt(item.chunk.from) + (s - item.offset) !== s - extent.diskOffset) problems.push(`sector at ${s}: wrong chunk bytes`);
        }
      }
      expect(problems).toEqual([]);
    }), { numRuns: 200 });
  });
});
