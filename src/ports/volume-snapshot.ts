/**
 * A consistent, point-in-time view of the volumes on the disks a backup reads: take the snapshot,
 * run the copy against it, then finish and clean up. On Windows this is a VSS requester with ASR
 * semantics (docs/vss-agent.md); elsewhere an explicit "no snapshot" that reads the live disks.
 *
 * Implementations:
 * - MUST take the snapshot before calling `copy` once, and keep it (and every reader handed out)
 *   valid until the promise `copy` returned settles;
 * - MUST run their cleanup (readers closed, snapshot deleted, OS objects released) on every path
 *   before `run` settles — also when `copy` rejects or the snapshot fails half-way;
 * - MUST reject with the error `copy` rejected with when the copy fails: the same `code` and
 *   `retryable`, problems met while cleaning up added as `data.cleanup` (a list of strings);
 * - MUST NOT report a snapshot that was not taken: a record with `method: 'none'` says why the
 *   partitions were read live, and `source()` then answers `live` for every partition;
 * - MUST answer `source()` for every partition of the request, for as long as `copy` runs;
 * - readers: offsets are relative to the partition's first byte (a Windows shadow copy device is a
 *   volume, and a basic volume starts at its partition's first byte); reads are aligned to
 *   `geometry.logicalSectorSize`, which MUST equal the disk's; `geometry.sizeBytes` may be smaller
 *   than the partition (the caller then reads the bytes past it live), never larger.
 * Errors: what the platform raises (`vss.*`, see docs/vss-agent.md), `snapshot.source-not-a-disk`
 * when a disk of the request cannot be snapshotted (an image file), `snapshot.unavailable`.
 */
import type { BackupKind } from '../core/vss/backup-schema.ts';
import type { WriterRestoreRecord } from '../core/vss/restore-methods.ts';
import type { BlockDevice } from './block-device.ts';

export type { BackupKind } from '../core/vss/backup-schema.ts';

export interface SnapshotPartition {
  /** The partition's number in the table (as in the manifest's layout). */
  readonly number: number;
  /** From the disk's first byte. */
  readonly offsetBytes: bigint;
  readonly lengthBytes: bigint;
  /** "0x07" (MBR) or the type GUID (GPT), lower case. */
  readonly type: string;
  readonly uniqueGuid?: string;
  /** MBR active flag. */
  readonly bootable: boolean;
}

export interface SnapshotDisk {
  /** The disk's number in the manifest. */
  readonly number: number;
  /** The live disk as the backup opened it; its path tells the adapter which OS disk it is. */
  readonly device: BlockDevice;
  readonly partitions: readonly SnapshotPartition[];
}

export interface SnapshotRequest {
  readonly disks: readonly SnapshotDisk[];
  /** full (VSS_BT_FULL) or copy (VSS_BT_COPY); meaningless without a snapshot. */
  readonly kind: BackupKind;
}

/** A partition's frozen contents, partition-relative offsets. Closing is the snapshotter's job. */
export type FrozenVolume = Pick<BlockDevice, 'path' | 'geometry' | 'read'>;

export type PartitionSource =
  | { readonly from: 'snapshot'; readonly volume: FrozenVolume }
  | {
      readonly from: 'live';
      /** A stable code: "no-snapshot", "esp", "no-volume", "not-snapshotted", "bitlocker", "spanned-volume", … */
      readonly reason: string;
      readonly message: string;
    };

export interface SnapshotView {
  /** Where partition `partition` of manifest disk `disk` is read from. */
  source(disk: number, partition: number): PartitionSource;
}

/** The record kept with the restore point. */
export type SnapshotRecord = NoSnapshotRecord | VssSnapshotRecord;

export interface NoSnapshotRecord {
  readonly method: 'none';
  /** A stable code: "unsupported-platform", "opted-out", "not-volumes". */
  readonly reason: string;
  readonly message: string;
}

export interface VssSnapshotRecord {
  readonly method: 'vss';
  readonly kind: BackupKind;
  readonly snapshotSetId: string;
  /** One per partition the copy was given a frozen reader for. */
  readonly snapshots: readonly { readonly disk: number; readonly partition: number; readonly volume: string; readonly snapshotId: string }[];
  readonly asrMetadataXml: string;
  readonly backupComponentsXml: string;
  readonly restoreMethods: readonly WriterRestoreRecord[];
  readonly warnings: readonly string[];
}

export interface SnapshotOutcome<T> {
  /** What `copy` resolved with. */
  readonly value: T;
  readonly record: SnapshotRecord;
}

export interface VolumeSnapshotter {
  run<T>(request: SnapshotRequest, copy: (view: SnapshotView) => Promise<T>): Promise<SnapshotOutcome<T>>;
}
