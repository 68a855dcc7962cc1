import { describe, expect, it } from 'vitest';
import { usedBlockMap } from '../../../../src/core/blockmap/detect.ts';
import type { Extent } from '../../../../src/core/blockmap/extents.ts';
import { parseNtfsBootSector } from '../../../../src/core/blockmap/ntfs-boot.ts';
import { decodeDataRuns } from '../../../../src/core/blockmap/ntfs-runs.ts';
import { RecoveryError } from '../../../../src/core/errors.ts';
import {
  ATTR, attributeList, buildNtfsVolume, encodeRecord, encodeRuns, memoryReader, nonResidentAttribute,
  ntfsBootSector, residentAttribute, type NtfsVolumeSpec, type SyntheticVolume,
} from './synthetic-volumes.ts';

const KiB = 1024;

async function mapOf(volume: SyntheticVolume, partitionBytes = volume.partitionBytes) {
  const reader = memoryReader(volume.bytes);
  const map = await usedBlockMap(reader.read, partitionBytes);
  return { map, bytesRead: reader.bytesRead() };
}

/** Extents from [start, length] pairs in bytes. */
function ext(...pairs: [number, number][]): Extent[] {
  return pairs.map(([start, length]) => ({ start: BigInt(start), length: BigInt(length) }));
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (e) {
    if (e instanceof RecoveryError) return e.code;
    throw e;
  }
  return 'no error';
}

/** 1 MiB volume, 4 KiB clusters, $MFT at cluster 4 (16 records), $Bitmap at cluster 20. */
const basic: NtfsVolumeSpec = {
  clusterCount: 256,
  mftRuns: [{ lcn: 4, length: 4 }],
  bitmapRuns: [{ lcn: 20, length: 1 }],
  used: [[0, 3], [4, 4], [20, 1], [100, 10]],
  label: 'Windows',
};

