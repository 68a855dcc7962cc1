/**
 * The Windows VolumeSnapshotter (vss/snapshotter.ts) over the fake IVssBackupComponents of
 * fake-vss.ts, driven for real through koffi like the requester tests: which partition the copy
 * reads from which shadow copy device and which it reads live (and why), what VSS is asked to add
 * and snapshot, the record handed back, every shadow device closed before the backup is completed
 * and the snapshots deleted, and a failing copy coming back with its own code after the cleanup.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryDisk } from '../../../../../src/adapters/memory/memory-disk.ts';
import { planSnapshot, systemStateVolumes, VssSnapshotter } from '../../../../../src/adapters/win32/vss/snapshotter.ts';
import type { MachineFacts } from '../../../../../src/adapters/win32/vss/volume-facts.ts';
import { RecoveryError } from '../../../../../src/core/errors.ts';
import { parseBackupComponents } from '../../../../../src/core/vss/backup-components.ts';
import { parseWriterMetadata } from '../../../../../src/core/vss/writer-metadata.ts';
import type { BlockDevice } from '../../../../../src/ports/block-device.ts';
import type { PartitionSource, SnapshotRequest, SnapshotView } from '../../../../../src/ports/volume-snapshot.ts';
import { ASR_INSTANCE, ASR_METADATA_XML, SQL_WRITER_XML, TASK_SCHEDULER_XML, VOL } from '../../../core/vss/samples.ts';
import { FakeVss, type FakeOptions } from './fake-vss.ts';

const MiB = 1024n * 1024n;
const TYPE = {
  esp: 'c12a7328-f81f-11d2-ba4b-00a0c93ec93b',
  msr: 'e3c9e316-0b5c-4db8-817d-f92df00215ae',
  data: 'ebd0a0a2-b9e5-4433-87c0-68b6b72699c7',
  recovery: 'de94bba4-06d1-4d40-a16a-bfd50179d6ac',
};
const WRITERS = [
  { instanceId: '1e2d3c4b-0000-4a5b-8c7d-000000000001', xml: TASK_SCHEDULER_XML },
  { instanceId: ASR_INSTANCE, xml: ASR_METADATA_XML },
  { instanceId: '2f3e4d5c-0000-4a5b-8c7d-000000000002', xml: SQL_WRITER_XML },
];
const volumeName = (guid: string): string => `\\\\?\\Volume{${guid}}\\`;
const shadow = (n: number): string => `\\\\?\\GLOBALROOT\\Device\\HarddiskVolumeShadowCopy${String(n).padStart(2, '0')}`;

/** The machine of the requester tests: disk 0 ESP, MSR, C:, WinRE; disk 1 D:; disk 2 E:. */
const FACTS: MachineFacts = {
  volumes: [
    { guid: VOL.esp, name: volumeName(VOL.esp), mountPoints: [], filesystem: 'fat32', extents: [{ diskNumber: 0, offsetBytes: 1n * MiB, lengthBytes: 1n * MiB }] },
    { guid: VOL.c, name: volumeName(VOL.c), mountPoints: ['C:\\'], filesystem: 'ntfs', extents: [{ diskNumber: 0, offsetBytes: 3n * MiB, lengthBytes: 8n * MiB }] },
    { guid: VOL.winre, name: volumeName(VOL.winre), mountPoints: [], filesystem: 'ntfs', extents: [{ diskNumber: 0, offsetBytes: 11n * MiB, lengthBytes: 1n * MiB }] },
    { guid: VOL.d, name: volumeName(VOL.d), mountPoints: ['D:\\'], filesystem: 'ntfs', extents: [{ diskNumber: 1, offsetBytes: 1n * MiB, lengthBytes: 4n * MiB }] },
    { guid: VOL.e, name: volumeName(VOL.e), mountPoints: ['E:\\'], filesystem: 'ntfs', extents: [{ diskNumber: 2, offsetBytes: 1n * MiB, lengthBytes: 4n * MiB }] },
  ],
  fixedDisks: [0, 1, 2],
  bootVolumeGuid: VOL.c,
};

const part = (number: number, offsetMiB: bigint, lengthMiB: bigint, type: string) => ({ number, offsetBytes: offsetMiB * MiB, lengthBytes: lengthMiB * MiB, type, bootable: false });

