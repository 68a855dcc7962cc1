/**
 * takeBackup with a snapshotter: a fake one (adapters/memory/memory-snapshotter.ts) whose frozen
 * partitions hold *different* bytes from the live disk — a different NTFS $Bitmap and different
 * cluster contents — so the restore point shows which source each byte came from: partition data
 * and the NTFS used-block map from the snapshot, partition tables, gaps and the partitions the
 * snapshot does not cover from the live disk. Then the record in the manifest, failures inside the
 * copy (cleanup runs, the error keeps its code), and the explicit no-snapshot adapter.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MemoryDisk } from '../../../../src/adapters/memory/memory-disk.ts';
import { MemorySnapshotter, MEMORY_SNAPSHOT_SET_ID } from '../../../../src/adapters/memory/memory-snapshotter.ts';
import { NoSnapshot } from '../../../../src/adapters/node/no-snapshot.ts';
import { NodeSetKeys } from '../../../../src/adapters/node/set-keys.ts';
import type { BackupNotice } from '../../../../src/app/backup/observer.ts';
import { DEFAULT_BACKUP_OPTIONS } from '../../../../src/app/backup/options.ts';
import { takeBackup, type BackupRequest } from '../../../../src/app/backup/take-backup.ts';
import { usedBlockMap } from '../../../../src/core/blockmap/detect.ts';
import { CHUNK_HEADER_BYTES } from '../../../../src/core/backup/chunk-format.ts';
import { encodeManifest, validateManifest, type BackupManifest, type ChunkedDocument } from '../../../../src/core/backup/manifest.ts';
import { RecoveryError } from '../../../../src/core/errors.ts';
import { decodeDocument } from '../../../../src/core/vss/document-bytes.ts';
import type { FrozenVolume } from '../../../../src/ports/volume-snapshot.ts';
import type { ChunkStat } from '../../../../src/ports/chunk-store.ts';
import { MemoryBackupServerWithStats } from '../../../helpers/make-backup.ts';
import { noise } from '../../../helpers/noise.ts';
import { buildNtfsVolume, memoryReader, type NtfsVolumeSpec } from '../../core/blockmap/synthetic-volumes.ts';

const KiB = 1024;
const MiB = 1024 * KiB;
const SECTOR = 512;
const CLUSTER = 4096;
const NOON = Date.UTC(2026, 0, 7, 12);

// ---------------------------------------------------------------- the disk: MBR, an "ESP", a gap, NTFS, a tail

const P1 = { start: 2048, count: 2048 }; // 1 MiB at 1 MiB: no filesystem the block maps know, copied whole
const NTFS_SPEC: Omit<NtfsVolumeSpec, 'used'> = { clusterCount: 256, mftRuns: [{ lcn: 4, length: 4 }], label: 'Windows' };
const LIVE_USED: NtfsVolumeSpec['used'] = [[0, 8], [50, 2]];
const FROZEN_USED: NtfsVolumeSpec['used'] = [[0, 8], [100, 10]];
const liveNtfs = buildNtfsVolume({ ...NTFS_SPEC, used: LIVE_USED });
const frozenNtfs = buildNtfsVolume({ ...NTFS_SPEC, used: FROZEN_USED });
const P2 = { start: 4608, count: Number(liveNtfs.partitionBytes) / SECTOR }; // at 2.25 MiB, after a 256 KiB gap
const DISK_BYTES = 4 * MiB;

const at = (lba: number): number => lba * SECTOR;

/** The live disk and the frozen copy of partition 2 (whose clusters 100–109 hold new data the live bitmap does not know yet). */
function fixture() {
  const live = new Uint8Array(DISK_BYTES);
  const view = new DataView(live.buffer);
  view.setUint32(440, 0x5eed5eed, true);
  const entry = (i: number, type: number, p: { start: number; count: number }): void => {
    live[446 + 16 * i + 4] = type;
    view.setUint32(446 + 16 * i + 8, p.start, true);
    view.setUint32(446 + 16 * i + 12, p.count, true);
  };
  entry(0, 0xef, P1);
  entry(1, 0x07, P2);
  live[510] = 0x55;
  live[511] = 0xaa;
  live.set(noise(MiB - SECTOR, 'gap before p1'), SECTOR);
  live.set(noise(MiB, 'p1 live'), at(P1.start));
  live.set(noise(256 * KiB, 'gap between'), at(P1.start + P1.count));
  const p2 = liveNtfs.bytes.slice();
  p2.set(noise(2 * CLUSTER, 'live-only clusters 50-51'), 50 * CLUSTER);
  p2.set(noise(10 * CLUSTER, 'stale clusters 100-109'), 100 * CLUSTER);
  live.set(p2, at(P2.start));
  const tail = at(P2.start + P2.count);
  live.set(noise(DISK_BYTES - tail, 'tail'), tail);

  const frozen = frozenNtfs.bytes.slice();
  frozen.set(noise(10 * CLUSTER, 'new clusters 100-109'), 100 * CLUSTER);
  return { live, frozen, liveDisk: MemoryDisk.fromBytes(live, { path: 'live-disk' }), frozenVolume: MemoryDisk.fromBytes(frozen, { path: 'shadow-copy-7' }) };
}

