/**
 * FAT12/16/32 BIOS parameter block (Microsoft "FAT: General Overview of On-Disk Format" 1.03).
 *
 *   off  size  field                       off  size  field (FAT32 only)
 *   0x00  3    jump (EB xx 90 or E9 xx xx)  0x24  4    sectors per FAT (32-bit)
 *   0x0B  2    bytes per sector             0x28  2    ext flags: bit 7 = mirroring off,
 *   0x0D  1    sectors per cluster                     bits 0–3 = the one active FAT
 *   0x0E  2    reserved sectors             0x2C  4    root directory cluster
 *   0x10  1    number of FATs               0x43  4    volume id    0x47 11  label
 *   0x11  2    root directory entries       (FAT12/16: volume id at 0x27, label at 0x2B,
 *   0x13  2    total sectors (16-bit)        both valid when the byte at 0x26 / 0x42 is 0x29)
 *   0x16  2    sectors per FAT (16-bit)
 *   0x20  4    total sectors (32-bit)
 *
 * The FAT type follows from the cluster count alone (< 4085 → FAT12, < 65525 → FAT16, else FAT32),
 * as the specification demands; a BPB whose layout contradicts its count is rejected.
 */
import { RecoveryError } from '../errors.ts';

export type FatKind = 'fat12' | 'fat16' | 'fat32';

export interface FatBootSector {
  readonly kind: FatKind;
  readonly bytesPerSector: number;
  readonly clusterSize: number;
  readonly reservedSectors: number;
  readonly fatCount: number;
  readonly sectorsPerFat: number;
  readonly rootDirSectors: number;
  readonly totalSectors: number;
  /** First sector of cluster 2: everything before it (reserved area, FATs, FAT12/16 root) is metadata. */
  readonly firstDataSector: number;
  /** Data clusters, numbered 2 … clusterCount + 1. */
  readonly clusterCount: number;
  /** Index of the FAT to read: 0 unless FAT32 mirroring is off. */
  readonly activeFat: number;
  /** FAT32 root directory cluster; 0 on FAT12/16. */
  readonly rootCluster: number;
  readonly serial?: string;
  readonly bpbLabel?: string;
}

function invalid(message: string, data: Record<string, unknown> = {}): RecoveryError {
  return new RecoveryError('blockmap.fat-boot-sector', `Invalid FAT boot sector: ${message}`, { data });
}

function isPowerOfTwo(n: number): boolean {
  return n > 0 && (n & (n - 1)) === 0;
}

function hex4(n: number): string {
  return n.toString(16).toUpperCase().padStart(4, '0');
}

/** Serial and BPB label, present when the extended boot signature 0x29 says so. */
function extendedBpb(sector: Uint8Array, view: DataView, at: number): { serial?: string; bpbLabel?: string } {
  if (view.getUint8(at) !== 0x29) return {};
  const id = view.getUint32(at + 1, true);
  const label = String.fromCharCode(...sector.subarray(at + 5, at + 16)).replace(/[ \0]+$/, '');
  return { serial: `${hex4(id >>> 16)}-${hex4(id & 0xffff)}`, ...(label === '' || label === 'NO NAME' ? {} : { bpbLabel: label }) };
}

/** Parses and validates a FAT boot sector; throws RecoveryError('blockmap.fat-boot-sector'). */
export function parseFatBootSector(sector: Uint8Array): FatBootSector {
  if (sector.length < 512) throw invalid(`only ${sector.length} bytes`);
  const view = new DataView(sector.buffer, sector.byteOffset, sector.byteLength);
  const jump = view.getUint8(0);
  if (!(jump === 0xe9 || (jump === 0xeb && view.getUint8(2) === 0x90))) throw invalid('no x86 jump at byte 0');
  const bytesPerSector = view.getUint16(0x0b, true);
  const sectorsPerCluster = view.getUint8(0x0d);
  const reservedSectors = view.getUint16(0x0e, true);
  const fatCount = view.getUint8(0x10);
  const rootEntries = view.getUint16(0x11, true);
  const totalSectors = view.getUint16(0x13, true) || view.getUint32(0x20, true);
  const fat16Size = view.getUint16(0x16, true);
  const sectorsPerFat = fat16Size || view.getUint32(0x24, true);
  if (!isPowerOfTwo(bytesPerSector) || bytesPerSector < 512 || bytesPerSector > 4096) throw invalid(`bytes per sector ${bytesPerSector}`, { bytesPerSector });
  if (!isPowerOfTwo(sectorsPerCluster)) throw invalid(`sectors per cluster ${sectorsPerCluster}`, { sectorsPerCluster });
  if (reservedSectors === 0 || fatCount === 0 || fatCount > 4 || totalSectors === 0 || sectorsPerFat === 0) {
    throw invalid('reserved sectors, FAT count, total sectors or FAT size out of range', { reservedSectors, fatCount, totalSectors, sectorsPerFat });
  }
  const rootDirSectors = Math.ceil((rootEntries * 32) / bytesPerSector);
  const firstDataSector = reservedSectors + fatCount * sectorsPerFat + rootDirSectors;
  if (firstDataSector >= totalSectors) throw invalid('metadata fills the whole volume', { firstDataSector, totalSectors });
  const clusterCount = Math.floor((totalSectors - firstDataSector) / sectorsPerCluster);
  const kind: FatKind = clusterCount < 4085 ? 'fat12' : clusterCount < 65525 ? 'fat16' : 'fat32';
  const fat32Layout = fat16Size === 0;
  if (fat32Layout !== (kind === 'fat32') || (kind === 'fat32' && rootEntries !== 0)) {
    throw invalid(`${clusterCount} clusters make ${kind}, but the BPB layout says otherwise`, { clusterCount });
  }
  const entryBits = kind === 'fat12' ? 12 : kind === 'fat16' ? 16 : 32;
  if (Math.floor((sectorsPerFat * bytesPerSector * 8) / entryBits) < clusterCount + 2) {
    throw invalid(`a FAT of ${sectorsPerFat} sectors cannot hold ${clusterCount} clusters`, { sectorsPerFat, clusterCount });
  }
  const extFlags = kind === 'fat32' ? view.getUint16(0x28, true) : 0;
  const activeFat = (extFlags & 0x80) !== 0 ? extFlags & 0x0f : 0;
  if (activeFat >= fatCount) throw invalid(`active FAT ${activeFat} of ${fatCount}`, { activeFat });
  const rootCluster = kind === 'fat32' ? view.getUint32(0x2c, true) : 0;
  if (kind === 'fat32' && (rootCluster < 2 || rootCluster > clusterCount + 1)) throw invalid(`root cluster ${rootCluster}`, { rootCluster });
  return {
    kind, bytesPerSector, clusterSize: bytesPerSector * sectorsPerCluster, reservedSectors, fatCount, sectorsPerFat,
    rootDirSectors, totalSectors, firstDataSector, clusterCount, activeFat, rootCluster,
    ...extendedBpb(sector, view, kind === 'fat32' ? 0x42 : 0x26),
  };
}
