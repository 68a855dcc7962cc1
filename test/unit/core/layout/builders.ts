/** Hand-built disks and tables for the layout planner tests: valid defaults, explicit numbers. */
import { expect } from 'vitest';
import { GPT_TYPE } from '../../../../src/core/partition/guid.ts';
import { emptyMbrEntry, makeMbrEntry, protectiveMbrFor } from '../../../../src/core/partition/mbr.ts';
import { readPartitionTable } from '../../../../src/core/partition/read-table.ts';
import type { DiskGeometry, GptPartition, GptTable, MbrEntry, MbrTable, WriteOp } from '../../../../src/core/partition/types.ts';
import { GiB, MiB } from '../../../../src/core/units.ts';
import type { LayoutPlan } from '../../../../src/core/layout/layout-plan.ts';
import type { SectorSize } from '../../../../src/core/units.ts';

export { GiB, MiB };

export function geometry(sizeBytes: bigint, logicalSectorSize: SectorSize = 512, physicalSectorSize: number = logicalSectorSize): DiskGeometry {
  return { sizeBytes, logicalSectorSize, physicalSectorSize };
}

/** LBAs for a byte count on a sector size. */
export function lba(bytes: bigint, sectorSize: SectorSize): bigint {
  return bytes / BigInt(sectorSize);
}

