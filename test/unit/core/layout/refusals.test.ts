import { describe, expect, it } from 'vitest';
import { planLayout } from '../../../../src/core/layout/planner.ts';
import { refusalToError } from '../../../../src/core/layout/refusal.ts';
import type { LayoutRequest } from '../../../../src/core/layout/source-layout.ts';
import { RecoveryError } from '../../../../src/core/errors.ts';
import { GPT_TYPE } from '../../../../src/core/partition/guid.ts';
import type { GptTable, MbrTable } from '../../../../src/core/partition/types.ts';
import { GiB, geometry, gptTable, guid, mbrTable, planOf, windowsGpt, windowsMbr } from './builders.ts';

const disk = geometry(64n * GiB);
const request = (table: MbrTable | GptTable | undefined, selected: number[], extra: Partial<LayoutRequest> = {}): LayoutRequest => ({
  source: { geometry: disk, ...(table === undefined ? {} : { table }) },
  selected,
  target: { geometry: disk },
  mode: 'full',
  ...extra,
});
const reasonOf = (r: LayoutRequest) => planOf(planLayout(r), 'refused').reason;

describe('refusals about the request itself', () => {
  it('refuses a source without a partition table', () => {
    expect(reasonOf(request(undefined, [1])).code).toBe('layout.source-unpartitioned');
  });

  it('refuses an empty selection and unknown partition numbers, listing what exists', () => {
    expect(reasonOf(request(windowsMbr(1, disk), [])).code).toBe('layout.nothing-selected');
    const unknown = reasonOf(request(windowsMbr(1, disk), [2, 9, 4]));
    expect(unknown).toMatchObject({ code: 'layout.unknown-partition', data: { partitions: [4, 9], available: [1, 2, 3] } });
    expect(unknown.message).toBe("Selected partitions 4, 9 do not exist in the backup's source layout (it has 1, 2, 3).");
  });

  it('refuses selecting an extended partition', () => {
    const table = mbrTable(1, [{ number: 1, type: 0x0f, start: 2048n, count: 4_000_000n }], [{ number: 5, type: 0x07, start: 4096n, count: 1_000_000n }]);
    expect(reasonOf(request(table, [1]))).toMatchObject({ code: 'layout.not-a-volume', data: { partition: 1, kind: 'extended' } });
    planOf(planLayout(request(table, [5])), 'write');
  });

  it('refuses an overlapping source layout, naming both partitions', () => {
    const table = mbrTable(1, [
      { number: 1, type: 0x07, start: 2048n, count: 10_000n },
      { number: 2, type: 0x07, start: 10_000n, count: 10_000n },
    ]);
    const r = reasonOf(request(table, [1]));
    expect(r).toMatchObject({ code: 'layout.source-overlap', data: { partition: 1, other: 2 } });
    expect(r.message).toContain('partition 1 (type 0x07) overlaps partition 2 (type 0x07)');
  });

  it('refuses a source table that verify rejects, with verify\'s words', () => {
    const table = mbrTable(1, [
      { number: 1, type: 0x07, start: 2048n, count: 10_000n, active: true },
      { number: 2, type: 0x07, start: 20_000n, count: 10_000n, active: true },
    ]);
    const r = reasonOf(request(table, [1]));
    expect(r.code).toBe('layout.source-invalid');
    expect(r.message).toContain('2 partitions are marked active');
    const mismatched: GptTable = { ...windowsGpt(guid(1), disk), sectorSize: 4096 };
    expect(reasonOf(request(mismatched, [3])).code).toBe('layout.source-invalid');
  });

  it('refuses a partition GUID the codec cannot encode instead of throwing', () => {
    const table = gptTable(guid(1), disk, [{ number: 1, type: GPT_TYPE.basicData, start: 2048n, count: 2048n, guid: 'not-a-guid' }]);
    const r = reasonOf(request(table, [1]));
    expect(r.code).toBe('layout.unwritable');
    expect(r.message).toContain('not a GUID');
  });
});

describe('sector size', () => {
  it.each([
    [512, 4096],
    [4096, 512],
  ] as const)('refuses %i-byte source sectors on a %i-byte target, for either style', (from, to) => {
    const src = geometry(64n * GiB, from);
    for (const table of [windowsGpt(guid(1), src), windowsMbr(1, src)]) {
      const r = reasonOf({ source: { geometry: src, table }, selected: [2], target: { geometry: geometry(128n * GiB, to) }, mode: 'full' });
      expect(r).toEqual({
        code: 'layout.sector-size-mismatch',
        message: expect.stringContaining(`used ${from}-byte logical sectors and the target disk uses ${to}-byte sectors`),
        data: { sourceSectorSize: from, targetSectorSize: to },
      });
      expect(r.message).toContain('not converted');
    }
  });
});

describe('refusal shape', () => {
  it('carries only a kind and a reason, and converts to a RecoveryError with the same code and data', () => {
    const plan = planLayout(request(windowsMbr(1, disk), [7]));
    expect(Object.keys(plan).sort()).toEqual(['kind', 'reason']);
    if (plan.kind !== 'refused') throw new Error('expected a refusal');
    const error = refusalToError(plan.reason);
    expect(error).toBeInstanceOf(RecoveryError);
    expect([error.code, error.message, error.data]).toEqual([plan.reason.code, plan.reason.message, plan.reason.data]);
  });
});
