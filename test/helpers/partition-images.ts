/**
 * Table-only disk images for the partition tests: sparse image files written by sfdisk/sgdisk or by
 * our write plans, the tools' views of them, and an in-memory sparse disk for unit tests.
 */
import { open, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SectorReader } from '../../src/core/partition/read-table.ts';
import type { DiskGeometry, WriteOp } from '../../src/core/partition/types.ts';
import type { SectorSize } from '../../src/core/units.ts';
import { isRoot, mustRun, runTool } from './run.ts';

// ---------------------------------------------------------------- in memory

/** A sparse in-memory disk: unwritten sectors read as zeros. Enforces whole, in-range sectors. */
export class SparseDisk {
  readonly geometry: DiskGeometry;
  private readonly sectors = new Map<bigint, Uint8Array>();
  /** Every read as (lba, count), to check that readers stay in range. */
  readonly reads: { lba: bigint; count: number }[] = [];

  constructor(sectorCount: bigint, sectorSize: SectorSize = 512, physicalSectorSize: number = sectorSize) {
    this.geometry = { sizeBytes: sectorCount * BigInt(sectorSize), logicalSectorSize: sectorSize, physicalSectorSize };
  }

  get sectorSize(): SectorSize {
    return this.geometry.logicalSectorSize;
  }

  get sectorCount(): bigint {
    return this.geometry.sizeBytes / BigInt(this.sectorSize);
  }

  private check(lba: bigint, count: number): void {
    if (lba < 0n || count < 1 || lba + BigInt(count) > this.sectorCount) {
      throw new Error(`out-of-range access: ${count} sector(s) at LBA ${lba} of ${this.sectorCount}`);
    }
  }

  read: SectorReader = async (lba, count) => {
    this.check(lba, count);
    this.reads.push({ lba, count });
    const out = new Uint8Array(count * this.sectorSize);
    for (let i = 0; i < count; i++) {
      const sector = this.sectors.get(lba + BigInt(i));
      if (sector !== undefined) out.set(sector, i * this.sectorSize);
    }
    return out;
  };

  writeAt(offset: bigint, data: Uint8Array): void {
    const ss = BigInt(this.sectorSize);
    if (offset % ss !== 0n || data.length % this.sectorSize !== 0) throw new Error(`unaligned write of ${data.length} bytes at ${offset}`);
    const lba = offset / ss;
    const count = data.length / this.sectorSize;
    this.check(lba, count);
    for (let i = 0; i < count; i++) {
      this.sectors.set(lba + BigInt(i), data.slice(i * this.sectorSize, (i + 1) * this.sectorSize));
    }
  }

  apply(ops: readonly WriteOp[]): this {
    for (const op of ops) this.writeAt(op.offset, op.data);
    return this;
  }

  sector(lba: bigint): Uint8Array {
    return this.sectors.get(lba)?.slice() ?? new Uint8Array(this.sectorSize);
  }

  setSector(lba: bigint, data: Uint8Array): void {
    this.writeAt(lba * BigInt(this.sectorSize), data);
  }

  /** Flips bits of one byte (XOR with `mask`). */
  flip(lba: bigint, byte: number, mask = 0xff): void {
    const sector = this.sector(lba);
    sector[byte] = sector[byte]! ^ mask;
    this.setSector(lba, sector);
  }
}

// ---------------------------------------------------------------- image files

export async function createImage(dir: string, name: string, sizeBytes: bigint): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, new Uint8Array(0));
  await truncate(path, Number(sizeBytes));
  return path;
}

/**
 * A copy of a table-only image: its first and last MiB (where MBR, EBRs of small layouts and both GPT
 * copies live) into a fresh sparse file. Much faster than running sgdisk again, which pauses a
 * second after every write.
 */
export async function cloneTableImage(source: string, dir: string, name: string, sizeBytes: bigint): Promise<string> {
  const path = await createImage(dir, name, sizeBytes);
  const mib = 1024n * 1024n;
  const ops: WriteOp[] = [];
  for (const offset of [0n, sizeBytes - mib]) ops.push({ offset, data: await readBytes(source, offset, Number(mib)), what: 'clone' });
  await applyWriteOps(path, ops);
  return path;
}

export async function resizeImage(path: string, sizeBytes: bigint): Promise<void> {
  await truncate(path, Number(sizeBytes));
}

export function geometryOf(sizeBytes: bigint, sectorSize: SectorSize = 512): DiskGeometry {
  return { sizeBytes, logicalSectorSize: sectorSize, physicalSectorSize: sectorSize };
}

/** Runs a write plan against an image file in order, as the block-device adapter will. */
export async function applyWriteOps(path: string, ops: readonly WriteOp[]): Promise<void> {
  const file = await open(path, 'r+');
  try {
    for (const op of ops) await file.write(op.data, 0, op.data.length, Number(op.offset));
  } finally {
    await file.close();
  }
}

export async function readBytes(path: string, offset: bigint, length: number): Promise<Uint8Array> {
  const file = await open(path, 'r');
  try {
    const out = new Uint8Array(length);
    const { bytesRead } = await file.read(out, 0, length, Number(offset));
    if (bytesRead !== length) throw new Error(`short read at ${offset}: ${bytesRead} of ${length}`);
    return out;
  } finally {
    await file.close();
  }
}

export async function writeBytes(path: string, offset: bigint, data: Uint8Array): Promise<void> {
  await applyWriteOps(path, [{ offset, data, what: 'test patch' }]);
}

