import { describe, expect, it } from 'vitest';
import { detectFilesystem, usedBlockMap } from '../../../../src/core/blockmap/detect.ts';
import type { Extent } from '../../../../src/core/blockmap/extents.ts';
import { parseFatBootSector } from '../../../../src/core/blockmap/fat-boot.ts';
import { RecoveryError } from '../../../../src/core/errors.ts';
import { buildFatVolume, memoryReader, type FatVolumeSpec } from './synthetic-volumes.ts';

function ext(...pairs: [number, number][]): Extent[] {
  return pairs.map(([start, length]) => ({ start: BigInt(start), length: BigInt(length) }));
}

async function mapOf(bytes: Uint8Array, partitionBytes = BigInt(bytes.length)) {
  return usedBlockMap(memoryReader(bytes).read, partitionBytes);
}

/** A 1.44 MB floppy: 2847 clusters of 512 bytes, data from sector 33. */
const floppy: FatVolumeSpec = {
  bits: 12, sectorsPerCluster: 1, reservedSectors: 1, rootEntries: 224, sectorsPerFat: 9, totalSectors: 2880,
  entries: new Map([[2, 0xfff], [3, 4], [4, 0xfff], [10, 0xff7], [2848, 0xfff]]),
  bpbLabel: 'FLOPPY',
};

describe('FAT used-block map', () => {
  it('FAT12: metadata area plus clusters with non-zero entries, both nibble layouts', async () => {
    const map = await mapOf(buildFatVolume(floppy));
    expect(map.filesystem).toBe('fat12');
    expect(map.clusterSize).toBe(512);
    expect(map.label).toBe('FLOPPY');
    expect(map.serial).toBe('1234-ABCD');
    // Sectors 0–32 metadata, clusters 2–4 → sectors 33–35; bad cluster 10 left out; cluster 2848 → sector 2879.
    expect(map.extents).toEqual(ext([0, 36 * 512], [2879 * 512, 512]));
  });

  it('FAT16: fixed root directory always used; label from the root directory wins over the BPB copy', async () => {
    const bytes = buildFatVolume({
      bits: 16, sectorsPerCluster: 4, reservedSectors: 4, rootEntries: 512, sectorsPerFat: 40, totalSectors: 40000,
      entries: new Map([[2, 0xffff], [100, 101], [101, 102], [102, 0xffff], [500, 0xfff7], [9972, 0xffff]]),
      bpbLabel: 'OLDNAME', rootLabel: 'DATA16', serial: 0x00ff0001,
    });
    const map = await mapOf(bytes);
    expect(map.filesystem).toBe('fat16');
    expect(map.label).toBe('DATA16');
    expect(map.serial).toBe('00FF-0001');
    const data = 116 * 512;
    const cs = 2048;
    expect(map.extents).toEqual(ext([0, data + cs], [data + 98 * cs, 3 * cs], [data + 9970 * cs, cs]));
  });

  it('FAT32: reads the active FAT when mirroring is off, masks the reserved top nibble, skips bad clusters', async () => {
    const bytes = buildFatVolume({
      bits: 32, sectorsPerCluster: 1, reservedSectors: 32, rootEntries: 0, sectorsPerFat: 547, totalSectors: 70000,
      entries: new Map(),
      entriesPerFat: [
        new Map([[2, 0x0fffffff], [1000, 0x0fffffff]]),
        new Map([[2, 0x0fffffff], [3, 0xf0000000], [4, 0x0ffffff7], [5, 6], [6, 7], [7, 0x0ffffff8], [2000, 0x0fffffff]]),
      ],
      extFlags: 0x81,
      rootLabel: 'EFI',
    });
    const map = await mapOf(bytes);
    expect(map.filesystem).toBe('fat32');
    expect(map.label).toBe('EFI');
    const data = 1126 * 512;
    expect(map.extents).toEqual(ext([0, data + 512], [data + 3 * 512, 3 * 512], [data + 1998 * 512, 512]));
  });

  it('rejects a volume larger than its partition', async () => {
    const bytes = buildFatVolume(floppy);
    await expect(mapOf(bytes, 2879n * 512n)).rejects.toMatchObject({ code: 'blockmap.volume-exceeds-partition' });
  });
});

describe('FAT type and BPB validation', () => {
  const bpb = (spec: Partial<FatVolumeSpec>): Uint8Array =>
    buildFatVolume({ ...floppy, ...spec, partitionBytes: 512 }).subarray(0, 512);

  it('takes the type from the cluster count: 4084 → FAT12, 4085 → FAT16', () => {
    const base = { sectorsPerFat: 16, rootEntries: 224, reservedSectors: 1 };
    expect(detectFilesystem(bpb({ ...base, totalSectors: 47 + 4084 }))).toBe('fat12');
    expect(detectFilesystem(bpb({ ...base, bits: 16, totalSectors: 47 + 4085 }))).toBe('fat16');
  });

  it('65524 clusters are FAT16 and 65525 FAT32; a BPB layout that contradicts its count is rejected', () => {
    const fat16 = { bits: 16 as const, sectorsPerFat: 256, rootEntries: 512, reservedSectors: 1 };
    const fat16Meta = 1 + 512 + 32;
    expect(detectFilesystem(bpb({ ...fat16, totalSectors: fat16Meta + 65524 }))).toBe('fat16');
    expect(() => parseFatBootSector(bpb({ ...fat16, totalSectors: fat16Meta + 65525 }))).toThrow(expect.objectContaining({ code: 'blockmap.fat-boot-sector' }));
    const fat32 = { bits: 32 as const, sectorsPerFat: 520, rootEntries: 0, reservedSectors: 32 };
    const fat32Meta = 32 + 1040;
    expect(detectFilesystem(bpb({ ...fat32, totalSectors: fat32Meta + 65525 }))).toBe('fat32');
    expect(detectFilesystem(bpb({ ...fat32, totalSectors: fat32Meta + 65524 }))).toBe('unknown');
  });

  it.each([
    ['a FAT too small for the clusters', { sectorsPerFat: 2 }],
    ['zero reserved sectors', { reservedSectors: 0 }],
    ['3 sectors per cluster', { sectorsPerCluster: 3 }],
    ['bytes per sector 256', { bytesPerSector: 256 }],
    ['metadata filling the volume', { totalSectors: 33 }],
  ])('rejects %s', (_what, spec) => {
    let error: unknown;
    try {
      parseFatBootSector(bpb(spec));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(RecoveryError);
    expect((error as RecoveryError).code).toBe('blockmap.fat-boot-sector');
  });

  it('requires the x86 jump that every FAT boot sector starts with', () => {
    const sector = bpb({});
    expect(detectFilesystem(sector)).toBe('fat12');
    sector[0] = 0;
    expect(detectFilesystem(sector)).toBe('unknown');
  });
});
