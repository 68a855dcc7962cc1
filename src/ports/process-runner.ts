/**
 * Runs an external tool (diskpart, dism, bcdboot, losetup, sfdisk, …) and hands back what it said.
 * Implementations:
 * - MUST start `file` directly, never through a shell: `args` reach the tool exactly as given, one
 *   array element per argument, so `$(…)`, `;`, `|`, `&&`, quotes and spaces in an argument are data;
 * - MUST resolve (not reject) when the tool ran and exited, whatever its exit code: a non-zero exit
 *   is the caller's to judge, with the tool's own stdout and stderr;
 * - MUST reject with a `RecoveryError` when the tool could not be started (`process.not-found`,
 *   `process.spawn-failed`), ran past `timeoutMs` (`process.timeout`, after killing it), was killed
 *   by a signal (`process.killed`) or printed more than the output cap (`process.output-limit`);
 *   `data` carries `file`, `args` and, where there was output, the tails of stdout and stderr;
 * - MUST close the tool's stdin after writing `input` (or at once when there is none), so a tool
 *   that reads stdin never waits for a person;
 * - SHOULD NOT hang when the tool exits but a child it started keeps stdout open.
 */
export interface RunOptions {
  /** Written to the tool's stdin, then stdin is closed. */
  readonly input?: string | Uint8Array;
  /** Kill the tool after this long. Default: no limit. */
  readonly timeoutMs?: number;
  /** Working directory. Default: the runner's own. */
  readonly cwd?: string;
  /** Variables added to (and overriding) the runner's environment, e.g. `{ LC_ALL: 'C' }`. */
  readonly env?: Readonly<Record<string, string>>;
  /** How stdout and stderr are decoded. Default 'utf8'. */
  readonly encoding?: 'utf8' | 'utf16le' | 'latin1';
  /** Cap on bytes kept per stream; past it the tool is killed. Default 16 MiB. */
  readonly maxOutputBytes?: number;
}

export interface RunResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Stable codes of the errors `run` rejects with. */
export type ProcessErrorCode =
  | 'process.not-found'
  | 'process.spawn-failed'
  | 'process.timeout'
  | 'process.killed'
  | 'process.output-limit';

export interface ProcessRunner {
  run(file: string, args: readonly string[], options?: RunOptions): Promise<RunResult>;
}
