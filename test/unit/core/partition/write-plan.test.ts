import { describe, expect, it } from 'vitest';
import { isRecoveryError } from '../../../../src/core/errors.ts';
import { encodeGpt, parseGptHeader } from '../../../../src/core/partition/gpt.ts';
import { GPT_TYPE } from '../../../../src/core/partition/guid.ts';
import { emptyMbrEntry, encodeEbrChain, encodeMbr, makeMbrEntry, parseMbr } from '../../../../src/core/partition/mbr.ts';
import type { DiskGeometry, GptTable, MbrTable, WriteOp } from '../../../../src/core/partition/types.ts';
import { planGptWrite, planMbrWrite, planTableWrite } from '../../../../src/core/partition/write-plan.ts';
import { MiB } from '../../../../src/core/units.ts';

const geometry = (sizeBytes: bigint, ss: 512 | 4096 = 512): DiskGeometry => ({ sizeBytes, logicalSectorSize: ss, physicalSectorSize: ss });

const gpt = (ss: 512 | 4096): GptTable => ({
  style: 'gpt', sectorSize: ss, diskGuid: '11111111-2222-3333-4444-555555555555', firstUsableLba: ss === 512 ? 34n : 6n, lastUsableLba: 0n,
  numberOfEntries: 128, sizeOfEntry: 128,
  partitions: [{ number: 1, typeGuid: GPT_TYPE.efiSystem, uniqueGuid: '22222222-2222-3333-4444-555555555555', firstLba: 256n, lastLba: 511n, attributes: 0n, name: 'EFI' }],
});

const mbr: MbrTable = {
  style: 'mbr', bootCode: new Uint8Array(440).fill(0x33), diskSignature: 0xcafe0001, reserved: 0,
  primary: [
    makeMbrEntry({ number: 1, type: 0x07, startLba: 2048n, sectorCount: 2048n, status: 0x80 }),
    makeMbrEntry({ number: 2, type: 0x0f, startLba: 4096n, sectorCount: 8192n }),
    emptyMbrEntry(3), emptyMbrEntry(4),
  ],
  logical: [makeMbrEntry({ number: 5, type: 0x07, startLba: 6144n, sectorCount: 1024n }), makeMbrEntry({ number: 6, type: 0x07, startLba: 8192n, sectorCount: 1024n })],
  ebrLbas: [4096n, 7168n],
  bootSignatureValid: true,
};

const summary = (ops: readonly WriteOp[], ss: number) => ops.map((op) => [op.what, op.offset / BigInt(ss), op.data.length]);

function refusal(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    if (isRecoveryError(e) && e.code === 'partition.plan-refused') return (e.data.problems as { code: string }[]).map((p) => p.code);
    throw e;
  }
  throw new Error('the plan was not refused');
}

describe('planGptWrite', () => {
  it.each([512, 4096] as const)('writes the backup copy before the primary copy and the protective MBR last (%i-byte sectors)', (ss) => {
    const g = geometry(64n * MiB, ss);
    const ops = planGptWrite(gpt(ss), g);
    const last = g.sizeBytes / BigInt(ss) - 1n;
    const arraySectors = ss === 512 ? 32 : 4;
    expect(summary(ops, ss)).toEqual([
      ['gpt backup entries', last - BigInt(arraySectors), arraySectors * ss],
      ['gpt backup header', last, ss],
      ['gpt primary entries', 2n, arraySectors * ss],
      ['gpt primary header', 1n, ss],
      ['protective mbr', 0n, ss],
    ]);
    const enc = encodeGpt(gpt(ss), g);
    expect(ops.map((op) => op.data)).toEqual([enc.entries, enc.backupHeader, enc.entries, enc.primaryHeader, enc.protectiveMbr]);
    for (const op of ops) expect(op.offset % BigInt(ss)).toBe(0n);
  });

  it('puts the backup at the end of a larger target with LastUsableLBA moved', () => {
    const small = { ...gpt(512), lastUsableLba: 65502n };
    const ops = planGptWrite(small, geometry(128n * MiB));
    const header = parseGptHeader(ops.find((op) => op.what === 'gpt primary header')!.data)!;
    expect([header.alternateLba, header.lastUsableLba]).toEqual([262143n, 262110n]);
  });

  it('accepts a source table that is only too long for a smaller target when its partitions fit', () => {
    const fromBigDisk = { ...gpt(512), lastUsableLba: 262110n };
    expect(planGptWrite(fromBigDisk, geometry(64n * MiB))).toHaveLength(5);
  });

  it('refuses tables with errors and lists them', () => {
    const bad = { ...gpt(512), partitions: [...gpt(512).partitions, { ...gpt(512).partitions[0]!, number: 2, uniqueGuid: '33333333-2222-3333-4444-555555555555', lastLba: 200000n }] };
    expect(refusal(() => planGptWrite(bad, geometry(64n * MiB)))).toEqual(['gpt.out-of-bounds', 'gpt.overlap']);
    expect(refusal(() => planGptWrite(gpt(512), geometry(64n * MiB, 4096)))).toContain('gpt.sector-size-mismatch');
  });
});

