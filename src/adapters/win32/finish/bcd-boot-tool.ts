/**
 * BootTool on Windows (reference §6): the restored OS's own bcdboot writes boot files and BCD onto
 * the system partition, bcdedit reads the store back and re-points {bootmgr} device and {default}
 * device/osdevice when they name the wrong partitions, then a file checklist confirms the result.
 *   UEFI: bcdboot W:\Windows /s <ESP>: /f UEFI           store <ESP>:\EFI\Microsoft\Boot\BCD
 *   BIOS: bcdboot W:\Windows /s <active>: /f BIOS        store <active>:\Boot\BCD
 * BIOS without an active restored partition: the seed's recipe (350 MB NTFS primary, active) when
 * the Windows disk has a free primary slot and room; otherwise the Windows volume itself is marked
 * active and becomes the system partition (as on single-partition installs).
 */
import type { StepOutcome } from '../../../core/protocol/jobs.ts';
import type { AbortSignalLike } from '../../../core/units.ts';
import type { BootTool, RestoredSystem } from '../../../ports/boot-tool.ts';
import type { DiskInventory } from '../../../ports/disk-inventory.ts';
import { bcdField } from '../parse/bcdedit.ts';
import type { BcdEntry } from '../parse/bcdedit.ts';
import { runBcdboot } from '../tools/bcdboot.ts';
import { runBcdeditEnum, runBcdeditSetDevice } from '../tools/bcdedit.ts';
import { biosSystemPartitionScript, diskpartScript, runDiskpart } from '../tools/diskpart.ts';
import { fileProbe, locateWindows } from './locate-windows.ts';
import type { FinishDeps, LocatedSystem } from './locate-windows.ts';
import { failedOutcome, throwIfAborted } from './outcome.ts';
import { freeDriveLetter } from './windows-volumes.ts';

const BOOTMGR_GUID = '{9dea862c-5cdd-4e70-acc1-f32b344d4795}';
const MIB = 1024n * 1024n;
export const SYSTEM_PARTITION_MB = 350;

/** Room on a disk for one more primary partition. */
export interface DiskRoom {
  /** Largest unallocated stretch, in bytes. */
  readonly largestGapBytes: bigint;
  readonly freePrimarySlots: number;
}

export interface BcdBootToolDeps extends FinishDeps {
  /** Free space of a disk; default: read from the Windows disk inventory. */
  readonly diskRoom?: (diskNumber: number) => Promise<DiskRoom>;
}

/** Largest gap and free MBR primary slots, from the inventory's view of the disk. */
export async function inventoryDiskRoom(inventory: DiskInventory, diskNumber: number): Promise<DiskRoom> {
  const disk = (await inventory.listDisks()).find((d) => d.number === diskNumber);
  if (disk === undefined) return { largestGapBytes: 0n, freePrimarySlots: 0 };
  const sector = BigInt(disk.geometry.logicalSectorSize);
  const ranges = disk.partitions.map((p) => [p.startLba * sector, (p.startLba + p.sectorCount) * sector] as const).sort((a, b) => (a[0] < b[0] ? -1 : 1));
  let cursor = MIB;
  let largest = 0n;
  for (const [start, end] of [...ranges, [disk.geometry.sizeBytes, disk.geometry.sizeBytes] as const]) {
    if (start > cursor && start - cursor > largest) largest = start - cursor;
    if (end > cursor) cursor = end;
  }
  // Logical partitions (5+) live in an extended partition, which takes a primary slot itself.
  const primaries = disk.partitions.filter((p) => p.number <= 4).length + (disk.partitions.some((p) => p.number > 4) ? 1 : 0);
  return { largestGapBytes: largest, freePrimarySlots: Math.max(0, 4 - primaries) };
}

async function defaultDiskRoom(diskNumber: number): Promise<DiskRoom> {
  const { Win32DiskInventory } = await import('../disk-inventory.ts');
  return inventoryDiskRoom(new Win32DiskInventory(), diskNumber);
}

interface BcdCheck { readonly what: string; readonly expected: string; readonly actual: string | undefined; readonly fix: { entry: string; element: 'device' | 'osdevice'; letter: string } }

