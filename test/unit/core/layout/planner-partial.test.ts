import { describe, expect, it } from 'vitest';
import { planLayout } from '../../../../src/core/layout/planner.ts';
import { GPT_TYPE } from '../../../../src/core/partition/guid.ts';
import type { GptTable, MbrTable } from '../../../../src/core/partition/types.ts';
import { GiB, MiB, geometry, gptTable, guid, lba, mbrTable, noteCodes, planOf, readBack, windowsGpt, windowsMbr } from './builders.ts';
import type { GptPart } from './builders.ts';

describe.each([512, 4096] as const)('partial rebuild, GPT, %i-byte sectors', (ss) => {
  const at = (bytes: bigint): bigint => lba(bytes, ss);
  const srcDisk = geometry(40n * GiB, ss);
  const source = windowsGpt(guid(1, '0d150000'), srcDisk, 'a0000000');
  const tgtDisk = geometry(64n * GiB, ss);
  const esp: GptPart = { number: 1, type: GPT_TYPE.efiSystem, start: at(MiB), count: at(100n * MiB), guid: guid(1, 'b0000000') };
  const msr: GptPart = { number: 2, type: GPT_TYPE.microsoftReserved, start: at(101n * MiB), count: at(16n * MiB), guid: guid(2, 'b0000000') };
  /** The target's own Windows partition: same GUID as the source's, shorter. */
  const oldWindows: GptPart = { number: 3, type: GPT_TYPE.basicData, start: at(117n * MiB), count: at(30n * GiB - 117n * MiB), guid: guid(3, 'a0000000') };
  const data = (number: number, startGiB: bigint): GptPart => ({
    number,
    type: GPT_TYPE.basicData,
    start: at(startGiB * GiB),
    count: at(20n * GiB),
    guid: guid(number, 'da7a0000'),
    name: 'Data',
  });
  const targetTable = (parts: GptPart[]): GptTable => gptTable(guid(2, '7a500000'), tgtDisk, parts);
  const plan = (table: GptTable | undefined, selected: number[]) =>
    planLayout({ source: { geometry: srcDisk, table: source }, selected, target: { geometry: tgtDisk, ...(table === undefined ? {} : { table }) }, mode: 'partial' });

  it('replaces the selected partition in place and keeps every other entry untouched', async () => {
    const current = targetTable([esp, msr, oldWindows, data(5, 40n)]);
    const p = planOf(plan(current, [3]), 'write');
    const table = p.targetTable as GptTable;
    expect(table.diskGuid).toBe(current.diskGuid);
    expect(table.partitions.filter((x) => x.number !== 3)).toEqual(current.partitions.filter((x) => x.number !== 3));
    expect(table.partitions.find((x) => x.number === 3)).toEqual(source.partitions[2]);
    expect(p.restoredPartitions).toEqual([
      {
        sourceNumber: 3,
        targetNumber: 3,
        source: { offset: 117n * MiB, length: 40n * GiB - 717n * MiB },
        target: { offset: 117n * MiB, length: 40n * GiB - 717n * MiB },
        entry: 'replaced',
      },
    ]);
    expect(noteCodes(p)).toEqual(['layout.not-intact', 'layout.identity-differs']);
    const back = await readBack(p.writes, tgtDisk);
    expect((back.table as GptTable).partitions).toEqual(table.partitions);
  });

  it('creates a missing partition in its own slot, or the lowest free one when that is taken', () => {
    const free = planOf(plan(targetTable([esp, msr, oldWindows, data(5, 40n)]), [4]), 'write');
    expect(free.restoredPartitions.map((r) => [r.sourceNumber, r.targetNumber, r.entry])).toEqual([[4, 4, 'created']]);
    const taken = planOf(plan(targetTable([esp, msr, oldWindows, data(4, 40n)]), [4]), 'write');
    expect(taken.restoredPartitions.map((r) => [r.sourceNumber, r.targetNumber, r.entry])).toEqual([[4, 5, 'created']]);
    const recovery = (taken.targetTable as GptTable).partitions.find((x) => x.number === 5)!;
    expect({ ...recovery, number: 4 }).toEqual(source.partitions[3]);
  });

  it('keeps a partition with the same start, size and type in place, and says its GUID differs', () => {
    const p = planOf(plan(targetTable([esp, msr, oldWindows]), [1]), 'write');
    expect(p.restoredPartitions.map((r) => [r.sourceNumber, r.targetNumber, r.entry])).toEqual([[1, 1, 'kept']]);
    expect((p.targetTable as GptTable).partitions[0]!.uniqueGuid).toBe(esp.guid);
    const identity = p.notes.filter((n) => n.code === 'layout.identity-differs').map((n) => n.message);
    expect(identity.some((m) => m.includes(`partition GUID ${esp.guid}`))).toBe(true);
  });

  it('refuses to overlap a kept partition, naming both', () => {
    const r = planOf(plan(targetTable([esp, msr, oldWindows, data(5, 30n)]), [3]), 'refused');
    expect(r.reason.code).toBe('layout.partial-overlap');
    expect(r.reason.data).toEqual({ partition: 3, keptPartition: 5 });
    expect(r.reason.message).toContain('partition 3 ("Basic data partition"');
    expect(r.reason.message).toContain('partition 5 ("Data"');
  });

  it('refuses a target too small for the selected partition (backup copy included)', () => {
    const small = geometry(30n * GiB, ss);
    const current = gptTable(guid(2, '7a500000'), small, [esp, msr]);
    const r = planOf(
      planLayout({ source: { geometry: srcDisk, table: source }, selected: [4], target: { geometry: small, table: current }, mode: 'partial' }),
      'refused',
    );
    const recoveryEnd = 40n * GiB - 100n * MiB;
    const usableEnd = 30n * GiB - (1n + BigInt((128 * 128) / ss)) * BigInt(ss);
    expect(r.reason.code).toBe('layout.target-too-small');
    expect(r.reason.data).toMatchObject({ partition: 4, missingBytes: String(recoveryEnd - usableEnd) });
  });

  it('refuses a blank target, one of the other style and a dynamic one, pointing to full rebuild', () => {
    const blank = planOf(plan(undefined, [3]), 'refused');
    expect(blank.reason.code).toBe('layout.partial-needs-table');
    const mbr = planOf(
      planLayout({ source: { geometry: srcDisk, table: source }, selected: [3], target: { geometry: tgtDisk, table: windowsMbr(1, tgtDisk) }, mode: 'partial' }),
      'refused',
    );
    expect(mbr.reason.code).toBe('layout.partial-style-mismatch');
    expect(mbr.reason.data).toEqual({ sourceStyle: 'gpt', targetStyle: 'mbr' });
    const ldm = planOf(plan(targetTable([esp, msr, { ...data(3, 1n), type: GPT_TYPE.ldmData }]), [3]), 'refused');
    expect(ldm.reason.code).toBe('layout.partial-target-dynamic');
    for (const r of [blank, mbr, ldm]) expect(r.reason.message).toContain('Use full rebuild');
  });
});