describe('planMbrWrite', () => {
  const g = geometry(64n * MiB);

  it('writes the EBR chain from its end and LBA 0 last', () => {
    const ops = planMbrWrite(mbr, g);
    expect(summary(ops, 512)).toEqual([['ebr at lba 7168', 7168n, 512], ['ebr at lba 4096', 4096n, 512], ['mbr', 0n, 512]]);
    expect(ops[2]!.data).toEqual(encodeMbr(mbr));
    expect(ops[0]!.data).toEqual(encodeEbrChain(mbr)[1]!.sector);
  });

  it('clears stale GPT headers first when asked, but never a sector a partition owns', () => {
    expect(summary(planMbrWrite(mbr, g, { clearGpt: true }), 512).slice(0, 2)).toEqual([
      ['clear gpt backup header', 131071n, 512], ['clear gpt primary header', 1n, 512],
    ]);
    for (const op of planMbrWrite(mbr, g, { clearGpt: true }).slice(0, 2)) expect(op.data.every((b) => b === 0)).toBe(true);
    const toTheEnd = { ...mbr, primary: [mbr.primary[0]!, mbr.primary[1]!, makeMbrEntry({ number: 3, type: 7, startLba: 12288n, sectorCount: 131072n - 12288n }), emptyMbrEntry(4)] };
    expect(planMbrWrite(toTheEnd, g, { clearGpt: true }).map((op) => op.what)).toEqual(['clear gpt primary header', 'ebr at lba 7168', 'ebr at lba 4096', 'mbr']);
  });

  it('widens sectors to 4096 bytes on 4Kn disks', () => {
    const ops = planMbrWrite(mbr, geometry(64n * MiB, 4096), { clearGpt: true });
    for (const op of ops) {
      expect(op.data.length).toBe(4096);
      expect(op.offset % 4096n).toBe(0n);
    }
    const sector0 = ops[ops.length - 1]!.data;
    expect(parseMbr(sector0).diskSignature).toBe(0xcafe0001);
    expect(sector0.subarray(512).every((b) => b === 0)).toBe(true);
  });

  it('writes a table whose 0x55AA was missing when read, but refuses real errors', () => {
    expect(planMbrWrite({ ...mbr, bootSignatureValid: false }, g).at(-1)!.what).toBe('mbr');
    const twoActive = { ...mbr, logical: [{ ...mbr.logical[0]!, status: 0x80 }, mbr.logical[1]!] };
    expect(refusal(() => planMbrWrite(twoActive, g))).toEqual(['mbr.multiple-active']);
  });
});

describe('planTableWrite', () => {
  it('dispatches on the table style', () => {
    expect(planTableWrite(gpt(512), geometry(64n * MiB)).map((op) => op.what)).toEqual(planGptWrite(gpt(512), geometry(64n * MiB)).map((op) => op.what));
    expect(planTableWrite(mbr, geometry(64n * MiB), { clearGpt: true })[0]!.what).toBe('clear gpt backup header');
  });
});
