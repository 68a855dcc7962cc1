import { describe, expect, it } from 'vitest';
import { planLayout } from '../../../../src/core/layout/planner.ts';
import { GPT_TYPE } from '../../../../src/core/partition/guid.ts';
import { planTableWrite } from '../../../../src/core/partition/write-plan.ts';
import type { GptTable, MbrTable } from '../../../../src/core/partition/types.ts';
import { GiB, MiB, geometry, guid, mbrTable, noteCodes, planOf, readBack, windowsGpt, windowsMbr } from './builders.ts';

const TiB = 1024n * GiB;
const GPT_ORDER = ['gpt backup entries', 'gpt backup header', 'gpt primary entries', 'gpt primary header', 'protective mbr'];

describe.each([512, 4096] as const)('full rebuild, GPT, %i-byte sectors', (ss) => {
  const srcDisk = geometry(64n * GiB, ss);
  const source = windowsGpt('0b5e7c1a-2d3f-4a5b-8c9d-0e1f2a3b4c5d', srcDisk);
  const arraySectors = BigInt((128 * 128) / ss);

  it('writes the source table exactly, with its identity, and moves the backup copy to a larger target end', async () => {
    const target = geometry(128n * GiB, ss);
    const plan = planOf(planLayout({ source: { geometry: srcDisk, table: source }, selected: [1, 3], target: { geometry: target }, mode: 'full' }), 'write');
    const table = plan.targetTable as GptTable;
    const sectors = target.sizeBytes / BigInt(ss);

    expect(table.diskGuid).toBe(source.diskGuid);
    expect(table.partitions).toEqual(source.partitions);
    expect(table.firstUsableLba).toBe(source.firstUsableLba);
    expect(table.lastUsableLba).toBe(sectors - 2n - arraySectors);
    expect(plan.writes.map((w) => w.what)).toEqual(GPT_ORDER);
    expect(plan.writes[1]!.offset).toBe((sectors - 1n) * BigInt(ss));

    const back = await readBack(plan.writes, target);
    expect(back.problems.filter((p) => p.severity === 'error')).toEqual([]);
    const read = back.table as GptTable;
    expect(read.diskGuid).toBe(source.diskGuid);
    expect(read.partitions).toEqual(source.partitions);
    expect(read.lastUsableLba).toBe(sectors - 2n - arraySectors);
  });

  it('maps each selected partition onto the same byte range and says what else happens', () => {
    const target = geometry(128n * GiB, ss);
    const plan = planOf(planLayout({ source: { geometry: srcDisk, table: source }, selected: [3, 1, 3], target: { geometry: target }, mode: 'full' }), 'write');
    const windows = source.partitions[2]!;
    expect(plan.restoredPartitions).toEqual([
      { sourceNumber: 1, targetNumber: 1, source: { offset: MiB, length: 100n * MiB }, target: { offset: MiB, length: 100n * MiB }, entry: 'created' },
      {
        sourceNumber: 3,
        targetNumber: 3,
        source: { offset: 117n * MiB, length: (windows.lastLba - windows.firstLba + 1n) * BigInt(ss) },
        target: { offset: 117n * MiB, length: (windows.lastLba - windows.firstLba + 1n) * BigInt(ss) },
        entry: 'created',
      },
    ]);
    expect(noteCodes(plan)).toEqual(['layout.recreated-empty', 'layout.unallocated-tail']);
    expect(plan.notes[0]!.data).toEqual({ partitions: [2, 4] });
    // 64 GiB more disk, minus the 100 MiB the source left free at its own end stays in the source's place.
    expect(plan.notes[1]!.data).toEqual({ bytes: String(64n * GiB + 100n * MiB - (1n + arraySectors) * BigInt(ss)) });
  });

  it('fits a smaller target when every partition still fits, pulling the backup copy in', () => {
    const target = geometry(64n * GiB - 50n * MiB, ss);
    const plan = planOf(planLayout({ source: { geometry: srcDisk, table: source }, selected: [3], target: { geometry: target }, mode: 'full' }), 'write');
    expect((plan.targetTable as GptTable).lastUsableLba).toBe(target.sizeBytes / BigInt(ss) - 2n - arraySectors);
    expect((plan.targetTable as GptTable).partitions).toEqual(source.partitions);
  });

  it('refuses a target too small by the backup array and header, naming the partition and the bytes missing', () => {
    // The recovery partition ends 100 MiB before the source's end; the target ends exactly there.
    const target = geometry(64n * GiB - 100n * MiB, ss);
    const plan = planOf(planLayout({ source: { geometry: srcDisk, table: source }, selected: [3], target: { geometry: target }, mode: 'full' }), 'refused');
    const missing = (arraySectors + 1n) * BigInt(ss);
    expect(plan.reason.code).toBe('layout.target-too-small');
    expect(plan.reason.data).toMatchObject({ partition: 4, missingBytes: String(missing), otherPartitions: [] });
    expect(plan.reason.message).toContain('partition 4');
    expect(plan.reason.message).toContain(`${missing} bytes) missing`);
    expect(plan.reason.message).toContain('GPT backup entries and header');
  });
});

