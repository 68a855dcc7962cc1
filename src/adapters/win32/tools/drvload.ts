/**
 * drvload loads a driver into the running WinPE now (a NIC or disk controller WinPE lacks):
 * `drvload <inf>`. One INF per run, so each INF gets its own verdict; the syntax also accepts a
 * comma-separated list, whose quoting with spaces is not documented. Everything drvload loads is
 * gone after a reboot; an INF whose files are missing beside it fails ("file not found").
 */
import type { ProcessRunner } from '../../../ports/process-runner.ts';
import { parseDrvload } from '../parse/drvload.ts';
import type { DrvloadReport } from '../parse/drvload.ts';
import { invalidArgument, runChecked } from './tool-error.ts';
import type { ToolCommand } from './tool-error.ts';
import { windowsPath } from './validate.ts';

const TOOL = 'drvload';

export function drvloadCommand(infPath: string): ToolCommand {
  windowsPath(TOOL, 'inf', infPath);
  if (!/\.inf$/i.test(infPath)) throw invalidArgument(TOOL, 'inf', infPath, 'drvload takes an .inf file');
  return { file: 'drvload.exe', args: [infPath] };
}

/** Loads one INF; rejects with `tool.drvload-failed` when drvload exits non-zero (its documented failure signal). */
export async function runDrvload(runner: ProcessRunner, infPath: string, timeoutMs = 300_000): Promise<DrvloadReport> {
  const result = await runChecked(runner, drvloadCommand(infPath), {
    code: 'tool.drvload-failed',
    explain: (r) => parseDrvload(r.stdout).failures[0],
    details: (r) => ({ inf: infPath, errorCode: parseDrvload(r.stdout).errorCode }),
    options: { timeoutMs },
  });
  return parseDrvload(result.stdout);
}
