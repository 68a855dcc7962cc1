/**
 * Hand-built NTFS and FAT volumes in memory for the block-map unit tests: just the structures the
 * block maps read (boot sector, $MFT records 0/3/6 with fixups, $Bitmap; BPB, FATs, root label),
 * placed where each test wants them so fragmented, sparse and split layouts are easy to make.
 */
import type { ByteReader } from '../../../../src/core/blockmap/detect.ts';

// ---------------------------------------------------------------- little helpers

export function u16(b: Uint8Array, at: number, v: number): void {
  b[at] = v & 0xff;
  b[at + 1] = (v >>> 8) & 0xff;
}

export function u32(b: Uint8Array, at: number, v: number): void {
  u16(b, at, v & 0xffff);
  u16(b, at + 2, (v >>> 16) & 0xffff);
}

export function u64(b: Uint8Array, at: number, v: bigint): void {
  for (let i = 0; i < 8; i++) b[at + i] = Number((BigInt.asUintN(64, v) >> BigInt(8 * i)) & 0xffn);
}

function utf16(s: string): Uint8Array {
  const out = new Uint8Array(s.length * 2);
  for (let i = 0; i < s.length; i++) u16(out, 2 * i, s.charCodeAt(i));
  return out;
}

const align8 = (n: number): number => (n + 7) & ~7;

/** A reader over an in-memory volume that refuses reads outside it and counts bytes read. */
export function memoryReader(bytes: Uint8Array): { read: ByteReader; bytesRead: () => number } {
  let total = 0;
  const read: ByteReader = async (offset, length) => {
    if (offset < 0n || length < 0 || offset + BigInt(length) > BigInt(bytes.length)) {
      throw new Error(`out-of-range read: ${length} bytes at ${offset} of ${bytes.length}`);
    }
    total += length;
    return bytes.slice(Number(offset), Number(offset) + length);
  };
  return { read, bytesRead: () => total };
}

// ---------------------------------------------------------------- NTFS encoders

export interface Run {
  /** null = sparse. */
  readonly lcn: number | null;
  readonly length: number;
}

function signedBytes(v: bigint): number[] {
  const out: number[] = [];
  for (;;) {
    out.push(Number(BigInt.asUintN(8, v)));
    const rest = v >> 8n;
    const signBit = (out[out.length - 1]! & 0x80) !== 0;
    if ((rest === 0n && !signBit) || (rest === -1n && signBit)) return out;
    v = rest;
  }
}

/** Mapping pairs for `runs` (LCN deltas, shortest encodings, 0x00 terminator). */
export function encodeRuns(runs: readonly Run[]): Uint8Array {
  const out: number[] = [];
  let prev = 0n;
  for (const r of runs) {
    const len = signedBytes(BigInt(r.length));
    const off = r.lcn === null ? [] : signedBytes(BigInt(r.lcn) - prev);
    if (r.lcn !== null) prev = BigInt(r.lcn);
    out.push((off.length << 4) | len.length, ...len, ...off);
  }
  out.push(0);
  return Uint8Array.from(out);
}

export function residentAttribute(type: number, value: Uint8Array, name = ''): Uint8Array {
  const nameBytes = utf16(name);
  const valueOffset = align8(0x18 + nameBytes.length);
  const a = new Uint8Array(align8(valueOffset + value.length));
  u32(a, 0, type);
  u32(a, 4, a.length);
  a[9] = name.length;
  u16(a, 0x0a, 0x18);
  a.set(nameBytes, 0x18);
  u32(a, 0x10, value.length);
  u16(a, 0x14, valueOffset);
  a.set(value, valueOffset);
  return a;
}

export interface NonResidentSpec {
  readonly runs: readonly Run[];
  readonly lowestVcn?: number;
  readonly dataSize: number;
  readonly initializedSize?: number;
  readonly clusterSize: number;
  readonly flags?: number;
  readonly name?: string;
  /** Raw mapping pairs instead of `runs` (for malformed-run tests). */
  readonly rawPairs?: Uint8Array;
}

export function nonResidentAttribute(type: number, spec: NonResidentSpec): Uint8Array {
  const pairs = spec.rawPairs ?? encodeRuns(spec.runs);
  const nameBytes = utf16(spec.name ?? '');
  const pairsOffset = align8(0x40 + nameBytes.length);
  const a = new Uint8Array(align8(pairsOffset + pairs.length));
  const lowest = spec.lowestVcn ?? 0;
  const clusters = spec.runs.reduce((s, r) => s + r.length, 0);
  u32(a, 0, type);
  u32(a, 4, a.length);
  a[8] = 1;
  a[9] = (spec.name ?? '').length;
  u16(a, 0x0a, 0x40);
  u16(a, 0x0c, spec.flags ?? 0);
  a.set(nameBytes, 0x40);
  u64(a, 0x10, BigInt(lowest));
  u64(a, 0x18, BigInt(lowest + clusters - 1));
  u16(a, 0x20, pairsOffset);
  u64(a, 0x28, BigInt(Math.ceil(spec.dataSize / spec.clusterSize) * spec.clusterSize));
  u64(a, 0x30, BigInt(spec.dataSize));
  u64(a, 0x38, BigInt(spec.initializedSize ?? spec.dataSize));
  a.set(pairs, pairsOffset);
  return a;
}

