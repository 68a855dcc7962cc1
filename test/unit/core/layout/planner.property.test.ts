import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { endLba, entriesOf, findOverlap, volumesOf } from '../../../../src/core/layout/entries.ts';
import type { LayoutPlan } from '../../../../src/core/layout/layout-plan.ts';
import { planLayout } from '../../../../src/core/layout/planner.ts';
import type { RebuildMode } from '../../../../src/core/layout/source-layout.ts';
import { tableErrors } from '../../../../src/core/layout/table-checks.ts';
import { GPT_TYPE } from '../../../../src/core/partition/guid.ts';
import type { DiskGeometry, PartitionTable } from '../../../../src/core/partition/types.ts';
import type { SectorSize } from '../../../../src/core/units.ts';
import { geometry, gptTable, mbrTable } from './builders.ts';
import type { GptPart, MbrPart } from './builders.ts';

const MAX_PARTS = 6;
const U64 = (1n << 64n) - 1n;

const partSpec = fc.record({
  gap: fc.integer({ min: 0, max: 5000 }),
  count: fc.integer({ min: 1, max: 300_000 }),
  mbrType: fc.constantFrom(0x07, 0x0b, 0x0c, 0x27, 0x83, 0xef),
  gptType: fc.constantFrom(GPT_TYPE.basicData, GPT_TYPE.efiSystem, GPT_TYPE.microsoftReserved, GPT_TYPE.windowsRecovery, GPT_TYPE.linuxFilesystem),
  name: fc.string({ maxLength: 36 }),
  attributes: fc.bigInt({ min: 0n, max: U64 }),
});

const sourceSpec = fc.record({
  ss: fc.constantFrom<SectorSize>(512, 4096),
  style: fc.constantFrom<'mbr' | 'gpt'>('mbr', 'gpt'),
  parts: fc.array(partSpec, { minLength: 1, maxLength: MAX_PARTS }),
  gptNumbers: fc.uniqueArray(fc.integer({ min: 1, max: 128 }), { minLength: MAX_PARTS, maxLength: MAX_PARTS }),
  mbrNumbers: fc.shuffledSubarray([1, 2, 3, 4], { minLength: 4, maxLength: 4 }),
  guids: fc.uniqueArray(fc.uuid(), { minLength: MAX_PARTS * 2, maxLength: MAX_PARTS * 2 }),
  diskGuid: fc.uuid(),
  signature: fc.integer({ min: 0, max: 0xffffffff }),
  active: fc.integer({ min: -1, max: 3 }),
  tail: fc.integer({ min: 0, max: 5000 }),
});
type SourceSpec = typeof sourceSpec extends fc.Arbitrary<infer T> ? T : never;

interface Built {
  readonly geometry: DiskGeometry;
  readonly table: PartitionTable;
  readonly ranges: { start: bigint; count: bigint }[];
}

function tableFor(spec: SourceSpec, disk: DiskGeometry, ranges: readonly { start: bigint; count: bigint }[], identity: 'source' | 'other', guidOffset = 0): PartitionTable {
  if (spec.style === 'gpt') {
    const parts: GptPart[] = ranges.map((r, i) => ({
      number: spec.gptNumbers[i]!,
      type: spec.parts[i]?.gptType ?? GPT_TYPE.basicData,
      start: r.start,
      count: r.count,
      guid: spec.guids[(i + guidOffset) % spec.guids.length]!,
      name: spec.parts[i]?.name ?? '',
      attributes: spec.parts[i]?.attributes ?? 0n,
    }));
    const diskGuid = identity === 'source' ? spec.diskGuid : spec.guids[MAX_PARTS * 2 - 1]!;
    return gptTable(diskGuid, disk, parts);
  }
  const parts: MbrPart[] = ranges.slice(0, 4).map((r, i) => ({
    number: spec.mbrNumbers[i]!,
    type: spec.parts[i]?.mbrType ?? 0x07,
    start: r.start,
    count: r.count,
    active: i === spec.active,
  }));
  return mbrTable(identity === 'source' ? spec.signature : (spec.signature + 1) >>> 0, parts);
}

