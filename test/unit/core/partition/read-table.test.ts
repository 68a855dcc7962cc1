import { describe, expect, it } from 'vitest';
import { isRecoveryError } from '../../../../src/core/errors.ts';
import { GPT_TYPE } from '../../../../src/core/partition/guid.ts';
import { emptyMbrEntry, makeMbrEntry, protectiveMbrFor } from '../../../../src/core/partition/mbr.ts';
import { MAX_LOGICAL_PARTITIONS, readPartitionTable } from '../../../../src/core/partition/read-table.ts';
import type { GptTable, MbrTable, Problem } from '../../../../src/core/partition/types.ts';
import { planGptWrite, planMbrWrite } from '../../../../src/core/partition/write-plan.ts';
import { SparseDisk } from '../../../helpers/partition-images.ts';

const codes = (problems: readonly Problem[]): string[] => problems.map((p) => `${p.code}:${p.severity}`).sort();

function gptTable(ss: 512 | 4096, lastLba: bigint): GptTable {
  const first = ss === 512 ? 34n : 6n;
  return {
    style: 'gpt', sectorSize: ss, diskGuid: '11111111-2222-3333-4444-555555555555', firstUsableLba: first,
    lastUsableLba: lastLba - (ss === 512 ? 33n : 5n), numberOfEntries: 128, sizeOfEntry: 128,
    partitions: [
      { number: 1, typeGuid: GPT_TYPE.efiSystem, uniqueGuid: '22222222-0000-0000-0000-000000000001', firstLba: 64n, lastLba: 127n, attributes: 0n, name: 'EFI' },
      { number: 2, typeGuid: GPT_TYPE.basicData, uniqueGuid: '22222222-0000-0000-0000-000000000002', firstLba: 128n, lastLba: 255n, attributes: 1n << 63n, name: 'Windows' },
    ],
  };
}

function gptDisk(ss: 512 | 4096 = 512, sectors = 4096n): { disk: SparseDisk; table: GptTable } {
  const disk = new SparseDisk(sectors, ss);
  const table = gptTable(ss, sectors - 1n);
  disk.apply(planGptWrite(table, disk.geometry));
  return { disk, table: { ...table, protectiveMbr: protectiveMbrFor(disk.geometry) } };
}

const mbrTable: MbrTable = {
  style: 'mbr', bootCode: new Uint8Array(440).fill(0xfa), diskSignature: 0x0badf00d, reserved: 0,
  primary: [
    makeMbrEntry({ number: 1, type: 0x07, startLba: 64n, sectorCount: 64n, status: 0x80 }),
    makeMbrEntry({ number: 2, type: 0x05, startLba: 128n, sectorCount: 512n }),
    emptyMbrEntry(3), emptyMbrEntry(4),
  ],
  logical: [
    makeMbrEntry({ number: 5, type: 0x07, startLba: 136n, sectorCount: 64n }),
    makeMbrEntry({ number: 6, type: 0x0b, startLba: 256n, sectorCount: 64n }),
    makeMbrEntry({ number: 7, type: 0x83, startLba: 400n, sectorCount: 64n }),
  ],
  ebrLbas: [128n, 250n, 399n],
  bootSignatureValid: true,
};

function mbrDisk(): SparseDisk {
  const disk = new SparseDisk(4096n);
  return disk.apply(planMbrWrite(mbrTable, disk.geometry));
}

/** Rewrites the link entry (slot 1) of the EBR at `ebrLba` to point at extended-relative `target`. */
function relink(disk: SparseDisk, ebrLba: bigint, target: number): void {
  const sector = disk.sector(ebrLba);
  const view = new DataView(sector.buffer);
  view.setUint8(446 + 16 + 4, 0x05);
  view.setUint32(446 + 16 + 8, target, true);
  view.setUint32(446 + 16 + 12, 8, true);
  disk.setSector(ebrLba, sector);
}

