/**
 * Files embedded in lifeline.exe as SEA assets (iso-build/steps/sea-assets.ts puts them there):
 * the Windows builds of the native addons and blessed's terminfo folder. A SEA can load neither
 * from inside itself, so they are unpacked once into %TEMP%\lifeline-<id>\ (on WinPE: the X: RAM
 * disk) and used from there. `<id>` hashes the assets, so two builds never share a folder; a file
 * is written to a temp name and renamed, so two copies starting at once do not see half a file.
 */
import { getAsset, getRawAsset, isSea } from 'node:sea';
import { existsSync, mkdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { RecoveryError } from '../core/errors.ts';
import { ASSET_INDEX_KEY, parseSeaAssetIndex } from '../core/sea-asset-index.ts';
import type { SeaAssetIndex } from '../core/sea-asset-index.ts';

export interface SeaRuntime {
  readonly index: SeaAssetIndex;
  /** Where the assets were unpacked. */
  readonly dir: string;
}

let runtime: SeaRuntime | undefined;

function unpack(dir: string, key: string): string {
  const target = join(dir, ...key.split('/'));
  const raw = getRawAsset(key);
  const bytes = typeof raw === 'string' ? new TextEncoder().encode(raw) : new Uint8Array(raw);
  if (existsSync(target) && statSync(target).size === bytes.length) return target;
  mkdirSync(dirname(target), { recursive: true });
  const temp = `${target}.${process.pid}.tmp`;
  writeFileSync(temp, bytes);
  renameSync(temp, target);
  return target;
}

/**
 * Unpacks the assets and points blessed at its terminfo folder. Must run before blessed is first
 * loaded (its terminfo paths are fixed when the module loads). Undefined when not running as the exe.
 */
export function prepareSeaRuntime(): SeaRuntime | undefined {
  if (runtime !== undefined || !isSea()) return runtime;
  const index = parseSeaAssetIndex(getAsset(ASSET_INDEX_KEY, 'utf8'));
  const dir = join(tmpdir(), `lifeline-${index.id}`);
  for (const key of index.files) unpack(dir, key);
  if (index.blessedUsr !== null) process.env.LIFELINE_BLESSED_USR = join(dir, ...index.blessedUsr.split('/'));
  runtime = { index, dir };
  return runtime;
}

/** A native addon's exports, loaded from the exe's assets (the bundle's stand-in for `require('koffi')`). */
export function loadNativeAddon(name: string): unknown {
  const ready = prepareSeaRuntime();
  const key = ready?.index.addons[name];
  if (ready === undefined || key === undefined) {
    throw new RecoveryError('runtime.addon-missing', `the native module ${name} is only available inside lifeline.exe (as an embedded asset)`, { data: { name } });
  }
  const module = { exports: {} as unknown };
  process.dlopen(module, join(ready.dir, ...key.split('/')));
  return module.exports;
}
