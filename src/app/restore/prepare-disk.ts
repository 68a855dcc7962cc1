/**
 * Plans one target disk before anything is written: the source table from the backup, the
 * target's current table, the layout planner's answer (write | intact | refused) and the ordered
 * work of restore-plan.ts.
 *
 * Decisions:
 * - An intact layout (ASR's rule) is not recreated and only the selected partitions' contents are
 *   restored, in either rebuild mode. The one exception is a resumed full rebuild: when the journal
 *   says an earlier attempt of this run wrote and verified the table, the target looks intact only
 *   because of that write, so the full plan (with the disk areas) is kept and the table is not
 *   written again, only verified.
 * - A full rebuild also restores the backup's bytes outside the partitions (boot code area, the
 *   post-MBR gap); partial and intact restores write only inside the selected partitions.
 * - A raw source disk (no table) is copied as a whole onto a target at least as large.
 */
import type { ManifestDisk } from '../../core/backup/manifest.ts';
import type { Extent } from '../../core/blockmap/extents.ts';
import { RecoveryError } from '../../core/errors.ts';
import { byteRangeOf, entriesOf, volumesOf } from '../../core/layout/entries.ts';
import type { LayoutNote, RestoredPartition } from '../../core/layout/layout-plan.ts';
import { planLayout } from '../../core/layout/planner.ts';
import { refusalToError } from '../../core/layout/refusal.ts';
import { isLdmContainer } from '../../core/layout/source-checks.ts';
import { GPT_TYPE } from '../../core/partition/guid.ts';
import { readPartitionTable } from '../../core/partition/read-table.ts';
import { summarizePartitions } from '../../core/partition/summary.ts';
import type { PartitionTable, WriteOp } from '../../core/partition/types.ts';
import type { DiskMapping } from '../../core/protocol/jobs.ts';
import type { BlockDevice } from '../../ports/block-device.ts';
import type { RestoredVolume } from '../../ports/boot-tool.ts';
import type { ChunkFetcher } from './chunk-fetch.ts';
import type { RestoreJournal } from './journal.ts';
import { tableMark } from './journal.ts';
import { planDiskRestore } from './restore-plan.ts';
import type { DiskRestorePlan } from './restore-plan.ts';
import { readSourceDisk } from './source-layout.ts';

export type TableAction =
  | { readonly kind: 'write'; readonly writes: readonly WriteOp[]; readonly expected: PartitionTable }
  | { readonly kind: 'intact'; readonly expected: PartitionTable }
  | { readonly kind: 'written-earlier'; readonly expected: PartitionTable }
  | { readonly kind: 'none' };

export interface PreparedDisk {
  readonly mapping: DiskMapping;
  readonly source: ManifestDisk;
  readonly device: BlockDevice;
  readonly table: TableAction;
  readonly plan: DiskRestorePlan;
  /** "full rebuild", "partial rebuild", "layout intact", "raw disk". */
  readonly mode: string;
  readonly notes: readonly LayoutNote[];
  readonly volumes: readonly RestoredVolume[];
}

export interface PrepareDiskInput {
  readonly mapping: DiskMapping;
  readonly source: ManifestDisk;
  readonly device: BlockDevice;
  readonly fetcher: ChunkFetcher;
  readonly journal: RestoreJournal;
  readonly writeBlockSize: number;
}

/** Every partition that holds a volume the backup can restore (no containers, no LDM metadata). */
function selectable(table: PartitionTable): number[] {
  const all = entriesOf(table);
  return volumesOf(table).filter((e) => e.type !== GPT_TYPE.ldmMetadata && !isLdmContainer(e, all)).map((e) => e.number);
}

function rangesOf(items: readonly { readonly lba: bigint; readonly count: number }[], sectorSize: number): Extent[] {
  return items.map((r) => ({ start: r.lba * BigInt(sectorSize), length: BigInt(r.count * sectorSize) }));
}

