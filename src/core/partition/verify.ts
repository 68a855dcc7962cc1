/**
 * Table checks that report every problem, never only the first (libfdisk gpt_verify_disklabel,
 * sgdisk -v). Severity "error" means the table cannot be trusted or written as it is; "warning"
 * means it is usable but something should be repaired (rewriting the table does that). A table
 * freshly written by write-plan.ts verifies with no problems at all. Codes are listed in README.md.
 */
import { GPT_HEADER_SIZE, GPT_NAME_UNITS, GPT_REVISION, gptLayoutFor, isValidEntryGeometry } from './gpt.ts';
import { ZERO_GUID } from './guid.ts';
import { MBR_TYPE, extendedEntryOf, isEmptyEntry, isExtendedType, isHybridMbr, isProtectiveMbr, protectiveSectorCount } from './mbr.ts';
import { sectorCountOf } from './types.ts';
import type { DiskGeometry, GptDisk, GptHeader, GptTable, MbrEntry, MbrTable, Problem } from './types.ts';

type Severity = Problem['severity'];

function problem(code: string, severity: Severity, message: string, data?: Record<string, unknown>): Problem {
  return data === undefined ? { code, severity, message } : { code, severity, message, data };
}

/** A closed range of LBAs with a label, for overlap checks. */
interface Extent {
  readonly label: string;
  readonly first: bigint;
  readonly last: bigint;
}

