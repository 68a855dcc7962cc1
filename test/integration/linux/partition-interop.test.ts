/**
 * Our partition-table codecs against the real tools, both ways: tables we write are read by sfdisk,
 * sgdisk and fdisk; tables they write are read by us, field by field and byte for byte. 4096-byte
 * sectors go through loop devices (sfdisk 2.38 and sgdisk take the sector size from the device),
 * so those cases need root.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeGpt } from '../../../src/core/partition/gpt.ts';
import { GPT_TYPE } from '../../../src/core/partition/guid.ts';
import { emptyMbrEntry, makeMbrEntry } from '../../../src/core/partition/mbr.ts';
import { readPartitionTable } from '../../../src/core/partition/read-table.ts';
import type { ReadTableResult } from '../../../src/core/partition/read-table.ts';
import { summarizePartitions } from '../../../src/core/partition/summary.ts';
import type { DiskGeometry, GptPartition, GptTable, MbrTable, Problem, WriteOp } from '../../../src/core/partition/types.ts';
import { planGptWrite, planMbrWrite } from '../../../src/core/partition/write-plan.ts';
import type { SectorSize } from '../../../src/core/units.ts';
import { MiB } from '../../../src/core/units.ts';
import {
  SFDISK_ATTR_MASK, applyWriteOps, cloneTableImage, createImage, fdiskList, geometryOf, imageReader, loopDevicesUsable, nodeNumber, readBytes, resizeImage,
  sfdiskAttrBits, sfdiskJson, sfdiskWrite, sgdisk, sgdiskInfo, sgdiskVerify, wipefsSignatures, withLoopDevice, writeBytes,
} from '../../helpers/partition-images.ts';
import type { SfdiskTable } from '../../helpers/partition-images.ts';
import { tempDir } from '../../helpers/run.ts';

const loopOk = await loopDevicesUsable();
const SIZE = 64n * MiB;

let dir: { path: string; cleanup: () => Promise<void> };
beforeAll(async () => {
  dir = await tempDir('lifeline-partition-');
});
afterAll(async () => {
  await dir.cleanup();
});

let imageCount = 0;
async function image(size = SIZE): Promise<string> {
  imageCount += 1;
  return createImage(dir.path, `disk-${imageCount}.img`, size);
}

async function readTable(path: string, geometry: DiskGeometry): Promise<ReadTableResult> {
  return readPartitionTable(imageReader(path, geometry.logicalSectorSize), geometry);
}

/** Runs `fn` with a device the tools see with `ss`-byte sectors: the image itself at 512, a loop device at 4096. */
/** One test per logical sector size; the 4096 one needs a loop device and is skipped without root. */
function forSectorSizes(name: string, body: (ss: SectorSize) => Promise<void>): void {
  it(`${name} (512-byte sectors)`, () => body(512));
  it.skipIf(!loopOk)(`${name} (4096-byte sectors, loop device)`, () => body(4096));
}

async function asDevice<T>(path: string, ss: SectorSize, fn: (device: string) => Promise<T>): Promise<T> {
  return ss === 512 ? fn(path) : withLoopDevice(path, ss, fn);
}

const codes = (problems: readonly Problem[]): string[] => problems.map((p) => `${p.code}:${p.severity}`).sort();
const lba = (bytes: bigint, ss: SectorSize): bigint => bytes / BigInt(ss);

/** Each op's bytes equal what is on the disk at its offset (re-encoding reproduces a tool's table). */
async function expectOnDisk(path: string, ops: readonly WriteOp[]): Promise<void> {
  for (const op of ops) {
    const found = await readBytes(path, op.offset, op.data.length);
    expect(Buffer.from(found).equals(Buffer.from(op.data)), `${op.what} at byte ${op.offset}`).toBe(true);
  }
}

// ---------------------------------------------------------------- fixtures

