/**
 * Why the planner will not lay out the target. Codes are stable (shown to technicians, matched by
 * the app); messages name the partitions and numbers involved; data holds the same facts, with
 * byte counts and LBAs as decimal strings so they survive JSON.
 */
import { RecoveryError } from '../errors.ts';
import { formatBytes } from '../units.ts';
import type { PartitionStyle, Problem } from '../partition/types.ts';
import type { DynamicVolumeLayout } from './source-layout.ts';
import { describeEntry } from './entries.ts';
import type { LayoutEntry } from './entries.ts';

export type RefusalCode =
  | 'layout.source-unpartitioned'
  | 'layout.source-invalid'
  | 'layout.source-overlap'
  | 'layout.nothing-selected'
  | 'layout.unknown-partition'
  | 'layout.not-a-volume'
  | 'layout.sector-size-mismatch'
  | 'layout.target-too-small'
  | 'layout.mbr-limit'
  | 'layout.dynamic-volume-unsupported'
  | 'layout.partial-needs-table'
  | 'layout.partial-style-mismatch'
  | 'layout.partial-target-dynamic'
  | 'layout.partial-target-invalid'
  | 'layout.partial-overlap'
  | 'layout.partial-logical'
  | 'layout.partial-no-free-slot'
  | 'layout.unwritable';

export interface Refusal {
  readonly code: RefusalCode;
  readonly message: string;
  readonly data: Readonly<Record<string, unknown>>;
}

/** For callers that report through exceptions. */
export function refusalToError(refusal: Refusal): RecoveryError {
  return new RecoveryError(refusal.code, refusal.message, { data: { ...refusal.data } });
}

function bytes(n: bigint): string {
  return `${formatBytes(n)} (${n} bytes)`;
}

const USE_FULL = 'Use full rebuild to lay out the whole disk from the backup instead.';

