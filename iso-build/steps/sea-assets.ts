/**
 * The SEA assets: the Windows addons of koffi and lz4-napi, blessed's usr/ folder (terminfo,
 * termcap, fonts), and the index src/main/sea-assets.ts reads at start-up. Keys are sorted and the
 * index id hashes keys and contents, so the same inputs give the same blob.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { ASSET_INDEX_KEY } from '../../src/core/sea-asset-index.ts';
import type { SeaAssetIndex } from '../../src/core/sea-asset-index.ts';

export interface AssetPlan {
  /** Asset key → file on disk, keys sorted. */
  readonly assets: Readonly<Record<string, string>>;
  readonly index: SeaAssetIndex;
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...await filesUnder(path));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

export interface AssetInput {
  /** Module name → its Windows .node file. */
  readonly addons: Readonly<Record<string, string>>;
  /** node_modules/blessed/usr */
  readonly blessedUsr: string;
  /** Where the index file is written. */
  readonly workDir: string;
}

export async function planAssets(input: AssetInput): Promise<AssetPlan> {
  const files = new Map<string, string>();
  const addons: Record<string, string> = {};
  for (const [name, path] of Object.entries(input.addons).sort()) {
    addons[name] = `native/${name}.node`;
    files.set(addons[name], path);
  }
  for (const path of await filesUnder(input.blessedUsr)) {
    files.set(`blessed/usr/${relative(input.blessedUsr, path).split(/[\\/]/).join('/')}`, path);
  }
  const keys = [...files.keys()].sort();
  const hash = createHash('sha256');
  for (const key of keys) {
    hash.update(`${key}\0`);
    hash.update(await readFile(files.get(key)!));
  }
  const index: SeaAssetIndex = { id: hash.digest('hex').slice(0, 16), addons, files: keys, blessedUsr: 'blessed/usr' };
  await mkdir(input.workDir, { recursive: true });
  const indexFile = join(input.workDir, 'assets.json');
  await writeFile(indexFile, `${JSON.stringify(index, null, 2)}\n`);
  const assets: Record<string, string> = {};
  for (const key of [...keys, ASSET_INDEX_KEY].sort()) assets[key] = key === ASSET_INDEX_KEY ? indexFile : files.get(key)!;
  return { assets, index };
}