function volumesFor(input: PrepareDiskInput, table: PartitionTable, restored: readonly RestoredPartition[]): RestoredVolume[] {
  const entries = summarizePartitions(table);
  return restored.map((r) => {
    const entry = entries.find((e) => e.number === r.targetNumber);
    const recorded = input.source.layout.partitions.find((p) => p.number === r.sourceNumber);
    return {
      disk: input.mapping.targetDisk,
      partitionNumber: r.targetNumber,
      offset: r.target.offset,
      length: r.target.length,
      type: entry?.type ?? recorded?.type ?? 'unknown',
      ...(entry?.uniqueGuid === undefined ? {} : { uniqueGuid: entry.uniqueGuid }),
      filesystem: recorded?.filesystem ?? 'unknown',
      name: entry?.name ?? recorded?.name ?? '',
      bootable: entry?.bootable ?? false,
    };
  });
}

function prepareRaw(input: PrepareDiskInput): PreparedDisk {
  const { source, device, mapping } = input;
  if (mapping.partitions.length > 0) {
    throw new RecoveryError('restore.raw-disk-partitions', `source disk ${source.number} has no partition table, so partitions cannot be selected`, { data: { sourceDisk: source.number } });
  }
  if (device.geometry.sizeBytes < source.geometry.sizeBytes) {
    throw new RecoveryError('restore.target-too-small', `${device.path} has ${device.geometry.sizeBytes} bytes; source disk ${source.number} (no partition table) needs ${source.geometry.sizeBytes}`, {
      data: { targetDisk: mapping.targetDisk, targetBytes: String(device.geometry.sizeBytes), neededBytes: String(source.geometry.sizeBytes) },
    });
  }
  const plan = planDiskRestore({ disk: source, targetSizeBytes: device.geometry.sizeBytes, partitions: [], diskAreas: true, partitionRanges: [], reserved: [], writeBlockSize: input.writeBlockSize });
  return { mapping, source, device, table: { kind: 'none' }, plan, mode: 'raw disk', notes: [], volumes: [] };
}

export async function prepareDisk(input: PrepareDiskInput): Promise<PreparedDisk> {
  const { mapping, source, device } = input;
  const { layout, tableRanges } = await readSourceDisk(source, input.fetcher);
  if (layout.table === undefined) return prepareRaw(input);
  const ss = device.geometry.logicalSectorSize;
  const current = await readPartitionTable((lba, count) => device.read(lba * BigInt(ss), count * ss), device.geometry);
  const selected = mapping.partitions.length > 0 ? [...mapping.partitions] : selectable(layout.table);
  const request = { source: layout, selected, mode: mapping.rebuild };
  let plan = planLayout({ ...request, target: { geometry: device.geometry, ...(current.table ? { table: current.table } : {}) } });
  if (plan.kind === 'refused') throw refusalToError(plan.reason);
  let table: TableAction = plan.kind === 'write' ? { kind: 'write', writes: plan.writes, expected: plan.targetTable } : { kind: 'intact', expected: plan.targetTable };
  if (plan.kind === 'intact' && mapping.rebuild === 'full' && input.journal.hasMark(tableMark(mapping.targetDisk))) {
    const asBlank = planLayout({ ...request, target: { geometry: device.geometry } });
    if (asBlank.kind === 'write') {
      plan = asBlank;
      table = { kind: 'written-earlier', expected: asBlank.targetTable };
    }
  }
  const full = plan.kind === 'write' && plan.mode === 'full';
  const reserved = [
    ...tableRanges,
    ...rangesOf(current.tableSectors, ss),
    ...(plan.kind === 'write' ? plan.writes.map((op) => ({ start: op.offset, length: BigInt(op.data.length) })) : []),
  ];
  const partitionRanges = entriesOf(layout.table).filter((e) => !e.container).map((e) => {
    const r = byteRangeOf(e, ss);
    return { start: r.offset, length: r.length };
  });
  const restorePlan = planDiskRestore({
    disk: source, targetSizeBytes: device.geometry.sizeBytes, partitions: plan.restoredPartitions, diskAreas: full,
    partitionRanges, reserved, writeBlockSize: input.writeBlockSize,
  });
  const mode = plan.kind === 'intact' ? `layout intact (${mapping.rebuild} rebuild asked)` : `${plan.mode} rebuild`;
  return {
    mapping, source, device, table, plan: restorePlan, mode, notes: plan.notes,
    volumes: volumesFor(input, table.expected, plan.restoredPartitions),
  };
}