/** A SectorReader over an image file (opened per read: the tests read a handful of sectors). */
export function imageReader(path: string, sectorSize: SectorSize): SectorReader {
  return (lba, count) => readBytes(path, lba * BigInt(sectorSize), count * sectorSize);
}

// ---------------------------------------------------------------- loop devices

/** Loop devices need root and a kernel that lets this container attach them. */
export async function loopDevicesUsable(): Promise<boolean> {
  if (!isRoot) return false;
  const probe = await runTool('losetup', ['--find']);
  return probe.exitCode === 0 && probe.stdout.trim().startsWith('/dev/loop');
}

/** Attaches `path` with the given logical sector size for the duration of `fn` (how sgdisk/sfdisk see 4Kn). */
export async function withLoopDevice<T>(path: string, sectorSize: SectorSize, fn: (device: string) => Promise<T>): Promise<T> {
  const device = (await mustRun('losetup', ['--find', '--show', '--sector-size', String(sectorSize), path])).trim();
  try {
    return await fn(device);
  } finally {
    await mustRun('losetup', ['--detach', device]);
  }
}

// ---------------------------------------------------------------- sfdisk / sgdisk / fdisk

export interface SfdiskPartition {
  readonly node: string;
  readonly start: number;
  readonly size: number;
  readonly type: string;
  readonly uuid?: string;
  readonly name?: string;
  readonly attrs?: string;
  readonly bootable?: boolean;
}

export interface SfdiskTable {
  readonly label: 'dos' | 'gpt';
  readonly id: string;
  readonly device: string;
  readonly unit: string;
  readonly firstlba?: number;
  readonly lastlba?: number;
  readonly sectorsize: number;
  readonly partitions: readonly SfdiskPartition[];
}

export async function sfdiskJson(device: string): Promise<SfdiskTable> {
  const out = await mustRun('sfdisk', ['--json', device]);
  return (JSON.parse(out) as { partitiontable: SfdiskTable }).partitiontable;
}

/** Partition number from an sfdisk node name ("disk.img5", "/dev/loop0p2"). */
export function nodeNumber(node: string): number {
  const m = /(\d+)$/.exec(node);
  if (m === null) throw new Error(`no partition number in ${node}`);
  return Number(m[1]);
}

/** sfdisk's attrs text ("RequiredPartition LegacyBIOSBootable GUID:60,63") as attribute bits. */
export function sfdiskAttrBits(attrs: string | undefined): bigint {
  let bits = 0n;
  for (const word of (attrs ?? '').split(/\s+/).filter(Boolean)) {
    if (word === 'RequiredPartition') bits |= 1n;
    else if (word === 'NoBlockIOProtocol') bits |= 2n;
    else if (word === 'LegacyBIOSBootable') bits |= 4n;
    else if (word.startsWith('GUID:')) for (const n of word.slice(5).split(',')) bits |= 1n << BigInt(n);
    else throw new Error(`unknown sfdisk attribute ${word}`);
  }
  return bits;
}

/** The bits sfdisk can show: 0–2 and the type-specific 48–63. */
export const SFDISK_ATTR_MASK = 0x7n | (0xffffn << 48n);

export async function sfdiskWrite(device: string, script: string): Promise<void> {
  await mustRun('sfdisk', ['--no-reread', '--no-tell-kernel', '--wipe', 'never', device], { input: script });
}

export async function sgdisk(args: readonly string[]): Promise<string> {
  return mustRun('sgdisk', args);
}

export interface SgdiskPartitionInfo {
  readonly typeGuid: string;
  readonly uniqueGuid: string;
  readonly firstLba: bigint;
  readonly lastLba: bigint;
  readonly attributes: bigint;
  readonly name: string;
}

/** `sgdisk -i N`, with GUIDs lower-cased to our canonical form. */
export async function sgdiskInfo(device: string, number: number): Promise<SgdiskPartitionInfo> {
  const out = await mustRun('sgdisk', ['-i', String(number), device]);
  const field = (label: string): string => {
    const m = new RegExp(`^${label}: (.*)$`, 'm').exec(out);
    if (m === null) throw new Error(`sgdisk -i ${number}: no "${label}" in\n${out}`);
    return m[1]!;
  };
  return {
    typeGuid: field('Partition GUID code').split(' ')[0]!.toLowerCase(),
    uniqueGuid: field('Partition unique GUID').toLowerCase(),
    firstLba: BigInt(field('First sector').split(' ')[0]!),
    lastLba: BigInt(field('Last sector').split(' ')[0]!),
    attributes: BigInt(`0x${field('Attribute flags')}`),
    name: /^'(.*)'$/.exec(field('Partition name'))![1]!,
  };
}

/** `sgdisk -v` output (stdout and stderr; sgdisk exits non-zero when it finds problems). */
export async function sgdiskVerify(device: string): Promise<string> {
  const r = await runTool('sgdisk', ['-v', device]);
  return `${r.stdout}${r.stderr}`;
}

export async function fdiskList(device: string, sectorSize?: SectorSize): Promise<string> {
  return mustRun('fdisk', [...(sectorSize === undefined ? [] : ['-b', String(sectorSize)]), '-l', device]);
}

/** Signature types wipefs finds ("gpt", "PMBR", "dos"), without changing anything. */
export async function wipefsSignatures(path: string): Promise<string[]> {
  const out = await mustRun('wipefs', ['--no-act', '--noheadings', '--output', 'TYPE', path]);
  return out.split('\n').map((l) => l.trim()).filter(Boolean);
}
