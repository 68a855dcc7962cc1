/**
 * What the layout planner is asked: the source disk as a backup recorded it, the target disk as
 * the appliance found it, which partitions to restore and how. Pure data.
 */
import type { DiskGeometry, PartitionTable } from '../partition/types.ts';

/** Full: write the source's whole table. Partial: (re)create only the selected partitions. */
export type RebuildMode = 'full' | 'partial';

/** LDM volume layouts as Windows reports them. Only a simple volume maps onto one basic partition. */
export type DynamicVolumeLayout = 'simple' | 'spanned' | 'striped' | 'mirrored' | 'raid5';

/** What the backup learnt about the dynamic volume behind one dynamic partition entry. */
export interface DynamicVolumeRecord {
  /** The partition entry (MBR 0x42 or GPT LDM data) that hosts the volume. */
  readonly partitionNumber: number;
  readonly layout: DynamicVolumeLayout;
}

/** The source disk's layout as recorded in a backup. */
export interface SourceDiskLayout {
  readonly geometry: DiskGeometry;
  /** Absent for a disk without a partition table (nothing the planner can rebuild). */
  readonly table?: PartitionTable;
  /**
   * Dynamic disks only: the volume layout behind each dynamic entry. An entry without a record is
   * taken as a simple volume, the only kind the backup accepts for system-state volumes.
   */
  readonly dynamicVolumes?: readonly DynamicVolumeRecord[];
}

/** The target disk as found at restore time. */
export interface TargetDisk {
  readonly geometry: DiskGeometry;
  /** The table currently on the target; absent for a blank disk. */
  readonly table?: PartitionTable;
}

export interface LayoutRequest {
  readonly source: SourceDiskLayout;
  /** Source partition numbers whose contents will be restored. */
  readonly selected: readonly number[];
  readonly target: TargetDisk;
  readonly mode: RebuildMode;
}
