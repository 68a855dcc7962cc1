import { describe, expect, it } from 'vitest';
import { encodeGpt, gptTableFromHeader, parseGptEntries, parseGptHeader } from '../../../../src/core/partition/gpt.ts';
import { GPT_TYPE } from '../../../../src/core/partition/guid.ts';
import { emptyMbrEntry, makeMbrEntry, protectiveMbrFor } from '../../../../src/core/partition/mbr.ts';
import type { DiskGeometry, GptDisk, GptHeader, GptPartition, GptTable, MbrTable, Problem } from '../../../../src/core/partition/types.ts';
import { verifyGpt, verifyGptTable, verifyMbr } from '../../../../src/core/partition/verify.ts';
import { MiB } from '../../../../src/core/units.ts';

const g512: DiskGeometry = { sizeBytes: 64n * MiB, logicalSectorSize: 512, physicalSectorSize: 512 };
const g512e: DiskGeometry = { ...g512, physicalSectorSize: 4096 };
const LAST = 131071n;

const codes = (problems: readonly Problem[]): string[] => problems.map((p) => `${p.code}:${p.severity}`).sort();

// ---------------------------------------------------------------- MBR

const mbr = (primary: MbrTable['primary'], extra: Partial<MbrTable> = {}): MbrTable => ({
  style: 'mbr', bootCode: new Uint8Array(440), diskSignature: 0x1234abcd, reserved: 0, primary, logical: [], ebrLbas: [], bootSignatureValid: true, ...extra,
});
const part = (number: number, startLba: bigint, sectorCount: bigint, type = 0x07, status = 0) => makeMbrEntry({ number, type, startLba, sectorCount, status });

describe('verifyMbr', () => {
  it('finds nothing wrong with a sound table including logical partitions', () => {
    const t = mbr([part(1, 2048n, 2048n, 0x07, 0x80), part(2, 4096n, 8192n, 0x0f), emptyMbrEntry(3), emptyMbrEntry(4)], {
      logical: [part(5, 6144n, 1024n), part(6, 8192n, 1024n)], ebrLbas: [4096n, 7168n],
    });
    expect(verifyMbr(t, g512)).toEqual([]);
  });

  it('reports every problem at once: signature, overlap, bounds, actives, status, LBA 0', () => {
    const t = mbr([part(1, 2048n, 4096n, 0x07, 0x80), part(2, 4000n, 100n, 0x07, 0x80), part(3, 131000n, 100n, 0x0c, 0x12), part(4, 0n, 10n)], {
      bootSignatureValid: false,
    });
    expect(codes(verifyMbr(t, g512))).toEqual([
      'mbr.bad-status:error', 'mbr.boot-signature:error', 'mbr.multiple-active:error', 'mbr.out-of-bounds:error',
      'mbr.overlap:error', 'mbr.overlaps-mbr:error',
    ]);
  });

  it('checks logical partitions against the extended partition and their EBRs', () => {
    const ext = part(2, 4096n, 8192n, 0x05);
    const t = mbr([part(1, 2048n, 2048n), ext, emptyMbrEntry(3), emptyMbrEntry(4)], {
      logical: [part(5, 6144n, 1024n), part(6, 12000n, 1000n), part(7, 6500n, 100n)], ebrLbas: [4100n, 11999n, 6400n],
    });
    expect(codes(verifyMbr(t, g512))).toEqual([
      'mbr.ebr-inside-partition:error', 'mbr.ebr-position:error', 'mbr.logical-outside-extended:error', 'mbr.overlap:error',
    ]);
    expect(codes(verifyMbr({ ...t, primary: [part(1, 2048n, 2048n)] }, g512))).toContain('mbr.logical-without-extended:error');
    expect(codes(verifyMbr({ ...t, ebrLbas: [4096n] }, g512))).toContain('mbr.ebr-count:error');
  });

  it('counts a primary reaching into the extended partition as an overlap, but not the logicals inside it', () => {
    const ext = part(2, 4096n, 8192n, 0x05);
    const t = mbr([part(1, 2048n, 2049n), ext, emptyMbrEntry(3), emptyMbrEntry(4)], { logical: [part(5, 6144n, 1024n)], ebrLbas: [4096n] });
    const problems = verifyMbr(t, g512);
    // Partition 1 ends on LBA 4096, the first EBR: both facts are reported.
    expect(codes(problems)).toEqual(['mbr.ebr-inside-partition:error', 'mbr.overlap:error']);
    expect(problems.find((x) => x.code === 'mbr.overlap')!.data).toEqual({ a: 'partition 1', b: 'partition 2' });
  });

  it('flags two extended partitions, 32-bit overflow, empty sizes, 0xEE and misalignment', () => {
    const big: DiskGeometry = { ...g512e, sizeBytes: 4n << 40n };
    const t = mbr([part(1, 2048n, 8n, 0x05), part(2, 4096n, 8n, 0x0f), part(3, 1n << 32n, 100n), part(4, 8193n, 0n)]);
    expect(codes(verifyMbr(t, big))).toEqual([
      'mbr.empty-size:warning', 'mbr.lba-overflow:error', 'mbr.multiple-extended:error',
    ]);
    expect(codes(verifyMbr(mbr([part(1, 63n, 100n)]), g512e))).toEqual(['mbr.misaligned:warning']);
    expect(codes(verifyMbr(protectiveMbrFor(g512), g512))).toEqual(['mbr.gpt-protective:warning']);
  });
});

