/**
 * bcdboot writes boot files and a fresh BCD store onto the system partition:
 *   <W:>\Windows\System32\bcdboot.exe <W:>\Windows /s <S:> /f UEFI|BIOS|ALL [/l <locale>] [/c]
 * The restored OS's own bcdboot is used by default, so boot files match the OS version (Microsoft
 * does the same in its apply scripts). /s is always given: without it bcdboot picks the firmware's
 * system partition, which in WinPE may be the boot stick. With /s no NVRAM entry is created; UEFI
 * then boots through \EFI\Boot\bootx64.efi. Run it after the final disk signature / GUIDs are set.
 */
import type { ProcessRunner } from '../../../ports/process-runner.ts';
import { invalidArgument, runChecked } from './tool-error.ts';
import type { ToolCommand } from './tool-error.ts';
import { driveLetter, windowsPath } from './validate.ts';

const TOOL = 'bcdboot';

export interface BcdbootPlan {
  /** The restored Windows folder, e.g. `C:\Windows`. */
  readonly windowsDir: string;
  /** The system partition's letter (`K:` for a BIOS system partition, `S:` for an ESP). */
  readonly systemPartition: string;
  readonly firmware: 'UEFI' | 'BIOS' | 'ALL';
  /** Boot manager language, e.g. `zh-cn`; bcdboot's default is en-us. */
  readonly locale?: string;
  /** `/c`: do not migrate elements of an existing BCD (start clean after a restore). */
  readonly clean?: boolean;
  /** Run WinPE's bcdboot instead of the restored OS's own. */
  readonly useWinPeBcdboot?: boolean;
}

export function bcdbootCommand(plan: BcdbootPlan): ToolCommand {
  const windowsDir = windowsPath(TOOL, 'windowsDir', plan.windowsDir.replace(/\\+$/, ''));
  if (!/^[A-Za-z]:\\/.test(windowsDir)) throw invalidArgument(TOOL, 'windowsDir', plan.windowsDir, 'expected a folder on a drive letter, e.g. C:\\Windows');
  const args = [windowsDir, '/s', driveLetter(TOOL, 'systemPartition', plan.systemPartition), '/f', plan.firmware];
  if (plan.locale !== undefined) {
    if (!/^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8}){0,2}$/.test(plan.locale)) throw invalidArgument(TOOL, 'locale', plan.locale, 'expected a locale such as en-us or zh-cn');
    args.push('/l', plan.locale.toLowerCase());
  }
  if (plan.clean === true) args.push('/c');
  const file = plan.useWinPeBcdboot === true ? 'bcdboot.exe' : `${windowsDir}\\System32\\bcdboot.exe`;
  return { file, args };
}

/** Runs bcdboot; rejects with `tool.bcdboot-failed` on a non-zero exit. */
export async function runBcdboot(runner: ProcessRunner, plan: BcdbootPlan, timeoutMs = 300_000): Promise<string> {
  const result = await runChecked(runner, bcdbootCommand(plan), { code: 'tool.bcdboot-failed', options: { timeoutMs } });
  return result.stdout;
}