function windowsGpt(ss: SectorSize): GptTable {
  const at = (startMiB: bigint, sizeMiB: bigint) => ({ firstLba: lba(startMiB * MiB, ss), lastLba: lba((startMiB + sizeMiB) * MiB, ss) - 1n });
  const partitions: GptPartition[] = [
    { number: 1, typeGuid: GPT_TYPE.efiSystem, uniqueGuid: '0e1f5a2b-6c3d-4e8f-9a0b-1c2d3e4f5a01', ...at(1n, 4n), attributes: 0n, name: 'EFI system partition' },
    { number: 2, typeGuid: GPT_TYPE.microsoftReserved, uniqueGuid: '0e1f5a2b-6c3d-4e8f-9a0b-1c2d3e4f5a02', ...at(5n, 1n), attributes: 0n, name: 'Microsoft reserved partition' },
    { number: 3, typeGuid: GPT_TYPE.basicData, uniqueGuid: '0e1f5a2b-6c3d-4e8f-9a0b-1c2d3e4f5a03', ...at(6n, 32n), attributes: 0x4000000000000000n, name: 'Basic data ü €' },
    // Slot 4 left empty on purpose; the name needs a surrogate pair.
    { number: 5, typeGuid: GPT_TYPE.windowsRecovery, uniqueGuid: '0e1f5a2b-6c3d-4e8f-9a0b-1c2d3e4f5a05', ...at(40n, 4n), attributes: 0x8000000000000001n, name: 'Recovery 😀' },
  ];
  return {
    style: 'gpt', sectorSize: ss, diskGuid: '5b3a7c1e-9d2f-4a6b-8c0e-112233445566', firstUsableLba: ss === 512 ? 34n : 6n,
    lastUsableLba: 0n, numberOfEntries: 128, sizeOfEntry: 128, partitions,
  };
}

function biosMbr(ss: SectorSize): MbrTable {
  const s = (mib: bigint): bigint => lba(mib * MiB, ss);
  return {
    style: 'mbr', bootCode: Uint8Array.from({ length: 440 }, (_, i) => (i * 13 + 7) & 0xff), diskSignature: 0x1234abcd, reserved: 0,
    primary: [
      makeMbrEntry({ number: 1, type: 0x07, startLba: s(1n), sectorCount: s(8n), status: 0x80 }),
      makeMbrEntry({ number: 2, type: 0x0f, startLba: s(9n), sectorCount: s(40n) }),
      makeMbrEntry({ number: 3, type: 0x27, startLba: s(50n), sectorCount: s(4n) }),
      emptyMbrEntry(4),
    ],
    logical: [
      makeMbrEntry({ number: 5, type: 0x07, startLba: s(10n), sectorCount: s(8n) }),
      makeMbrEntry({ number: 6, type: 0x0c, startLba: s(20n), sectorCount: s(4n) }),
    ],
    ebrLbas: [s(9n), s(19n)],
    bootSignatureValid: true,
  };
}

// ---------------------------------------------------------------- comparisons

async function expectGptMatchesTools(device: string, table: GptTable, ss: SectorSize, lastUsableLba: bigint): Promise<void> {
  const sf: SfdiskTable = await sfdiskJson(device);
  expect([sf.label, sf.id, sf.sectorsize, sf.firstlba, sf.lastlba]).toEqual(['gpt', table.diskGuid.toUpperCase(), ss, Number(table.firstUsableLba), Number(lastUsableLba)]);
  expect(sf.partitions.map((p) => ({
    number: nodeNumber(p.node), start: BigInt(p.start), size: BigInt(p.size), type: p.type.toLowerCase(), uuid: p.uuid?.toLowerCase(),
    name: p.name ?? '', attrs: sfdiskAttrBits(p.attrs),
  }))).toEqual(table.partitions.map((p) => ({
    number: p.number, start: p.firstLba, size: p.lastLba - p.firstLba + 1n, type: p.typeGuid, uuid: p.uniqueGuid, name: p.name, attrs: p.attributes & SFDISK_ATTR_MASK,
  })));
  expect(await sgdiskVerify(device)).toContain('No problems found');
  for (const p of table.partitions) {
    const info = await sgdiskInfo(device, p.number);
    expect({ ...info, name: undefined }).toEqual({ typeGuid: p.typeGuid, uniqueGuid: p.uniqueGuid, firstLba: p.firstLba, lastLba: p.lastLba, attributes: p.attributes });
    // sgdisk 1.0.9 decodes names as UCS-2, so a surrogate pair is only checked through sfdisk above.
    if (!/[\ud800-\udfff]/.test(p.name)) expect(info.name).toBe(p.name);
  }
}

