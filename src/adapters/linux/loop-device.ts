/**
 * Loop devices over image files, through losetup (util-linux). Root only. No partition scan (-P):
 * callers address partitions by offset on the whole device, which works on every kernel.
 */
import { RecoveryError } from '../../core/errors.ts';
import type { SectorSize } from '../../core/units.ts';
import type { ProcessRunner } from '../../ports/process-runner.ts';
import { ChildProcessRunner } from '../node/child-process-runner.ts';

export interface AttachLoopOptions {
  /** Logical sector size the loop device presents (losetup --sector-size). Default: the kernel's, 512. */
  readonly sectorSize?: SectorSize;
  readonly readOnly?: boolean;
  readonly runner?: ProcessRunner;
}

const TIMEOUT_MS = 30_000;

function toolError(code: string, message: string, data: Record<string, unknown>): RecoveryError {
  return new RecoveryError(code, message, { data });
}

/** Attaches `imagePath` to the first free loop device and returns its path ("/dev/loop3"). */
export async function attachLoop(imagePath: string, options: AttachLoopOptions = {}): Promise<string> {
  const runner = options.runner ?? new ChildProcessRunner();
  const args = ['--find', '--show'];
  if (options.sectorSize !== undefined) args.push('--sector-size', String(options.sectorSize));
  if (options.readOnly === true) args.push('--read-only');
  args.push('--', imagePath);
  const result = await runner.run('losetup', args, { timeoutMs: TIMEOUT_MS, env: { LC_ALL: 'C' } });
  const device = result.stdout.trim();
  if (result.exitCode !== 0) {
    throw toolError('loop.attach-failed', `losetup could not attach ${imagePath}: ${result.stderr.trim()}`,
      { imagePath, args, exitCode: result.exitCode, stderr: result.stderr });
  }
  if (!/^\/dev\/loop\d+$/.test(device)) {
    throw toolError('loop.attach-failed', `losetup printed "${device}" instead of a loop device`, { imagePath, args, stdout: result.stdout });
  }
  return device;
}

/** Detaches a loop device attached by attachLoop. */
export async function detachLoop(device: string, runner: ProcessRunner = new ChildProcessRunner()): Promise<void> {
  const result = await runner.run('losetup', ['--detach', device], { timeoutMs: TIMEOUT_MS, env: { LC_ALL: 'C' } });
  if (result.exitCode !== 0) {
    throw toolError('loop.detach-failed', `losetup could not detach ${device}: ${result.stderr.trim()}`,
      { device, exitCode: result.exitCode, stderr: result.stderr });
  }
}