function disks() {
  const disk0 = MemoryDisk.create(16n * MiB, { path: '\\\\.\\PhysicalDrive0' });
  const disk1 = MemoryDisk.create(8n * MiB, { path: '\\\\.\\PhysicalDrive1' });
  return { disk0, disk1 };
}

function request(d: ReturnType<typeof disks>, kind: 'full' | 'copy' = 'copy'): SnapshotRequest {
  return {
    kind,
    disks: [
      { number: 0, device: d.disk0, partitions: [part(1, 1n, 1n, TYPE.esp), part(2, 2n, 1n, TYPE.msr), part(3, 3n, 8n, TYPE.data), part(4, 11n, 1n, TYPE.recovery)] },
      { number: 5, device: d.disk1, partitions: [part(1, 1n, 4n, TYPE.data)] },
    ],
  };
}

let fake: FakeVss | undefined;
afterEach(() => {
  fake?.dispose();
  fake = undefined;
});

interface Opened { device: string; sector: number; closedWhile?: string[] }

function setup(options: Partial<FakeOptions> = {}, facts: MachineFacts = FACTS) {
  fake = new FakeVss({ writers: WRITERS, ...options });
  const f = fake;
  const opened: Opened[] = [];
  const snapshotter = new VssSnapshotter({
    runtime: () => f.runtime,
    facts: async () => facts,
    openVolume: async (device, sector) => {
      const entry: Opened = { device, sector };
      opened.push(entry);
      const volume = MemoryDisk.create(8n * MiB, { path: device });
      const close = volume.close.bind(volume);
      return Object.assign(volume, {
        close: async () => {
          entry.closedWhile = f.methods();
          await close();
        },
      }) as BlockDevice;
    },
    pollMs: 5,
  });
  return { fake: f, opened, snapshotter };
}

function clean(f: FakeVss): void {
  expect(f.errors).toEqual([]);
  expect(f.leakedObjects()).toEqual([]);
  expect(f.leakedStrings()).toBe(0);
}

/** Every partition's source as [disk, partition, from, reason or device path]. */
function sourcesOf(view: SnapshotView, req: SnapshotRequest): [number, number, string, string][] {
  return req.disks.flatMap((d) => d.partitions.map((p): [number, number, string, string] => {
    const s: PartitionSource = view.source(d.number, p.number);
    return [d.number, p.number, s.from, s.from === 'live' ? s.reason : s.volume.path];
  }));
}

