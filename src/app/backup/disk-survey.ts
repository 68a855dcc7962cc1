/**
 * What one source disk is, read through the BlockDevice port: its partition table (parsed, plus
 * the raw sector ranges that hold it), identity, and per partition the filesystem and used-block
 * map. A filesystem whose allocation data cannot be read is copied whole, with a warning, rather
 * than failing the backup.
 *
 * Two halves, so a snapshot can sit between them: `readDiskTable` reads the table from the live disk
 * (the snapshot request needs the partitions), `surveyPartitions` reads each filesystem's metadata
 * (NTFS $Bitmap, FAT) through whatever reader it is given — with a snapshot, the frozen volume.
 */
import { usedBlockMap, wholePartitionMap, type UsedBlockMap } from '../../core/blockmap/detect.ts';
import { isRecoveryError, RecoveryError } from '../../core/errors.ts';
import type { DiskStyle, ManifestPartition } from '../../core/backup/manifest.ts';
import { readPartitionTable, type ReadTableResult, type SectorRange } from '../../core/partition/read-table.ts';
import { summarizePartitions } from '../../core/partition/summary.ts';
import type { PartitionSummary, Problem } from '../../core/partition/types.ts';
import type { BlockDevice } from '../../ports/block-device.ts';
import type { BackupNotice } from './observer.ts';

export interface SurveyedPartition {
  readonly summary: PartitionSummary;
  readonly map: UsedBlockMap;
  /** False when the map is a whole-partition fallback for a filesystem we could not read. */
  readonly mapped: boolean;
}

export interface DiskSurvey {
  readonly style: DiskStyle;
  readonly identity: { readonly mbrSignature?: number; readonly gptDiskGuid?: string };
  readonly table: ReadTableResult;
  readonly tableSectors: readonly SectorRange[];
  readonly partitions: readonly SurveyedPartition[];
  readonly problems: readonly Problem[];
  readonly notices: readonly BackupNotice[];
}

/** What a survey reads through: the disk itself, or a view whose partitions come from a snapshot. */
export type DiskReader = Pick<BlockDevice, 'path' | 'geometry' | 'read'>;

/** The first half of a survey: the partition table, read before any snapshot is taken. */
export interface DiskTable {
  readonly style: DiskStyle;
  readonly identity: DiskSurvey['identity'];
  readonly table: ReadTableResult;
  readonly tableSectors: readonly SectorRange[];
  /** The partitions to survey (none for a raw disk). */
  readonly summaries: readonly PartitionSummary[];
  readonly problems: readonly Problem[];
  readonly notices: readonly BackupNotice[];
}

export async function surveyDisk(device: DiskReader, diskNumber: number): Promise<DiskSurvey> {
  const table = await readDiskTable(device, diskNumber);
  return combineSurvey(table, await surveyPartitions(device, diskNumber, table));
}

/** The disk's survey from its table and its partitions' survey (notices: the table's, then the partitions'). */
export function combineSurvey(table: DiskTable, parts: { readonly partitions: readonly SurveyedPartition[]; readonly notices: readonly BackupNotice[] }): DiskSurvey {
  return { ...withoutSummaries(table), partitions: parts.partitions, notices: [...table.notices, ...parts.notices] };
}

function withoutSummaries(t: DiskTable): Omit<DiskSurvey, 'partitions' | 'notices'> {
  return { style: t.style, identity: t.identity, table: t.table, tableSectors: t.tableSectors, problems: t.problems };
}

export async function readDiskTable(device: DiskReader, diskNumber: number): Promise<DiskTable> {
  const sectorSize = device.geometry.logicalSectorSize;
  const table = await readPartitionTable((lba, count) => device.read(lba * BigInt(sectorSize), count * sectorSize), device.geometry);
  const notices: BackupNotice[] = table.problems.map((p) => ({
    level: p.severity === 'error' ? 'warning' : 'info',
    code: p.code,
    message: `disk ${diskNumber} (${device.path}): ${p.message}`,
    data: { disk: diskNumber, ...(p.data ?? {}) },
  }));

  let style: DiskStyle = 'raw';
  let identity: DiskSurvey['identity'] = {};
  if (table.style === 'gpt' && table.gpt?.table) {
    style = 'gpt';
    identity = { gptDiskGuid: table.gpt.table.diskGuid.toLowerCase() };
  } else if (table.style === 'mbr' && table.mbr) {
    style = 'mbr';
    identity = { mbrSignature: table.mbr.diskSignature };
  } else if (table.style === 'gpt') {
    notices.push({
      level: 'warning', code: 'backup.gpt-unreadable',
      message: `disk ${diskNumber} (${device.path}) has GPT signatures but neither copy of the table is usable: it is imaged whole, as a raw disk`,
      data: { disk: diskNumber },
    });
  }

  const summaries = style === 'raw' || !table.table ? [] : summarizePartitions(table.table);
  return { style, identity, table, tableSectors: table.tableSectors, summaries, problems: table.problems, notices };
}

