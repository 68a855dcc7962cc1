/** The target table of a partial rebuild: the target's own table with the selected entries put in. */
import { protectiveMbrForTable } from '../partition/gpt.ts';
import { emptyMbrEntry } from '../partition/mbr.ts';
import type { DiskGeometry, GptPartition, GptTable, MbrEntry, MbrTable, PartitionTable } from '../partition/types.ts';
import type { UsableArea } from './fit.ts';
import type { LayoutEntry } from './entries.ts';
import type { EntryAction, LayoutNote } from './layout-plan.ts';
import { hybridNote, note } from './notes.ts';
import { refuse } from './refusal.ts';
import type { Refusal } from './refusal.ts';

const ACTIVE = 0x80;

/** What happens to one selected source partition's entry. */
export interface Decision {
  readonly source: LayoutEntry;
  readonly action: EntryAction;
  /** The target entry kept for, or replaced by, `source`. */
  readonly counterpart?: LayoutEntry;
}

/** A decision and the target slot (partition number) it ends up in. */
export interface Placement {
  readonly decision: Decision;
  readonly slot: number;
}

function usedNumbers(table: PartitionTable): Set<number> {
  if (table.style === 'gpt') return new Set(table.partitions.map((p) => p.number));
  return new Set([...table.primary, ...table.logical].filter((e) => e.type !== 0 && e.sectorCount > 0n).map((e) => e.number));
}

/** Kept and replaced entries stay in their slot; new ones take the source's number when free, else the lowest free one. */
export function assignSlots(decisions: readonly Decision[], current: PartitionTable): Placement[] | Refusal {
  const slots = current.style === 'gpt' ? current.numberOfEntries : 4;
  const used = usedNumbers(current);
  const placements: Placement[] = [];
  for (const d of decisions) {
    if (d.counterpart !== undefined) {
      placements.push({ decision: d, slot: d.counterpart.number });
      continue;
    }
    const wanted = d.source.number;
    let slot = wanted >= 1 && wanted <= slots && !used.has(wanted) ? wanted : undefined;
    for (let n = 1; slot === undefined && n <= slots; n++) if (!used.has(n)) slot = n;
    if (slot === undefined) return refuse.partialNoFreeSlot(d.source, current.style, slots);
    used.add(slot);
    placements.push({ decision: d, slot });
  }
  return placements;
}

interface Built {
  readonly table: PartitionTable;
  readonly notes: LayoutNote[];
}

function mbrEntryOf(table: MbrTable, number: number): MbrEntry | undefined {
  return [...table.primary, ...table.logical].find((e) => e.number === number && e.type !== 0);
}

function buildMbr(source: MbrTable, current: MbrTable, placements: readonly Placement[]): Built {
  const notes: LayoutNote[] = [];
  const primary = [1, 2, 3, 4].map((n) => current.primary.find((e) => e.number === n) ?? emptyMbrEntry(n));
  const placed = placements.filter((p) => p.decision.action !== 'kept');
  for (const p of placed) primary[p.slot - 1] = { ...mbrEntryOf(source, p.decision.source.number)!, number: p.slot };
  // The Windows MBR boot code refuses a table with two active entries: the restored one wins.
  const activeSlot = placed.find((p) => (primary[p.slot - 1]!.status & ACTIVE) !== 0)?.slot;
  if (activeSlot !== undefined) {
    const others = primary.filter((e) => e.number !== activeSlot && (e.status & ACTIVE) !== 0 && !placed.some((p) => p.slot === e.number));
    for (const e of others) primary[e.number - 1] = { ...e, status: e.status & ~ACTIVE };
    if (others.length > 0) notes.push(note.activeMoved(others.map((e) => e.number), activeSlot));
  }
  for (const p of placements.filter((x) => x.decision.action === 'kept')) {
    const wasActive = ((mbrEntryOf(source, p.decision.source.number)?.status ?? 0) & ACTIVE) !== 0;
    const isActive = ((mbrEntryOf(current, p.slot)?.status ?? 0) & ACTIVE) !== 0;
    if (wasActive && !isActive) notes.push(note.activeNotSet(p.decision.source.number, p.slot));
  }
  return { table: { ...current, primary, bootSignatureValid: true }, notes };
}

function buildGpt(source: GptTable, current: GptTable, placements: readonly Placement[], geometry: DiskGeometry, area: UsableArea): Built | Refusal {
  const notes: LayoutNote[] = [...hybridNote(current.protectiveMbr)];
  const placed = placements.filter((p) => p.decision.action !== 'kept');
  const taken = new Set(placed.map((p) => p.slot));
  const fresh = placed.map((p): GptPartition => ({ ...source.partitions.find((x) => x.number === p.decision.source.number)!, number: p.slot }));
  const partitions = current.partitions
    .filter((p) => !taken.has(p.number))
    .concat(fresh)
    .sort((a, b) => a.number - b.number);
  const seen = new Map<string, number>();
  for (const p of partitions) {
    const guid = p.uniqueGuid.toLowerCase();
    const other = seen.get(guid);
    if (other !== undefined) {
      return refuse.partialTargetInvalid(`target partitions ${other} and ${p.number} would share partition GUID ${guid}`, { partitions: [other, p.number], guid });
    }
    seen.set(guid, p.number);
  }
  for (const p of placements.filter((x) => x.decision.action === 'kept')) {
    const want = p.decision.source.uniqueGuid;
    const have = p.decision.counterpart?.uniqueGuid;
    if (want !== have) {
      notes.push(note.identityDiffers(`Target partition ${p.slot} keeps its partition GUID ${have}; the backup's partition ${p.decision.source.number} had ${want}`));
    }
  }
  const table: GptTable = {
    ...current,
    lastUsableLba: area.lastLba,
    partitions,
    protectiveMbr: protectiveMbrForTable(current, geometry),
  };
  return { table, notes };
}

/** Source and current must be of the same style (checked by the caller). */
export function buildPartialTable(
  source: PartitionTable,
  current: PartitionTable,
  placements: readonly Placement[],
  geometry: DiskGeometry,
  area: UsableArea,
): Built | Refusal {
  if (source.style === 'mbr' && current.style === 'mbr') return buildMbr(source, current, placements);
  if (source.style === 'gpt' && current.style === 'gpt') return buildGpt(source, current, placements, geometry, area);
  return refuse.partialStyleMismatch(source.style, current.style);
}