describe('readPartitionTable on GPT disks', () => {
  it.each([512, 4096] as const)('reads back what planGptWrite wrote, with no problems (%i-byte sectors)', async (ss) => {
    const { disk, table } = gptDisk(ss);
    const result = await readPartitionTable(disk.read, disk.geometry);
    expect(result.style).toBe('gpt');
    expect(result.problems).toEqual([]);
    expect(result.gpt?.source).toBe('primary');
    expect(result.table).toEqual(table);
    const arraySectors = ss === 512 ? 32 : 4;
    expect(result.tableSectors).toEqual([{ lba: 0n, count: 2 + arraySectors }, { lba: 4095n - BigInt(arraySectors), count: arraySectors + 1 }]);
  });

  it('uses the backup copy with a warning when the primary header is corrupt', async () => {
    const { disk, table } = gptDisk();
    disk.flip(1n, 16);
    const result = await readPartitionTable(disk.read, disk.geometry);
    expect(result.gpt?.source).toBe('backup');
    expect(result.table).toEqual(table);
    expect(codes(result.problems)).toEqual(['gpt.header-crc:warning', 'gpt.using-backup:warning']);
  });

  it('uses the backup when the primary array is corrupt, and fails when both copies are', async () => {
    const { disk, table } = gptDisk();
    disk.flip(2n, 100);
    const first = await readPartitionTable(disk.read, disk.geometry);
    expect(first.table).toEqual(table);
    expect(codes(first.problems)).toEqual(['gpt.array-crc:warning', 'gpt.using-backup:warning']);
    disk.flip(4095n, 30);
    const both = await readPartitionTable(disk.read, disk.geometry);
    expect(both.style).toBe('gpt');
    expect(both.table).toBeUndefined();
    expect(codes(both.problems)).toEqual(['gpt.array-crc:error', 'gpt.header-crc:error', 'gpt.no-valid-header:error']);
  });

  it('reads a grown disk from the primary and finds the old backup where the primary points', async () => {
    const { disk, table } = gptDisk(512, 2048n);
    const grown = new SparseDisk(4096n);
    for (let lba = 0n; lba < 2048n; lba++) grown.setSector(lba, disk.sector(lba));
    const result = await readPartitionTable(grown.read, grown.geometry);
    expect(result.table).toEqual({ ...table, protectiveMbr: protectiveMbrFor(disk.geometry) });
    expect(result.gpt?.backupHeader?.myLba).toBe(2047n);
    expect(codes(result.problems)).toEqual(['gpt.alternate-lba:warning', 'gpt.backup-not-at-end:warning', 'gpt.pmbr-size:warning']);
  });

  it('reads a truncated disk from the primary and reports the missing backup and the misfit', async () => {
    const { disk } = gptDisk(512, 4096n);
    const cut = new SparseDisk(3000n);
    for (let lba = 0n; lba < 3000n; lba++) cut.setSector(lba, disk.sector(lba));
    const result = await readPartitionTable(cut.read, cut.geometry);
    expect(result.gpt?.source).toBe('primary');
    expect((result.table as GptTable).partitions).toHaveLength(2);
    expect(codes(result.problems)).toEqual([
      'gpt.alternate-lba:warning', 'gpt.backup-missing:warning', 'gpt.last-usable:error', 'gpt.pmbr-size:warning',
    ]);
    expect(cut.reads.every((r) => r.lba + BigInt(r.count) <= 3000n)).toBe(true);
  });

  it('treats GPT headers behind an empty or missing MBR as GPT, with a warning', async () => {
    const { disk, table } = gptDisk();
    disk.setSector(0n, new Uint8Array(512));
    const result = await readPartitionTable(disk.read, disk.geometry);
    expect(result.style).toBe('gpt');
    expect(result.table).toEqual({ ...table, protectiveMbr: undefined });
    expect(codes(result.problems)).toEqual(['gpt.pmbr-missing:warning']);
  });
});

