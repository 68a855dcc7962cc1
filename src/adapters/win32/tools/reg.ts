/**
 * reg.exe for offline hives of the restored Windows (reference §6.5):
 *   reg load HKLM\<mount> E:\Windows\System32\config\SOFTWARE
 *   reg add "HKLM\<mount>\…" /v <name> /t REG_SZ|REG_MULTI_SZ|REG_DWORD|… /d <data> /f
 *   reg query "HKLM\<mount>\…" [/v <name>] [/s]
 *   reg unload HKLM\<mount>        (fails while any handle into the hive is open)
 * REG_MULTI_SZ items are joined with reg's literal `\0` separator; an empty item would end the list,
 * so it is refused. reg exits 0 on success and 1 on failure.
 */
import type { ProcessRunner } from '../../../ports/process-runner.ts';
import { isRegNotFound, parseRegQuery } from '../parse/reg-query.ts';
import type { RegKey, RegValue } from '../parse/reg-query.ts';
import { invalidArgument, runChecked, toolError } from './tool-error.ts';
import type { ToolCommand } from './tool-error.ts';
import { guid, integerIn, windowsPath } from './validate.ts';

const TOOL = 'reg';
const EXE = 'reg.exe';
const ROOT = /^(HKLM|HKCU|HKCR|HKU|HKCC|HKEY_LOCAL_MACHINE|HKEY_CURRENT_USER|HKEY_CLASSES_ROOT|HKEY_USERS|HKEY_CURRENT_CONFIG)(\\|$)/i;

export type RegWrite =
  | { readonly type: 'REG_SZ' | 'REG_EXPAND_SZ'; readonly value: string }
  | { readonly type: 'REG_MULTI_SZ'; readonly value: readonly string[] }
  | { readonly type: 'REG_DWORD'; readonly value: number }
  | { readonly type: 'REG_QWORD'; readonly value: bigint }
  | { readonly type: 'REG_BINARY'; readonly value: Uint8Array };

const CONTROL = /[\u0000-\u001f]/;

function keyPath(argument: string, key: string): string {
  if (!ROOT.test(key) || CONTROL.test(key) || key.includes('"') || key.endsWith('\\')) {
    throw invalidArgument(TOOL, argument, key, 'expected a key such as HKLM\\OFFLINE\\Microsoft');
  }
  return key;
}

/** `HKLM\<name>` or `HKU\<name>`: the only places reg load can mount a hive. */
function mountPoint(key: string): string {
  if (!/^(HKLM|HKU|HKEY_LOCAL_MACHINE|HKEY_USERS)\\[^\\]+$/i.test(key) || CONTROL.test(key) || key.includes('"')) {
    throw invalidArgument(TOOL, 'mount key', key, 'expected HKLM\\<name> or HKU\\<name>');
  }
  return key;
}

function text(argument: string, value: string): string {
  if (CONTROL.test(value)) throw invalidArgument(TOOL, argument, value, 'contains a control character');
  return value;
}

function dataText(w: RegWrite): string {
  switch (w.type) {
    case 'REG_SZ':
    case 'REG_EXPAND_SZ':
      return text('data', w.value);
    case 'REG_MULTI_SZ':
      for (const item of w.value) {
        if (item === '' || item.includes('\\0')) throw invalidArgument(TOOL, 'data', item, 'a REG_MULTI_SZ item may be neither empty nor contain \\0');
        text('data', item);
      }
      return w.value.join('\\0');
    case 'REG_DWORD':
      return String(integerIn(TOOL, 'data', w.value, 0, 0xffffffff));
    case 'REG_QWORD':
      if (w.value < 0n || w.value >= 1n << 64n) throw invalidArgument(TOOL, 'data', String(w.value), 'not a 64-bit unsigned value');
      return w.value.toString();
    case 'REG_BINARY':
      return [...w.value].map((b) => b.toString(16).padStart(2, '0')).join('');
  }
}

export function regLoadCommand(mountKey: string, hiveFile: string): ToolCommand {
  return { file: EXE, args: ['load', mountPoint(mountKey), windowsPath(TOOL, 'hive file', hiveFile)] };
}

export function regUnloadCommand(mountKey: string): ToolCommand {
  return { file: EXE, args: ['unload', mountPoint(mountKey)] };
}

/** `name` undefined writes the key's default value (`/ve`). Always `/f`: no prompt in WinPE. */
export function regAddCommand(key: string, name: string | undefined, data: RegWrite): ToolCommand {
  const nameArgs = name === undefined ? ['/ve'] : ['/v', text('value name', name)];
  return { file: EXE, args: ['add', keyPath('key', key), ...nameArgs, '/t', data.type, '/d', dataText(data), '/f'] };
}

