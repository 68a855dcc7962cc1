/**
 * Makes a restored Windows bootable on the machine it now lives on (DESIGN flow 3):
 * UEFI: the EFI system partition gets the boot files (bcdboot /f UEFI); BIOS: the system partition
 * is marked active and gets the boot files (bcdboot /f BIOS); either way BCD's device and osdevice
 * then point at the restored partitions.
 *
 * Also home of `RestoredSystem`, the description of what a restore put on the disks, shared by the
 * ports that finish a restore (boot-tool, driver-tool, asr-session).
 *
 * Implementations:
 * - MUST answer with the step's real outcome: `done` only when the tools ran and succeeded,
 *   `skipped` with the reason when they cannot run here (another platform, no Windows volume found),
 *   `failed` with a stable code and the tool's own words otherwise; they MUST NOT throw for a tool
 *   that ran and failed (throwing is for broken invariants only);
 * - MUST NOT change any partition other than those listed in `system.volumes`;
 * - MUST NOT be called before every volume was restored and verified (the caller guarantees it): the
 *   boot configuration is written last, so an interrupted restore never looks bootable.
 */
import type { Firmware } from '../core/backup/manifest.ts';
import type { StepOutcome } from '../core/protocol/jobs.ts';
import type { AbortSignalLike } from '../core/units.ts';

/** One partition a restore wrote, on the target disk. */
export interface RestoredVolume {
  /** The target disk as the inventory names it. */
  readonly disk: string;
  readonly partitionNumber: number;
  readonly offset: bigint;
  readonly length: bigint;
  /** "0x07" (MBR) or the GPT type GUID. */
  readonly type: string;
  /** GPT partition GUID (what Windows' volume GUID paths and BCD refer to on GPT disks). */
  readonly uniqueGuid?: string;
  /** From the backup: "ntfs", "fat32", "unknown", … */
  readonly filesystem: string;
  readonly name: string;
  /** MBR active flag. */
  readonly bootable: boolean;
}

/** What a restore put on the machine's disks. */
export interface RestoredSystem {
  /** The firmware the backup was taken under (the pre-checks made sure the machine has the same). */
  readonly firmware: Firmware;
  readonly disks: readonly {
    readonly path: string;
    readonly style: 'mbr' | 'gpt' | 'raw';
    /** MBR disk signature (8 hex digits) or GPT disk GUID as the target now carries it. */
    readonly identity?: string;
  }[];
  readonly volumes: readonly RestoredVolume[];
}

export interface BootTool {
  /** Finds the Windows volume and the system partition among `system.volumes` and makes them boot. */
  makeBootable(system: RestoredSystem, signal?: AbortSignalLike): Promise<StepOutcome>;
}
