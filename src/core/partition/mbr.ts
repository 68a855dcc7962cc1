/*
 * MBR and EBR sectors (IBM PC boot sector; util-linux include/pt-mbr.h). Little-endian.
 *  off  len field
 *    0  440 boot code            kept byte-for-byte
 *  440    4 disk signature       u32, referenced by BCD and MountedDevices
 *  444    2 reserved             normally 0 (0x5A5A: copy-protected)
 *  446 4×16 partition entries    slots 1–4
 *  510    2 boot signature       0x55 0xAA
 * Entry (16 bytes):
 *   +0 1 status (0x80 active) · +1 3 CHS first · +4 1 type · +5 3 CHS last · +8 4 start LBA · +12 4 sector count
 * An EBR has the same layout; entry 0 is its logical partition (start relative to the EBR), entry 1
 * links to the next EBR (start relative to the extended partition's first sector).
 * Only the first 512 bytes of LBA 0 are the MBR, also on 4096-byte-sector disks.
 */
import { RecoveryError } from '../errors.ts';
import { sectorCountOf } from './types.ts';
import type { DiskGeometry, MbrEntry, MbrTable } from './types.ts';

export const MBR_SIZE = 512;
export const BOOT_CODE_SIZE = 440;
const SIGNATURE_OFFSET = 440;
const RESERVED_OFFSET = 444;
const ENTRIES_OFFSET = 446;
const ENTRY_SIZE = 16;
const MAX_U32 = 0xffffffffn;

export const MBR_TYPE = {
  empty: 0x00,
  extendedChs: 0x05,
  fat16: 0x06,
  ntfs: 0x07,
  fat32Chs: 0x0b,
  fat32Lba: 0x0c,
  fat16Lba: 0x0e,
  extendedLba: 0x0f,
  windowsRecovery: 0x27,
  ldm: 0x42,
  linux: 0x83,
  linuxExtended: 0x85,
  gptProtective: 0xee,
  efiSystem: 0xef,
} as const;

export function isExtendedType(type: number): boolean {
  return type === MBR_TYPE.extendedChs || type === MBR_TYPE.extendedLba || type === MBR_TYPE.linuxExtended;
}

/** An unused slot: libfdisk and the Linux kernel treat type 0 as empty whatever the other bytes say. */
export function isEmptyEntry(entry: MbrEntry): boolean {
  return entry.type === 0;
}

function requireSector(sector: Uint8Array): DataView {
  if (sector.length < MBR_SIZE) {
    throw new RecoveryError('partition.short-sector', `an MBR sector needs ${MBR_SIZE} bytes, got ${sector.length}`, {
      data: { length: sector.length },
    });
  }
  return new DataView(sector.buffer, sector.byteOffset, MBR_SIZE);
}

/** Decodes one 16-byte entry; `base` is added to the stored start LBA (0 for the MBR itself). */
function parseEntry(view: DataView, slot: number, number: number, base: bigint): MbrEntry {
  const at = ENTRIES_OFFSET + slot * ENTRY_SIZE;
  const bytes = new Uint8Array(view.buffer, view.byteOffset, MBR_SIZE);
  return {
    number,
    status: view.getUint8(at),
    type: view.getUint8(at + 4),
    startLba: base + BigInt(view.getUint32(at + 8, true)),
    sectorCount: BigInt(view.getUint32(at + 12, true)),
    chsStart: bytes.slice(at + 1, at + 4),
    chsEnd: bytes.slice(at + 5, at + 8),
  };
}

function hasBootSignature(view: DataView): boolean {
  return view.getUint8(510) === 0x55 && view.getUint8(511) === 0xaa;
}

/** Decodes LBA 0. Never throws on content (only on a buffer shorter than 512 bytes); `logical` is empty. */
export function parseMbr(sector0: Uint8Array): MbrTable {
  const view = requireSector(sector0);
  return {
    style: 'mbr',
    bootCode: sector0.slice(0, BOOT_CODE_SIZE),
    diskSignature: view.getUint32(SIGNATURE_OFFSET, true),
    reserved: view.getUint16(RESERVED_OFFSET, true),
    primary: [0, 1, 2, 3].map((slot) => parseEntry(view, slot, slot + 1, 0n)),
    logical: [],
    ebrLbas: [],
    bootSignatureValid: hasBootSignature(view),
  };
}

/** What one EBR says: its logical partition (absolute LBAs) and where the next EBR is. */
export interface ParsedEbr {
  readonly bootSignatureValid: boolean;
  readonly logical?: MbrEntry;
  readonly nextEbrLba?: bigint;
  /** More than one data or link entry (libfdisk warns and uses the first of each). */
  readonly extraEntries: boolean;
}