describe.each([512, 4096] as const)('full rebuild, MBR, %i-byte sectors', (ss) => {
  const srcDisk = geometry(64n * GiB, ss);
  const source = windowsMbr(0x1a2b3c4d, srcDisk);

  it('keeps boot code, signature, types, CHS and the active flag, and clears stale GPT headers first', async () => {
    const target = geometry(100n * GiB, ss);
    const plan = planOf(planLayout({ source: { geometry: srcDisk, table: source }, selected: [1, 2], target: { geometry: target }, mode: 'full' }), 'write');
    const table = plan.targetTable as MbrTable;
    expect(table.bootCode).toEqual(source.bootCode);
    expect(table.diskSignature).toBe(0x1a2b3c4d);
    expect(table.primary).toEqual(source.primary);
    expect(plan.writes.map((w) => w.what)).toEqual(['clear gpt backup header', 'clear gpt primary header', 'mbr']);

    const back = await readBack(plan.writes, target);
    expect(back.style).toBe('mbr');
    const read = back.table as MbrTable;
    expect(read.bootCode).toEqual(source.bootCode);
    expect(read.diskSignature).toBe(0x1a2b3c4d);
    expect(read.primary).toEqual(source.primary);
  });

  it('refuses a target that cuts into the last partition, naming it and the bytes missing', () => {
    const target = geometry(64n * GiB - 101n * MiB, ss);
    const plan = planOf(planLayout({ source: { geometry: srcDisk, table: source }, selected: [2], target: { geometry: target }, mode: 'full' }), 'refused');
    expect(plan.reason.code).toBe('layout.target-too-small');
    expect(plan.reason.data).toMatchObject({ partition: 3, missingBytes: String(MiB), otherPartitions: [] });
    expect(plan.reason.message).toContain('partition 3 (type 0x27)');
    expect(plan.reason.message).not.toContain('GPT');
  });
});

