/**
 * What a restore writes onto one target disk, as ordered work (pure: no I/O, no clock).
 *
 * Input: the backup's extents for one source disk, where each selected partition's bytes go on the
 * target (from the layout plan), and whether the disk areas outside the partitions come back too
 * (full rebuild and raw disks: MBR boot code, the post-MBR gap, gaps between partitions).
 * Output: regions (one per restored partition, one for the disk areas) and write units ordered by
 * target offset.
 *
 * Rules:
 * 1. Only bytes the backup holds are planned. Bytes it does not hold (free space of a used-blocks
 *    backup) are left as the target has them.
 * 2. Bytes of unselected partitions are never written (a full rebuild recreates those empty).
 * 3. `reserved` ranges (the partition-table sectors of source and target) are never written from
 *    extents: the table step writes and verifies them, and a stale copy (the source's backup GPT in
 *    the middle of a larger target) must not reappear. A chunk that straddles such a range becomes
 *    slices.
 * 4. A write unit is contiguous, within one region and of one kind. Data units hold whole slices
 *    and at most `writeBlockSize` bytes unless one slice alone is larger; zero units may be long
 *    (they are processed in write-block pieces).
 */
import type { ManifestDisk, ManifestExtent } from '../../core/backup/manifest.ts';
import type { Extent } from '../../core/blockmap/extents.ts';
import { normalizeExtents, subtractExtents } from '../../core/blockmap/extents.ts';
import type { ByteRange, RestoredPartition } from '../../core/layout/layout-plan.ts';
import { RecoveryError } from '../../core/errors.ts';

export interface Region {
  readonly index: number;
  readonly kind: 'partition' | 'disk-area';
  /** Source and target partition numbers (partitions only). */
  readonly sourceNumber?: number;
  readonly targetNumber?: number;
  /** The partition's range on the target; the whole target for the disk areas. */
  readonly target: ByteRange;
  /** "partition 3 -> 3", "disk areas outside the partitions". */
  readonly label: string;
}

/** The bytes [from, from + length) of one stored chunk's plaintext. */
export interface ChunkSlice {
  readonly chunkId: string;
  readonly storedHash: string;
  readonly storedLength: number;
  /** Plaintext length of the whole chunk. */
  readonly chunkLength: number;
  readonly from: number;
}

export type WorkItem =
  | { readonly kind: 'data'; readonly offset: bigint; readonly length: number; readonly region: number; readonly chunk: ChunkSlice }
  | { readonly kind: 'zero'; readonly offset: bigint; readonly length: bigint; readonly region: number };

export interface WriteUnit {
  readonly kind: 'data' | 'zero';
  /** Target byte offset. */
  readonly offset: bigint;
  readonly length: bigint;
  readonly region: number;
  readonly items: readonly WorkItem[];
}

export interface DiskPlanInput {
  readonly disk: ManifestDisk;
  readonly targetSizeBytes: bigint;
  readonly partitions: readonly RestoredPartition[];
  /** Restore the backup's bytes outside every source partition (full rebuild, raw disk). */
  readonly diskAreas: boolean;
  /** Source byte ranges of every partition entry (volumes, not MBR extended containers). */
  readonly partitionRanges: readonly Extent[];
  /** Target byte ranges never written from extents (rule 3). */
  readonly reserved: readonly Extent[];
  readonly writeBlockSize: number;
}

export interface DiskRestorePlan {
  readonly regions: readonly Region[];
  readonly units: readonly WriteUnit[];
  readonly dataBytes: bigint;
  readonly zeroBytes: bigint;
}

/** A source range copied to the target shifted by `delta` bytes. */
interface Window {
  readonly start: bigint;
  readonly end: bigint;
  readonly delta: bigint;
  readonly region: number;
}

function regionsOf(input: DiskPlanInput): { regions: Region[]; windows: Window[] } {
  const regions: Region[] = [];
  const windows: Window[] = [];
  for (const p of input.partitions) {
    const index = regions.length;
    regions.push({ index, kind: 'partition', sourceNumber: p.sourceNumber, targetNumber: p.targetNumber, target: p.target, label: `partition ${p.sourceNumber} -> ${p.targetNumber}` });
    windows.push({ start: p.source.offset, end: p.source.offset + p.source.length, delta: p.target.offset - p.source.offset, region: index });
  }
  if (input.diskAreas) {
    const index = regions.length;
    regions.push({ index, kind: 'disk-area', target: { offset: 0n, length: input.targetSizeBytes }, label: 'disk areas outside the partitions' });
    const limit = input.disk.geometry.sizeBytes < input.targetSizeBytes ? input.disk.geometry.sizeBytes : input.targetSizeBytes;
    for (const free of subtractExtents([{ start: 0n, length: limit }], input.partitionRanges)) {
      windows.push({ start: free.start, end: free.start + free.length, delta: 0n, region: index });
    }
  }
  return { regions, windows };
}

