/**
 * The DRIVE_LAYOUT_INFORMATION_EX and CREATE_DISK buffers for tables sgdisk and sfdisk wrote,
 * read with our codecs: every field is decoded with koffi.decode over the structs.ts declarations
 * (held to reference §2.5 by structs.test.ts) and compared with what the real tools report
 * (`sgdisk -i`, `sfdisk --json`, the raw EBR sectors sfdisk wrote). Then buffer → table round trips,
 * a koffi-built "Windows answer" decoded by us, and the limits of the IOCTL path.
 */
import fc from 'fast-check';
import koffi from 'koffi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareTables } from '../../../../src/adapters/win32/layout-apply.ts';
import {
  decodeDriveLayout, driveLayoutFor, encodeCreateDisk, encodeDriveLayout, layoutProblems, tableFromDriveLayout,
} from '../../../../src/adapters/win32/layout-writer.ts';
import * as S from '../../../../src/adapters/win32/structs.ts';
import { readPartitionTable } from '../../../../src/core/partition/read-table.ts';
import type { GptTable, MbrTable, PartitionTable } from '../../../../src/core/partition/types.ts';
import type { SectorSize } from '../../../../src/core/units.ts';
import { geometryOf, imageReader, readBytes, sfdiskJson, sgdiskInfo } from '../../../helpers/partition-images.ts';
import { tempDir } from '../../../helpers/run.ts';
import { LAYOUT_DISK_BYTES as DISK_BYTES, LAYOUT_DISK_GUID as DISK_GUID, makeGptTableImage, makeMbrTableImage } from './layout-fixtures.ts';
const HEADER = koffi.offsetof(S.DRIVE_LAYOUT_INFORMATION_EX, 'PartitionEntry');
const STRIDE = koffi.sizeof(S.PARTITION_INFORMATION_EX);

interface KGuid { Data1: number; Data2: number; Data3: number; Data4: ArrayLike<number> }
/** koffi decodes 64-bit fields as numbers when they fit, BigInt otherwise: compare through BigInt(). */
interface KEntry {
  PartitionStyle: number; StartingOffset: bigint | number; PartitionLength: bigint | number; PartitionNumber: number; RewritePartition: number; IsServicePartition: number;
  u: { Mbr: { PartitionType: number; BootIndicator: number; RecognizedPartition: number; HiddenSectors: number }; Gpt: { PartitionType: KGuid; PartitionId: KGuid; Attributes: bigint | number; Name: string } };
}

function guidText(g: KGuid): string {
  const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');
  const d4 = Array.from(g.Data4, (b) => hex(b, 2)).join('');
  return `${hex(g.Data1, 8)}-${hex(g.Data2, 4)}-${hex(g.Data3, 4)}-${d4.slice(0, 4)}-${d4.slice(4)}`;
}

/** Entry i of a layout buffer, decoded by koffi at the offsets koffi computes. */
function entryAt(buffer: Uint8Array, i: number): KEntry {
  return koffi.decode(buffer, HEADER + STRIDE * i, S.PARTITION_INFORMATION_EX) as KEntry;
}

function headerOf(buffer: Uint8Array) {
  return koffi.decode(buffer, S.DRIVE_LAYOUT_INFORMATION_EX) as {
    PartitionStyle: number; PartitionCount: number;
    u: { Mbr: { Signature: number; CheckSum: number }; Gpt: { DiskId: KGuid; StartingUsableOffset: bigint; UsableLength: bigint; MaxPartitionCount: number } };
  };
}

async function tableOf(image: string, sector: SectorSize = 512): Promise<PartitionTable> {
  const result = await readPartitionTable(imageReader(image, sector), geometryOf(DISK_BYTES, sector));
  expect(result.problems.filter((p) => p.severity === 'error')).toEqual([]);
  return result.table!;
}

let dir: { path: string; cleanup: () => Promise<void> };
let gptImage: string;
let mbrImage: string;

beforeAll(async () => {
  dir = await tempDir('lifeline-layout-');
  gptImage = await makeGptTableImage(dir.path);
  mbrImage = await makeMbrTableImage(dir.path);
}, 60_000);

afterAll(async () => {
  await dir.cleanup();
});