// ---------------------------------------------------------------- GPT

const p = (number: number, firstLba: bigint, lastLba: bigint, extra: Partial<GptPartition> = {}): GptPartition => ({
  number, typeGuid: GPT_TYPE.basicData, uniqueGuid: `00000000-0000-0000-0000-${String(number).padStart(12, '0')}`, firstLba, lastLba,
  attributes: 0n, name: `p${number}`, ...extra,
});
const gptTable = (partitions: GptPartition[], extra: Partial<GptTable> = {}): GptTable => ({
  style: 'gpt', sectorSize: 512, diskGuid: '11111111-2222-3333-4444-555555555555', firstUsableLba: 34n, lastUsableLba: 131038n,
  numberOfEntries: 128, sizeOfEntry: 128, partitions, protectiveMbr: protectiveMbrFor(g512), ...extra,
});

/** Both headers as read from a disk our encoder wrote, for mutating. */
function headers(t: GptTable): { primary: GptHeader; backup: GptHeader } {
  const enc = encodeGpt(t, g512);
  return { primary: parseGptHeader(enc.primaryHeader, enc.entries)!, backup: parseGptHeader(enc.backupHeader, enc.entries)! };
}

function disk(t: GptTable, change: Partial<GptDisk> = {}): GptDisk {
  const { primary, backup } = headers(t);
  return { primaryHeader: primary, backupHeader: backup, table: t, source: 'primary', ...change };
}

describe('verifyGpt', () => {
  const sound = gptTable([p(1, 2048n, 4095n), p(2, 4096n, 131038n)]);

  it('finds nothing wrong with a freshly encoded disk', () => {
    expect(verifyGpt(disk(sound), g512)).toEqual([]);
    const enc = encodeGpt(sound, g512);
    const h = parseGptHeader(enc.primaryHeader, enc.entries)!;
    expect(gptTableFromHeader(h, parseGptEntries(enc.entries, h), 512, sound.protectiveMbr)).toEqual(sound);
  });

  it('reports a bad primary header CRC as a warning when the backup is in use', () => {
    const { primary } = headers(sound);
    const d = disk(sound, { primaryHeader: { ...primary, headerCrcValid: false }, source: 'backup' });
    expect(codes(verifyGpt(d, g512))).toEqual(['gpt.header-crc:warning', 'gpt.using-backup:warning']);
    expect(verifyGpt(d, g512).find((x) => x.code === 'gpt.header-crc')!.data).toEqual({ copy: 'primary' });
  });

  it('reports a bad array CRC, and both copies bad as errors with no table', () => {
    const { primary, backup } = headers(sound);
    const badArray = { ...primary, entryArrayCrcValid: false };
    expect(codes(verifyGpt(disk(sound, { primaryHeader: badArray, source: 'backup' }), g512))).toEqual(['gpt.array-crc:warning', 'gpt.using-backup:warning']);
    const none: GptDisk = { primaryHeader: badArray, backupHeader: { ...backup, headerCrcValid: false } };
    expect(codes(verifyGpt(none, g512))).toEqual(['gpt.array-crc:error', 'gpt.header-crc:error', 'gpt.no-valid-header:error']);
  });

  it('reports a missing backup, a backup away from the end and headers pointing elsewhere', () => {
    expect(codes(verifyGpt(disk(sound, { backupHeader: undefined }), g512))).toEqual(['gpt.backup-missing:warning']);
    // A disk grown from 32 to 64 MiB: both copies still describe the small disk.
    const g32 = { ...g512, sizeBytes: 32n * MiB };
    const small = gptTable([p(1, 2048n, 4095n)], { lastUsableLba: 65502n, protectiveMbr: protectiveMbrFor(g32) });
    const enc = encodeGpt(small, g32);
    const grown: GptDisk = {
      primaryHeader: parseGptHeader(enc.primaryHeader, enc.entries)!, backupHeader: parseGptHeader(enc.backupHeader, enc.entries)!, table: small, source: 'primary',
    };
    expect(codes(verifyGpt(grown, g512))).toEqual(['gpt.alternate-lba:warning', 'gpt.backup-not-at-end:warning', 'gpt.pmbr-size:warning']);
    expect(codes(verifyGpt(disk(sound, { primaryHeader: undefined, source: 'backup' }), g512))).toEqual(['gpt.primary-missing:warning', 'gpt.using-backup:warning']);
  });

  it('reports copies that disagree, with the fields named', () => {
    const { backup } = headers(sound);
    const problems = verifyGpt(disk(sound, { backupHeader: { ...backup, diskGuid: '99999999-2222-3333-4444-555555555555', entryArrayCrc32: 1 } }), g512);
    expect(problems.find((x) => x.code === 'gpt.copies-differ')!.data).toEqual({ fields: ['diskGuid', 'entryArrayCrc32'] });
  });

  it('rejects structurally impossible headers', () => {
    const { primary, backup } = headers(sound);
    const cases: [Partial<GptHeader>, string][] = [
      [{ myLba: 5n }, 'gpt.header-lba'],
      [{ headerSize: 600 }, 'gpt.header-size'],
      [{ sizeOfEntry: 96 }, 'gpt.entry-geometry'],
      [{ partitionEntryLba: 20n }, 'gpt.entry-lba'],
      [{ partitionEntryLba: LAST }, 'gpt.entry-lba'],
      [{ firstUsableLba: 200000n }, 'gpt.usable-range'],
    ];
    for (const [change, code] of cases) {
      const got = codes(verifyGpt({ primaryHeader: { ...primary, ...change }, backupHeader: backup, table: sound, source: 'backup' }, g512));
      expect(got, code).toContain(`${code}:warning`);
    }
    expect(codes(verifyGpt(disk(sound, { primaryHeader: { ...primary, revision: 0x20000 } }), g512))).toEqual(['gpt.revision:warning']);
  });
});