async function expectMbrMatchesSfdisk(device: string, table: MbrTable, ss: SectorSize): Promise<void> {
  const sf = await sfdiskJson(device);
  expect([sf.label, sf.id, sf.sectorsize]).toEqual(['dos', `0x${table.diskSignature.toString(16).padStart(8, '0')}`, ss]);
  expect(sf.partitions.map((p) => ({ number: nodeNumber(p.node), start: BigInt(p.start), size: BigInt(p.size), type: p.type, bootable: p.bootable === true })))
    .toEqual(summarizePartitions(table, { includeExtended: true }).map((p) => ({
      number: p.number, start: p.startLba, size: p.sectorCount, type: parseInt(p.type, 16).toString(16), bootable: p.bootable,
    })));
}

// ---------------------------------------------------------------- our tables, their tools

describe('tables written by our write plans, read by sfdisk, sgdisk and fdisk', () => {
  forSectorSizes('GPT with names, attributes, an empty slot and fixed GUIDs', async (ss) => {
    const path = await image();
    const geometry = geometryOf(SIZE, ss);
    const table = windowsGpt(ss);
    await applyWriteOps(path, planGptWrite(table, geometry));
    const lastUsable = geometry.sizeBytes / BigInt(ss) - (ss === 512 ? 34n : 6n);
    await asDevice(path, ss, (device) => expectGptMatchesTools(device, table, ss, lastUsable));
    const fdisk = await fdiskList(path, ss);
    expect(fdisk).toContain('Disklabel type: gpt');
    expect(fdisk).toContain(`Disk identifier: ${table.diskGuid.toUpperCase()}`);
    const rows = fdisk.split('\n').filter((l) => l.startsWith(path)).map((l) => l.slice(path.length).trim().split(/\s+/).slice(0, 3).map(BigInt));
    expect(rows).toEqual(table.partitions.map((p) => [BigInt(p.number), p.firstLba, p.lastLba]));
    const back = await readTable(path, geometry);
    expect(back.problems).toEqual([]);
    expect({ ...back.table, protectiveMbr: undefined }).toEqual({ ...table, lastUsableLba: lastUsable });
  });

  it('GPT from a smaller source disk: backup at the target end and LastUsableLBA moved', async () => {
    const path = await image(SIZE);
    const fromSmall = { ...windowsGpt(512), lastUsableLba: lba(48n * MiB, 512) - 34n };
    await applyWriteOps(path, planGptWrite(fromSmall, geometryOf(SIZE)));
    await expectGptMatchesTools(path, fromSmall, 512, 131038n);
    const header = await readBytes(path, (lba(SIZE, 512) - 1n) * 512n, 512);
    expect(new TextDecoder().decode(header.subarray(0, 8))).toBe('EFI PART');
  });

  forSectorSizes('MBR with boot code, signature, active flag, extended and logical partitions', async (ss) => {
    const path = await image();
    const table = biosMbr(ss);
    await applyWriteOps(path, planMbrWrite(table, geometryOf(SIZE, ss)));
    await asDevice(path, ss, (device) => expectMbrMatchesSfdisk(device, table, ss));
    expect(await readBytes(path, 0n, 440)).toEqual(table.bootCode);
    const fdisk = await fdiskList(path, ss);
    expect(fdisk).toContain('Disklabel type: dos');
    expect(fdisk).toContain('Disk identifier: 0x1234abcd');
    expect(fdisk.split('\n').filter((l) => l.startsWith(path)).map((l) => l.slice(path.length).trim().split(/\s+/).slice(0, 2))).toEqual([
      ['1', '*'], ['2', String(lba(9n * MiB, ss))], ['3', String(lba(50n * MiB, ss))], ['5', String(lba(10n * MiB, ss))], ['6', String(lba(20n * MiB, ss))],
    ]);
    const back = await readTable(path, geometryOf(SIZE, ss));
    expect(back.problems).toEqual([]);
    expect(back.table).toEqual(table);
  });

  it('MBR over a GPT disk: clearGpt removes both GPT headers, without it they linger', async () => {
    const cleared = await image();
    await sgdisk(['-o', '-n', '1:0:+8M', cleared]);
    imageCount += 1;
    const stale = await cloneTableImage(cleared, dir.path, `disk-${imageCount}.img`, SIZE);
    expect(await wipefsSignatures(stale)).toEqual(expect.arrayContaining(['gpt', 'PMBR']));
    await applyWriteOps(cleared, planMbrWrite(biosMbr(512), geometryOf(SIZE), { clearGpt: true }));
    await applyWriteOps(stale, planMbrWrite(biosMbr(512), geometryOf(SIZE)));
    expect(await wipefsSignatures(cleared)).toEqual(['dos']);
    expect(await wipefsSignatures(stale)).toContain('gpt');
    expect((await sfdiskJson(cleared)).label).toBe('dos');
    expect((await readTable(cleared, geometryOf(SIZE))).problems).toEqual([]);
    expect(codes((await readTable(stale, geometryOf(SIZE))).problems)).toEqual(['mbr.stale-gpt:warning']);
  });
});

