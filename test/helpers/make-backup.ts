/**
 * Backs up a fixture disk image into a BackupServer (usually a MemoryBackupServer), the way
 * `lifeline backup` would, so restore tests start from a real committed restore point.
 */
import { basename } from 'node:path';
import type { BackupManifest, Firmware } from '../../src/core/backup/manifest.ts';
import type { ChunkCompression } from '../../src/core/backup/chunk-format.ts';
import { ImageFileDevice } from '../../src/adapters/linux/image-file.ts';
import { MemoryBackupServer } from '../../src/adapters/memory/memory-backup-server.ts';
import { NodeSetKeys } from '../../src/adapters/node/set-keys.ts';
import { systemClock } from '../../src/adapters/node/system-clock.ts';
import { DEFAULT_BACKUP_OPTIONS } from '../../src/app/backup/options.ts';
import { takeBackup, type BackupObserver, type BackupResult } from '../../src/app/backup/take-backup.ts';
import type { BackupServer } from '../../src/ports/backup-server.ts';
import type { ChunkStat } from '../../src/ports/chunk-store.ts';
import { isRecoveryError } from '../../src/core/errors.ts';

export interface FixtureBackupOptions {
  readonly passphrase?: string;
  /** The firmware the manifest records; images carry none, so the caller says it (default "uefi"). */
  readonly firmware?: Firmware;
  readonly blockSize?: number;
  /** "lz4" or "fast" compress; "none" stores plainly. Default "fast". */
  readonly compression?: ChunkCompression | 'fast';
  /** Default: the image's file name. */
  readonly resource?: string;
  /** Source disk number in the manifest (default 0). */
  readonly diskNumber?: number;
  /** Upload channels (default 4). */
  readonly channels?: number;
  readonly observer?: BackupObserver;
}

export interface FixtureBackup {
  readonly setId: string;
  readonly pointId: string;
  readonly manifest: BackupManifest;
  readonly result: BackupResult;
}

/**
 * Registers with `server` first when it has not been registered yet (a MemoryBackupServer refuses
 * calls before `register`), then takes one backup of `diskPath` (512-byte sectors).
 */
export async function backupFixtureDisk(server: BackupServer, diskPath: string, options: FixtureBackupOptions = {}): Promise<FixtureBackup> {
  await ensureRegistered(server);
  const device = await ImageFileDevice.open(diskPath, { writable: false, logicalSectorSize: 512 });
  try {
    const compression = options.compression === 'none' ? 'none' : 'fast';
    const result = await takeBackup(server, new NodeSetKeys(), {
      sources: [{ device, number: options.diskNumber ?? 0 }],
      resource: options.resource ?? basename(diskPath),
      hostname: 'fixture-host',
      clock: systemClock,
      firmware: options.firmware ?? 'uefi',
      options: { ...DEFAULT_BACKUP_OPTIONS, compression, channels: options.channels ?? 4, ...(options.blockSize === undefined ? {} : { blockSize: options.blockSize }) },
      ...(options.passphrase === undefined ? {} : { passphrase: options.passphrase }),
    }, options.observer);
    return { setId: result.setId, pointId: result.pointId, manifest: result.manifest, result };
  } finally {
    await device.close();
  }
}

const registered = new WeakSet<BackupServer>();

async function ensureRegistered(server: BackupServer): Promise<void> {
  if (registered.has(server)) return;
  // A server the test already registered with answers heartbeat; only an unregistered one refuses.
  try {
    await server.heartbeat('idle');
  } catch (e) {
    if (!isRecoveryError(e) || e.code !== 'auth.missing') throw e;
    await server.register({ machineId: 'fixture-machine', hostname: 'fixture-host', inventory: { firmware: 'uefi', disks: [], nics: [] } });
  }
  registered.add(server);
}

/** A MemoryBackupServer that records every put (for dedup tests). */
export class MemoryBackupServerWithStats extends MemoryBackupServer {
  /** Ids in putChunk call order, failed calls included. */
  readonly puts: string[] = [];

  override async putChunk(id: string, blob: Uint8Array, storedHash: string): Promise<ChunkStat> {
    this.puts.push(id);
    return super.putChunk(id, blob, storedHash);
  }
}
