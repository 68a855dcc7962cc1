/**
 * drvload's report. The success line is documented ([CP drvload-command-line-options]):
 *   `DrvLoad: Successfully loaded X:\drivers\viostor\viostor.inf.`
 * and drvload exits non-zero when any INF was not installed. The failure wording is not documented
 * in any source in reach, so every other `DrvLoad:` line is kept as a failure message, with the
 * first error code in it (0x…) picked out; the exit code stays the authority.
 */
import { outputLines } from './text.ts';

export interface DrvloadReport {
  /** INF paths drvload said it loaded. */
  readonly loaded: readonly string[];
  /** Other `DrvLoad:` lines (without the prefix). */
  readonly failures: readonly string[];
  /** First 0x… code in the failure lines, if any. */
  readonly errorCode: string | undefined;
}

export function parseDrvload(stdout: string): DrvloadReport {
  const loaded: string[] = [];
  const failures: string[] = [];
  for (const raw of outputLines(stdout)) {
    const line = raw.trim();
    if (!/^DrvLoad:/i.test(line)) continue;
    const text = line.slice('DrvLoad:'.length).trim();
    const ok = /^Successfully loaded (.+)$/i.exec(text);
    if (ok !== null) loaded.push(ok[1]!.replace(/\.$/, ''));
    else failures.push(text);
  }
  const errorCode = failures.map((f) => /\b0x[0-9a-fA-F]{8}\b/.exec(f)?.[0]).find((c) => c !== undefined);
  return { loaded, failures, errorCode };
}