// ---------------------------------------------------------------- their tables, our code

const SGDISK_ARGS = [
  '-o', '-U', '5B3A7C1E-9D2F-4A6B-8C0E-AABBCCDDEEFF',
  '-n', '1:0:+4M', '-t', '1:EF00', '-c', '1:EFI system partition', '-u', '1:11111111-AAAA-4BBB-8CCC-000000000001',
  '-n', '2:0:+1M', '-t', '2:0C01', '-c', '2:Microsoft reserved partition', '-u', '2:11111111-AAAA-4BBB-8CCC-000000000002',
  '-n', '3:0:+16M', '-t', '3:0700', '-c', '3:Basic data ü', '-u', '3:11111111-AAAA-4BBB-8CCC-000000000003', '-A', '3:set:60', '-A', '3:set:63',
  '-n', '5:0:+2M', '-t', '5:2700', '-c', '5:Recovery', '-u', '5:11111111-AAAA-4BBB-8CCC-000000000005', '-A', '5:set:0', '-A', '5:set:63',
];

const SFDISK_SCRIPT = (ss: SectorSize): string => {
  const s = (mib: bigint): string => String(lba(mib * MiB, ss));
  return [
    'label: dos', 'label-id: 0x5eed1e55',
    `start=${s(1n)}, size=${s(8n)}, type=7, bootable`,
    `start=${s(9n)}, size=${s(30n)}, type=5`,
    `start=${s(10n)}, size=${s(4n)}, type=7`,
    `start=${s(16n)}, size=${s(4n)}, type=c`,
    `start=${s(22n)}, size=${s(8n)}, type=83`,
    `start=${s(40n)}, size=${s(8n)}, type=27`,
    '',
  ].join('\n');
};

