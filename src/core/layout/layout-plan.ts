/** What the layout planner answers: a table to write, an intact layout, or a refusal. */
import type { PartitionTable, WriteOp } from '../partition/types.ts';
import type { RebuildMode } from './source-layout.ts';
import type { Refusal } from './refusal.ts';

/** A run of bytes on a disk. */
export interface ByteRange {
  readonly offset: bigint;
  readonly length: bigint;
}

/**
 * How one selected partition's entry came to be on the target:
 * - created: a new entry (every entry of a full rebuild; a partial rebuild's new ones);
 * - replaced: a partial rebuild rewrote the target's entry for this partition (moved, resized, retyped);
 * - kept: the target's entry already fits (identical, or intact by the ASR rule) and is not touched.
 */
export type EntryAction = 'created' | 'replaced' | 'kept';

/** Where one selected source partition's bytes go. */
export interface RestoredPartition {
  readonly sourceNumber: number;
  readonly targetNumber: number;
  /** The partition on the source disk: the bytes the backup holds. */
  readonly source: ByteRange;
  /** The partition on the target; never shorter than `source` (longer when a kept target partition grew). */
  readonly target: ByteRange;
  readonly entry: EntryAction;
}

/** Something the technician should know about a plan; `code` is stable, `message` is for people. */
export interface LayoutNote {
  readonly code: string;
  readonly message: string;
  readonly data?: Readonly<Record<string, unknown>>;
}

export interface TableWritePlan {
  readonly kind: 'write';
  readonly mode: RebuildMode;
  /** The complete table the target will carry. */
  readonly targetTable: PartitionTable;
  /** Ordered sector writes that put `targetTable` on the target (from planTableWrite). */
  readonly writes: readonly WriteOp[];
  readonly restoredPartitions: readonly RestoredPartition[];
  readonly notes: readonly LayoutNote[];
}

/** The target's layout is intact (ASR's rule): no table write, contents are restored in place. */
export interface IntactLayoutPlan {
  readonly kind: 'intact';
  readonly mode: RebuildMode;
  /** The target's current table, unchanged. */
  readonly targetTable: PartitionTable;
  readonly restoredPartitions: readonly RestoredPartition[];
  readonly notes: readonly LayoutNote[];
}

/** Nothing may be written: no `writes`, by construction. */
export interface RefusedPlan {
  readonly kind: 'refused';
  readonly reason: Refusal;
}

export type LayoutPlan = TableWritePlan | IntactLayoutPlan | RefusedPlan;

/** Shown to technicians for an intact plan. */
export const LAYOUT_INTACT_MESSAGE = 'layout intact';

export function refused(reason: Refusal): RefusedPlan {
  return { kind: 'refused', reason };
}