export function attributeList(entries: readonly { type: number; lowestVcn: number; record: number }[]): Uint8Array {
  const out = new Uint8Array(entries.length * 32);
  entries.forEach((e, i) => {
    const at = i * 32;
    u32(out, at, e.type);
    u16(out, at + 4, 32);
    out[at + 7] = 0x1a;
    u64(out, at + 8, BigInt(e.lowestVcn));
    u64(out, at + 16, BigInt(e.record) | (1n << 48n));
  });
  return out;
}

export interface RecordSpec {
  readonly number: number;
  readonly attributes: readonly Uint8Array[];
  readonly baseRecord?: number;
  readonly inUse?: boolean;
}

/** An on-disk MFT record: header, attributes, end marker, then the update sequence applied. */
export function encodeRecord(size: number, spec: RecordSpec): Uint8Array {
  const r = new Uint8Array(size);
  const usaCount = size / 512 + 1;
  const first = align8(0x30 + 2 * usaCount);
  r.set([0x46, 0x49, 0x4c, 0x45]); // "FILE"
  u16(r, 0x04, 0x30);
  u16(r, 0x06, usaCount);
  u16(r, 0x10, 1);
  u16(r, 0x14, first);
  u16(r, 0x16, spec.inUse === false ? 0 : 1);
  let at = first;
  for (const a of spec.attributes) {
    r.set(a, at);
    at += a.length;
  }
  u32(r, at, 0xffffffff);
  u32(r, 0x18, at + 8);
  u32(r, 0x1c, size);
  u64(r, 0x20, spec.baseRecord === undefined ? 0n : BigInt(spec.baseRecord) | (1n << 48n));
  u32(r, 0x2c, spec.number);
  const usn = 0x0042;
  u16(r, 0x30, usn);
  for (let i = 1; i < usaCount; i++) {
    const tail = i * 512 - 2;
    r[0x30 + 2 * i] = r[tail]!;
    r[0x30 + 2 * i + 1] = r[tail + 1]!;
    u16(r, tail, usn);
  }
  return r;
}

// ---------------------------------------------------------------- NTFS volume

export const ATTR = { attributeList: 0x20, volumeName: 0x60, data: 0x80 } as const;

export interface NtfsVolumeSpec {
  readonly bytesPerSector?: number;
  /** Raw byte 0x0D: 1–128, or 0xF4–0xFF for 2^(256 − value) sectors. */
  readonly sectorsPerClusterByte?: number;
  /** Raw byte 0x40 (default 0xF6: 1024-byte records). */
  readonly recordSizeByte?: number;
  readonly clusterCount: number;
  /** Sectors of the volume past its last whole cluster (default 0). */
  readonly volumeTailSectors?: number;
  /** Bytes of partition past the volume and its backup boot sector (default 0). */
  readonly partitionSlack?: number;
  /** Where the $MFT's data lies, in VCN order. */
  readonly mftRuns: readonly Run[];
  /** Bitmap bits set: [first cluster, count]. */
  readonly used: readonly (readonly [number, number])[];
  /** Where $Bitmap's data lies; omitted = resident. */
  readonly bitmapRuns?: readonly Run[];
  readonly label?: string;
  readonly serial?: bigint;
  /** Replaces or adds records (after the defaults for 0, 3 and 6 are built). */
  readonly records?: readonly RecordSpec[];
  /** Bytes to poke after building: [offset, bytes]. */
  readonly patches?: readonly (readonly [number, Uint8Array])[];
  /** Overrides for $Bitmap's $DATA (sizes), e.g. a smaller initialized size. */
  readonly bitmapData?: Partial<NonResidentSpec>;
}

export interface SyntheticVolume {
  readonly bytes: Uint8Array;
  readonly partitionBytes: bigint;
  readonly clusterSize: number;
  readonly recordSize: number;
}

export function decodeClusterSize(bytesPerSector: number, raw: number): number {
  return bytesPerSector * (raw > 0x80 ? 2 ** (256 - raw) : raw);
}

function decodeRecordSize(clusterSize: number, raw: number): number {
  const signed = raw > 127 ? raw - 256 : raw;
  return signed > 0 ? signed * clusterSize : 2 ** -signed;
}