describe('DRIVE_LAYOUT_INFORMATION_EX for a GPT disk (sgdisk)', () => {
  it('puts every field where koffi finds it, with the values sgdisk reports', async () => {
    const table = (await tableOf(gptImage)) as GptTable;
    const buffer = encodeDriveLayout(driveLayoutFor(table, 512));
    expect(buffer.length).toBe(S.driveLayoutSize(4));
    const header = headerOf(buffer);
    expect([header.PartitionStyle, header.PartitionCount, guidText(header.u.Gpt.DiskId), header.u.Gpt.MaxPartitionCount]).toEqual([S.PARTITION_STYLE.GPT, 4, DISK_GUID, 128]);
    const json = await sfdiskJson(gptImage);
    expect(BigInt(header.u.Gpt.StartingUsableOffset)).toBe(BigInt(json.firstlba!) * 512n);
    expect(BigInt(header.u.Gpt.UsableLength)).toBe(BigInt(json.lastlba! - json.firstlba! + 1) * 512n);
    for (let i = 0; i < 4; i++) {
      const e = entryAt(buffer, i);
      const tool = await sgdiskInfo(gptImage, i + 1);
      expect({
        style: e.PartitionStyle, number: e.PartitionNumber, rewrite: e.RewritePartition, service: e.IsServicePartition,
        start: BigInt(e.StartingOffset), length: BigInt(e.PartitionLength),
        type: guidText(e.u.Gpt.PartitionType), id: guidText(e.u.Gpt.PartitionId), attributes: BigInt(e.u.Gpt.Attributes), name: e.u.Gpt.Name,
      }).toEqual({
        style: S.PARTITION_STYLE.GPT, number: i + 1, rewrite: 1, service: 0,
        start: tool.firstLba * 512n, length: (tool.lastLba - tool.firstLba + 1n) * 512n,
        type: tool.typeGuid, id: tool.uniqueGuid, attributes: tool.attributes, name: tool.name,
      });
    }
    expect(BigInt(entryAt(buffer, 3).u.Gpt.Attributes)).toBe(0x8000000000000001n);
  });

  it('makes CREATE_DISK with the disk GUID and entry count', async () => {
    const table = (await tableOf(gptImage)) as GptTable;
    const cd = encodeCreateDisk(table);
    expect(cd.length).toBe(koffi.sizeof(S.CREATE_DISK));
    const decoded = koffi.decode(cd, S.CREATE_DISK) as { PartitionStyle: number; u: { Gpt: { DiskId: KGuid; MaxPartitionCount: number } } };
    expect([decoded.PartitionStyle, guidText(decoded.u.Gpt.DiskId), decoded.u.Gpt.MaxPartitionCount]).toEqual([1, DISK_GUID, 128]);
  });

  it('round-trips buffer → table without losing anything Windows keeps', async () => {
    const table = (await tableOf(gptImage)) as GptTable;
    const layout = driveLayoutFor(table, 512);
    expect(decodeDriveLayout(encodeDriveLayout(layout))).toEqual(layout);
    const back = tableFromDriveLayout(decodeDriveLayout(encodeDriveLayout(layout)), 512);
    expect(compareTables(table, back)).toEqual([]);
    expect(layoutProblems(table, geometryOf(DISK_BYTES))).toEqual([]);
  });
});