describe('tables written by sfdisk and sgdisk, read by our code', () => {
  forSectorSizes('sgdisk GPT: every field as sgdisk -i and sfdisk --json show it, re-encoded byte for byte', async (ss) => {
    const path = await image();
    const geometry = geometryOf(SIZE, ss);
    await asDevice(path, ss, async (device) => {
      await sgdisk([...SGDISK_ARGS, device]);
    });
    const result = await readTable(path, geometry);
    expect(result.style).toBe('gpt');
    expect(result.problems).toEqual([]);
    const table = result.table as GptTable;
    expect(table.diskGuid).toBe('5b3a7c1e-9d2f-4a6b-8c0e-aabbccddeeff');
    expect(table.partitions.map((p) => p.number)).toEqual([1, 2, 3, 5]);
    expect(table.partitions[2]!.attributes).toBe((1n << 60n) | (1n << 63n));
    await asDevice(path, ss, async (device) => {
      for (const p of table.partitions) {
        expect(await sgdiskInfo(device, p.number)).toEqual({ typeGuid: p.typeGuid, uniqueGuid: p.uniqueGuid, firstLba: p.firstLba, lastLba: p.lastLba, attributes: p.attributes, name: p.name });
      }
      const sf = await sfdiskJson(device);
      expect([sf.id.toLowerCase(), BigInt(sf.firstlba!), BigInt(sf.lastlba!)]).toEqual([table.diskGuid, table.firstUsableLba, table.lastUsableLba]);
    });
    // Same bytes as sgdisk wrote: both headers, both arrays and the protective MBR.
    await expectOnDisk(path, planGptWrite(table, geometry));
  });

  forSectorSizes('sfdisk MBR with extended and logical partitions, re-encoded byte for byte', async (ss) => {
    const path = await image();
    const geometry = geometryOf(SIZE, ss);
    await asDevice(path, ss, (device) => sfdiskWrite(device, SFDISK_SCRIPT(ss)));
    const result = await readTable(path, geometry);
    expect(result.style).toBe('mbr');
    expect(result.problems).toEqual([]);
    const table = result.table as MbrTable;
    expect(table.logical.map((e) => e.number)).toEqual([5, 6, 7]);
    await asDevice(path, ss, (device) => expectMbrMatchesSfdisk(device, table, ss));
    expect(result.tableSectors.map((r) => r.lba)).toEqual([0n, ...table.ebrLbas]);
    // sfdisk's MBR and EBR sectors are exactly what our encoder produces for the parsed table.
    await expectOnDisk(path, planMbrWrite(table, geometry).map((op) => ({ ...op, data: op.data.subarray(0, 512) })));
  });
});

// ---------------------------------------------------------------- damaged tables