function buildSource(spec: SourceSpec): Built {
  const first = BigInt((1024 * 1024) / spec.ss);
  const parts = spec.style === 'mbr' ? spec.parts.slice(0, 4) : spec.parts;
  let at = first;
  const ranges = parts.map((p) => {
    const start = at + BigInt(p.gap);
    at = start + BigInt(p.count);
    return { start, count: BigInt(p.count) };
  });
  const tableTail = spec.style === 'gpt' ? BigInt((128 * 128) / spec.ss) + 1n : 0n;
  const disk = geometry((at + tableTail + BigInt(spec.tail)) * BigInt(spec.ss), spec.ss);
  return { geometry: disk, table: tableFor(spec, disk, ranges, 'source'), ranges };
}

const mutation = fc.record({
  op: fc.constantFrom('keep', 'keep', 'shrink', 'grow', 'drop', 'move', 'regid'),
  by: fc.integer({ min: 1, max: 4000 }),
});

const targetSpec = fc.record({
  extra: fc.integer({ min: 0, max: 1_000_000 }),
  shape: fc.constantFrom('none', 'same', 'derived'),
  identity: fc.constantFrom<'source' | 'other'>('source', 'other'),
  mutations: fc.array(mutation, { minLength: MAX_PARTS, maxLength: MAX_PARTS }),
});
type TargetSpec = typeof targetSpec extends fc.Arbitrary<infer T> ? T : never;

/** A target of the source's sector size, `extra` sectors larger (or smaller when negative). */
function buildTarget(spec: SourceSpec, src: Built, t: TargetSpec, extra: number): { geometry: DiskGeometry; table?: PartitionTable } {
  const disk = geometry(src.geometry.sizeBytes + BigInt(extra) * BigInt(spec.ss), spec.ss);
  if (t.shape === 'none') return { geometry: disk };
  if (t.shape === 'same') return { geometry: disk, table: tableFor(spec, disk, src.ranges, t.identity) };
  const ranges = src.ranges.flatMap((r, i) => {
    const m = t.mutations[i]!;
    const by = BigInt(m.by);
    if (m.op === 'drop') return [];
    if (m.op === 'shrink') return [{ start: r.start, count: r.count > by ? r.count - by : 1n }];
    if (m.op === 'grow') return [{ start: r.start, count: r.count + by }];
    if (m.op === 'move') return [{ start: r.start + by, count: r.count }];
    return [r];
  });
  const regid = t.mutations.some((m) => m.op === 'regid') ? MAX_PARTS : 0;
  return { geometry: disk, table: tableFor(spec, disk, ranges, t.identity, regid) };
}

const selection = fc.uniqueArray(fc.integer({ min: 0, max: MAX_PARTS - 1 }), { minLength: 1, maxLength: MAX_PARTS });

function selectedNumbers(src: Built, picks: readonly number[]): number[] {
  const numbers = volumesOf(src.table).map((e) => e.number);
  return picks.filter((i) => i < numbers.length).map((i) => numbers[i]!).concat(numbers[0]!);
}

function rangesDisjoint(plan: Exclude<LayoutPlan, { kind: 'refused' }>): boolean {
  const r = plan.restoredPartitions.map((x) => x.target);
  return r.every((a, i) => r.every((b, j) => i === j || a.offset + a.length <= b.offset || b.offset + b.length <= a.offset));
}

