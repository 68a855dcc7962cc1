/**
 * Dynamic (LDM) source disks are restored as basic disks: the backup keeps only the system-state
 * volumes of a dynamic disk, configured as simple volumes, and restores them onto a simple disk.
 * Each selected dynamic entry becomes a basic partition over the same sectors; everything else
 * dynamic (the LDM metadata partition, the whole-disk LDM container, unselected dynamic volumes
 * the backup does not hold) is dropped. Starts, sizes and the disk identity do not change, so BCD
 * and MountedDevices entries that use the disk signature and offsets stay valid.
 */
import { GPT_TYPE } from '../partition/guid.ts';
import { emptyMbrEntry, MBR_TYPE } from '../partition/mbr.ts';
import type { GptPartition, GptTable, MbrEntry, MbrTable, PartitionTable } from '../partition/types.ts';
import { describeEntry, entriesOf, fromGpt, isDynamicGptType } from './entries.ts';
import type { LayoutEntry } from './entries.ts';
import type { LayoutNote } from './layout-plan.ts';
import { isLdmContainer } from './source-checks.ts';

/** The name Windows gives basic data partitions. */
const BASIC_DATA_NAME = 'Basic data partition';

export function isDynamicTable(table: PartitionTable): boolean {
  return entriesOf(table).some((e) => e.dynamic);
}

interface Conversion {
  readonly table: PartitionTable;
  readonly notes: LayoutNote[];
}

function dropped(e: LayoutEntry, why: string): LayoutNote {
  return { code: 'layout.dynamic-dropped', message: `${describeEntry(e)} is not recreated: ${why}.`, data: { partition: e.number } };
}

function converted(e: LayoutEntry, to: string): LayoutNote {
  return {
    code: 'layout.dynamic-converted',
    message: `${describeEntry(e)} becomes a basic partition (type ${to}) over the same sectors.`,
    data: { partition: e.number, fromType: e.type, toType: to },
  };
}

function convertMbr(table: MbrTable, selected: ReadonlySet<number>, notes: LayoutNote[]): MbrTable {
  const all = entriesOf(table);
  const primary = table.primary.map((raw): MbrEntry => {
    const e = all.find((x) => x.number === raw.number && !x.logical);
    if (e === undefined || !e.dynamic) return raw;
    if (isLdmContainer(e, all)) {
      notes.push(dropped(e, 'it is the whole-disk LDM container, not a volume'));
      return emptyMbrEntry(raw.number);
    }
    if (!selected.has(raw.number)) {
      notes.push(dropped(e, 'it is a dynamic volume the restore does not include'));
      return emptyMbrEntry(raw.number);
    }
    notes.push(converted(e, '0x07'));
    return { ...raw, type: MBR_TYPE.ntfs };
  });
  return { ...table, primary };
}

function convertGpt(table: GptTable, selected: ReadonlySet<number>, notes: LayoutNote[]): GptTable {
  const partitions: GptPartition[] = [];
  for (const p of table.partitions) {
    const e = fromGpt(p);
    if (!isDynamicGptType(p.typeGuid)) {
      partitions.push(p);
    } else if (p.typeGuid.toLowerCase() === GPT_TYPE.ldmMetadata) {
      notes.push(dropped(e, 'it is the LDM metadata partition (the dynamic-disk database)'));
    } else if (!selected.has(p.number)) {
      notes.push(dropped(e, 'it is a dynamic volume the restore does not include'));
    } else {
      notes.push(converted(e, GPT_TYPE.basicData));
      // A plain visible basic data partition: LDM's attribute bits mean nothing there.
      partitions.push({ ...p, typeGuid: GPT_TYPE.basicData, attributes: 0n, name: BASIC_DATA_NAME });
    }
  }
  return { ...table, partitions };
}

/**
 * The basic layout a dynamic source becomes (a basic source is returned as it is). Selection and
 * volume-layout checks (source-checks.ts) must have passed.
 */
export function toBasicLayout(table: PartitionTable, selected: readonly number[]): Conversion {
  if (!isDynamicTable(table)) return { table, notes: [] };
  const notes: LayoutNote[] = [];
  const chosen = new Set(selected);
  const basic = table.style === 'mbr' ? convertMbr(table, chosen, notes) : convertGpt(table, chosen, notes);
  notes.unshift({
    code: 'layout.dynamic-to-basic',
    message:
      'The source is a dynamic disk. Its system-state volumes are restored onto a basic (simple) disk: each selected ' +
      'dynamic volume becomes a basic partition at the same offset, with the same disk identity.',
    data: {},
  });
  return { table: basic, notes };
}
