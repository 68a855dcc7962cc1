/**
 * A partition table from our codecs as the buffers Windows takes to write it itself (reference
 * §2.7, §4.4): IOCTL_DISK_CREATE_DISK then IOCTL_DISK_SET_DRIVE_LAYOUT_EX. Pure: bytes in, bytes
 * out; layout-apply.ts sends them. x64 offsets (reference §2.5, checked against structs.ts):
 *
 *  DRIVE_LAYOUT_INFORMATION_EX     0 PartitionStyle (0 MBR, 1 GPT, 2 RAW) · 4 PartitionCount
 *    MBR union at 8                8 Signature · 12 CheckSum
 *    GPT union at 8                8 DiskId · 24 StartingUsableOffset · 32 UsableLength · 40 MaxPartitionCount
 *    PartitionEntry[i] at 48 + 144·i
 *  PARTITION_INFORMATION_EX (144)  0 PartitionStyle · 8 StartingOffset · 16 PartitionLength (bytes)
 *                                  24 PartitionNumber · 28 RewritePartition · 29 IsServicePartition
 *    MBR union at 32               32 PartitionType · 33 BootIndicator · 34 RecognizedPartition · 36 HiddenSectors · 40 PartitionId
 *    GPT union at 32               32 PartitionType · 48 PartitionId · 64 Attributes · 72 Name (WCHAR[36])
 *  CREATE_DISK (24)                0 PartitionStyle · 4 Mbr.Signature | 4 Gpt.DiskId · 20 Gpt.MaxPartitionCount
 *
 * MBR layouts come in groups of four entries, one group per table sector, as Windows reads and
 * writes them: group 0 is the MBR's four slots; group k (k ≥ 1) is the k-th EBR, whose entry 0 is
 * its logical partition and entry 1 the link (type 0x05) to the next EBR. A container entry's
 * StartingOffset tells where the next group's sector is. All offsets are absolute bytes;
 * HiddenSectors is what the table sector stores (relative start).
 * GPT layouts list the used partitions in slot order: Windows packs them into entries 1..n.
 */
import { RecoveryError } from '../../core/errors.ts';
import { GPT_ENTRY_SIZE, GPT_NAME_UNITS, gptLayoutFor } from '../../core/partition/gpt.ts';
import { ZERO_GUID, guidFromBytes, guidToBytes } from '../../core/partition/guid.ts';
import { MBR_TYPE, ebrLbaOf, extendedEntryOf, isEmptyEntry, isExtendedType, isHybridMbr, isProtectiveMbr, makeMbrEntry } from '../../core/partition/mbr.ts';
import type { DiskGeometry, GptPartition, GptTable, MbrEntry, MbrTable, PartitionTable, Problem } from '../../core/partition/types.ts';
import type { SectorSize } from '../../core/units.ts';

export const LAYOUT_HEADER_BYTES = 48;
export const LAYOUT_ENTRY_BYTES = 144;
export const CREATE_DISK_BYTES = 24;
const STYLE = { mbr: 0, gpt: 1, raw: 2 } as const;

export interface MbrEntryInfo {
  readonly partitionType: number;
  readonly bootIndicator: boolean;
  readonly recognizedPartition: boolean;
  readonly hiddenSectors: number;
}

export interface GptEntryInfo {
  readonly partitionType: string;
  readonly partitionId: string;
  readonly attributes: bigint;
  readonly name: string;
}

/** One PARTITION_INFORMATION_EX. */
export interface LayoutEntry {
  readonly startingOffset: bigint;
  readonly partitionLength: bigint;
  readonly partitionNumber: number;
  readonly rewritePartition: boolean;
  readonly isServicePartition: boolean;
  readonly mbr?: MbrEntryInfo;
  readonly gpt?: GptEntryInfo;
}

export type DriveLayout =
  | { readonly style: 'mbr'; readonly signature: number; readonly checkSum: number; readonly entries: readonly LayoutEntry[] }
  | {
    readonly style: 'gpt'; readonly diskId: string; readonly startingUsableOffset: bigint; readonly usableLength: bigint;
    readonly maxPartitionCount: number; readonly entries: readonly LayoutEntry[];
  }
  | { readonly style: 'raw'; readonly entries: readonly LayoutEntry[] };