describe('layout planner properties', () => {
  it('a full plan onto a larger target keeps identity and partition ranges and fits the target', () => {
    fc.assert(
      fc.property(sourceSpec, targetSpec, selection, (spec, t, picks) => {
        const src = buildSource(spec);
        const target = buildTarget(spec, src, t, t.extra);
        const plan = planLayout({ source: src, selected: selectedNumbers(src, picks), target, mode: 'full' });
        expect(plan.kind).not.toBe('refused');
        if (plan.kind === 'refused') return;
        const table = plan.targetTable;
        expect(table.style).toBe(src.table.style);
        if (table.style === 'gpt' && src.table.style === 'gpt') expect(table.diskGuid).toBe(src.table.diskGuid);
        if (table.style === 'mbr' && src.table.style === 'mbr') expect(table.diskSignature).toBe(src.table.diskSignature);
        if (plan.kind === 'intact') {
          expect(table).toBe(target.table);
          return;
        }
        const ranges = (x: PartitionTable) => volumesOf(x).map((e) => [e.number, e.startLba, e.sectorCount, e.type, e.uniqueGuid]);
        expect(ranges(table)).toEqual(ranges(src.table));
        expect(tableErrors(table, target.geometry)).toEqual([]);
        expect(plan.writes.length).toBeGreaterThan(0);
        for (const w of plan.writes) expect(w.offset + BigInt(w.data.length)).toBeLessThanOrEqual(target.geometry.sizeBytes);
      }),
      { numRuns: 300 },
    );
  });

  it('never returns overlapping partitions, in either mode, whatever the target holds', () => {
    fc.assert(
      fc.property(sourceSpec, targetSpec, selection, fc.integer({ min: -400_000, max: 400_000 }), fc.constantFrom<RebuildMode>('full', 'partial'), (spec, t, picks, extra, mode) => {
        const src = buildSource(spec);
        const target = buildTarget(spec, src, t, extra);
        const plan = planLayout({ source: src, selected: selectedNumbers(src, picks), target, mode });
        if (plan.kind === 'refused') return;
        expect(findOverlap(entriesOf(plan.targetTable))).toBeUndefined();
        expect(tableErrors(plan.targetTable, target.geometry)).toEqual([]);
        expect(rangesDisjoint(plan)).toBe(true);
        for (const r of plan.restoredPartitions) {
          const entry = entriesOf(plan.targetTable).find((e) => e.number === r.targetNumber)!;
          const ss = BigInt(spec.ss);
          expect([r.target.offset, r.target.length]).toEqual([entry.startLba * ss, entry.sectorCount * ss]);
          expect(r.target.length >= r.source.length).toBe(true);
          expect(endLba(entry) * ss).toBeLessThanOrEqual(target.geometry.sizeBytes);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('never throws, and a refusal never carries writes', () => {
    fc.assert(
      fc.property(
        sourceSpec,
        targetSpec,
        fc.oneof(selection.map((picks) => ({ picks })), fc.array(fc.integer({ min: 0, max: 130 }), { maxLength: 4 }).map((numbers) => ({ numbers }))),
        fc.integer({ min: -2_000_000, max: 400_000 }),
        fc.constantFrom<RebuildMode>('full', 'partial'),
        fc.boolean(),
        (spec, t, choice, extra, mode, otherSectorSize) => {
          const src = buildSource(spec);
          // Mostly valid selections, some of anything (unknown numbers, none at all).
          const selected = 'picks' in choice ? selectedNumbers(src, choice.picks) : choice.numbers;
          const built = buildTarget(spec, src, t, Math.max(extra, -Number(src.geometry.sizeBytes / BigInt(spec.ss)) + 1));
          const ss: SectorSize = otherSectorSize && extra % 4 === 0 ? (spec.ss === 512 ? 4096 : 512) : spec.ss;
          const target = { ...built, geometry: { ...built.geometry, logicalSectorSize: ss, physicalSectorSize: ss } };
          const plan = planLayout({ source: src, selected, target, mode });
          if (plan.kind === 'refused') {
            expect(Object.keys(plan).sort()).toEqual(['kind', 'reason']);
            expect(plan.reason.code).toMatch(/^layout\./);
            expect(plan.reason.message.length).toBeGreaterThan(0);
          } else if (plan.kind === 'write') {
            expect(plan.writes.length).toBeGreaterThan(0);
          } else {
            expect(plan).not.toHaveProperty('writes');
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
