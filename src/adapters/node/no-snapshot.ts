/**
 * The VolumeSnapshotter for when no snapshot is possible or wanted: Linux (no VSS), `--no-snapshot`
 * on Windows, image files. It takes nothing, hands the copy no frozen reader (every partition is
 * read from the live disk) and records that no snapshot was taken and why — it never pretends one
 * happened. Shared by the Linux and Windows composition roots, so it lives here rather than in
 * adapters/linux; it needs nothing from Node.
 */
import type { NoSnapshotRecord, SnapshotOutcome, SnapshotRequest, SnapshotView, VolumeSnapshotter } from '../../ports/volume-snapshot.ts';

export type NoSnapshotReason = 'unsupported-platform' | 'opted-out' | 'not-volumes';

const MESSAGES: Readonly<Record<NoSnapshotReason, string>> = {
  'unsupported-platform': 'no VSS on this platform: the disks were read live, so files changing during the backup may be inconsistent',
  'opted-out': 'the snapshot was turned off (--no-snapshot): the disks were read live, so files changing during the backup may be inconsistent',
  'not-volumes': 'the sources are image files, not Windows volumes: they were read as they are',
};

export class NoSnapshot implements VolumeSnapshotter {
  readonly record: NoSnapshotRecord;

  constructor(reason: NoSnapshotReason, message: string = MESSAGES[reason]) {
    this.record = { method: 'none', reason, message };
  }

  async run<T>(_request: SnapshotRequest, copy: (view: SnapshotView) => Promise<T>): Promise<SnapshotOutcome<T>> {
    const { reason, message } = this.record;
    const value = await copy({ source: () => ({ from: 'live', reason: 'no-snapshot', message: `${reason}: ${message}` }) });
    return { value, record: this.record };
  }
}
