/** The notes plans carry: facts a technician should see, none of which stops the restore. */
import { isHybridMbr } from '../partition/mbr.ts';
import type { DiskGeometry, MbrTable } from '../partition/types.ts';
import { formatBytes } from '../units.ts';
import type { LayoutNote, RestoredPartition } from './layout-plan.ts';
import type { RebuildMode } from './source-layout.ts';

const MBR_MAX_SECTORS = 0x100000000n;

function list(numbers: readonly number[]): string {
  return numbers.length === 1 ? `partition ${numbers[0]}` : `partitions ${numbers.join(', ')}`;
}

export const note = {
  notIntact: (why: string, mode: RebuildMode): LayoutNote => ({
    code: 'layout.not-intact',
    message: `The target's current layout is not intact (${why}), so ${mode === 'full' ? 'the whole partition table is written from the backup' : 'the selected partitions are laid out again'}.`,
    data: { why },
  }),
  recreatedEmpty: (numbers: readonly number[]): LayoutNote => ({
    code: 'layout.recreated-empty',
    message: `${list(numbers)} ${numbers.length === 1 ? 'is' : 'are'} recreated as in the backup but not selected, so no data is restored into ${numbers.length === 1 ? 'it' : 'them'}.`,
    data: { partitions: [...numbers] },
  }),
  unallocatedTail: (bytes: bigint): LayoutNote => ({
    code: 'layout.unallocated-tail',
    message: `Partition offsets and sizes are kept exactly (BCD and MountedDevices reference them); ${formatBytes(bytes)} at the end of the target stay unallocated.`,
    data: { bytes: String(bytes) },
  }),
  mbrBeyondLimit: (geometry: DiskGeometry): LayoutNote => ({
    code: 'layout.mbr-beyond-limit',
    message:
      `An MBR table addresses ${formatBytes(MBR_MAX_SECTORS * BigInt(geometry.logicalSectorSize))} with ` +
      `${geometry.logicalSectorSize}-byte sectors; the rest of the ${formatBytes(geometry.sizeBytes)} target cannot hold partitions.`,
    data: { targetBytes: String(geometry.sizeBytes) },
  }),
  hybridKept: (): LayoutNote => ({
    code: 'layout.hybrid-mbr',
    message: 'The protective MBR is a hybrid MBR (it also lists partitions); it is written as it is.',
  }),
  unaligned: (restored: readonly RestoredPartition[], physicalSectorSize: number): LayoutNote | undefined => {
    const odd = restored.filter((r) => r.target.offset % BigInt(physicalSectorSize) !== 0n).map((r) => r.targetNumber);
    if (odd.length === 0) return undefined;
    return {
      code: 'layout.unaligned',
      message: `${list(odd)} ${odd.length === 1 ? 'starts' : 'start'} off the target's ${physicalSectorSize}-byte physical sectors; offsets are kept for the disk's identity, at some cost in write speed.`,
      data: { partitions: odd, physicalSectorSize },
    };
  },
  identityDiffers: (what: string): LayoutNote => ({
    code: 'layout.identity-differs',
    message: `${what}; boot configuration (BCD) and MountedDevices entries that name the backup's identity must be repaired after the restore.`,
    data: { what },
  }),
  activeMoved: (from: readonly number[], to: number): LayoutNote => ({
    code: 'layout.active-moved',
    message: `Restored partition ${to} is active as in the backup; the active flag is cleared on ${list(from)} so only one partition is active.`,
    data: { from: [...from], to },
  }),
  activeNotSet: (sourceNumber: number, targetNumber: number): LayoutNote => ({
    code: 'layout.active-not-set',
    message: `Partition ${sourceNumber} was active in the backup but target partition ${targetNumber} is not; boot repair sets the active flag.`,
    data: { sourceNumber, targetNumber },
  }),
  typeDiffers: (sourceNumber: number, targetNumber: number, sourceType: string, targetType: string): LayoutNote => ({
    code: 'layout.type-differs',
    message: `Target partition ${targetNumber} has type ${targetType}, partition ${sourceNumber} had ${sourceType} in the backup; the intact layout is left as it is.`,
    data: { sourceNumber, targetNumber, sourceType, targetType },
  }),
  grown: (numbers: readonly number[]): LayoutNote => ({
    code: 'layout.target-partition-larger',
    message: `On the target, ${list(numbers)} ${numbers.length === 1 ? 'is' : 'are'} larger than in the backup; restored file systems keep their backup size until extended.`,
    data: { partitions: [...numbers] },
  }),
};

/** Hybrid MBRs are kept as they are (the codec resizes only a pure protective entry); say so. */
export function hybridNote(protectiveMbr: MbrTable | undefined): LayoutNote[] {
  return protectiveMbr !== undefined && isHybridMbr(protectiveMbr) ? [note.hybridKept()] : [];
}

/** The alignment note for `restored` when the target's physical sectors are larger than its logical ones. */
export function alignmentNotes(restored: readonly RestoredPartition[], geometry: DiskGeometry): LayoutNote[] {
  if (!(geometry.physicalSectorSize > geometry.logicalSectorSize)) return [];
  const n = note.unaligned(restored, geometry.physicalSectorSize);
  return n === undefined ? [] : [n];
}
