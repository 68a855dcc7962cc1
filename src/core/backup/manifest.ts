/**
 * The manifest of one restore point: which disks were imaged, their identity, geometry and layout,
 * and which chunk holds which bytes. JSON on the wire and on disk; bigints (LBAs, byte offsets,
 * sizes, GPT attributes) are decimal strings there. A restore point exists once its manifest is
 * committed, so `encodeManifest` refuses to produce an invalid one and `validateManifest` checks
 * untrusted JSON field by field, naming the first wrong field in `data.path`
 * ("disks[0].extents[3].chunkId"). docs/backup-format.md describes every field.
 *
 * The optional `vss` field (absent in manifests written before it existed, and when the backup was
 * given no snapshotter) says whether the partitions were read from a VSS shadow copy, and keeps what
 * a VSS-aware restore needs: backup kind, snapshot ids, per-writer restore methods, and the ASR
 * writer's metadata and the Backup Components Document as chunk references (docs/backup-format.md §5).
 */
import type { SectorSize } from '../units.ts';
import type { DiskGeometry } from '../partition/types.ts';
import { RESTORE_METHOD_VALUE, type RestoreMethod, type WriterRestore, type WriterRestoreRecord } from '../vss/restore-methods.ts';
import { MAX_CHUNK_OVERHEAD, MAX_CHUNK_PLAINTEXT, CHUNK_HEADER_BYTES, type ChunkCompression } from './chunk-format.ts';
import { backupError, type BackupErrorCode } from './errors.ts';

export const MANIFEST_FORMAT_VERSION = 1;
/** Block sizes the "read block size" backup option offers; 256 KiB is the default. */
export const BLOCK_SIZES: readonly number[] = [64, 128, 256, 512, 1024, 2048].map((k) => k * 1024);
export const DEFAULT_BLOCK_SIZE = 256 * 1024;

export type Firmware = 'bios' | 'uefi';
export type DiskStyle = 'mbr' | 'gpt' | 'raw';

export interface BackupManifest {
  readonly formatVersion: typeof MANIFEST_FORMAT_VERSION;
  readonly setId: string;
  /** 1 for the first restore point of a set, then +1 per point. */
  readonly pointSequence: number;
  /** ISO 8601 UTC, e.g. "2026-11-23T11:20:00.000Z". */
  readonly createdAt: string;
  readonly source: { readonly hostname: string; readonly firmware: Firmware };
  readonly options: BackupOptions;
  /** Present exactly when options.encrypted. */
  readonly encryption?: ManifestEncryption;
  readonly disks: readonly ManifestDisk[];
  /** How the partitions were frozen for reading (absent: not recorded, e.g. older manifests). */
  readonly vss?: ManifestVss;
}

export interface BackupOptions {
  readonly codec: ChunkCompression;
  /** Bytes per data chunk (the last chunk of a run may be shorter); one of BLOCK_SIZES. */
  readonly blockSize: number;
  readonly encrypted: boolean;
  readonly onlyUsedBlocks: boolean;
}

/** A 256-bit secret encrypted with AES-256-GCM. Hex strings. */
export interface SealedKey {
  readonly cipher: 'aes-256-gcm';
  readonly nonce: string;
  readonly ciphertext: string;
  readonly tag: string;
}

/** A data key sealed under a key derived from a passphrase with scrypt. */
export interface WrappedKey extends SealedKey {
  readonly kdf: 'scrypt';
  readonly n: number;
  readonly r: number;
  readonly p: number;
  readonly salt: string;
}

export interface ManifestEncryption {
  readonly cipher: 'aes-256-gcm';
  readonly dataKey: WrappedKey;
}

export interface ManifestDisk {
  /** The disk's number on the source machine (Windows disk number). */
  readonly number: number;
  readonly style: DiskStyle;
  /** mbrSignature for style mbr, gptDiskGuid for style gpt, neither for raw. */
  readonly identity: { readonly mbrSignature?: number; readonly gptDiskGuid?: string };
  readonly geometry: DiskGeometry;
  /** Partition-table sectors kept raw (MBR, EBRs, GPT headers and entry arrays), ordered by LBA. */
  readonly tableSectors: readonly TableSectorRun[];
  readonly layout: ManifestLayout;
  /** Ordered by diskOffset, non-overlapping, sector-aligned. */
  readonly extents: readonly ManifestExtent[];
}

export interface ChunkRef {
  readonly chunkId: string;
  /** SHA-256 of the stored blob, hex: checked before the blob is decrypted or decompressed. */
  readonly storedHash: string;
  readonly storedLength: number;
}

export interface TableSectorRun {
  readonly lba: bigint;
  readonly count: number;
  /** Concatenated in order they hold count × logicalSectorSize bytes. */
  readonly chunks: readonly (ChunkRef & { readonly length: number })[];
}

export interface ManifestLayout {
  readonly partitions: readonly ManifestPartition[];
  /** Whatever else the partition codecs want to keep (GPT header fields, …); any JSON value. */
  readonly extra?: JsonValue;
}

export interface ManifestPartition {
  readonly number: number;
  readonly startLba: bigint;
  readonly sectorCount: bigint;
  /** "0x07" for MBR; the type GUID for GPT. */
  readonly type: string;
  readonly typeName?: string;
  readonly name: string;
  readonly bootable: boolean;
  readonly logical?: boolean;
  readonly uniqueGuid?: string;
  readonly attributes?: bigint;
  /** "ntfs", "fat32", "unknown", … (lower case). */
  readonly filesystem: string;
  /** Bytes in use by the filesystem, when it was read. */
  readonly usedBytes?: bigint;
}

export interface DataExtent extends ChunkRef {
  readonly kind: 'data';
  readonly diskOffset: bigint;
  /** Plaintext length of the chunk. */
  readonly length: bigint;
}

/** Bytes that were all zero: not stored, written (or skipped on a zeroed target) at restore. */
export interface ZeroExtent {
  readonly kind: 'zero';
  readonly diskOffset: bigint;
  readonly length: bigint;
}