describe('readPartitionTable on MBR disks', () => {
  it('follows the EBR chain and reads back what planMbrWrite wrote', async () => {
    const disk = mbrDisk();
    const result = await readPartitionTable(disk.read, disk.geometry);
    expect(result.style).toBe('mbr');
    expect(result.problems).toEqual([]);
    expect(result.table).toEqual(mbrTable);
    expect(result.tableSectors).toEqual([{ lba: 0n, count: 1 }, { lba: 128n, count: 1 }, { lba: 250n, count: 1 }, { lba: 399n, count: 1 }]);
  });

  it('stops at a loop in the chain', async () => {
    const disk = mbrDisk();
    relink(disk, 399n, 0);
    const result = await readPartitionTable(disk.read, disk.geometry);
    expect((result.table as MbrTable).logical.map((e) => e.number)).toEqual([5, 6, 7]);
    expect(codes(result.problems)).toEqual(['mbr.ebr-loop:error']);
  });

  it('stops at a link outside the extended partition or the disk', async () => {
    for (const target of [600, 0xfffffff0]) {
      const disk = mbrDisk();
      relink(disk, 250n, target);
      const result = await readPartitionTable(disk.read, disk.geometry);
      expect((result.table as MbrTable).logical.map((e) => e.number)).toEqual([5, 6]);
      expect(codes(result.problems)).toEqual(['mbr.ebr-out-of-range:error']);
      expect(disk.reads.every((r) => r.lba < 4096n)).toBe(true);
    }
  });

  it('stops at an EBR without 0x55AA and at an endless chain', async () => {
    const disk = mbrDisk();
    disk.flip(250n, 511);
    const result = await readPartitionTable(disk.read, disk.geometry);
    expect((result.table as MbrTable).logical).toHaveLength(1);
    expect(codes(result.problems)).toEqual(['mbr.ebr-signature:error']);

    // A chain of empty EBRs, each linking to the next sector, longer than the limit.
    const long = new SparseDisk(4096n);
    const ext = { ...mbrTable, primary: [makeMbrEntry({ number: 1, type: 0x05, startLba: 8n, sectorCount: 4000n }), emptyMbrEntry(2), emptyMbrEntry(3), emptyMbrEntry(4)], logical: [], ebrLbas: [] };
    long.apply(planMbrWrite(ext, long.geometry));
    for (let i = 0; i < MAX_LOGICAL_PARTITIONS + 10; i++) {
      const sector = new Uint8Array(512);
      sector.set([0x55, 0xaa], 510);
      long.setSector(8n + BigInt(i), sector);
      relink(long, 8n + BigInt(i), i + 1);
    }
    const endless = await readPartitionTable(long.read, long.geometry);
    expect(codes(endless.problems)).toEqual(['mbr.ebr-limit:error']);
    expect(long.reads.length).toBeLessThan(MAX_LOGICAL_PARTITIONS + 10);
  });

  it('warns about GPT headers left behind on an MBR disk', async () => {
    const { disk } = gptDisk();
    disk.apply(planMbrWrite(mbrTable, disk.geometry));
    const stale = await readPartitionTable(disk.read, disk.geometry);
    expect(stale.style).toBe('mbr');
    expect(codes(stale.problems)).toEqual(['mbr.stale-gpt:warning']);
    disk.apply(planMbrWrite(mbrTable, disk.geometry, { clearGpt: true }));
    expect((await readPartitionTable(disk.read, disk.geometry)).problems).toEqual([]);
  });

  it('calls a disk with an empty table "mbr" and a blank disk "none"', async () => {
    const disk = new SparseDisk(100n);
    expect(await readPartitionTable(disk.read, disk.geometry)).toMatchObject({ style: 'none', problems: [], tableSectors: [] });
    const sector = new Uint8Array(512);
    sector.set([0x55, 0xaa], 510);
    disk.setSector(0n, sector);
    const empty = await readPartitionTable(disk.read, disk.geometry);
    expect(empty.style).toBe('mbr');
    expect(empty.problems).toEqual([]);
  });

  it('rejects a reader that returns the wrong number of bytes', async () => {
    const disk = mbrDisk();
    let caught: unknown;
    try {
      await readPartitionTable(async (lba, count) => (await disk.read(lba, count)).subarray(1), disk.geometry);
    } catch (e) {
      caught = e;
    }
    expect(isRecoveryError(caught) && caught.code).toBe('partition.short-read');
  });
});
