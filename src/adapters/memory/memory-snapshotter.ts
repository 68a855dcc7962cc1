/**
 * A VolumeSnapshotter in memory for tests and --simulate: the "snapshot" is whatever frozen
 * contents the caller hands in per partition (usually bytes that differ from the live disk, so a
 * test can tell which one was read). It keeps the port's contract strictly: readers answer only
 * while the copy runs (afterwards `device.closed`), cleanup runs on every path, a failing copy's
 * error comes back unchanged, and `events` records the order (snapshot, copy, complete | abort,
 * cleanup).
 */
import { RecoveryError } from '../../core/errors.ts';
import type {
  FrozenVolume, PartitionSource, SnapshotOutcome, SnapshotRequest, SnapshotView, VolumeSnapshotter, VssSnapshotRecord,
} from '../../ports/volume-snapshot.ts';

export interface MemorySnapshotterOptions {
  /** Frozen contents by `${disk}:${partition}` (manifest numbers); other partitions are read live. */
  readonly frozen: ReadonlyMap<string, FrozenVolume>;
  /** Why a partition without frozen contents is read live (default "not-snapshotted"). */
  readonly liveReasons?: ReadonlyMap<string, string>;
  /** The record fields besides `kind` and `snapshots` (which follow the request and `frozen`). */
  readonly record?: Partial<Omit<VssSnapshotRecord, 'method' | 'kind' | 'snapshots'>>;
  /** The snapshot itself fails with this (copy never runs). */
  readonly failSnapshot?: Error;
  /** Cleanup reports these problems (added to a failing copy's error as data.cleanup). */
  readonly cleanupProblems?: readonly string[];
}

export const MEMORY_SNAPSHOT_SET_ID = '0e5b2c3a-1d4f-4a6b-8c7d-9e0f1a2b3c4d';

export class MemorySnapshotter implements VolumeSnapshotter {
  readonly events: string[] = [];
  readonly requests: SnapshotRequest[] = [];
  private active = false;

  constructor(private readonly options: MemorySnapshotterOptions) {}

  async run<T>(request: SnapshotRequest, copy: (view: SnapshotView) => Promise<T>): Promise<SnapshotOutcome<T>> {
    this.requests.push(request);
    this.events.push('snapshot');
    if (this.options.failSnapshot !== undefined) {
      this.events.push('cleanup');
      throw this.options.failSnapshot;
    }
    this.active = true;
    const view: SnapshotView = {
      source: (disk, partition): PartitionSource => {
        const key = `${disk}:${partition}`;
        const known = request.disks.some((d) => d.number === disk && d.partitions.some((p) => p.number === partition));
        if (!known) throw new RecoveryError('snapshot.unknown-partition', `disk ${disk} partition ${partition} was not in the snapshot request`, { data: { disk, partition } });
        const frozen = this.options.frozen.get(key);
        if (frozen === undefined) {
          const reason = this.options.liveReasons?.get(key) ?? 'not-snapshotted';
          return { from: 'live', reason, message: `disk ${disk} partition ${partition} has no frozen copy (${reason})` };
        }
        return { from: 'snapshot', volume: this.guard(frozen) };
      },
    };
    let value: T;
    try {
      this.events.push('copy');
      value = await copy(view);
      this.events.push('complete');
    } catch (e) {
      this.events.push('abort');
      this.cleanup();
      const problems = this.options.cleanupProblems ?? [];
      if (problems.length > 0 && e instanceof RecoveryError) {
        throw new RecoveryError(e.code, e.message, { data: { ...e.data, cleanup: problems }, cause: e.cause, retryable: e.retryable });
      }
      throw e;
    }
    this.cleanup();
    const snapshots = [...this.options.frozen.keys()]
      .map((k) => k.split(':').map(Number) as [number, number])
      .filter(([d, p]) => request.disks.some((x) => x.number === d && x.partitions.some((y) => y.number === p)))
      .sort((a, b) => a[0] - b[0] || a[1] - b[1])
      .map(([disk, partition], i) => ({
        disk, partition,
        volume: `\\\\?\\Volume{00000000-0000-4000-8000-${String(disk * 1000 + partition).padStart(12, '0')}}\\`,
        snapshotId: `00000000-0000-4000-9000-${String(i + 1).padStart(12, '0')}`,
      }));
    const r = this.options.record ?? {};
    return {
      value,
      record: {
        method: 'vss',
        kind: request.kind,
        snapshotSetId: r.snapshotSetId ?? MEMORY_SNAPSHOT_SET_ID,
        snapshots,
        asrMetadataXml: r.asrMetadataXml ?? '<WRITER_METADATA/>',
        backupComponentsXml: r.backupComponentsXml ?? `<BACKUP_COMPONENTS backupType="${request.kind}"/>`,
        restoreMethods: r.restoreMethods ?? [],
        warnings: r.warnings ?? [],
      },
    };
  }

  private cleanup(): void {
    this.active = false;
    this.events.push('cleanup');
  }

  /** A reader that refuses reads once the snapshot is gone, as a deleted shadow copy would. */
  private guard(volume: FrozenVolume): FrozenVolume {
    return {
      path: volume.path,
      geometry: volume.geometry,
      read: (offset, length) => {
        if (!this.active) return Promise.reject(new RecoveryError('device.closed', `${volume.path}: the snapshot was already deleted`, { data: { path: volume.path } }));
        return volume.read(offset, length);
      },
    };
  }
}