// ---------------------------------------------------------------- table → layout

const UNUSED_MBR: LayoutEntry = {
  startingOffset: 0n, partitionLength: 0n, partitionNumber: 0, rewritePartition: true, isServicePartition: false,
  mbr: { partitionType: 0, bootIndicator: false, recognizedPartition: false, hiddenSectors: 0 },
};

function mbrLayoutEntry(e: MbrEntry, ss: bigint, number: number, hiddenSectors: bigint): LayoutEntry {
  const container = isExtendedType(e.type);
  return {
    startingOffset: e.startLba * ss, partitionLength: e.sectorCount * ss, partitionNumber: container ? 0 : number,
    rewritePartition: true, isServicePartition: false,
    mbr: { partitionType: e.type, bootIndicator: e.status === 0x80, recognizedPartition: !container, hiddenSectors: Number(hiddenSectors) },
  };
}

function mbrDriveLayout(table: MbrTable, ss: bigint): DriveLayout {
  const group0 = [1, 2, 3, 4].map((slot) => {
    const e = table.primary.find((p) => p.number === slot);
    return e === undefined || isEmptyEntry(e) ? UNUSED_MBR : mbrLayoutEntry(e, ss, slot, e.startLba);
  });
  const entries = [...group0];
  const extended = extendedEntryOf(table);
  if (extended !== undefined && table.logical.length === 0) entries.push(UNUSED_MBR, UNUSED_MBR, UNUSED_MBR, UNUSED_MBR);
  if (extended !== undefined) {
    table.logical.forEach((logical, i) => {
      const ebr = ebrLbaOf(table, i, extended.startLba);
      const next = table.logical[i + 1];
      let link = UNUSED_MBR;
      if (next !== undefined) {
        const nextEbr = ebrLbaOf(table, i + 1, extended.startLba);
        const span = makeMbrEntry({ number: 0, type: MBR_TYPE.extendedChs, startLba: nextEbr, sectorCount: next.startLba + next.sectorCount - nextEbr });
        link = mbrLayoutEntry(span, ss, 0, nextEbr - extended.startLba);
      }
      entries.push(mbrLayoutEntry(logical, ss, logical.number, logical.startLba - ebr), link, UNUSED_MBR, UNUSED_MBR);
    });
  }
  return { style: 'mbr', signature: table.diskSignature >>> 0, checkSum: 0, entries };
}

function gptLayoutEntry(p: GptPartition, ss: bigint): LayoutEntry {
  return {
    startingOffset: p.firstLba * ss, partitionLength: (p.lastLba - p.firstLba + 1n) * ss, partitionNumber: p.number,
    rewritePartition: true, isServicePartition: false,
    gpt: { partitionType: p.typeGuid, partitionId: p.uniqueGuid, attributes: p.attributes, name: p.name },
  };
}

function gptDriveLayout(table: GptTable, ss: bigint): DriveLayout {
  const partitions = [...table.partitions].sort((a, b) => a.number - b.number);
  return {
    style: 'gpt', diskId: table.diskGuid, startingUsableOffset: table.firstUsableLba * ss,
    usableLength: (table.lastUsableLba - table.firstUsableLba + 1n) * ss, maxPartitionCount: table.numberOfEntries,
    entries: partitions.map((p) => gptLayoutEntry(p, ss)),
  };
}

/** The layout that makes Windows write `table` (check `layoutProblems` first). */
export function driveLayoutFor(table: PartitionTable, sectorSize: SectorSize): DriveLayout {
  const ss = BigInt(sectorSize);
  return table.style === 'mbr' ? mbrDriveLayout(table, ss) : gptDriveLayout(table, ss);
}

/**
 * What the IOCTL path cannot reproduce of `table` on a disk of `geometry`. Errors mean the table
 * must be written another way (raw sectors); warnings say what Windows will do differently.
 */