describe('NTFS used-block map', () => {
  it('maps allocated clusters plus the backup boot sector past the last cluster', async () => {
    const { map, bytesRead } = await mapOf(buildNtfsVolume(basic));
    expect(map.filesystem).toBe('ntfs');
    expect(map.clusterSize).toBe(4096);
    expect(map.label).toBe('Windows');
    expect(map.serial).toBe('1122334455667788');
    expect(map.extents).toEqual(ext([0, 3 * 4096], [4 * 4096, 4 * 4096], [20 * 4096, 4096], [100 * 4096, 10 * 4096], [1024 * KiB, 512]));
    expect(map.usedBytes).toBe(BigInt((3 + 4 + 1 + 10) * 4096 + 512));
    // Only metadata is read, never the volume's data.
    expect(bytesRead).toBeLessThan(16 * KiB);
  });

  it('keeps the boot code area even when the bitmap says cluster 0 is free', async () => {
    const { map } = await mapOf(buildNtfsVolume({ ...basic, used: [[4, 4], [20, 1]] }));
    expect(map.extents[0]).toEqual({ start: 0n, length: 8192n });
  });

  it('finds record 6 in a later $MFT fragment, not where a contiguous $MFT would put it', async () => {
    const decoyBitmapLcn = 30;
    const decoy = encodeRecord(1024, {
      number: 6,
      attributes: [nonResidentAttribute(ATTR.data, { runs: [{ lcn: decoyBitmapLcn, length: 1 }], dataSize: 32, clusterSize: 4096 })],
    });
    const volume = buildNtfsVolume({
      ...basic,
      mftRuns: [{ lcn: 4, length: 1 }, { lcn: 50, length: 2 }],
      used: [[0, 3], [4, 1], [20, 1], [50, 2]],
      patches: [[5 * 4096 + 2048, decoy], [decoyBitmapLcn * 4096, new Uint8Array(32).fill(0xff)]],
    });
    const { map } = await mapOf(volume);
    expect(map.extents).toEqual(ext([0, 3 * 4096], [4 * 4096, 4096], [20 * 4096, 4096], [50 * 4096, 2 * 4096], [1024 * KiB, 512]));
  });

  it('reads sparse bitmap runs as free, reads records that span two clusters, keeps both boot copies', async () => {
    const volume = buildNtfsVolume({
      sectorsPerClusterByte: 1,
      clusterCount: 16384,
      partitionSlack: 4096,
      mftRuns: [{ lcn: 64, length: 32 }],
      bitmapRuns: [{ lcn: 40, length: 1 }, { lcn: null, length: 2 }, { lcn: 41, length: 1 }],
      used: [[0, 32], [40, 2], [64, 32], [13000, 5]],
    });
    const { map } = await mapOf(volume);
    expect(map.clusterSize).toBe(512);
    const end = 16384 * 512;
    expect(map.extents).toEqual(ext([0, 32 * 512], [40 * 512, 1024], [64 * 512, 32 * 512], [13000 * 512, 5 * 512], [end, 512], [end + 512 + 4096 - 512, 512]));
  });

  it('treats bitmap bytes past the initialized size as zero', async () => {
    const volume = buildNtfsVolume({
      sectorsPerClusterByte: 1,
      clusterCount: 8192,
      mftRuns: [{ lcn: 64, length: 32 }],
      bitmapRuns: [{ lcn: 40, length: 2 }],
      bitmapData: { initializedSize: 512 },
      used: [[0, 96], [5000, 3]],
    });
    const { map } = await mapOf(volume);
    expect(map.extents).toEqual(ext([0, 96 * 512], [8192 * 512, 512]));
  });

  it('reads a resident $Bitmap (tiny volume) and ignores the padding bits past the last cluster', async () => {
    const { map } = await mapOf(buildNtfsVolume({ ...basic, clusterCount: 60, bitmapRuns: undefined, used: [[0, 8], [10, 2], [59, 1]] }));
    expect(map.extents).toEqual(ext([0, 8 * 4096], [10 * 4096, 2 * 4096], [59 * 4096, 4096 + 512]));
  });

  it('decodes clusters above 64 KiB (negative sectors-per-cluster exponent)', async () => {
    const volume = buildNtfsVolume({
      sectorsPerClusterByte: 0xf8, clusterCount: 32, mftRuns: [{ lcn: 1, length: 1 }], bitmapRuns: [{ lcn: 2, length: 1 }], used: [[0, 3], [10, 1]],
    });
    const { map } = await mapOf(volume);
    const cs = 128 * KiB;
    expect(map.clusterSize).toBe(cs);
    expect(map.extents).toEqual(ext([0, 3 * cs], [10 * cs, cs], [32 * cs, 512]));
  });

  it('handles 4096-byte sectors with one-cluster (positively encoded) 4 KiB MFT records', async () => {
    const volume = buildNtfsVolume({
      bytesPerSector: 4096, sectorsPerClusterByte: 1, recordSizeByte: 1, clusterCount: 256,
      mftRuns: [{ lcn: 4, length: 16 }], bitmapRuns: [{ lcn: 30, length: 1 }], used: [[0, 3], [4, 16], [30, 1]], label: 'Data',
    });
    expect(volume.recordSize).toBe(4096);
    const { map } = await mapOf(volume);
    expect(map.label).toBe('Data');
    expect(map.extents).toEqual(ext([0, 3 * 4096], [4 * 4096, 16 * 4096], [30 * 4096, 4096], [1024 * KiB, 4096]));
  });

  it('keeps the sectors between the last whole cluster and the backup boot sector', async () => {
    const { map } = await mapOf(buildNtfsVolume({ ...basic, volumeTailSectors: 5 }));
    expect(map.extents.at(-1)).toEqual({ start: 1024n * 1024n, length: 6n * 512n });
  });

  it('follows an $ATTRIBUTE_LIST that splits $Bitmap over an extension record', async () => {
    const cs = 512;
    const bitmapBytes = 1024;
    const volume = buildNtfsVolume({
      sectorsPerClusterByte: 1, clusterCount: 8192, mftRuns: [{ lcn: 40, length: 32 }],
      bitmapRuns: [{ lcn: 20, length: 1 }, { lcn: 25, length: 1 }],
      used: [[0, 16], [20, 1], [25, 1], [40, 32], [6000, 10]],
      records: [
        {
          number: 6,
          attributes: [
            residentAttribute(ATTR.attributeList, attributeList([{ type: ATTR.data, lowestVcn: 0, record: 6 }, { type: ATTR.data, lowestVcn: 1, record: 9 }])),
            nonResidentAttribute(ATTR.data, { runs: [{ lcn: 20, length: 1 }], dataSize: bitmapBytes, clusterSize: cs }),
          ],
        },
        { number: 9, baseRecord: 6, attributes: [nonResidentAttribute(ATTR.data, { runs: [{ lcn: 25, length: 1 }], lowestVcn: 1, dataSize: bitmapBytes, clusterSize: cs })] },
      ],
    });
    const { map } = await mapOf(volume);
    expect(map.extents).toEqual(ext([0, 16 * cs], [20 * cs, cs], [25 * cs, cs], [40 * cs, 32 * cs], [6000 * cs, 10 * cs], [8192 * cs, 512]));
  });

  /** $MFT in three fragments; record 0 lists pieces in records 5 (fragment 1) and 10 (fragment 2). */
  function splitMft(overrides: { piece2Record?: number; piece2Base?: number; piece3Vcn?: number } = {}): NtfsVolumeSpec {
    const cs = 4096;
    const mftBytes = 6 * cs;
    const piece2Record = overrides.piece2Record ?? 5;
    return {
      ...basic,
      mftRuns: [{ lcn: 4, length: 2 }, { lcn: 60, length: 2 }, { lcn: 80, length: 2 }],
      used: [[0, 3], [4, 2], [20, 1], [60, 2], [80, 2]],
      records: [
        {
          number: 0,
          attributes: [
            residentAttribute(ATTR.attributeList, attributeList([
              { type: ATTR.data, lowestVcn: 0, record: 0 },
              { type: ATTR.data, lowestVcn: 2, record: piece2Record },
              { type: ATTR.data, lowestVcn: overrides.piece3Vcn ?? 4, record: 10 },
            ])),
            nonResidentAttribute(ATTR.data, { runs: [{ lcn: 4, length: 2 }], dataSize: mftBytes, clusterSize: cs }),
          ],
        },
        { number: piece2Record, baseRecord: overrides.piece2Base ?? 0, attributes: [nonResidentAttribute(ATTR.data, { runs: [{ lcn: 60, length: 2 }], lowestVcn: 2, dataSize: mftBytes, clusterSize: cs })] },
        { number: 10, baseRecord: 0, attributes: [nonResidentAttribute(ATTR.data, { runs: [{ lcn: 80, length: 2 }], lowestVcn: 4, dataSize: mftBytes, clusterSize: cs })] },
        // $Bitmap's data lives in an extension record in the $MFT's third fragment.
        { number: 6, attributes: [residentAttribute(ATTR.attributeList, attributeList([{ type: ATTR.data, lowestVcn: 0, record: 17 }]))] },
        { number: 17, baseRecord: 6, attributes: [nonResidentAttribute(ATTR.data, { runs: [{ lcn: 20, length: 1 }], dataSize: 32, clusterSize: cs })] },
      ],
    };
  }

  it('maps a split $MFT through its own extension records, fragment by fragment', async () => {
    const { map } = await mapOf(buildNtfsVolume(splitMft()));
    expect(map.extents).toEqual(ext([0, 3 * 4096], [4 * 4096, 2 * 4096], [20 * 4096, 4096], [60 * 4096, 2 * 4096], [80 * 4096, 2 * 4096], [1024 * KiB, 512]));
  });

  it('rejects split $MFT lists that point at unmapped, foreign or missing pieces', async () => {
    // Record 12 lies in the second fragment, which only the piece it holds would map.
    expect(await codeOf(mapOf(buildNtfsVolume(splitMft({ piece2Record: 12 }))))).toBe('blockmap.ntfs-data-runs');
    expect(await codeOf(mapOf(buildNtfsVolume(splitMft({ piece2Base: 3 }))))).toBe('blockmap.ntfs-attribute-list');
    expect(await codeOf(mapOf(buildNtfsVolume(splitMft({ piece3Vcn: 3 }))))).toBe('blockmap.ntfs-attribute-list');
  });

  it('reports malformed metadata with stable codes', async () => {
    const withRecord6 = (...attributes: Uint8Array[]) => buildNtfsVolume({ ...basic, records: [{ number: 6, attributes }] });
    const bitmap = (spec: Partial<Parameters<typeof nonResidentAttribute>[1]>) =>
      nonResidentAttribute(ATTR.data, { runs: [{ lcn: 20, length: 1 }], dataSize: 32, clusterSize: 4096, ...spec });
    const record6At = 4 * 4096 + 6 * 1024;
    const cases: [string, SyntheticVolume, string][] = [
      ['torn record', buildNtfsVolume({ ...basic, patches: [[record6At + 510, Uint8Array.of(0x99, 0x99)]] }), 'blockmap.ntfs-mft-record'],
      ['chkdsk BAAD record', buildNtfsVolume({ ...basic, patches: [[4 * 4096, Uint8Array.from([0x42, 0x41, 0x41, 0x44])]] }), 'blockmap.ntfs-mft-record'],
      ['run past the volume', withRecord6(bitmap({ runs: [{ lcn: 300, length: 1 }] })), 'blockmap.ntfs-data-runs'],
      ['run header with 9-byte length', withRecord6(bitmap({ rawPairs: Uint8Array.of(0x19, 1, 0, 0, 0, 0, 0, 0, 0, 0, 20, 0) })), 'blockmap.ntfs-data-runs'],
      ['unterminated runs', withRecord6(bitmap({ rawPairs: Uint8Array.of(0x11, 1, 20, 0x11, 1, 1, 0x11, 1) })), 'blockmap.ntfs-data-runs'],
      ['runs shorter than highest VCN', withRecord6(bitmap({ runs: [{ lcn: 20, length: 2 }], rawPairs: encodeRuns([{ lcn: 20, length: 1 }]) })), 'blockmap.ntfs-data-runs'],
      ['bitmap too short', withRecord6(bitmap({ dataSize: 8 })), 'blockmap.ntfs-bitmap'],
      ['compressed bitmap', withRecord6(bitmap({ flags: 0x0001 })), 'blockmap.ntfs-unsupported'],
      ['named $DATA only', withRecord6(bitmap({ name: 'X' })), 'blockmap.ntfs-attribute-missing'],
      ['record 6 not in use', buildNtfsVolume({ ...basic, records: [{ number: 6, inUse: false, attributes: [bitmap({})] }] }), 'blockmap.ntfs-bitmap'],
    ];
    for (const [what, volume, code] of cases) {
      expect(await codeOf(mapOf(volume)), what).toBe(code);
    }
  });

  it('rejects a volume larger than its partition', async () => {
    const volume = buildNtfsVolume(basic);
    expect(await codeOf(mapOf(volume, 1024n * 1024n - 4096n))).toBe('blockmap.volume-exceeds-partition');
  });

  it('leaves the label out when $Volume is damaged, and still maps the volume', async () => {
    const { map } = await mapOf(buildNtfsVolume({ ...basic, patches: [[4 * 4096 + 3 * 1024, new Uint8Array(4)]] }));
    expect(map.label).toBeUndefined();
    expect(map.extents.length).toBe(5);
  });
});

