/**
 * Checks on the backup's source layout and on the selection, before any planning: a refusal here
 * means the request itself cannot be honoured, whatever the target looks like.
 */
import { GPT_TYPE } from '../partition/guid.ts';
import type { PartitionTable } from '../partition/types.ts';
import type { SectorSize } from '../units.ts';
import { contains, entriesOf, findOverlap, isUsedMbrEntry } from './entries.ts';
import type { LayoutEntry } from './entries.ts';
import { refuse } from './refusal.ts';
import type { Refusal } from './refusal.ts';
import type { DynamicVolumeRecord } from './source-layout.ts';

const MAX_U32 = 0xffffffffn;

/** The logical sector size the source table counts in. */
export function sourceSectorSize(table: PartitionTable, geometrySectorSize: SectorSize): SectorSize {
  return table.style === 'gpt' ? table.sectorSize : geometrySectorSize;
}

/**
 * MBR dynamic disks carry one 0x42 entry over the whole disk (a dummy that stops legacy tools
 * repartitioning it) plus, for retained boot/system volumes, a 0x42 entry per volume inside it.
 * The outer one is a container, not a volume.
 */
export function isLdmContainer(e: LayoutEntry, all: readonly LayoutEntry[]): boolean {
  return e.dynamic && e.uniqueGuid === undefined && all.some((o) => o !== e && contains(e, o) && o.sectorCount < e.sectorCount);
}

function ldmContainerOverlap(all: readonly LayoutEntry[]) {
  return (a: LayoutEntry, b: LayoutEntry): boolean => isLdmContainer(a, all) && contains(a, b) && b.sectorCount < a.sectorCount;
}

/** Overlaps that no valid table has, with the container allowances of entries.ts and of LDM. */
export function findInvalidOverlap(table: PartitionTable): [LayoutEntry, LayoutEntry] | undefined {
  const all = entriesOf(table);
  return findOverlap(all, ldmContainerOverlap(all));
}

function checkGpt(table: Extract<PartitionTable, { style: 'gpt' }>, geometrySectorSize: SectorSize): Refusal | undefined {
  if (table.sectorSize !== geometrySectorSize) {
    return refuse.sourceInvalid(`its GPT counts ${table.sectorSize}-byte sectors but the disk had ${geometrySectorSize}-byte sectors`, {
      tableSectorSize: table.sectorSize,
      geometrySectorSize,
    });
  }
  const numbers = new Set<number>();
  const guids = new Set<string>();
  for (const p of table.partitions) {
    if (!Number.isInteger(p.number) || p.number < 1 || p.number > table.numberOfEntries || numbers.has(p.number)) {
      return refuse.sourceInvalid(`partition number ${p.number} is not a free slot 1–${table.numberOfEntries}`, { partition: p.number });
    }
    numbers.add(p.number);
    const guid = p.uniqueGuid.toLowerCase();
    if (guids.has(guid)) return refuse.sourceInvalid(`partition ${p.number} repeats partition GUID ${guid}`, { partition: p.number, guid });
    guids.add(guid);
    if (p.firstLba > p.lastLba || p.firstLba < table.firstUsableLba || p.lastLba > table.lastUsableLba) {
      return refuse.sourceInvalid(
        `partition ${p.number} (LBA ${p.firstLba}–${p.lastLba}) is outside the usable LBAs ${table.firstUsableLba}–${table.lastUsableLba}`,
        { partition: p.number, firstLba: String(p.firstLba), lastLba: String(p.lastLba) },
      );
    }
  }
  return undefined;
}

function checkMbr(table: Extract<PartitionTable, { style: 'mbr' }>, sectorSize: SectorSize): Refusal | undefined {
  const slots = new Set<number>();
  for (const e of table.primary) {
    if (!Number.isInteger(e.number) || e.number < 1 || e.number > 4 || slots.has(e.number)) {
      return refuse.sourceInvalid(`primary partition number ${e.number} is not a free slot 1–4`, { partition: e.number });
    }
    slots.add(e.number);
  }
  const all = entriesOf(table);
  for (const e of all) {
    if (e.startLba > MAX_U32 || e.sectorCount > MAX_U32) return refuse.mbrLimit(e, sectorSize);
    if (e.startLba < 1n) return refuse.sourceInvalid(`partition ${e.number} starts at LBA 0, over the MBR itself`, { partition: e.number });
  }
  const containers = all.filter((e) => e.container);
  for (const e of all.filter((x) => x.logical)) {
    if (!containers.some((c) => contains(c, e))) {
      return refuse.sourceInvalid(`logical partition ${e.number} lies outside every extended partition`, { partition: e.number });
    }
    if (e.dynamic) {
      return refuse.sourceInvalid(`logical partition ${e.number} has the dynamic-disk type 0x42, which Windows never puts in an extended partition`, {
        partition: e.number,
      });
    }
  }
  if (table.logical.some((e) => !isUsedMbrEntry(e))) {
    return refuse.sourceInvalid('an extended-partition chain entry is empty', {});
  }
  return undefined;
}

/** Refuses a source table no target could carry faithfully. */
export function checkSourceTable(table: PartitionTable, geometrySectorSize: SectorSize): Refusal | undefined {
  const problem = table.style === 'gpt' ? checkGpt(table, geometrySectorSize) : checkMbr(table, geometrySectorSize);
  if (problem !== undefined) return problem;
  const overlap = findInvalidOverlap(table);
  return overlap === undefined ? undefined : refuse.sourceOverlap(overlap[0], overlap[1]);
}

/** Refuses selections of nothing, of unknown numbers, of entries that hold no volume, of non-simple dynamic volumes. */
export function checkSelection(
  table: PartitionTable,
  selected: readonly number[],
  dynamicVolumes: readonly DynamicVolumeRecord[] = [],
): Refusal | undefined {
  if (selected.length === 0) return refuse.nothingSelected();
  const all = entriesOf(table);
  const byNumber = new Map(all.map((e) => [e.number, e]));
  const unknown = [...new Set(selected)].filter((n) => !byNumber.has(n)).sort((a, b) => a - b);
  if (unknown.length > 0) return refuse.unknownPartition(unknown, all.map((e) => e.number).sort((a, b) => a - b));
  for (const n of [...new Set(selected)].sort((a, b) => a - b)) {
    const e = byNumber.get(n)!;
    if (e.container) return refuse.notAVolume(e, 'extended');
    if (e.uniqueGuid !== undefined && e.type === GPT_TYPE.ldmMetadata) return refuse.notAVolume(e, 'ldm-metadata');
    if (isLdmContainer(e, all)) return refuse.notAVolume(e, 'ldm-container');
    const record = e.dynamic ? dynamicVolumes.find((r) => r.partitionNumber === n) : undefined;
    if (record !== undefined && record.layout !== 'simple') return refuse.dynamicVolumeUnsupported(e, record.layout);
  }
  return undefined;
}
