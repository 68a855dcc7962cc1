/**
 * NTFS used-block map: boot sector → $MFT record 0 → the $MFT's own data runs → record 6
 * ($Bitmap) → its unnamed $DATA → allocated clusters. Plus what no bitmap covers: the 8 KiB boot
 * code area and the backup boot sector just past the last cluster / in the partition's last sector.
 */
import { RecoveryError } from '../errors.ts';
import type { UsedBlockMap } from './detect.ts';
import { readExact, type ByteReader } from './reader.ts';
import { normalizeExtents, totalBytes, type Extent } from './extents.ts';
import { ClusterRunCollector, collectSetBits } from './cluster-runs.ts';
import { parseNtfsBootSector, type NtfsBootSector } from './ntfs-boot.ts';
import { unnamedData, type AttributeData, type VolumeContext } from './ntfs-data.ts';
import { ATTR_VOLUME_NAME, decodeVolumeName, parseMftRecord, type MftRecord } from './ntfs-record.ts';
import { readThroughRuns, type DataRun } from './ntfs-runs.ts';

const MFT_RECORD_BITMAP = 6n;
const MFT_RECORD_VOLUME = 3n;
/** $Boot spans the first 8 KiB (boot sector + NTLDR/BOOTMGR loader code) whatever the cluster size. */
const BOOT_CODE_BYTES = 8192n;
/** Bitmap bytes read per step: 1 MiB covers 8 Mi clusters (32 GiB at 4 KiB clusters). */
const BITMAP_CHUNK_BYTES = 1024 * 1024;

interface Mft {
  readonly volume: VolumeContext;
  readonly boot: NtfsBootSector;
  readonly runs: DataRun[];
  /** Bytes of the $MFT's data once known; records past it do not exist. */
  dataSize: bigint | undefined;
}

async function readMftRecord(mft: Mft, n: bigint): Promise<MftRecord> {
  const size = BigInt(mft.boot.mftRecordSize);
  if (mft.dataSize !== undefined && (n + 1n) * size > mft.dataSize) {
    throw new RecoveryError('blockmap.ntfs-mft-record', `MFT record ${n} lies past the end of the $MFT`, { data: { record: n.toString() } });
  }
  const raw = await readThroughRuns(mft.volume.read, mft.runs, mft.boot.clusterSize, n * size, mft.boot.mftRecordSize);
  return parseMftRecord(raw, n);
}

/** Opens the $MFT: reads record 0 where the boot sector says, then follows its own data runs. */
async function openMft(volume: VolumeContext, boot: NtfsBootSector): Promise<Mft> {
  const start = boot.mftLcn * BigInt(boot.clusterSize);
  if (start + BigInt(boot.mftRecordSize) > boot.clusterCount * BigInt(boot.clusterSize)) {
    throw new RecoveryError('blockmap.ntfs-boot-sector', 'Invalid NTFS boot sector: $MFT record 0 lies past the end of the volume');
  }
  const record0 = parseMftRecord(await readExact(volume.read, start, boot.mftRecordSize), 0n);
  const mft: Mft = { volume, boot, runs: [], dataSize: undefined };
  const data = await unnamedData(volume, record0, (n) => readMftRecord(mft, n), mft.runs);
  if (data.resident) throw new RecoveryError('blockmap.ntfs-mft-record', 'MFT record 0: the $MFT data is resident');
  mft.dataSize = data.first.dataSize;
  return mft;
}

function bitmapError(message: string, data: Record<string, unknown> = {}): RecoveryError {
  return new RecoveryError('blockmap.ntfs-bitmap', `$Bitmap: ${message}`, { data });
}

/** Runs of allocated clusters among the volume's clusterCount clusters (padding bits ignored). */
async function allocatedClusters(volume: VolumeContext, bitmap: AttributeData): Promise<ClusterRunCollector> {
  const needed = (volume.clusterCount + 7n) / 8n;
  const available = bitmap.resident ? BigInt(bitmap.value.length) : bitmap.first.dataSize;
  if (available < needed) {
    throw bitmapError(`${available} bytes cannot describe ${volume.clusterCount} clusters`, { available: available.toString(), needed: needed.toString() });
  }
  const collector = new ClusterRunCollector();
  for (let offset = 0n; offset < needed; offset += BigInt(BITMAP_CHUNK_BYTES)) {
    const length = Number(needed - offset < BigInt(BITMAP_CHUNK_BYTES) ? needed - offset : BigInt(BITMAP_CHUNK_BYTES));
    const chunk = await bitmapChunk(volume, bitmap, offset, length);
    const firstCluster = offset * 8n;
    const clustersLeft = volume.clusterCount - firstCluster;
    const bitCount = clustersLeft < BigInt(length * 8) ? Number(clustersLeft) : length * 8;
    collectSetBits(chunk, bitCount, firstCluster, collector);
  }
  return collector;
}