export function layoutProblems(table: PartitionTable, geometry: DiskGeometry): Problem[] {
  const out: Problem[] = [];
  const add = (code: string, severity: Problem['severity'], message: string) => out.push({ code, severity, message });
  if (table.style === 'mbr') {
    if (isProtectiveMbr(table)) add('layout.mbr-protective', 'error', 'an MBR table with a GPT protective (0xEE) entry is a hybrid disk; IOCTLs cannot write it');
    const extended = extendedEntryOf(table);
    if (extended !== undefined && table.ebrLbas.length > 0 && table.ebrLbas[0] !== extended.startLba) {
      add('layout.ebr-position', 'error', `the first EBR is at LBA ${table.ebrLbas[0]}, not at the extended partition's start ${extended.startLba}`);
    }
    const odd = [...table.primary, ...table.logical].filter((e) => !isEmptyEntry(e) && e.status !== 0 && e.status !== 0x80);
    if (odd.length > 0) add('layout.mbr-status', 'warning', `boot indicators other than 0x00/0x80 become 0x80 (partitions ${odd.map((e) => e.number).join(', ')})`);
    return out;
  }
  if (table.sizeOfEntry !== GPT_ENTRY_SIZE) add('layout.gpt-entry-size', 'error', `Windows writes ${GPT_ENTRY_SIZE}-byte entries, the table has ${table.sizeOfEntry}`);
  if (table.sectorSize !== geometry.logicalSectorSize) add('layout.sector-size', 'error', `the table counts ${table.sectorSize}-byte sectors, the disk has ${geometry.logicalSectorSize}`);
  const numbers = [...table.partitions].map((p) => p.number).sort((a, b) => a - b);
  if (numbers.some((n, i) => n !== i + 1)) add('layout.gpt-renumbered', 'warning', `partition numbers ${numbers.join(', ')} become 1–${numbers.length}: Windows packs the entry array`);
  if (table.numberOfEntries < 128) add('layout.gpt-entry-count', 'warning', `Windows makes at least 128 entries (the table has ${table.numberOfEntries})`);
  if (table.protectiveMbr !== undefined && isHybridMbr(table.protectiveMbr)) add('layout.hybrid-mbr-dropped', 'warning', 'the hybrid MBR becomes a plain protective MBR');
  // Windows places the usable area itself, from the entry array size (ReactOS fstubex.c does the same).
  const windows = gptLayoutFor(geometry, Math.max(128, table.numberOfEntries), GPT_ENTRY_SIZE);
  const outside = table.partitions.filter((p) => p.firstLba < windows.minFirstUsableLba || p.lastLba > windows.maxLastUsableLba);
  if (outside.length > 0) {
    add('layout.gpt-outside-usable', 'error', `partitions ${outside.map((p) => p.number).join(', ')} lie outside LBAs ${windows.minFirstUsableLba}–${windows.maxLastUsableLba}, the usable area Windows will write`);
  }
  return out;
}

// ---------------------------------------------------------------- layout ↔ bytes

function writeGuid(bytes: Uint8Array, at: number, guid: string): void {
  bytes.set(guidToBytes(guid), at);
}

function encodeEntry(view: DataView, bytes: Uint8Array, at: number, e: LayoutEntry): void {
  view.setUint32(at, e.gpt !== undefined ? STYLE.gpt : STYLE.mbr, true);
  view.setBigInt64(at + 8, e.startingOffset, true);
  view.setBigInt64(at + 16, e.partitionLength, true);
  view.setUint32(at + 24, e.partitionNumber, true);
  view.setUint8(at + 28, e.rewritePartition ? 1 : 0);
  view.setUint8(at + 29, e.isServicePartition ? 1 : 0);
  if (e.gpt !== undefined) {
    writeGuid(bytes, at + 32, e.gpt.partitionType);
    writeGuid(bytes, at + 48, e.gpt.partitionId);
    view.setBigUint64(at + 64, e.gpt.attributes, true);
    const name = e.gpt.name.slice(0, GPT_NAME_UNITS);
    for (let i = 0; i < name.length; i++) view.setUint16(at + 72 + 2 * i, name.charCodeAt(i), true);
  } else if (e.mbr !== undefined) {
    view.setUint8(at + 32, e.mbr.partitionType);
    view.setUint8(at + 33, e.mbr.bootIndicator ? 1 : 0);
    view.setUint8(at + 34, e.mbr.recognizedPartition ? 1 : 0);
    view.setUint32(at + 36, e.mbr.hiddenSectors >>> 0, true);
  }
}

