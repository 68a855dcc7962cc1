/**
 * The contract between the exe build (iso-build/steps/sea-assets.ts writes it) and the exe at
 * start-up (src/main/sea-assets.ts reads it): which SEA assets lifeline.exe carries, and which of
 * them are native addons. Stored as the asset `lifeline/assets.json`.
 */
import { RecoveryError } from './errors.ts';

export const ASSET_INDEX_KEY = 'lifeline/assets.json';

export interface SeaAssetIndex {
  /** Hash of every asset key and content (hex), names the unpack folder. */
  readonly id: string;
  /** Module name → asset key of its Windows addon, e.g. koffi → native/koffi.node. */
  readonly addons: Readonly<Record<string, string>>;
  /** Every asset key to unpack (addons included), `/`-separated relative paths. */
  readonly files: readonly string[];
  /** The asset folder blessed reads terminfo from. */
  readonly blessedUsr: string | null;
}

const safeKey = (k: unknown): k is string =>
  typeof k === 'string' && k !== '' && k.split('/').every((s) => s !== '' && s !== '.' && s !== '..' && !s.includes('\\') && !s.includes(':'));

function bad(message: string): never {
  throw new RecoveryError('runtime.asset-index-invalid', `embedded asset index: ${message}`);
}

/** Checks the index text; every key must be a plain relative path, since it becomes a file name. */
export function parseSeaAssetIndex(text: string): SeaAssetIndex {
  const v = JSON.parse(text) as Partial<Record<keyof SeaAssetIndex, unknown>>;
  if (typeof v.id !== 'string' || !/^[0-9a-f]{8,64}$/.test(v.id)) bad('id must be hex');
  if (!Array.isArray(v.files) || !v.files.every(safeKey)) bad('files must be relative paths');
  const files = v.files as string[];
  if (typeof v.addons !== 'object' || v.addons === null) bad('addons must be an object');
  const addons = v.addons as Record<string, unknown>;
  for (const [name, key] of Object.entries(addons)) if (!safeKey(key) || !files.includes(key)) bad(`addon ${name} is not one of the files`);
  if (v.blessedUsr !== null && !safeKey(v.blessedUsr)) bad('blessedUsr must be a relative path or null');
  return { id: v.id, addons: addons as Record<string, string>, files, blessedUsr: v.blessedUsr as string | null };
}
