/**
 * Where partitions may live on a target disk, and the too-small refusal. GPT keeps its entry array
 * and header at both ends (UEFI §5.3: LastUsableLBA = last LBA − 1 − array sectors), so the
 * backup copy is part of what a partition must leave room for.
 */
import { sectorCountOf } from '../partition/types.ts';
import type { DiskGeometry, PartitionStyle } from '../partition/types.ts';
import { endLba } from './entries.ts';
import type { LayoutEntry } from './entries.ts';
import { refuse } from './refusal.ts';
import type { Refusal } from './refusal.ts';

/** Inclusive LBA bounds partitions may use. */
export interface UsableArea {
  readonly firstLba: bigint;
  readonly lastLba: bigint;
  /** Sectors after `lastLba` that belong to the table (GPT backup array + header), 0 for MBR. */
  readonly tailSectors: bigint;
}

/** Sectors an entry array of `entries` × `entrySize` bytes takes. */
export function gptArraySectors(entries: number, entrySize: number, sectorSize: number): bigint {
  const size = BigInt(entries) * BigInt(entrySize);
  const ss = BigInt(sectorSize);
  return (size + ss - 1n) / ss;
}

/** The usable area of a GPT with the given array on `geometry`: the backup copy sits at the disk's end. */
export function gptUsableArea(firstUsableLba: bigint, entries: number, entrySize: number, geometry: DiskGeometry): UsableArea {
  const arraySectors = gptArraySectors(entries, entrySize, geometry.logicalSectorSize);
  return { firstLba: firstUsableLba, lastLba: sectorCountOf(geometry) - 2n - arraySectors, tailSectors: arraySectors + 1n };
}

/** MBR: everything after LBA 0. */
export function mbrUsableArea(geometry: DiskGeometry): UsableArea {
  return { firstLba: 1n, lastLba: sectorCountOf(geometry) - 1n, tailSectors: 0n };
}

/**
 * Refuses when any entry ends past the usable area, naming the one that misses most (the number
 * of bytes the target lacks) and listing the others.
 */
export function checkFits(entries: readonly LayoutEntry[], area: UsableArea, geometry: DiskGeometry, style: PartitionStyle): Refusal | undefined {
  const ss = BigInt(geometry.logicalSectorSize);
  const short = entries
    .map((e) => ({ e, missing: (endLba(e) - 1n - area.lastLba) * ss }))
    .filter((x) => x.missing > 0n)
    .sort((a, b) => (a.missing > b.missing ? -1 : a.missing < b.missing ? 1 : a.e.number - b.e.number));
  const worst = short[0];
  if (worst === undefined) return undefined;
  const usableEnd = area.lastLba < 0n ? 0n : (area.lastLba + 1n) * ss;
  return refuse.targetTooSmall(worst.e, worst.missing, {
    sectorSize: geometry.logicalSectorSize,
    targetBytes: geometry.sizeBytes,
    usableEndBytes: usableEnd,
    gptTailBytes: style === 'gpt' ? area.tailSectors * ss : 0n,
    others: short.slice(1).map((x) => x.e.number).sort((a, b) => a - b),
  });
}
