/*
 * GUID Partition Table, UEFI 2.x §5.3. All integers little-endian.
 * Header (LBA 1, backup at the last LBA):
 *  off len field
 *    0   8 signature            "EFI PART"
 *    8   4 revision             0x00010000
 *   12   4 headerSize           92 (≥ 92, ≤ logical sector size)
 *   16   4 headerCrc32          CRC32 of headerSize bytes with this field zeroed
 *   20   4 reserved             0
 *   24   8 myLba                1 in the primary, the last LBA in the backup
 *   32   8 alternateLba         the other copy's header LBA
 *   40   8 firstUsableLba / 48 8 lastUsableLba
 *   56  16 diskGuid             mixed-endian, see guid.ts
 *   72   8 partitionEntryLba    2 in the primary, lastLba − entry sectors in the backup
 *   80   4 numberOfEntries / 84 4 sizeOfEntry (128 × 2^n) / 88 4 entryArrayCrc32
 *   92   … reserved, zero to the end of the sector
 * Entry (sizeOfEntry bytes, 128 used):
 *    0  16 type GUID (zero = unused slot) · 16 16 unique GUID · 32 8 first LBA · 40 8 last LBA (inclusive)
 *   48   8 attributes · 56 72 name, UTF-16LE, 36 code units, NUL-padded
 */
import { RecoveryError } from '../errors.ts';
import type { SectorSize } from '../units.ts';
import { crc32 } from './crc32.ts';
import { guidFromBytes, guidToBytes, isZeroGuidAt } from './guid.ts';
import { MBR_TYPE, chsFor, encodeMbr, isHybridMbr, isProtectiveMbr, protectiveMbrFor, protectiveSectorCount } from './mbr.ts';
import { sectorCountOf } from './types.ts';
import type { DiskGeometry, GptHeader, GptPartition, GptTable, MbrTable } from './types.ts';

export const GPT_SIGNATURE = Uint8Array.of(0x45, 0x46, 0x49, 0x20, 0x50, 0x41, 0x52, 0x54); // "EFI PART"
export const GPT_REVISION = 0x00010000;
export const GPT_HEADER_SIZE = 92;
export const GPT_ENTRY_SIZE = 128;
export const GPT_DEFAULT_ENTRIES = 128;
export const GPT_NAME_UNITS = 36;
/** Largest entry array we read or write (UEFI requires ≥ 16 KiB; nobody needs more than this). */
export const GPT_MAX_ARRAY_BYTES = 1024 * 1024;

/** Where a GPT with a given array size sits on a disk. */
export interface GptLayout {
  readonly lastLba: bigint;
  readonly entrySectors: bigint;
  readonly primaryHeaderLba: bigint;
  readonly primaryEntriesLba: bigint;
  /** The lowest FirstUsableLBA the primary array allows. */
  readonly minFirstUsableLba: bigint;
  /** The highest LastUsableLBA the backup array allows. */
  readonly maxLastUsableLba: bigint;
  readonly backupEntriesLba: bigint;
  readonly backupHeaderLba: bigint;
}

export function gptEntryArrayBytes(numberOfEntries: number, sizeOfEntry: number): bigint {
  return BigInt(numberOfEntries) * BigInt(sizeOfEntry);
}

export function gptLayoutFor(geometry: DiskGeometry, numberOfEntries: number, sizeOfEntry: number): GptLayout {
  const ss = BigInt(geometry.logicalSectorSize);
  const lastLba = sectorCountOf(geometry) - 1n;
  const entrySectors = (gptEntryArrayBytes(numberOfEntries, sizeOfEntry) + ss - 1n) / ss;
  return {
    lastLba,
    entrySectors,
    primaryHeaderLba: 1n,
    primaryEntriesLba: 2n,
    minFirstUsableLba: 2n + entrySectors,
    maxLastUsableLba: lastLba - 1n - entrySectors,
    backupEntriesLba: lastLba - entrySectors,
    backupHeaderLba: lastLba,
  };
}

/** Entry size must be 128 × 2^n (UEFI §5.3.2); also bounded so a hostile header cannot ask for gigabytes. */
export function isValidEntryGeometry(numberOfEntries: number, sizeOfEntry: number): boolean {
  const powerOfTwoMultiple = sizeOfEntry >= GPT_ENTRY_SIZE && sizeOfEntry % GPT_ENTRY_SIZE === 0 &&
    ((sizeOfEntry / GPT_ENTRY_SIZE) & (sizeOfEntry / GPT_ENTRY_SIZE - 1)) === 0;
  return powerOfTwoMultiple && numberOfEntries >= 1 && gptEntryArrayBytes(numberOfEntries, sizeOfEntry) <= BigInt(GPT_MAX_ARRAY_BYTES);
}