const same = (a: string | undefined, b: string) => a !== undefined && a.trim().toLowerCase() === b.toLowerCase();

/** The {bootmgr} device and the default loader's device/osdevice against the partitions they must name. */
export function bcdChecks(entries: readonly BcdEntry[], systemLetter: string, windowsLetter: string): BcdCheck[] | string {
  const bootmgr = entries.find((e) => ['{bootmgr}', BOOTMGR_GUID].includes(e.identifier?.toLowerCase() ?? ''));
  if (bootmgr === undefined) return 'the store has no Windows Boot Manager entry';
  const defaultId = bcdField(bootmgr, 'default');
  const loader = defaultId === undefined ? undefined : entries.find((e) => e.identifier?.toLowerCase() === defaultId.toLowerCase());
  if (loader === undefined) return `the boot manager's default entry ${defaultId ?? '(none)'} is not in the store`;
  const system = `partition=${systemLetter}`;
  const windows = `partition=${windowsLetter}`;
  return [
    { what: '{bootmgr} device', expected: system, actual: bcdField(bootmgr, 'device'), fix: { entry: '{bootmgr}', element: 'device', letter: systemLetter } },
    { what: '{default} device', expected: windows, actual: bcdField(loader, 'device'), fix: { entry: '{default}', element: 'device', letter: windowsLetter } },
    { what: '{default} osdevice', expected: windows, actual: bcdField(loader, 'osdevice'), fix: { entry: '{default}', element: 'osdevice', letter: windowsLetter } },
  ];
}

export class BcdBootTool implements BootTool {
  constructor(private readonly deps: BcdBootToolDeps) {}

  async makeBootable(system: RestoredSystem, signal?: AbortSignalLike): Promise<StepOutcome> {
    let step = 'locating the restored Windows';
    try {
      throwIfAborted(signal);
      const found = await locateWindows(system, this.deps);
      if ('skipped' in found) return { status: 'skipped', why: found.skipped };
      const located = found.located;
      const detail: string[] = [`Windows on ${located.windows.letter} (${located.windows.restored.disk} partition ${located.windows.restored.partitionNumber})`];
      if (located.assigned.length > 0) detail.push(`letters assigned: ${located.assigned.join(', ')}`);

      step = 'preparing the system partition';
      const systemLetter = await this.systemPartition(located, detail, signal);
      if (typeof systemLetter !== 'string') return systemLetter.outcome;

      step = 'bcdboot';
      throwIfAborted(signal);
      const uefi = located.firmware === 'uefi';
      await runBcdboot(this.deps.runner, { windowsDir: `${located.windows.letter}\\Windows`, systemPartition: systemLetter, firmware: uefi ? 'UEFI' : 'BIOS' });
      detail.push(`bcdboot ${located.windows.letter}\\Windows /s ${systemLetter} /f ${uefi ? 'UEFI' : 'BIOS'}: done`);

      step = 'checking the BCD store';
      const store = uefi ? `${systemLetter}\\EFI\\Microsoft\\Boot\\BCD` : `${systemLetter}\\Boot\\BCD`;
      const bcd = await this.verifyBcd(store, systemLetter, located.windows.letter, detail, signal);
      if (bcd !== undefined) return bcd;

      step = 'checking the boot files';
      const exists = fileProbe(this.deps);
      const files = uefi ? [`${systemLetter}\\EFI\\Microsoft\\Boot\\bootmgfw.efi`, store] : [`${systemLetter}\\bootmgr`, store];
      const missing: string[] = [];
      for (const file of files) {
        const present = await exists(file);
        detail.push(`[${present ? 'pass' : 'FAIL'}] ${file} present`);
        if (!present) missing.push(file);
      }
      if (missing.length > 0) {
        return { status: 'failed', code: 'boot.files-missing', message: `bcdboot reported success but ${missing.join(', ')} is missing:\n${detail.join('\n')}` };
      }
      return { status: 'done', detail: detail.join('\n') };
    } catch (e) {
      return failedOutcome(e, step);
    }
  }