describe('full rebuild, details', () => {
  const srcDisk = geometry(64n * GiB);

  it('replaces a GPT target with the MBR source and leaves no readable GPT behind', async () => {
    const target = geometry(80n * GiB);
    const old = windowsGpt(guid(99, 'ffffffff'), target, 'eeeeeeee');
    const before = new Map<bigint, Uint8Array>();
    for (const w of planTableWrite(old, target)) {
      for (let i = 0; i * 512 < w.data.length; i++) before.set(w.offset / 512n + BigInt(i), w.data.slice(i * 512, (i + 1) * 512));
    }
    const source = windowsMbr(0x0badf00d, srcDisk);
    const plan = planOf(planLayout({ source: { geometry: srcDisk, table: source }, selected: [2], target: { geometry: target, table: old }, mode: 'full' }), 'write');
    expect(noteCodes(plan)).toContain('layout.not-intact');
    const back = await readBack(plan.writes, target, before);
    expect(back.style).toBe('mbr');
    expect(back.problems.map((p) => p.code)).not.toContain('mbr.stale-gpt');
    expect((back.table as MbrTable).diskSignature).toBe(0x0badf00d);
  });

  it('keeps logical partitions and their EBR positions', async () => {
    const source = mbrTable(
      0x55667788,
      [
        { number: 1, type: 0x07, start: 2048n, count: 204800n, active: true },
        { number: 2, type: 0x0f, start: 206848n, count: 4194304n },
      ],
      [
        { number: 5, type: 0x07, start: 208896n, count: 2097152n },
        { number: 6, type: 0x0c, start: 2308096n, count: 2093056n },
      ],
    );
    const target = geometry(70n * GiB);
    const plan = planOf(planLayout({ source: { geometry: srcDisk, table: source }, selected: [5], target: { geometry: target }, mode: 'full' }), 'write');
    const table = plan.targetTable as MbrTable;
    expect(table.logical).toEqual(source.logical);
    expect(table.ebrLbas).toEqual(source.ebrLbas);
    expect(plan.restoredPartitions.map((r) => [r.sourceNumber, r.targetNumber, r.target.offset])).toEqual([[5, 5, 208896n * 512n]]);
    const back = await readBack(plan.writes, target);
    expect((back.table as MbrTable).logical.map((l) => [l.number, l.startLba, l.sectorCount, l.type])).toEqual([
      [5, 208896n, 2097152n, 0x07],
      [6, 2308096n, 2093056n, 0x0c],
    ]);
  });

  it('says when an MBR target is larger than an MBR can address', () => {
    const source = windowsMbr(1, srcDisk);
    const big = planOf(planLayout({ source: { geometry: srcDisk, table: source }, selected: [2], target: { geometry: geometry(3n * TiB) }, mode: 'full' }), 'write');
    expect(noteCodes(big)).toContain('layout.mbr-beyond-limit');
    const small = planOf(planLayout({ source: { geometry: srcDisk, table: source }, selected: [2], target: { geometry: geometry(2n * TiB) }, mode: 'full' }), 'write');
    expect(noteCodes(small)).not.toContain('layout.mbr-beyond-limit');
  });

  it('keeps XP-era offsets on a 512e target and says they are not physically aligned', () => {
    const source = mbrTable(7, [{ number: 1, type: 0x07, start: 63n, count: 1_000_000n, active: true }]);
    const plan = planOf(
      planLayout({ source: { geometry: srcDisk, table: source }, selected: [1], target: { geometry: geometry(64n * GiB, 512, 4096) }, mode: 'full' }),
      'write',
    );
    expect((plan.targetTable as MbrTable).primary[0]!.startLba).toBe(63n);
    const unaligned = plan.notes.find((n) => n.code === 'layout.unaligned');
    expect(unaligned?.data).toEqual({ partitions: [1], physicalSectorSize: 4096 });
  });

  it('refuses an MBR entry that a 32-bit LBA field cannot hold', () => {
    const source = mbrTable(7, [{ number: 1, type: 0x07, start: 2048n, count: 0x1_0000_0000n }]);
    const plan = planOf(planLayout({ source: { geometry: geometry(4n * TiB), table: source }, selected: [1], target: { geometry: geometry(4n * TiB) }, mode: 'full' }), 'refused');
    expect(plan.reason.code).toBe('layout.mbr-limit');
    expect(plan.reason.message).toContain('2.00 TiB');
    expect(plan.reason.data).toMatchObject({ partition: 1, sectorCount: String(0x1_0000_0000n) });
  });

  it('keeps a GPT name, attributes and GUIDs byte for byte', () => {
    const source = windowsGpt(guid(7, '12345678'), srcDisk);
    const plan = planOf(planLayout({ source: { geometry: srcDisk, table: source }, selected: [4], target: { geometry: srcDisk }, mode: 'full' }), 'write');
    const recovery = (plan.targetTable as GptTable).partitions.find((p) => p.number === 4)!;
    expect(recovery).toEqual({ ...source.partitions[3]! });
    expect(recovery.attributes).toBe(0x8000000000000001n);
    expect(recovery.typeGuid).toBe(GPT_TYPE.windowsRecovery);
  });
});