function hasSignature(sector: Uint8Array): boolean {
  return GPT_SIGNATURE.every((b, i) => sector[i] === b);
}

function headerCrcOf(sector: Uint8Array, headerSize: number): number {
  const copy = sector.slice(0, headerSize);
  copy.fill(0, 16, 20);
  return crc32(copy);
}

/** CRC of the first numberOfEntries × sizeOfEntry bytes of `array`; undefined when the array is shorter. */
export function entryArrayCrcOf(array: Uint8Array, header: Pick<GptHeader, 'numberOfEntries' | 'sizeOfEntry'>): number | undefined {
  const bytes = gptEntryArrayBytes(header.numberOfEntries, header.sizeOfEntry);
  if (bytes > BigInt(array.length)) return undefined;
  return crc32(array.subarray(0, Number(bytes)));
}

/**
 * Decodes a header sector. undefined when "EFI PART" is absent; otherwise the values as stored and
 * validity flags, never an exception for bad content. `entryArray` (read from partitionEntryLba)
 * sets entryArrayCrcValid; without it the flag is false.
 */
export function parseGptHeader(sector: Uint8Array, entryArray?: Uint8Array): GptHeader | undefined {
  if (sector.length < 512) {
    throw new RecoveryError('partition.short-sector', `a GPT header sector needs 512 bytes, got ${sector.length}`, {
      data: { length: sector.length },
    });
  }
  if (!hasSignature(sector)) return undefined;
  const view = new DataView(sector.buffer, sector.byteOffset, sector.length);
  const headerSize = view.getUint32(12, true);
  const headerCrc32 = view.getUint32(16, true);
  const numberOfEntries = view.getUint32(80, true);
  const sizeOfEntry = view.getUint32(84, true);
  const entryArrayCrc32 = view.getUint32(88, true);
  const sizeOk = headerSize >= GPT_HEADER_SIZE && headerSize <= sector.length;
  return {
    signatureValid: true,
    revision: view.getUint32(8, true),
    headerSize,
    headerCrc32,
    headerCrcValid: sizeOk && headerCrcOf(sector, headerSize) === headerCrc32,
    myLba: view.getBigUint64(24, true),
    alternateLba: view.getBigUint64(32, true),
    firstUsableLba: view.getBigUint64(40, true),
    lastUsableLba: view.getBigUint64(48, true),
    diskGuid: guidFromBytes(sector, 56),
    partitionEntryLba: view.getBigUint64(72, true),
    numberOfEntries,
    sizeOfEntry,
    entryArrayCrc32,
    entryArrayCrcValid: entryArray !== undefined && entryArrayCrcOf(entryArray, { numberOfEntries, sizeOfEntry }) === entryArrayCrc32,
  };
}

function decodeName(bytes: Uint8Array, offset: number): string {
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, GPT_NAME_UNITS * 2);
  let name = '';
  for (let i = 0; i < GPT_NAME_UNITS; i++) {
    const unit = view.getUint16(i * 2, true);
    if (unit === 0) break;
    // Code units, not code points: a lone surrogate survives the round trip unchanged.
    name += String.fromCharCode(unit);
  }
  return name;
}

/**
 * The used slots (non-zero type GUID) of an entry array, numbered from 1 by slot. Reads at most
 * numberOfEntries slots and never past the end of `array`; an entry size below 128 yields [].
 */
export function parseGptEntries(array: Uint8Array, header: Pick<GptHeader, 'numberOfEntries' | 'sizeOfEntry'>): GptPartition[] {
  const size = header.sizeOfEntry;
  if (size < GPT_ENTRY_SIZE) return [];
  const slots = Math.min(header.numberOfEntries, Math.floor(array.length / size));
  const view = new DataView(array.buffer, array.byteOffset, array.length);
  const partitions: GptPartition[] = [];
  for (let slot = 0; slot < slots; slot++) {
    const at = slot * size;
    if (isZeroGuidAt(array, at)) continue;
    partitions.push({
      number: slot + 1,
      typeGuid: guidFromBytes(array, at),
      uniqueGuid: guidFromBytes(array, at + 16),
      firstLba: view.getBigUint64(at + 32, true),
      lastLba: view.getBigUint64(at + 40, true),
      attributes: view.getBigUint64(at + 48, true),
      name: decodeName(array, at + 56),
    });
  }
  return partitions;
}

