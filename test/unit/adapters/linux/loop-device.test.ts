import { describe, expect, it } from 'vitest';
import { isRecoveryError } from '../../../../src/core/errors.ts';
import { attachLoop, detachLoop } from '../../../../src/adapters/linux/loop-device.ts';
import type { ProcessRunner, RunResult } from '../../../../src/ports/process-runner.ts';

/** Records each call and answers with the next scripted result. */
function scriptedRunner(results: RunResult[]): ProcessRunner & { calls: { file: string; args: readonly string[] }[] } {
  const calls: { file: string; args: readonly string[] }[] = [];
  return {
    calls,
    async run(file, args) {
      calls.push({ file, args });
      const next = results.shift();
      if (next === undefined) throw new Error(`unexpected call: ${file} ${args.join(' ')}`);
      return next;
    },
  };
}

describe('attachLoop / detachLoop', () => {
  it('asks losetup for a free device with the sector size and read-only flag, as separate arguments', async () => {
    const runner = scriptedRunner([{ exitCode: 0, stdout: '/dev/loop7\n', stderr: '' }]);
    expect(await attachLoop('/images/a disk;x.img', { sectorSize: 4096, readOnly: true, runner })).toBe('/dev/loop7');
    expect(runner.calls).toEqual([
      { file: 'losetup', args: ['--find', '--show', '--sector-size', '4096', '--read-only', '--', '/images/a disk;x.img'] },
    ]);
  });

  it("reports losetup's own words when it fails, and refuses output that is not a loop device", async () => {
    const failing = scriptedRunner([{ exitCode: 1, stdout: '', stderr: 'losetup: x.img: failed to set up loop device: Permission denied\n' }]);
    const error = await attachLoop('x.img', { runner: failing }).catch((e: unknown) => e);
    expect(isRecoveryError(error) && error.code).toBe('loop.attach-failed');
    expect(String((error as Error).message)).toContain('Permission denied');
    const odd = scriptedRunner([{ exitCode: 0, stdout: '/dev/sda\n', stderr: '' }]);
    const oddError = await attachLoop('x.img', { runner: odd }).catch((e: unknown) => e);
    expect(isRecoveryError(oddError) && oddError.code).toBe('loop.attach-failed');
  });

  it('detaches by device path and reports a failed detach', async () => {
    const runner = scriptedRunner([{ exitCode: 0, stdout: '', stderr: '' }, { exitCode: 1, stdout: '', stderr: 'losetup: /dev/loop9: detach failed\n' }]);
    await detachLoop('/dev/loop3', runner);
    expect(runner.calls[0]).toEqual({ file: 'losetup', args: ['--detach', '/dev/loop3'] });
    const error = await detachLoop('/dev/loop9', runner).catch((e: unknown) => e);
    expect(isRecoveryError(error) && error.code).toBe('loop.detach-failed');
  });
});