export type ManifestExtent = DataExtent | ZeroExtent;

/** Bytes kept as chunks outside the disk image (a VSS XML document, UTF-8): the chunks concatenated hold `length` bytes. */
export interface ChunkedDocument {
  readonly length: number;
  readonly chunks: readonly (ChunkRef & { readonly length: number })[];
}

/** Largest document a manifest may reference (a reader refuses more before fetching anything). */
export const MAX_DOCUMENT_BYTES = 64 * 1024 * 1024;

export type ManifestVss = ManifestVssNone | ManifestVssSnapshot;

/** No snapshot was taken: every partition was read from the live disk, and the record says why. */
export interface ManifestVssNone {
  readonly method: 'none';
  /** A stable code: "unsupported-platform", "opted-out", "not-volumes", … */
  readonly reason: string;
  readonly message: string;
}

/** The partitions were read from one VSS snapshot set (ASR semantics, docs/vss-agent.md). */
export interface ManifestVssSnapshot {
  readonly method: 'vss';
  /** VSS_BT_FULL or VSS_BT_COPY: whether writers and the agent updated their backup history. */
  readonly kind: 'full' | 'copy';
  readonly snapshotSetId: string;
  /** ISO 8601 UTC: when the copy began reading the snapshot (just after DoSnapshotSet). */
  readonly takenAt: string;
  /** Partitions read from a shadow copy, ordered by disk and partition. */
  readonly snapshots: readonly VssSnapshotRef[];
  /** Partitions read from the live disk although a snapshot was taken (EFI system partition, MSR, …), with a reason code. */
  readonly liveReads: readonly VssLiveRead[];
  /** The ASR writer's metadata document (IVssExamineWriterMetadata::SaveAsXML). */
  readonly asrMetadata: ChunkedDocument;
  /** The Backup Components Document (IVssBackupComponents::SaveAsXML after BackupComplete). */
  readonly backupComponents: ChunkedDocument;
  /** Each writer's restore method (seed 002), ordered by writer name. */
  readonly restoreMethods: readonly WriterRestoreRecord[];
  readonly warnings: readonly string[];
}

export interface VssSnapshotRef {
  readonly disk: number;
  readonly partition: number;
  /** `\\?\Volume{guid}\` of the original volume, lower-case GUID. */
  readonly volume: string;
  readonly snapshotId: string;
}

export interface VssLiveRead {
  readonly disk: number;
  readonly partition: number;
  /** "esp", "no-volume", "not-snapshotted", "bitlocker", "spanned-volume", … */
  readonly reason: string;
}

/** scrypt parameters a wrapped key may use: enough to resist guessing, bounded so a hostile record cannot exhaust a 2 GiB WinPE. */
export const SCRYPT_LIMITS = {
  minN: 2 ** 10,
  maxN: 2 ** 20,
  maxR: 32,
  maxP: 16,
  maxMemoryBytes: 256 * 1024 * 1024,
  /** N·r·p: the default 2^15·8·1 is 2^18. */
  maxWork: 2 ** 22,
  minSaltBytes: 16,
  maxSaltBytes: 64,
} as const;

/** Undefined when acceptable, else what is wrong. */
export function checkScryptParams(kdf: { readonly n: unknown; readonly r: unknown; readonly p: unknown; readonly salt: unknown }): string | undefined {
  const { n, r, p, salt } = kdf;
  const L = SCRYPT_LIMITS;
  if (!isInt(n) || n < L.minN || n > L.maxN || (n & (n - 1)) !== 0) return `n must be a power of two from ${L.minN} to ${L.maxN}`;
  if (!isInt(r) || r < 1 || r > L.maxR) return `r must be 1–${L.maxR}`;
  if (!isInt(p) || p < 1 || p > L.maxP) return `p must be 1–${L.maxP}`;
  if (128 * n * r > L.maxMemoryBytes) return `n·r needs more than ${L.maxMemoryBytes} bytes of memory`;
  if (n * r * p > L.maxWork) return `n·r·p exceeds ${L.maxWork}`;
  if (typeof salt !== 'string' || !HEX.test(salt) || salt.length < 2 * L.minSaltBytes || salt.length > 2 * L.maxSaltBytes || salt.length % 2 !== 0) {
    return `salt must be ${L.minSaltBytes}–${L.maxSaltBytes} bytes of lower-case hex`;
  }
  return undefined;
}

export function checkSealedKey(k: { readonly cipher: unknown; readonly nonce: unknown; readonly ciphertext: unknown; readonly tag: unknown }): string | undefined {
  if (k.cipher !== 'aes-256-gcm') return 'cipher must be aes-256-gcm';
  if (!hexOfBytes(k.nonce, 12)) return 'nonce must be 12 bytes of hex';
  if (!hexOfBytes(k.ciphertext, 32)) return 'ciphertext must be 32 bytes of hex';
  if (!hexOfBytes(k.tag, 16)) return 'tag must be 16 bytes of hex';
  return undefined;
}

function isInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v);
}

function hexOfBytes(v: unknown, bytes: number): boolean {
  return typeof v === 'string' && v.length === 2 * bytes && HEX.test(v);
}

// ---------------------------------------------------------------- encode

/** The JSON text of a manifest; throws manifest.invalid (with data.path) if the manifest is not valid. */
export function encodeManifest(m: BackupManifest): string {
  const json = manifestToJson(m);
  validateManifest(json);
  return JSON.stringify(json);
}

/** The manifest as plain JSON data (bigints as decimal strings), known fields only. */
export function manifestToJson(m: BackupManifest): JsonObject {
  return {
    formatVersion: m.formatVersion,
    setId: m.setId,
    pointSequence: m.pointSequence,
    createdAt: m.createdAt,
    source: { hostname: m.source.hostname, firmware: m.source.firmware },
    options: { codec: m.options.codec, blockSize: m.options.blockSize, encrypted: m.options.encrypted, onlyUsedBlocks: m.options.onlyUsedBlocks },
    ...(m.encryption === undefined ? {} : { encryption: { cipher: m.encryption.cipher, dataKey: wrappedKeyToJson(m.encryption.dataKey) } }),
    disks: m.disks.map(diskToJson),
    ...(m.vss === undefined ? {} : { vss: vssToJson(m.vss) }),
  };
}

