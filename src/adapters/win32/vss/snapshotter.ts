/**
 * The VolumeSnapshotter on Windows: the VSS requester (requester.ts, `runVssBackup`) with ASR
 * semantics, mapped onto the backup's disks and partitions.
 *
 *   1. Each source disk is a `\\.\PhysicalDriveN` (anything else: snapshot.source-not-a-disk).
 *   2. The machine's volumes, their extents and filesystems, the boot volume and the fixed disks are
 *      gathered (volume-facts.ts); each partition is matched to the basic volume whose single extent
 *      starts at the partition's first byte and has its length.
 *   3. `planSnapshot` (pure) decides per partition: snapshot candidate (an NTFS/ReFS volume), or read
 *      live with a reason — "esp" (never shadow-copied), "no-volume" (MSR, unformatted),
 *      "spanned-volume" (dynamic disks: the volume is not the partition), "bitlocker" (a shadow copy
 *      would hand out decrypted data while the partition holds ciphertext), "not-snapshottable"
 *      (FAT, exFAT, …). It also builds the LiveVolume facts for `selectCriticalComponents`: every
 *      fixed disk that is not a source is excluded, so a critical disk left out is refused
 *      (vss.critical-disk-excluded) instead of silently producing an ASR backup that cannot restore.
 *   4. runVssBackup; inside its copy step each snapshot device
 *      (`\\?\GLOBALROOT\Device\HarddiskVolumeShadowCopyN`) is opened read-only through
 *      PhysicalDrive.openSnapshotVolume, the backup's copy runs against the view, and every device is
 *      closed before the requester completes the backup and deletes the snapshot set.
 *   5. The record: kind, snapshot set, which partition came from which snapshot, the ASR writer's
 *      metadata, the Backup Components Document, the restore methods, the warnings.
 *
 * A failure inside the copy comes back as the copy's own error (same code), with the requester's
 * cleanup problems in data.cleanup; the requester has already aborted the backup and deleted the
 * snapshots by then.
 */
import { RecoveryError } from '../../../core/errors.ts';
import type { SectorSize } from '../../../core/units.ts';
import { selectCriticalComponents, type LiveVolume, type VolumeRole } from '../../../core/vss/critical-selection.ts';
import { isSystemStateComponent, type WriterMetadata } from '../../../core/vss/writer-metadata.ts';
import type { BlockDevice } from '../../../ports/block-device.ts';
import type {
  PartitionSource, SnapshotOutcome, SnapshotPartition, SnapshotRequest, SnapshotView, VolumeSnapshotter, VssSnapshotRecord,
} from '../../../ports/volume-snapshot.ts';
import { PhysicalDrive, physicalDriveNumber } from '../physical-drive.ts';
import { runVssBackup, type CopyInput, type VssPhase, type VssRuntime } from './requester.ts';
import { gatherMachineFacts, volumeGuidOf, type MachineFacts, type VolumeFact } from './volume-facts.ts';
import { loadVssRuntime } from './vssapi.ts';

const ESP_TYPE = 'c12a7328-f81f-11d2-ba4b-00a0c93ec93b';
const RECOVERY_TYPE = 'de94bba4-06d1-4d40-a16a-bfd50179d6ac';
const MBR_RECOVERY_TYPE = '0x27';
const SNAPSHOT_FILESYSTEMS = new Set(['ntfs', 'refs']);
/** The OEM id of a BitLocker volume's boot sector. */
const BITLOCKER_OEM = '-FVE-FS-';

// ---------------------------------------------------------------- the plan (pure)

export type LivePartition = { readonly reason: string; readonly message: string };

export interface PartitionPlan {
  /** Manifest disk number. */
  readonly disk: number;
  readonly partition: number;
  readonly windowsDisk: number;
  /** The basic volume on the partition, when there is one. */
  readonly volumeGuid?: string;
  /** Set when the partition is read live whatever VSS does. */
  readonly live?: LivePartition;
}

export interface SnapshotPlan {
  readonly partitions: readonly PartitionPlan[];
  /** Facts for selectCriticalComponents. */
  readonly volumes: readonly LiveVolume[];
  readonly fixedDisks: readonly number[];
  readonly excludedDisks: readonly number[];
}

export interface PlanInput {
  readonly request: SnapshotRequest;
  /** Windows disk number of each request disk, same order. */
  readonly windowsDisks: readonly number[];
  readonly facts: MachineFacts;
  /** The first sector of each partition, read live, by `${disk}:${partition}` (BitLocker detection). */
  readonly firstSectors: ReadonlyMap<string, Uint8Array>;
}