export function ntfsBootSector(spec: { bytesPerSector: number; spcByte: number; recordByte: number; totalSectors: bigint; mftLcn: number; serial: bigint }): Uint8Array {
  const b = new Uint8Array(spec.bytesPerSector);
  b.set([0xeb, 0x52, 0x90, ...Array.from('NTFS    ', (c) => c.charCodeAt(0))]);
  u16(b, 0x0b, spec.bytesPerSector);
  b[0x0d] = spec.spcByte;
  b[0x15] = 0xf8;
  u64(b, 0x28, spec.totalSectors);
  u64(b, 0x30, BigInt(spec.mftLcn));
  u64(b, 0x38, 1n);
  b[0x40] = spec.recordByte;
  b[0x44] = 0x01;
  u64(b, 0x48, spec.serial);
  u16(b, 0x1fe, 0xaa55);
  return b;
}

/** Writes `data` (an attribute's bytes from VCN 0) into the clusters its runs name. */
export function placeThroughRuns(volume: Uint8Array, runs: readonly Run[], clusterSize: number, data: Uint8Array): void {
  let vcnByte = 0;
  for (const run of runs) {
    const bytes = run.length * clusterSize;
    const piece = data.subarray(vcnByte, vcnByte + bytes);
    if (run.lcn !== null) volume.set(piece, run.lcn * clusterSize);
    else if (piece.some((x) => x !== 0)) throw new Error('non-zero data under a sparse run');
    vcnByte += bytes;
  }
}

export function bitmapBytes(clusterCount: number, used: readonly (readonly [number, number])[]): Uint8Array {
  const bits = new Uint8Array(Math.ceil(clusterCount / 64) * 8);
  for (const [first, count] of used) {
    for (let c = first; c < first + count; c++) bits[c >> 3]! |= 1 << (c & 7);
  }
  // Like ntfs-3g and Windows: the padding bits past the last cluster are set.
  for (let c = clusterCount; c < bits.length * 8; c++) bits[c >> 3]! |= 1 << (c & 7);
  return bits;
}

export function buildNtfsVolume(spec: NtfsVolumeSpec): SyntheticVolume {
  const bps = spec.bytesPerSector ?? 512;
  const clusterSize = decodeClusterSize(bps, spec.sectorsPerClusterByte ?? 8);
  const recordSize = decodeRecordSize(clusterSize, spec.recordSizeByte ?? 0xf6);
  const totalSectors = (spec.clusterCount * clusterSize) / bps + (spec.volumeTailSectors ?? 0);
  const partitionBytes = (totalSectors + 1) * bps + (spec.partitionSlack ?? 0);
  const bytes = new Uint8Array(partitionBytes);
  const boot = ntfsBootSector({
    bytesPerSector: bps, spcByte: spec.sectorsPerClusterByte ?? 8, recordByte: spec.recordSizeByte ?? 0xf6,
    totalSectors: BigInt(totalSectors), mftLcn: spec.mftRuns[0]!.lcn!, serial: spec.serial ?? 0x1122334455667788n,
  });
  bytes.set(boot, 0);
  bytes.set(boot, totalSectors * bps);
  bytes.set(boot, partitionBytes - bps);
  const mftClusters = spec.mftRuns.reduce((s, r) => s + r.length, 0);
  const bitmap = bitmapBytes(spec.clusterCount, spec.used);
  const bitmapData = spec.bitmapRuns === undefined
    ? residentAttribute(ATTR.data, bitmap)
    : nonResidentAttribute(ATTR.data, { runs: spec.bitmapRuns, dataSize: bitmap.length, clusterSize, ...spec.bitmapData });
  if (spec.bitmapRuns !== undefined) placeThroughRuns(bytes, spec.bitmapRuns, clusterSize, bitmap);
  const records = new Map<number, RecordSpec>([
    [0, { number: 0, attributes: [nonResidentAttribute(ATTR.data, { runs: spec.mftRuns, dataSize: mftClusters * clusterSize, clusterSize })] }],
    [3, { number: 3, attributes: [residentAttribute(ATTR.volumeName, utf16(spec.label ?? ''))] }],
    [6, { number: 6, attributes: [bitmapData] }],
  ]);
  for (const r of spec.records ?? []) records.set(r.number, r);
  const mft = new Uint8Array(mftClusters * clusterSize);
  for (const [n, r] of records) mft.set(encodeRecord(recordSize, r), n * recordSize);
  placeThroughRuns(bytes, spec.mftRuns, clusterSize, mft);
  for (const [offset, patch] of spec.patches ?? []) bytes.set(patch, offset);
  return { bytes, partitionBytes: BigInt(partitionBytes), clusterSize, recordSize };
}

// ---------------------------------------------------------------- FAT volume