/** A deterministic GUID whose last group carries `n`. */
export function guid(n: number, prefix = 'a1b2c3d4'): string {
  return `${prefix}-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
}

export interface MbrPart {
  readonly number: number;
  readonly type: number;
  readonly start: bigint;
  readonly count: bigint;
  readonly active?: boolean;
}

const BOOT_CODE = Uint8Array.from({ length: 440 }, (_, i) => (i * 7 + 3) & 0xff);

/** The first EBR sits at the extended partition's start, the others just before their partition. */
export function mbrTable(signature: number, parts: readonly MbrPart[], logical: readonly MbrPart[] = []): MbrTable {
  const extended = parts.find((p) => p.type === 0x05 || p.type === 0x0f);
  const entry = (p: MbrPart): MbrEntry =>
    makeMbrEntry({ number: p.number, type: p.type, startLba: p.start, sectorCount: p.count, status: p.active === true ? 0x80 : 0 });
  const primary = [1, 2, 3, 4].map((n) => {
    const p = parts.find((x) => x.number === n);
    return p === undefined ? emptyMbrEntry(n) : entry(p);
  });
  return {
    style: 'mbr',
    bootCode: BOOT_CODE.slice(),
    diskSignature: signature,
    reserved: 0,
    primary,
    logical: logical.map(entry),
    ebrLbas: logical.map((l, i) => (i === 0 && extended !== undefined ? extended.start : l.start - 1n)),
    bootSignatureValid: true,
  };
}

export interface GptPart {
  readonly number: number;
  readonly type: string;
  readonly start: bigint;
  readonly count: bigint;
  readonly guid?: string;
  readonly name?: string;
  readonly attributes?: bigint;
}

export function gptPartition(p: GptPart): GptPartition {
  return {
    number: p.number,
    typeGuid: p.type,
    uniqueGuid: p.guid ?? guid(p.number),
    firstLba: p.start,
    lastLba: p.start + p.count - 1n,
    attributes: p.attributes ?? 0n,
    name: p.name ?? `part ${p.number}`,
  };
}

/** A GPT as sgdisk/Windows lay it out on `disk`: 128 entries of 128 bytes, usable area between the copies. */
export function gptTable(diskGuid: string, disk: DiskGeometry, parts: readonly GptPart[]): GptTable {
  const ss = disk.logicalSectorSize;
  const arraySectors = BigInt((128 * 128) / ss);
  const sectors = disk.sizeBytes / BigInt(ss);
  return {
    style: 'gpt',
    sectorSize: ss,
    diskGuid,
    firstUsableLba: 2n + arraySectors,
    lastUsableLba: sectors - 2n - arraySectors,
    numberOfEntries: 128,
    sizeOfEntry: 128,
    partitions: parts.map(gptPartition),
    protectiveMbr: protectiveMbrFor(disk),
  };
}

/** Windows' UEFI layout (ESP, MSR, Windows, Recovery) on a disk of `size`, 1 MiB aligned. */
export function windowsGpt(diskGuid: string, disk: DiskGeometry, guidPrefix = 'a1b2c3d4'): GptTable {
  const ss = disk.logicalSectorSize;
  const at = (bytes: bigint): bigint => lba(bytes, ss);
  const windowsEnd = disk.sizeBytes - 600n * MiB;
  return gptTable(diskGuid, disk, [
    { number: 1, type: GPT_TYPE.efiSystem, start: at(MiB), count: at(100n * MiB), guid: guid(1, guidPrefix), name: 'EFI system partition' },
    { number: 2, type: GPT_TYPE.microsoftReserved, start: at(101n * MiB), count: at(16n * MiB), guid: guid(2, guidPrefix), name: 'Microsoft reserved partition' },
    { number: 3, type: GPT_TYPE.basicData, start: at(117n * MiB), count: at(windowsEnd - 117n * MiB), guid: guid(3, guidPrefix), name: 'Basic data partition' },
    {
      number: 4,
      type: GPT_TYPE.windowsRecovery,
      start: at(windowsEnd),
      count: at(500n * MiB),
      guid: guid(4, guidPrefix),
      attributes: 0x8000000000000001n,
    },
  ]);
}

/** Windows' BIOS layout (System Reserved active, Windows, Recovery 0x27) on a disk of `size`. */
export function windowsMbr(signature: number, disk: DiskGeometry): MbrTable {
  const ss = disk.logicalSectorSize;
  const at = (bytes: bigint): bigint => lba(bytes, ss);
  const windowsEnd = disk.sizeBytes - 600n * MiB;
  return mbrTable(signature, [
    { number: 1, type: 0x07, start: at(MiB), count: at(100n * MiB), active: true },
    { number: 2, type: 0x07, start: at(101n * MiB), count: at(windowsEnd - 101n * MiB) },
    { number: 3, type: 0x27, start: at(windowsEnd), count: at(500n * MiB) },
  ]);
}

/** Runs `writes` against a sparse sector map and reads the table back with the codec's reader. */
export async function readBack(writes: readonly WriteOp[], disk: DiskGeometry, before: ReadonlyMap<bigint, Uint8Array> = new Map()) {
  const ss = BigInt(disk.logicalSectorSize);
  const sectors = new Map(before);
  for (const w of writes) {
    expect(w.offset % ss).toBe(0n);
    expect(BigInt(w.data.length) % ss).toBe(0n);
    expect(w.offset + BigInt(w.data.length)).toBeLessThanOrEqual(disk.sizeBytes);
    for (let i = 0n; i * ss < BigInt(w.data.length); i++) {
      sectors.set(w.offset / ss + i, w.data.slice(Number(i * ss), Number((i + 1n) * ss)));
    }
  }
  const read = async (at: bigint, count: number): Promise<Uint8Array> => {
    const out = new Uint8Array(count * disk.logicalSectorSize);
    for (let i = 0; i < count; i++) {
      const s = sectors.get(at + BigInt(i));
      if (s !== undefined) out.set(s, i * disk.logicalSectorSize);
    }
    return out;
  };
  return readPartitionTable(read, disk);
}

/** The plan narrowed to one kind; a wrong kind fails with the refusal's own words. */
export function planOf<K extends LayoutPlan['kind']>(plan: LayoutPlan, kind: K): Extract<LayoutPlan, { kind: K }> {
  if (plan.kind !== kind) {
    const why = plan.kind === 'refused' ? `${plan.reason.code}: ${plan.reason.message}` : plan.notes.map((n) => n.code).join(', ');
    throw new Error(`expected a ${kind} plan, got ${plan.kind} (${why})`);
  }
  return plan as Extract<LayoutPlan, { kind: K }>;
}

export function noteCodes(plan: LayoutPlan): string[] {
  return plan.kind === 'refused' ? [] : plan.notes.map((n) => n.code);
}
