/**
 * Pre-flight of a restore: every check that must pass before anything is written (DESIGN
 * invariant "nothing is written to a target disk until every pre-check passed"). Reads only.
 *
 * Order (the first failure refuses the job with its code; nothing was written):
 *   1. the options are in range (restore.bad-option) and at least one disk is mapped;
 *   2. the manifest and the set (restore.wrong-set when they do not belong together);
 *   3. firmware: the machine's matches the backup's, BIOS <-> UEFI is refused (seed 000 §6.1,
 *      restore.firmware-mismatch; restore.firmware-unknown when the machine cannot tell);
 *   4. each mapping: the source disk exists in the backup, the target is one of the machine's
 *      disks, not protected (boot media, a local backup copy), not mapped twice, with the
 *      backup's logical sector size;
 *   5. the passphrase opens the set's data key (crypto.passphrase-required, crypto.wrong-passphrase);
 *   6. each target opens for writing, and its layout plan is not refused (target too small, …),
 *      see prepare-disk.ts.
 */
import type { BackupManifest, ManifestDisk } from '../../core/backup/manifest.ts';
import { RecoveryError } from '../../core/errors.ts';
import type { DiskMapping, HardwareInventory, RestoreJobSpec } from '../../core/protocol/jobs.ts';
import type { BackupServer } from '../../ports/backup-server.ts';
import type { BlockDevice, BlockDeviceOpener } from '../../ports/block-device.ts';
import type { ChunkCodec } from '../../ports/chunk-codec.ts';
import type { SetKeys } from '../../ports/set-keys.ts';
import type { ChunkFetcher } from './chunk-fetch.ts';
import type { RestoreJournal } from './journal.ts';
import { prepareDisk } from './prepare-disk.ts';
import type { PreparedDisk } from './prepare-disk.ts';
import { checkRestoreOptions } from './restore-options.ts';
import { withRetry } from './retry.ts';
import type { RetryPolicy } from './retry.ts';

export interface PreflightDeps {
  readonly server: BackupServer;
  readonly keys: SetKeys;
  readonly disks: BlockDeviceOpener;
  readonly inventory: HardwareInventory;
  readonly journal: RestoreJournal;
  readonly retry: RetryPolicy;
  /** Asked when the set is encrypted and the job carries no passphrase (the TUI asks the technician). */
  readonly passphrase?: () => Promise<string | undefined>;
  readonly fetcherFor: (codec: ChunkCodec) => ChunkFetcher;
}

export interface PreparedRestore {
  readonly manifest: BackupManifest;
  readonly codec: ChunkCodec;
  readonly fetcher: ChunkFetcher;
  readonly disks: readonly PreparedDisk[];
}

function refuse(code: string, message: string, data: Record<string, unknown> = {}): RecoveryError {
  return new RecoveryError(code, message, { data });
}

function checkFirmware(manifest: BackupManifest, inventory: HardwareInventory): void {
  const backup = manifest.source.firmware;
  if (inventory.firmware === 'unknown') {
    throw refuse('restore.firmware-unknown', `the backup was taken under ${backup.toUpperCase()} firmware and this machine cannot tell which firmware it runs; start the appliance with its firmware given`, { backup });
  }
  if (inventory.firmware !== backup) {
    throw refuse('restore.firmware-mismatch',
      `the backup was taken under ${backup.toUpperCase()} firmware and this machine boots ${inventory.firmware.toUpperCase()}: a BIOS backup cannot be restored to a UEFI machine, nor the reverse`,
      { backup, machine: inventory.firmware });
  }
}

function checkMapping(m: DiskMapping, manifest: BackupManifest, inventory: HardwareInventory, seen: Set<string>): ManifestDisk {
  const source = manifest.disks.find((d) => d.number === m.sourceDisk);
  if (source === undefined) {
    throw refuse('restore.unknown-source-disk', `the backup holds no disk ${m.sourceDisk} (it has ${manifest.disks.map((d) => d.number).join(', ') || 'none'})`, { sourceDisk: m.sourceDisk });
  }
  const target = inventory.disks.find((d) => d.path === m.targetDisk);
  if (target === undefined) throw refuse('restore.unknown-target', `${m.targetDisk} is not one of this machine's disks`, { targetDisk: m.targetDisk });
  if (target.protected) {
    throw refuse('restore.target-protected', `${m.targetDisk} holds the boot media or a local backup copy and is never a restore target`, { targetDisk: m.targetDisk });
  }
  if (seen.has(m.targetDisk)) throw refuse('restore.target-twice', `${m.targetDisk} is the target of two disks of the job`, { targetDisk: m.targetDisk });
  seen.add(m.targetDisk);
  if (target.logicalSectorSize !== source.geometry.logicalSectorSize) {
    throw refuse('restore.sector-size-mismatch',
      `source disk ${m.sourceDisk} has ${source.geometry.logicalSectorSize}-byte sectors and ${m.targetDisk} has ${target.logicalSectorSize}-byte sectors; partition offsets and file systems depend on it`,
      { targetDisk: m.targetDisk, source: source.geometry.logicalSectorSize, target: target.logicalSectorSize });
  }
  return source;
}

async function openCodec(spec: RestoreJobSpec, manifest: BackupManifest, deps: PreflightDeps): Promise<ChunkCodec> {
  const set = await withRetry('reading the backup set', () => deps.server.getSet(spec.setId), deps.retry);
  if (manifest.encryption === undefined) return deps.keys.codecFor({ tenantChunkKey: set.tenantChunkKey, compression: manifest.options.codec });
  const passphrase = spec.passphrase ?? (await deps.passphrase?.());
  if (passphrase === undefined || passphrase === '') {
    throw refuse('crypto.passphrase-required', 'the backup set is encrypted and neither the job nor the appliance supplied its passphrase');
  }
  const dataKey = await deps.keys.unwrapDataKey(manifest.encryption.dataKey, passphrase);
  return deps.keys.codecFor({ tenantChunkKey: set.tenantChunkKey, dataKey, compression: manifest.options.codec });
}

async function closeAll(devices: readonly BlockDevice[]): Promise<void> {
  await Promise.allSettled(devices.map((d) => d.close()));
}

export async function preflight(spec: RestoreJobSpec, deps: PreflightDeps): Promise<PreparedRestore> {
  const options = checkRestoreOptions(spec.options);
  if (spec.disks.length === 0) throw refuse('restore.nothing-selected', 'the job maps no disk to restore');
  const manifest = await withRetry('reading the manifest', () => deps.server.getManifest(spec.pointId), deps.retry);
  if (manifest.setId !== spec.setId) throw refuse('restore.wrong-set', `restore point ${spec.pointId} belongs to set ${manifest.setId}, not ${spec.setId}`);
  checkFirmware(manifest, deps.inventory);
  const seen = new Set<string>();
  const sources = spec.disks.map((m) => checkMapping(m, manifest, deps.inventory, seen));
  const codec = await openCodec(spec, manifest, deps);
  const fetcher = deps.fetcherFor(codec);
  const devices: BlockDevice[] = [];
  try {
    const disks: PreparedDisk[] = [];
    for (const [i, mapping] of spec.disks.entries()) {
      const source = sources[i]!;
      const device = await deps.disks.open(mapping.targetDisk, { writable: true, logicalSectorSize: source.geometry.logicalSectorSize });
      devices.push(device);
      disks.push(await prepareDisk({ mapping, source, device, fetcher, journal: deps.journal, writeBlockSize: options.writeBlockSize }));
    }
    return { manifest, codec, fetcher, disks };
  } catch (e) {
    await closeAll(devices);
    throw e;
  }
}
