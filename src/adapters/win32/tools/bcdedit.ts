/**
 * bcdedit against an offline BCD store (`/store` always: WinPE's own store is not the target):
 *   bcdedit /store S:\EFI\Microsoft\Boot\BCD /enum all /v
 *   bcdedit /store K:\Boot\BCD /set {bootmgr} device partition=K:
 *   bcdedit /store K:\Boot\BCD /set {default} osdevice partition=C:
 * `partition=X:` is resolved into a disk signature/GUID + partition offset/GUID when bcdedit runs,
 * so run it after the final identities are on the disk. A device path (`\Device\Harddisk0\Partition1`)
 * works without a letter; `locate` makes the entry search for its file at boot.
 */
import type { ProcessRunner } from '../../../ports/process-runner.ts';
import { parseBcdeditCreated, parseBcdeditEnum } from '../parse/bcdedit.ts';
import type { BcdEntry } from '../parse/bcdedit.ts';
import { invalidArgument, runChecked } from './tool-error.ts';
import type { ToolCommand } from './tool-error.ts';
import { driveLetter, guid, plainText, windowsPath } from './validate.ts';

const TOOL = 'bcdedit';
const EXE = 'bcdedit.exe';

const ALIASES = new Set([
  '{bootmgr}', '{fwbootmgr}', '{default}', '{current}', '{memdiag}', '{ntldr}', '{globalsettings}',
  '{bootloadersettings}', '{resumeloadersettings}', '{ramdiskoptions}', '{dbgsettings}', '{emssettings}',
  '{badmemory}', '{hypervisorsettings}',
]);

/** A well-known alias such as `{default}`, or an object GUID → `{guid}`. */
export function bcdIdentifier(value: string): string {
  const lower = value.trim().toLowerCase();
  if (ALIASES.has(lower)) return lower;
  return `{${guid(TOOL, 'identifier', value)}}`;
}

export type BcdDeviceTarget =
  | { readonly letter: string }
  | { readonly devicePath: string }
  | { readonly locate: true };

function deviceValue(target: BcdDeviceTarget): string[] {
  if ('letter' in target) return [`partition=${driveLetter(TOOL, 'partition', target.letter)}`];
  if ('devicePath' in target) {
    if (!/^\\Device\\(Harddisk\d{1,3}\\Partition\d{1,3}|HarddiskVolume\d{1,4})$/i.test(target.devicePath)) {
      throw invalidArgument(TOOL, 'partition', target.devicePath, 'expected \\Device\\HarddiskN\\PartitionM or \\Device\\HarddiskVolumeN');
    }
    return [`partition=${target.devicePath}`];
  }
  return ['locate'];
}

function storeArgs(store: string): string[] {
  return ['/store', windowsPath(TOOL, 'store', store)];
}

export function bcdeditEnumCommand(store: string, options: { what?: string; verbose?: boolean } = {}): ToolCommand {
  const what = options.what === undefined || options.what === 'all' ? 'all' : bcdIdentifier(options.what);
  return { file: EXE, args: [...storeArgs(store), '/enum', what, ...(options.verbose === false ? [] : ['/v'])] };
}

/** `/set <entry> device|osdevice <target>`: point a boot entry at a partition. */
export function bcdeditSetDeviceCommand(store: string, entry: string, element: 'device' | 'osdevice', target: BcdDeviceTarget): ToolCommand {
  return { file: EXE, args: [...storeArgs(store), '/set', bcdIdentifier(entry), element, ...deviceValue(target)] };
}

/** `/create /d <description> /application osloader` → a new loader entry; its GUID is in the output. */
export function bcdeditCreateLoaderCommand(store: string, description: string): ToolCommand {
  return { file: EXE, args: [...storeArgs(store), '/create', '/d', plainText(TOOL, 'description', description, 256), '/application', 'osloader'] };
}

const check = (timeoutMs: number) => ({ code: 'tool.bcdedit-failed', options: { timeoutMs } });

export async function runBcdeditEnum(runner: ProcessRunner, store: string, options: { what?: string; timeoutMs?: number } = {}): Promise<BcdEntry[]> {
  const result = await runChecked(runner, bcdeditEnumCommand(store, { what: options.what }), check(options.timeoutMs ?? 60_000));
  return parseBcdeditEnum(result.stdout);
}

export async function runBcdeditSetDevice(
  runner: ProcessRunner, store: string, entry: string, element: 'device' | 'osdevice', target: BcdDeviceTarget, timeoutMs = 60_000,
): Promise<void> {
  await runChecked(runner, bcdeditSetDeviceCommand(store, entry, element, target), check(timeoutMs));
}

/** Creates a loader entry and returns its `{guid}`; rejects when bcdedit does not name one. */
export async function runBcdeditCreateLoader(runner: ProcessRunner, store: string, description: string, timeoutMs = 60_000): Promise<string> {
  const result = await runChecked(runner, bcdeditCreateLoaderCommand(store, description), {
    ...check(timeoutMs),
    failureIn: (r) => (parseBcdeditCreated(r.stdout) === undefined ? 'bcdedit did not report the new entry' : undefined),
  });
  return parseBcdeditCreated(result.stdout)!;
}
