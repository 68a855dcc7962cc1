/**
 * Which filesystem a partition holds, and its used-block map: the byte extents a backup must copy.
 * Unknown filesystems (exFAT, ReFS, BitLocker, raw, empty) are copied whole.
 */
import type { Extent } from './extents.ts';
import { fatUsedBlockMap } from './fat.ts';
import { parseFatBootSector } from './fat-boot.ts';
import { hasNtfsOemId } from './ntfs-boot.ts';
import { ntfsUsedBlockMap } from './ntfs.ts';
import { readExact, type ByteReader } from './reader.ts';

export { alignedReader, type ByteReader } from './reader.ts';

export type FilesystemKind = 'ntfs' | 'fat12' | 'fat16' | 'fat32' | 'unknown';

export interface UsedBlockMap {
  readonly filesystem: FilesystemKind;
  /** Allocation unit in bytes; 512 for an unknown filesystem (no allocation data, every byte kept). */
  readonly clusterSize: number;
  readonly partitionBytes: bigint;
  /** Normalized byte extents relative to the partition start, all inside [0, partitionBytes). */
  readonly extents: readonly Extent[];
  readonly usedBytes: bigint;
  readonly label?: string;
  /** NTFS: the 64-bit serial as 16 hex digits; FAT: "XXXX-XXXX" as Windows shows it. */
  readonly serial?: string;
}

const BOOT_SECTOR_BYTES = 512;
const UNKNOWN_UNIT = 512;

/**
 * Classifies a volume by its first sector. NTFS is recognised by its OEM id alone, so a damaged
 * NTFS boot sector still says "ntfs" and usedBlockMap reports the damage instead of silently
 * copying everything. FAT has no signature: only a BPB that passes validation counts as FAT.
 */
export function detectFilesystem(bootSector: Uint8Array): FilesystemKind {
  if (hasNtfsOemId(bootSector)) return 'ntfs';
  try {
    return parseFatBootSector(bootSector).kind;
  } catch {
    return 'unknown';
  }
}

/** Every byte of the partition: for filesystems we cannot read allocation data from. */
export function wholePartitionMap(partitionBytes: bigint): UsedBlockMap {
  const extents = partitionBytes > 0n ? [{ start: 0n, length: partitionBytes }] : [];
  return { filesystem: 'unknown', clusterSize: UNKNOWN_UNIT, partitionBytes, extents, usedBytes: partitionBytes };
}

/**
 * Used-block map of the partition `read` gives access to. Malformed NTFS or FAT structures throw
 * RecoveryError (codes "blockmap.*"); a caller that prefers a full copy can fall back to
 * wholePartitionMap.
 */
export async function usedBlockMap(read: ByteReader, partitionBytes: bigint): Promise<UsedBlockMap> {
  if (partitionBytes < BigInt(BOOT_SECTOR_BYTES)) return wholePartitionMap(partitionBytes);
  const bootSector = await readExact(read, 0n, BOOT_SECTOR_BYTES);
  const kind = detectFilesystem(bootSector);
  if (kind === 'ntfs') return ntfsUsedBlockMap(read, partitionBytes, bootSector);
  if (kind !== 'unknown') return fatUsedBlockMap(read, partitionBytes, bootSector);
  return wholePartitionMap(partitionBytes);
}
