/**
 * Builders for the restore engine's unit tests: a small GPT disk in memory with known contents,
 * a hand-made backup of it (every block, encoded with the real codec and committed to a strict
 * MemoryBackupServer), a virtual clock, and the dependencies a restore run needs.
 */
import { createHash } from 'node:crypto';
import { linuxAsrSession, linuxBootTool, linuxDriverTool } from '../../../../src/adapters/linux/unsupported-tools.ts';
import { MemoryBackupServer } from '../../../../src/adapters/memory/memory-backup-server.ts';
import { MemoryDisk, MemoryDiskOpener } from '../../../../src/adapters/memory/memory-disk.ts';
import { NodeSetKeys } from '../../../../src/adapters/node/set-keys.ts';
import type { RestoreDeps } from '../../../../src/app/restore/run-restore-job.ts';
import type { BackupManifest, ManifestExtent, TableSectorRun } from '../../../../src/core/backup/manifest.ts';
import { GPT_TYPE } from '../../../../src/core/partition/guid.ts';
import { readPartitionTable } from '../../../../src/core/partition/read-table.ts';
import { summarizePartitions } from '../../../../src/core/partition/summary.ts';
import { planTableWrite } from '../../../../src/core/partition/write-plan.ts';
import type { AssignedRun, DiskMapping, HardwareInventory, RestoreOptions } from '../../../../src/core/protocol/jobs.ts';
import { DEFAULT_RESTORE_OPTIONS } from '../../../../src/core/protocol/jobs.ts';
import type { Clock } from '../../../../src/ports/clock.ts';
import { noise } from '../../../helpers/noise.ts';
import { gptTable } from '../../core/layout/builders.ts';

export const MiB = 1024 * 1024;
export const DISK_BYTES = 16 * MiB;

/** Virtual time: sleep() advances now() at once and is recorded. */
export class FakeClock implements Clock {
  readonly sleeps: number[] = [];
  constructor(private t = Date.UTC(2026, 10, 23, 10, 0, 0)) {}
  now(): number {
    return this.t;
  }
  async sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    this.t += Math.max(0, ms);
  }
  get slept(): number {
    return this.sleeps.reduce((a, b) => a + b, 0);
  }
}

