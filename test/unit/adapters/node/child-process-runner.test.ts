import { realpath, readdir } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isRecoveryError } from '../../../../src/core/errors.ts';
import type { RecoveryError } from '../../../../src/core/errors.ts';
import { ChildProcessRunner } from '../../../../src/adapters/node/child-process-runner.ts';
import { tempDir } from '../../../helpers/run.ts';

const runner = new ChildProcessRunner();

async function rejection(promise: Promise<unknown>): Promise<RecoveryError> {
  const outcome = await promise.then(() => undefined, (e: unknown) => e);
  if (!isRecoveryError(outcome)) throw new Error(`expected a RecoveryError, got ${String(outcome)}`);
  return outcome;
}

/** Node itself prints the argv it received, so the check needs no shell on the way. */
const echoArgv = ['-e', 'process.stdout.write(JSON.stringify(process.argv.slice(1)))', '--'];

describe('ChildProcessRunner', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  beforeEach(async () => {
    dir = await tempDir();
  });
  afterEach(async () => {
    await dir.cleanup();
  });

  it('resolves with the exit code, stdout and stderr of a failing tool', async () => {
    const result = await runner.run('sh', ['-c', 'echo out; echo err >&2; exit 3']);
    expect(result).toEqual({ exitCode: 3, stdout: 'out\n', stderr: 'err\n' });
    expect((await runner.run('true', [])).exitCode).toBe(0);
  });

  it('passes every argument through unchanged, with no shell in between', async () => {
    const args = ['$(touch pwned1)', 'a; touch pwned2', '`touch pwned3`', '&& echo hi', '*', 'with space', '"quoted"', "it's", '', '>out.txt'];
    const result = await runner.run(process.execPath, [...echoArgv, ...args], { cwd: dir.path });
    expect(result.exitCode).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual(args);
    expect(await readdir(dir.path)).toEqual([]);
  });

  it('writes input to stdin and closes it; without input stdin is closed at once', async () => {
    expect((await runner.run('cat', [], { input: 'select disk 1\nclean\n' })).stdout).toBe('select disk 1\nclean\n');
    expect((await runner.run('cat', [], { input: new Uint8Array([0x68, 0x69]) })).stdout).toBe('hi');
    expect(await runner.run('cat', [], { timeoutMs: 5_000 })).toEqual({ exitCode: 0, stdout: '', stderr: '' });
  });

  it('runs in cwd with extra environment variables', async () => {
    const result = await runner.run('sh', ['-c', 'pwd; echo "$LIFELINE_TEST_VAR"'], { cwd: dir.path, env: { LIFELINE_TEST_VAR: 'x y' } });
    expect(result.stdout).toBe(`${await realpath(dir.path)}\nx y\n`);
  });

  it('decodes output in the encoding asked for', async () => {
    const script = "process.stdout.write(Buffer.from('Datenträger 1', 'utf16le'))";
    expect((await runner.run(process.execPath, ['-e', script], { encoding: 'utf16le' })).stdout).toBe('Datenträger 1');
  });

  it('rejects with process.not-found for a missing tool', async () => {
    const error = await rejection(runner.run('lifeline-no-such-tool', ['x']));
    expect(error.code).toBe('process.not-found');
    expect(error.data.file).toBe('lifeline-no-such-tool');
  });

  it('kills a tool that runs past its timeout', async () => {
    const started = Date.now();
    const error = await rejection(runner.run('sleep', ['20'], { timeoutMs: 200 }));
    expect(error.code).toBe('process.timeout');
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('kills a tool that ignores SIGTERM after the grace period', async () => {
    const started = Date.now();
    const error = await rejection(runner.run('sh', ['-c', 'trap "" TERM; echo ready; exec sleep 20'], { timeoutMs: 200 }));
    expect(error.code).toBe('process.timeout');
    expect(error.data.stdoutTail).toBe('ready\n');
    expect(Date.now() - started).toBeLessThan(6_000);
  });

  it('does not wait for a grandchild that keeps stdout open after the tool exited', async () => {
    const started = Date.now();
    const result = await runner.run('sh', ['-c', 'sleep 4 & echo done']);
    expect(result).toEqual({ exitCode: 0, stdout: 'done\n', stderr: '' });
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('kills a tool that prints more than the output cap', async () => {
    const error = await rejection(runner.run('yes', ['lifeline'], { maxOutputBytes: 64 * 1024, timeoutMs: 10_000 }));
    expect(error.code).toBe('process.output-limit');
    // What was kept before the kill, cut to a tail (at any byte, so only the letters are known).
    expect(String(error.data.stdoutTail)).toMatch(/^[efiln\n]{100,2000}$/);
  });

  it('rejects with process.killed when a signal ends the tool', async () => {
    const error = await rejection(runner.run('sh', ['-c', 'kill -KILL $$']));
    expect(error.code).toBe('process.killed');
    expect(error.data.signal).toBe('SIGKILL');
  });
});