export interface FatVolumeSpec {
  readonly bits: 12 | 16 | 32;
  readonly bytesPerSector?: number;
  readonly sectorsPerCluster: number;
  readonly reservedSectors: number;
  readonly fatCount?: number;
  readonly rootEntries: number;
  readonly sectorsPerFat: number;
  readonly totalSectors: number;
  /** FAT entries to set (cluster → value) in every FAT, or per FAT index. */
  readonly entries: ReadonlyMap<number, number>;
  readonly entriesPerFat?: readonly ReadonlyMap<number, number>[];
  /** FAT32 ext flags (bit 7 = mirroring off, bits 0–3 = active FAT). */
  readonly extFlags?: number;
  readonly rootCluster?: number;
  readonly serial?: number;
  readonly bpbLabel?: string;
  /** A volume-label directory entry at the start of the root directory. */
  readonly rootLabel?: string;
  readonly partitionBytes?: number;
}

function writeFatEntry(fat: Uint8Array, bits: 12 | 16 | 32, n: number, value: number): void {
  if (bits === 32) u32(fat, n * 4, value);
  else if (bits === 16) u16(fat, n * 2, value);
  else {
    const at = Math.floor((n * 3) / 2);
    const pair = fat[at]! | (fat[at + 1]! << 8);
    const next = n % 2 === 0 ? (pair & 0xf000) | (value & 0xfff) : (pair & 0x000f) | ((value & 0xfff) << 4);
    u16(fat, at, next);
  }
}

function paddedAscii(s: string, length: number): number[] {
  return Array.from(s.padEnd(length, ' ').slice(0, length), (c) => c.charCodeAt(0));
}

export function buildFatVolume(spec: FatVolumeSpec): Uint8Array {
  const bps = spec.bytesPerSector ?? 512;
  const fats = spec.fatCount ?? 2;
  const bytes = new Uint8Array(spec.partitionBytes ?? spec.totalSectors * bps);
  const b = bytes.subarray(0, bps);
  b.set([0xeb, 0x3c, 0x90, ...paddedAscii('mkfs.fat', 8)]);
  u16(b, 0x0b, bps);
  b[0x0d] = spec.sectorsPerCluster;
  u16(b, 0x0e, spec.reservedSectors);
  b[0x10] = fats;
  u16(b, 0x11, spec.rootEntries);
  if (spec.totalSectors < 0x10000) u16(b, 0x13, spec.totalSectors);
  else u32(b, 0x20, spec.totalSectors);
  b[0x15] = 0xf8;
  const ext = spec.bits === 32 ? 0x40 : 0x24;
  if (spec.bits === 32) {
    u32(b, 0x24, spec.sectorsPerFat);
    u16(b, 0x28, spec.extFlags ?? 0);
    u32(b, 0x2c, spec.rootCluster ?? 2);
  } else {
    u16(b, 0x16, spec.sectorsPerFat);
  }
  b[ext + 2] = 0x29;
  u32(b, ext + 3, spec.serial ?? 0x1234abcd);
  b.set(paddedAscii(spec.bpbLabel ?? 'NO NAME', 11), ext + 7);
  b.set(paddedAscii(spec.bits === 32 ? 'FAT32' : spec.bits === 16 ? 'FAT16' : 'FAT12', 8), ext + 18);
  u16(b, 0x1fe, 0xaa55);
  for (let i = 0; i < fats; i++) {
    const fat = bytes.subarray((spec.reservedSectors + i * spec.sectorsPerFat) * bps, (spec.reservedSectors + (i + 1) * spec.sectorsPerFat) * bps);
    const mask = spec.bits === 32 ? 0x0fffffff : spec.bits === 16 ? 0xffff : 0xfff;
    writeFatEntry(fat, spec.bits, 0, 0xfffff8 & mask);
    writeFatEntry(fat, spec.bits, 1, mask);
    for (const [n, v] of spec.entriesPerFat?.[i] ?? spec.entries) writeFatEntry(fat, spec.bits, n, v);
  }
  if (spec.rootLabel !== undefined) {
    const rootDirSectors = Math.ceil((spec.rootEntries * 32) / bps);
    const firstData = spec.reservedSectors + fats * spec.sectorsPerFat + rootDirSectors;
    const rootStart = spec.bits === 32
      ? (firstData + ((spec.rootCluster ?? 2) - 2) * spec.sectorsPerCluster) * bps
      : (spec.reservedSectors + fats * spec.sectorsPerFat) * bps;
    // A long-file-name entry first, then the label: the reader must skip the former.
    bytes.set([0x41, ...paddedAscii('x', 10), 0x0f], rootStart);
    bytes.set([...paddedAscii(spec.rootLabel, 11), 0x08], rootStart + 32);
  }
  return bytes;
}
