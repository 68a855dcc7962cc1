import { describe, expect, it } from 'vitest';
import { LAYOUT_INTACT_MESSAGE } from '../../../../src/core/layout/layout-plan.ts';
import { planLayout } from '../../../../src/core/layout/planner.ts';
import type { RebuildMode } from '../../../../src/core/layout/source-layout.ts';
import { GPT_TYPE } from '../../../../src/core/partition/guid.ts';
import type { GptTable, MbrTable } from '../../../../src/core/partition/types.ts';
import { GiB, MiB, geometry, gptPartition, guid, mbrTable, noteCodes, planOf, windowsGpt, windowsMbr } from './builders.ts';

const modes: RebuildMode[] = ['full', 'partial'];

describe.each([512, 4096] as const)('intact layout (ASR rule), %i-byte sectors', (ss) => {
  const srcDisk = geometry(40n * GiB, ss);
  const tgtDisk = geometry(64n * GiB, ss);
  const source = windowsGpt(guid(1, 'd15c0000'), srcDisk);
  /** The same layout, read from a larger disk where Windows was grown and a partition added. */
  const grown: GptTable = {
    ...source,
    lastUsableLba: tgtDisk.sizeBytes / BigInt(ss) - 2n - BigInt((128 * 128) / ss),
    partitions: [
      ...source.partitions.map((p) => (p.number === 4 ? { ...p, lastLba: p.lastLba + (GiB / BigInt(ss)) } : p)),
      gptPartition({ number: 5, type: GPT_TYPE.basicData, start: (41n * GiB) / BigInt(ss), count: (10n * GiB) / BigInt(ss), guid: guid(5, 'add00000') }),
    ],
  };
  const plan = (table: GptTable, mode: RebuildMode, selected = [1, 3]) =>
    planLayout({ source: { geometry: srcDisk, table: source }, selected, target: { geometry: tgtDisk, table }, mode });

  it.each(modes)('keeps an intact target in %s mode: no writes, restored in place, reported as "layout intact"', (mode) => {
    const p = planOf(plan(grown, mode, [1, 4]), 'intact');
    expect(p).not.toHaveProperty('writes');
    expect(p.targetTable).toBe(grown);
    expect(p.notes[0]!.message.startsWith(LAYOUT_INTACT_MESSAGE)).toBe(true);
    const recovery = source.partitions[3]!;
    const length = (recovery.lastLba - recovery.firstLba + 1n) * BigInt(ss);
    expect(p.restoredPartitions[1]).toEqual({
      sourceNumber: 4,
      targetNumber: 4,
      source: { offset: recovery.firstLba * BigInt(ss), length },
      target: { offset: recovery.firstLba * BigInt(ss), length: length + GiB },
      entry: 'kept',
    });
    expect(p.notes.find((n) => n.code === 'layout.target-partition-larger')?.data).toEqual({ partitions: [4] });
  });

  it.each([
    ['the disk GUID changed', (t: GptTable): GptTable => ({ ...t, diskGuid: guid(9, 'c4a06ed0') }), 'disk GUID'],
    ['a partition GUID changed', (t: GptTable): GptTable => ({ ...t, partitions: t.partitions.map((p) => (p.number === 3 ? { ...p, uniqueGuid: guid(33) } : p)) }), 'partition 3 is missing'],
    ['a volume moved', (t: GptTable): GptTable => ({ ...t, partitions: t.partitions.map((p) => (p.number === 3 ? { ...p, firstLba: p.firstLba + 8n } : p)) }), 'partition 3 starts at'],
    ['a volume shrank', (t: GptTable): GptTable => ({ ...t, partitions: t.partitions.map((p) => (p.number === 3 ? { ...p, lastLba: p.lastLba - 8n } : p)) }), 'partition 3 is smaller'],
  ])('rewrites when %s, saying why', (_what, change, why) => {
    const p = planOf(plan(change(grown), 'full'), 'write');
    const notIntact = p.notes.find((n) => n.code === 'layout.not-intact');
    expect(notIntact?.message).toContain(why);
    expect(p.writes.length).toBeGreaterThan(0);
  });

  it('judges a partial rebuild on the selected partitions only', () => {
    const withoutRecovery: GptTable = { ...grown, partitions: grown.partitions.filter((p) => p.number !== 4) };
    planOf(plan(withoutRecovery, 'partial', [1, 3]), 'intact');
    const full = planOf(plan(withoutRecovery, 'full', [1, 3]), 'write');
    expect(full.notes.find((n) => n.code === 'layout.not-intact')?.message).toContain('partition 4 is missing');
  });
});

describe('intact layout, MBR', () => {
  const disk = geometry(64n * GiB);
  const source = windowsMbr(0xcafe0001, disk);

  it('is intact with the same signature and offsets; a changed type is reported, not rewritten', () => {
    const retyped: MbrTable = { ...source, primary: source.primary.map((e) => (e.number === 3 ? { ...e, type: 0x07 } : e)) };
    const p = planOf(planLayout({ source: { geometry: disk, table: source }, selected: [2, 3], target: { geometry: disk, table: retyped }, mode: 'full' }), 'intact');
    expect(p.notes.find((n) => n.code === 'layout.type-differs')?.data).toEqual({ sourceNumber: 3, targetNumber: 3, sourceType: '0x27', targetType: '0x07' });
  });

  it('is not intact when the signature differs, or when the target is a dynamic disk', () => {
    const other = { ...source, diskSignature: 0xcafe0002 };
    const p = planOf(planLayout({ source: { geometry: disk, table: source }, selected: [2], target: { geometry: disk, table: other }, mode: 'full' }), 'write');
    expect(p.notes.find((n) => n.code === 'layout.not-intact')?.message).toContain('signature cafe0002 differs from the backup');
    const dynamic = mbrTable(0xcafe0001, [
      ...source.primary.filter((e) => e.type !== 0).map((e) => ({ number: e.number, type: e.type, start: e.startLba, count: e.sectorCount, active: e.status === 0x80 })),
      { number: 4, type: 0x42, start: (64n * GiB - 100n * MiB) / 512n, count: (99n * MiB) / 512n },
    ]);
    const d = planOf(planLayout({ source: { geometry: disk, table: source }, selected: [2], target: { geometry: disk, table: dynamic }, mode: 'full' }), 'write');
    expect(d.notes.find((n) => n.code === 'layout.not-intact')?.message).toContain('dynamic disk');
  });

  it('notes that the backup\'s active partition is not active on an intact target', () => {
    const inactive: MbrTable = { ...source, primary: source.primary.map((e) => ({ ...e, status: 0 })) };
    const p = planOf(planLayout({ source: { geometry: disk, table: source }, selected: [1], target: { geometry: disk, table: inactive }, mode: 'partial' }), 'intact');
    expect(noteCodes(p)).toEqual(['layout.intact', 'layout.active-not-set']);
  });

  it('never calls a layout intact across sector sizes: that is refused first', () => {
    const p = planOf(planLayout({ source: { geometry: disk, table: source }, selected: [2], target: { geometry: geometry(64n * GiB, 4096), table: source }, mode: 'full' }), 'refused');
    expect(p.reason.code).toBe('layout.sector-size-mismatch');
  });
});