describe('partial rebuild, MBR', () => {
  const srcDisk = geometry(40n * GiB);
  const source = windowsMbr(0x11111111, srcDisk);
  const tgtDisk = geometry(64n * GiB);
  const at = (bytes: bigint): bigint => bytes / 512n;
  const plan = (table: MbrTable, selected: number[], src: MbrTable = source) =>
    planLayout({ source: { geometry: srcDisk, table: src }, selected, target: { geometry: tgtDisk, table }, mode: 'partial' });

  it('keeps an identical partition, replaces the grown one and leaves the data partition alone', async () => {
    const current = mbrTable(0x22222222, [
      { number: 1, type: 0x07, start: at(MiB), count: at(100n * MiB), active: true },
      { number: 2, type: 0x07, start: at(101n * MiB), count: at(30n * GiB) },
      { number: 3, type: 0x07, start: at(40n * GiB), count: at(20n * GiB) },
    ]);
    const p = planOf(plan(current, [1, 2]), 'write');
    const table = p.targetTable as MbrTable;
    expect(p.restoredPartitions.map((r) => [r.sourceNumber, r.targetNumber, r.entry])).toEqual([
      [1, 1, 'kept'],
      [2, 2, 'replaced'],
    ]);
    expect(table.diskSignature).toBe(0x22222222);
    expect(table.bootCode).toEqual(current.bootCode);
    expect(table.primary[0]).toEqual(current.primary[0]);
    expect(table.primary[1]).toEqual(source.primary[1]);
    expect(table.primary[2]).toEqual(current.primary[2]);
    expect(p.writes.map((w) => w.what)).toEqual(['mbr']);
    expect(noteCodes(p)).toContain('layout.identity-differs');
    const back = await readBack(p.writes, tgtDisk);
    expect((back.table as MbrTable).primary).toEqual(table.primary);
  });

  it('moves the active flag to the restored system partition so only one is active', () => {
    const current = mbrTable(0x22222222, [
      { number: 1, type: 0x07, start: at(MiB), count: at(50n * MiB) },
      { number: 3, type: 0x07, start: at(40n * GiB), count: at(20n * GiB), active: true },
    ]);
    const p = planOf(plan(current, [1]), 'write');
    const table = p.targetTable as MbrTable;
    expect(table.primary.map((e) => e.status)).toEqual([0x80, 0, 0, 0]);
    expect(p.notes.find((n) => n.code === 'layout.active-moved')?.data).toEqual({ from: [3], to: 1 });
  });

  it('refuses to create a logical partition and to create one with no free primary slot', () => {
    const withLogical = mbrTable(
      0x11111111,
      [{ number: 1, type: 0x0f, start: at(MiB), count: at(10n * GiB) }],
      [{ number: 5, type: 0x07, start: at(2n * MiB), count: at(5n * GiB) }],
    );
    const logical = planOf(plan(mbrTable(0x33, [{ number: 1, type: 0x07, start: at(20n * GiB), count: at(GiB) }]), [5], withLogical), 'refused');
    expect(logical.reason.code).toBe('layout.partial-logical');
    expect(logical.reason.data).toEqual({ partition: 5 });

    const full = mbrTable(0x33, [
      { number: 1, type: 0x07, start: at(MiB), count: at(50n * MiB) },
      { number: 2, type: 0x07, start: at(41n * GiB), count: at(GiB) },
      { number: 3, type: 0x07, start: at(42n * GiB), count: at(GiB) },
      { number: 4, type: 0x07, start: at(43n * GiB), count: at(GiB) },
    ]);
    const noSlot = planOf(plan(full, [3]), 'refused');
    expect(noSlot.reason.code).toBe('layout.partial-no-free-slot');
    expect(noSlot.reason.data).toEqual({ partition: 3, slots: 4 });
  });

  it('refuses a primary partition that would land inside the target extended partition', () => {
    const current = mbrTable(
      0x44,
      [
        { number: 1, type: 0x07, start: at(MiB), count: at(100n * MiB), active: true },
        { number: 2, type: 0x0f, start: at(20n * GiB), count: at(20n * GiB) },
      ],
      [{ number: 5, type: 0x07, start: at(20n * GiB) + 2048n, count: at(10n * GiB) }],
    );
    const r = planOf(plan(current, [2]), 'refused');
    expect(r.reason.code).toBe('layout.partial-overlap');
    expect(r.reason.data).toEqual({ partition: 2, keptPartition: 2 });
    expect(r.reason.message).toContain('target partition 2 (type 0x0f)');
  });
});
