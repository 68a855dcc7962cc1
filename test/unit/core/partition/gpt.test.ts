import { describe, expect, it } from 'vitest';
import { crc32 } from '../../../../src/core/partition/crc32.ts';
import {
  encodeGpt, encodeGptHeader, gptLayoutFor, gptTableFromHeader, isValidEntryGeometry, parseGptEntries, parseGptHeader, protectiveMbrForTable,
} from '../../../../src/core/partition/gpt.ts';
import { GPT_TYPE } from '../../../../src/core/partition/guid.ts';
import { makeMbrEntry, parseMbr, protectiveMbrFor } from '../../../../src/core/partition/mbr.ts';
import type { DiskGeometry, GptPartition, GptTable } from '../../../../src/core/partition/types.ts';
import { MiB } from '../../../../src/core/units.ts';
import { thrownCode } from '../../../helpers/error-code.ts';

const geometry = (sizeBytes: bigint, ss: 512 | 4096 = 512): DiskGeometry => ({ sizeBytes, logicalSectorSize: ss, physicalSectorSize: ss });

function table(ss: 512 | 4096, partitions: GptPartition[], extra: Partial<GptTable> = {}): GptTable {
  return {
    style: 'gpt', sectorSize: ss, diskGuid: '11111111-2222-3333-4444-555555555555',
    firstUsableLba: ss === 512 ? 34n : 6n, lastUsableLba: 0n, numberOfEntries: 128, sizeOfEntry: 128, partitions, ...extra,
  };
}

const esp: GptPartition = {
  number: 1, typeGuid: GPT_TYPE.efiSystem, uniqueGuid: 'aaaaaaaa-bbbb-cccc-dddd-000000000001', firstLba: 2048n, lastLba: 4095n,
  attributes: 0n, name: 'EFI system partition',
};
const recovery: GptPartition = {
  number: 4, typeGuid: GPT_TYPE.windowsRecovery, uniqueGuid: 'aaaaaaaa-bbbb-cccc-dddd-000000000004', firstLba: 4096n, lastLba: 8191n,
  attributes: 0x8000000000000001n, name: 'Recovery ü😀',
};


describe('GPT layout', () => {
  it('matches the reference placement for 512 and 4096-byte sectors', () => {
    const l512 = gptLayoutFor(geometry(64n * MiB), 128, 128);
    expect(l512).toMatchObject({ lastLba: 131071n, entrySectors: 32n, minFirstUsableLba: 34n, maxLastUsableLba: 131038n, backupEntriesLba: 131039n, backupHeaderLba: 131071n });
    const l4k = gptLayoutFor(geometry(64n * MiB, 4096), 128, 128);
    expect(l4k).toMatchObject({ lastLba: 16383n, entrySectors: 4n, minFirstUsableLba: 6n, maxLastUsableLba: 16378n, backupEntriesLba: 16379n });
  });

  it('accepts entry sizes of 128 × 2^n only, and bounded arrays', () => {
    expect(isValidEntryGeometry(128, 128)).toBe(true);
    expect(isValidEntryGeometry(64, 256)).toBe(true);
    expect(isValidEntryGeometry(128, 384)).toBe(false);
    expect(isValidEntryGeometry(128, 64)).toBe(false);
    expect(isValidEntryGeometry(0, 128)).toBe(false);
    expect(isValidEntryGeometry(0xffffffff, 128)).toBe(false);
  });
});

