/**
 * The one entry point for reading a partition table: detect the style, read both GPT copies or
 * the EBR chain, pick the authoritative table and verify it. Pure: the caller's reader does the I/O,
 * and every read stays inside the disk.
 *
 * Style detection (as libfdisk and Windows do it, the protective MBR decides):
 *   1. a valid MBR with a 0xEE entry                     → gpt
 *   2. a valid MBR with other used entries               → mbr (GPT signatures left over → "mbr.stale-gpt")
 *   3. no used MBR entries but "EFI PART" at LBA 1 or at the last LBA → gpt ("gpt.pmbr-missing")
 *   4. a valid 0x55AA with no entries                    → mbr (empty)
 *   5. otherwise                                         → none
 */
import { RecoveryError } from '../errors.ts';
import { parseGptEntries, parseGptHeader, gptTableFromHeader, gptLayoutFor, isValidEntryGeometry } from './gpt.ts';
import { extendedEntryOf, isEmptyEntry, isProtectiveMbr, parseEbr, parseMbr } from './mbr.ts';
import { sectorCountOf } from './types.ts';
import type { DiskGeometry, GptDisk, GptHeader, MbrEntry, MbrTable, PartitionTable, Problem } from './types.ts';
import { isUsableGptHeader, verifyGpt, verifyMbr } from './verify.ts';

/** Reads `count` whole logical sectors from `lba`; must return count × sector size bytes. */
export type SectorReader = (lba: bigint, count: number) => Promise<Uint8Array>;

export interface SectorRange {
  readonly lba: bigint;
  readonly count: number;
}

export interface ReadTableResult {
  readonly style: 'mbr' | 'gpt' | 'none';
  /** LBA 0 as parsed; on MBR disks with the logical partitions of the EBR chain. */
  readonly mbr?: MbrTable;
  readonly gpt?: GptDisk;
  /** The authoritative table; absent for "none" and for a GPT disk with no usable copy. */
  readonly table?: PartitionTable;
  readonly problems: readonly Problem[];
  /** Sectors holding table data (MBR, EBRs, both GPT copies), sorted and merged, for a raw backup. */
  readonly tableSectors: readonly SectorRange[];
}

/** A chain longer than this is treated as corrupt (Linux stops far earlier in practice). */
export const MAX_LOGICAL_PARTITIONS = 256;

interface Context {
  readonly read: SectorReader;
  readonly geometry: DiskGeometry;
  readonly total: bigint;
  readonly problems: Problem[];
  readonly sectors: SectorRange[];
  /** Single sectors already read: detection and parsing look at LBA 1 and the last LBA twice. */
  readonly cache: Map<bigint, Uint8Array>;
}

async function readSectors(ctx: Context, lba: bigint, count: number): Promise<Uint8Array> {
  const cached = count === 1 ? ctx.cache.get(lba) : undefined;
  if (cached !== undefined) return cached;
  const bytes = await ctx.read(lba, count);
  const expected = count * ctx.geometry.logicalSectorSize;
  if (bytes.length !== expected) {
    throw new RecoveryError('partition.short-read', `read of ${count} sector(s) at LBA ${lba} returned ${bytes.length} bytes, expected ${expected}`, {
      data: { lba: String(lba), count, length: bytes.length },
    });
  }
  if (count === 1) ctx.cache.set(lba, bytes);
  return bytes;
}

function note(ctx: Context, code: string, severity: Problem['severity'], message: string, data?: Record<string, unknown>): void {
  ctx.problems.push(data === undefined ? { code, severity, message } : { code, severity, message, data });
}

