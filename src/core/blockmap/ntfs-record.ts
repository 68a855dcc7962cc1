/**
 * NTFS MFT records ("FILE" records) and their attributes.
 *
 * Record header:            Attribute header (common):         Non-resident part:
 *   0x00 "FILE"               0x00 type (0xFFFFFFFF = end)       0x10 lowest VCN      0x28 allocated size
 *   0x04 update seq. offset   0x04 length                        0x18 highest VCN     0x30 data size
 *   0x06 update seq. count    0x08 non-resident flag             0x20 mapping pairs   0x38 initialized size
 *   0x14 first attribute      0x09 name length (UTF-16 units)         offset
 *   0x16 flags (1 = in use)   0x0A name offset                   Resident part:
 *   0x18 bytes in use         0x0C flags (1 compressed,          0x10 value length
 *   0x20 base record ref           0x4000 encrypted, 0x8000 sparse)  0x14 value offset
 *
 * Update sequence ("fixups"): the last two bytes of every 512-byte stride of a record hold the
 * update sequence number; the real bytes are kept in the array at the update sequence offset.
 * A stride whose tail does not match was torn by an interrupted write, so the record is rejected.
 */
import { RecoveryError } from '../errors.ts';

export const ATTR_ATTRIBUTE_LIST = 0x20;
export const ATTR_VOLUME_NAME = 0x60;
export const ATTR_DATA = 0x80;
const ATTR_END = 0xffffffff;
const FIXUP_STRIDE = 512;
const FLAG_COMPRESSED = 0x0001;
const FLAG_ENCRYPTED = 0x4000;

interface AttributeBase {
  readonly type: number;
  readonly name: string;
  readonly flags: number;
}

export interface ResidentAttribute extends AttributeBase {
  readonly resident: true;
  readonly value: Uint8Array;
}

export interface NonResidentAttribute extends AttributeBase {
  readonly resident: false;
  readonly lowestVcn: bigint;
  readonly highestVcn: bigint;
  readonly allocatedSize: bigint;
  readonly dataSize: bigint;
  readonly initializedSize: bigint;
  /** Raw mapping pairs up to the attribute's end; decode with decodeDataRuns. */
  readonly mappingPairs: Uint8Array;
}

export type NtfsAttribute = ResidentAttribute | NonResidentAttribute;

export interface MftRecord {
  readonly number: bigint;
  readonly inUse: boolean;
  /** Record number of the base record (low 48 bits of the reference); 0 for a base record. */
  readonly baseRecord: bigint;
  readonly attributes: readonly NtfsAttribute[];
}

export interface AttributeListEntry {
  readonly type: number;
  readonly name: string;
  readonly lowestVcn: bigint;
  readonly recordNumber: bigint;
}

function badRecord(number: bigint, message: string, data: Record<string, unknown> = {}): RecoveryError {
  return new RecoveryError('blockmap.ntfs-mft-record', `MFT record ${number}: ${message}`, { data: { record: number.toString(), ...data } });
}

function utf16(bytes: Uint8Array, at: number, units: number): string {
  let s = '';
  for (let i = 0; i < units; i++) s += String.fromCharCode(bytes[at + 2 * i]! | (bytes[at + 2 * i + 1]! << 8));
  return s;
}

const MFT_REFERENCE_MASK = (1n << 48n) - 1n;

/** Applies the update sequence fixups in place; throws on a torn or malformed record. */
export function applyFixups(record: Uint8Array, number: bigint): void {
  const view = new DataView(record.buffer, record.byteOffset, record.byteLength);
  const usaOffset = view.getUint16(0x04, true);
  const usaCount = view.getUint16(0x06, true);
  const strides = record.length / FIXUP_STRIDE;
  if (usaCount !== strides + 1 || usaOffset % 2 !== 0 || usaOffset < 0x28 || usaOffset + 2 * usaCount > record.length) {
    throw badRecord(number, 'malformed update sequence array', { usaOffset, usaCount });
  }
  const usn = view.getUint16(usaOffset, true);
  for (let i = 1; i <= strides; i++) {
    const tail = i * FIXUP_STRIDE - 2;
    if (view.getUint16(tail, true) !== usn) throw badRecord(number, `torn write: stride ${i} fails its update sequence check`);
    view.setUint16(tail, view.getUint16(usaOffset + 2 * i, true), true);
  }
}