describe('GPT header', () => {
  const fields = {
    myLba: 1n, alternateLba: 131071n, firstUsableLba: 34n, lastUsableLba: 131038n, diskGuid: '11111111-2222-3333-4444-555555555555',
    partitionEntryLba: 2n, numberOfEntries: 128, sizeOfEntry: 128, entryArrayCrc32: 0xab54d286,
  };

  it.each([512, 4096] as const)('encodes and parses back every field (%i-byte sector)', (ss) => {
    const sector = encodeGptHeader(fields, ss);
    expect(sector.length).toBe(ss);
    expect(new TextDecoder().decode(sector.subarray(0, 8))).toBe('EFI PART');
    expect(sector.subarray(92).every((b) => b === 0)).toBe(true);
    const header = parseGptHeader(sector)!;
    expect(header).toMatchObject({ ...fields, signatureValid: true, revision: 0x10000, headerSize: 92, headerCrcValid: true, entryArrayCrcValid: false });
  });

  it('computes the header CRC over 92 bytes with the CRC field zeroed', () => {
    const sector = encodeGptHeader(fields, 512);
    const copy = sector.slice(0, 92);
    copy.fill(0, 16, 20);
    expect(parseGptHeader(sector)!.headerCrc32).toBe(crc32(copy));
  });

  it('returns undefined without the signature and flags, rather than throws on, a bad CRC', () => {
    expect(parseGptHeader(new Uint8Array(512))).toBeUndefined();
    const sector = encodeGptHeader(fields, 512);
    sector[40] = sector[40]! ^ 1;
    const header = parseGptHeader(sector)!;
    expect(header.headerCrcValid).toBe(false);
    expect(header.firstUsableLba).toBe(35n);
  });

  it('treats an impossible header size as a CRC failure', () => {
    for (const size of [0, 91, 513, 0xffffffff]) {
      const sector = encodeGptHeader(fields, 512);
      new DataView(sector.buffer).setUint32(12, size, true);
      expect(parseGptHeader(sector)!.headerCrcValid).toBe(false);
    }
  });

  it('checks the entry array CRC when given the array, and not past its end', () => {
    const array = new Uint8Array(128 * 128);
    const sector = encodeGptHeader({ ...fields, entryArrayCrc32: crc32(array) }, 512);
    expect(parseGptHeader(sector, array)!.entryArrayCrcValid).toBe(true);
    expect(parseGptHeader(sector, array.subarray(0, 1000))!.entryArrayCrcValid).toBe(false);
    array[5] = 1;
    expect(parseGptHeader(sector, array)!.entryArrayCrcValid).toBe(false);
  });

  it('refuses a buffer shorter than 512 bytes', () => {
    expect(thrownCode(() => parseGptHeader(new Uint8Array(92)))).toBe('partition.short-sector');
  });
});

describe('GPT entries', () => {
  it('round-trips names (UTF-16 incl. surrogate pairs), attributes and slot numbers', () => {
    const t = table(512, [esp, recovery]);
    const { entries } = encodeGpt(t, geometry(64n * MiB));
    expect(parseGptEntries(entries, t)).toEqual([esp, recovery]);
  });

  it('decodes a name of exactly 36 units without a terminator and stops at the first NUL', () => {
    const long = 'x'.repeat(36);
    const t = table(512, [{ ...esp, name: long }]);
    const { entries } = encodeGpt(t, geometry(64n * MiB));
    expect(parseGptEntries(entries, t)[0]!.name).toBe(long);
    entries[56 + 2 * 5] = 0;
    entries[56 + 2 * 5 + 1] = 0;
    expect(parseGptEntries(entries, t)[0]!.name).toBe('xxxxx');
  });

  it('keeps a lone surrogate code unit as is', () => {
    const t = table(512, [{ ...esp, name: 'a\ud800b' }]);
    const { entries } = encodeGpt(t, geometry(64n * MiB));
    expect(parseGptEntries(entries, t)[0]!.name).toBe('a\ud800b');
  });

  it('reads larger entry sizes and never past the array', () => {
    const t = table(512, [esp, { ...recovery, number: 3 }], { numberOfEntries: 64, sizeOfEntry: 256 });
    const { entries } = encodeGpt(t, geometry(64n * MiB));
    expect(parseGptEntries(entries, t).map((p) => p.number)).toEqual([1, 3]);
    // Slot 3 spans bytes 512–767: a 700-byte array holds only slots 1 and 2.
    expect(parseGptEntries(entries.subarray(0, 700), t).map((p) => p.number)).toEqual([1]);
    expect(parseGptEntries(entries.subarray(0, 768), { numberOfEntries: 1_000_000, sizeOfEntry: 256 }).map((p) => p.number)).toEqual([1, 3]);
    expect(parseGptEntries(entries, { numberOfEntries: 128, sizeOfEntry: 64 })).toEqual([]);
  });
});