/** The table a header and its entries describe. */
export function gptTableFromHeader(header: GptHeader, partitions: readonly GptPartition[], sectorSize: SectorSize, protectiveMbr?: MbrTable): GptTable {
  return {
    style: 'gpt',
    sectorSize,
    diskGuid: header.diskGuid,
    firstUsableLba: header.firstUsableLba,
    lastUsableLba: header.lastUsableLba,
    numberOfEntries: header.numberOfEntries,
    sizeOfEntry: header.sizeOfEntry,
    partitions,
    ...(protectiveMbr === undefined ? {} : { protectiveMbr }),
  };
}

function isU64(value: bigint): boolean {
  return value >= 0n && value === BigInt.asUintN(64, value);
}

function requireEncodable(table: GptTable, geometry: DiskGeometry, layout: GptLayout): void {
  const fail = (code: string, message: string, data: Record<string, unknown> = {}): never => {
    throw new RecoveryError(code, message, { data });
  };
  if (table.sectorSize !== geometry.logicalSectorSize) {
    fail('gpt.sector-size-mismatch', `table uses ${table.sectorSize}-byte sectors, disk has ${geometry.logicalSectorSize}`);
  }
  if (!isValidEntryGeometry(table.numberOfEntries, table.sizeOfEntry)) {
    fail('gpt.entry-geometry', `cannot encode ${table.numberOfEntries} entries of ${table.sizeOfEntry} bytes`);
  }
  if (layout.maxLastUsableLba < layout.minFirstUsableLba) {
    fail('gpt.disk-too-small', `a ${layout.lastLba + 1n}-sector disk cannot hold two GPT copies`);
  }
  if (!isU64(table.firstUsableLba)) fail('gpt.lba-overflow', 'FirstUsableLBA does not fit 64 bits');
  const seen = new Set<number>();
  for (const p of table.partitions) {
    if (!isU64(p.firstLba) || !isU64(p.lastLba) || !isU64(p.attributes)) {
      fail('gpt.lba-overflow', `partition ${p.number} has a value outside 0…2^64−1`, { number: p.number });
    }
    if (!Number.isInteger(p.number) || p.number < 1 || p.number > table.numberOfEntries || seen.has(p.number)) {
      fail('gpt.bad-slot', `partition number ${p.number} is not a free slot 1–${table.numberOfEntries}`, { number: p.number });
    }
    seen.add(p.number);
    if (p.name.length > GPT_NAME_UNITS) {
      fail('gpt.name-too-long', `partition ${p.number} name has ${p.name.length} UTF-16 units (max ${GPT_NAME_UNITS})`, { number: p.number });
    }
  }
}

/** The entry array, zero-padded to whole sectors. */
export function encodeGptEntries(table: GptTable, entrySectors: bigint): Uint8Array {
  const array = new Uint8Array(Number(entrySectors) * table.sectorSize);
  const view = new DataView(array.buffer);
  for (const p of table.partitions) {
    const at = (p.number - 1) * table.sizeOfEntry;
    array.set(guidToBytes(p.typeGuid), at);
    array.set(guidToBytes(p.uniqueGuid), at + 16);
    view.setBigUint64(at + 32, p.firstLba, true);
    view.setBigUint64(at + 40, p.lastLba, true);
    view.setBigUint64(at + 48, p.attributes, true);
    for (let i = 0; i < p.name.length; i++) view.setUint16(at + 56 + i * 2, p.name.charCodeAt(i), true);
  }
  return array;
}

/** What encodeGptHeader needs: the header's own fields, without what parsing derives (CRC, validity). */
export type GptHeaderFields = Pick<GptHeader, 'myLba' | 'alternateLba' | 'firstUsableLba' | 'lastUsableLba' | 'diskGuid'
  | 'partitionEntryLba' | 'numberOfEntries' | 'sizeOfEntry' | 'entryArrayCrc32'>;