describe('damaged GPT copies made by sgdisk, diagnosed by our code', () => {
  let template: string;
  beforeAll(async () => {
    template = await image();
    await sgdisk([...SGDISK_ARGS, template]);
  });

  async function sgdiskImage(): Promise<{ path: string; good: GptTable }> {
    imageCount += 1;
    const path = await cloneTableImage(template, dir.path, `disk-${imageCount}.img`, SIZE);
    const good = (await readTable(path, geometryOf(SIZE))).table as GptTable;
    expect(good.partitions).toHaveLength(4);
    return { path, good };
  }

  async function flipByte(path: string, offset: bigint): Promise<void> {
    const base = offset - (offset % 512n);
    const sector = await readBytes(path, base, 512);
    const i = Number(offset - base);
    sector[i] = sector[i]! ^ 0xff;
    await writeBytes(path, base, sector);
  }

  it('a flipped primary header byte: the backup is used, with warnings', async () => {
    const { path, good } = await sgdiskImage();
    await flipByte(path, 512n + 40n);
    const result = await readTable(path, geometryOf(SIZE));
    expect(result.gpt?.source).toBe('backup');
    expect(result.table).toEqual(good);
    expect(codes(result.problems)).toEqual(['gpt.header-crc:warning', 'gpt.using-backup:warning']);
    expect(await sgdiskVerify(path)).toMatch(/Main header: ERROR/);
  });

  it('a flipped primary entry-array byte: the backup is used, with warnings', async () => {
    const { path, good } = await sgdiskImage();
    await flipByte(path, 1024n + 200n);
    const result = await readTable(path, geometryOf(SIZE));
    expect(result.table).toEqual(good);
    expect(codes(result.problems)).toEqual(['gpt.array-crc:warning', 'gpt.using-backup:warning']);
    expect(await sgdiskVerify(path)).toMatch(/Main partition table: ERROR|CRC for the main partition table is invalid/);
  });

  it('both copies damaged: no table, errors only', async () => {
    const { path } = await sgdiskImage();
    await flipByte(path, 512n + 40n);
    await flipByte(path, SIZE - 512n + 40n);
    const result = await readTable(path, geometryOf(SIZE));
    expect(result.table).toBeUndefined();
    expect(codes(result.problems)).toEqual(['gpt.header-crc:error', 'gpt.header-crc:error', 'gpt.no-valid-header:error']);
  });

  it('a truncated image: the backup is missing and the table no longer fits', async () => {
    const { path, good } = await sgdiskImage();
    const cut = SIZE - MiB;
    await resizeImage(path, cut);
    const result = await readTable(path, geometryOf(cut));
    expect(result.gpt?.source).toBe('primary');
    expect((result.table as GptTable).partitions).toEqual(good.partitions);
    expect(codes(result.problems)).toEqual(['gpt.alternate-lba:warning', 'gpt.backup-missing:warning', 'gpt.last-usable:error', 'gpt.pmbr-size:warning']);
    expect(await sgdiskVerify(path)).not.toContain('No problems found');
  });

  it('a grown image (backup no longer at the end): diagnosed, then repaired by planGptWrite', async () => {
    const { path, good } = await sgdiskImage();
    const grown = SIZE + 4n * MiB;
    await resizeImage(path, grown);
    const result = await readTable(path, geometryOf(grown));
    expect(result.table).toEqual(good);
    expect(result.gpt?.backupHeader?.myLba).toBe(lba(SIZE, 512) - 1n);
    expect(codes(result.problems)).toEqual(['gpt.alternate-lba:warning', 'gpt.backup-not-at-end:warning', 'gpt.pmbr-size:warning']);
    expect(await sgdiskVerify(path)).not.toContain('No problems found');
    await applyWriteOps(path, planGptWrite(good, geometryOf(grown)));
    expect(await sgdiskVerify(path)).toContain('No problems found');
    const repaired = await readTable(path, geometryOf(grown));
    expect(repaired.problems).toEqual([]);
    expect((repaired.table as GptTable).lastUsableLba).toBe(lba(grown, 512) - 34n);
  });

  it('overlapping entries: reported by us and by sgdisk, and refused by the planner', async () => {
    const { path, good } = await sgdiskImage();
    const [p1, p2, ...rest] = good.partitions;
    const overlapping: GptTable = { ...good, partitions: [p1!, { ...p2!, firstLba: p1!.lastLba - 100n }, ...rest] };
    const enc = encodeGpt(overlapping, geometryOf(SIZE));
    await applyWriteOps(path, [
      { offset: enc.backupEntriesLba * 512n, data: enc.entries, what: 'backup entries' },
      { offset: enc.backupHeaderLba * 512n, data: enc.backupHeader, what: 'backup header' },
      { offset: 1024n, data: enc.entries, what: 'primary entries' },
      { offset: 512n, data: enc.primaryHeader, what: 'primary header' },
    ]);
    const result = await readTable(path, geometryOf(SIZE));
    expect(codes(result.problems)).toEqual(['gpt.overlap:error']);
    expect(result.problems[0]!.data).toEqual({ a: 'partition 1', b: 'partition 2' });
    expect(await sgdiskVerify(path)).toMatch(/partitions (1 and 2|2 and 1) overlap/);
    expect(() => planGptWrite(overlapping, geometryOf(SIZE))).toThrow(/gpt\.overlap/);
  });
});
