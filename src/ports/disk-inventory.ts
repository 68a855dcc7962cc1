/**
 * What disks the machine has, as pure data: the restore checks choose targets from it and the
 * server shows it as the machine's hardware. Implementations:
 * - MUST list every whole disk the OS exposes that answers a geometry query, ordered by `number`;
 *   a disk that cannot be queried is left out (it cannot be a restore target either);
 * - MUST set `holdsBootMedia` on every disk holding the medium the appliance booted or runs from
 *   (the WinPE stick or ISO disk), with the evidence in `bootMediaReason`; such a disk is never a target;
 * - MUST report `readOnly` (write-protected or read-only attribute) and `offline` as the OS sees them;
 * - MUST give partitions as the OS currently understands the table (not a cached view), with
 *   offsets in logical sectors of `geometry`.
 */
import type { DiskGeometry, PartitionSummary } from '../core/partition/types.ts';

export type DiskStyle = 'mbr' | 'gpt' | 'raw';

/** A partition plus what the OS mounted from it. */
export interface DiskPartitionInfo extends PartitionSummary {
  /** Volume GUID path (`\\?\Volume{…}\`) when a volume sits on this partition. */
  readonly volume?: string;
  /** Drive letters and folder mount points (`C:\`, `D:\mnt\data\`), possibly none. */
  readonly mountPoints: readonly string[];
}

export interface DiskInfo {
  /** N of \\.\PhysicalDriveN (the OS's disk number). */
  readonly number: number;
  /** What BlockDeviceOpener.open takes for this disk. */
  readonly path: string;
  readonly geometry: DiskGeometry;
  /** Bus as the storage stack reports it ("SATA", "NVMe", "SAS", "SCSI", "USB", …; "Unknown"). */
  readonly busType: string;
  /** Vendor and product id as reported, trimmed and joined by a space; "" when absent. */
  readonly model: string;
  readonly serial: string;
  readonly removable: boolean;
  readonly style: DiskStyle;
  /** GPT disk GUID, or the MBR signature as 8 lower-case hex digits; absent on raw disks. */
  readonly diskId?: string;
  readonly partitions: readonly DiskPartitionInfo[];
  readonly holdsBootMedia: boolean;
  /** Why the disk counts as boot media, for the operator ("E:\sources\boot.wim", …). */
  readonly bootMediaReason?: string;
  readonly readOnly: boolean;
  readonly offline: boolean;
}

export interface DiskInventory {
  listDisks(): Promise<readonly DiskInfo[]>;
}
