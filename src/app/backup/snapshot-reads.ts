/**
 * One source disk read with its partitions frozen: a byte inside a partition the snapshot covers
 * comes from that partition's frozen volume (at offset − partition start: a Windows shadow copy
 * device is a volume, and a basic volume begins at its partition's first byte); every other byte —
 * MBR, GPT headers and entries, gaps, the disk's tail, partitions the snapshot does not cover — comes
 * from the live disk. A read that crosses a boundary is split and put back together, so the survey
 * (NTFS $Bitmap, FAT) and the copy read through it unchanged.
 */
import { RecoveryError } from '../../core/errors.ts';
import type { BlockDevice } from '../../ports/block-device.ts';
import type { FrozenVolume, SnapshotView } from '../../ports/volume-snapshot.ts';
import type { DiskReader, DiskTable } from './disk-survey.ts';
import type { BackupNotice } from './observer.ts';

export interface FrozenRegion {
  readonly partition: number;
  /** Disk byte range the frozen volume stands for. */
  readonly start: bigint;
  readonly length: bigint;
  readonly volume: FrozenVolume;
}

/** Where one partition was read from, for the manifest's vss record. */
export type PartitionRoute =
  | { readonly disk: number; readonly partition: number; readonly from: 'snapshot' }
  | { readonly disk: number; readonly partition: number; readonly from: 'live'; readonly reason: string };

export class FrozenDiskReader implements DiskReader {
  /** Bytes served from frozen volumes, for tests and reports. */
  bytesFromSnapshot = 0n;
  bytesFromLive = 0n;

  /** `regions` must be sector-aligned, inside the disk and not overlap. */
  constructor(private readonly live: DiskReader, readonly regions: readonly FrozenRegion[]) {}

  get path(): string {
    return this.live.path;
  }

  get geometry(): BlockDevice['geometry'] {
    return this.live.geometry;
  }

  async read(offset: bigint, length: number): Promise<Uint8Array> {
    const end = offset + BigInt(length);
    const parts: { at: bigint; data: Uint8Array }[] = [];
    let at = offset;
    while (at < end) {
      const region = this.regions.find((r) => at >= r.start && at < r.start + r.length);
      if (region !== undefined) {
        const next = min(end, region.start + region.length);
        parts.push({ at, data: await region.volume.read(at - region.start, Number(next - at)) });
        this.bytesFromSnapshot += next - at;
        at = next;
      } else {
        const next = this.regions.reduce((n, r) => (r.start > at && r.start < n ? r.start : n), end);
        parts.push({ at, data: await this.live.read(at, Number(next - at)) });
        this.bytesFromLive += next - at;
        at = next;
      }
    }
    if (parts.length === 1) return parts[0]!.data;
    const out = new Uint8Array(length);
    for (const p of parts) out.set(p.data, Number(p.at - offset));
    return out;
  }
}

function min(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

/**
 * The reader for disk `diskNumber` under `view`, and where each partition comes from. Frozen
 * volumes must have the disk's sector size (`snapshot.sector-size-mismatch` otherwise); one shorter
 * than its partition covers what it holds and the rest is read live, with a notice.
 */
export function routeDisk(live: DiskReader, diskNumber: number, table: DiskTable, view: SnapshotView, notice: (n: BackupNotice) => void): { reader: FrozenDiskReader; routes: PartitionRoute[] } {
  const sector = BigInt(live.geometry.logicalSectorSize);
  const regions: FrozenRegion[] = [];
  const routes: PartitionRoute[] = [];
  for (const p of table.summaries) {
    const source = view.source(diskNumber, p.number);
    if (source.from === 'live') {
      routes.push({ disk: diskNumber, partition: p.number, from: 'live', reason: source.reason });
      if (source.reason !== 'no-snapshot') {
        notice({
          level: 'info', code: 'backup.read-live',
          message: `disk ${diskNumber} partition ${p.number} is read from the live disk: ${source.message}`,
          data: { disk: diskNumber, partition: p.number, reason: source.reason },
        });
      }
      continue;
    }
    const volume = source.volume;
    if (volume.geometry.logicalSectorSize !== live.geometry.logicalSectorSize) {
      throw new RecoveryError('snapshot.sector-size-mismatch', `the snapshot of disk ${diskNumber} partition ${p.number} (${volume.path}) has ${volume.geometry.logicalSectorSize}-byte sectors, the disk ${live.geometry.logicalSectorSize}`, {
        data: { disk: diskNumber, partition: p.number, path: volume.path, volumeSector: volume.geometry.logicalSectorSize, diskSector: live.geometry.logicalSectorSize },
      });
    }
    const start = p.startLba * sector;
    const partitionLength = p.sectorCount * sector;
    // Only the disk's own bytes exist to be read; a damaged table may claim more.
    const inDisk = start >= live.geometry.sizeBytes ? 0n : min(partitionLength, live.geometry.sizeBytes - start);
    const length = min(inDisk, volume.geometry.sizeBytes - (volume.geometry.sizeBytes % sector));
    if (length < inDisk) {
      notice({
        level: 'warning', code: 'backup.snapshot-short',
        message: `the snapshot of disk ${diskNumber} partition ${p.number} (${volume.path}) holds ${volume.geometry.sizeBytes} bytes of the partition's ${inDisk}: the last ${inDisk - length} are read from the live disk`,
        data: { disk: diskNumber, partition: p.number, snapshotBytes: volume.geometry.sizeBytes.toString(), partitionBytes: inDisk.toString() },
      });
    }
    const overlapping = regions.find((r) => length > 0n && start < r.start + r.length && r.start < start + length);
    if (overlapping !== undefined) {
      // A damaged table: the bytes are read live, as they would be without a snapshot.
      routes.push({ disk: diskNumber, partition: p.number, from: 'live', reason: 'overlapping-partition' });
      notice({
        level: 'warning', code: 'backup.read-live',
        message: `disk ${diskNumber} partition ${p.number} overlaps partition ${overlapping.partition}: it is read from the live disk`,
        data: { disk: diskNumber, partition: p.number, reason: 'overlapping-partition' },
      });
      continue;
    }
    if (length > 0n) regions.push({ partition: p.number, start, length, volume });
    routes.push({ disk: diskNumber, partition: p.number, from: 'snapshot' });
  }
  regions.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  return { reader: new FrozenDiskReader(live, regions), routes };
}
