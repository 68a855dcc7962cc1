import { describe, expect, it } from 'vitest';
import {
  chsFor, emptyMbrEntry, encodeEbrChain, encodeMbr, isHybridMbr, isProtectiveMbr, makeMbrEntry, parseEbr, parseMbr, protectiveMbrFor,
} from '../../../../src/core/partition/mbr.ts';
import type { MbrTable } from '../../../../src/core/partition/types.ts';
import { GiB, MiB } from '../../../../src/core/units.ts';
import { thrownCode } from '../../../helpers/error-code.ts';

const hexBytes = (text: string): Uint8Array => Uint8Array.from(text.split(/\s+/).filter(Boolean), (b) => parseInt(b, 16));

/** LBA 0 as `sfdisk` wrote it (label-id 0x1234abcd; 1: NTFS active; 2: extended), see partition-interop tests. */
function sfdiskSector0(): Uint8Array {
  const s = new Uint8Array(512);
  s.set(hexBytes('cd ab 34 12 00 00'), 440);
  s.set(hexBytes('80 20 21 00 07 a2 22 00 00 08 00 00 00 20 00 00'), 446);
  s.set(hexBytes('00 a2 23 00 05 2f 2c 03 00 28 00 00 00 a0 00 00'), 462);
  s.set([0x55, 0xaa], 510);
  return s;
}


describe('parseMbr', () => {
  it('decodes signature, entries and the active flag of a real sfdisk sector', () => {
    const mbr = parseMbr(sfdiskSector0());
    expect(mbr.diskSignature).toBe(0x1234abcd);
    expect(mbr.bootSignatureValid).toBe(true);
    expect(mbr.primary.map((e) => [e.number, e.status, e.type, e.startLba, e.sectorCount])).toEqual([
      [1, 0x80, 0x07, 2048n, 8192n],
      [2, 0x00, 0x05, 10240n, 40960n],
      [3, 0, 0, 0n, 0n],
      [4, 0, 0, 0n, 0n],
    ]);
    expect(Array.from(mbr.primary[0]!.chsStart)).toEqual([0x20, 0x21, 0x00]);
    expect(mbr.logical).toEqual([]);
  });

  it('keeps the 440 boot-code bytes and re-encodes the sector byte-for-byte', () => {
    const sector = sfdiskSector0();
    for (let i = 0; i < 440; i++) sector[i] = (i * 7 + 3) & 0xff;
    sector[444] = 0x5a;
    sector[445] = 0x5a;
    const mbr = parseMbr(sector);
    expect(mbr.bootCode).toEqual(sector.subarray(0, 440));
    expect(mbr.reserved).toBe(0x5a5a);
    expect(encodeMbr(mbr)).toEqual(sector);
  });

  it('reports a missing 0x55AA without throwing, and reads only the first 512 bytes of a 4 KiB sector', () => {
    const sector = new Uint8Array(4096);
    sector.set(sfdiskSector0());
    sector[511] = 0;
    expect(parseMbr(sector).bootSignatureValid).toBe(false);
    expect(parseMbr(sector).diskSignature).toBe(0x1234abcd);
  });

  it('refuses a buffer shorter than 512 bytes with a RecoveryError', () => {
    expect(thrownCode(() => parseMbr(new Uint8Array(511)))).toBe('partition.short-sector');
  });
});

describe('encodeMbr', () => {
  const base = parseMbr(sfdiskSector0());

  it('places entries by number, writes 0x55AA and derives nothing it was not given', () => {
    const table: MbrTable = { ...base, primary: [makeMbrEntry({ number: 4, type: 0x07, startLba: 63n, sectorCount: 1000n })], bootSignatureValid: false };
    const bytes = encodeMbr(table);
    expect(bytes.length).toBe(512);
    expect([bytes[510], bytes[511]]).toEqual([0x55, 0xaa]);
    expect(bytes.subarray(446, 494).every((b) => b === 0)).toBe(true);
    expect(parseMbr(bytes).primary[3]).toMatchObject({ type: 0x07, startLba: 63n, sectorCount: 1000n });
  });

  it('refuses values the 32-bit fields cannot hold and bad slot numbers', () => {
    const big = makeMbrEntry({ number: 1, type: 7, startLba: 1n << 32n, sectorCount: 1n });
    expect(thrownCode(() => encodeMbr({ ...base, primary: [big] }))).toBe('mbr.lba-overflow');
    const dup = makeMbrEntry({ number: 1, type: 7, startLba: 2048n, sectorCount: 1n });
    expect(thrownCode(() => encodeMbr({ ...base, primary: [dup, dup] }))).toBe('mbr.bad-slot');
    expect(thrownCode(() => encodeMbr({ ...base, primary: [{ ...dup, number: 5 }] }))).toBe('mbr.bad-slot');
  });
});

describe('chsFor', () => {
  it('matches what sfdisk writes (255 heads, 63 sectors) and caps past cylinder 1023', () => {
    expect(Array.from(chsFor(2048n))).toEqual([0x20, 0x21, 0x00]);
    expect(Array.from(chsFor(10239n))).toEqual([0xa2, 0x22, 0x00]);
    expect(Array.from(chsFor(16384n))).toEqual([0x05, 0x05, 0x01]);
    expect(Array.from(chsFor(0n))).toEqual([0, 1, 0]);
    expect(Array.from(chsFor(1024n * 255n * 63n))).toEqual([0xfe, 0xff, 0xff]);
    // Cylinder 1023, head 254, sector 63: the last addressable CHS.
    expect(Array.from(chsFor(1024n * 255n * 63n - 1n))).toEqual([0xfe, 0xff, 0xff]);
  });
});