/** Index of the first extent ending after `offset` (extents are sorted and disjoint). */
function firstEndingAfter(extents: readonly ManifestExtent[], offset: bigint): number {
  let lo = 0;
  let hi = extents.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const e = extents[mid]!;
    if (e.diskOffset + e.length <= offset) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function itemsOf(extent: ManifestExtent, source: Extent, w: Window, reserved: readonly Extent[]): WorkItem[] {
  const pieces = subtractExtents([{ start: source.start + w.delta, length: source.length }], reserved);
  return pieces.map((piece): WorkItem => {
    if (extent.kind === 'zero') return { kind: 'zero', offset: piece.start, length: piece.length, region: w.region };
    const from = Number(piece.start - w.delta - extent.diskOffset);
    const chunk = { chunkId: extent.chunkId, storedHash: extent.storedHash, storedLength: extent.storedLength, chunkLength: Number(extent.length), from };
    return { kind: 'data', offset: piece.start, length: Number(piece.length), region: w.region, chunk };
  });
}

function itemLength(item: WorkItem): bigint {
  return item.kind === 'data' ? BigInt(item.length) : item.length;
}

function toUnits(items: readonly WorkItem[], writeBlockSize: number): WriteUnit[] {
  const units: { kind: 'data' | 'zero'; offset: bigint; length: bigint; region: number; items: WorkItem[] }[] = [];
  const limit = BigInt(writeBlockSize);
  for (const item of items) {
    const last = units[units.length - 1];
    const length = itemLength(item);
    const joins = last !== undefined && last.kind === item.kind && last.region === item.region && last.offset + last.length === item.offset &&
      (item.kind === 'zero' || last.length + length <= limit);
    if (joins) {
      last.items.push(item);
      last.length += length;
    } else {
      units.push({ kind: item.kind, offset: item.offset, length, region: item.region, items: [item] });
    }
  }
  return units;
}

function checkPlan(units: readonly WriteUnit[], sectorSize: number, targetSize: bigint): void {
  const ss = BigInt(sectorSize);
  let end = 0n;
  for (const u of units) {
    const data = { offset: String(u.offset), length: String(u.length) };
    if (u.offset % ss !== 0n || u.length % ss !== 0n) throw new RecoveryError('restore.plan-unaligned', `a restore write at byte ${u.offset} is not sector-aligned`, { data });
    if (u.offset < end) throw new RecoveryError('restore.plan-overlap', `two restore writes overlap at byte ${u.offset}`, { data });
    if (u.offset + u.length > targetSize) throw new RecoveryError('restore.plan-out-of-range', `a restore write at byte ${u.offset} runs past the target's end`, { data });
    end = u.offset + u.length;
  }
}

export function planDiskRestore(input: DiskPlanInput): DiskRestorePlan {
  const { regions, windows } = regionsOf(input);
  const reserved = normalizeExtents(input.reserved);
  const extents = input.disk.extents;
  const items: WorkItem[] = [];
  for (const w of windows) {
    for (let i = firstEndingAfter(extents, w.start); i < extents.length; i++) {
      const e = extents[i]!;
      if (e.diskOffset >= w.end) break;
      const start = e.diskOffset > w.start ? e.diskOffset : w.start;
      const end = e.diskOffset + e.length < w.end ? e.diskOffset + e.length : w.end;
      items.push(...itemsOf(e, { start, length: end - start }, w, reserved));
    }
  }
  items.sort((a, b) => (a.offset < b.offset ? -1 : a.offset > b.offset ? 1 : 0));
  const units = toUnits(items, input.writeBlockSize);
  checkPlan(units, input.disk.geometry.logicalSectorSize, input.targetSizeBytes);
  let dataBytes = 0n;
  let zeroBytes = 0n;
  for (const u of units) {
    if (u.kind === 'data') dataBytes += u.length;
    else zeroBytes += u.length;
  }
  return { regions, units, dataBytes, zeroBytes };
}
