import { describe, expect, it } from 'vitest';
import { GPT_TYPE } from '../../../../src/core/partition/guid.ts';
import { emptyMbrEntry, makeMbrEntry } from '../../../../src/core/partition/mbr.ts';
import { gptTypeName, mbrTypeName, summarizePartitions } from '../../../../src/core/partition/summary.ts';
import type { GptTable, MbrTable } from '../../../../src/core/partition/types.ts';

const mbr: MbrTable = {
  style: 'mbr', bootCode: new Uint8Array(440), diskSignature: 1, reserved: 0,
  primary: [
    makeMbrEntry({ number: 1, type: 0x07, startLba: 2048n, sectorCount: 1000n, status: 0x80 }),
    makeMbrEntry({ number: 2, type: 0x0f, startLba: 4096n, sectorCount: 8192n }),
    emptyMbrEntry(3),
    makeMbrEntry({ number: 4, type: 0x42, startLba: 20000n, sectorCount: 10n }),
  ],
  logical: [makeMbrEntry({ number: 5, type: 0x27, startLba: 6144n, sectorCount: 100n })],
  ebrLbas: [4096n],
  bootSignatureValid: true,
};

const gpt: GptTable = {
  style: 'gpt', sectorSize: 512, diskGuid: '11111111-2222-3333-4444-555555555555', firstUsableLba: 34n, lastUsableLba: 131038n,
  numberOfEntries: 128, sizeOfEntry: 128,
  partitions: [
    { number: 3, typeGuid: GPT_TYPE.basicData, uniqueGuid: '00000000-0000-0000-0000-000000000003', firstLba: 4096n, lastLba: 8191n, attributes: 0n, name: 'Windows' },
    { number: 1, typeGuid: GPT_TYPE.efiSystem, uniqueGuid: '00000000-0000-0000-0000-000000000001', firstLba: 2048n, lastLba: 2559n, attributes: 0n, name: 'EFI' },
    { number: 2, typeGuid: GPT_TYPE.ldmData, uniqueGuid: '00000000-0000-0000-0000-000000000002', firstLba: 2560n, lastLba: 4095n, attributes: 4n, name: '' },
  ],
};

describe('summarizePartitions', () => {
  it('lists used MBR slots and logical partitions, leaving out the extended container', () => {
    expect(summarizePartitions(mbr).map((p) => [p.number, p.startLba, p.sectorCount, p.type, p.typeName, p.bootable, p.dynamic, p.logical])).toEqual([
      [1, 2048n, 1000n, '0x07', 'NTFS/exFAT', true, false, false],
      [4, 20000n, 10n, '0x42', 'Windows LDM (dynamic)', false, true, false],
      [5, 6144n, 100n, '0x27', 'Windows RE (hidden)', false, false, true],
    ]);
    expect(summarizePartitions(mbr, { includeExtended: true }).map((p) => p.number)).toEqual([1, 2, 4, 5]);
    expect(summarizePartitions(mbr)[0]!.uniqueGuid).toBeUndefined();
  });

  it('lists GPT entries by number with sizes from the inclusive end', () => {
    const s = summarizePartitions(gpt);
    expect(s.map((p) => [p.number, p.sectorCount, p.typeName, p.name, p.bootable, p.dynamic, p.uniqueGuid])).toEqual([
      [1, 512n, 'EFI System', 'EFI', true, false, '00000000-0000-0000-0000-000000000001'],
      [2, 1536n, 'LDM data (dynamic)', '', true, true, '00000000-0000-0000-0000-000000000002'],
      [3, 4096n, 'Basic data', 'Windows', false, false, '00000000-0000-0000-0000-000000000003'],
    ]);
    expect(s[1]!.attributes).toBe(4n);
    expect(s.every((p) => !p.logical && p.type === gpt.partitions.find((q) => q.number === p.number)!.typeGuid)).toBe(true);
  });
});

describe('type names', () => {
  it('names common types and says "Unknown" otherwise', () => {
    expect(mbrTypeName(0x07)).toBe('NTFS/exFAT');
    expect(mbrTypeName(0xee)).toBe('GPT protective');
    expect(mbrTypeName(0x99)).toBe('Unknown (0x99)');
    expect(gptTypeName(GPT_TYPE.microsoftReserved)).toBe('Microsoft reserved');
    expect(gptTypeName(GPT_TYPE.windowsRecovery.toUpperCase())).toBe('Windows recovery');
    expect(gptTypeName('12345678-1234-1234-1234-123456789abc')).toBe('Unknown');
  });
});
