/**
 * DISM driver servicing of the restored (offline) Windows:
 *   dism /Image:E:\ /English [/LogPath:<file>] [/ScratchDir:<dir>] /Add-Driver /Driver:<inf|folder>… [/Recurse] [/ForceUnsigned]
 *   dism /Image:E:\ /English [/LogPath:<file>] /Get-Drivers [/All] /Format:List
 * Order as documented: image, global options, servicing command and its arguments. /English
 * always, so the parsers see English keys. Pass /LogPath on a real disk: the default log lives in
 * WinPE's small RAM scratch space. Exit 0 = success, 3010 = success but restart required.
 */
import type { ProcessRunner } from '../../../ports/process-runner.ts';
import { DISM_RESTART_REQUIRED, dismExitCodeText, parseDismAddDriver, parseDismDrivers, parseDismError } from '../parse/dism.ts';
import type { DismAddDriverReport, DismDriverList } from '../parse/dism.ts';
import { invalidArgument, runChecked } from './tool-error.ts';
import type { ToolCommand } from './tool-error.ts';
import { windowsPath } from './validate.ts';

const TOOL = 'dism';
const EXE = 'dism.exe';

export interface DismCommon {
  /** Root of the offline image, the folder holding `Windows` (e.g. `E:\`). */
  readonly image: string;
  readonly logPath?: string;
  readonly scratchDir?: string;
}

export interface DismAddDriver extends DismCommon {
  /** INF files or folders, installed in this order. */
  readonly drivers: readonly string[];
  readonly recurse?: boolean;
  /** Installs unsigned x64 drivers (tests only: boot-critical drivers still need a signature at boot). */
  readonly forceUnsigned?: boolean;
}

export interface DismGetDrivers extends DismCommon {
  /** Include inbox drivers (`/All`). */
  readonly all?: boolean;
}

/** `E:` → `E:\`; DISM wants the image root as a folder. */
function imageRoot(image: string): string {
  const root = /^[A-Za-z]:$/.test(image) ? `${image}\\` : image;
  return windowsPath(TOOL, 'image', root);
}

function globalArgs(c: DismCommon): string[] {
  const args = [`/Image:${imageRoot(c.image)}`, '/English'];
  if (c.logPath !== undefined) args.push(`/LogPath:${windowsPath(TOOL, 'logPath', c.logPath)}`);
  if (c.scratchDir !== undefined) args.push(`/ScratchDir:${windowsPath(TOOL, 'scratchDir', c.scratchDir)}`);
  return args;
}

export function dismAddDriverCommand(c: DismAddDriver): ToolCommand {
  if (c.drivers.length === 0) throw invalidArgument(TOOL, 'drivers', c.drivers, 'at least one INF or folder is needed');
  const args = [...globalArgs(c), '/Add-Driver', ...c.drivers.map((d) => `/Driver:${windowsPath(TOOL, 'driver', d)}`)];
  if (c.recurse === true) args.push('/Recurse');
  if (c.forceUnsigned === true) args.push('/ForceUnsigned');
  return { file: EXE, args };
}

export function dismGetDriversCommand(c: DismGetDrivers): ToolCommand {
  const args = [...globalArgs(c), '/Get-Drivers'];
  if (c.all === true) args.push('/All');
  args.push('/Format:List');
  return { file: EXE, args };
}

const OK_CODES = [0, DISM_RESTART_REQUIRED];

function dismCheck(timeoutMs: number) {
  return {
    code: 'tool.dism-failed',
    okExitCodes: OK_CODES,
    failureIn: (r: { stdout: string; exitCode: number }) => {
      const e = parseDismError(r.stdout);
      if (e !== undefined) return `Error: ${e.code}${e.message === '' ? '' : ` ${e.message}`}`;
      return OK_CODES.includes(r.exitCode) ? undefined : `DISM exit code ${dismExitCodeText(r.exitCode)}`;
    },
    details: (r: { stdout: string; exitCode: number }) => ({ dismError: parseDismError(r.stdout), dismExitCode: dismExitCodeText(r.exitCode) }),
    options: { timeoutMs },
  };
}

export interface DismAddDriverResult extends DismAddDriverReport {
  readonly restartRequired: boolean;
}

/** Adds the drivers; rejects with `tool.dism-failed` (data.dismError) when DISM reports an error. */
export async function runDismAddDriver(runner: ProcessRunner, c: DismAddDriver, timeoutMs = 1_800_000): Promise<DismAddDriverResult> {
  const result = await runChecked(runner, dismAddDriverCommand(c), dismCheck(timeoutMs));
  return { ...parseDismAddDriver(result.stdout), restartRequired: result.exitCode === DISM_RESTART_REQUIRED };
}

export async function runDismGetDrivers(runner: ProcessRunner, c: DismGetDrivers, timeoutMs = 600_000): Promise<DismDriverList> {
  const result = await runChecked(runner, dismGetDriversCommand(c), dismCheck(timeoutMs));
  return parseDismDrivers(result.stdout);
}
