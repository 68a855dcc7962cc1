/** A style-independent view of a partition table for planners, block maps and the CLI. */
import { GPT_TYPE } from './guid.ts';
import { isEmptyEntry, isExtendedType } from './mbr.ts';
import type { GptPartition, MbrEntry, PartitionSummary, PartitionTable } from './types.ts';

const MBR_NAMES: Readonly<Record<number, string>> = {
  0x01: 'FAT12',
  0x04: 'FAT16 <32M',
  0x05: 'Extended',
  0x06: 'FAT16',
  0x07: 'NTFS/exFAT',
  0x0b: 'FAT32',
  0x0c: 'FAT32 (LBA)',
  0x0e: 'FAT16 (LBA)',
  0x0f: 'Extended (LBA)',
  0x11: 'Hidden FAT12',
  0x12: 'OEM (Compaq diagnostics)',
  0x14: 'Hidden FAT16 <32M',
  0x16: 'Hidden FAT16',
  0x17: 'Hidden NTFS/exFAT',
  0x1b: 'Hidden FAT32',
  0x1c: 'Hidden FAT32 (LBA)',
  0x1e: 'Hidden FAT16 (LBA)',
  0x27: 'Windows RE (hidden)',
  0x42: 'Windows LDM (dynamic)',
  0x82: 'Linux swap',
  0x83: 'Linux',
  0x84: 'OEM (hibernation)',
  0x85: 'Linux extended',
  0x8e: 'Linux LVM',
  0xa0: 'OEM (hibernation)',
  0xde: 'OEM (Dell utility)',
  0xee: 'GPT protective',
  0xef: 'EFI System',
  0xfd: 'Linux RAID',
  0xfe: 'OEM (LANstep)',
};

const GPT_NAMES: Readonly<Record<string, string>> = {
  [GPT_TYPE.efiSystem]: 'EFI System',
  [GPT_TYPE.microsoftReserved]: 'Microsoft reserved',
  [GPT_TYPE.basicData]: 'Basic data',
  [GPT_TYPE.windowsRecovery]: 'Windows recovery',
  [GPT_TYPE.ldmMetadata]: 'LDM metadata (dynamic)',
  [GPT_TYPE.ldmData]: 'LDM data (dynamic)',
  [GPT_TYPE.storageSpaces]: 'Storage Spaces',
  [GPT_TYPE.clusterMetadata]: 'Cluster metadata',
  [GPT_TYPE.biosBoot]: 'BIOS boot',
  [GPT_TYPE.linuxFilesystem]: 'Linux filesystem',
  [GPT_TYPE.linuxSwap]: 'Linux swap',
  [GPT_TYPE.linuxLvm]: 'Linux LVM',
  [GPT_TYPE.linuxRaid]: 'Linux RAID',
  [GPT_TYPE.linuxHome]: 'Linux home',
};

/** "0x07" style, as PartitionSummary.type carries MBR types. */
export function mbrTypeHex(type: number): string {
  return `0x${type.toString(16).padStart(2, '0')}`;
}

export function mbrTypeName(type: number): string {
  return MBR_NAMES[type] ?? `Unknown (${mbrTypeHex(type)})`;
}

export function gptTypeName(typeGuid: string): string {
  return GPT_NAMES[typeGuid.toLowerCase()] ?? 'Unknown';
}

/** GPT attribute bit 2 (UEFI "legacy BIOS bootable"). */
export const GPT_ATTR_LEGACY_BIOS_BOOTABLE = 1n << 2n;

function fromMbr(e: MbrEntry, logical: boolean): PartitionSummary {
  return {
    number: e.number,
    startLba: e.startLba,
    sectorCount: e.sectorCount,
    type: mbrTypeHex(e.type),
    typeName: mbrTypeName(e.type),
    name: '',
    bootable: e.status === 0x80,
    dynamic: e.type === 0x42,
    logical,
  };
}

function fromGpt(p: GptPartition): PartitionSummary {
  return {
    number: p.number,
    startLba: p.firstLba,
    sectorCount: p.lastLba >= p.firstLba ? p.lastLba - p.firstLba + 1n : 0n,
    type: p.typeGuid,
    typeName: gptTypeName(p.typeGuid),
    name: p.name,
    // What firmware boots from: the ESP under UEFI, the legacy-bootable attribute under BIOS.
    bootable: p.typeGuid === GPT_TYPE.efiSystem || (p.attributes & GPT_ATTR_LEGACY_BIOS_BOOTABLE) !== 0n,
    uniqueGuid: p.uniqueGuid,
    attributes: p.attributes,
    dynamic: p.typeGuid === GPT_TYPE.ldmMetadata || p.typeGuid === GPT_TYPE.ldmData,
    logical: false,
  };
}

/**
 * Partitions holding data, ordered by number: used MBR slots and logical partitions, or GPT
 * entries. The MBR extended container is left out unless `includeExtended` (it holds no volume).
 */
export function summarizePartitions(table: PartitionTable, options: { includeExtended?: boolean } = {}): PartitionSummary[] {
  if (table.style === 'gpt') return [...table.partitions].sort((a, b) => a.number - b.number).map(fromGpt);
  const primaries = table.primary.filter((e) => !isEmptyEntry(e) && (options.includeExtended === true || !isExtendedType(e.type)));
  return [...primaries.map((e) => fromMbr(e, false)), ...table.logical.map((e) => fromMbr(e, true))];
}
