/**
 * Partial rebuild: only the selected partitions are (re)created in the target's own table; every
 * other target partition keeps its entry and its bytes. The target must already carry a table of
 * the source's style (identity means the same thing on both: MBR signature + offsets, GPT GUIDs);
 * a blank target, one of the other style, or a dynamic one is refused with a pointer to full
 * rebuild. The target keeps its own disk identity.
 *
 * For each selected source partition, in order:
 *   1. a target partition with the same start, size and type is kept in place (no change);
 *   2. else the target's counterpart (GPT: same partition GUID; MBR: same start) is replaced;
 *   3. else a new entry is created (source's slot number when free, else the lowest free slot).
 * New and replaced entries must not overlap any kept partition, and must fit the target.
 */
import type { PartitionTable } from '../partition/types.ts';
import { byteRangeOf, entriesOf, overlaps, volumesOf } from './entries.ts';
import type { LayoutEntry } from './entries.ts';
import { checkFits, gptUsableArea, mbrUsableArea } from './fit.ts';
import type { UsableArea } from './fit.ts';
import type { LayoutNote, LayoutPlan, RestoredPartition } from './layout-plan.ts';
import { refused } from './layout-plan.ts';
import { alignmentNotes, note } from './notes.ts';
import { assignSlots, buildPartialTable } from './partial-table.ts';
import type { Decision, Placement } from './partial-table.ts';
import type { PlanInput } from './plan-input.ts';
import { refuse } from './refusal.ts';
import type { Refusal } from './refusal.ts';
import { targetTableProblem } from './table-checks.ts';
import { planCheckedWrite } from './table-write.ts';

function identical(a: LayoutEntry, b: LayoutEntry): boolean {
  return a.startLba === b.startLba && a.sectorCount === b.sectorCount && a.type === b.type;
}

/** Kept-in-place matches first, so a counterpart by GUID or start never takes an identical one's entry. */
export function decide(selected: readonly LayoutEntry[], targets: readonly LayoutEntry[]): Decision[] {
  const claimed = new Set<LayoutEntry>();
  const kept = new Map<LayoutEntry, LayoutEntry>();
  for (const s of selected) {
    const t = targets.find((x) => !claimed.has(x) && identical(s, x));
    if (t !== undefined) {
      claimed.add(t);
      kept.set(s, t);
    }
  }
  return selected.map((s): Decision => {
    const t = kept.get(s);
    if (t !== undefined) return { source: s, action: 'kept', counterpart: t };
    const c = targets.find((x) => !claimed.has(x) && (s.uniqueGuid === undefined ? x.startLba === s.startLba : x.uniqueGuid === s.uniqueGuid));
    if (c === undefined) return { source: s, action: 'created' };
    claimed.add(c);
    return { source: s, action: 'replaced', counterpart: c };
  });
}

function checkPlacement(decisions: readonly Decision[], current: PartitionTable, area: UsableArea, input: PlanInput): Refusal | undefined {
  const replaced = new Set(decisions.filter((d) => d.action === 'replaced').map((d) => d.counterpart?.number));
  const keptEntries = entriesOf(current).filter((e) => !replaced.has(e.number));
  const placed = decisions.filter((d) => d.action !== 'kept');
  for (const d of placed) {
    if (d.source.logical || d.counterpart?.logical === true) return refuse.partialLogical(d.source);
    const clash = keptEntries.find((k) => overlaps(d.source, k));
    if (clash !== undefined) return refuse.partialOverlap(d.source, clash);
    if (d.source.startLba < area.firstLba) {
      return refuse.partialTargetInvalid(
        `its partitions may start at LBA ${area.firstLba} at the earliest, after the start of selected partition ${d.source.number} (LBA ${d.source.startLba})`,
        { partition: d.source.number, firstUsableLba: String(area.firstLba) },
      );
    }
  }
  return checkFits(
    placed.map((d) => d.source),
    area,
    input.target.geometry,
    current.style,
  );
}

function restoredOf(placements: readonly Placement[], sectorSize: number): RestoredPartition[] {
  return placements.map((p) => ({
    sourceNumber: p.decision.source.number,
    targetNumber: p.slot,
    source: byteRangeOf(p.decision.source, sectorSize),
    target: byteRangeOf(p.decision.action === 'kept' ? p.decision.counterpart! : p.decision.source, sectorSize),
    entry: p.decision.action,
  }));
}

/** Partial plans need a table of the same style, not dynamic, not damaged. */
function checkTarget(input: PlanInput): Refusal | PartitionTable {
  const current = input.target.table;
  if (current === undefined) return refuse.partialNeedsTable();
  if (current.style !== input.source.style) return refuse.partialStyleMismatch(input.source.style, current.style);
  const dynamic = entriesOf(current).find((e) => e.dynamic);
  if (dynamic !== undefined) return refuse.partialTargetDynamic(dynamic);
  const problem = targetTableProblem(current, input.target);
  return problem === undefined ? current : refuse.partialTargetInvalid(problem, {});
}

export function planPartial(input: PlanInput): LayoutPlan {
  const current = checkTarget(input);
  if ('code' in current) return refused(current);
  const { geometry } = input.target;
  const area =
    current.style === 'gpt' ? gptUsableArea(current.firstUsableLba, current.numberOfEntries, current.sizeOfEntry, geometry) : mbrUsableArea(geometry);
  const chosen = new Set(input.selected);
  const selected = volumesOf(input.source).filter((e) => chosen.has(e.number));
  const decisions = decide(selected, volumesOf(current));
  const problem = checkPlacement(decisions, current, area, input);
  if (problem !== undefined) return refused(problem);
  const placements = assignSlots(decisions, current);
  if ('code' in placements) return refused(placements);
  const built = buildPartialTable(input.source, current, placements, geometry, area);
  if ('code' in built) return refused(built);
  // Kept partitions may own LBA 1 or the last LBA: nothing outside the table is cleared.
  const writes = planCheckedWrite(built.table, geometry, { clearGpt: false });
  if ('code' in writes) return refused(writes);
  const restoredPartitions = restoredOf(placements, input.sectorSize);
  const notes: LayoutNote[] = [
    ...input.notes,
    ...identityNote(input.source, current),
    ...built.notes,
    ...alignmentNotes(restoredPartitions.filter((r) => r.entry !== 'kept'), geometry),
  ];
  return { kind: 'write', mode: 'partial', targetTable: built.table, writes, restoredPartitions, notes };
}

/** Identity notes for a partial plan: the target keeps its own disk identity. */
export function identityNote(source: PartitionTable, current: PartitionTable): LayoutNote[] {
  if (source.style === 'mbr' && current.style === 'mbr' && source.diskSignature >>> 0 !== current.diskSignature >>> 0) {
    const hex = (n: number): string => (n >>> 0).toString(16).padStart(8, '0');
    return [note.identityDiffers(`The target keeps its disk signature ${hex(current.diskSignature)}; the backup's was ${hex(source.diskSignature)}`)];
  }
  if (source.style === 'gpt' && current.style === 'gpt' && source.diskGuid.toLowerCase() !== current.diskGuid.toLowerCase()) {
    return [note.identityDiffers(`The target keeps its disk GUID ${current.diskGuid.toLowerCase()}; the backup's was ${source.diskGuid.toLowerCase()}`)];
  }
  return [];
}
