/**
 * What a driver package (a folder or a tar) may contain before anything of it is copied into the
 * catalog. A package comes from a USB stick or a download, so it is untrusted: every entry passes
 * the gate below while the package is only being read, and the first refusal stops the read, so a
 * refused package leaves nothing behind.
 *  - paths are relative and stay inside the package: no `..`, no leading `/` or `\`, no drive
 *    letter (`C:`), no NUL; `\` counts as a separator because the files end up on Windows;
 *  - only files and folders: symbolic links, hard links, devices and FIFOs are refused (a link that
 *    stays inside is refused too — driver packages never need one, and copying it would follow it);
 *  - no two entries with the same path once case is ignored (NTFS would merge them);
 *  - at most `maxEntries` entries, `maxFileBytes` per file, `maxTotalBytes` in all, `maxInfBytes` per
 *    INF (INFs are read into memory to validate them).
 */
import { RecoveryError } from '../errors.ts';

export type PackageEntryType = 'file' | 'directory' | 'symlink' | 'hardlink' | 'other';

export interface PackageEntry {
  /** As written in the archive or relative to the folder. */
  readonly path: string;
  readonly type: PackageEntryType;
  /** Bytes of a file as declared (tar header, stat); 0 for the rest. */
  readonly size: number;
  /** Where a link points, as written. */
  readonly linkTarget?: string;
}

export interface PackageLimits {
  readonly maxEntries: number;
  readonly maxFileBytes: number;
  readonly maxTotalBytes: number;
  readonly maxInfBytes: number;
}

const MiB = 1024 * 1024;

/** Big enough for vendor NIC/storage packs (tens of MiB), far below what a RAM disk would choke on. */
export const DEFAULT_PACKAGE_LIMITS: PackageLimits = {
  maxEntries: 10_000,
  maxFileBytes: 128 * MiB,
  maxTotalBytes: 512 * MiB,
  maxInfBytes: 4 * MiB,
};

export type PackageRefusal =
  | 'absolute-path' | 'path-traversal' | 'bad-path' | 'link' | 'special-file' | 'duplicate-path'
  | 'file-too-large' | 'inf-too-large' | 'package-too-large' | 'too-many-entries';

function refuse(reason: PackageRefusal, entry: string, message: string, data: Record<string, unknown> = {}): never {
  throw new RecoveryError('drivers.package-refused', message, { data: { reason, entry, ...data } });
}

/**
 * The entry's path as `/`-separated segments, or a refusal. `./a/b/` and `a\b` are fine; `a/../b`
 * is refused even though it stays inside, since no honest packer writes it.
 */
export function normalizeEntryPath(raw: string): string {
  if (raw.includes('\0')) refuse('bad-path', raw, `"${raw}" contains a NUL character`);
  if (/^[\\/]/.test(raw) || /^[a-z]:/i.test(raw)) refuse('absolute-path', raw, `"${raw}" is an absolute path`);
  const segments = raw.split(/[\\/]+/).filter((s) => s !== '' && s !== '.');
  if (segments.some((s) => s === '..')) refuse('path-traversal', raw, `"${raw}" climbs out of the package with ".."`);
  if (segments.some((s) => s.includes(':'))) refuse('bad-path', raw, `"${raw}" has a ":" (an NTFS stream or a device name)`);
  return segments.join('/');
}

/** Where `target` of a link at `linkPath` lands, relative to the package root; undefined when outside. */
function linkDestination(linkPath: string, target: string, hard: boolean): string | undefined {
  if (/^[\\/]/.test(target) || /^[a-z]:/i.test(target)) return undefined;
  // A hard link's target is a path from the archive root; a symlink's is relative to its folder.
  const base = hard ? [] : linkPath.split('/').slice(0, -1);
  for (const part of target.split(/[\\/]+/)) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (base.length === 0) return undefined;
      base.pop();
    } else {
      base.push(part);
    }
  }
  return base.join('/');
}

export const isInfPath = (path: string): boolean => /\.inf$/i.test(path);

export interface EntryGate {
  /** Checks one entry; returns its normalized path, or throws `drivers.package-refused`. */
  admit(entry: PackageEntry): string;
  /** Normalized paths of the files admitted so far, in order. */
  readonly files: readonly { readonly path: string; readonly size: number }[];
  readonly totalBytes: number;
}

export function createEntryGate(limits: PackageLimits = DEFAULT_PACKAGE_LIMITS): EntryGate {
  const seen = new Set<string>();
  const files: { path: string; size: number }[] = [];
  let entries = 0;
  let totalBytes = 0;
  return {
    files,
    get totalBytes() { return totalBytes; },
    admit(entry) {
      entries += 1;
      if (entries > limits.maxEntries) refuse('too-many-entries', entry.path, `the package has more than ${limits.maxEntries} entries`, { limit: limits.maxEntries });
      const path = normalizeEntryPath(entry.path);
      if (entry.type === 'symlink' || entry.type === 'hardlink') {
        const inside = linkDestination(path, entry.linkTarget ?? '', entry.type === 'hardlink') !== undefined;
        refuse('link', entry.path, inside
          ? `"${entry.path}" is a ${entry.type === 'symlink' ? 'symbolic' : 'hard'} link; driver packages must hold plain files`
          : `"${entry.path}" is a link to "${entry.linkTarget ?? ''}", outside the package`, { linkTarget: entry.linkTarget, escapes: !inside });
      }
      if (entry.type === 'other') refuse('special-file', entry.path, `"${entry.path}" is neither a file nor a folder`);
      if (path === '') return path; // the root folder itself ("./")
      const key = path.toLowerCase();
      if (seen.has(key)) refuse('duplicate-path', entry.path, `"${entry.path}" appears twice (names are compared without case, as NTFS does)`);
      seen.add(key);
      if (entry.type === 'directory') return path;
      if (!Number.isSafeInteger(entry.size) || entry.size < 0) refuse('bad-path', entry.path, `"${entry.path}" declares an invalid size`);
      if (entry.size > limits.maxFileBytes) {
        refuse('file-too-large', entry.path, `"${entry.path}" is ${entry.size} bytes, more than the ${limits.maxFileBytes}-byte limit per file`, { size: entry.size, limit: limits.maxFileBytes });
      }
      if (isInfPath(path) && entry.size > limits.maxInfBytes) {
        refuse('inf-too-large', entry.path, `"${entry.path}" is ${entry.size} bytes, more than the ${limits.maxInfBytes}-byte limit for an INF`, { size: entry.size, limit: limits.maxInfBytes });
      }
      totalBytes += entry.size;
      if (totalBytes > limits.maxTotalBytes) {
        refuse('package-too-large', entry.path, `the package holds more than ${limits.maxTotalBytes} bytes`, { limit: limits.maxTotalBytes });
      }
      files.push({ path, size: entry.size });
      return path;
    },
  };
}