export function regQueryCommand(key: string, options: { value?: string; recursive?: boolean } = {}): ToolCommand {
  const args = ['query', keyPath('key', key)];
  if (options.value !== undefined) args.push('/v', text('value name', options.value));
  if (options.recursive === true) args.push('/s');
  return { file: EXE, args };
}

/** Under the SOFTWARE hive's root (mount it first): where ASR and backup apps look after a bare-metal restore. */
export const ASR_RESTORE_SESSION_KEY = 'Microsoft\\Windows NT\\CurrentVersion\\ASR\\RestoreSession';

export interface AsrRestoreSession {
  /** A new random GUID per restore; its change tells VSS requesters a restore happened. */
  readonly lastInstance: string;
  /** Volume GUID paths (`\\?\Volume{…}`) restored or reformatted; omitted when volumes were left intact. */
  readonly restoredVolumes?: readonly string[];
  /** 1 = quick format of re-created disks; omitted leaves the value alone. */
  readonly quickFormat?: boolean;
}

function volumeGuidPath(path: string): string {
  const m = /^\\\\\?\\Volume\{([0-9a-fA-F-]{36})\}\\?$/.exec(path);
  if (m === null) throw invalidArgument(TOOL, 'restored volume', path, 'expected \\\\?\\Volume{GUID}');
  return `\\\\?\\Volume{${guid(TOOL, 'restored volume', m[1]!)}}`;
}

/** reg add commands writing RestoreSession under a loaded SOFTWARE hive mounted at `mountKey`. */
export function asrRestoreSessionCommands(mountKey: string, session: AsrRestoreSession): ToolCommand[] {
  const key = `${mountPoint(mountKey)}\\${ASR_RESTORE_SESSION_KEY}`;
  // UuidToString form (lower case, no braces), as the ASR documentation suggests for the cookie.
  const out = [regAddCommand(key, 'LastInstance', { type: 'REG_SZ', value: guid(TOOL, 'lastInstance', session.lastInstance) })];
  if (session.restoredVolumes !== undefined) {
    out.push(regAddCommand(key, 'RestoredVolumes', { type: 'REG_MULTI_SZ', value: session.restoredVolumes.map(volumeGuidPath) }));
  }
  if (session.quickFormat !== undefined) out.push(regAddCommand(key, 'QuickFormat', { type: 'REG_DWORD', value: session.quickFormat ? 1 : 0 }));
  return out;
}

const check = (timeoutMs = 60_000) => ({ code: 'tool.reg-failed', options: { timeoutMs } });

export async function runReg(runner: ProcessRunner, command: ToolCommand): Promise<string> {
  return (await runChecked(runner, command, check())).stdout;
}

/** One value, or undefined when the key or value does not exist. */
export async function regQueryValue(runner: ProcessRunner, key: string, name: string): Promise<RegValue | undefined> {
  const command = regQueryCommand(key, { value: name });
  const result = await runner.run(command.file, command.args, check().options);
  const parsed = parseRegQuery(`${result.stdout}\n${result.stderr}`);
  if (result.exitCode !== 0) {
    if (isRegNotFound(parsed)) return undefined;
    throw toolError('tool.reg-failed', command, result, parsed.error ?? `exit code ${result.exitCode}`);
  }
  return parsed.keys[0]?.values.find((v) => v.name.toLowerCase() === name.toLowerCase());
}

export async function regQueryKey(runner: ProcessRunner, key: string, recursive = false): Promise<readonly RegKey[]> {
  return parseRegQuery(await runReg(runner, regQueryCommand(key, { recursive }))).keys;
}

/**
 * Loads the restored SOFTWARE hive, writes RestoreSession, and unloads the hive again even when a
 * write failed (a hive left loaded cannot be used by the restored Windows until WinPE reboots).
 */
export async function writeAsrRestoreSession(
  runner: ProcessRunner,
  softwareHive: string,
  session: AsrRestoreSession,
  mountKey = 'HKLM\\LIFELINE_SOFTWARE',
): Promise<void> {
  const writes = asrRestoreSessionCommands(mountKey, session);
  await runReg(runner, regLoadCommand(mountKey, softwareHive));
  let writeFailure: unknown;
  try {
    for (const command of writes) await runReg(runner, command);
  } catch (e) {
    writeFailure = e;
  }
  try {
    await runReg(runner, regUnloadCommand(mountKey));
  } catch (e) {
    // The write failure is the cause worth reporting; an unload failure alone still fails the step.
    if (writeFailure === undefined) throw e;
  }
  if (writeFailure !== undefined) throw writeFailure;
}
