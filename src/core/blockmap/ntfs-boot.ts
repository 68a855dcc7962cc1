/**
 * NTFS boot sector (the first sector of the volume; a copy sits in the partition's last sector).
 *
 *   off  size  field
 *   0x03  8    OEM id "NTFS    "
 *   0x0B  2    bytes per sector (512–4096)
 *   0x0D  1    sectors per cluster: 1–128, or 0xF4–0xFF meaning 2^(256 − value) (clusters > 64 KiB)
 *   0x0E  7    reserved sectors, FAT count, root entries, 16-bit sector count: all 0 on NTFS
 *   0x16  2    sectors per FAT: 0
 *   0x20  4    32-bit sector count: 0
 *   0x28  8    total sectors (the volume; the backup boot sector lies just past it)
 *   0x30  8    LCN of $MFT
 *   0x38  8    LCN of $MFTMirr
 *   0x40  1    clusters per MFT record: > 0 → that many clusters; < 0 → 2^(−value) bytes
 *   0x48  8    volume serial number
 * Validation follows ntfs-3g's `ntfs_boot_sector_is_ntfs`.
 */
import { RecoveryError } from '../errors.ts';

export interface NtfsBootSector {
  readonly bytesPerSector: number;
  /** Bytes per cluster: 512 B – 2 MiB. */
  readonly clusterSize: number;
  readonly totalSectors: bigint;
  /** Whole clusters in the volume: the bits of $Bitmap that count. */
  readonly clusterCount: bigint;
  readonly mftLcn: bigint;
  readonly mftMirrLcn: bigint;
  /** Bytes per MFT record (1024 on 512-byte-sector disks, 4096 on 4Kn). */
  readonly mftRecordSize: number;
  readonly serialNumber: bigint;
}

const OEM_ID = 'NTFS    ';
const MAX_CLUSTER_SIZE = 2 * 1024 * 1024;

export function hasNtfsOemId(sector: Uint8Array): boolean {
  if (sector.length < 11) return false;
  for (let i = 0; i < OEM_ID.length; i++) {
    if (sector[3 + i] !== OEM_ID.charCodeAt(i)) return false;
  }
  return true;
}

function invalid(message: string, data: Record<string, unknown> = {}): RecoveryError {
  return new RecoveryError('blockmap.ntfs-boot-sector', `Invalid NTFS boot sector: ${message}`, { data });
}

function isPowerOfTwo(n: number): boolean {
  return n > 0 && (n & (n - 1)) === 0;
}

function decodeClusterSize(bytesPerSector: number, raw: number): number {
  // Windows encodes clusters above 64 KiB (128 sectors of 512 B) as a negative exponent.
  const sectors = raw > 0x80 ? 2 ** (256 - raw) : raw;
  const size = bytesPerSector * sectors;
  if (!isPowerOfTwo(sectors) || size > MAX_CLUSTER_SIZE) {
    throw invalid(`sectors per cluster byte 0x${raw.toString(16)} gives an impossible cluster size`, { sectorsPerCluster: raw });
  }
  return size;
}

function decodeRecordSize(clusterSize: number, raw: number): number {
  const signed = raw > 127 ? raw - 256 : raw;
  const size = signed > 0 ? signed * clusterSize : signed < 0 && signed >= -31 ? 2 ** -signed : 0;
  if (!isPowerOfTwo(size) || size < 512 || size > 65536) {
    throw invalid(`clusters per MFT record byte 0x${raw.toString(16)} gives an impossible record size`, { clustersPerMftRecord: raw });
  }
  return size;
}

/** Parses and validates the boot sector; throws RecoveryError('blockmap.ntfs-boot-sector'). */
export function parseNtfsBootSector(sector: Uint8Array): NtfsBootSector {
  if (sector.length < 512) throw invalid(`only ${sector.length} bytes`);
  if (!hasNtfsOemId(sector)) throw invalid('OEM id is not "NTFS    "');
  const view = new DataView(sector.buffer, sector.byteOffset, sector.byteLength);
  const bytesPerSector = view.getUint16(0x0b, true);
  if (!isPowerOfTwo(bytesPerSector) || bytesPerSector < 512 || bytesPerSector > 4096) {
    throw invalid(`bytes per sector ${bytesPerSector}`, { bytesPerSector });
  }
  const clusterSize = decodeClusterSize(bytesPerSector, view.getUint8(0x0d));
  const fatFieldsZero =
    view.getUint16(0x0e, true) === 0 && view.getUint8(0x10) === 0 && view.getUint16(0x11, true) === 0 &&
    view.getUint16(0x13, true) === 0 && view.getUint16(0x16, true) === 0 && view.getUint32(0x20, true) === 0;
  if (!fatFieldsZero) throw invalid('FAT-only fields are not zero');
  const totalSectors = view.getBigUint64(0x28, true);
  const clusterCount = (totalSectors * BigInt(bytesPerSector)) / BigInt(clusterSize);
  const mftLcn = view.getBigUint64(0x30, true);
  const mftMirrLcn = view.getBigUint64(0x38, true);
  if (clusterCount === 0n) throw invalid('the volume holds no whole cluster', { totalSectors: totalSectors.toString() });
  if (mftLcn >= clusterCount || mftMirrLcn >= clusterCount) {
    throw invalid('$MFT or $MFTMirr lies past the end of the volume', {
      mftLcn: mftLcn.toString(), mftMirrLcn: mftMirrLcn.toString(), clusterCount: clusterCount.toString(),
    });
  }
  return {
    bytesPerSector,
    clusterSize,
    totalSectors,
    clusterCount,
    mftLcn,
    mftMirrLcn,
    mftRecordSize: decodeRecordSize(clusterSize, view.getUint8(0x40)),
    serialNumber: view.getBigUint64(0x48, true),
  };
}
