import { describe, expect, it } from 'vitest';
import { planLayout } from '../../../../src/core/layout/planner.ts';
import type { DynamicVolumeRecord } from '../../../../src/core/layout/source-layout.ts';
import { GPT_TYPE } from '../../../../src/core/partition/guid.ts';
import type { GptTable, MbrTable } from '../../../../src/core/partition/types.ts';
import { GiB, MiB, geometry, gptTable, guid, mbrTable, noteCodes, planOf, readBack } from './builders.ts';

describe('dynamic MBR source (BIOS system disk with retained volumes)', () => {
  const disk = geometry(64n * GiB);
  const at = (bytes: bigint): bigint => bytes / 512n;
  // LDM's dummy whole-disk 0x42 entry, plus one 0x42 entry per retained (boot/system) simple volume.
  const source = mbrTable(0x0dd15c42, [
    { number: 1, type: 0x42, start: at(MiB), count: at(100n * MiB), active: true },
    { number: 2, type: 0x42, start: at(101n * MiB), count: at(40n * GiB) },
    { number: 3, type: 0x42, start: 63n, count: at(64n * GiB - MiB) - 63n },
  ]);
  const plan = (selected: number[], dynamicVolumes?: DynamicVolumeRecord[]) =>
    planLayout({ source: { geometry: disk, table: source, ...(dynamicVolumes === undefined ? {} : { dynamicVolumes }) }, selected, target: { geometry: disk }, mode: 'full' });

  it('becomes a basic disk: volumes 0x42 -> 0x07 at the same offsets, the container dropped, identity kept', async () => {
    const p = planOf(plan([1, 2]), 'write');
    const table = p.targetTable as MbrTable;
    expect(table.diskSignature).toBe(0x0dd15c42);
    expect(table.primary.map((e) => [e.number, e.type, e.status, e.startLba, e.sectorCount])).toEqual([
      [1, 0x07, 0x80, at(MiB), at(100n * MiB)],
      [2, 0x07, 0, at(101n * MiB), at(40n * GiB)],
      [3, 0, 0, 0n, 0n],
      [4, 0, 0, 0n, 0n],
    ]);
    expect(noteCodes(p).slice(0, 4)).toEqual(['layout.dynamic-to-basic', 'layout.dynamic-converted', 'layout.dynamic-converted', 'layout.dynamic-dropped']);
    expect(p.notes[3]!.message).toContain('whole-disk LDM container');
    expect(p.restoredPartitions.map((r) => [r.sourceNumber, r.targetNumber, r.target.offset])).toEqual([
      [1, 1, MiB],
      [2, 2, 101n * MiB],
    ]);
    const back = await readBack(p.writes, disk);
    expect(back.problems.filter((x) => x.severity === 'error')).toEqual([]);
    expect((back.table as MbrTable).primary.map((e) => e.type)).toEqual([0x07, 0x07, 0, 0]);
  });

  it('drops a dynamic volume that was not selected (the backup does not hold it)', () => {
    const p = planOf(plan([2]), 'write');
    expect((p.targetTable as MbrTable).primary.map((e) => e.type)).toEqual([0, 0x07, 0, 0]);
    expect(p.notes.filter((n) => n.code === 'layout.dynamic-dropped').map((n) => n.data)).toEqual([{ partition: 1 }, { partition: 3 }]);
  });

  it('refuses the container itself and volumes that are not simple', () => {
    const container = planOf(plan([3]), 'refused');
    expect(container.reason).toMatchObject({ code: 'layout.not-a-volume', data: { partition: 3, kind: 'ldm-container' } });
    for (const layout of ['spanned', 'striped', 'mirrored', 'raid5'] as const) {
      const r = planOf(plan([1, 2], [{ partitionNumber: 1, layout: 'simple' }, { partitionNumber: 2, layout }]), 'refused');
      expect(r.reason.code).toBe('layout.dynamic-volume-unsupported');
      expect(r.reason.data).toEqual({ partition: 2, layout });
      expect(r.reason.message).toContain(`${layout} dynamic volume`);
    }
    planOf(plan([1, 2], [{ partitionNumber: 2, layout: 'simple' }]), 'write');
  });
});