/** One header sector: revision 1.0, 92-byte header, zero-filled, header CRC computed last. */
export function encodeGptHeader(fields: GptHeaderFields, sectorSize: SectorSize): Uint8Array {
  const sector = new Uint8Array(sectorSize);
  const view = new DataView(sector.buffer);
  sector.set(GPT_SIGNATURE, 0);
  view.setUint32(8, GPT_REVISION, true);
  view.setUint32(12, GPT_HEADER_SIZE, true);
  view.setBigUint64(24, fields.myLba, true);
  view.setBigUint64(32, fields.alternateLba, true);
  view.setBigUint64(40, fields.firstUsableLba, true);
  view.setBigUint64(48, fields.lastUsableLba, true);
  sector.set(guidToBytes(fields.diskGuid), 56);
  view.setBigUint64(72, fields.partitionEntryLba, true);
  view.setUint32(80, fields.numberOfEntries, true);
  view.setUint32(84, fields.sizeOfEntry, true);
  view.setUint32(88, fields.entryArrayCrc32 >>> 0, true);
  view.setUint32(16, crc32(sector.subarray(0, GPT_HEADER_SIZE)), true);
  return sector;
}

/**
 * The protective MBR to write: a hybrid MBR is kept as is; a pure protective MBR keeps its boot
 * code, signature and raw entry bytes, with the 0xEE entry resized when the disk size changed;
 * anything else is replaced by a fresh one (keeping its boot code and disk signature).
 */
export function protectiveMbrForTable(table: GptTable, geometry: DiskGeometry): MbrTable {
  const read = table.protectiveMbr;
  if (read === undefined) return protectiveMbrFor(geometry);
  if (isHybridMbr(read)) return read;
  if (!isProtectiveMbr(read)) return { ...protectiveMbrFor(geometry, read.bootCode), diskSignature: read.diskSignature };
  const count = protectiveSectorCount(geometry);
  const primary = read.primary.map((e) =>
    e.type !== MBR_TYPE.gptProtective || (e.startLba === 1n && e.sectorCount === count) ? e : { ...e, startLba: 1n, sectorCount: count, chsEnd: chsFor(count) },
  );
  return { ...read, primary, logical: [], ebrLbas: [] };
}

/** Pads a 512-byte MBR to one logical sector. */
function mbrSector(table: MbrTable, sectorSize: SectorSize): Uint8Array {
  const sector = new Uint8Array(sectorSize);
  sector.set(encodeMbr(table), 0);
  return sector;
}

export interface EncodedGpt {
  readonly protectiveMbr: Uint8Array;
  readonly primaryHeader: Uint8Array;
  readonly entries: Uint8Array;
  readonly backupHeader: Uint8Array;
  readonly primaryEntriesLba: bigint;
  readonly backupEntriesLba: bigint;
  readonly backupHeaderLba: bigint;
  readonly firstUsableLba: bigint;
  readonly lastUsableLba: bigint;
}

/**
 * Both GPT copies for `geometry`. The backup header goes to the disk's last LBA and LastUsableLBA
 * to just before the backup array, so a table taken from a smaller disk fills a larger target.
 * FirstUsableLBA is kept from the table. Throws RecoveryError only for tables that cannot be
 * represented at all (sector size mismatch, bad slot numbers, names over 36 units, bad GUID text);
 * bounds and overlaps are verifyGpt's job.
 */
export function encodeGpt(table: GptTable, geometry: DiskGeometry): EncodedGpt {
  const layout = gptLayoutFor(geometry, table.numberOfEntries, table.sizeOfEntry);
  requireEncodable(table, geometry, layout);
  const entries = encodeGptEntries(table, layout.entrySectors);
  const common = {
    firstUsableLba: table.firstUsableLba,
    lastUsableLba: layout.maxLastUsableLba,
    diskGuid: table.diskGuid,
    numberOfEntries: table.numberOfEntries,
    sizeOfEntry: table.sizeOfEntry,
    entryArrayCrc32: crc32(entries.subarray(0, table.numberOfEntries * table.sizeOfEntry)),
  };
  const ss = geometry.logicalSectorSize;
  return {
    protectiveMbr: mbrSector(protectiveMbrForTable(table, geometry), ss),
    primaryHeader: encodeGptHeader({ ...common, myLba: 1n, alternateLba: layout.backupHeaderLba, partitionEntryLba: layout.primaryEntriesLba }, ss),
    entries,
    backupHeader: encodeGptHeader({ ...common, myLba: layout.backupHeaderLba, alternateLba: 1n, partitionEntryLba: layout.backupEntriesLba }, ss),
    primaryEntriesLba: layout.primaryEntriesLba,
    backupEntriesLba: layout.backupEntriesLba,
    backupHeaderLba: layout.backupHeaderLba,
    firstUsableLba: table.firstUsableLba,
    lastUsableLba: layout.maxLastUsableLba,
  };
}
