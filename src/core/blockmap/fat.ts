/**
 * FAT12/16/32 used-block map: the reserved area, every FAT and (FAT12/16) the fixed root directory
 * are always used; then every data cluster whose FAT entry is non-zero, except bad-cluster marks.
 * Offsets are bytes from the start of the partition.
 */
import { RecoveryError } from '../errors.ts';
import { ClusterRunCollector } from './cluster-runs.ts';
import type { UsedBlockMap } from './detect.ts';
import { readExact, type ByteReader } from './reader.ts';
import { normalizeExtents, totalBytes } from './extents.ts';
import { parseFatBootSector, type FatBootSector } from './fat-boot.ts';

/** FAT entries read per step (FAT32: 1 MiB of FAT). */
const ENTRIES_PER_CHUNK = 256 * 1024;
/** Directory bytes searched for the volume label entry. */
const LABEL_SEARCH_BYTES = 64 * 1024;

const BAD_CLUSTER: Record<FatBootSector['kind'], number> = { fat12: 0xff7, fat16: 0xfff7, fat32: 0x0ffffff7 };

function fatOffset(boot: FatBootSector): bigint {
  return BigInt(boot.reservedSectors + boot.activeFat * boot.sectorsPerFat) * BigInt(boot.bytesPerSector);
}

/** Byte range of the FAT holding entries [first, first + count). */
function entryBytes(boot: FatBootSector, first: number, count: number): { start: number; length: number } {
  if (boot.kind === 'fat12') {
    const start = Math.floor((first * 3) / 2);
    return { start, length: Math.floor(((first + count) * 3) / 2) + 2 - start };
  }
  const size = boot.kind === 'fat16' ? 2 : 4;
  return { start: first * size, length: count * size };
}

function entryAt(boot: FatBootSector, bytes: Uint8Array, start: number, n: number): number {
  if (boot.kind === 'fat32') {
    const at = n * 4 - start;
    return (bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24)) & 0x0fffffff;
  }
  if (boot.kind === 'fat16') {
    const at = n * 2 - start;
    return bytes[at]! | (bytes[at + 1]! << 8);
  }
  const at = Math.floor((n * 3) / 2) - start;
  const pair = bytes[at]! | ((bytes[at + 1] ?? 0) << 8);
  return n % 2 === 0 ? pair & 0xfff : pair >>> 4;
}

/**
 * Clusters in use according to the active FAT. A bad-cluster mark counts as unused: such a
 * cluster holds no file data (the filesystem retired it), reading it only strains a failing
 * sector, and the restored FAT keeps the mark so the target never uses it either.
 */
async function usedClusters(read: ByteReader, boot: FatBootSector): Promise<ClusterRunCollector> {
  const collector = new ClusterRunCollector();
  const base = fatOffset(boot);
  const last = boot.clusterCount + 1;
  for (let first = 2; first <= last; first += ENTRIES_PER_CHUNK) {
    const count = Math.min(ENTRIES_PER_CHUNK, last + 1 - first);
    const range = entryBytes(boot, first, count);
    const fatBytes = BigInt(boot.sectorsPerFat * boot.bytesPerSector);
    const length = Math.min(range.length, Number(fatBytes) - range.start);
    const bytes = await readExact(read, base + BigInt(range.start), length);
    let runStart = -1;
    for (let n = first; n < first + count; n++) {
      const entry = entryAt(boot, bytes, range.start, n);
      const used = entry !== 0 && entry !== BAD_CLUSTER[boot.kind];
      if (used && runStart < 0) runStart = n;
      if (!used && runStart >= 0) {
        collector.add(BigInt(runStart - 2), BigInt(n - runStart));
        runStart = -1;
      }
    }
    if (runStart >= 0) collector.add(BigInt(runStart - 2), BigInt(first + count - runStart));
  }
  return collector;
}

/** The label in the root directory (what Windows shows and `label` changes), else the BPB's copy. */
async function volumeLabel(read: ByteReader, boot: FatBootSector): Promise<string | undefined> {
  const sector = BigInt(boot.bytesPerSector);
  const start = boot.kind === 'fat32'
    ? BigInt(boot.firstDataSector) * sector + BigInt(boot.rootCluster - 2) * BigInt(boot.clusterSize)
    : BigInt(boot.reservedSectors + boot.fatCount * boot.sectorsPerFat) * sector;
  const size = boot.kind === 'fat32' ? boot.clusterSize : boot.rootDirSectors * boot.bytesPerSector;
  if (size === 0) return boot.bpbLabel;
  const dir = await readExact(read, start, Math.min(size, LABEL_SEARCH_BYTES));
  for (let at = 0; at + 32 <= dir.length; at += 32) {
    const first = dir[at]!;
    if (first === 0x00) break;
    const attr = dir[at + 11]!;
    if (first === 0xe5 || (attr & 0x3f) === 0x0f || (attr & 0x08) === 0) continue;
    return String.fromCharCode(...dir.subarray(at, at + 11)).replace(/ +$/, '');
  }
  return boot.bpbLabel;
}

/** Used-block map of a FAT12/16/32 volume whose first sector is `bootSector`. */
export async function fatUsedBlockMap(read: ByteReader, partitionBytes: bigint, bootSector: Uint8Array): Promise<UsedBlockMap> {
  const boot = parseFatBootSector(bootSector);
  const sector = BigInt(boot.bytesPerSector);
  const volumeBytes = BigInt(boot.totalSectors) * sector;
  if (volumeBytes > partitionBytes) {
    throw new RecoveryError('blockmap.volume-exceeds-partition', `${boot.kind.toUpperCase()} volume of ${volumeBytes} bytes does not fit its ${partitionBytes}-byte partition`, {
      data: { filesystem: boot.kind, volumeBytes: volumeBytes.toString(), partitionBytes: partitionBytes.toString() },
    });
  }
  const dataStart = BigInt(boot.firstDataSector) * sector;
  const cs = BigInt(boot.clusterSize);
  const clusters = (await usedClusters(read, boot)).finish().map((r) => ({ start: dataStart + r.first * cs, length: r.count * cs }));
  const extents = normalizeExtents([{ start: 0n, length: dataStart }, ...clusters]);
  const label = await volumeLabel(read, boot);
  return {
    filesystem: boot.kind,
    clusterSize: boot.clusterSize,
    partitionBytes,
    extents,
    usedBytes: totalBytes(extents),
    ...(label === undefined ? {} : { label }),
    ...(boot.serial === undefined ? {} : { serial: boot.serial }),
  };
}