const isBitLocker = (sector: Uint8Array | undefined): boolean =>
  sector !== undefined && sector.length >= 11 && String.fromCharCode(...sector.subarray(3, 11)) === BITLOCKER_OEM;

function volumeOn(facts: MachineFacts, windowsDisk: number, p: SnapshotPartition): { volume?: VolumeFact; spanned: boolean } {
  const volume = facts.volumes.find((v) => v.extents.some((e) => e.diskNumber === windowsDisk && e.offsetBytes === p.offsetBytes));
  if (volume === undefined) return { spanned: false };
  const basic = volume.extents.length === 1 && volume.extents[0]!.lengthBytes === p.lengthBytes;
  return { volume, spanned: !basic };
}

/** Per partition: snapshot candidate or live (and why); the volume facts and disk lists for the critical selection. */
export function planSnapshot(input: PlanInput): SnapshotPlan {
  const { request, windowsDisks, facts } = input;
  const partitions: PartitionPlan[] = [];
  const roles = new Map<string, Set<VolumeRole>>();
  const esp = new Set<string>();
  const bitlocker = new Set<string>();
  const addRole = (guid: string, role: VolumeRole): void => {
    const set = roles.get(guid) ?? new Set<VolumeRole>();
    set.add(role);
    roles.set(guid, set);
  };
  if (facts.bootVolumeGuid !== undefined) addRole(facts.bootVolumeGuid, 'boot');

  request.disks.forEach((disk, i) => {
    const windowsDisk = windowsDisks[i]!;
    const gpt = disk.partitions.some((p) => p.type.includes('-'));
    for (const p of disk.partitions) {
      const base = { disk: disk.number, partition: p.number, windowsDisk };
      const { volume, spanned } = volumeOn(facts, windowsDisk, p);
      const type = p.type.toLowerCase();
      if (volume !== undefined && !spanned) {
        if (type === ESP_TYPE) {
          esp.add(volume.guid);
          addRole(volume.guid, 'system');
        }
        if (!gpt && p.bootable) addRole(volume.guid, 'system');
        if (type === RECOVERY_TYPE || type === MBR_RECOVERY_TYPE) addRole(volume.guid, 'winre');
      }
      const live = (reason: string, message: string): void => {
        partitions.push({ ...base, ...(volume === undefined ? {} : { volumeGuid: volume.guid }), live: { reason, message } });
      };
      if (type === ESP_TYPE) {
        live('esp', 'the EFI system partition is never part of a shadow copy (seed 001)');
      } else if (volume === undefined) {
        live('no-volume', 'Windows has no volume on this partition (MSR, unformatted, or not mounted), so there is nothing to shadow-copy');
      } else if (spanned) {
        live('spanned-volume', `volume ${volume.name} is not this partition alone (a dynamic or spanned volume): its shadow copy cannot stand for the partition`);
      } else if (isBitLocker(input.firstSectors.get(`${disk.number}:${p.number}`))) {
        bitlocker.add(volume.guid);
        live('bitlocker', `volume ${volume.name} is BitLocker-encrypted: a shadow copy would hold decrypted data, so the encrypted partition is read as it is`);
      } else if (!SNAPSHOT_FILESYSTEMS.has(volume.filesystem)) {
        live('not-snapshottable', `volume ${volume.name} holds ${volume.filesystem === '' ? 'no filesystem Windows names' : volume.filesystem}; VSS shadow-copies only NTFS and ReFS`);
      } else {
        partitions.push({ ...base, volumeGuid: volume.guid });
      }
    }
  });

  const volumes: LiveVolume[] = facts.volumes
    .filter((v) => v.extents.length > 0)
    .map((v) => ({
      guid: v.guid,
      roles: [...(roles.get(v.guid) ?? [])].sort(),
      disks: [...new Set(v.extents.map((e) => e.diskNumber))].sort((a, b) => a - b),
      // Not snapshotted: read raw, so a shadow copy would only cost the writers a freeze.
      filesystem: bitlocker.has(v.guid) ? 'bitlocker' : v.filesystem,
      esp: esp.has(v.guid),
    }));
  const sources = new Set(windowsDisks);
  const fixedDisks = [...new Set([...facts.fixedDisks, ...windowsDisks])].sort((a, b) => a - b);
  return { partitions, volumes, fixedDisks, excludedDisks: fixedDisks.filter((d) => !sources.has(d)) };
}

