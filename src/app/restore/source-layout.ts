/**
 * The source disk's partition table, read back from the raw table sectors the backup kept (MBR,
 * EBRs, both GPT copies) with the same codecs that read a live disk, so the layout planner sees
 * exactly what the source carried: identity, GUIDs, names, attributes, MBR boot code.
 */
import type { ManifestDisk } from '../../core/backup/manifest.ts';
import type { Extent } from '../../core/blockmap/extents.ts';
import { RecoveryError } from '../../core/errors.ts';
import type { SourceDiskLayout } from '../../core/layout/source-layout.ts';
import { readPartitionTable } from '../../core/partition/read-table.ts';
import type { ChunkFetcher } from './chunk-fetch.ts';

export interface SourceDisk {
  readonly layout: SourceDiskLayout;
  /** Byte ranges of the table sectors the backup kept. */
  readonly tableRanges: readonly Extent[];
}

/** Sector bytes by LBA, from the table-sector runs. */
async function tableSectors(disk: ManifestDisk, fetcher: ChunkFetcher): Promise<Map<bigint, Uint8Array>> {
  const ss = disk.geometry.logicalSectorSize;
  const sectors = new Map<bigint, Uint8Array>();
  for (const run of disk.tableSectors) {
    const bytes = new Uint8Array(run.count * ss);
    let at = 0;
    for (const chunk of run.chunks) {
      const { bytes: plain } = await fetcher.plaintext(chunk);
      if (plain.length !== chunk.length || at + plain.length > bytes.length) {
        throw new RecoveryError('restore.table-sectors-invalid', `the table sectors kept at LBA ${run.lba} do not add up to ${run.count} sectors`, {
          data: { lba: String(run.lba), count: run.count },
        });
      }
      bytes.set(plain, at);
      at += plain.length;
    }
    for (let i = 0; i < run.count; i++) sectors.set(run.lba + BigInt(i), bytes.subarray(i * ss, (i + 1) * ss));
  }
  return sectors;
}

export async function readSourceDisk(disk: ManifestDisk, fetcher: ChunkFetcher): Promise<SourceDisk> {
  const ss = disk.geometry.logicalSectorSize;
  const tableRanges = disk.tableSectors.map((r) => ({ start: r.lba * BigInt(ss), length: BigInt(r.count * ss) }));
  if (disk.style === 'raw') return { layout: { geometry: disk.geometry }, tableRanges };
  const sectors = await tableSectors(disk, fetcher);
  // Sectors the backup did not keep read as zeros, as on a blank disk.
  const read = async (lba: bigint, count: number): Promise<Uint8Array> => {
    const out = new Uint8Array(count * ss);
    for (let i = 0; i < count; i++) {
      const sector = sectors.get(lba + BigInt(i));
      if (sector !== undefined) out.set(sector, i * ss);
    }
    return out;
  };
  const result = await readPartitionTable(read, disk.geometry);
  if (result.table === undefined || result.style !== disk.style) {
    throw new RecoveryError('restore.source-table-unreadable',
      `the backup says source disk ${disk.number} is ${disk.style.toUpperCase()}, but its kept table sectors hold ${result.style === 'none' ? 'no usable table' : `a ${result.style.toUpperCase()} table`}`,
      { data: { sourceDisk: disk.number, problems: result.problems.map((p) => p.code) } });
  }
  return { layout: { geometry: disk.geometry, table: result.table }, tableRanges };
}
