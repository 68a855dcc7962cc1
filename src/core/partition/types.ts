/**
 * The partition-table domain model shared by the codecs, verify, write plans and the layout
 * planner. Pure data: LBAs are bigint, GUIDs are canonical lower-case strings
 * ("c12a7328-f81f-11d2-ba4b-00a0c93ec93b"), raw bytes are Uint8Array.
 */
import type { SectorSize } from '../units.ts';

export type PartitionStyle = 'mbr' | 'gpt';

/** What the target (or source) disk is, as far as layout planning cares. */
export interface DiskGeometry {
  readonly sizeBytes: bigint;
  readonly logicalSectorSize: SectorSize;
  /** Physical sector size (4096 on 512e drives); only used for alignment advice. */
  readonly physicalSectorSize: number;
}

export function sectorCountOf(geometry: DiskGeometry): bigint {
  return geometry.sizeBytes / BigInt(geometry.logicalSectorSize);
}

// ---------------------------------------------------------------- MBR

/** One 16-byte MBR/EBR entry, kept raw enough to re-encode byte-for-byte. */
export interface MbrEntry {
  /** 1–4 for primary slots; 5, 6, … for logical partitions in EBR-chain order (as Linux numbers them). */
  readonly number: number;
  /** Boot indicator byte (0x80 active, 0x00 inactive; anything else is kept and reported by verify). */
  readonly status: number;
  readonly type: number;
  /** Absolute start LBA on the disk (for logical partitions: already resolved from the EBR-relative value). */
  readonly startLba: bigint;
  readonly sectorCount: bigint;
  /** Raw CHS triplets, kept so an unchanged table re-encodes identically. */
  readonly chsStart: Uint8Array;
  readonly chsEnd: Uint8Array;
}

export interface MbrTable {
  readonly style: 'mbr';
  /** Bytes 0–439, kept byte-for-byte (the boot loader). */
  readonly bootCode: Uint8Array;
  /** u32 at 0x1B8: referenced by BCD and MountedDevices. */
  readonly diskSignature: number;
  /** u16 at 0x1BC (normally 0; 0x5A5A marks copy-protected). */
  readonly reserved: number;
  /** The four primary slots, in slot order; an empty slot has type 0 and is still listed. */
  readonly primary: readonly MbrEntry[];
  /** Logical partitions read from the EBR chain inside the extended partition, in chain order. */
  readonly logical: readonly MbrEntry[];
  /** LBAs of the EBRs read for `logical` (so backup can keep those sectors raw). */
  readonly ebrLbas: readonly bigint[];
  /** True when bytes 510–511 are 0x55 0xAA. */
  readonly bootSignatureValid: boolean;
}

// ---------------------------------------------------------------- GPT

export interface GptHeader {
  /** True when bytes 0–7 are "EFI PART". */
  readonly signatureValid: boolean;
  readonly revision: number;
  readonly headerSize: number;
  /** CRC32 as stored. */
  readonly headerCrc32: number;
  /** True when the stored header CRC matches the bytes. */
  readonly headerCrcValid: boolean;
  readonly myLba: bigint;
  readonly alternateLba: bigint;
  readonly firstUsableLba: bigint;
  readonly lastUsableLba: bigint;
  readonly diskGuid: string;
  readonly partitionEntryLba: bigint;
  readonly numberOfEntries: number;
  readonly sizeOfEntry: number;
  /** CRC32 of the entry array as stored in the header. */
  readonly entryArrayCrc32: number;
  /** True when the entry array read from `partitionEntryLba` matches `entryArrayCrc32`. */
  readonly entryArrayCrcValid: boolean;
}

export interface GptPartition {
  /** 1-based slot number in the entry array (what Linux calls the partition number). */
  readonly number: number;
  readonly typeGuid: string;
  readonly uniqueGuid: string;
  readonly firstLba: bigint;
  /** Inclusive, as on disk. */
  readonly lastLba: bigint;
  readonly attributes: bigint;
  readonly name: string;
}

export interface GptTable {
  readonly style: 'gpt';
  readonly sectorSize: SectorSize;
  readonly diskGuid: string;
  readonly firstUsableLba: bigint;
  readonly lastUsableLba: bigint;
  /** Size of the entry array (Windows and sgdisk: 128 entries of 128 bytes). */
  readonly numberOfEntries: number;
  readonly sizeOfEntry: number;
  /** Used slots only, ordered by number. */
  readonly partitions: readonly GptPartition[];
  /** The protective MBR as read (boot code kept for hybrid/odd disks); encode writes a fresh one when absent. */
  readonly protectiveMbr?: MbrTable;
}

/** A parsed GPT disk: both copies as found plus the table we consider authoritative. */
export interface GptDisk {
  readonly primaryHeader?: GptHeader;
  readonly backupHeader?: GptHeader;
  /** From the primary when it is valid, else from the backup; absent when neither is usable. */
  readonly table?: GptTable;
  /** Which copy `table` came from. */
  readonly source?: 'primary' | 'backup';
}

// ---------------------------------------------------------------- shared

export type PartitionTable = MbrTable | GptTable;

/** A problem found by verify*: every problem is reported, not only the first. */
export interface Problem {
  /** Stable code, e.g. "gpt.header-crc", "overlap", "out-of-bounds". */
  readonly code: string;
  readonly severity: 'error' | 'warning';
  readonly message: string;
  readonly data?: Readonly<Record<string, unknown>>;
}

/** One positional write of whole sectors. Plans are executed in array order. */
export interface WriteOp {
  /** Byte offset on the disk (a multiple of the logical sector size). */
  readonly offset: bigint;
  readonly data: Uint8Array;
  /** Why, for logs and dry runs: "gpt backup entries", "gpt primary header", "mbr". */
  readonly what: string;
}

/** A partition seen independently of the table style: what planners, block maps and the CLI use. */
export interface PartitionSummary {
  readonly number: number;
  readonly startLba: bigint;
  readonly sectorCount: bigint;
  /** "0x07" for MBR; the type GUID for GPT. */
  readonly type: string;
  /** Short human name for the type: "NTFS/exFAT", "EFI System", "Microsoft reserved", … */
  readonly typeName: string;
  readonly name: string;
  readonly bootable: boolean;
  /** GPT partition GUID; for MBR "<signature>-<offset>" as Windows' MountedDevices sees it is not a GUID, so absent. */
  readonly uniqueGuid?: string;
  readonly attributes?: bigint;
  /** True for dynamic-disk (LDM) partitions: MBR 0x42 or GPT LDM metadata/data types. */
  readonly dynamic: boolean;
  readonly logical: boolean;
}