describe('verifyGptTable', () => {
  it('reports overlap, out of bounds, outside usable range, inverted ranges and bad slots together', () => {
    const t = gptTable([
      p(1, 2048n, 10000n), p(2, 8000n, 12000n), p(3, 11000n, 11500n), p(4, 131030n, 131050n), p(5, 20n, 100n),
      p(6, 200000n, 200100n), p(7, 5000n, 4000n), p(129, 30000n, 30010n), p(9, 40000n, 40010n), p(9, 50000n, 50010n),
    ]);
    expect(codes(verifyGptTable(t, g512))).toEqual([
      'gpt.bad-slot:error', 'gpt.bad-slot:error', 'gpt.duplicate-guid:warning', 'gpt.out-of-bounds:error', 'gpt.outside-usable:error', 'gpt.outside-usable:error',
      'gpt.overlap:error', 'gpt.overlap:error', 'gpt.partition-range:error',
    ]);
    const overlaps = verifyGptTable(t, g512).filter((x) => x.code === 'gpt.overlap').map((x) => x.data);
    expect(overlaps).toEqual([{ a: 'partition 1', b: 'partition 2' }, { a: 'partition 2', b: 'partition 3' }]);
  });

  it('checks the usable range against the arrays and the disk size', () => {
    expect(codes(verifyGptTable(gptTable([], { firstUsableLba: 33n }), g512))).toEqual(['gpt.first-usable:error']);
    expect(codes(verifyGptTable(gptTable([], { lastUsableLba: 131039n }), g512))).toEqual(['gpt.last-usable:error']);
    expect(codes(verifyGptTable(gptTable([], { firstUsableLba: 5000n, lastUsableLba: 4000n }), g512))).toEqual(['gpt.usable-range:error']);
    expect(codes(verifyGptTable(gptTable([], { sectorSize: 4096 }), g512))).toContain('gpt.sector-size-mismatch:error');
    expect(codes(verifyGptTable(gptTable([], { numberOfEntries: 0 }), g512))).toEqual(['gpt.entry-geometry:error']);
  });

  it('warns about identity and protective-MBR oddities without refusing the table', () => {
    const zero = '00000000-0000-0000-0000-000000000000';
    const pmbr = protectiveMbrFor(g512);
    const small = { ...pmbr, primary: [{ ...pmbr.primary[0]!, sectorCount: 1000n }] };
    const hybrid = { ...pmbr, primary: [pmbr.primary[0]!, makeMbrEntry({ number: 2, type: 7, startLba: 2048n, sectorCount: 8n })] };
    const t = gptTable([p(1, 2048n, 4095n, { uniqueGuid: zero })], { diskGuid: zero, protectiveMbr: small });
    expect(codes(verifyGptTable(t, g512))).toEqual(['gpt.pmbr-size:warning', 'gpt.zero-guid:warning', 'gpt.zero-guid:warning']);
    expect(codes(verifyGptTable(gptTable([], { protectiveMbr: hybrid }), g512))).toEqual(['gpt.pmbr-hybrid:warning']);
    expect(codes(verifyGptTable(gptTable([], { protectiveMbr: mbr([part(1, 2048n, 8n)], { bootSignatureValid: false }) }), g512))).toEqual([
      'gpt.pmbr-missing:warning', 'gpt.pmbr-signature:warning',
    ]);
    expect(codes(verifyGptTable(gptTable([p(1, 2049n, 4095n)]), g512e))).toEqual(['gpt.misaligned:warning']);
  });
});