describe('DRIVE_LAYOUT_INFORMATION_EX for an MBR disk with logical partitions (sfdisk)', () => {
  it('lays out one group of four entries per table sector, as sfdisk wrote the chain', async () => {
    const table = (await tableOf(mbrImage)) as MbrTable;
    const buffer = encodeDriveLayout(driveLayoutFor(table, 512));
    const header = headerOf(buffer);
    expect([header.PartitionStyle, header.PartitionCount, header.u.Mbr.Signature]).toEqual([S.PARTITION_STYLE.MBR, 16, 0x4c1f3e2d]);
    const json = await sfdiskJson(mbrImage);
    const byNumber = new Map(json.partitions.map((p) => [Number(/(\d+)$/.exec(p.node)![1]), p]));
    // Group 0: the MBR's slots 1–3 (slot 4 unused).
    for (const slot of [1, 2, 3]) {
      const e = entryAt(buffer, slot - 1);
      const p = byNumber.get(slot)!;
      expect([BigInt(e.StartingOffset), BigInt(e.PartitionLength), e.u.Mbr.PartitionType, e.u.Mbr.BootIndicator, e.u.Mbr.HiddenSectors, e.RewritePartition])
        .toEqual([BigInt(p.start) * 512n, BigInt(p.size) * 512n, Number.parseInt(p.type, 16), p.bootable === true ? 1 : 0, p.start, 1]);
    }
    expect([entryAt(buffer, 0).u.Mbr.RecognizedPartition, entryAt(buffer, 2).u.Mbr.RecognizedPartition, entryAt(buffer, 2).PartitionNumber]).toEqual([1, 0, 0]);
    expect(entryAt(buffer, 3).u.Mbr.PartitionType).toBe(0);
    // Groups 1–3: each EBR's logical partition, and the link to the next EBR.
    let ebrOffset = BigInt(entryAt(buffer, 2).StartingOffset);
    const extendedStart = ebrOffset / 512n;
    for (const [group, number] of [[1, 5], [2, 6], [3, 7]] as const) {
      const logical = entryAt(buffer, 4 * group);
      const p = byNumber.get(number)!;
      expect([BigInt(logical.StartingOffset), BigInt(logical.PartitionLength), logical.u.Mbr.PartitionType, logical.PartitionNumber])
        .toEqual([BigInt(p.start) * 512n, BigInt(p.size) * 512n, Number.parseInt(p.type, 16), number]);
      // The EBR sfdisk wrote at this group's table sector stores exactly these relative values.
      const ebr = new DataView((await readBytes(mbrImage, ebrOffset, 512)).buffer);
      expect([ebr.getUint16(510, true), ebr.getUint32(446 + 8, true)]).toEqual([0xaa55, logical.u.Mbr.HiddenSectors]);
      expect(ebrOffset / 512n + BigInt(logical.u.Mbr.HiddenSectors)).toBe(BigInt(p.start));
      const link = entryAt(buffer, 4 * group + 1);
      if (group < 3) {
        expect([link.u.Mbr.PartitionType, ebr.getUint32(446 + 16 + 8, true)]).toEqual([0x05, link.u.Mbr.HiddenSectors]);
        expect(BigInt(link.StartingOffset) / 512n - extendedStart).toBe(BigInt(link.u.Mbr.HiddenSectors));
        ebrOffset = BigInt(link.StartingOffset);
      } else {
        expect(link.u.Mbr.PartitionType).toBe(0);
      }
    }
  });

  it('makes CREATE_DISK with the signature and round-trips the table', async () => {
    const table = (await tableOf(mbrImage)) as MbrTable;
    const decoded = koffi.decode(encodeCreateDisk(table), S.CREATE_DISK) as { PartitionStyle: number; u: { Mbr: { Signature: number } } };
    expect([decoded.PartitionStyle, decoded.u.Mbr.Signature]).toEqual([0, 0x4c1f3e2d]);
    const back = tableFromDriveLayout(decodeDriveLayout(encodeDriveLayout(driveLayoutFor(table, 512))), 512) as MbrTable;
    expect(compareTables(table, back, { checkBootCode: false })).toEqual([]);
    expect(back.ebrLbas).toEqual(table.ebrLbas);
  });
});

describe('reading what Windows answers', () => {
  it('decodes a GET_DRIVE_LAYOUT_EX answer built by koffi (ordinal numbers, no rewrite flags, unused trailing entries)', () => {
    const count = 3;
    const buffer = new Uint8Array(S.driveLayoutSize(count));
    koffi.encode(buffer, S.DRIVE_LAYOUT_INFORMATION_EX, {
      PartitionStyle: 1, PartitionCount: count,
      u: { Gpt: { DiskId: { Data1: 0x12345678, Data2: 0x9abc, Data3: 0xdef0, Data4: [1, 2, 3, 4, 5, 6, 7, 8] }, StartingUsableOffset: 17408n, UsableLength: 1048576n * 100n, MaxPartitionCount: 128 } },
      PartitionEntry: [],
    });
    const entry = (i: number, start: bigint, name: string) => koffi.encode(buffer, HEADER + STRIDE * i, S.PARTITION_INFORMATION_EX, {
      PartitionStyle: 1, StartingOffset: start, PartitionLength: 1048576n, PartitionNumber: i + 1, RewritePartition: 0, IsServicePartition: 0,
      u: { Gpt: { PartitionType: { Data1: 0xebd0a0a2, Data2: 0xb9e5, Data3: 0x4433, Data4: [0x87, 0xc0, 0x68, 0xb6, 0xb7, 0x26, 0x99, 0xc7] }, PartitionId: { Data1: i + 1, Data2: 0, Data3: 0, Data4: [0, 0, 0, 0, 0, 0, 0, i + 1] }, Attributes: BigInt(i) << 62n, Name: name } },
    });
    entry(0, 1048576n, 'Basic data partition');
    // koffi NUL-terminates char16_t[36], so 35 units is the longest name it encodes (Windows allows 36).
    entry(1, 3145728n, 'x'.repeat(35));
    const layout = decodeDriveLayout(buffer);
    const table = tableFromDriveLayout(layout, 512) as GptTable;
    expect(table.diskGuid).toBe('12345678-9abc-def0-0102-030405060708');
    expect([table.firstUsableLba, table.lastUsableLba, table.numberOfEntries]).toEqual([34n, 34n + 204800n - 1n, 128]);
    expect(table.partitions.map((p) => [p.number, p.uniqueGuid, p.firstLba, p.lastLba, p.attributes, p.name])).toEqual([
      [1, '00000001-0000-0000-0000-000000000001', 2048n, 4095n, 0n, 'Basic data partition'],
      [2, '00000002-0000-0000-0000-000000000002', 6144n, 8191n, 1n << 62n, 'x'.repeat(35)],
    ]);
  });

  it('refuses an answer shorter than its entry count', () => {
    const buffer = encodeDriveLayout({ style: 'raw', entries: [] });
    new DataView(buffer.buffer).setUint32(4, 2, true);
    expect(() => decodeDriveLayout(buffer)).toThrow(/2 entries/);
    expect(() => decodeDriveLayout(new Uint8Array(40))).toThrow(/needs 48 bytes/);
  });
});