describe('parseNtfsBootSector', () => {
  const good = { bytesPerSector: 512, spcByte: 8, recordByte: 0xf6, totalSectors: 2048n, mftLcn: 4, serial: 1n };

  it('decodes sizes, including negative exponents', () => {
    expect(parseNtfsBootSector(ntfsBootSector(good))).toMatchObject({ clusterSize: 4096, mftRecordSize: 1024, clusterCount: 256n, mftLcn: 4n });
    expect(parseNtfsBootSector(ntfsBootSector({ ...good, spcByte: 0xf4, totalSectors: 1n << 20n })).clusterSize).toBe(2 * 1024 * 1024);
    expect(parseNtfsBootSector(ntfsBootSector({ ...good, recordByte: 0xf4 })).mftRecordSize).toBe(4096);
    expect(parseNtfsBootSector(ntfsBootSector({ ...good, spcByte: 1, recordByte: 2 })).mftRecordSize).toBe(1024);
  });

  it.each([
    ['bytes per sector 0', (b: Uint8Array) => { b[0x0b] = 0; b[0x0c] = 0; }],
    ['bytes per sector 8192', (b: Uint8Array) => { b[0x0b] = 0; b[0x0c] = 0x20; }],
    ['sectors per cluster 3', (b: Uint8Array) => { b[0x0d] = 3; }],
    ['sectors per cluster 0', (b: Uint8Array) => { b[0x0d] = 0; }],
    ['cluster of 4 MiB (0xF3)', (b: Uint8Array) => { b[0x0d] = 0xf3; }],
    ['reserved sectors set', (b: Uint8Array) => { b[0x0e] = 1; }],
    ['32-bit sector count set', (b: Uint8Array) => { b[0x20] = 1; }],
    ['no whole cluster', (b: Uint8Array) => { b.fill(0, 0x28, 0x30); b[0x28] = 7; }],
    ['$MFT past the end', (b: Uint8Array) => { b[0x30] = 0; b[0x31] = 1; }],
    ['record size 0', (b: Uint8Array) => { b[0x40] = 0; }],
    ['record size of 3 clusters', (b: Uint8Array) => { b[0x40] = 3; }],
    ['record size 256 bytes', (b: Uint8Array) => { b[0x40] = 0xf8; }],
    ['record size 128 KiB', (b: Uint8Array) => { b[0x40] = 0xef; }],
    ['OEM id', (b: Uint8Array) => { b[3] = 0x6e; }],
  ])('rejects %s', (_what, mutate) => {
    const sector = ntfsBootSector(good);
    mutate(sector);
    expect(() => parseNtfsBootSector(sector)).toThrow(expect.objectContaining({ code: 'blockmap.ntfs-boot-sector' }));
  });
});

