/**
 * Use cases behind `lifeline disk show|blocks`: read a disk's partition table and a partition's
 * used blocks through the BlockDevice port. Read-only.
 */
import { RecoveryError } from '../core/errors.ts';
import { usedBlockMap } from '../core/blockmap/detect.ts';
import type { UsedBlockMap } from '../core/blockmap/detect.ts';
import { readPartitionTable } from '../core/partition/read-table.ts';
import type { ReadTableResult } from '../core/partition/read-table.ts';
import { summarizePartitions } from '../core/partition/summary.ts';
import type { DiskGeometry, PartitionSummary, Problem } from '../core/partition/types.ts';
import type { BlockDevice } from '../ports/block-device.ts';

export interface DiskReport {
  readonly path: string;
  readonly geometry: DiskGeometry;
  readonly style: ReadTableResult['style'];
  /** MBR disk signature as 8 hex digits, or the GPT disk GUID. */
  readonly identity?: string;
  readonly partitions: readonly PartitionSummary[];
  readonly problems: readonly Problem[];
  /** Where the partitions were read from when the GPT primary copy was unusable. */
  readonly tableSource?: 'primary' | 'backup';
}

export async function inspectDisk(device: BlockDevice): Promise<DiskReport> {
  const sectorSize = device.geometry.logicalSectorSize;
  const result = await readPartitionTable(
    (lba, count) => device.read(lba * BigInt(sectorSize), count * sectorSize),
    device.geometry,
  );
  const identity = result.style === 'gpt'
    ? result.gpt?.table?.diskGuid
    : result.mbr ? result.mbr.diskSignature.toString(16).padStart(8, '0') : undefined;
  return {
    path: device.path,
    geometry: device.geometry,
    style: result.style,
    ...(identity === undefined ? {} : { identity }),
    partitions: result.table ? summarizePartitions(result.table) : [],
    problems: result.problems,
    ...(result.gpt?.source ? { tableSource: result.gpt.source } : {}),
  };
}

export interface PartitionBlocksReport {
  readonly partition: PartitionSummary;
  readonly map: UsedBlockMap;
}

export async function inspectPartitionBlocks(device: BlockDevice, partitionNumber: number): Promise<PartitionBlocksReport> {
  const report = await inspectDisk(device);
  const partition = report.partitions.find((p) => p.number === partitionNumber);
  if (!partition) {
    const numbers = report.partitions.map((p) => p.number).join(', ') || 'none';
    throw new RecoveryError('disk.no-such-partition', `${device.path} has no partition ${partitionNumber} (partitions: ${numbers})`, {
      data: { path: device.path, partition: partitionNumber },
    });
  }
  const sectorSize = BigInt(device.geometry.logicalSectorSize);
  const start = partition.startLba * sectorSize;
  const length = partition.sectorCount * sectorSize;
  const map = await usedBlockMap(async (offset, size) => {
    if (offset < 0n || offset + BigInt(size) > length) {
      throw new RecoveryError('blockmap.out-of-partition', `filesystem metadata points outside partition ${partitionNumber}`, {
        data: { offset: offset.toString(), size },
      });
    }
    return readUnaligned(device, start + offset, size);
  }, length);
  return { partition, map };
}

/** Filesystem parsers ask for arbitrary byte ranges; the device only takes whole sectors. */
async function readUnaligned(device: BlockDevice, offset: bigint, length: number): Promise<Uint8Array> {
  const sector = BigInt(device.geometry.logicalSectorSize);
  const first = (offset / sector) * sector;
  const end = offset + BigInt(length);
  const last = ((end + sector - 1n) / sector) * sector;
  const data = await device.read(first, Number(last - first));
  const skip = Number(offset - first);
  return data.subarray(skip, skip + length);
}