/**
 * Decodes the EBR at `ebrLba` inside the extended partition starting at `extendedStart`. Like
 * libfdisk, the first non-empty non-extended entry is the logical partition and the first
 * extended-type entry is the link, whatever slots they sit in.
 */
export function parseEbr(sector: Uint8Array, ebrLba: bigint, extendedStart: bigint, number: number): ParsedEbr {
  const view = requireSector(sector);
  let logical: MbrEntry | undefined;
  let nextEbrLba: bigint | undefined;
  let extraEntries = false;
  for (let slot = 0; slot < 4; slot++) {
    const raw = parseEntry(view, slot, number, 0n);
    if (isExtendedType(raw.type)) {
      if (nextEbrLba === undefined) nextEbrLba = extendedStart + raw.startLba;
      else extraEntries = true;
    } else if (raw.type !== 0 && raw.sectorCount > 0n) {
      if (logical === undefined) logical = { ...raw, startLba: ebrLba + raw.startLba };
      else extraEntries = true;
    }
  }
  return {
    bootSignatureValid: hasBootSignature(view),
    ...(logical === undefined ? {} : { logical }),
    ...(nextEbrLba === undefined ? {} : { nextEbrLba }),
    extraEntries,
  };
}

/** CHS triplet for an LBA with the customary 255 heads × 63 sectors; past cylinder 1023 the 1023/254/63 cap. */
export function chsFor(lba: bigint): Uint8Array {
  const heads = 255n;
  const sectors = 63n;
  const cylinder = lba / (heads * sectors);
  if (cylinder > 1023n) return Uint8Array.of(0xfe, 0xff, 0xff);
  const head = (lba / sectors) % heads;
  const sector = (lba % sectors) + 1n;
  const c = Number(cylinder);
  return Uint8Array.of(Number(head), Number(sector) | ((c >> 2) & 0xc0), c & 0xff);
}

/** An entry with CHS values derived from the LBAs, for tables built rather than read. */
export function makeMbrEntry(fields: { number: number; type: number; startLba: bigint; sectorCount: bigint; status?: number }): MbrEntry {
  const end = fields.sectorCount > 0n ? fields.startLba + fields.sectorCount - 1n : fields.startLba;
  return {
    number: fields.number,
    status: fields.status ?? 0,
    type: fields.type,
    startLba: fields.startLba,
    sectorCount: fields.sectorCount,
    chsStart: fields.type === 0 ? new Uint8Array(3) : chsFor(fields.startLba),
    chsEnd: fields.type === 0 ? new Uint8Array(3) : chsFor(end),
  };
}

export function emptyMbrEntry(number: number): MbrEntry {
  return makeMbrEntry({ number, type: 0, startLba: 0n, sectorCount: 0n });
}

function writeEntry(view: DataView, slot: number, entry: MbrEntry, storedStart: bigint): void {
  if (storedStart < 0n || storedStart > MAX_U32 || entry.sectorCount < 0n || entry.sectorCount > MAX_U32) {
    throw new RecoveryError('mbr.lba-overflow', `partition ${entry.number} does not fit the 32-bit MBR fields`, {
      data: { number: entry.number, startLba: String(entry.startLba), sectorCount: String(entry.sectorCount) },
    });
  }
  const at = ENTRIES_OFFSET + slot * ENTRY_SIZE;
  const bytes = new Uint8Array(view.buffer, view.byteOffset, MBR_SIZE);
  view.setUint8(at, entry.status);
  bytes.set(entry.chsStart.subarray(0, 3), at + 1);
  view.setUint8(at + 4, entry.type);
  bytes.set(entry.chsEnd.subarray(0, 3), at + 5);
  view.setUint32(at + 8, Number(storedStart), true);
  view.setUint32(at + 12, Number(entry.sectorCount), true);
}

function newSector(): { bytes: Uint8Array; view: DataView } {
  const bytes = new Uint8Array(MBR_SIZE);
  bytes[510] = 0x55;
  bytes[511] = 0xaa;
  return { bytes, view: new DataView(bytes.buffer) };
}

/**
 * The 512-byte LBA 0 for `table`: boot code, signature, the primary slots placed by their number
 * (1–4) and 0x55AA. A table read with parseMbr re-encodes byte-for-byte (given a valid 0x55AA).
 */