describe('decodeDataRuns', () => {
  it('decodes negative LCN deltas, sparse runs and 8-byte fields', () => {
    const pairs = encodeRuns([{ lcn: 1000, length: 3 }, { lcn: 10, length: 2 }, { lcn: null, length: 5 }, { lcn: 2 ** 40, length: 1 }]);
    expect(decodeDataRuns(pairs, 0n, 10n, 1n << 41n)).toEqual([
      { vcn: 0n, lcn: 1000n, length: 3n },
      { vcn: 3n, lcn: 10n, length: 2n },
      { vcn: 5n, lcn: null, length: 5n },
      { vcn: 10n, lcn: 1n << 40n, length: 1n },
    ]);
  });

  it('rejects zero or negative lengths, LCNs before the volume and truncated runs', () => {
    const bad: Uint8Array[] = [
      Uint8Array.of(0x11, 0, 5, 0),
      Uint8Array.of(0x11, 0xff, 5, 0),
      Uint8Array.of(0x11, 1, 0xfb, 0),
      Uint8Array.of(0x31, 1, 5),
    ];
    for (const pairs of bad) {
      expect(() => decodeDataRuns(pairs, 0n, 0n, 100n)).toThrow(expect.objectContaining({ code: 'blockmap.ntfs-data-runs' }));
    }
  });
});