/** Virtual time that still yields to the event loop on every sleep (for loops that poll while other work runs). */
export class YieldingClock extends FakeClock {
  override async sleep(ms: number): Promise<void> {
    await super.sleep(ms);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export const DISK_GUID = '6f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9';

/**
 * A 16 MiB GPT disk: ESP [1, 4) MiB, data [4, 10) MiB, recovery [10, 14) MiB, with noise in parts of
 * each partition, zeros elsewhere, and 2 KiB of "boot loader" bytes in the post-GPT gap at 20 KiB.
 */
export async function makeSourceDisk(path = 'source'): Promise<MemoryDisk> {
  const disk = MemoryDisk.create(BigInt(DISK_BYTES), { path });
  const table = gptTable(DISK_GUID, disk.geometry, [
    { number: 1, type: GPT_TYPE.efiSystem, start: 2048n, count: 6144n, name: 'EFI system partition' },
    { number: 2, type: GPT_TYPE.basicData, start: 8192n, count: 12288n, name: 'Basic data partition' },
    { number: 3, type: GPT_TYPE.windowsRecovery, start: 20480n, count: 8192n, attributes: 0x8000000000000001n },
  ]);
  for (const op of planTableWrite(table, disk.geometry)) await disk.write(op.offset, op.data);
  await disk.write(20n * 1024n, noise(2048, 'gap'));
  await disk.write(BigInt(MiB), noise(MiB, 'esp'));
  await disk.write(BigInt(4 * MiB), noise(2 * MiB, 'data-a'));
  await disk.write(BigInt(8 * MiB) + 4096n, noise(MiB - 8192, 'data-b'));
  await disk.write(BigInt(10 * MiB), noise(3 * MiB, 'recovery'));
  await disk.flush();
  return disk;
}

function isZero(bytes: Uint8Array): boolean {
  return bytes.every((b) => b === 0);
}

export interface HandBackup {
  readonly setId: string;
  readonly pointId: string;
  readonly manifest: BackupManifest;
}

/**
 * Backs up every block of `disk` (no used-block maps: the restore engine is what is tested),
 * zero blocks as zero extents, the others as chunks put on `server`.
 */
export async function backupMemoryDisk(
  server: MemoryBackupServer,
  disk: MemoryDisk,
  options: { blockSize?: number; passphrase?: string; firmware?: 'bios' | 'uefi'; resource?: string } = {},
): Promise<HandBackup> {
  const blockSize = options.blockSize ?? 256 * 1024;
  const keys = new NodeSetKeys();
  const dataKey = options.passphrase === undefined ? undefined : keys.generateDataKey();
  const wrappedKey = dataKey === undefined ? undefined : await keys.wrapDataKey(dataKey, options.passphrase!);
  const set = await server.openSet({ resource: options.resource ?? disk.path, codec: 'lz4', blockSize, ...(wrappedKey ? { wrappedKey } : {}) });
  const codec = keys.codecFor({ tenantChunkKey: set.tenantChunkKey, compression: 'lz4', ...(dataKey ? { dataKey } : {}) });
  const put = async (bytes: Uint8Array) => {
    const chunk = codec.encode(bytes);
    const stat = await server.putChunk(chunk.id, chunk.blob, chunk.storedHash);
    return { chunkId: chunk.id, storedHash: stat.storedHash, storedLength: stat.storedLength };
  };
  const ss = disk.geometry.logicalSectorSize;
  const read = await readPartitionTable((lba, count) => disk.read(lba * BigInt(ss), count * ss), disk.geometry);
  const tableSectors: TableSectorRun[] = [];
  for (const r of read.tableSectors) {
    const bytes = await disk.read(r.lba * BigInt(ss), r.count * ss);
    tableSectors.push({ lba: r.lba, count: r.count, chunks: [{ ...(await put(bytes)), length: bytes.length }] });
  }
  const extents: ManifestExtent[] = [];
  for (let at = 0n; at < disk.geometry.sizeBytes; at += BigInt(blockSize)) {
    const bytes = await disk.read(at, blockSize);
    const last = extents[extents.length - 1];
    if (isZero(bytes)) {
      if (last?.kind === 'zero' && last.diskOffset + last.length === at) extents[extents.length - 1] = { ...last, length: last.length + BigInt(blockSize) };
      else extents.push({ kind: 'zero', diskOffset: at, length: BigInt(blockSize) });
    } else {
      extents.push({ kind: 'data', diskOffset: at, length: BigInt(blockSize), ...(await put(bytes)) });
    }
  }
  const table = read.table!;
  const point = await server.beginPoint(set.setId);
  const manifest: BackupManifest = {
    formatVersion: 1, setId: set.setId, pointSequence: point.sequence, createdAt: '2026-11-23T10:00:00.000Z',
    source: { hostname: 'source-host', firmware: options.firmware ?? 'uefi' },
    options: { codec: 'lz4', blockSize, encrypted: wrappedKey !== undefined, onlyUsedBlocks: false },
    ...(wrappedKey ? { encryption: { cipher: 'aes-256-gcm' as const, dataKey: wrappedKey } } : {}),
    disks: [{
      number: 0,
      style: table.style,
      identity: table.style === 'gpt' ? { gptDiskGuid: table.diskGuid } : { mbrSignature: table.diskSignature },
      geometry: disk.geometry,
      tableSectors,
      layout: {
        partitions: summarizePartitions(table).map((p) => ({
          number: p.number, startLba: p.startLba, sectorCount: p.sectorCount, type: p.type, name: p.name, bootable: p.bootable,
          ...(p.uniqueGuid ? { uniqueGuid: p.uniqueGuid } : {}), filesystem: 'unknown',
        })),
      },
      extents,
    }],
  };
  await server.commitPoint(point.pointId, manifest);
  return { setId: set.setId, pointId: point.pointId, manifest: await server.getManifest(point.pointId) };
}

export function inventoryOf(disks: readonly { path: string; sizeBytes: bigint; protected?: boolean; sectorSize?: number }[], firmware: HardwareInventory['firmware'] = 'uefi'): HardwareInventory {
  return {
    firmware,
    disks: disks.map((d) => ({
      path: d.path, sizeBytes: String(d.sizeBytes), logicalSectorSize: d.sectorSize ?? 512, physicalSectorSize: d.sectorSize ?? 512, protected: d.protected ?? false,
    })),
    nics: [],
  };
}

export async function registeredServer(): Promise<MemoryBackupServer> {
  const server = new MemoryBackupServer();
  await server.register({ machineId: 'target-machine', hostname: 'target', inventory: { firmware: 'uefi', disks: [], nics: [] } });
  return server;
}

let runCounter = 0;

export function restoreRun(backup: Pick<HandBackup, 'setId' | 'pointId'>, disks: readonly DiskMapping[], options: Partial<RestoreOptions> = {}, passphrase?: string): AssignedRun {
  runCounter++;
  return {
    runId: `run-${runCounter}`, jobId: `job-${runCounter}`, jobName: 'restore test',
    spec: {
      kind: 'restore', setId: backup.setId, pointId: backup.pointId, disks,
      options: { ...DEFAULT_RESTORE_OPTIONS, ...options },
      ...(passphrase === undefined ? {} : { passphrase }),
    },
  };
}

export function fullDisk(targetDisk: string, partitions: number[] = []): DiskMapping {
  return { sourceDisk: 0, targetDisk, partitions, rebuild: 'full' };
}

export function depsFor(server: MemoryBackupServer, targets: readonly MemoryDisk[], clock: Clock, overrides: Partial<RestoreDeps> = {}): RestoreDeps {
  return {
    server,
    keys: new NodeSetKeys(),
    disks: new MemoryDiskOpener(targets),
    clock,
    inventory: inventoryOf(targets.map((t) => ({ path: t.path, sizeBytes: t.geometry.sizeBytes }))),
    drivers: linuxDriverTool,
    boot: linuxBootTool,
    asr: linuxAsrSession,
    ...overrides,
  };
}

/** Bytes [offset, offset + length) of a memory disk as the last flush left them. */
export function durableRange(disk: MemoryDisk, offset: number, length: number): Uint8Array {
  return disk.durableSnapshot().subarray(offset, offset + length);
}