describe('VssSnapshotter — the mapping onto the backup\'s partitions', () => {
  it('hands the copy a shadow copy device per NTFS partition, reads the ESP and the MSR live, and records it all', async () => {
    const { fake, opened, snapshotter } = setup();
    const d = disks();
    const req = request(d);
    let seen: [number, number, string, string][] = [];
    const outcome = await snapshotter.run(req, async (view) => {
      seen = sourcesOf(view, req);
      const c = view.source(0, 3);
      if (c.from !== 'snapshot') throw new Error('C: should be frozen');
      expect(c.volume.geometry.logicalSectorSize).toBe(512);
      expect(await c.volume.read(0n, 512)).toHaveLength(512);
      return 'copied';
    });

    expect(outcome.value).toBe('copied');
    // Snapshot ids follow AddToSnapshotSet order (by volume GUID: C:, WinRE, D:); the fake names devices after them.
    expect(seen).toEqual([
      [0, 1, 'live', 'esp'],
      [0, 2, 'live', 'no-volume'],
      [0, 3, 'snapshot', shadow(1)],
      [0, 4, 'snapshot', shadow(2)],
      [5, 1, 'snapshot', shadow(3)],
    ]);
    expect(opened.map((o) => [o.device, o.sector])).toEqual([[shadow(1), 512], [shadow(2), 512], [shadow(3), 512]]);
    // Every device was closed while the snapshots still existed and before writers heard "complete".
    for (const o of opened) {
      expect(o.closedWhile).toBeDefined();
      expect(o.closedWhile).not.toContain('SetBackupSucceeded');
      expect(o.closedWhile).not.toContain('DeleteSnapshots');
    }

    // VSS was asked for a copy backup of the two source disks only: E: (disk 2) is neither added nor snapshotted.
    expect(fake.argsOf('SetBackupState')).toEqual([[true, true, 5, false]]);
    const added = fake.argsOf('AddComponent').map((a) => `${String(a[3] ?? '')}\\${String(a[4])}`);
    expect(added).toEqual(['\\ASR', 'Disks\\harddisk0', 'Disks\\harddisk1', `Volumes\\Volume{${VOL.esp}}`, `Volumes\\Volume{${VOL.c}}`, `Volumes\\Volume{${VOL.winre}}`, `Volumes\\Volume{${VOL.d}}`, 'BCD\\BCD']);
    expect(fake.argsOf('AddToSnapshotSet').map((a) => a[0])).toEqual([volumeName(VOL.c), volumeName(VOL.winre), volumeName(VOL.d)]);

    const record = outcome.record;
    if (record.method !== 'vss') throw new Error('expected a VSS record');
    expect(record).toMatchObject({
      kind: 'copy',
      snapshotSetId: fake.snapshotSetId,
      snapshots: [
        { disk: 0, partition: 3, volume: volumeName(VOL.c), snapshotId: 'aaaaaaaa-0000-4000-8000-000000000001' },
        { disk: 0, partition: 4, volume: volumeName(VOL.winre), snapshotId: 'aaaaaaaa-0000-4000-8000-000000000002' },
        { disk: 5, partition: 1, volume: volumeName(VOL.d), snapshotId: 'aaaaaaaa-0000-4000-8000-000000000003' },
      ],
      asrMetadataXml: ASR_METADATA_XML,
    });
    const doc = parseBackupComponents(record.backupComponentsXml);
    expect(doc.writers.flatMap((w) => w.components).every((c) => c.backupSucceeded === true)).toBe(true);
    expect(record.restoreMethods.map((r) => r.writerName)).toEqual(['ASR Writer', 'SqlServerWriter', 'Task Scheduler Writer']);
    expect(record.warnings.some((w) => w.includes('VSS_BS_COPY'))).toBe(true);
    expect(fake.methods().slice(-4)).toEqual(['DeleteSnapshots', 'FreeWriterMetadata', 'Release', 'Release']);
    clean(fake);
  });

  it('asks for VSS_BT_FULL when the backup kind is full', async () => {
    const { fake, snapshotter } = setup();
    const outcome = await snapshotter.run(request(disks(), 'full'), async () => undefined);
    expect(fake.argsOf('SetBackupState')).toEqual([[true, true, 1, false]]);
    expect(outcome.record).toMatchObject({ method: 'vss', kind: 'full' });
    clean(fake);
  });

  it('a failing copy aborts the backup, deletes the snapshots, closes the devices and rejects with the copy\'s own error', async () => {
    const { fake, opened, snapshotter } = setup();
    const failure = await snapshotter.run(request(disks()), async () => {
      throw new RecoveryError('chunk.hash-mismatch', 'the server stored something else', { data: { chunkId: 'ab' }, retryable: false });
    }).then(() => undefined, (e: unknown) => e);
    expect(failure).toBeInstanceOf(RecoveryError);
    expect(failure).toMatchObject({ code: 'chunk.hash-mismatch', data: { chunkId: 'ab' } });
    expect((failure as RecoveryError).data.cleanup).toBeUndefined();
    const methods = fake.methods();
    expect(methods).toContain('AbortBackup');
    expect(methods).toContain('DeleteSnapshots');
    expect(methods).not.toContain('SetBackupSucceeded');
    expect(methods).not.toContain('BackupComplete');
    expect(opened.every((o) => o.closedWhile !== undefined)).toBe(true);
    clean(fake);
  });

  it('keeps the copy\'s code and adds the cleanup calls that failed', async () => {
    const { fake, snapshotter } = setup({ failCall: { method: 'DeleteSnapshots', hr: 0x80042302 | 0 } });
    const failure = await snapshotter.run(request(disks()), async () => {
      throw new RecoveryError('device.io-error', 'shadow copy read failed');
    }).then(() => undefined, (e: unknown) => e);
    expect(failure).toMatchObject({ code: 'device.io-error', data: { cleanup: [expect.stringContaining('DeleteSnapshots returned 0x80042302')] } });
    clean(fake);
  });

  it('refuses a source that is not a Windows disk before talking to VSS', async () => {
    const { fake, snapshotter } = setup();
    const image = MemoryDisk.create(8n * MiB, { path: 'C:\\images\\server.img' });
    const req: SnapshotRequest = { kind: 'copy', disks: [{ number: 0, device: image, partitions: [] }] };
    await expect(snapshotter.run(req, async () => undefined)).rejects.toMatchObject({ code: 'snapshot.source-not-a-disk', data: { disk: 0 } });
    expect(fake.calls).toEqual([]);
  });

  it('refuses to leave out the disk holding C:, the ESP and WinRE, before any snapshot is taken', async () => {
    const { fake, snapshotter } = setup();
    const d = disks();
    const req: SnapshotRequest = { kind: 'copy', disks: [request(d).disks[1]!] };
    const failure = await snapshotter.run(req, async () => undefined).then(() => undefined, (e: unknown) => e);
    expect(failure).toMatchObject({ code: 'vss.critical-disk-excluded', data: { disks: [0] } });
    expect((failure as Error).message).toContain('image that disk too, or back up without a snapshot');
    expect(fake.methods()).not.toContain('StartSnapshotSet');
    clean(fake);
  });

  it('reads a BitLocker partition raw, from the live disk, and does not snapshot its volume', async () => {
    const { fake, snapshotter } = setup();
    const d = disks();
    const sector = new Uint8Array(512);
    sector.set([0xeb, 0x58, 0x90, ...Array.from('-FVE-FS-', (c) => c.charCodeAt(0))]);
    await d.disk0.reopen({ writable: true }).write(3n * MiB, sector);
    const req = request(d);
    let seen: [number, number, string, string][] = [];
    await snapshotter.run(req, async (view) => {
      seen = sourcesOf(view, req);
    });
    expect(seen[2]).toEqual([0, 3, 'live', 'bitlocker']);
    expect(fake.argsOf('AddToSnapshotSet').map((a) => a[0])).toEqual([volumeName(VOL.winre), volumeName(VOL.d)]);
    clean(fake);
  });
});