export function encodeDriveLayout(layout: DriveLayout): Uint8Array {
  const bytes = new Uint8Array(LAYOUT_HEADER_BYTES + LAYOUT_ENTRY_BYTES * layout.entries.length);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, STYLE[layout.style], true);
  view.setUint32(4, layout.entries.length, true);
  if (layout.style === 'mbr') {
    view.setUint32(8, layout.signature >>> 0, true);
    view.setUint32(12, layout.checkSum >>> 0, true);
  } else if (layout.style === 'gpt') {
    writeGuid(bytes, 8, layout.diskId);
    view.setBigInt64(24, layout.startingUsableOffset, true);
    view.setBigInt64(32, layout.usableLength, true);
    view.setUint32(40, layout.maxPartitionCount, true);
  }
  layout.entries.forEach((e, i) => encodeEntry(view, bytes, LAYOUT_HEADER_BYTES + LAYOUT_ENTRY_BYTES * i, e));
  return bytes;
}

function decodeName(view: DataView, at: number): string {
  let name = '';
  for (let i = 0; i < GPT_NAME_UNITS; i++) {
    const unit = view.getUint16(at + 2 * i, true);
    if (unit === 0) break;
    name += String.fromCharCode(unit);
  }
  return name;
}

function decodeEntry(view: DataView, bytes: Uint8Array, at: number): LayoutEntry {
  const style = view.getUint32(at, true);
  const common = {
    startingOffset: view.getBigInt64(at + 8, true), partitionLength: view.getBigInt64(at + 16, true),
    partitionNumber: view.getUint32(at + 24, true), rewritePartition: view.getUint8(at + 28) !== 0, isServicePartition: view.getUint8(at + 29) !== 0,
  };
  if (style === STYLE.gpt) {
    return {
      ...common,
      gpt: { partitionType: guidFromBytes(bytes, at + 32), partitionId: guidFromBytes(bytes, at + 48), attributes: view.getBigUint64(at + 64, true), name: decodeName(view, at + 72) },
    };
  }
  return {
    ...common,
    mbr: { partitionType: view.getUint8(at + 32), bootIndicator: view.getUint8(at + 33) !== 0, recognizedPartition: view.getUint8(at + 34) !== 0, hiddenSectors: view.getUint32(at + 36, true) },
  };
}

