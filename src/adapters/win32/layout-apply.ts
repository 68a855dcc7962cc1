/**
 * Writes a partition table through Windows' own IOCTLs and proves it landed (reference §2.7):
 *   1. IOCTL_DISK_CREATE_DISK        style and identity (MBR signature / GPT disk GUID, entry count)
 *   2. IOCTL_DISK_SET_DRIVE_LAYOUT_EX the partitions (offsets, types, GPT partition GUIDs, attributes, names)
 *   3. MBR boot code, raw: CREATE_DISK keeps whatever boot code LBA 0 had; sector 0 lies outside
 *      every volume, so the write needs no lock
 *   4. IOCTL_DISK_UPDATE_PROPERTIES  Windows re-reads the table; flush
 *   5. read-back: our own codecs over the device (readPartitionTable) and Windows' view
 *      (IOCTL_DISK_GET_DRIVE_LAYOUT_EX) must both match the table asked for.
 * The disk must be open writable with its volumes locked (PhysicalDrive does that). A failure
 * names the step and the steps already done, so a report can say what was written.
 */
import { RecoveryError } from '../../core/errors.ts';
import { BOOT_CODE_SIZE, isEmptyEntry } from '../../core/partition/mbr.ts';
import { readPartitionTable } from '../../core/partition/read-table.ts';
import type { GptTable, MbrEntry, MbrTable, PartitionTable, Problem } from '../../core/partition/types.ts';
import type { BlockDevice } from '../../ports/block-device.ts';
import { Win32CallError } from './kernel32.ts';
import { decodeDriveLayout, driveLayoutFor, encodeCreateDisk, encodeDriveLayout, layoutProblems, tableFromDriveLayout } from './layout-writer.ts';
import { IOCTL } from './structs.ts';

/** A disk open for writing that also takes DeviceIoControl calls (PhysicalDrive). */
export interface LayoutDisk extends BlockDevice {
  ioctl(code: number, input: Uint8Array | null, outputSize: number): Promise<Uint8Array>;
}

export type ApplyStep = 'create-disk' | 'set-drive-layout' | 'boot-code' | 'update-properties' | 'flush' | 'read-back';

export interface ApplyResult {
  readonly steps: readonly ApplyStep[];
  /** What Windows did differently from the table (renumbered GPT slots, usable range, …). */
  readonly warnings: readonly Problem[];
  /** The table as read back with our codecs. */
  readonly written: PartitionTable;
}

function problem(code: string, severity: Problem['severity'], message: string, data?: Record<string, unknown>): Problem {
  return data === undefined ? { code, severity, message } : { code, severity, message, data };
}

function compareMbrEntries(what: string, want: readonly MbrEntry[], got: readonly MbrEntry[], out: Problem[]): void {
  if (want.length !== got.length) out.push(problem('layout.count', 'error', `${want.length} ${what} partitions asked for, ${got.length} found`));
  want.forEach((w, i) => {
    const g = got[i];
    if (g === undefined) return;
    const fields = { type: [w.type, g.type], startLba: [w.startLba, g.startLba], sectorCount: [w.sectorCount, g.sectorCount], active: [w.status === 0x80, g.status === 0x80] };
    for (const [field, [a, b]] of Object.entries(fields)) {
      if (a !== b) out.push(problem('layout.mismatch', 'error', `${what} partition ${w.number}: ${field} ${String(b)} instead of ${String(a)}`, { number: w.number, field }));
    }
  });
}

function compareMbr(want: MbrTable, got: MbrTable, checkBootCode: boolean, out: Problem[]): void {
  if (want.diskSignature >>> 0 !== got.diskSignature >>> 0) {
    out.push(problem('layout.identity', 'error', `disk signature ${got.diskSignature.toString(16)} instead of ${want.diskSignature.toString(16)}`));
  }
  const used = (t: MbrTable) => t.primary.filter((e) => !isEmptyEntry(e)).sort((a, b) => a.number - b.number);
  compareMbrEntries('primary', used(want), used(got), out);
  compareMbrEntries('logical', want.logical, got.logical, out);
  if (checkBootCode && want.bootCode.some((b, i) => i < BOOT_CODE_SIZE && got.bootCode[i] !== b)) {
    out.push(problem('layout.boot-code', 'error', 'the MBR boot code differs from the table'));
  }
}