  /** The system partition's letter, after any diskpart work it needed; or the outcome that ends the step. */
  private async systemPartition(located: LocatedSystem, detail: string[], signal: AbortSignalLike | undefined): Promise<string | { outcome: StepOutcome }> {
    const { windows, bootTarget } = located;
    if (bootTarget !== undefined) {
      detail.push(`system partition ${bootTarget.letter} (${located.firmware === 'uefi' ? 'EFI system partition' : 'active'}, ${bootTarget.restored.disk} partition ${bootTarget.restored.partitionNumber})`);
      return bootTarget.letter;
    }
    if (located.firmware === 'uefi') {
      return { outcome: { status: 'failed', code: 'boot.esp-missing', message: 'the restore holds no mounted EFI system partition (type c12a7328-f81f-11d2-ba4b-00a0c93ec93b); UEFI cannot boot Windows without one' } };
    }
    throwIfAborted(signal);
    const room = await (this.deps.diskRoom ?? defaultDiskRoom)(windows.diskNumber);
    const tempDir = this.deps.tempDir === undefined ? {} : { tempDir: this.deps.tempDir };
    if (room.freePrimarySlots > 0 && room.largestGapBytes >= BigInt(SYSTEM_PARTITION_MB + 1) * MIB) {
      const letter = freeDriveLetter(located.mounted, new Set(), 'K');
      if (letter === undefined) return { outcome: { status: 'failed', code: 'boot.no-drive-letter', message: 'no free drive letter for the new system partition' } };
      await runDiskpart(this.deps.runner, biosSystemPartitionScript({ disk: windows.diskNumber, letter, sizeMb: SYSTEM_PARTITION_MB }), tempDir);
      detail.push(`no active partition was restored: created a ${SYSTEM_PARTITION_MB} MB active NTFS system partition ${letter} on disk ${windows.diskNumber}`);
      return letter;
    }
    await runDiskpart(this.deps.runner, diskpartScript([
      { op: 'select-disk', disk: windows.diskNumber },
      { op: 'select-partition', partition: windows.restored.partitionNumber },
      { op: 'active' },
    ]), tempDir);
    detail.push(`no active partition was restored and disk ${windows.diskNumber} has no room for one: the Windows volume ${windows.letter} was marked active and is the system partition`);
    return windows.letter;
  }

  /** Reads the store back, fixes wrong device elements, reads again; an outcome when it cannot be made right. */
  private async verifyBcd(store: string, systemLetter: string, windowsLetter: string, detail: string[], signal: AbortSignalLike | undefined): Promise<StepOutcome | undefined> {
    const runner = this.deps.runner;
    const first = bcdChecks(await runBcdeditEnum(runner, store), systemLetter, windowsLetter);
    if (typeof first === 'string') return { status: 'failed', code: 'boot.bcd-invalid', message: `${store}: ${first}` };
    const wrong = first.filter((c) => !same(c.actual, c.expected));
    if (wrong.length === 0) {
      for (const c of first) detail.push(`[pass] ${c.what} ${c.expected}`);
      return undefined;
    }
    for (const c of wrong) {
      throwIfAborted(signal);
      await runBcdeditSetDevice(runner, store, c.fix.entry, c.fix.element, { letter: c.fix.letter });
      detail.push(`fixed ${c.what}: was ${c.actual ?? '(not set)'}, set to ${c.expected}`);
    }
    const again = bcdChecks(await runBcdeditEnum(runner, store), systemLetter, windowsLetter);
    if (typeof again === 'string') return { status: 'failed', code: 'boot.bcd-invalid', message: `${store} after the fix: ${again}` };
    for (const c of again) detail.push(`[${same(c.actual, c.expected) ? 'pass' : 'FAIL'}] ${c.what} ${c.expected}${same(c.actual, c.expected) ? '' : ` (is ${c.actual ?? 'not set'})`}`);
    const still = again.filter((c) => !same(c.actual, c.expected));
    if (still.length > 0) {
      return { status: 'failed', code: 'boot.bcd-mismatch', message: `${store} still points elsewhere after bcdedit /set:\n${detail.join('\n')}` };
    }
    return undefined;
  }
}