/** Every overlapping pair, each reported once. */
function overlaps(extents: readonly Extent[]): [Extent, Extent][] {
  const sorted = [...extents].sort((a, b) => (a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
  const pairs: [Extent, Extent][] = [];
  for (let i = 0; i < sorted.length; i++) {
    const a = sorted[i]!;
    for (let j = i + 1; j < sorted.length && sorted[j]!.first <= a.last; j++) pairs.push([a, sorted[j]!]);
  }
  return pairs;
}

function misaligned(startLba: bigint, geometry: DiskGeometry): boolean {
  const physical = BigInt(geometry.physicalSectorSize);
  return physical > BigInt(geometry.logicalSectorSize) && (startLba * BigInt(geometry.logicalSectorSize)) % physical !== 0n;
}

const MAX_U32 = 0xffffffffn;

// ---------------------------------------------------------------- MBR

function entryLabel(e: MbrEntry): string {
  return `partition ${e.number}`;
}

function mbrEntryProblems(e: MbrEntry, storedStart: bigint, lastLba: bigint, geometry: DiskGeometry): Problem[] {
  const out: Problem[] = [];
  const data = { number: e.number, startLba: String(e.startLba), sectorCount: String(e.sectorCount) };
  if (e.status !== 0x00 && e.status !== 0x80) {
    out.push(problem('mbr.bad-status', 'error', `${entryLabel(e)} has boot indicator 0x${e.status.toString(16)} (not 0x00/0x80)`, data));
  }
  if (storedStart > MAX_U32 || storedStart < 0n || e.sectorCount > MAX_U32) {
    out.push(problem('mbr.lba-overflow', 'error', `${entryLabel(e)} does not fit the 32-bit MBR fields`, data));
  }
  if (e.sectorCount === 0n) {
    out.push(problem('mbr.empty-size', 'warning', `${entryLabel(e)} has a type but no sectors`, data));
    return out;
  }
  if (e.startLba === 0n) {
    out.push(problem('mbr.overlaps-mbr', 'error', `${entryLabel(e)} starts at LBA 0, over the MBR itself`, data));
  }
  if (e.startLba + e.sectorCount - 1n > lastLba) {
    out.push(problem('mbr.out-of-bounds', 'error', `${entryLabel(e)} ends past the last LBA ${lastLba}`, { ...data, lastLba: String(lastLba) }));
  }
  if (misaligned(e.startLba, geometry)) {
    out.push(problem('mbr.misaligned', 'warning', `${entryLabel(e)} does not start on a physical sector boundary`, data));
  }
  return out;
}

function ebrProblems(table: MbrTable, extended: MbrEntry | undefined, data: readonly Extent[]): Problem[] {
  const out: Problem[] = [];
  if (table.ebrLbas.length === 0) return out;
  if (table.ebrLbas.length !== table.logical.length) {
    out.push(problem('mbr.ebr-count', 'error', `${table.ebrLbas.length} EBR positions for ${table.logical.length} logical partitions`));
    return out;
  }
  if (extended === undefined) return out;
  const extLast = extended.startLba + extended.sectorCount - 1n;
  table.ebrLbas.forEach((ebr, i) => {
    const logical = table.logical[i]!;
    const info = { number: logical.number, ebrLba: String(ebr) };
    const firstWrong = i === 0 && ebr !== extended.startLba;
    if (firstWrong || ebr < extended.startLba || ebr > extLast || ebr >= logical.startLba) {
      out.push(problem('mbr.ebr-position', 'error', `the EBR of partition ${logical.number} at LBA ${ebr} is misplaced`, info));
    }
    for (const d of data) {
      if (ebr >= d.first && ebr <= d.last) {
        out.push(problem('mbr.ebr-inside-partition', 'error', `the EBR at LBA ${ebr} lies inside ${d.label}`, { ...info, inside: d.label }));
      }
    }
  });
  return out;
}

/** Checks an MBR table (primary slots and the logical partitions of its EBR chain) against a disk. */
export function verifyMbr(table: MbrTable, geometry: DiskGeometry): Problem[] {
  const out: Problem[] = [];
  const lastLba = sectorCountOf(geometry) - 1n;
  if (!table.bootSignatureValid) out.push(problem('mbr.boot-signature', 'error', 'bytes 510–511 are not 0x55 0xAA'));
  if (isProtectiveMbr(table)) {
    out.push(problem('mbr.gpt-protective', 'warning', 'the MBR holds a GPT protective (0xEE) entry: the disk is GPT'));
  }
  const used = table.primary.filter((e) => !isEmptyEntry(e));
  const extendeds = used.filter((e) => isExtendedType(e.type));
  if (extendeds.length > 1) out.push(problem('mbr.multiple-extended', 'error', `${extendeds.length} extended partitions (at most one)`));
  const extended = extendedEntryOf(table);
  for (const e of used) out.push(...mbrEntryProblems(e, e.startLba, lastLba, geometry));
  table.logical.forEach((e, i) => {
    const ebr = table.ebrLbas[i] ?? (extended?.startLba ?? 0n);
    out.push(...mbrEntryProblems(e, e.startLba - ebr, lastLba, geometry));
  });
  const active = [...used, ...table.logical].filter((e) => e.status === 0x80);
  if (active.length > 1) {
    out.push(problem('mbr.multiple-active', 'error', `${active.length} partitions are marked active (at most one)`, {
      numbers: active.map((e) => e.number),
    }));
  }
  if (table.logical.length > 0 && extended === undefined) {
    out.push(problem('mbr.logical-without-extended', 'error', 'logical partitions without an extended partition'));
  }
  if (extended !== undefined) {
    const extLast = extended.startLba + extended.sectorCount - 1n;
    for (const e of table.logical) {
      if (e.sectorCount > 0n && (e.startLba <= extended.startLba || e.startLba + e.sectorCount - 1n > extLast)) {
        out.push(problem('mbr.logical-outside-extended', 'error', `${entryLabel(e)} is not inside the extended partition`, { number: e.number }));
      }
    }
  }
  // Primaries (the extended one as a whole) and logicals must not share sectors; logicals sit
  // inside the extended partition by design, so that pair is not an overlap.
  const extent = (e: MbrEntry): Extent => ({ label: entryLabel(e), first: e.startLba, last: e.startLba + e.sectorCount - 1n });
  const dataRegions = [...used.filter((e) => e !== extended), ...table.logical].filter((e) => e.sectorCount > 0n).map(extent);
  const containerLabel = extended === undefined ? undefined : entryLabel(extended);
  const isLogical = (x: Extent): boolean => table.logical.some((l) => entryLabel(l) === x.label);
  const regions = extended === undefined ? dataRegions : [...dataRegions, extent(extended)];
  for (const [a, b] of overlaps(regions)) {
    const containerPair = (a.label === containerLabel && isLogical(b)) || (b.label === containerLabel && isLogical(a));
    if (!containerPair) out.push(problem('mbr.overlap', 'error', `${a.label} and ${b.label} overlap`, { a: a.label, b: b.label }));
  }
  out.push(...ebrProblems(table, extended, dataRegions));
  return out;
}

// ---------------------------------------------------------------- GPT

export type GptCopy = 'primary' | 'backup';

/**
 * Problems that make one header copy untrustworthy (all severity "error"), plus "gpt.revision".
 * Disk-fit problems (usable range past the disk end) are table problems, not header problems, so a
 * table on a truncated disk is still read from its intact primary.
 */
export function gptHeaderProblems(header: GptHeader | undefined, copy: GptCopy, geometry: DiskGeometry): Problem[] {
  if (header === undefined) return [problem(`gpt.${copy}-missing`, 'error', `no ${copy} GPT header ("EFI PART" absent)`, { copy })];
  if (!header.headerCrcValid) {
    // The other fields cannot be trusted, so they are not checked.
    return [problem('gpt.header-crc', 'error', `${copy} GPT header CRC mismatch (or bad header size ${header.headerSize})`, { copy })];
  }
  const out: Problem[] = [];
  const data = { copy };
  if (header.headerSize < GPT_HEADER_SIZE || header.headerSize > geometry.logicalSectorSize) {
    out.push(problem('gpt.header-size', 'error', `${copy} header size ${header.headerSize} is outside 92…sector size`, data));
  }
  if (copy === 'primary' && header.myLba !== 1n) {
    out.push(problem('gpt.header-lba', 'error', `primary header says it is at LBA ${header.myLba}, not 1`, { ...data, myLba: String(header.myLba) }));
  }
  if (!isValidEntryGeometry(header.numberOfEntries, header.sizeOfEntry)) {
    out.push(problem('gpt.entry-geometry', 'error', `${copy} header describes ${header.numberOfEntries} entries of ${header.sizeOfEntry} bytes`, data));
    return out;
  }
  const layout = gptLayoutFor(geometry, header.numberOfEntries, header.sizeOfEntry);
  const arrayLast = header.partitionEntryLba + layout.entrySectors - 1n;
  const arrayOk = copy === 'primary'
    ? header.partitionEntryLba >= 2n && arrayLast < header.firstUsableLba
    : header.partitionEntryLba > header.lastUsableLba && arrayLast < header.myLba;
  if (arrayLast > layout.lastLba) {
    out.push(problem('gpt.entry-lba', 'error', `${copy} entry array at LBA ${header.partitionEntryLba} runs past the end of the disk`, data));
  } else {
    if (!arrayOk) {
      out.push(problem('gpt.entry-lba', 'error', `${copy} entry array at LBA ${header.partitionEntryLba} collides with the header or usable area`, data));
    }
    if (!header.entryArrayCrcValid) out.push(problem('gpt.array-crc', 'error', `${copy} partition entry array CRC mismatch`, data));
  }
  if (header.firstUsableLba > header.lastUsableLba + 1n || header.firstUsableLba <= 1n || (copy === 'backup' && header.lastUsableLba >= header.myLba)) {
    out.push(problem('gpt.usable-range', 'error', `${copy} usable range ${header.firstUsableLba}…${header.lastUsableLba} is inconsistent`, data));
  }
  if (header.revision !== GPT_REVISION) {
    out.push(problem('gpt.revision', 'warning', `${copy} header revision 0x${header.revision.toString(16)} (expected 0x10000)`, data));
  }
  return out;
}

export function isUsableGptHeader(header: GptHeader | undefined, copy: GptCopy, geometry: DiskGeometry): header is GptHeader {
  return gptHeaderProblems(header, copy, geometry).every((p) => p.severity !== 'error');
}

function pmbrProblems(table: GptTable, geometry: DiskGeometry): Problem[] {
  const pmbr = table.protectiveMbr;
  if (pmbr === undefined) return [];
  const out: Problem[] = [];
  if (!pmbr.bootSignatureValid) out.push(problem('gpt.pmbr-signature', 'warning', 'the protective MBR lacks 0x55AA'));
  if (!isProtectiveMbr(pmbr)) {
    out.push(problem('gpt.pmbr-missing', 'warning', 'LBA 0 has no protective (0xEE) entry'));
  } else if (isHybridMbr(pmbr)) {
    out.push(problem('gpt.pmbr-hybrid', 'warning', 'hybrid MBR: the protective MBR also lists partitions'));
  } else {
    const ee = pmbr.primary.find((e) => e.type === MBR_TYPE.gptProtective)!;
    if (ee.startLba !== 1n || ee.sectorCount !== protectiveSectorCount(geometry)) {
      out.push(problem('gpt.pmbr-size', 'warning', 'the protective entry does not cover the whole disk', {
        startLba: String(ee.startLba), sectorCount: String(ee.sectorCount),
      }));
    }
  }
  return out;
}

function gptPartitionProblems(table: GptTable, geometry: DiskGeometry, lastLba: bigint): Problem[] {
  const out: Problem[] = [];
  const seenSlots = new Set<number>();
  const seenGuids = new Map<string, number>();
  const extents: Extent[] = [];
  for (const p of table.partitions) {
    const label = `partition ${p.number}`;
    const data = { number: p.number, firstLba: String(p.firstLba), lastLba: String(p.lastLba) };
    if (!Number.isInteger(p.number) || p.number < 1 || p.number > table.numberOfEntries || seenSlots.has(p.number)) {
      out.push(problem('gpt.bad-slot', 'error', `${label} is not a free slot 1–${table.numberOfEntries}`, data));
    }
    seenSlots.add(p.number);
    if (p.name.length > GPT_NAME_UNITS) out.push(problem('gpt.name-too-long', 'error', `${label} name exceeds 36 UTF-16 units`, data));
    const other = seenGuids.get(p.uniqueGuid);
    if (p.uniqueGuid === ZERO_GUID) {
      out.push(problem('gpt.zero-guid', 'warning', `${label} has an all-zero unique GUID`, data));
    } else if (other !== undefined) {
      out.push(problem('gpt.duplicate-guid', 'warning', `${label} has the same unique GUID as partition ${other}`, { ...data, other }));
    }
    seenGuids.set(p.uniqueGuid, p.number);
    if (p.firstLba > p.lastLba) {
      out.push(problem('gpt.partition-range', 'error', `${label} ends before it starts`, data));
      continue;
    }
    if (p.lastLba > lastLba) {
      out.push(problem('gpt.out-of-bounds', 'error', `${label} ends past the last LBA ${lastLba}`, { ...data, diskLastLba: String(lastLba) }));
    } else if (p.firstLba < table.firstUsableLba || p.lastLba > table.lastUsableLba) {
      out.push(problem('gpt.outside-usable', 'error', `${label} is outside the usable range ${table.firstUsableLba}…${table.lastUsableLba}`, data));
    }
    if (misaligned(p.firstLba, geometry)) out.push(problem('gpt.misaligned', 'warning', `${label} does not start on a physical sector boundary`, data));
    extents.push({ label, first: p.firstLba, last: p.lastLba });
  }
  for (const [a, b] of overlaps(extents)) out.push(problem('gpt.overlap', 'error', `${a.label} and ${b.label} overlap`, { a: a.label, b: b.label }));
  return out;
}

/** Checks one GPT table (not its on-disk copies) against a disk: usable range, bounds, overlaps, slots. */
export function verifyGptTable(table: GptTable, geometry: DiskGeometry): Problem[] {
  const out: Problem[] = [];
  if (table.sectorSize !== geometry.logicalSectorSize) {
    out.push(problem('gpt.sector-size-mismatch', 'error', `table counts ${table.sectorSize}-byte sectors, the disk has ${geometry.logicalSectorSize}`));
  }
  if (!isValidEntryGeometry(table.numberOfEntries, table.sizeOfEntry)) {
    out.push(problem('gpt.entry-geometry', 'error', `${table.numberOfEntries} entries of ${table.sizeOfEntry} bytes`));
    return out;
  }
  const layout = gptLayoutFor(geometry, table.numberOfEntries, table.sizeOfEntry);
  if (table.firstUsableLba < layout.minFirstUsableLba) {
    out.push(problem('gpt.first-usable', 'error', `FirstUsableLBA ${table.firstUsableLba} overlaps the primary entry array (min ${layout.minFirstUsableLba})`));
  }
  if (table.lastUsableLba > layout.maxLastUsableLba) {
    out.push(problem('gpt.last-usable', 'error', `LastUsableLBA ${table.lastUsableLba} is past the backup entry array (max ${layout.maxLastUsableLba}): the disk is smaller than the table`, {
      lastUsableLba: String(table.lastUsableLba), maxLastUsableLba: String(layout.maxLastUsableLba),
    }));
  }
  if (table.firstUsableLba > table.lastUsableLba) out.push(problem('gpt.usable-range', 'error', 'FirstUsableLBA is after LastUsableLBA'));
  if (table.diskGuid === ZERO_GUID) out.push(problem('gpt.zero-guid', 'warning', 'the disk GUID is all zero'));
  out.push(...gptPartitionProblems(table, geometry, layout.lastLba));
  out.push(...pmbrProblems(table, geometry));
  return out;
}

function copiesDiffer(a: GptHeader, b: GptHeader): string[] {
  const fields = ['diskGuid', 'firstUsableLba', 'lastUsableLba', 'numberOfEntries', 'sizeOfEntry', 'entryArrayCrc32'] as const;
  return fields.filter((f) => a[f] !== b[f]);
}

/**
 * Checks a GPT disk as read: both header copies, where they are, whether they agree, and the
 * authoritative table. Problems of the copy not in use are warnings (the table is usable from the
 * other one); with no usable copy they are errors.
 */
export function verifyGpt(disk: GptDisk, geometry: DiskGeometry): Problem[] {
  const out: Problem[] = [];
  const lastLba = sectorCountOf(geometry) - 1n;
  for (const copy of ['primary', 'backup'] as const) {
    const header = copy === 'primary' ? disk.primaryHeader : disk.backupHeader;
    const inUse = disk.table === undefined || disk.source === copy;
    for (const p of gptHeaderProblems(header, copy, geometry)) {
      out.push(p.severity === 'error' && !inUse ? { ...p, severity: 'warning' } : p);
    }
  }
  const { primaryHeader: primary, backupHeader: backup } = disk;
  if (backup !== undefined && backup.headerCrcValid && backup.myLba !== lastLba) {
    out.push(problem('gpt.backup-not-at-end', 'warning', `backup header at LBA ${backup.myLba}, not at the last LBA ${lastLba}`, {
      found: String(backup.myLba), expected: String(lastLba),
    }));
  }
  if (primary !== undefined && primary.headerCrcValid && primary.alternateLba !== lastLba) {
    out.push(problem('gpt.alternate-lba', 'warning', `primary header points to a backup at LBA ${primary.alternateLba}, not at the last LBA ${lastLba}`, {
      alternateLba: String(primary.alternateLba), expected: String(lastLba),
    }));
  }
  if (backup !== undefined && backup.headerCrcValid && backup.alternateLba !== 1n) {
    out.push(problem('gpt.alternate-lba', 'warning', `backup header points to a primary at LBA ${backup.alternateLba}, not 1`, {
      alternateLba: String(backup.alternateLba), expected: '1',
    }));
  }
  if (isUsableGptHeader(primary, 'primary', geometry) && isUsableGptHeader(backup, 'backup', geometry)) {
    const fields = copiesDiffer(primary, backup);
    if (fields.length > 0) out.push(problem('gpt.copies-differ', 'warning', `primary and backup differ in ${fields.join(', ')}`, { fields }));
  }
  if (disk.table === undefined) {
    out.push(problem('gpt.no-valid-header', 'error', 'neither GPT copy is usable'));
    return out;
  }
  if (disk.source === 'backup') out.push(problem('gpt.using-backup', 'warning', 'the primary GPT is damaged; the table was read from the backup copy'));
  out.push(...verifyGptTable(disk.table, geometry));
  return out;
}