/** A header plus its entry array, read at `lba`; undefined when there is no "EFI PART" there. */
async function readGptCopy(ctx: Context, lba: bigint): Promise<{ header: GptHeader; array?: Uint8Array } | undefined> {
  const sector = await readSectors(ctx, lba, 1);
  const bare = parseGptHeader(sector);
  if (bare === undefined) return undefined;
  ctx.sectors.push({ lba, count: 1 });
  if (!bare.headerCrcValid || !isValidEntryGeometry(bare.numberOfEntries, bare.sizeOfEntry)) return { header: bare };
  const entrySectors = gptLayoutFor(ctx.geometry, bare.numberOfEntries, bare.sizeOfEntry).entrySectors;
  const start = bare.partitionEntryLba;
  // verify reports an array outside the disk ("gpt.entry-lba"); there is nothing to read.
  if (start < 1n || start + entrySectors > ctx.total) return { header: bare };
  const array = await readSectors(ctx, start, Number(entrySectors));
  ctx.sectors.push({ lba: start, count: Number(entrySectors) });
  return { header: parseGptHeader(sector, array)!, array };
}

/** Backup at the last LBA; failing that, where a sound primary says it is (a grown disk, a moved copy). */
async function readBackupCopy(ctx: Context, primary: GptHeader | undefined): Promise<Awaited<ReturnType<typeof readGptCopy>>> {
  const lastLba = ctx.total - 1n;
  const atEnd = lastLba > 1n ? await readGptCopy(ctx, lastLba) : undefined;
  if (atEnd !== undefined && atEnd.header.headerCrcValid && atEnd.header.myLba === lastLba) return atEnd;
  const alternate = primary?.headerCrcValid === true ? primary.alternateLba : undefined;
  if (alternate !== undefined && alternate > 1n && alternate < lastLba) {
    const moved = await readGptCopy(ctx, alternate);
    if (moved !== undefined && moved.header.headerCrcValid && moved.header.myLba === alternate) return moved;
  }
  if (atEnd !== undefined && atEnd.header.headerCrcValid) {
    note(ctx, 'gpt.header-lba', 'warning', `the header at the last LBA says it is at LBA ${atEnd.header.myLba}`, { myLba: String(atEnd.header.myLba) });
    return undefined;
  }
  return atEnd;
}

async function readGpt(ctx: Context, mbr: MbrTable): Promise<GptDisk> {
  const primary = ctx.total > 1n ? await readGptCopy(ctx, 1n) : undefined;
  const backup = await readBackupCopy(ctx, primary?.header);
  const chosen = [['primary', primary], ['backup', backup]] as const;
  const base: GptDisk = {
    ...(primary === undefined ? {} : { primaryHeader: primary.header }),
    ...(backup === undefined ? {} : { backupHeader: backup.header }),
  };
  for (const [source, copy] of chosen) {
    if (copy?.array !== undefined && isUsableGptHeader(copy.header, source, ctx.geometry)) {
      const partitions = parseGptEntries(copy.array, copy.header);
      const pmbr = mbr.bootSignatureValid ? mbr : undefined;
      return { ...base, table: gptTableFromHeader(copy.header, partitions, ctx.geometry.logicalSectorSize, pmbr), source };
    }
  }
  return base;
}

/** Follows the EBR chain with guards against loops, links leaving the extended partition and endless chains. */
async function readEbrChain(ctx: Context, extended: MbrEntry): Promise<{ logical: MbrEntry[]; ebrLbas: bigint[] }> {
  const logical: MbrEntry[] = [];
  const ebrLbas: bigint[] = [];
  const visited = new Set<bigint>();
  const extLast = extended.startLba + extended.sectorCount - 1n;
  let current: bigint | undefined = extended.startLba;
  while (current !== undefined) {
    const at: bigint = current;
    const data = { ebrLba: String(at) };
    if (visited.has(at)) {
      note(ctx, 'mbr.ebr-loop', 'error', `the EBR chain loops back to LBA ${at}`, data);
      break;
    }
    if (at < extended.startLba || at > extLast || at >= ctx.total || at === 0n) {
      note(ctx, 'mbr.ebr-out-of-range', 'error', `an EBR link points to LBA ${at}, outside the extended partition or the disk`, data);
      break;
    }
    if (visited.size >= MAX_LOGICAL_PARTITIONS) {
      note(ctx, 'mbr.ebr-limit', 'error', `more than ${MAX_LOGICAL_PARTITIONS} EBRs; the rest of the chain is ignored`, data);
      break;
    }
    visited.add(at);
    const ebr = parseEbr(await readSectors(ctx, at, 1), at, extended.startLba, 5 + logical.length);
    ctx.sectors.push({ lba: at, count: 1 });
    if (!ebr.bootSignatureValid) {
      note(ctx, 'mbr.ebr-signature', 'error', `the EBR at LBA ${at} lacks 0x55AA; the chain ends there`, data);
      break;
    }
    if (ebr.extraEntries) note(ctx, 'mbr.ebr-extra-entries', 'warning', `the EBR at LBA ${at} has extra entries (ignored)`, data);
    if (ebr.logical !== undefined) {
      logical.push(ebr.logical);
      ebrLbas.push(at);
    }
    current = ebr.nextEbrLba;
  }
  return { logical, ebrLbas };
}

