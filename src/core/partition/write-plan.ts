/**
 * Partition tables as ordered, whole-sector writes. Pure: the caller runs the ops in array order
 * and stops at the first failed write, then reads the table back and verifies it.
 *
 * GPT order (UEFI §5.3.2, quoted in libfdisk gpt_write_disklabel). Each header is written after its
 * own entries, and the backup copy is complete before the primary copy is touched, so an
 * interruption leaves at least one consistent copy:
 *   1) backup entries  2) backup header  3) primary entries  4) primary header  5) protective MBR
 *
 * MBR order: stale GPT headers cleared first (backup, then primary), then the EBR chain from its
 * last EBR to its first (a link is written only after its target), and LBA 0 last, so the new
 * layout appears at once.
 *
 * Plans are refused (RecoveryError "partition.plan-refused", data.problems) when verify finds errors.
 */
import { RecoveryError } from '../errors.ts';
import type { SectorSize } from '../units.ts';
import { encodeGpt, gptLayoutFor } from './gpt.ts';
import { encodeEbrChain, encodeMbr, isEmptyEntry } from './mbr.ts';
import { sectorCountOf } from './types.ts';
import type { DiskGeometry, GptTable, MbrTable, PartitionTable, Problem, WriteOp } from './types.ts';
import { verifyGptTable, verifyMbr } from './verify.ts';

export interface MbrWriteOptions {
  /** Zero GPT headers at LBA 1 and the last LBA (a GPT disk becoming MBR), unless a partition owns that sector. */
  readonly clearGpt?: boolean;
}

function refuseOnErrors(problems: readonly Problem[], style: string): void {
  const errors = problems.filter((p) => p.severity === 'error');
  if (errors.length > 0) {
    throw new RecoveryError('partition.plan-refused', `refusing to write a ${style} table with ${errors.length} error(s): ${errors.map((p) => p.code).join(', ')}`, {
      data: { problems: errors },
    });
  }
}

function op(lba: bigint, data: Uint8Array, sectorSize: SectorSize, what: string): WriteOp {
  return { offset: lba * BigInt(sectorSize), data, what };
}

/** A 512-byte MBR/EBR image widened to one logical sector (zero tail on 4096-byte disks). */
function wholeSector(bytes: Uint8Array, sectorSize: SectorSize): Uint8Array {
  if (bytes.length === sectorSize) return bytes;
  const sector = new Uint8Array(sectorSize);
  sector.set(bytes.subarray(0, sectorSize));
  return sector;
}

/** True when `lba` is LBA 0, an EBR or inside a partition of `table` (not free to clear). */
function isOwned(table: MbrTable, lba: bigint, ebrs: readonly bigint[]): boolean {
  if (lba === 0n || ebrs.includes(lba)) return true;
  return [...table.primary, ...table.logical].some((e) => !isEmptyEntry(e) && lba >= e.startLba && lba < e.startLba + e.sectorCount);
}

export function planMbrWrite(table: MbrTable, geometry: DiskGeometry, options: MbrWriteOptions = {}): WriteOp[] {
  // The encoder always writes 0x55AA, so a missing one in the source is not a reason to refuse.
  refuseOnErrors(verifyMbr({ ...table, bootSignatureValid: true }, geometry), 'MBR');
  const ss = geometry.logicalSectorSize;
  const ebrs = encodeEbrChain(table);
  const ops: WriteOp[] = [];
  if (options.clearGpt === true) {
    const lastLba = sectorCountOf(geometry) - 1n;
    const ebrLbas = ebrs.map((e) => e.lba);
    if (lastLba > 1n && !isOwned(table, lastLba, ebrLbas)) ops.push(op(lastLba, new Uint8Array(ss), ss, 'clear gpt backup header'));
    if (lastLba >= 1n && !isOwned(table, 1n, ebrLbas)) ops.push(op(1n, new Uint8Array(ss), ss, 'clear gpt primary header'));
  }
  for (const ebr of [...ebrs].reverse()) ops.push(op(ebr.lba, wholeSector(ebr.sector, ss), ss, `ebr at lba ${ebr.lba}`));
  ops.push(op(0n, wholeSector(encodeMbr(table), ss), ss, 'mbr'));
  return ops;
}

/** The plan for `table` on `geometry`; the usable range is stretched to the target (see encodeGpt). */
export function planGptWrite(table: GptTable, geometry: DiskGeometry): WriteOp[] {
  const lastUsableLba = gptLayoutFor(geometry, table.numberOfEntries, table.sizeOfEntry).maxLastUsableLba;
  refuseOnErrors(verifyGptTable({ ...table, lastUsableLba }, geometry), 'GPT');
  const ss = geometry.logicalSectorSize;
  const g = encodeGpt(table, geometry);
  return [
    op(g.backupEntriesLba, g.entries.slice(), ss, 'gpt backup entries'),
    op(g.backupHeaderLba, g.backupHeader, ss, 'gpt backup header'),
    op(g.primaryEntriesLba, g.entries, ss, 'gpt primary entries'),
    op(1n, g.primaryHeader, ss, 'gpt primary header'),
    op(0n, g.protectiveMbr, ss, 'protective mbr'),
  ];
}

export function planTableWrite(table: PartitionTable, geometry: DiskGeometry, options: MbrWriteOptions = {}): WriteOp[] {
  return table.style === 'gpt' ? planGptWrite(table, geometry) : planMbrWrite(table, geometry, options);
}