/**
 * Volumes holding other writers' system-state files: file paths of system-state components,
 * resolved by drive letter, %SystemRoot% / %windir% or a volume GUID path. Unresolvable paths are left out.
 */
export function systemStateVolumes(writers: readonly WriterMetadata[], facts: MachineFacts): string[] {
  const out = new Set<string>();
  const byMountPoint = (path: string): string | undefined => {
    const lower = path.toLowerCase();
    let best: VolumeFact | undefined;
    let bestLength = 0;
    for (const v of facts.volumes) {
      for (const mp of v.mountPoints) {
        const m = mp.toLowerCase().replace(/\\?$/, '\\');
        if ((lower === m.slice(0, -1) || lower.startsWith(m)) && m.length > bestLength) {
          best = v;
          bestLength = m.length;
        }
      }
    }
    return best?.guid;
  };
  for (const w of writers) {
    for (const c of w.components) {
      if (!isSystemStateComponent(w, c)) continue;
      for (const f of c.files) {
        const path = f.path.trim();
        const guid = volumeGuidOf(path)
          ?? (/^%(systemroot|windir|systemdrive)%/i.test(path) ? facts.bootVolumeGuid : undefined)
          ?? (/^[A-Za-z]:(\\|$)/.test(path) ? byMountPoint(path) : undefined);
        if (guid !== undefined) out.add(guid);
      }
    }
  }
  return [...out].sort();
}

// ---------------------------------------------------------------- the adapter

export interface VssSnapshotterDeps {
  /** Default: vssapi.dll through loadVssRuntime. */
  readonly runtime?: () => VssRuntime;
  /** Default: gatherMachineFacts over kernel32. */
  readonly facts?: () => Promise<MachineFacts>;
  /** Opens a shadow copy device; default PhysicalDrive.openSnapshotVolume. */
  readonly openVolume?: (device: string, logicalSectorSize: SectorSize) => Promise<BlockDevice>;
  /** Writers besides ASR whose failure fails the backup. */
  readonly requiredWriterIds?: readonly string[];
  readonly pollMs?: number;
  readonly timeoutMs?: number;
  readonly onPhase?: (phase: VssPhase) => void;
}

/** The Windows disk number of a source: N of `\\.\PhysicalDriveN`. */
function windowsDiskOf(device: BlockDevice, disk: number): number {
  const n = physicalDriveNumber(device.path) ?? (device instanceof PhysicalDrive ? device.diskNumber : undefined);
  if (n === undefined) {
    throw new RecoveryError('snapshot.source-not-a-disk', `disk ${disk} (${device.path}) is not a Windows disk (\\\\.\\PhysicalDriveN): VSS snapshots volumes, not image files`, {
      data: { disk, path: device.path },
    });
  }
  return n;
}

async function firstSectors(request: SnapshotRequest): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  for (const d of request.disks) {
    const sector = d.device.geometry.logicalSectorSize;
    for (const p of d.partitions) {
      if (p.lengthBytes < BigInt(sector) || p.offsetBytes + BigInt(sector) > d.device.geometry.sizeBytes) continue;
      out.set(`${d.number}:${p.number}`, await d.device.read(p.offsetBytes, sector));
    }
  }
  return out;
}