function vssToJson(v: ManifestVss): JsonObject {
  if (v.method === 'none') return { method: v.method, reason: v.reason, message: v.message };
  return {
    method: v.method,
    kind: v.kind,
    snapshotSetId: v.snapshotSetId,
    takenAt: v.takenAt,
    snapshots: v.snapshots.map((x) => ({ disk: x.disk, partition: x.partition, volume: x.volume, snapshotId: x.snapshotId })),
    liveReads: v.liveReads.map((x) => ({ disk: x.disk, partition: x.partition, reason: x.reason })),
    asrMetadata: documentToJson(v.asrMetadata),
    backupComponents: documentToJson(v.backupComponents),
    restoreMethods: v.restoreMethods.map((w) => ({
      writerId: w.writerId, instanceId: w.instanceId, writerName: w.writerName, method: w.method, methodValue: w.methodValue,
      service: w.service, userProcedure: w.userProcedure, writerRestore: w.writerRestore, rebootRequired: w.rebootRequired,
      alternateLocationMappings: w.alternateLocationMappings, steps: [...w.steps], problems: [...w.problems],
    })),
    warnings: [...v.warnings],
  };
}

function documentToJson(d: ChunkedDocument): JsonObject {
  return { length: d.length, chunks: d.chunks.map((c) => ({ ...chunkRefToJson(c), length: c.length })) };
}

function wrappedKeyToJson(k: WrappedKey): JsonObject {
  return { kdf: k.kdf, n: k.n, r: k.r, p: k.p, salt: k.salt, cipher: k.cipher, nonce: k.nonce, ciphertext: k.ciphertext, tag: k.tag };
}

function diskToJson(d: ManifestDisk): JsonObject {
  return {
    number: d.number,
    style: d.style,
    identity: {
      ...(d.identity.mbrSignature === undefined ? {} : { mbrSignature: d.identity.mbrSignature }),
      ...(d.identity.gptDiskGuid === undefined ? {} : { gptDiskGuid: d.identity.gptDiskGuid }),
    },
    geometry: { sizeBytes: String(d.geometry.sizeBytes), logicalSectorSize: d.geometry.logicalSectorSize, physicalSectorSize: d.geometry.physicalSectorSize },
    tableSectors: d.tableSectors.map((t) => ({
      lba: String(t.lba),
      count: t.count,
      chunks: t.chunks.map((c) => ({ ...chunkRefToJson(c), length: c.length })),
    })),
    layout: {
      partitions: d.layout.partitions.map(partitionToJson),
      ...(d.layout.extra === undefined ? {} : { extra: d.layout.extra }),
    },
    extents: d.extents.map((e) =>
      e.kind === 'zero'
        ? { kind: 'zero', diskOffset: String(e.diskOffset), length: String(e.length) }
        : { kind: 'data', diskOffset: String(e.diskOffset), length: String(e.length), ...chunkRefToJson(e) },
    ),
  };
}

function chunkRefToJson(c: ChunkRef): JsonObject {
  return { chunkId: c.chunkId, storedHash: c.storedHash, storedLength: c.storedLength };
}

function partitionToJson(p: ManifestPartition): JsonObject {
  const optional: JsonObject = {};
  if (p.typeName !== undefined) optional.typeName = p.typeName;
  if (p.logical !== undefined) optional.logical = p.logical;
  if (p.uniqueGuid !== undefined) optional.uniqueGuid = p.uniqueGuid;
  if (p.attributes !== undefined) optional.attributes = String(p.attributes);
  if (p.usedBytes !== undefined) optional.usedBytes = String(p.usedBytes);
  return {
    number: p.number, startLba: String(p.startLba), sectorCount: String(p.sectorCount), type: p.type,
    name: p.name, bootable: p.bootable, filesystem: p.filesystem, ...optional,
  };
}

// ---------------------------------------------------------------- validate

const HEX = /^[0-9a-f]*$/;
const HASH = /^[0-9a-f]{64}$/;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const UINT64_MAX = 2n ** 64n - 1n;
const SET_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;
const FILESYSTEM = /^[a-z0-9-]{1,32}$/;
const MBR_TYPE = /^0x[0-9a-f]{2}$/;

/**
 * A typed manifest from untrusted JSON (already parsed), or a RecoveryError: manifest.invalid or
 * manifest.unsupported-version, with data.path naming the field. Type errors are reported at the
 * field itself; cross-field rules (order, overlap, bounds, duplicates) at the later of the fields.
 */
