/**
 * Full rebuild: the target gets the source's table exactly (starts, sizes, types, names,
 * attributes, active flag, MBR boot code) with the same identity (MBR signature; GPT disk and
 * partition GUIDs), because BCD and MountedDevices reference them. Only what depends on the
 * target's size changes: a GPT's last usable LBA, its backup copy and the protective MBR follow
 * the target's end.
 */
import { protectiveMbrForTable } from '../partition/gpt.ts';
import { sectorCountOf } from '../partition/types.ts';
import type { GptTable, MbrTable, PartitionTable } from '../partition/types.ts';
import { byteRangeOf, endLba, entriesOf, volumesOf } from './entries.ts';
import { checkFits, gptUsableArea, mbrUsableArea } from './fit.ts';
import type { UsableArea } from './fit.ts';
import type { LayoutNote, LayoutPlan, RestoredPartition } from './layout-plan.ts';
import { refused } from './layout-plan.ts';
import { alignmentNotes, hybridNote, note } from './notes.ts';
import type { PlanInput } from './plan-input.ts';
import { planCheckedWrite } from './table-write.ts';

const MBR_MAX_SECTORS = 0x100000000n;

function gptForTarget(source: GptTable, input: PlanInput, area: UsableArea): GptTable {
  return {
    ...source,
    sectorSize: input.sectorSize,
    lastUsableLba: area.lastLba,
    // Boot code and signature kept; the 0xEE entry follows the target's size (a hybrid MBR is kept as is).
    protectiveMbr: protectiveMbrForTable(source, input.target.geometry),
  };
}

function mbrForTarget(source: MbrTable): MbrTable {
  return { ...source, bootSignatureValid: true };
}

function sizeNotes(table: PartitionTable, area: UsableArea, input: PlanInput): LayoutNote[] {
  const { geometry } = input.target;
  const notes: LayoutNote[] = [];
  const lastEnd = entriesOf(table).reduce((max, e) => (endLba(e) > max ? endLba(e) : max), area.firstLba);
  const tailSectors = area.lastLba + 1n - lastEnd;
  if (tailSectors > 0n) notes.push(note.unallocatedTail(tailSectors * BigInt(input.sectorSize)));
  if (table.style === 'mbr' && sectorCountOf(geometry) > MBR_MAX_SECTORS) notes.push(note.mbrBeyondLimit(geometry));
  return notes;
}

export function planFull(input: PlanInput): LayoutPlan {
  const { source, target } = input;
  const area =
    source.style === 'gpt'
      ? gptUsableArea(source.firstUsableLba, source.numberOfEntries, source.sizeOfEntry, target.geometry)
      : mbrUsableArea(target.geometry);
  // Every entry must fit, containers included: an extended partition past the end is a broken chain.
  const tooSmall = checkFits(entriesOf(source), area, target.geometry, source.style);
  if (tooSmall !== undefined) return refused(tooSmall);
  const targetTable = source.style === 'gpt' ? gptForTarget(source, input, area) : mbrForTarget(source);
  // A stale GPT (either copy) left under a new MBR makes tools see a damaged GPT disk.
  const writes = planCheckedWrite(targetTable, target.geometry, { clearGpt: targetTable.style === 'mbr' });
  if ('code' in writes) return refused(writes);
  const chosen = new Set(input.selected);
  const volumes = volumesOf(targetTable);
  const restoredPartitions: RestoredPartition[] = volumes
    .filter((e) => chosen.has(e.number))
    .map((e) => ({
      sourceNumber: e.number,
      targetNumber: e.number,
      source: byteRangeOf(e, input.sectorSize),
      target: byteRangeOf(e, input.sectorSize),
      entry: 'created',
    }));
  const empty = volumes.filter((e) => !chosen.has(e.number)).map((e) => e.number);
  const notes: LayoutNote[] = [
    ...input.notes,
    ...(empty.length > 0 ? [note.recreatedEmpty(empty)] : []),
    ...sizeNotes(targetTable, area, input),
    ...(source.style === 'gpt' ? hybridNote(source.protectiveMbr) : []),
    ...alignmentNotes(restoredPartitions, target.geometry),
  ];
  return { kind: 'write', mode: 'full', targetTable, writes, restoredPartitions, notes };
}