export const refuse = {
  sourceUnpartitioned: (): Refusal => ({
    code: 'layout.source-unpartitioned',
    message: 'The backup recorded no partition table for the source disk, so there are no partitions to rebuild.',
    data: {},
  }),
  sourceInvalid: (detail: string, data: Record<string, unknown>): Refusal => ({
    code: 'layout.source-invalid',
    message: `The source layout recorded in the backup is not valid: ${detail}.`,
    data,
  }),
  sourceOverlap: (a: LayoutEntry, b: LayoutEntry): Refusal => ({
    code: 'layout.source-overlap',
    message: `The source layout recorded in the backup is not valid: ${describeEntry(a)} overlaps ${describeEntry(b)}.`,
    data: { partition: a.number, other: b.number },
  }),
  nothingSelected: (): Refusal => ({
    code: 'layout.nothing-selected',
    message: 'No partition was selected for restore.',
    data: {},
  }),
  unknownPartition: (numbers: readonly number[], available: readonly number[]): Refusal => ({
    code: 'layout.unknown-partition',
    message:
      `${numbers.length === 1 ? 'Selected partition' : 'Selected partitions'} ${numbers.join(', ')} ${numbers.length === 1 ? 'does' : 'do'} not ` +
      `exist in the backup's source layout (it has ${available.join(', ') || 'none'}).`,
    data: { partitions: [...numbers], available: [...available] },
  }),
  notAVolume: (e: LayoutEntry, kind: 'extended' | 'ldm-metadata' | 'ldm-container'): Refusal => {
    const why = {
      extended: 'is an extended partition: a container for logical partitions, with no volume of its own. Select the logical partitions inside it',
      'ldm-metadata': 'is the LDM metadata partition of a dynamic disk: it holds the dynamic-disk database, not a volume, and is dropped when the disk is restored as a basic disk',
      'ldm-container': 'is the dynamic disk\'s whole-disk LDM container, not one volume. Select the partition entries of the volumes it hosts',
    }[kind];
    return { code: 'layout.not-a-volume', message: `Selected ${describeEntry(e)} ${why}.`, data: { partition: e.number, kind } };
  },
  sectorSizeMismatch: (source: number, target: number): Refusal => ({
    code: 'layout.sector-size-mismatch',
    message:
      `The source disk used ${source}-byte logical sectors and the target disk uses ${target}-byte sectors. ` +
      'Partition offsets and file systems depend on the sector size, so the layout is not converted: choose a target disk with ' +
      `${source}-byte logical sectors.`,
    data: { sourceSectorSize: source, targetSectorSize: target },
  }),
  targetTooSmall: (
    e: LayoutEntry,
    missing: bigint,
    detail: { sectorSize: number; targetBytes: bigint; usableEndBytes: bigint; gptTailBytes: bigint; others: readonly number[] },
  ): Refusal => {
    const tail = detail.gptTailBytes > 0n ? `, of which the GPT backup entries and header take the last ${bytes(detail.gptTailBytes)}` : '';
    const others = detail.others.length > 0 ? ` Partition ${detail.others.join(', ')} does not fit either.` : '';
    const end = (e.startLba + e.sectorCount) * BigInt(detail.sectorSize);
    return {
      code: 'layout.target-too-small',
      message:
        `The target disk is too small: ${describeEntry(e)} ends at byte ${end} but only ${bytes(detail.usableEndBytes)} ` +
        `of the ${bytes(detail.targetBytes)} target can hold partitions${tail}; ${bytes(missing)} missing.${others}`,
      data: {
        partition: e.number,
        missingBytes: String(missing),
        partitionEndBytes: String(end),
        usableEndBytes: String(detail.usableEndBytes),
        targetBytes: String(detail.targetBytes),
        otherPartitions: [...detail.others],
      },
    };
  },
  mbrLimit: (e: LayoutEntry, sectorSize: number): Refusal => ({
    code: 'layout.mbr-limit',
    message:
      `${describeEntry(e)} starts at LBA ${e.startLba} with ${e.sectorCount} sectors; an MBR entry holds 32-bit values ` +
      `(at most ${bytes(0xffffffffn * BigInt(sectorSize))} with ${sectorSize}-byte sectors), so an MBR table cannot express it.`,
    data: { partition: e.number, startLba: String(e.startLba), sectorCount: String(e.sectorCount), sectorSize },
  }),
  dynamicVolumeUnsupported: (e: LayoutEntry, layout: DynamicVolumeLayout): Refusal => ({
    code: 'layout.dynamic-volume-unsupported',
    message:
      `Selected ${describeEntry(e)} hosts a ${layout} dynamic volume. Dynamic disks are restored as basic disks, where a ` +
      'volume is one partition; only simple dynamic volumes can be expressed that way.',
    data: { partition: e.number, layout },
  }),
  partialNeedsTable: (): Refusal => ({
    code: 'layout.partial-needs-table',
    message: `Partial rebuild keeps the target's other partitions, but the target disk has no partition table. ${USE_FULL}`,
    data: {},
  }),
  partialStyleMismatch: (source: PartitionStyle, target: PartitionStyle): Refusal => ({
    code: 'layout.partial-style-mismatch',
    message:
      `Partial rebuild adds partitions to the target's own table, but the backup's disk is ${source.toUpperCase()} and the ` +
      `target disk is ${target.toUpperCase()}. ${USE_FULL}`,
    data: { sourceStyle: source, targetStyle: target },
  }),
  partialTargetDynamic: (e: LayoutEntry): Refusal => ({
    code: 'layout.partial-target-dynamic',
    message:
      `The target disk is a dynamic disk (${describeEntry(e)}); changing its partition table would leave the dynamic-disk ` +
      `database stale. ${USE_FULL}`,
    data: { partition: e.number },
  }),
  partialTargetInvalid: (detail: string, data: Record<string, unknown>): Refusal => ({
    code: 'layout.partial-target-invalid',
    message: `The target's current partition table cannot be kept: ${detail}. ${USE_FULL}`,
    data,
  }),
  partialOverlap: (selected: LayoutEntry, kept: LayoutEntry): Refusal => ({
    code: 'layout.partial-overlap',
    message:
      `Selected source ${describeEntry(selected)} would overlap target ${describeEntry(kept)}, which partial rebuild keeps. ` +
      `Delete that partition first or ${USE_FULL.charAt(0).toLowerCase()}${USE_FULL.slice(1)}`,
    data: { partition: selected.number, keptPartition: kept.number },
  }),
  partialLogical: (e: LayoutEntry): Refusal => ({
    code: 'layout.partial-logical',
    message: `Selected ${describeEntry(e)} is a logical partition that is not on the target as it was; partial rebuild does not change the target's extended-partition chain. ${USE_FULL}`,
    data: { partition: e.number },
  }),
  partialNoFreeSlot: (e: LayoutEntry, style: PartitionStyle, slots: number): Refusal => ({
    code: 'layout.partial-no-free-slot',
    message: `The target's ${style.toUpperCase()} table has no free entry for ${describeEntry(e)} (all ${slots} slots are used by partitions partial rebuild keeps). ${USE_FULL}`,
    data: { partition: e.number, slots },
  }),
  unwritable: (problems: readonly Problem[]): Refusal => ({
    code: 'layout.unwritable',
    message: `The planned partition table does not pass verification, so it is not written: ${problems.map((p) => p.message).join('; ')}.`,
    data: { problems: problems.map((p) => ({ code: p.code, message: p.message })) },
  }),
};