export function validateManifest(json: unknown): BackupManifest {
  const r = new JsonReader();
  const o = r.object(json, '', ['formatVersion', 'setId', 'pointSequence', 'createdAt', 'source', 'options', 'encryption', 'disks', 'vss']);
  const version = r.int(o.formatVersion, 'formatVersion', 1, Number.MAX_SAFE_INTEGER);
  if (version !== MANIFEST_FORMAT_VERSION) {
    r.fail('formatVersion', `format version ${version} is not supported (this build reads ${MANIFEST_FORMAT_VERSION})`, 'manifest.unsupported-version');
  }
  const setId = r.string(o.setId, 'setId', SET_ID, 'letters, digits and ._:- (1–128)');
  const pointSequence = r.int(o.pointSequence, 'pointSequence', 1, Number.MAX_SAFE_INTEGER);
  const createdAt = r.string(o.createdAt, 'createdAt', ISO_UTC, 'an ISO 8601 UTC time');
  // Date.parse rolls 2026-02-30 over to March: compare the calendar day it lands on as well.
  const ms = Date.parse(createdAt);
  if (Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== createdAt.slice(0, 10)) r.fail('createdAt', 'is not a real date and time');
  const so = r.object(o.source, 'source', ['hostname', 'firmware']);
  const source = {
    hostname: r.text(so.hostname, 'source.hostname', 1, 255),
    firmware: r.oneOf(so.firmware, 'source.firmware', ['bios', 'uefi'] as const),
  };
  const options = readOptions(r, o.options);
  const encryption = o.encryption === undefined ? undefined : readEncryption(r, o.encryption);
  if (options.encrypted !== (encryption !== undefined)) {
    r.fail('encryption', options.encrypted ? 'is required when options.encrypted is true' : 'must be absent when options.encrypted is false');
  }
  const disks = r.array(o.disks, 'disks').map((d, i) => readDisk(r, d, index('disks', i)));
  r.unique(disks.map((d) => d.number), (i) => at(index('disks', i), 'number'), 'disk number');
  const vss = o.vss === undefined ? undefined : readVss(r, o.vss, disks);
  checkChunkConsistency(r, disks, vss);
  return {
    formatVersion: MANIFEST_FORMAT_VERSION, setId, pointSequence, createdAt, source, options,
    ...(encryption === undefined ? {} : { encryption }),
    disks,
    ...(vss === undefined ? {} : { vss }),
  };
}