const ASR_XML = `<WRITER_METADATA caption="${'é𝄞ß'.repeat(40_000)}"/>`;
const COMPONENTS_XML = '<BACKUP_COMPONENTS backupType="copy" snapshotSetId="0e5b2c3a-1d4f-4a6b-8c7d-9e0f1a2b3c4d"/>';

function snapshotter(frozenVolume: FrozenVolume, extra: Partial<ConstructorParameters<typeof MemorySnapshotter>[0]> = {}): MemorySnapshotter {
  return new MemorySnapshotter({
    frozen: new Map([['0:2', frozenVolume]]),
    liveReasons: new Map([['0:1', 'esp']]),
    record: {
      asrMetadataXml: ASR_XML,
      backupComponentsXml: COMPONENTS_XML,
      restoreMethods: [{
        writerId: 'BE000CBE-11FE-4426-9C58-531AA6355FC4', instanceId: '7c0e9f1a-5b2d-4c3e-9f80-112233445566', writerName: 'ASR Writer',
        method: 'custom', methodValue: 7, service: '', userProcedure: 'line one\r\nline two', writerRestore: 'never', rebootRequired: true,
        alternateLocationMappings: 0, steps: ['use the writer\'s own restore mechanism; the metadata paths are not used'], problems: [],
      }],
      warnings: ['writer "System Writer" failed with\nVSS_E_WRITERERROR_RETRYABLE'],
    },
    ...extra,
  });
}

async function server(): Promise<MemoryBackupServerWithStats> {
  const s = new MemoryBackupServerWithStats();
  await s.register({ machineId: 'm', hostname: 'h', inventory: { firmware: 'uefi', disks: [], nics: [] } });
  return s;
}

function request(disk: MemoryDisk, extra: Partial<BackupRequest> = {}): BackupRequest {
  return {
    sources: [{ device: disk, number: 0 }],
    resource: 'snap',
    hostname: 'WIN-SRV01',
    firmware: 'bios',
    // Unencrypted and uncompressed: a stored blob is its 16-byte header and then the plaintext.
    options: { ...DEFAULT_BACKUP_OPTIONS, blockSize: 64 * KiB, compression: 'none', channels: 2 },
    now: () => new Date(NOON),
    ...extra,
  };
}

function plaintext(s: MemoryBackupServerWithStats, chunkId: string): Uint8Array {
  const blob = s.chunks.get(chunkId)!;
  expect(blob[5]).toBe(0); // flags: neither lz4 nor encrypted
  return blob.subarray(CHUNK_HEADER_BYTES);
}

/** The disk as a restore would write it; bytes the point does not hold stay 0xee. */
function rebuild(m: BackupManifest, s: MemoryBackupServerWithStats): Uint8Array {
  const d = m.disks[0]!;
  const out = new Uint8Array(Number(d.geometry.sizeBytes)).fill(0xee);
  for (const t of d.tableSectors) {
    let offset = Number(t.lba) * SECTOR;
    for (const c of t.chunks) {
      out.set(plaintext(s, c.chunkId), offset);
      offset += c.length;
    }
  }
  for (const e of d.extents) {
    if (e.kind === 'zero') out.fill(0, Number(e.diskOffset), Number(e.diskOffset + e.length));
    else out.set(plaintext(s, e.chunkId), Number(e.diskOffset));
  }
  return out;
}