/** The second half: each partition's filesystem and used-block map, read through `device`. */
export async function surveyPartitions(device: DiskReader, diskNumber: number, table: DiskTable): Promise<{ partitions: SurveyedPartition[]; notices: BackupNotice[] }> {
  const notices: BackupNotice[] = [];
  const partitions: SurveyedPartition[] = [];
  for (const summary of table.summaries) partitions.push(await surveyPartition(device, diskNumber, summary, notices));
  return { partitions, notices };
}

async function surveyPartition(device: DiskReader, diskNumber: number, summary: PartitionSummary, notices: BackupNotice[]): Promise<SurveyedPartition> {
  const sector = BigInt(device.geometry.logicalSectorSize);
  const start = summary.startLba * sector;
  const length = summary.sectorCount * sector;
  if (start + length > device.geometry.sizeBytes) {
    notices.push({
      level: 'warning', code: 'backup.partition-past-end',
      message: `disk ${diskNumber} partition ${summary.number} ends past the end of the disk: its bytes on the disk are copied whole`,
      data: { disk: diskNumber, partition: summary.number },
    });
    return { summary, map: wholePartitionMap(length), mapped: false };
  }
  try {
    const map = await usedBlockMap((offset, size) => readInside(device, start, length, offset, size, summary.number), length);
    return { summary, map, mapped: map.filesystem !== 'unknown' };
  } catch (e) {
    if (!isRecoveryError(e) || !e.code.startsWith('blockmap.')) throw e;
    notices.push({
      level: 'warning', code: 'backup.blockmap-fallback',
      message: `disk ${diskNumber} partition ${summary.number}: ${e.message}; the whole partition is copied instead of its used blocks`,
      data: { disk: diskNumber, partition: summary.number, cause: e.code },
    });
    return { summary, map: wholePartitionMap(length), mapped: false };
  }
}

/** Filesystem parsers ask for arbitrary byte ranges inside their partition; the device takes whole sectors. */
async function readInside(device: DiskReader, partStart: bigint, partLength: bigint, offset: bigint, size: number, partition: number): Promise<Uint8Array> {
  if (offset < 0n || offset + BigInt(size) > partLength) {
    throw new RecoveryError('blockmap.out-of-partition', `filesystem metadata points outside partition ${partition}`, {
      data: { offset: offset.toString(), size, partition },
    });
  }
  const sector = BigInt(device.geometry.logicalSectorSize);
  const absolute = partStart + offset;
  const first = (absolute / sector) * sector;
  const last = ((absolute + BigInt(size) + sector - 1n) / sector) * sector;
  const data = await device.read(first, Number(last - first));
  const skip = Number(absolute - first);
  return data.subarray(skip, skip + size);
}

/** The manifest's view of a surveyed partition. */
export function manifestPartition(p: SurveyedPartition): ManifestPartition {
  const s = p.summary;
  return {
    number: s.number,
    startLba: s.startLba,
    sectorCount: s.sectorCount,
    type: s.type.toLowerCase(),
    typeName: s.typeName,
    name: s.name,
    bootable: s.bootable,
    ...(s.logical ? { logical: true } : {}),
    ...(s.uniqueGuid === undefined ? {} : { uniqueGuid: s.uniqueGuid.toLowerCase() }),
    ...(s.attributes === undefined ? {} : { attributes: s.attributes }),
    filesystem: p.map.filesystem,
    ...(p.mapped ? { usedBytes: p.map.usedBytes } : {}),
  };
}