describe('GPT round trips (property)', () => {
  const guid = fc.uuid().map((g) => g.toLowerCase());
  const unit = fc.integer({ min: 1, max: 0xffff }).map((c) => String.fromCharCode(c));
  const partition = fc.record({ size: fc.bigInt({ min: 1n, max: 5000n }), gap: fc.bigInt({ min: 0n, max: 3000n }), type: guid, id: guid, attributes: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), name: fc.string({ unit, maxLength: 36 }) });

  it('keeps every field of random tables, 512- and 4096-byte sectors', () => {
    fc.assert(fc.property(fc.constantFrom<SectorSize>(512, 4096), guid, fc.array(partition, { minLength: 1, maxLength: 12 }), (sector, diskGuid, parts) => {
      let lba = sector === 512 ? 34n : 6n;
      const partitions = parts.map((p, i) => {
        const firstLba = lba + p.gap;
        lba = firstLba + p.size;
        return { number: i + 1, typeGuid: p.type, uniqueGuid: p.id, firstLba, lastLba: firstLba + p.size - 1n, attributes: p.attributes, name: p.name };
      });
      const table: GptTable = { style: 'gpt', sectorSize: sector, diskGuid, firstUsableLba: sector === 512 ? 34n : 6n, lastUsableLba: lba + 10n, numberOfEntries: 128, sizeOfEntry: 128, partitions };
      const layout = driveLayoutFor(table, sector);
      const back = tableFromDriveLayout(decodeDriveLayout(encodeDriveLayout(layout)), sector);
      expect(back).toEqual(table);
    }), { numRuns: 200 });
  });
});

describe('what the IOCTL path cannot write', () => {
  const geometry = geometryOf(DISK_BYTES);
  const last = DISK_BYTES / 512n - 1n;
  const gpt = (partitions: GptTable['partitions'], extra: Partial<GptTable> = {}): GptTable => ({
    style: 'gpt', sectorSize: 512, diskGuid: DISK_GUID, firstUsableLba: 34n, lastUsableLba: last - 33n, numberOfEntries: 128, sizeOfEntry: 128, partitions, ...extra,
  });
  const part = (number: number, firstLba: bigint, lastLba: bigint) => ({ number, typeGuid: 'ebd0a0a2-b9e5-4433-87c0-68b6b72699c7', uniqueGuid: `0c1d2e3f-000${number}-4a4b-8c8d-00000000000${number}`, firstLba, lastLba, attributes: 0n, name: '' });
  const codes = (t: PartitionTable) => layoutProblems(t, geometry).map((p) => `${p.severity}:${p.code}`);

  it('reports renumbering, short entry arrays, odd entry sizes and partitions outside Windows\' usable area', () => {
    expect(codes(gpt([part(1, 2048n, 4095n), part(3, 4096n, 8191n)]))).toEqual(['warning:layout.gpt-renumbered']);
    expect(codes(gpt([part(1, 2048n, 4095n)], { numberOfEntries: 64 }))).toEqual(['warning:layout.gpt-entry-count']);
    expect(codes(gpt([part(1, 2048n, 4095n)], { sizeOfEntry: 256 }))).toEqual(['error:layout.gpt-entry-size']);
    expect(codes(gpt([part(1, 2048n, last - 1n)], { lastUsableLba: last - 1n }))).toEqual(['error:layout.gpt-outside-usable']);
    expect(codes(gpt([part(1, 2048n, 4095n)], { sectorSize: 4096 }))).toContain('error:layout.sector-size');
  });

  it('refuses hybrid MBRs and EBR chains that do not start at the extended partition', async () => {
    const table = (await tableOf(mbrImage)) as MbrTable;
    expect(codes(table)).toEqual([]);
    const hybrid: MbrTable = { ...table, primary: table.primary.map((e) => (e.number === 4 ? { ...e, type: 0xee, startLba: 1n, sectorCount: 2047n } : e)) };
    expect(codes(hybrid)).toContain('error:layout.mbr-protective');
    expect(codes({ ...table, ebrLbas: [table.ebrLbas[0]! + 1n, ...table.ebrLbas.slice(1)] })).toContain('error:layout.ebr-position');
    expect(codes({ ...table, primary: table.primary.map((e) => (e.number === 2 ? { ...e, status: 0x81 } : e)) })).toEqual(['warning:layout.mbr-status']);
  });
});