describe('EBR chains', () => {
  const extended = makeMbrEntry({ number: 2, type: 0x05, startLba: 10240n, sectorCount: 40960n });
  const table: MbrTable = {
    ...parseMbr(sfdiskSector0()),
    primary: [makeMbrEntry({ number: 1, type: 7, startLba: 2048n, sectorCount: 8192n }), extended, emptyMbrEntry(3), emptyMbrEntry(4)],
    logical: [
      makeMbrEntry({ number: 5, type: 0x83, startLba: 12288n, sectorCount: 4096n }),
      makeMbrEntry({ number: 6, type: 0x0c, startLba: 18432n, sectorCount: 4096n }),
    ],
    ebrLbas: [10240n, 16384n],
  };

  it('writes EBR-relative starts and extended-relative links, as sfdisk does', () => {
    const chain = encodeEbrChain(table);
    expect(chain.map((e) => e.lba)).toEqual([10240n, 16384n]);
    // Bytes sfdisk wrote for the same layout (partition-interop checks the whole sector against sfdisk).
    expect(chain[0]!.sector.subarray(446, 478)).toEqual(hexBytes(`
      00 c3 04 00 83 05 04 01 00 08 00 00 00 10 00 00
      00 05 05 01 05 66 25 01 00 18 00 00 00 18 00 00`));
    expect(chain[1]!.sector.subarray(462, 478).every((b) => b === 0)).toBe(true);
  });

  it('parses what it encodes into absolute LBAs and the next link', () => {
    const [first, second] = encodeEbrChain(table);
    const a = parseEbr(first!.sector, 10240n, 10240n, 5);
    expect(a.logical).toMatchObject({ number: 5, type: 0x83, startLba: 12288n, sectorCount: 4096n });
    expect(a.nextEbrLba).toBe(16384n);
    const b = parseEbr(second!.sector, 16384n, 10240n, 6);
    expect(b.logical).toMatchObject({ number: 6, startLba: 18432n });
    expect(b.nextEbrLba).toBeUndefined();
    expect(b.extraEntries).toBe(false);
  });

  it('takes the first data and first link entry whatever their slots, flagging extras', () => {
    const sector = new Uint8Array(512);
    sector.set([0x55, 0xaa], 510);
    const put = (slot: number, type: number, start: number, size: number): void => {
      const v = new DataView(sector.buffer, 446 + slot * 16);
      v.setUint8(4, type);
      v.setUint32(8, start, true);
      v.setUint32(12, size, true);
    };
    put(0, 0x05, 100, 50);
    put(1, 0x07, 10, 20);
    put(2, 0x0f, 300, 50);
    const ebr = parseEbr(sector, 1000n, 500n, 5);
    expect(ebr.logical).toMatchObject({ type: 0x07, startLba: 1010n, sectorCount: 20n });
    expect(ebr.nextEbrLba).toBe(600n);
    expect(ebr.extraEntries).toBe(true);
  });

  it('writes one empty EBR for an extended partition without logical partitions', () => {
    const chain = encodeEbrChain({ ...table, logical: [], ebrLbas: [] });
    expect(chain).toHaveLength(1);
    expect(chain[0]!.lba).toBe(10240n);
    expect(parseEbr(chain[0]!.sector, 10240n, 10240n, 5)).toEqual({ bootSignatureValid: true, extraEntries: false });
  });

  it('places missing EBR positions at the extended start and just before each later logical', () => {
    expect(encodeEbrChain({ ...table, ebrLbas: [] }).map((e) => e.lba)).toEqual([10240n, 18431n]);
  });
});

describe('protective MBR', () => {
  const geometry = (sizeBytes: bigint, ss: 512 | 4096 = 512) => ({ sizeBytes, logicalSectorSize: ss, physicalSectorSize: ss });

  it('covers the disk after LBA 0 with one 0xEE entry', () => {
    const pmbr = protectiveMbrFor(geometry(64n * MiB));
    expect(isProtectiveMbr(pmbr)).toBe(true);
    expect(isHybridMbr(pmbr)).toBe(false);
    expect(pmbr.primary[0]).toMatchObject({ status: 0, type: 0xee, startLba: 1n, sectorCount: 131071n });
    expect(Array.from(pmbr.primary[0]!.chsStart)).toEqual([0x00, 0x02, 0x00]);
    expect(pmbr.primary.slice(1).every((e) => e.type === 0)).toBe(true);
  });

  it('caps the size at 0xFFFFFFFF on disks past 2 TiB and counts 4 KiB sectors on 4Kn', () => {
    expect(protectiveMbrFor(geometry(4096n * GiB)).primary[0]!.sectorCount).toBe(0xffffffffn);
    expect(protectiveMbrFor(geometry(64n * MiB, 4096)).primary[0]!.sectorCount).toBe(16383n);
  });

  it('keeps a boot loader when asked', () => {
    const code = new Uint8Array(440).fill(0xeb);
    expect(protectiveMbrFor(geometry(64n * MiB), code).bootCode).toEqual(code);
    expect(protectiveMbrFor(geometry(64n * MiB)).bootCode.every((b) => b === 0)).toBe(true);
  });

  it('tells hybrid MBRs from plain ones', () => {
    const pmbr = protectiveMbrFor(geometry(64n * MiB));
    const hybrid = { ...pmbr, primary: [pmbr.primary[0]!, makeMbrEntry({ number: 2, type: 0x07, startLba: 2048n, sectorCount: 100n })] };
    expect(isHybridMbr(hybrid)).toBe(true);
    expect(isProtectiveMbr(parseMbr(sfdiskSector0()))).toBe(false);
  });
});
