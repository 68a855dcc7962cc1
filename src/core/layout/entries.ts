/**
 * A style-independent view of the used entries of a table: what ranges, overlap and fit checks
 * need. LBAs are in the table's own logical sectors; `endLba` is exclusive.
 */
import { GPT_TYPE } from '../partition/guid.ts';
import { isEmptyEntry, isExtendedType, MBR_TYPE } from '../partition/mbr.ts';
import { mbrTypeHex } from '../partition/summary.ts';
import type { GptPartition, MbrEntry, PartitionTable } from '../partition/types.ts';
import type { ByteRange } from './layout-plan.ts';

export interface LayoutEntry {
  readonly number: number;
  readonly startLba: bigint;
  readonly sectorCount: bigint;
  /** "0x07" for MBR, the type GUID for GPT. */
  readonly type: string;
  /** An MBR extended partition: a container for logical partitions, holding no volume itself. */
  readonly container: boolean;
  readonly logical: boolean;
  /** MBR 0x42, GPT LDM metadata or LDM data. */
  readonly dynamic: boolean;
  readonly uniqueGuid?: string;
  readonly name?: string;
}

export function endLba(e: LayoutEntry): bigint {
  return e.startLba + e.sectorCount;
}

export function isDynamicGptType(typeGuid: string): boolean {
  const t = typeGuid.toLowerCase();
  return t === GPT_TYPE.ldmMetadata || t === GPT_TYPE.ldmData;
}

export function fromMbr(e: MbrEntry, logical: boolean): LayoutEntry {
  return {
    number: e.number,
    startLba: e.startLba,
    sectorCount: e.sectorCount,
    type: mbrTypeHex(e.type),
    container: isExtendedType(e.type),
    logical,
    dynamic: e.type === MBR_TYPE.ldm,
  };
}

export function fromGpt(p: GptPartition): LayoutEntry {
  return {
    number: p.number,
    startLba: p.firstLba,
    sectorCount: p.lastLba - p.firstLba + 1n,
    type: p.typeGuid.toLowerCase(),
    container: false,
    logical: false,
    dynamic: isDynamicGptType(p.typeGuid),
    uniqueGuid: p.uniqueGuid.toLowerCase(),
    name: p.name,
  };
}

/** Used MBR entries: a type other than 0 and at least one sector (how Linux and Windows read them). */
export function isUsedMbrEntry(e: MbrEntry): boolean {
  return !isEmptyEntry(e) && e.sectorCount > 0n;
}

/** Every used entry, primary slots first, then logical partitions in chain order. */
export function entriesOf(table: PartitionTable): LayoutEntry[] {
  if (table.style === 'gpt') return table.partitions.map(fromGpt);
  return [
    ...table.primary.filter(isUsedMbrEntry).map((e) => fromMbr(e, false)),
    ...table.logical.filter(isUsedMbrEntry).map((e) => fromMbr(e, true)),
  ];
}

/** Entries that hold a volume (not MBR extended containers). */
export function volumesOf(table: PartitionTable): LayoutEntry[] {
  return entriesOf(table).filter((e) => !e.container);
}

export function overlaps(a: LayoutEntry, b: LayoutEntry): boolean {
  return a.startLba < endLba(b) && b.startLba < endLba(a);
}

export function contains(outer: LayoutEntry, inner: LayoutEntry): boolean {
  return outer.startLba <= inner.startLba && endLba(inner) <= endLba(outer);
}

/** Containers legitimately overlap what they contain: an extended partition its logical partitions. */
function mayOverlap(a: LayoutEntry, b: LayoutEntry): boolean {
  return (a.container && b.logical && contains(a, b)) || (b.container && a.logical && contains(b, a));
}

/**
 * The first pair of entries that overlap where they must not. `allowed` adds pairs the caller
 * accepts (the dynamic-disk container entry over the volumes it hosts).
 */
export function findOverlap(
  entries: readonly LayoutEntry[],
  allowed: (a: LayoutEntry, b: LayoutEntry) => boolean = () => false,
): [LayoutEntry, LayoutEntry] | undefined {
  const sorted = [...entries].sort((a, b) => (a.startLba < b.startLba ? -1 : a.startLba > b.startLba ? 1 : a.number - b.number));
  for (let i = 0; i < sorted.length; i++) {
    const a = sorted[i]!;
    for (let j = i + 1; j < sorted.length; j++) {
      const b = sorted[j]!;
      if (b.startLba >= endLba(a)) break; // sorted by start: no later entry reaches back into a
      if (overlaps(a, b) && !mayOverlap(a, b) && !allowed(a, b) && !allowed(b, a)) return [a, b];
    }
  }
  return undefined;
}

/** Byte range of an entry for a logical sector size. */
export function byteRangeOf(e: LayoutEntry, sectorSize: number): ByteRange {
  const ss = BigInt(sectorSize);
  return { offset: e.startLba * ss, length: e.sectorCount * ss };
}

/** "partition 3 (0x07)" or 'partition 3 ("Basic data partition", ebd0a0a2-…)' for messages. */
export function describeEntry(e: LayoutEntry): string {
  if (e.uniqueGuid === undefined) return `partition ${e.number} (type ${e.type}${e.logical ? ', logical' : ''})`;
  const name = e.name === undefined || e.name === '' ? '' : `"${e.name}", `;
  return `partition ${e.number} (${name}type ${e.type})`;
}
