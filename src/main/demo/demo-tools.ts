/** The Debian tools the demo's sample disk needs: found, installed (as root), or named. */
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Each tool with the Debian package that has it. */
const TOOLS: readonly (readonly [tool: string, pkg: string])[] = [
  ['sfdisk', 'fdisk'], ['sgdisk', 'gdisk'], ['mkntfs', 'ntfs-3g'], ['ntfscp', 'ntfs-3g'], ['ntfscat', 'ntfs-3g'],
  ['mkfs.vfat', 'dosfstools'], ['mcopy', 'mtools'], ['mmd', 'mtools'],
];

function onPath(tool: string): boolean {
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter), '/usr/sbin', '/sbin'];
  return dirs.some((dir) => {
    try {
      accessSync(join(dir, tool), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

export function missingPackages(): string[] {
  return [...new Set(TOOLS.filter(([tool]) => !onPath(tool)).map(([, pkg]) => pkg))];
}

/** True when every tool is there afterwards; says what it does and what is missing. */
export function ensureDemoTools(say: (text: string) => void): boolean {
  const missing = missingPackages();
  if (missing.length === 0) return true;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot || !onPath('apt-get')) {
    say(`The demo builds a Windows-like disk with Debian's disk tools, and these packages are missing: ${missing.join(' ')}\n`
      + `Install them, then run the demo again:\n  sudo apt-get update && sudo apt-get install -y ${missing.join(' ')}`);
    return false;
  }
  say(`Installing ${missing.join(' ')} with apt-get …`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [['update'], ['install', '-y', '--no-install-recommends', ...missing]]) {
    const result = spawnSync('apt-get', args, { stdio: 'inherit', env });
    if (result.status !== 0) {
      say(`apt-get ${args.join(' ')} failed (exit ${String(result.status)}); install ${missing.join(' ')} yourself and run the demo again.`);
      return false;
    }
  }
  return missingPackages().length === 0;
}
