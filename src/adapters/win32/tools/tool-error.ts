/**
 * How every Windows tool wrapper runs its command and reports failure: a RecoveryError with a
 * stable code (`tool.<tool>-failed`), the command line, the exit code and the tail of the output,
 * so an operator (or the report sent to the server) sees what the tool itself said.
 */
import { RecoveryError } from '../../../core/errors.ts';
import type { ProcessRunner, RunOptions, RunResult } from '../../../ports/process-runner.ts';

/** One tool invocation: the executable and its arguments, one array element per argv entry. */
export interface ToolCommand {
  readonly file: string;
  readonly args: readonly string[];
}

export const OUTPUT_TAIL_CHARS = 2_000;

/** The last `max` characters of what the tool printed (stdout, then stderr). */
export function outputTail(result: Pick<RunResult, 'stdout' | 'stderr'>, max = OUTPUT_TAIL_CHARS): string {
  const both = result.stderr.trim() === '' ? result.stdout : `${result.stdout}\n${result.stderr}`;
  return both.trimEnd().slice(-max);
}

/** The command as one line, for messages and logs (arguments with spaces quoted). */
export function commandLine(command: ToolCommand): string {
  return [command.file, ...command.args].map((a) => (/[\s"]/.test(a) || a === '' ? `"${a}"` : a)).join(' ');
}

export function toolError(
  code: string,
  command: ToolCommand,
  result: RunResult,
  detail: string,
  extra: Record<string, unknown> = {},
): RecoveryError {
  return new RecoveryError(code, `${commandLine(command)} failed (exit ${result.exitCode}): ${detail}`, {
    data: { command: [command.file, ...command.args], exitCode: result.exitCode, outputTail: outputTail(result), ...extra },
  });
}

/** A builder's refusal of a value it will not pass to a tool. */
export function invalidArgument(tool: string, argument: string, value: unknown, reason: string): RecoveryError {
  return new RecoveryError('tool.invalid-argument', `${tool}: ${argument} ${JSON.stringify(value)} is not usable: ${reason}`, {
    data: { tool, argument, value, reason },
  });
}

export interface CheckedRun {
  /** Stable error code for this tool, e.g. `tool.dism-failed`. */
  readonly code: string;
  /** Failure text found in the output — fails even an allowed exit code — or undefined. */
  readonly failureIn?: (result: RunResult) => string | undefined;
  /** Words that explain a failing exit code (default: failureIn, then the last output line). */
  readonly explain?: (result: RunResult) => string | undefined;
  /** Exit codes that mean success. Default [0]. */
  readonly okExitCodes?: readonly number[];
  /** Extra `data` for the error, computed from the run. */
  readonly details?: (result: RunResult) => Record<string, unknown>;
  readonly options?: RunOptions;
}

/** The tool's last words, when nothing better explains a failing exit code. */
function lastLine(result: RunResult): string {
  const lines = outputTail(result, 500).split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '');
  return lines.at(-1) ?? 'no output';
}

/** Runs the command; rejects with a tool error on a failing exit code or failure text. */
export async function runChecked(runner: ProcessRunner, command: ToolCommand, check: CheckedRun): Promise<RunResult> {
  const result = await runner.run(command.file, command.args, check.options);
  const okCodes = check.okExitCodes ?? [0];
  const reason = okCodes.includes(result.exitCode)
    ? check.failureIn?.(result)
    : (check.explain?.(result) ?? check.failureIn?.(result) ?? lastLine(result));
  if (reason !== undefined) throw toolError(check.code, command, result, reason, check.details?.(result) ?? {});
  return result;
}