export function encodeMbr(table: MbrTable): Uint8Array {
  const { bytes, view } = newSector();
  bytes.set(table.bootCode.subarray(0, BOOT_CODE_SIZE), 0);
  view.setUint32(SIGNATURE_OFFSET, table.diskSignature >>> 0, true);
  view.setUint16(RESERVED_OFFSET, table.reserved & 0xffff, true);
  const used = new Set<number>();
  for (const entry of table.primary) {
    if (!Number.isInteger(entry.number) || entry.number < 1 || entry.number > 4 || used.has(entry.number)) {
      throw new RecoveryError('mbr.bad-slot', `primary partition number ${entry.number} is not a free slot 1–4`, {
        data: { number: entry.number },
      });
    }
    used.add(entry.number);
    writeEntry(view, entry.number - 1, entry, entry.startLba);
  }
  return bytes;
}

/** The primary extended (container) entry, if any. */
export function extendedEntryOf(table: MbrTable): MbrEntry | undefined {
  return table.primary.find((e) => isExtendedType(e.type) && e.sectorCount > 0n);
}

/**
 * Where the EBR of logical partition `index` lives: as read (`ebrLbas`), else the first sector of
 * the extended partition for the first logical and the sector just before the partition for the rest.
 */
export function ebrLbaOf(table: MbrTable, index: number, extendedStart: bigint): bigint {
  const known = table.ebrLbas[index];
  if (known !== undefined) return known;
  const logical = table.logical[index];
  return index === 0 || logical === undefined ? extendedStart : logical.startLba - 1n;
}

/**
 * The EBR chain for `table.logical`, in chain order. The link to EBR k+1 spans from that EBR to the
 * end of its logical partition (as fdisk and Windows write it). An extended partition without
 * logical partitions gets one empty EBR so no stale chain survives.
 */
export function encodeEbrChain(table: MbrTable): { lba: bigint; sector: Uint8Array }[] {
  const extended = extendedEntryOf(table);
  if (extended === undefined) return [];
  const extStart = extended.startLba;
  if (table.logical.length === 0) return [{ lba: extStart, sector: newSector().bytes }];
  return table.logical.map((logical, i) => {
    const ebrLba = ebrLbaOf(table, i, extStart);
    const { bytes, view } = newSector();
    writeEntry(view, 0, logical, logical.startLba - ebrLba);
    const next = table.logical[i + 1];
    if (next !== undefined) {
      const nextEbr = ebrLbaOf(table, i + 1, extStart);
      const link = makeMbrEntry({
        number: next.number,
        type: MBR_TYPE.extendedChs,
        startLba: nextEbr,
        sectorCount: next.startLba + next.sectorCount - nextEbr,
      });
      writeEntry(view, 1, link, nextEbr - extStart);
    }
    return { lba: ebrLba, sector: bytes };
  });
}

/** A GPT protective (0xEE) entry is present: the disk is GPT (pure or hybrid) to every OS we care about. */
export function isProtectiveMbr(table: MbrTable): boolean {
  return table.primary.some((e) => e.type === MBR_TYPE.gptProtective);
}

/** A protective entry plus other non-empty entries (gdisk's "hybrid MBR"). */
export function isHybridMbr(table: MbrTable): boolean {
  return isProtectiveMbr(table) && table.primary.some((e) => !isEmptyEntry(e) && e.type !== MBR_TYPE.gptProtective);
}

/** Size of the protective entry for a disk: everything after LBA 0, capped at the u32 limit (UEFI §5.2.3). */
export function protectiveSectorCount(geometry: DiskGeometry): bigint {
  const rest = sectorCountOf(geometry) - 1n;
  return rest > MAX_U32 ? MAX_U32 : rest < 0n ? 0n : rest;
}

/**
 * A fresh protective MBR (UEFI §5.2.3, util-linux gpt_mknew_pmbr): one 0xEE entry from LBA 1 over
 * the whole disk, start CHS 0/0/2, end CHS capped, signature 0. `keepBootCode` keeps a boot loader.
 */
export function protectiveMbrFor(geometry: DiskGeometry, keepBootCode?: Uint8Array): MbrTable {
  const bootCode = new Uint8Array(BOOT_CODE_SIZE);
  if (keepBootCode !== undefined) bootCode.set(keepBootCode.subarray(0, BOOT_CODE_SIZE));
  const count = protectiveSectorCount(geometry);
  const entry: MbrEntry = {
    number: 1,
    status: 0,
    type: MBR_TYPE.gptProtective,
    startLba: 1n,
    sectorCount: count,
    chsStart: Uint8Array.of(0x00, 0x02, 0x00),
    chsEnd: chsFor(count),
  };
  return {
    style: 'mbr',
    bootCode,
    diskSignature: 0,
    reserved: 0,
    primary: [entry, emptyMbrEntry(2), emptyMbrEntry(3), emptyMbrEntry(4)],
    logical: [],
    ebrLbas: [],
    bootSignatureValid: true,
  };
}
