/** Checks a restored sample disk with tools nobody here wrote: sgdisk -v, sfdisk identity, ntfscat/mtype hashes. */
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import type { FixtureDisk } from '../../adapters/linux/sample-disks.ts';
import { extractPartition } from '../../adapters/linux/sample-disks.ts';

function run(file: string, args: readonly string[]): { status: number | null; stdout: Buffer } {
  const result = spawnSync(file, args, { maxBuffer: 256 * 1024 * 1024 });
  return { status: result.status, stdout: result.stdout ?? Buffer.alloc(0) };
}

export async function verifyRestoredSample(sample: FixtureDisk, target: string): Promise<{ ok: boolean; lines: string[] }> {
  const lines: string[] = [];
  let ok = true;
  const check = (passed: boolean, text: string): void => {
    ok &&= passed;
    lines.push(`${passed ? 'ok  ' : 'FAIL'}  ${text}`);
  };
  const sgdisk = run('sgdisk', ['-v', target]).stdout.toString();
  check(/No problems found/.test(sgdisk), 'sgdisk -v: the GPT has no problems');
  const identity = (path: string) => /label-id: (\S+)/.exec(run('sfdisk', ['--dump', path]).stdout.toString())?.[1];
  check(identity(target) !== undefined && identity(target) === identity(sample.path), 'sfdisk --dump: same disk GUID as the source');
  for (const partition of sample.partitions.filter((p) => p.filesystem !== 'none')) {
    const image = await extractPartition(target, partition, `${target}.p${partition.number}`);
    for (const file of partition.files) {
      const bytes = partition.filesystem === 'ntfs'
        ? run('ntfscat', [image, `/${file.path}`]).stdout
        : run('mtype', ['-i', image, `::/${file.path}`]).stdout;
      const same = createHash('sha256').update(bytes).digest('hex') === file.sha256;
      check(same, `${partition.name}: ${file.path} reads back with its SHA-256 (${partition.filesystem === 'ntfs' ? 'ntfscat' : 'mtype'})`);
    }
  }
  return { ok, lines };
}
