/**
 * ASR's "layout intact" rule (VSS Automated System Recovery for disaster recovery, restore phase):
 * a basic disk is not re-created when its layout is intact or only additive changes were made.
 * Intact means
 *   1. the disk signature, the disk style (GPT or MBR), the logical sector size and the volume
 *      start offsets are unchanged;
 *   2. no volume size is reduced;
 *   3. on GPT disks, the partition identifier is unchanged.
 * "Disk signature" is the MBR signature, or the disk GUID on GPT. Additive changes (more
 * partitions, grown partitions) keep a layout intact. A dynamic target is never judged intact: the
 * pack conditions ASR adds for dynamic disks need the LDM database, which a table does not show.
 */
import type { PartitionTable } from '../partition/types.ts';
import { volumesOf } from './entries.ts';
import type { LayoutEntry } from './entries.ts';
import { targetTableProblem } from './table-checks.ts';
import type { TargetDisk } from './source-layout.ts';

export interface IntactMatch {
  readonly source: LayoutEntry;
  readonly target: LayoutEntry;
}

export type IntactVerdict = { readonly intact: true; readonly matches: readonly IntactMatch[] } | { readonly intact: false; readonly why: string };

function no(why: string): IntactVerdict {
  return { intact: false, why };
}

function sameIdentity(a: PartitionTable, b: PartitionTable): boolean {
  if (a.style === 'mbr' && b.style === 'mbr') return a.diskSignature >>> 0 === b.diskSignature >>> 0;
  if (a.style === 'gpt' && b.style === 'gpt') return a.diskGuid.toLowerCase() === b.diskGuid.toLowerCase();
  return false;
}

function identityText(t: PartitionTable): string {
  return t.style === 'mbr' ? `signature ${(t.diskSignature >>> 0).toString(16).padStart(8, '0')}` : `disk GUID ${t.diskGuid.toLowerCase()}`;
}

function findCounterpart(source: LayoutEntry, targets: readonly LayoutEntry[]): LayoutEntry | undefined {
  return source.uniqueGuid === undefined
    ? targets.find((t) => t.startLba === source.startLba)
    : targets.find((t) => t.uniqueGuid === source.uniqueGuid);
}

/**
 * Judges the target against the source volumes in `considered` (all source volumes for a full
 * rebuild, the selected ones for a partial rebuild). Sector sizes are compared by the caller.
 */
export function judgeIntact(source: PartitionTable, considered: readonly LayoutEntry[], target: TargetDisk): IntactVerdict {
  const table = target.table;
  if (table === undefined) return no('the target has no partition table');
  if (table.style !== source.style) return no(`the target is ${table.style.toUpperCase()}, the backup ${source.style.toUpperCase()}`);
  if (!sameIdentity(source, table)) return no(`the target's ${identityText(table)} differs from the backup's ${identityText(source)}`);
  const targets = volumesOf(table);
  const dynamic = targets.find((e) => e.dynamic);
  if (dynamic !== undefined) return no(`the target is a dynamic disk (partition ${dynamic.number})`);
  const problem = targetTableProblem(table, target);
  if (problem !== undefined) return no(`the target's table is damaged: ${problem}`);
  const matches: IntactMatch[] = [];
  for (const s of considered) {
    const t = findCounterpart(s, targets);
    if (t === undefined) return no(`partition ${s.number} is missing on the target`);
    if (t.startLba !== s.startLba) return no(`partition ${s.number} starts at LBA ${t.startLba} on the target, ${s.startLba} in the backup`);
    if (t.sectorCount < s.sectorCount) return no(`partition ${s.number} is smaller on the target (${t.sectorCount} sectors, ${s.sectorCount} in the backup)`);
    matches.push({ source: s, target: t });
  }
  return { intact: true, matches };
}