describe('encodeGpt', () => {
  it('lays out both copies, with identical entry CRCs and mirrored header LBAs', () => {
    const g = geometry(64n * MiB);
    const enc = encodeGpt(table(512, [esp, recovery]), g);
    expect([enc.primaryEntriesLba, enc.backupEntriesLba, enc.backupHeaderLba, enc.lastUsableLba]).toEqual([2n, 131039n, 131071n, 131038n]);
    expect(enc.entries.length).toBe(32 * 512);
    const primary = parseGptHeader(enc.primaryHeader, enc.entries)!;
    const backup = parseGptHeader(enc.backupHeader, enc.entries)!;
    expect(primary).toMatchObject({ myLba: 1n, alternateLba: 131071n, partitionEntryLba: 2n, headerCrcValid: true, entryArrayCrcValid: true });
    expect(backup).toMatchObject({ myLba: 131071n, alternateLba: 1n, partitionEntryLba: 131039n, headerCrcValid: true, entryArrayCrcValid: true });
    expect(backup.entryArrayCrc32).toBe(primary.entryArrayCrc32);
    expect(gptTableFromHeader(primary, parseGptEntries(enc.entries, primary), 512)).toEqual({ ...table(512, [esp, recovery]), lastUsableLba: 131038n });
  });

  it('on a 4Kn disk writes 4096-byte sectors and a 4-sector array', () => {
    const enc = encodeGpt(table(4096, [esp]), geometry(64n * MiB, 4096));
    expect(enc.protectiveMbr.length).toBe(4096);
    expect(enc.primaryHeader.length).toBe(4096);
    expect(enc.entries.length).toBe(4 * 4096);
    expect(enc.backupEntriesLba).toBe(16379n);
    expect(parseMbr(enc.protectiveMbr).primary[0]).toMatchObject({ type: 0xee, startLba: 1n, sectorCount: 16383n });
  });

  it('moves the backup and LastUsableLBA to the end of a larger target', () => {
    const source = { ...table(512, [esp]), lastUsableLba: 65502n };
    const enc = encodeGpt(source, geometry(128n * MiB));
    expect(enc.backupHeaderLba).toBe(262143n);
    expect(parseGptHeader(enc.primaryHeader)!.lastUsableLba).toBe(262110n);
    expect(parseGptHeader(enc.backupHeader)!.myLba).toBe(262143n);
  });

  it('refuses what it cannot represent', () => {
    const g = geometry(64n * MiB);
    expect(thrownCode(() => encodeGpt(table(4096, [esp]), g))).toBe('gpt.sector-size-mismatch');
    expect(thrownCode(() => encodeGpt(table(512, [esp, esp]), g))).toBe('gpt.bad-slot');
    expect(thrownCode(() => encodeGpt(table(512, [{ ...esp, number: 129 }]), g))).toBe('gpt.bad-slot');
    expect(thrownCode(() => encodeGpt(table(512, [{ ...esp, name: 'y'.repeat(37) }]), g))).toBe('gpt.name-too-long');
    expect(thrownCode(() => encodeGpt(table(512, [{ ...esp, typeGuid: 'nope' }]), g))).toBe('guid.invalid');
    expect(thrownCode(() => encodeGpt(table(512, [{ ...esp, firstLba: -1n }]), g))).toBe('gpt.lba-overflow');
    expect(thrownCode(() => encodeGpt(table(512, [], { sizeOfEntry: 100 }), g))).toBe('gpt.entry-geometry');
    expect(thrownCode(() => encodeGpt(table(512, []), geometry(32n * 512n)))).toBe('gpt.disk-too-small');
  });
});

describe('protective MBR for a GPT table', () => {
  const small = geometry(32n * MiB);
  const large = geometry(64n * MiB);

  it('writes a fresh one when none was read', () => {
    expect(protectiveMbrForTable(table(512, []), large)).toEqual(protectiveMbrFor(large));
  });

  it('keeps a read one unchanged when it fits, and resizes only its 0xEE entry otherwise', () => {
    const read = { ...protectiveMbrFor(small, new Uint8Array(440).fill(0xeb)), diskSignature: 0xdeadbeef };
    expect(protectiveMbrForTable(table(512, [], { protectiveMbr: read }), small)).toEqual(read);
    const grown = protectiveMbrForTable(table(512, [], { protectiveMbr: read }), large);
    expect(grown.primary[0]).toMatchObject({ startLba: 1n, sectorCount: 131071n });
    expect(grown.bootCode).toEqual(read.bootCode);
    expect(grown.diskSignature).toBe(0xdeadbeef);
  });

  it('keeps a hybrid MBR and replaces a non-protective one', () => {
    const pmbr = protectiveMbrFor(small);
    const hybrid = { ...pmbr, primary: [pmbr.primary[0]!, makeMbrEntry({ number: 2, type: 0x07, startLba: 2048n, sectorCount: 100n })] };
    expect(protectiveMbrForTable(table(512, [], { protectiveMbr: hybrid }), large)).toBe(hybrid);
    const plain = { ...pmbr, primary: [makeMbrEntry({ number: 1, type: 0x07, startLba: 2048n, sectorCount: 100n })], diskSignature: 7 };
    const replaced = protectiveMbrForTable(table(512, [], { protectiveMbr: plain }), large);
    expect(replaced.primary[0]).toMatchObject({ type: 0xee, sectorCount: 131071n });
    expect(replaced.diskSignature).toBe(7);
  });
});