describe.each([512, 4096] as const)('dynamic GPT source, %i-byte sectors', (ss) => {
  const disk = geometry(64n * GiB, ss);
  const at = (bytes: bigint): bigint => bytes / BigInt(ss);
  const diskGuid = guid(1, 'd15c6e00');
  const parts = [
    { number: 1, type: GPT_TYPE.efiSystem, start: at(MiB), count: at(100n * MiB), guid: guid(1) },
    { number: 2, type: GPT_TYPE.microsoftReserved, start: at(101n * MiB), count: at(16n * MiB), guid: guid(2) },
    { number: 3, type: GPT_TYPE.ldmMetadata, start: at(117n * MiB), count: at(MiB), guid: guid(3), name: 'LDM metadata partition' },
    { number: 4, type: GPT_TYPE.ldmData, start: at(118n * MiB), count: at(40n * GiB), guid: guid(4), name: 'LDM data partition', attributes: 1n },
    { number: 5, type: GPT_TYPE.ldmData, start: at(41n * GiB), count: at(20n * GiB), guid: guid(5), name: 'LDM data partition' },
  ];
  const source = gptTable(diskGuid, disk, parts);

  it('keeps ESP and MSR, turns the selected LDM data partition into basic data, drops metadata and the rest', () => {
    const p = planOf(planLayout({ source: { geometry: disk, table: source }, selected: [1, 4], target: { geometry: disk }, mode: 'full' }), 'write');
    const table = p.targetTable as GptTable;
    expect(table.diskGuid).toBe(diskGuid);
    expect(table.partitions.slice(0, 2)).toEqual(source.partitions.slice(0, 2));
    expect(table.partitions.slice(2)).toEqual([
      { ...source.partitions[3]!, typeGuid: GPT_TYPE.basicData, name: 'Basic data partition', attributes: 0n },
    ]);
    expect(p.notes.filter((n) => n.code === 'layout.dynamic-dropped').map((n) => n.data)).toEqual([{ partition: 3 }, { partition: 5 }]);
    expect(p.notes.find((n) => n.code === 'layout.dynamic-converted')?.data).toEqual({ partition: 4, fromType: GPT_TYPE.ldmData, toType: GPT_TYPE.basicData });
  });

  it('refuses the LDM metadata partition as a selection', () => {
    const r = planOf(planLayout({ source: { geometry: disk, table: source }, selected: [3], target: { geometry: disk }, mode: 'full' }), 'refused');
    expect(r.reason).toMatchObject({ code: 'layout.not-a-volume', data: { partition: 3, kind: 'ldm-metadata' } });
  });

  it('finds a target already restored from it intact, and lays out a changed one again in partial mode', () => {
    const restored = planOf(planLayout({ source: { geometry: disk, table: source }, selected: [1, 4], target: { geometry: disk }, mode: 'full' }), 'write');
    const again = planLayout({ source: { geometry: disk, table: source }, selected: [4], target: { geometry: disk, table: restored.targetTable }, mode: 'partial' });
    expect(planOf(again, 'intact').restoredPartitions.map((r) => [r.sourceNumber, r.targetNumber])).toEqual([[4, 4]]);

    const shrunk: GptTable = { ...(restored.targetTable as GptTable) };
    const windows = shrunk.partitions.find((x) => x.number === 4)!;
    const changed = { ...shrunk, partitions: shrunk.partitions.map((x) => (x === windows ? { ...x, lastLba: x.lastLba - at(GiB) } : x)) };
    const partial = planOf(planLayout({ source: { geometry: disk, table: source }, selected: [4], target: { geometry: disk, table: changed }, mode: 'partial' }), 'write');
    expect(partial.restoredPartitions.map((r) => [r.sourceNumber, r.targetNumber, r.entry])).toEqual([[4, 4, 'replaced']]);
    expect((partial.targetTable as GptTable).partitions.find((x) => x.number === 4)?.lastLba).toBe(windows.lastLba);
  });
});
