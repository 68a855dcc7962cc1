/** Running the real tools the tests check against (sfdisk, sgdisk, mkntfs, …) and temp folders. */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export interface ToolResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number;
}

/** Runs a tool; a non-zero exit is returned, not thrown, so tests can assert on it. */
export async function runTool(file: string, args: readonly string[], options: { input?: string; cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<ToolResult> {
  const child = execFileAsync(file, [...args], { cwd: options.cwd, env: options.env, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' });
  if (options.input !== undefined) {
    child.child.stdin?.end(options.input);
  }
  try {
    const { stdout, stderr } = await child;
    return { stdout, stderr, exitCode: 0 };
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; code?: number | string };
    if (typeof err.code === 'number') {
      return { stdout: err.stdout ?? '', stderr: err.stderr ?? '', exitCode: err.code };
    }
    throw e;
  }
}

/** Like runTool but throws with the tool's own words when it fails. */
export async function mustRun(file: string, args: readonly string[], options: { input?: string; cwd?: string } = {}): Promise<string> {
  const result = await runTool(file, args, options);
  if (result.exitCode !== 0) {
    throw new Error(`${file} ${args.join(' ')} exited ${result.exitCode}: ${result.stderr.trim() || result.stdout.trim()}`);
  }
  return result.stdout;
}

/** A fresh temp folder, removed by the returned cleanup. */
export async function tempDir(prefix = 'lifeline-test-', parent: string = tmpdir()): Promise<{ path: string; cleanup: () => Promise<void> }> {
  const path = await mkdtemp(join(parent, prefix));
  return { path, cleanup: () => rm(path, { recursive: true, force: true }) };
}

export const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