const VOLUME_PATH = /^\\\\\?\\Volume\{[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\}\\$/;
const REASON = /^[a-z0-9]+(-[a-z0-9]+)*$/;
const MAX_VSS_ENTRIES = 10_000;
const RESTORE_METHODS = Object.keys(RESTORE_METHOD_VALUE) as RestoreMethod[];
const WRITER_RESTORES: readonly WriterRestore[] = ['undefined', 'never', 'if-replace-fails', 'always'];

function readVss(r: JsonReader, v: unknown, disks: readonly ManifestDisk[]): ManifestVss {
  const p = 'vss';
  const method = r.oneOf(r.object(v, p, undefined).method, at(p, 'method'), ['none', 'vss'] as const);
  if (method === 'none') {
    const o = r.object(v, p, ['method', 'reason', 'message']);
    return { method, reason: readReason(r, o.reason, at(p, 'reason')), message: r.text(o.message, at(p, 'message'), 0, 2000) };
  }
  const o = r.object(v, p, ['method', 'kind', 'snapshotSetId', 'takenAt', 'snapshots', 'liveReads', 'asrMetadata', 'backupComponents', 'restoreMethods', 'warnings']);
  const kind = r.oneOf(o.kind, at(p, 'kind'), ['full', 'copy'] as const);
  const snapshotSetId = r.string(o.snapshotSetId, at(p, 'snapshotSetId'), GUID, 'a lower-case GUID');
  const takenAt = r.string(o.takenAt, at(p, 'takenAt'), ISO_UTC, 'an ISO 8601 UTC time');
  if (Number.isNaN(Date.parse(takenAt))) r.fail(at(p, 'takenAt'), 'is not a real date and time');
  const seen = new Set<string>();
  const partitionRef = (x: JsonObject, xp: string): { disk: number; partition: number } => {
    const disk = r.int(x.disk, at(xp, 'disk'), 0, 1_000_000);
    const d = disks.find((dd) => dd.number === disk);
    if (d === undefined) r.fail(at(xp, 'disk'), `names disk ${disk}, which the manifest does not hold`);
    const partition = r.int(x.partition, at(xp, 'partition'), 1, 1_000_000);
    if (!d.layout.partitions.some((pp) => pp.number === partition)) r.fail(at(xp, 'partition'), `names partition ${partition}, which disk ${disk} does not have`);
    const key = `${disk}:${partition}`;
    if (seen.has(key)) r.fail(at(xp, 'partition'), `repeats disk ${disk} partition ${partition}`);
    seen.add(key);
    return { disk, partition };
  };
  const snapshots = boundedArray(r, o.snapshots, at(p, 'snapshots')).map((x, i): VssSnapshotRef => {
    const xp = index(at(p, 'snapshots'), i);
    const xo = r.object(x, xp, ['disk', 'partition', 'volume', 'snapshotId']);
    return {
      ...partitionRef(xo, xp),
      volume: r.string(xo.volume, at(xp, 'volume'), VOLUME_PATH, 'a volume path \\\\?\\Volume{guid}\\ with a lower-case GUID'),
      snapshotId: r.string(xo.snapshotId, at(xp, 'snapshotId'), GUID, 'a lower-case GUID'),
    };
  });
  const liveReads = boundedArray(r, o.liveReads, at(p, 'liveReads')).map((x, i): VssLiveRead => {
    const xp = index(at(p, 'liveReads'), i);
    const xo = r.object(x, xp, ['disk', 'partition', 'reason']);
    return { ...partitionRef(xo, xp), reason: readReason(r, xo.reason, at(xp, 'reason')) };
  });
  const asrMetadata = readDocument(r, o.asrMetadata, at(p, 'asrMetadata'));
  const backupComponents = readDocument(r, o.backupComponents, at(p, 'backupComponents'));
  const restoreMethods = boundedArray(r, o.restoreMethods, at(p, 'restoreMethods')).map((x, i) => readRestoreRecord(r, x, index(at(p, 'restoreMethods'), i)));
  const warnings = boundedArray(r, o.warnings, at(p, 'warnings')).map((x, i) => r.text(x, index(at(p, 'warnings'), i), 0, 2000));
  return { method, kind, snapshotSetId, takenAt, snapshots, liveReads, asrMetadata, backupComponents, restoreMethods, warnings };
}

function readReason(r: JsonReader, v: unknown, p: string): string {
  const reason = r.string(v, p, REASON, 'a lower-case code like "opted-out"');
  if (reason.length > 64) r.fail(p, 'must be at most 64 characters long');
  return reason;
}

function boundedArray(r: JsonReader, v: unknown, p: string): readonly unknown[] {
  const a = r.array(v, p);
  if (a.length > MAX_VSS_ENTRIES) r.fail(p, `has more than ${MAX_VSS_ENTRIES} entries`);
  return a;
}

function readDocument(r: JsonReader, v: unknown, p: string): ChunkedDocument {
  const o = r.object(v, p, ['length', 'chunks']);
  const length = r.int(o.length, at(p, 'length'), 0, MAX_DOCUMENT_BYTES);
  const chunks = r.array(o.chunks, at(p, 'chunks')).map((c, i) => {
    const cp = index(at(p, 'chunks'), i);
    const co = r.object(c, cp, ['chunkId', 'storedHash', 'storedLength', 'length']);
    const chunkLength = r.int(co.length, at(cp, 'length'), 1, MAX_CHUNK_PLAINTEXT);
    return { ...readChunkRef(r, co, cp, chunkLength), length: chunkLength };
  });
  const total = chunks.reduce((sum, c) => sum + c.length, 0);
  if (total !== length) r.fail(at(p, 'chunks'), `hold ${total} bytes, the document is ${length}`);
  return { length, chunks };
}

function readRestoreRecord(r: JsonReader, v: unknown, p: string): WriterRestoreRecord {
  const o = r.object(v, p, ['writerId', 'instanceId', 'writerName', 'method', 'methodValue', 'service', 'userProcedure', 'writerRestore', 'rebootRequired', 'alternateLocationMappings', 'steps', 'problems']);
  const method = r.oneOf(o.method, at(p, 'method'), RESTORE_METHODS);
  const methodValue = r.int(o.methodValue, at(p, 'methodValue'), 0, 255);
  if (methodValue !== RESTORE_METHOD_VALUE[method]) r.fail(at(p, 'methodValue'), `must be ${RESTORE_METHOD_VALUE[method]} for method "${method}"`);
  const texts = (field: 'steps' | 'problems'): string[] => {
    const a = r.array(o[field], at(p, field));
    if (a.length > 100) r.fail(at(p, field), 'has more than 100 entries');
    return a.map((x, i) => r.text(x, index(at(p, field), i), 0, 2000));
  };
  return {
    writerId: r.string(o.writerId, at(p, 'writerId'), GUID, 'a lower-case GUID'),
    instanceId: r.string(o.instanceId, at(p, 'instanceId'), GUID, 'a lower-case GUID'),
    writerName: r.text(o.writerName, at(p, 'writerName'), 0, 1024),
    method,
    methodValue,
    service: r.text(o.service, at(p, 'service'), 0, 1024),
    userProcedure: r.text(o.userProcedure, at(p, 'userProcedure'), 0, 4096),
    writerRestore: r.oneOf(o.writerRestore, at(p, 'writerRestore'), WRITER_RESTORES),
    rebootRequired: r.boolean(o.rebootRequired, at(p, 'rebootRequired')),
    alternateLocationMappings: r.int(o.alternateLocationMappings, at(p, 'alternateLocationMappings'), 0, 1_000_000),
    steps: texts('steps'),
    problems: texts('problems'),
  };
}

function readOptions(r: JsonReader, v: unknown): BackupOptions {
  const o = r.object(v, 'options', ['codec', 'blockSize', 'encrypted', 'onlyUsedBlocks']);
  const codec = r.oneOf(o.codec, 'options.codec', ['lz4', 'none'] as const);
  const blockSize = r.int(o.blockSize, 'options.blockSize', 0, Number.MAX_SAFE_INTEGER);
  if (!BLOCK_SIZES.includes(blockSize)) r.fail('options.blockSize', `must be one of ${BLOCK_SIZES.join(', ')}`);
  return { codec, blockSize, encrypted: r.boolean(o.encrypted, 'options.encrypted'), onlyUsedBlocks: r.boolean(o.onlyUsedBlocks, 'options.onlyUsedBlocks') };
}

function readEncryption(r: JsonReader, v: unknown): ManifestEncryption {
  const o = r.object(v, 'encryption', ['cipher', 'dataKey']);
  const cipher = r.oneOf(o.cipher, 'encryption.cipher', ['aes-256-gcm'] as const);
  const p = 'encryption.dataKey';
  const k = r.object(o.dataKey, p, ['kdf', 'n', 'r', 'p', 'salt', 'cipher', 'nonce', 'ciphertext', 'tag']);
  const dataKey: WrappedKey = {
    kdf: r.oneOf(k.kdf, at(p, 'kdf'), ['scrypt'] as const),
    n: r.int(k.n, at(p, 'n'), 1, Number.MAX_SAFE_INTEGER),
    r: r.int(k.r, at(p, 'r'), 1, Number.MAX_SAFE_INTEGER),
    p: r.int(k.p, at(p, 'p'), 1, Number.MAX_SAFE_INTEGER),
    salt: r.string(k.salt, at(p, 'salt'), HEX, 'lower-case hex'),
    cipher: r.oneOf(k.cipher, at(p, 'cipher'), ['aes-256-gcm'] as const),
    nonce: r.string(k.nonce, at(p, 'nonce'), HEX, 'lower-case hex'),
    ciphertext: r.string(k.ciphertext, at(p, 'ciphertext'), HEX, 'lower-case hex'),
    tag: r.string(k.tag, at(p, 'tag'), HEX, 'lower-case hex'),
  };
  const kdfProblem = checkScryptParams(dataKey);
  if (kdfProblem !== undefined) r.fail(p, kdfProblem);
  const sealProblem = checkSealedKey(dataKey);
  if (sealProblem !== undefined) r.fail(p, sealProblem);
  return { cipher, dataKey };
}

function readDisk(r: JsonReader, v: unknown, p: string): ManifestDisk {
  const o = r.object(v, p, ['number', 'style', 'identity', 'geometry', 'tableSectors', 'layout', 'extents']);
  const number = r.int(o.number, at(p, 'number'), 0, 1_000_000);
  const style = r.oneOf(o.style, at(p, 'style'), ['mbr', 'gpt', 'raw'] as const);
  const identity = readIdentity(r, o.identity, at(p, 'identity'), style);
  const geometry = readGeometry(r, o.geometry, at(p, 'geometry'));
  const tableSectors = r.array(o.tableSectors, at(p, 'tableSectors')).map((t, i) => readTableRun(r, t, index(at(p, 'tableSectors'), i), geometry));
  r.ordered(tableSectors.map((t) => [t.lba, t.lba + BigInt(t.count)]), (i) => at(index(at(p, 'tableSectors'), i), 'lba'));
  const layout = readLayout(r, o.layout, at(p, 'layout'), geometry);
  const extents = r.array(o.extents, at(p, 'extents')).map((e, i) => readExtent(r, e, index(at(p, 'extents'), i), geometry));
  r.ordered(extents.map((e) => [e.diskOffset, e.diskOffset + e.length]), (i) => at(index(at(p, 'extents'), i), 'diskOffset'));
  return { number, style, identity, geometry, tableSectors, layout, extents };
}

function readIdentity(r: JsonReader, v: unknown, p: string, style: DiskStyle): ManifestDisk['identity'] {
  const o = r.object(v, p, ['mbrSignature', 'gptDiskGuid']);
  const mbrSignature = o.mbrSignature === undefined ? undefined : r.int(o.mbrSignature, at(p, 'mbrSignature'), 0, 0xffff_ffff);
  const gptDiskGuid = o.gptDiskGuid === undefined ? undefined : r.string(o.gptDiskGuid, at(p, 'gptDiskGuid'), GUID, 'a lower-case GUID');
  if ((style === 'mbr') !== (mbrSignature !== undefined)) r.fail(at(p, 'mbrSignature'), style === 'mbr' ? 'is required for an MBR disk' : `must be absent for a ${style} disk`);
  if ((style === 'gpt') !== (gptDiskGuid !== undefined)) r.fail(at(p, 'gptDiskGuid'), style === 'gpt' ? 'is required for a GPT disk' : `must be absent for a ${style} disk`);
  return style === 'mbr' ? { mbrSignature } : style === 'gpt' ? { gptDiskGuid } : {};
}

function readGeometry(r: JsonReader, v: unknown, p: string): DiskGeometry {
  const o = r.object(v, p, ['sizeBytes', 'logicalSectorSize', 'physicalSectorSize']);
  const sizeBytes = r.bigint(o.sizeBytes, at(p, 'sizeBytes'), 1n, UINT64_MAX);
  const logicalSectorSize = r.oneOf(o.logicalSectorSize, at(p, 'logicalSectorSize'), [512, 4096] as const) satisfies SectorSize;
  const physicalSectorSize = r.int(o.physicalSectorSize, at(p, 'physicalSectorSize'), 512, 65536);
  if ((physicalSectorSize & (physicalSectorSize - 1)) !== 0 || physicalSectorSize < logicalSectorSize) {
    r.fail(at(p, 'physicalSectorSize'), 'must be a power of two no smaller than the logical sector size');
  }
  if (sizeBytes % BigInt(logicalSectorSize) !== 0n) r.fail(at(p, 'sizeBytes'), 'must be a multiple of the logical sector size');
  return { sizeBytes, logicalSectorSize, physicalSectorSize };
}

function readTableRun(r: JsonReader, v: unknown, p: string, g: DiskGeometry): TableSectorRun {
  const o = r.object(v, p, ['lba', 'count', 'chunks']);
  const lba = r.bigint(o.lba, at(p, 'lba'), 0n, UINT64_MAX);
  const count = r.int(o.count, at(p, 'count'), 1, MAX_CHUNK_PLAINTEXT);
  const chunks = r.array(o.chunks, at(p, 'chunks')).map((c, i) => {
    const cp = index(at(p, 'chunks'), i);
    const co = r.object(c, cp, ['chunkId', 'storedHash', 'storedLength', 'length']);
    const length = r.int(co.length, at(cp, 'length'), 1, MAX_CHUNK_PLAINTEXT);
    return { ...readChunkRef(r, co, cp, length), length };
  });
  const ss = BigInt(g.logicalSectorSize);
  if ((lba + BigInt(count)) * ss > g.sizeBytes) r.fail(at(p, 'count'), 'runs past the end of the disk');
  const total = chunks.reduce((sum, c) => sum + c.length, 0);
  if (BigInt(total) !== BigInt(count) * ss) r.fail(at(p, 'chunks'), `hold ${total} bytes, the run is ${BigInt(count) * ss}`);
  return { lba, count, chunks };
}

function readChunkRef(r: JsonReader, o: JsonObject, p: string, length: number): ChunkRef {
  const chunkId = r.string(o.chunkId, at(p, 'chunkId'), HASH, '64 lower-case hex digits');
  const storedHash = r.string(o.storedHash, at(p, 'storedHash'), HASH, '64 lower-case hex digits');
  const storedLength = r.int(o.storedLength, at(p, 'storedLength'), CHUNK_HEADER_BYTES, length + MAX_CHUNK_OVERHEAD);
  return { chunkId, storedHash, storedLength };
}

function readLayout(r: JsonReader, v: unknown, p: string, g: DiskGeometry): ManifestLayout {
  const o = r.object(v, p, ['partitions', 'extra']);
  const partitions = r.array(o.partitions, at(p, 'partitions')).map((x, i) => readPartition(r, x, index(at(p, 'partitions'), i), g));
  r.unique(partitions.map((x) => x.number), (i) => at(index(at(p, 'partitions'), i), 'number'), 'partition number');
  if (o.extra === undefined) return { partitions };
  return { partitions, extra: checkJsonValue(r, o.extra, at(p, 'extra')) };
}

function readPartition(r: JsonReader, v: unknown, p: string, g: DiskGeometry): ManifestPartition {
  const o = r.object(v, p, ['number', 'startLba', 'sectorCount', 'type', 'typeName', 'name', 'bootable', 'logical', 'uniqueGuid', 'attributes', 'filesystem', 'usedBytes']);
  const number = r.int(o.number, at(p, 'number'), 1, 1_000_000);
  const startLba = r.bigint(o.startLba, at(p, 'startLba'), 0n, UINT64_MAX);
  const sectorCount = r.bigint(o.sectorCount, at(p, 'sectorCount'), 1n, UINT64_MAX);
  const type = r.text(o.type, at(p, 'type'), 1, 64);
  if (!GUID.test(type) && !MBR_TYPE.test(type)) r.fail(at(p, 'type'), 'must be "0xNN" (MBR) or a lower-case type GUID (GPT)');
  const out: { -readonly [K in keyof ManifestPartition]: ManifestPartition[K] } = {
    number, startLba, sectorCount, type,
    name: '', bootable: false, filesystem: '',
  };
  if (o.typeName !== undefined) out.typeName = r.text(o.typeName, at(p, 'typeName'), 0, 256);
  out.name = r.text(o.name, at(p, 'name'), 0, 256);
  out.bootable = r.boolean(o.bootable, at(p, 'bootable'));
  if (o.logical !== undefined) out.logical = r.boolean(o.logical, at(p, 'logical'));
  if (o.uniqueGuid !== undefined) out.uniqueGuid = r.string(o.uniqueGuid, at(p, 'uniqueGuid'), GUID, 'a lower-case GUID');
  if (o.attributes !== undefined) out.attributes = r.bigint(o.attributes, at(p, 'attributes'), 0n, UINT64_MAX);
  out.filesystem = r.string(o.filesystem, at(p, 'filesystem'), FILESYSTEM, 'a lower-case filesystem name');
  if (o.usedBytes !== undefined) out.usedBytes = r.bigint(o.usedBytes, at(p, 'usedBytes'), 0n, UINT64_MAX);
  const partBytes = sectorCount * BigInt(g.logicalSectorSize);
  if ((startLba + sectorCount) * BigInt(g.logicalSectorSize) > g.sizeBytes) r.fail(at(p, 'sectorCount'), 'runs past the end of the disk');
  if (out.usedBytes !== undefined && out.usedBytes > partBytes) r.fail(at(p, 'usedBytes'), 'exceeds the partition size');
  return out;
}

function readExtent(r: JsonReader, v: unknown, p: string, g: DiskGeometry): ManifestExtent {
  const kind = r.oneOf(r.object(v, p, undefined).kind, at(p, 'kind'), ['data', 'zero'] as const);
  const o = r.object(v, p, kind === 'zero' ? ['kind', 'diskOffset', 'length'] : ['kind', 'diskOffset', 'length', 'chunkId', 'storedHash', 'storedLength']);
  const diskOffset = r.bigint(o.diskOffset, at(p, 'diskOffset'), 0n, UINT64_MAX);
  const length = r.bigint(o.length, at(p, 'length'), 1n, kind === 'data' ? BigInt(MAX_CHUNK_PLAINTEXT) : UINT64_MAX);
  const ss = BigInt(g.logicalSectorSize);
  if (diskOffset % ss !== 0n) r.fail(at(p, 'diskOffset'), `must be a multiple of the logical sector size ${ss}`);
  if (length % ss !== 0n) r.fail(at(p, 'length'), `must be a multiple of the logical sector size ${ss}`);
  if (diskOffset + length > g.sizeBytes) r.fail(at(p, 'length'), 'runs past the end of the disk');
  if (kind === 'zero') return { kind, diskOffset, length };
  return { kind, diskOffset, length, ...readChunkRef(r, o, p, Number(length)) };
}

/** One chunk id stands for one plaintext and one stored blob: every reference must agree on them. */
function checkChunkConsistency(r: JsonReader, disks: readonly ManifestDisk[], vss: ManifestVss | undefined): void {
  const seen = new Map<string, { storedHash: string; storedLength: number; length: number }>();
  const check = (c: ChunkRef, length: number, p: string): void => {
    const first = seen.get(c.chunkId);
    if (first === undefined) {
      seen.set(c.chunkId, { storedHash: c.storedHash, storedLength: c.storedLength, length });
    } else if (first.storedHash !== c.storedHash || first.storedLength !== c.storedLength || first.length !== length) {
      const field = first.storedHash !== c.storedHash ? 'storedHash' : first.storedLength !== c.storedLength ? 'storedLength' : 'length';
      r.fail(at(p, field), `disagrees with an earlier reference to chunk ${c.chunkId}`);
    }
  };
  disks.forEach((d, di) => {
    const dp = index('disks', di);
    d.tableSectors.forEach((t, ti) => t.chunks.forEach((c, ci) => check(c, c.length, index(at(index(at(dp, 'tableSectors'), ti), 'chunks'), ci))));
    d.extents.forEach((e, ei) => {
      if (e.kind === 'data') check(e, Number(e.length), index(at(dp, 'extents'), ei));
    });
  });
  if (vss?.method === 'vss') {
    for (const field of ['asrMetadata', 'backupComponents'] as const) {
      vss[field].chunks.forEach((c, ci) => check(c, c.length, index(at(at('vss', field), 'chunks'), ci)));
    }
  }
}

/** Every chunk a manifest references, with what the manifest says about it (dedup, garbage collection). */
export function referencedChunks(m: BackupManifest): Map<string, ChunkRef & { readonly length: number }> {
  const out = new Map<string, ChunkRef & { readonly length: number }>();
  for (const d of m.disks) {
    for (const t of d.tableSectors) for (const c of t.chunks) out.set(c.chunkId, c);
    for (const e of d.extents) {
      if (e.kind === 'data') out.set(e.chunkId, { chunkId: e.chunkId, storedHash: e.storedHash, storedLength: e.storedLength, length: Number(e.length) });
    }
  }
  // The VSS documents are chunks of the point too: the server checks they are held and keeps them alive.
  if (m.vss?.method === 'vss') for (const c of [...m.vss.asrMetadata.chunks, ...m.vss.backupComponents.chunks]) out.set(c.chunkId, c);
  return out;
}

// ---------------------------------------------------------------- reading untrusted JSON

export type JsonValue = null | boolean | number | string | readonly JsonValue[] | { readonly [key: string]: JsonValue };
type JsonObject = Record<string, unknown>;

/** "disks[0]" + "style" → "disks[0].style"; keys that are not identifiers are quoted: disks[0]["a b"]. The root is "$". */
function at(path: string, key: string): string {
  if (!/^[A-Za-z_$][\w$]*$/.test(key)) return `${path === '' ? '$' : path}[${JSON.stringify(key)}]`;
  return path === '' || path === '$' ? key : `${path}.${key}`;
}

function index(path: string, i: number): string {
  return `${path}[${i}]`;
}

const PRINTABLE = /^[^\u0000-\u001f\u007f]*$/;
const DECIMAL = /^(0|[1-9][0-9]{0,19})$/;
const MAX_JSON_DEPTH = 32;

/** Typed reads that throw manifest.invalid naming the path; no state, a class only to group them. */
class JsonReader {
  fail(path: string, message: string, code: BackupErrorCode = 'manifest.invalid'): never {
    const where = path === '' ? '$' : path;
    throw backupError(code, `manifest field ${where} ${message}`, { path: where });
  }

  /** A plain object's own fields; with `allowed`, any other field is an error at that field. */
  object(v: unknown, path: string, allowed: readonly string[] | undefined): JsonObject {
    if (v === undefined) this.fail(path, 'is missing');
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(path, 'must be an object');
    const proto: unknown = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) this.fail(path, 'must be a plain object');
    const out: JsonObject = Object.create(null) as JsonObject;
    for (const key of Object.keys(v)) {
      if (allowed !== undefined && !allowed.includes(key)) this.fail(at(path, key), 'is not a known field');
      out[key] = (v as JsonObject)[key];
    }
    return out;
  }

  array(v: unknown, path: string): readonly unknown[] {
    if (v === undefined) this.fail(path, 'is missing');
    if (!Array.isArray(v)) this.fail(path, 'must be an array');
    // Array.from turns holes of sparse arrays into undefined, which the element readers report.
    return Array.from(v as readonly unknown[]);
  }

  int(v: unknown, path: string, min: number, max: number): number {
    if (v === undefined) this.fail(path, 'is missing');
    if (typeof v !== 'number' || !Number.isSafeInteger(v)) this.fail(path, 'must be an integer');
    if (v < min || v > max) this.fail(path, `must be from ${min} to ${max}`);
    return v;
  }

  /** Bigints travel as decimal strings. */
  bigint(v: unknown, path: string, min: bigint, max: bigint): bigint {
    if (v === undefined) this.fail(path, 'is missing');
    if (typeof v !== 'string' || !DECIMAL.test(v)) this.fail(path, 'must be a decimal integer in a string');
    const n = BigInt(v);
    if (n < min || n > max) this.fail(path, `must be from ${min} to ${max}`);
    return n;
  }

  string(v: unknown, path: string, pattern: RegExp, what: string): string {
    if (v === undefined) this.fail(path, 'is missing');
    if (typeof v !== 'string') this.fail(path, 'must be a string');
    if (!pattern.test(v)) this.fail(path, `must be ${what}`);
    return v;
  }

  /** Free text for people: bounded length, no control characters. */
  text(v: unknown, path: string, minLength: number, maxLength: number): string {
    const s = this.string(v, path, PRINTABLE, 'text without control characters');
    if (s.length < minLength || s.length > maxLength) this.fail(path, `must be ${minLength}–${maxLength} characters long`);
    return s;
  }

  boolean(v: unknown, path: string): boolean {
    if (v === undefined) this.fail(path, 'is missing');
    if (typeof v !== 'boolean') this.fail(path, 'must be true or false');
    return v;
  }

  oneOf<const T extends string | number>(v: unknown, path: string, values: readonly T[]): T {
    if (v === undefined) this.fail(path, 'is missing');
    if (!values.includes(v as T)) this.fail(path, `must be one of ${values.map((x) => JSON.stringify(x)).join(', ')}`);
    return v as T;
  }

  unique<T>(values: readonly T[], pathOf: (i: number) => string, what: string): void {
    const seen = new Set<T>();
    values.forEach((value, i) => {
      if (seen.has(value)) this.fail(pathOf(i), `repeats ${what} ${String(value)}`);
      seen.add(value);
    });
  }

  /** Half-open ranges [start, end) in ascending order without overlap. */
  ordered(ranges: readonly (readonly [bigint, bigint])[], pathOf: (i: number) => string): void {
    for (let i = 1; i < ranges.length; i++) {
      const prev = ranges[i - 1];
      const cur = ranges[i];
      if (prev !== undefined && cur !== undefined && cur[0] < prev[1]) {
        this.fail(pathOf(i), cur[0] < prev[0] ? 'is out of order' : 'overlaps the previous entry');
      }
    }
  }
}

/** Any JSON value: plain objects and arrays of strings, finite numbers, booleans and null. */
function checkJsonValue(r: JsonReader, v: unknown, path: string, depth = 0): JsonValue {
  if (depth > MAX_JSON_DEPTH) r.fail(path, `nests deeper than ${MAX_JSON_DEPTH} levels`);
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return v;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) r.fail(path, 'must be a finite number');
    return v;
  }
  if (Array.isArray(v)) return Array.from(v as readonly unknown[], (x, i) => checkJsonValue(r, x, index(path, i), depth + 1));
  if (typeof v !== 'object') r.fail(path, 'must be a JSON value');
  const o = r.object(v, path, undefined);
  const out: Record<string, JsonValue> = {};
  for (const key of Object.keys(o)) {
    // A "__proto__" key from JSON.parse is plain data; defineProperty keeps it so.
    Object.defineProperty(out, key, { value: checkJsonValue(r, o[key], at(path, key), depth + 1), enumerable: true, writable: true, configurable: true });
  }
  return out;
}