describe('planSnapshot and systemStateVolumes (pure)', () => {
  const windowsDisks = [0, 1];
  it('reads spanned volumes and filesystems VSS cannot snapshot live, and gives roles to ESP, boot and WinRE', () => {
    const facts: MachineFacts = {
      ...FACTS,
      volumes: FACTS.volumes.map((v) => (v.guid === VOL.d
        ? { ...v, extents: [...v.extents, { diskNumber: 2, offsetBytes: 1n * MiB, lengthBytes: 4n * MiB }] }
        : v.guid === VOL.winre ? { ...v, filesystem: 'fat32' } : v)),
    };
    const plan = planSnapshot({ request: request(disks()), windowsDisks, facts, firstSectors: new Map() });
    expect(plan.partitions.map((p) => [p.disk, p.partition, p.live?.reason ?? 'snapshot'])).toEqual([
      [0, 1, 'esp'], [0, 2, 'no-volume'], [0, 3, 'snapshot'], [0, 4, 'not-snapshottable'], [5, 1, 'spanned-volume'],
    ]);
    expect(plan.volumes.find((v) => v.guid === VOL.esp)).toMatchObject({ roles: ['system'], esp: true, disks: [0] });
    expect(plan.volumes.find((v) => v.guid === VOL.c)).toMatchObject({ roles: ['boot'], esp: false });
    expect(plan.volumes.find((v) => v.guid === VOL.winre)).toMatchObject({ roles: ['winre'] });
    expect(plan.volumes.find((v) => v.guid === VOL.d)).toMatchObject({ disks: [1, 2] });
    expect(plan).toMatchObject({ fixedDisks: [0, 1, 2], excludedDisks: [2] });
  });

  it('resolves system-state files by %WinDir%, drive letter and volume path', () => {
    const tasks = parseWriterMetadata(TASK_SCHEDULER_XML);
    expect(systemStateVolumes([tasks], FACTS)).toEqual([VOL.c]);
    const onD = parseWriterMetadata(TASK_SCHEDULER_XML.replaceAll('%WinDir%', 'd:'));
    expect(systemStateVolumes([onD], FACTS)).toEqual([VOL.d]);
    // The SQL writer serves user data: its files never make a volume critical.
    expect(systemStateVolumes([parseWriterMetadata(SQL_WRITER_XML)], FACTS)).toEqual([]);
  });
});
