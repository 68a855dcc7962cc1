import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { alignedReader, detectFilesystem, usedBlockMap, type ByteReader } from '../../../../src/core/blockmap/detect.ts';
import { buildFatVolume, buildNtfsVolume, memoryReader, ntfsBootSector } from './synthetic-volumes.ts';

describe('detectFilesystem', () => {
  it('recognises NTFS by its OEM id and FAT by a valid BPB', () => {
    const ntfs = ntfsBootSector({ bytesPerSector: 512, spcByte: 8, recordByte: 0xf6, totalSectors: 2048n, mftLcn: 4, serial: 1n });
    expect(detectFilesystem(ntfs)).toBe('ntfs');
    const fat = buildFatVolume({ bits: 12, sectorsPerCluster: 1, reservedSectors: 1, rootEntries: 224, sectorsPerFat: 9, totalSectors: 2880, entries: new Map() });
    expect(detectFilesystem(fat.subarray(0, 512))).toBe('fat12');
  });

  it('calls zeros, exFAT and short buffers unknown', () => {
    expect(detectFilesystem(new Uint8Array(512))).toBe('unknown');
    const exfat = new Uint8Array(512);
    exfat.set([0xeb, 0x76, 0x90, ...Array.from('EXFAT   ', (c) => c.charCodeAt(0))]);
    expect(detectFilesystem(exfat)).toBe('unknown');
    expect(detectFilesystem(new Uint8Array(3))).toBe('unknown');
  });

  it('keeps "ntfs" for a damaged NTFS boot sector so the damage is reported, not hidden', async () => {
    const volume = buildNtfsVolume({ clusterCount: 256, mftRuns: [{ lcn: 4, length: 4 }], bitmapRuns: [{ lcn: 20, length: 1 }], used: [[0, 8]] });
    volume.bytes[0x0d] = 3;
    expect(detectFilesystem(volume.bytes.subarray(0, 512))).toBe('ntfs');
    await expect(usedBlockMap(memoryReader(volume.bytes).read, volume.partitionBytes)).rejects.toMatchObject({ code: 'blockmap.ntfs-boot-sector' });
  });
});

describe('usedBlockMap on unknown content', () => {
  it('maps every byte of an unknown partition as one extent', async () => {
    const bytes = new Uint8Array(1536 * 1024 + 512);
    const map = await usedBlockMap(memoryReader(bytes).read, BigInt(bytes.length));
    expect(map).toEqual({ filesystem: 'unknown', clusterSize: 512, partitionBytes: BigInt(bytes.length), extents: [{ start: 0n, length: BigInt(bytes.length) }], usedBytes: BigInt(bytes.length) });
  });

  it('does not read a partition smaller than a boot sector, and maps an empty one as nothing', async () => {
    const refuse: ByteReader = () => Promise.reject(new Error('no read expected'));
    expect((await usedBlockMap(refuse, 100n)).extents).toEqual([{ start: 0n, length: 100n }]);
    expect((await usedBlockMap(refuse, 0n)).extents).toEqual([]);
  });

  it('turns a short read into a RecoveryError', async () => {
    const short: ByteReader = async (_o, length) => new Uint8Array(length - 1);
    await expect(usedBlockMap(short, 4096n)).rejects.toMatchObject({ code: 'blockmap.read-short' });
  });
});

describe('alignedReader', () => {
  it('returns the asked-for bytes while only issuing aligned reads', async () => {
    const disk = Uint8Array.from({ length: 64 * 1024 }, (_, i) => (i * 7 + (i >> 9)) & 0xff);
    await fc.assert(fc.asyncProperty(fc.constantFrom(512, 4096), fc.integer({ min: 0, max: 60 * 1024 }), fc.integer({ min: 0, max: 4000 }), async (unit, offset, length) => {
      const requests: [bigint, number][] = [];
      const inner: ByteReader = async (o, l) => {
        requests.push([o, l]);
        return disk.slice(Number(o), Number(o) + l);
      };
      const got = await alignedReader(inner, unit)(BigInt(offset), length);
      expect(got.length).toBe(length);
      expect(got.every((b, i) => b === disk[offset + i])).toBe(true);
      for (const [o, l] of requests) expect(Number(o) % unit === 0 && l % unit === 0).toBe(true);
    }));
  });

  it('maps an NTFS volume on a 4096-byte-sector device through it', async () => {
    const volume = buildNtfsVolume({
      bytesPerSector: 4096, sectorsPerClusterByte: 1, recordSizeByte: 1, clusterCount: 256,
      mftRuns: [{ lcn: 4, length: 16 }], bitmapRuns: [{ lcn: 30, length: 1 }], used: [[0, 3], [4, 16], [30, 1]],
    });
    const strict: ByteReader = async (o, l) => {
      if (o % 4096n !== 0n || l % 4096 !== 0) throw new Error(`unaligned read ${l} at ${o}`);
      return volume.bytes.slice(Number(o), Number(o) + l);
    };
    await expect(usedBlockMap(strict, volume.partitionBytes)).rejects.toThrow(/unaligned/);
    const map = await usedBlockMap(alignedReader(strict, 4096), volume.partitionBytes);
    expect(map.usedBytes).toBe(BigInt((3 + 16 + 1 + 1) * 4096));
  });
});