/** Bytes [offset, offset + length) of the bitmap; bytes past the initialized size read as zero. */
async function bitmapChunk(volume: VolumeContext, bitmap: AttributeData, offset: bigint, length: number): Promise<Uint8Array> {
  if (bitmap.resident) return bitmap.value.subarray(Number(offset), Number(offset) + length);
  const initialized = bitmap.first.initializedSize;
  if (offset >= initialized) return new Uint8Array(length);
  const readable = initialized - offset < BigInt(length) ? Number(initialized - offset) : length;
  const bytes = await readThroughRuns(volume.read, bitmap.runs, volume.clusterSize, offset, readable);
  if (readable === length) return bytes;
  const padded = new Uint8Array(length);
  padded.set(bytes);
  return padded;
}

/** Areas no bitmap bit covers: boot code, the gap after the last cluster, the backup boot sector. */
function rawAreas(boot: NtfsBootSector, partitionBytes: bigint): Extent[] {
  const sector = BigInt(boot.bytesPerSector);
  const volumeBytes = boot.totalSectors * sector;
  const clustersEnd = boot.clusterCount * BigInt(boot.clusterSize);
  const backupEnd = volumeBytes + sector < partitionBytes ? volumeBytes + sector : partitionBytes;
  const areas: Extent[] = [
    { start: 0n, length: BOOT_CODE_BYTES < clustersEnd ? BOOT_CODE_BYTES : clustersEnd },
    { start: clustersEnd, length: backupEnd - clustersEnd },
  ];
  if (partitionBytes >= sector) areas.push({ start: partitionBytes - sector, length: sector });
  return areas;
}

/** The volume label from $Volume's $VOLUME_NAME; cosmetic, so a damaged $Volume just leaves it out. */
async function volumeLabel(mft: Mft): Promise<string | undefined> {
  try {
    const record = await readMftRecord(mft, MFT_RECORD_VOLUME);
    const name = record.attributes.find((a) => a.type === ATTR_VOLUME_NAME);
    const label = name?.resident ? decodeVolumeName(name.value) : '';
    return label === '' ? undefined : label;
  } catch (e) {
    if (e instanceof RecoveryError) return undefined;
    throw e;
  }
}

/** Used-block map of an NTFS volume whose first sector is `bootSector`. */
export async function ntfsUsedBlockMap(read: ByteReader, partitionBytes: bigint, bootSector: Uint8Array): Promise<UsedBlockMap> {
  const boot = parseNtfsBootSector(bootSector);
  const volumeBytes = boot.totalSectors * BigInt(boot.bytesPerSector);
  if (volumeBytes > partitionBytes) {
    throw new RecoveryError('blockmap.volume-exceeds-partition', `NTFS volume of ${volumeBytes} bytes does not fit its ${partitionBytes}-byte partition`, {
      data: { filesystem: 'ntfs', volumeBytes: volumeBytes.toString(), partitionBytes: partitionBytes.toString() },
    });
  }
  const volume: VolumeContext = { read, clusterSize: boot.clusterSize, clusterCount: boot.clusterCount };
  const mft = await openMft(volume, boot);
  const bitmapRecord = await readMftRecord(mft, MFT_RECORD_BITMAP);
  if (!bitmapRecord.inUse) throw bitmapError('MFT record 6 is not in use');
  const bitmap = await unnamedData(volume, bitmapRecord, (n) => readMftRecord(mft, n));
  const cs = BigInt(boot.clusterSize);
  const clusterExtents = (await allocatedClusters(volume, bitmap)).finish().map((r) => ({ start: r.first * cs, length: r.count * cs }));
  const extents = normalizeExtents([...clusterExtents, ...rawAreas(boot, partitionBytes)]);
  const label = await volumeLabel(mft);
  return {
    filesystem: 'ntfs',
    clusterSize: boot.clusterSize,
    partitionBytes,
    extents,
    usedBytes: totalBytes(extents),
    ...(label === undefined ? {} : { label }),
    serial: boot.serialNumber.toString(16).toUpperCase().padStart(16, '0'),
  };
}
