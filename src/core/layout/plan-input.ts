/** What the full and partial planners receive once the request passed its checks. */
import type { PartitionTable } from '../partition/types.ts';
import type { SectorSize } from '../units.ts';
import type { LayoutNote } from './layout-plan.ts';
import type { TargetDisk } from './source-layout.ts';

export interface PlanInput {
  /** The source table as the target should carry it (a dynamic source already turned basic). */
  readonly source: PartitionTable;
  readonly sectorSize: SectorSize;
  /** Selected source partition numbers, unique and ascending. */
  readonly selected: readonly number[];
  readonly target: TargetDisk;
  /** Notes from earlier steps, carried into the plan. */
  readonly notes: readonly LayoutNote[];
}