function compareGpt(want: GptTable, got: GptTable, out: Problem[]): void {
  if (want.diskGuid !== got.diskGuid) out.push(problem('layout.identity', 'error', `disk GUID ${got.diskGuid} instead of ${want.diskGuid}`));
  if (want.firstUsableLba !== got.firstUsableLba || want.lastUsableLba !== got.lastUsableLba) {
    out.push(problem('layout.usable-range', 'warning', `usable LBAs ${got.firstUsableLba}–${got.lastUsableLba} instead of ${want.firstUsableLba}–${want.lastUsableLba}`));
  }
  const byGuid = new Map(got.partitions.map((p) => [p.uniqueGuid, p]));
  for (const w of want.partitions) {
    const g = byGuid.get(w.uniqueGuid);
    if (g === undefined) {
      out.push(problem('layout.missing', 'error', `partition ${w.number} (${w.uniqueGuid}) is not on the disk`, { number: w.number }));
      continue;
    }
    byGuid.delete(w.uniqueGuid);
    const fields = { typeGuid: [w.typeGuid, g.typeGuid], firstLba: [w.firstLba, g.firstLba], lastLba: [w.lastLba, g.lastLba], attributes: [w.attributes, g.attributes], name: [w.name, g.name] };
    for (const [field, [a, b]] of Object.entries(fields)) {
      if (a !== b) out.push(problem('layout.mismatch', 'error', `partition ${w.number}: ${field} ${String(b)} instead of ${String(a)}`, { number: w.number, field }));
    }
    if (w.number !== g.number) out.push(problem('layout.renumbered', 'warning', `partition ${w.number} is entry ${g.number}`, { number: w.number, entry: g.number }));
  }
  for (const extra of byGuid.values()) out.push(problem('layout.extra', 'error', `partition ${extra.number} (${extra.uniqueGuid}) was not asked for`));
}

/**
 * How `got` differs from `want`: identity, partitions (GPT matched by unique GUID), MBR boot code
 * when `checkBootCode`. CHS values and where Windows puts GPT's usable range are not compared as errors.
 */
export function compareTables(want: PartitionTable, got: PartitionTable | undefined, options: { checkBootCode?: boolean } = {}): Problem[] {
  if (got === undefined || got.style !== want.style) {
    return [problem('layout.style', 'error', `the disk reads as ${got?.style ?? 'no table'}, not ${want.style}`)];
  }
  const out: Problem[] = [];
  if (want.style === 'mbr') compareMbr(want, got as MbrTable, options.checkBootCode ?? true, out);
  else compareGpt(want, got as GptTable, out);
  return out;
}

const errorsOf = (problems: readonly Problem[]) => problems.filter((p) => p.severity === 'error');

function stepError(step: ApplyStep, steps: readonly ApplyStep[], disk: LayoutDisk, cause: unknown): RecoveryError {
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new RecoveryError('layout.write-failed', `writing the partition table of ${disk.path} failed at ${step}: ${detail}`, {
    cause, data: { path: disk.path, step, done: [...steps], ...(cause instanceof Win32CallError ? { win32Error: cause.win32Error } : {}) },
  });
}

/** Writes `table` to `disk` with Windows' IOCTLs and verifies it by reading it back (see the header). */
export async function applyPartitionTable(disk: LayoutDisk, table: PartitionTable): Promise<ApplyResult> {
  const sector = disk.geometry.logicalSectorSize;
  const planned = layoutProblems(table, disk.geometry);
  if (errorsOf(planned).length > 0) {
    throw new RecoveryError('layout.unsupported', `the table cannot be written to ${disk.path} through IOCTLs: ${errorsOf(planned).map((p) => p.message).join('; ')}`, {
      data: { path: disk.path, problems: planned },
    });
  }
  const steps: ApplyStep[] = [];
  const step = async (name: ApplyStep, work: () => Promise<unknown>) => {
    try {
      await work();
    } catch (e) {
      throw stepError(name, steps, disk, e);
    }
    steps.push(name);
  };
  await step('create-disk', () => disk.ioctl(IOCTL.DISK_CREATE_DISK, encodeCreateDisk(table), 0));
  await step('set-drive-layout', () => disk.ioctl(IOCTL.DISK_SET_DRIVE_LAYOUT_EX, encodeDriveLayout(driveLayoutFor(table, sector)), 0));
  if (table.style === 'mbr' && table.bootCode.some((b) => b !== 0)) {
    await step('boot-code', async () => {
      const lba0 = await disk.read(0n, sector);
      lba0.set(table.bootCode.subarray(0, BOOT_CODE_SIZE), 0);
      await disk.write(0n, lba0);
    });
  }
  await step('update-properties', () => disk.ioctl(IOCTL.DISK_UPDATE_PROPERTIES, null, 0));
  await step('flush', () => disk.flush());

  let written: PartitionTable | undefined;
  let problems: Problem[] = [];
  await step('read-back', async () => {
    const read = await readPartitionTable((lba, count) => disk.read(lba * BigInt(sector), count * sector), disk.geometry);
    written = read.table;
    const windowsView = tableFromDriveLayout(decodeDriveLayout(await disk.ioctl(IOCTL.DISK_GET_DRIVE_LAYOUT_EX, null, 48 + 144 * 16)), sector);
    problems = [
      ...errorsOf(read.problems),
      ...compareTables(table, read.table),
      ...compareTables(table, windowsView, { checkBootCode: false }).map((p) => ({ ...p, message: `Windows' view: ${p.message}` })),
    ];
  });
  if (errorsOf(problems).length > 0 || written === undefined) {
    throw new RecoveryError('layout.readback-mismatch', `the partition table read back from ${disk.path} is not the one written: ${errorsOf(problems).map((p) => p.message).join('; ')}`, {
      data: { path: disk.path, problems, done: steps },
    });
  }
  return { steps, warnings: [...planned, ...problems], written };
}