function documentText(doc: ChunkedDocument, s: MemoryBackupServerWithStats): string {
  const bytes = new Uint8Array(doc.length);
  let offset = 0;
  for (const c of doc.chunks) {
    bytes.set(plaintext(s, c.chunkId), offset);
    offset += c.length;
  }
  return decodeDocument(bytes);
}

/** A byte range by its SHA-256: comparing megabytes element by element is slow in expect(). */
const range = (bytes: Uint8Array, start: number, length: number): string => createHash('sha256').update(bytes.subarray(start, start + length)).digest('hex');
const sha = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

describe('takeBackup with a snapshotter', () => {
  it('reads partition data and the NTFS bitmap from the snapshot, tables and gaps from the live disk', async () => {
    const { live, frozen, liveDisk, frozenVolume } = fixture();
    const s = await server();
    const snap = snapshotter(frozenVolume);
    const notices: BackupNotice[] = [];
    const result = await takeBackup(s, new NodeSetKeys(), request(liveDisk, { snapshotter: snap }), { notice: (n) => notices.push(n) });
    const image = rebuild(result.manifest, s);

    // Outside the partitions: the live disk.
    expect(range(image, 0, SECTOR)).toEqual(range(live, 0, SECTOR));
    expect(range(image, SECTOR, MiB - SECTOR)).toEqual(range(live, SECTOR, MiB - SECTOR));
    expect(range(image, at(P1.start + P1.count), 256 * KiB)).toEqual(range(live, at(P1.start + P1.count), 256 * KiB));
    const tail = at(P2.start + P2.count);
    expect(range(image, tail, DISK_BYTES - tail)).toEqual(range(live, tail, DISK_BYTES - tail));
    // Partition 1 has no frozen copy (an ESP): live, whole.
    expect(range(image, at(P1.start), MiB)).toEqual(range(live, at(P1.start), MiB));

    // Partition 2: the frozen bitmap decides what is read, and the frozen clusters are what is stored.
    const p2 = at(P2.start);
    expect(range(image, p2 + 100 * CLUSTER, 10 * CLUSTER)).toEqual(range(frozen, 100 * CLUSTER, 10 * CLUSTER));
    expect(range(image, p2 + 100 * CLUSTER, 10 * CLUSTER)).not.toEqual(range(live, p2 + 100 * CLUSTER, 10 * CLUSTER));
    expect(range(image, p2 + 50 * CLUSTER, 2 * CLUSTER)).toBe(sha(new Uint8Array(2 * CLUSTER).fill(0xee))); // used only on the live disk: not read
    expect(range(image, p2, 8 * CLUSTER)).toEqual(range(frozen, 0, 8 * CLUSTER));
    const frozenMap = await usedBlockMap(memoryReader(frozen).read, frozenNtfs.partitionBytes);
    const liveMap = await usedBlockMap(memoryReader(live.subarray(p2, p2 + Number(liveNtfs.partitionBytes))).read, liveNtfs.partitionBytes);
    const partition = result.manifest.disks[0]!.layout.partitions[1]!;
    expect(partition).toMatchObject({ number: 2, filesystem: 'ntfs', usedBytes: frozenMap.usedBytes });
    expect(frozenMap.usedBytes).not.toBe(liveMap.usedBytes);

    // The snapshot was taken once, around the whole copy, and asked for both partitions.
    expect(snap.events).toEqual(['snapshot', 'copy', 'complete', 'cleanup']);
    expect(snap.requests[0]).toMatchObject({
      kind: 'copy',
      disks: [{ number: 0, partitions: [
        { number: 1, offsetBytes: BigInt(at(P1.start)), lengthBytes: BigInt(MiB), type: '0xef', bootable: false },
        { number: 2, offsetBytes: BigInt(p2), lengthBytes: liveNtfs.partitionBytes, type: '0x07', bootable: false },
      ] }],
    });
    expect(notices.map((n) => n.code)).toEqual(expect.arrayContaining(['backup.read-live', 'backup.snapshot', 'vss.warning']));
  });

  it('keeps the record in the manifest: kind, ids, time, live reads, restore methods, documents as chunks', async () => {
    const { liveDisk, frozenVolume } = fixture();
    const s = await server();
    const result = await takeBackup(s, new NodeSetKeys(), request(liveDisk, { snapshotter: snapshotter(frozenVolume), backupKind: 'full' }));
    const vss = result.manifest.vss;
    if (vss?.method !== 'vss') throw new Error(`expected a VSS record, got ${JSON.stringify(vss)}`);
    expect(vss).toMatchObject({
      kind: 'full',
      snapshotSetId: MEMORY_SNAPSHOT_SET_ID,
      takenAt: new Date(NOON).toISOString(),
      snapshots: [{ disk: 0, partition: 2, volume: '\\\\?\\Volume{00000000-0000-4000-8000-000000000002}\\', snapshotId: '00000000-0000-4000-9000-000000000001' }],
      liveReads: [{ disk: 0, partition: 1, reason: 'esp' }],
      warnings: ['writer "System Writer" failed with VSS_E_WRITERERROR_RETRYABLE'],
    });
    // Made manifest-safe: lower-case GUIDs, no line breaks.
    expect(vss.restoreMethods).toEqual([expect.objectContaining({ writerId: 'be000cbe-11fe-4426-9c58-531aa6355fc4', method: 'custom', methodValue: 7, userProcedure: 'line one line two' })]);
    // The ASR document is larger than a block: cut into block-size chunks, UTF-8, read back exactly.
    const asrBytes = Buffer.byteLength(ASR_XML, 'utf8');
    expect(vss.asrMetadata.length).toBe(asrBytes);
    expect(vss.asrMetadata.chunks.map((c) => c.length)).toEqual([65536, 65536, 65536, 65536, asrBytes - 4 * 65536]);
    expect(documentText(vss.asrMetadata, s)).toBe(ASR_XML);
    expect(documentText(vss.backupComponents, s)).toBe(COMPONENTS_XML);
    // Committed, and it reads back from the server the same.
    const [point] = s.committedPoints();
    expect(point?.manifest).toEqual(result.manifest);
    expect(validateManifest(JSON.parse(encodeManifest(result.manifest)))).toEqual(result.manifest);
  });

  it('a failure inside the copy runs the snapshotter\'s cleanup and comes back with its own code', async () => {
    class FailingServer extends MemoryBackupServerWithStats {
      override async putChunk(): Promise<ChunkStat> {
        throw new RecoveryError('chunk.hash-mismatch', 'the server stored something else');
      }
    }
    const { liveDisk, frozenVolume } = fixture();
    const s = new FailingServer();
    await s.register({ machineId: 'm', hostname: 'h', inventory: { firmware: 'uefi', disks: [], nics: [] } });
    const snap = snapshotter(frozenVolume);
    await expect(takeBackup(s, new NodeSetKeys(), request(liveDisk, { snapshotter: snap }))).rejects.toMatchObject({ code: 'chunk.hash-mismatch' });
    expect(snap.events).toEqual(['snapshot', 'copy', 'abort', 'cleanup']);
    expect(s.committedPoints()).toEqual([]);
  });

  it('a frozen volume that fails to read fails the backup with the device\'s code and the cleanup problems attached', async () => {
    const { liveDisk } = fixture();
    const broken: FrozenVolume = {
      path: 'shadow-copy-9',
      geometry: { sizeBytes: liveNtfs.partitionBytes, logicalSectorSize: 512, physicalSectorSize: 512 },
      read: () => Promise.reject(new RecoveryError('device.io-error', 'shadow-copy-9: ERROR_IO_DEVICE', { data: { errno: 'ERROR_IO_DEVICE' } })),
    };
    const s = await server();
    const snap = snapshotter(broken, { cleanupProblems: ['DeleteSnapshots returned 0x80042302'] });
    const failure = await takeBackup(s, new NodeSetKeys(), request(liveDisk, { snapshotter: snap })).then(() => undefined, (e: unknown) => e);
    expect(failure).toBeInstanceOf(RecoveryError);
    expect(failure).toMatchObject({ code: 'device.io-error', data: { errno: 'ERROR_IO_DEVICE', cleanup: ['DeleteSnapshots returned 0x80042302'] } });
    expect(snap.events).toEqual(['snapshot', 'copy', 'abort', 'cleanup']);
    expect(s.committedPoints()).toEqual([]);
  });

  it('a snapshot that cannot be taken fails before any restore point is begun', async () => {
    const { liveDisk, frozenVolume } = fixture();
    const s = await server();
    const snap = snapshotter(frozenVolume, { failSnapshot: new RecoveryError('vss.phase-failed', 'VSS backup failed at do-snapshot-set', { data: { phase: 'do-snapshot-set' } }) });
    await expect(takeBackup(s, new NodeSetKeys(), request(liveDisk, { snapshotter: snap }))).rejects.toMatchObject({ code: 'vss.phase-failed', data: { phase: 'do-snapshot-set' } });
    expect(s.points.size).toBe(0);
    expect(s.puts).toEqual([]);
  });

  it('reads the bytes a short snapshot volume lacks from the live disk, and says so', async () => {
    const { live, liveDisk } = fixture();
    const shortVolume = MemoryDisk.fromBytes(noise(MiB - SECTOR, 'p1 frozen'), { path: 'shadow-copy-3' });
    const s = await server();
    const notices: BackupNotice[] = [];
    const snap = new MemorySnapshotter({ frozen: new Map([['0:1', shortVolume]]) });
    const result = await takeBackup(s, new NodeSetKeys(), request(liveDisk, { snapshotter: snap }), { notice: (n) => notices.push(n) });
    const image = rebuild(result.manifest, s);
    expect(range(image, at(P1.start), MiB - SECTOR)).toBe(sha(noise(MiB - SECTOR, 'p1 frozen')));
    expect(range(image, at(P1.start) + MiB - SECTOR, SECTOR)).toEqual(range(live, at(P1.start) + MiB - SECTOR, SECTOR));
    expect(notices.find((n) => n.code === 'backup.snapshot-short')?.data).toMatchObject({ disk: 0, partition: 1 });
    expect(result.manifest.vss).toMatchObject({ method: 'vss', liveReads: [{ disk: 0, partition: 2, reason: 'not-snapshotted' }] });
  });
});

