/**
 * The exe's bundle and asset plan, without building the exe: the SEA rewrites (native addons,
 * version, blessed's widgets and terminfo folder) are in the output, the bundle is the same on
 * every run, and the asset index is one the exe accepts.
 */
import { readFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleApp } from '../../../iso-build/steps/bundle.ts';
import { planAssets } from '../../../iso-build/steps/sea-assets.ts';
import { ASSET_INDEX_KEY, parseSeaAssetIndex } from '../../../src/core/sea-asset-index.ts';
import { runTool, tempDir } from '../../helpers/run.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

let dir: { path: string; cleanup: () => Promise<void> };
let text: string;
beforeAll(async () => {
  dir = await tempDir('lifeline-bundle-');
  const result = await bundleApp({ root: ROOT, outfile: join(dir.path, 'a.cjs'), nodeVersion: '20.20.2', version: '9.8.7-test' });
  text = await readFile(result.outfile, 'utf8');
}, 60_000);
afterAll(() => dir.cleanup());

describe('bundleApp', () => {
  it('loads the native addons from the exe, never with a plain require', () => {
    expect(text).not.toMatch(/require\("(koffi|lz4-napi)"\)/);
    expect(text).toContain('.loadNativeAddon("lz4-napi")');
  });

  it('bakes in the version instead of reading package.json', () => {
    expect(text).toContain('version = "9.8.7-test"');
    expect(text).not.toContain('package.json');
  });

  it("applies both blessed fixes", () => {
    expect(text).toMatch(/\("\.\/widgets\/" \+ \w+ \+ "\.js"\)/);
    expect(text).toContain('(process.env.LIFELINE_BLESSED_USR || __dirname + "/../usr") + "/" + name');
    expect(text).not.toMatch(/__dirname \+ "\/\.\.\/usr\/"/);
  });

  it('with installed natives, requires them from node_modules and runs under plain node', async () => {
    const installed = await bundleApp({ root: ROOT, outfile: join(dir.path, 'installed.cjs'), nodeVersion: '20.20.2', version: '9.8.7-test', natives: 'installed' });
    const bundled = await readFile(installed.outfile, 'utf8');
    expect(bundled).toMatch(/require\("lz4-napi"\)/);
    expect(bundled).toMatch(/require\("koffi"\)/);
    expect(bundled).not.toContain('.loadNativeAddon("lz4-napi")');
    // --help loads every command module, so both natives must resolve.
    const help = await runTool(process.execPath, [installed.outfile, '--help'], { env: { ...process.env, NODE_PATH: join(ROOT, 'node_modules') } });
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toContain('lifeline 9.8.7-test');
  }, 60_000);

  it('holds no path of the build machine and is the same on a second run', async () => {
    expect(text).not.toContain(ROOT);
    const again = await bundleApp({ root: ROOT, outfile: join(dir.path, 'b.cjs'), nodeVersion: '20.20.2', version: '9.8.7-test' });
    expect(await readFile(again.outfile, 'utf8')).toBe(text);
  });
});

describe('planAssets', () => {
  it('indexes the addons and every blessed usr file, in a stable order, in a form the exe accepts', async () => {
    const addons = join(dir.path, 'addons');
    await mkdir(addons, { recursive: true });
    await writeFile(join(addons, 'k.node'), 'koffi');
    await writeFile(join(addons, 'l.node'), 'lz4');
    const input = { addons: { 'lz4-napi': join(addons, 'l.node'), koffi: join(addons, 'k.node') }, blessedUsr: join(ROOT, 'node_modules/blessed/usr'), workDir: join(dir.path, 'w1') };
    const plan = await planAssets(input);
    const index = parseSeaAssetIndex(await readFile(plan.assets[ASSET_INDEX_KEY]!, 'utf8'));
    expect(index).toEqual(plan.index);
    expect(index.addons).toEqual({ koffi: 'native/koffi.node', 'lz4-napi': 'native/lz4-napi.node' });
    expect(index.files).toEqual(expect.arrayContaining(['native/koffi.node', 'blessed/usr/windows-ansi', 'blessed/usr/xterm', 'blessed/usr/fonts/ter-u14n.json']));
    expect(Object.keys(plan.assets)).toEqual([...Object.keys(plan.assets)].sort());
    expect(plan.assets['native/koffi.node']).toBe(join(addons, 'k.node'));

    const elsewhere = await planAssets({ ...input, workDir: join(dir.path, 'w2') });
    expect(elsewhere.index).toEqual(plan.index);
    await writeFile(join(addons, 'l.node'), 'lz4 v2');
    expect((await planAssets({ ...input, workDir: join(dir.path, 'w3') })).index.id).not.toBe(plan.index.id);
  });

  it('refuses an index whose keys would escape the unpack folder', () => {
    const base = { id: 'abcdef0123456789', addons: {}, files: ['a/b'], blessedUsr: null };
    expect(parseSeaAssetIndex(JSON.stringify(base)).files).toEqual(['a/b']);
    expect(() => parseSeaAssetIndex(JSON.stringify({ ...base, files: ['../evil.dll'] }))).toThrow(/relative paths/);
    expect(() => parseSeaAssetIndex(JSON.stringify({ ...base, files: ['C:/evil.dll'] }))).toThrow(/relative paths/);
    expect(() => parseSeaAssetIndex(JSON.stringify({ ...base, addons: { koffi: 'native/koffi.node' } }))).toThrow(/not one of the files/);
  });
});