function problemText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export class VssSnapshotter implements VolumeSnapshotter {
  constructor(private readonly deps: VssSnapshotterDeps = {}) {}

  async run<T>(request: SnapshotRequest, copy: (view: SnapshotView) => Promise<T>): Promise<SnapshotOutcome<T>> {
    const windowsDisks = request.disks.map((d) => windowsDiskOf(d.device, d.number));
    const facts = await (this.deps.facts ?? (() => gatherMachineFacts()))();
    const plan = planSnapshot({ request, windowsDisks, facts, firstSectors: await firstSectors(request) });
    const runtime = (this.deps.runtime ?? loadVssRuntime)();

    let copied: { value: T } | undefined;
    let copyError: { error: unknown } | undefined;
    let frozenPartitions: { disk: number; partition: number; volume: string; snapshotId: string }[] = [];
    try {
      const result = await runVssBackup(runtime, {
        kind: request.kind,
        select: (asr, writers) => {
          try {
            return selectCriticalComponents({
              asr, volumes: plan.volumes, fixedDisks: plan.fixedDisks, excludedDisks: plan.excludedDisks,
              systemStateVolumes: systemStateVolumes(writers, facts),
            });
          } catch (e) {
            if (e instanceof RecoveryError && e.code === 'vss.critical-disk-excluded') {
              throw new RecoveryError(e.code, `${e.message}; a bare-metal backup needs every critical disk: image that disk too, or back up without a snapshot`, { data: e.data, cause: e.cause });
            }
            throw e;
          }
        },
        copy: async (input) => {
          const opened = await this.openSnapshots(request, plan, input);
          try {
            frozenPartitions = opened.frozen;
            copied = { value: await copy(opened.view) };
          } catch (e) {
            copyError = { error: e };
            throw e;
          } finally {
            await opened.close();
          }
        },
        ...(this.deps.requiredWriterIds === undefined ? {} : { requiredWriterIds: this.deps.requiredWriterIds }),
        ...(this.deps.pollMs === undefined ? {} : { pollMs: this.deps.pollMs }),
        ...(this.deps.timeoutMs === undefined ? {} : { timeoutMs: this.deps.timeoutMs }),
        ...(this.deps.onPhase === undefined ? {} : { onPhase: this.deps.onPhase }),
      });
      if (copied === undefined) throw new RecoveryError('snapshot.copy-not-run', 'the VSS backup finished without running the copy');
      const record: VssSnapshotRecord = {
        method: 'vss',
        kind: request.kind,
        snapshotSetId: result.snapshotSetId,
        snapshots: frozenPartitions,
        asrMetadataXml: result.asrMetadataXml,
        backupComponentsXml: result.backupComponentsXml,
        restoreMethods: result.restoreMethods,
        warnings: result.warnings,
      };
      return { value: copied.value, record };
    } catch (e) {
      throw copyError === undefined ? e : copyFailure(copyError.error, e);
    }
  }

  /** Opens the shadow copy device of every planned partition VSS snapshotted; the view answers for every partition. */
  private async openSnapshots(request: SnapshotRequest, plan: SnapshotPlan, input: CopyInput) {
    const open = this.deps.openVolume ?? ((device: string, sector: SectorSize) => PhysicalDrive.openSnapshotVolume(device, sector));
    const devices: BlockDevice[] = [];
    const sources = new Map<string, PartitionSource>();
    const frozen: { disk: number; partition: number; volume: string; snapshotId: string }[] = [];
    const close = async (): Promise<void> => {
      for (const d of devices.splice(0)) await d.close().catch(() => undefined);
    };
    try {
      const byVolume = new Map<string, BlockDevice>();
      for (const p of plan.partitions) {
        const key = `${p.disk}:${p.partition}`;
        if (p.live !== undefined) {
          sources.set(key, { from: 'live', ...p.live });
          continue;
        }
        const snapshot = input.snapshots.find((s) => volumeGuidOf(s.volume) === p.volumeGuid);
        if (snapshot === undefined || snapshot.device === '') {
          sources.set(key, { from: 'live', reason: 'not-snapshotted', message: `VSS did not snapshot volume {${p.volumeGuid ?? '?'}} (not selected for the snapshot set)` });
          continue;
        }
        const sector = request.disks.find((d) => d.number === p.disk)!.device.geometry.logicalSectorSize;
        let device = byVolume.get(snapshot.device);
        if (device === undefined) {
          device = await open(snapshot.device, sector);
          devices.push(device);
          byVolume.set(snapshot.device, device);
        }
        sources.set(key, { from: 'snapshot', volume: device });
        frozen.push({ disk: p.disk, partition: p.partition, volume: `\\\\?\\Volume{${p.volumeGuid!}}\\`, snapshotId: snapshot.snapshotId });
      }
    } catch (e) {
      await close();
      throw e;
    }
    const view: SnapshotView = {
      source: (disk, partition) => {
        const s = sources.get(`${disk}:${partition}`);
        if (s === undefined) throw new RecoveryError('snapshot.unknown-partition', `disk ${disk} partition ${partition} was not in the snapshot request`, { data: { disk, partition } });
        return s;
      },
    };
    return { view, frozen, close };
  }
}

/** The copy's own error (same code), with the requester's cleanup problems attached. */
function copyFailure(copyError: unknown, vssError: unknown): unknown {
  const cleanup = vssError instanceof RecoveryError && Array.isArray(vssError.data.cleanup) ? (vssError.data.cleanup as unknown[]).map(problemText) : [];
  if (!(copyError instanceof RecoveryError) || cleanup.length === 0) return copyError;
  return new RecoveryError(copyError.code, copyError.message, { data: { ...copyError.data, cleanup }, cause: copyError.cause, retryable: copyError.retryable });
}