describe('takeBackup without a snapshot', () => {
  it('the no-snapshot adapter reads everything live and records why, never a snapshot', async () => {
    const { live, liveDisk } = fixture();
    const s = await server();
    const notices: BackupNotice[] = [];
    const result = await takeBackup(s, new NodeSetKeys(), request(liveDisk, { snapshotter: new NoSnapshot('unsupported-platform') }), { notice: (n) => notices.push(n) });
    expect(result.manifest.vss).toEqual({ method: 'none', reason: 'unsupported-platform', message: expect.stringContaining('read live') });
    const image = rebuild(result.manifest, s);
    const p2 = at(P2.start);
    expect(range(image, p2 + 50 * CLUSTER, 2 * CLUSTER)).toEqual(range(live, p2 + 50 * CLUSTER, 2 * CLUSTER));
    expect(range(image, at(P1.start), MiB)).toEqual(range(live, at(P1.start), MiB));
    expect(notices.filter((n) => n.code === 'backup.no-snapshot').map((n) => n.level)).toEqual(['warning']);
    expect(notices.map((n) => n.code)).not.toContain('backup.read-live');
    expect(validateManifest(JSON.parse(encodeManifest(result.manifest)))).toEqual(result.manifest);
  });

  it('without a snapshotter the manifest has no vss field, as before', async () => {
    const { liveDisk } = fixture();
    const result = await takeBackup(await server(), new NodeSetKeys(), request(liveDisk));
    expect('vss' in result.manifest).toBe(false);
  });
});
