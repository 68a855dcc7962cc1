/**
 * Whole-table checks shared by the planners: the codec's own verification (what planTableWrite
 * would refuse), and whether the table found on the target can be trusted as it is.
 */
import { verifyGptTable, verifyMbr } from '../partition/verify.ts';
import type { DiskGeometry, PartitionTable, Problem } from '../partition/types.ts';
import { endLba, volumesOf } from './entries.ts';
import { gptUsableArea, mbrUsableArea } from './fit.ts';
import { findInvalidOverlap } from './source-checks.ts';
import type { TargetDisk } from './source-layout.ts';

/** Error-severity problems verify finds in `table` on `geometry` (warnings do not stop a write). */
export function tableErrors(table: PartitionTable, geometry: DiskGeometry): Problem[] {
  const problems = table.style === 'gpt' ? verifyGptTable(table, geometry) : verifyMbr({ ...table, bootSignatureValid: true }, geometry);
  return problems.filter((p) => p.severity === 'error');
}

function duplicateGuid(table: PartitionTable): string | undefined {
  if (table.style !== 'gpt') return undefined;
  const seen = new Set<string>();
  for (const p of table.partitions) {
    const guid = p.uniqueGuid.toLowerCase();
    if (seen.has(guid)) return `its partition ${p.number} repeats partition GUID ${guid}`;
    seen.add(guid);
  }
  return undefined;
}

/** Why the target's own table is damaged or does not match its disk, if it is or does not. */
export function targetTableProblem(table: PartitionTable, target: TargetDisk): string | undefined {
  if (table.style === 'gpt' && table.sectorSize !== target.geometry.logicalSectorSize) {
    return `its GPT counts ${table.sectorSize}-byte sectors on a disk with ${target.geometry.logicalSectorSize}-byte sectors`;
  }
  const duplicate = duplicateGuid(table);
  if (duplicate !== undefined) return duplicate;
  const overlap = findInvalidOverlap(table);
  if (overlap !== undefined) return `its partitions ${overlap[0].number} and ${overlap[1].number} overlap`;
  const area =
    table.style === 'gpt'
      ? gptUsableArea(table.firstUsableLba, table.numberOfEntries, table.sizeOfEntry, target.geometry)
      : mbrUsableArea(target.geometry);
  const outside = volumesOf(table).find((e) => e.startLba < area.firstLba || endLba(e) - 1n > area.lastLba);
  if (outside !== undefined) return `its partition ${outside.number} lies outside the disk's usable sectors ${area.firstLba}–${area.lastLba}`;
  return tableErrors(table, target.geometry)[0]?.message;
}