/** Decodes what IOCTL_DISK_GET_DRIVE_LAYOUT_EX returned (or what encodeDriveLayout made). */
export function decodeDriveLayout(bytes: Uint8Array): DriveLayout {
  if (bytes.length < LAYOUT_HEADER_BYTES) {
    throw new RecoveryError('win32.short-answer', `DRIVE_LAYOUT_INFORMATION_EX needs ${LAYOUT_HEADER_BYTES} bytes, got ${bytes.length}`, { data: { got: bytes.length } });
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const style = view.getUint32(0, true);
  const count = view.getUint32(4, true);
  if (bytes.length < LAYOUT_HEADER_BYTES + LAYOUT_ENTRY_BYTES * count) {
    throw new RecoveryError('win32.short-answer', `DRIVE_LAYOUT_INFORMATION_EX with ${count} entries is longer than the ${bytes.length} bytes returned`, { data: { count, got: bytes.length } });
  }
  const entries = Array.from({ length: count }, (_, i) => decodeEntry(view, bytes, LAYOUT_HEADER_BYTES + LAYOUT_ENTRY_BYTES * i));
  if (style === STYLE.mbr) return { style: 'mbr', signature: view.getUint32(8, true), checkSum: view.getUint32(12, true), entries };
  if (style === STYLE.gpt) {
    return {
      style: 'gpt', diskId: guidFromBytes(bytes, 8), startingUsableOffset: view.getBigInt64(24, true), usableLength: view.getBigInt64(32, true),
      maxPartitionCount: view.getUint32(40, true), entries,
    };
  }
  return { style: 'raw', entries };
}

/** CREATE_DISK for `table`'s style and identity: MBR signature, or GPT disk GUID and entry count. */
export function encodeCreateDisk(table: PartitionTable): Uint8Array {
  const bytes = new Uint8Array(CREATE_DISK_BYTES);
  const view = new DataView(bytes.buffer);
  if (table.style === 'mbr') {
    view.setUint32(0, STYLE.mbr, true);
    view.setUint32(4, table.diskSignature >>> 0, true);
  } else {
    view.setUint32(0, STYLE.gpt, true);
    writeGuid(bytes, 4, table.diskGuid);
    view.setUint32(20, table.numberOfEntries, true);
  }
  return bytes;
}

// ---------------------------------------------------------------- layout → table

function mbrFromLayout(layout: Extract<DriveLayout, { style: 'mbr' }>, ss: bigint): MbrTable {
  const groups: LayoutEntry[][] = [];
  for (let i = 0; i < layout.entries.length; i += 4) groups.push(layout.entries.slice(i, i + 4));
  const toEntry = (e: LayoutEntry, number: number): MbrEntry => makeMbrEntry({
    number, type: e.mbr?.partitionType ?? 0, startLba: e.startingOffset / ss, sectorCount: e.partitionLength / ss, status: e.mbr?.bootIndicator === true ? 0x80 : 0,
  });
  const primary = [0, 1, 2, 3].map((slot) => {
    const e = groups[0]?.[slot];
    return e === undefined || (e.mbr?.partitionType ?? 0) === 0 ? makeMbrEntry({ number: slot + 1, type: 0, startLba: 0n, sectorCount: 0n }) : toEntry(e, slot + 1);
  });
  const logical: MbrEntry[] = [];
  const ebrLbas: bigint[] = [];
  // Each group's table sector is where the previous group's container entry points.
  let sector = groups[0]?.find((e) => isExtendedType(e.mbr?.partitionType ?? 0))?.startingOffset;
  for (const group of groups.slice(1)) {
    if (sector === undefined) break;
    const data = group.find((e) => (e.mbr?.partitionType ?? 0) !== 0 && !isExtendedType(e.mbr?.partitionType ?? 0));
    if (data !== undefined) {
      logical.push(toEntry(data, 5 + logical.length));
      ebrLbas.push(sector / ss);
    }
    sector = group.find((e) => isExtendedType(e.mbr?.partitionType ?? 0))?.startingOffset;
  }
  return {
    style: 'mbr', bootCode: new Uint8Array(440), diskSignature: layout.signature, reserved: 0,
    primary, logical, ebrLbas, bootSignatureValid: true,
  };
}

function gptFromLayout(layout: Extract<DriveLayout, { style: 'gpt' }>, sectorSize: SectorSize): GptTable {
  const ss = BigInt(sectorSize);
  const used = layout.entries.filter((e) => e.gpt !== undefined && e.gpt.partitionType !== ZERO_GUID);
  return {
    style: 'gpt', sectorSize, diskGuid: layout.diskId,
    firstUsableLba: layout.startingUsableOffset / ss,
    lastUsableLba: (layout.startingUsableOffset + layout.usableLength) / ss - 1n,
    numberOfEntries: layout.maxPartitionCount, sizeOfEntry: GPT_ENTRY_SIZE,
    partitions: used.map((e, i) => ({
      number: e.partitionNumber === 0 ? i + 1 : e.partitionNumber,
      typeGuid: e.gpt!.partitionType, uniqueGuid: e.gpt!.partitionId,
      firstLba: e.startingOffset / ss, lastLba: (e.startingOffset + e.partitionLength) / ss - 1n,
      attributes: e.gpt!.attributes, name: e.gpt!.name,
    })).sort((a, b) => a.number - b.number),
  };
}

/** The table a layout describes (boot code unknown: zeros); undefined for a RAW disk. */
export function tableFromDriveLayout(layout: DriveLayout, sectorSize: SectorSize): PartitionTable | undefined {
  if (layout.style === 'mbr') return mbrFromLayout(layout, BigInt(sectorSize));
  if (layout.style === 'gpt') return gptFromLayout(layout, sectorSize);
  return undefined;
}