function parseAttribute(record: Uint8Array, view: DataView, at: number, length: number, number: bigint): NtfsAttribute {
  const type = view.getUint32(at, true);
  const nonResident = view.getUint8(at + 0x08);
  const nameLength = view.getUint8(at + 0x09);
  const nameOffset = view.getUint16(at + 0x0a, true);
  const flags = view.getUint16(at + 0x0c, true);
  if (nameLength > 0 && nameOffset + 2 * nameLength > length) throw badRecord(number, `attribute 0x${type.toString(16)} name runs past it`);
  const name = utf16(record, at + nameOffset, nameLength);
  if (nonResident === 0) {
    const valueLength = view.getUint32(at + 0x10, true);
    const valueOffset = view.getUint16(at + 0x14, true);
    if (valueOffset + valueLength > length) throw badRecord(number, `attribute 0x${type.toString(16)} value runs past it`);
    return { type, name, flags, resident: true, value: record.subarray(at + valueOffset, at + valueOffset + valueLength) };
  }
  if (length < 0x40) throw badRecord(number, `non-resident attribute 0x${type.toString(16)} is too short`);
  const pairsOffset = view.getUint16(at + 0x20, true);
  if (pairsOffset < 0x40 || pairsOffset >= length) throw badRecord(number, `attribute 0x${type.toString(16)} mapping pairs offset ${pairsOffset}`);
  const attr: NonResidentAttribute = {
    type, name, flags, resident: false,
    lowestVcn: view.getBigInt64(at + 0x10, true),
    highestVcn: view.getBigInt64(at + 0x18, true),
    allocatedSize: view.getBigInt64(at + 0x28, true),
    dataSize: view.getBigInt64(at + 0x30, true),
    initializedSize: view.getBigInt64(at + 0x38, true),
    mappingPairs: record.subarray(at + pairsOffset, at + length),
  };
  if (attr.lowestVcn < 0n || attr.highestVcn < attr.lowestVcn - 1n || attr.dataSize < 0n ||
      attr.initializedSize < 0n || attr.initializedSize > attr.dataSize) {
    throw badRecord(number, `attribute 0x${type.toString(16)} has inconsistent VCNs or sizes`);
  }
  return attr;
}

/** Parses a raw record (fixups not yet applied): header checks, fixups, attribute headers. */
export function parseMftRecord(raw: Uint8Array, number: bigint): MftRecord {
  const record = raw.slice();
  const view = new DataView(record.buffer, record.byteOffset, record.byteLength);
  const magic = String.fromCharCode(...record.subarray(0, 4));
  if (magic !== 'FILE') throw badRecord(number, magic === 'BAAD' ? 'marked bad by chkdsk' : 'no FILE signature');
  applyFixups(record, number);
  const firstAttribute = view.getUint16(0x14, true);
  const bytesInUse = view.getUint32(0x18, true);
  if (bytesInUse > record.length || firstAttribute < 0x2a || firstAttribute >= bytesInUse) {
    throw badRecord(number, 'header offsets lie outside the record', { firstAttribute, bytesInUse });
  }
  const attributes: NtfsAttribute[] = [];
  let at = firstAttribute;
  for (;;) {
    if (at + 4 > bytesInUse) throw badRecord(number, 'attribute list is not terminated');
    if (view.getUint32(at, true) === ATTR_END) break;
    const length = at + 8 <= bytesInUse ? view.getUint32(at + 4, true) : 0;
    if (length < 0x18 || length % 8 !== 0 || at + length > bytesInUse) throw badRecord(number, `attribute at 0x${at.toString(16)} has length ${length}`);
    attributes.push(parseAttribute(record, view, at, length, number));
    at += length;
  }
  return {
    number,
    inUse: (view.getUint16(0x16, true) & 1) === 1,
    baseRecord: view.getBigUint64(0x20, true) & MFT_REFERENCE_MASK,
    attributes,
  };
}

/** Rejects compressed or encrypted data: its on-disk clusters are not the plain bytes. */
export function assertPlainData(attr: NtfsAttribute, number: bigint): void {
  if ((attr.flags & (FLAG_COMPRESSED | FLAG_ENCRYPTED)) !== 0) {
    throw new RecoveryError('blockmap.ntfs-unsupported', `MFT record ${number}: compressed or encrypted $DATA is not supported here`, {
      data: { record: number.toString(), flags: attr.flags },
    });
  }
}

/** Entries of an $ATTRIBUTE_LIST value: which record holds which piece of which attribute. */
export function parseAttributeList(value: Uint8Array, owner: bigint): AttributeListEntry[] {
  const view = new DataView(value.buffer, value.byteOffset, value.byteLength);
  const entries: AttributeListEntry[] = [];
  let at = 0;
  while (at + 0x1a <= value.length) {
    const length = view.getUint16(at + 4, true);
    const nameLength = view.getUint8(at + 6);
    const nameOffset = view.getUint8(at + 7);
    if (length < 0x1a || at + length > value.length || nameOffset + 2 * nameLength > length) {
      throw new RecoveryError('blockmap.ntfs-attribute-list', `MFT record ${owner}: malformed $ATTRIBUTE_LIST entry at ${at}`, {
        data: { record: owner.toString(), at, length },
      });
    }
    entries.push({
      type: view.getUint32(at, true),
      name: utf16(value, at + nameOffset, nameLength),
      lowestVcn: view.getBigInt64(at + 8, true),
      recordNumber: view.getBigUint64(at + 16, true) & MFT_REFERENCE_MASK,
    });
    at += length;
  }
  return entries;
}

/** Text of a $VOLUME_NAME attribute (UTF-16LE). */
export function decodeVolumeName(value: Uint8Array): string {
  return utf16(value, 0, value.length >> 1);
}