function mergeRanges(ranges: readonly SectorRange[]): SectorRange[] {
  const sorted = [...ranges].sort((a, b) => (a.lba < b.lba ? -1 : a.lba > b.lba ? 1 : 0));
  const merged: { lba: bigint; end: bigint }[] = [];
  for (const r of sorted) {
    const end = r.lba + BigInt(r.count);
    const last = merged[merged.length - 1];
    if (last !== undefined && r.lba <= last.end) last.end = end > last.end ? end : last.end;
    else merged.push({ lba: r.lba, end });
  }
  return merged.map((m) => ({ lba: m.lba, count: Number(m.end - m.lba) }));
}

async function hasGptSignature(ctx: Context, lba: bigint): Promise<boolean> {
  return lba > 0n && lba < ctx.total && parseGptHeader(await readSectors(ctx, lba, 1)) !== undefined;
}

/** Detects the style and reads the whole table through `read`; problems are reported, not thrown. */
export async function readPartitionTable(read: SectorReader, geometry: DiskGeometry): Promise<ReadTableResult> {
  const total = sectorCountOf(geometry);
  const ctx: Context = { read, geometry, total, problems: [], sectors: [], cache: new Map() };
  if (total < 1n) return { style: 'none', problems: [], tableSectors: [] };
  const mbr = parseMbr(await readSectors(ctx, 0n, 1));
  const used = mbr.bootSignatureValid ? mbr.primary.filter((e) => !isEmptyEntry(e)) : [];
  const gptAt1 = await hasGptSignature(ctx, 1n);
  const gptAtEnd = await hasGptSignature(ctx, total - 1n);
  if (isProtectiveMbr({ ...mbr, primary: used }) || (used.length === 0 && (gptAt1 || gptAtEnd))) {
    ctx.sectors.push({ lba: 0n, count: 1 });
    const gpt = await readGpt(ctx, mbr);
    const problems = [...ctx.problems, ...verifyGpt(gpt, geometry)];
    if (gpt.table !== undefined && gpt.table.protectiveMbr === undefined) {
      problems.push({ code: 'gpt.pmbr-missing', severity: 'warning', message: 'LBA 0 holds no protective MBR' });
    }
    return {
      style: 'gpt', mbr, gpt, ...(gpt.table === undefined ? {} : { table: gpt.table }),
      problems, tableSectors: mergeRanges(ctx.sectors),
    };
  }
  if (!mbr.bootSignatureValid) return { style: 'none', mbr, problems: [], tableSectors: [] };
  ctx.sectors.push({ lba: 0n, count: 1 });
  const extended = extendedEntryOf(mbr);
  const chain = extended === undefined ? { logical: [], ebrLbas: [] } : await readEbrChain(ctx, extended);
  const table: MbrTable = { ...mbr, logical: chain.logical, ebrLbas: chain.ebrLbas };
  const problems = [...ctx.problems, ...verifyMbr(table, geometry)];
  if (gptAt1 || gptAtEnd) {
    problems.push({
      code: 'mbr.stale-gpt', severity: 'warning', message: 'GPT headers from an earlier table remain (plan with clearGpt)',
      data: { primary: gptAt1, backup: gptAtEnd },
    });
  }
  return { style: 'mbr', mbr: table, table, problems, tableSectors: mergeRanges(ctx.sectors) };
}
