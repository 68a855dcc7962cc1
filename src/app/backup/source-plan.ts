/**
 * Which bytes of one source disk a backup reads, as an ordered list of pieces on a fixed grid.
 * Pure: it works from the partition table's raw sectors, the partitions and their used-block maps.
 *
 * The plan is the union of
 *   - the partition-table sectors (MBR, EBRs, both GPT copies),
 *   - every byte no partition covers (the post-MBR gap, gaps between partitions, the disk's tail),
 *   - each partition's used blocks (its whole range when the filesystem is unknown or
 *     `onlyUsedBlocks` is off); the block map already holds NTFS's boot area and backup boot sector,
 * widened to whole logical sectors and cut at multiples of `blockSize` from the disk's start, so
 * that unchanged regions cut into the same chunks from one backup to the next.
 */
import {
  intersectExtents, normalizeExtents, splitExtents, subtractExtents, totalBytes, alignExtents, type Extent,
} from '../../core/blockmap/extents.ts';
import type { DiskGeometry } from '../../core/partition/types.ts';

export interface PlannedPartition {
  readonly number: number;
  readonly startLba: bigint;
  readonly sectorCount: bigint;
  /** Used byte extents relative to the partition start; absent = the whole partition. */
  readonly used?: readonly Extent[];
}

export interface SourcePlanInput {
  readonly geometry: DiskGeometry;
  /** Partition-table sectors, in LBAs. */
  readonly tableSectors: readonly { readonly lba: bigint; readonly count: number }[];
  readonly partitions: readonly PlannedPartition[];
  readonly blockSize: number;
  readonly onlyUsedBlocks: boolean;
}

export interface SourcePlan {
  /** Disk byte ranges to read, ascending, each inside one `blockSize` grid cell. */
  readonly pieces: readonly Extent[];
  /** The same bytes before cutting: sorted, merged. */
  readonly covered: readonly Extent[];
  /** Bytes outside every partition (table sectors included). */
  readonly gaps: readonly Extent[];
  readonly totalBytes: bigint;
  readonly tableBytes: bigint;
  readonly gapBytes: bigint;
  /** Bytes taken from inside partitions. */
  readonly partitionBytes: bigint;
}

export function planSourceReads(input: SourcePlanInput): SourcePlan {
  const { geometry, blockSize } = input;
  if (!Number.isSafeInteger(blockSize) || blockSize <= 0 || blockSize % geometry.logicalSectorSize !== 0) {
    throw new RangeError(`block size ${blockSize} is not a positive multiple of the sector size ${geometry.logicalSectorSize}`);
  }
  const sector = BigInt(geometry.logicalSectorSize);
  const disk: Extent[] = [{ start: 0n, length: geometry.sizeBytes }];
  // A damaged table may claim bytes past the end: only the disk's own bytes exist to be read.
  const inDisk = (extents: readonly Extent[]): Extent[] => intersectExtents(extents, disk);

  const table = inDisk(input.tableSectors.map((t) => ({ start: t.lba * sector, length: BigInt(t.count) * sector })));
  const partitionRanges = inDisk(input.partitions.map((p) => ({ start: p.startLba * sector, length: p.sectorCount * sector })));
  const gaps = subtractExtents(disk, partitionRanges);

  const inside: Extent[] = [];
  for (const p of input.partitions) {
    const start = p.startLba * sector;
    const length = p.sectorCount * sector;
    const used = input.onlyUsedBlocks && p.used !== undefined ? p.used : [{ start: 0n, length }];
    // A map never leaves its partition; clamp anyway so a bad map cannot pull in a neighbour's bytes.
    const clamped = intersectExtents(used, [{ start: 0n, length }]);
    inside.push(...clamped.map((e) => ({ start: start + e.start, length: e.length })));
  }
  const partitionBytesCovered = inDisk(alignExtents(inside, sector, geometry.sizeBytes));

  const covered = normalizeExtents([...table, ...gaps, ...partitionBytesCovered]);
  return {
    pieces: splitExtents(covered, BigInt(blockSize)),
    covered,
    gaps,
    totalBytes: totalBytes(covered),
    tableBytes: totalBytes(table),
    gapBytes: totalBytes(gaps),
    partitionBytes: totalBytes(subtractExtents(covered, gaps)),
  };
}
