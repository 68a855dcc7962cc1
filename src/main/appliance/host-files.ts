/**
 * Files for the keyboard file browser and Save logs. The browser speaks Windows paths ("E:\a\b");
 * on Windows they are used as they are, on a Linux host each drive letter stands for a folder
 * (C:\ for "/", S:\ for the state folder), so the same screens work on both.
 */
import { constants } from 'node:fs';
import { access, readdir, stat, statfs, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RecoveryError } from '../../core/errors.ts';
import type { DirEntry, DriveInfo } from '../../tui/state/file-browser.ts';

/** A drive letter standing for a host folder (Linux). */
export interface DriveMount {
  readonly letter: string;
  readonly hostPath: string;
  readonly label: string;
  readonly kind: DriveInfo['kind'];
}

/** Entries listed per folder at most; a driver folder never comes close. */
export const MAX_ENTRIES = 5000;

async function freeBytes(hostPath: string): Promise<number | null> {
  try {
    const s = await statfs(hostPath);
    return s.bavail * s.bsize;
  } catch {
    return null;
  }
}

async function writable(hostPath: string): Promise<boolean> {
  try { await access(hostPath, constants.W_OK); return true; } catch { return false; }
}

export interface HostFiles {
  listDrives(): Promise<DriveInfo[]>;
  listDirectory(path: string): Promise<DirEntry[]>;
  /** The host path for a browser path. */
  hostPath(path: string): string;
}

function notFound(path: string, why: string): RecoveryError {
  return new RecoveryError('files.bad-path', `${path}: ${why}`, { data: { path } });
}

/** "E:\a\b" → { letter: "E", parts: ["a", "b"] }; refuses "..", relative paths and other forms. */
export function splitWindowsPath(path: string): { letter: string; parts: string[] } {
  const m = /^([A-Za-z]):(?:\\(.*))?$/.exec(path);
  if (m === null) throw notFound(path, 'not a drive path like E:\\drivers');
  const parts = (m[2] ?? '').split('\\').filter((p) => p !== '');
  if (parts.some((p) => p === '.' || p === '..')) throw notFound(path, '"." and ".." are not allowed');
  return { letter: (m[1] ?? '').toUpperCase(), parts };
}

async function listHostDirectory(hostPath: string, shownAs: string, keepName: (name: string) => boolean): Promise<DirEntry[]> {
  let names;
  try {
    names = await readdir(hostPath, { withFileTypes: true });
  } catch (e) {
    throw new RecoveryError('files.unreadable', `${shownAs}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { data: { path: shownAs }, cause: e });
  }
  const entries: DirEntry[] = [];
  for (const d of names.slice(0, MAX_ENTRIES)) {
    if (!keepName(d.name)) continue;
    try {
      const s = d.isSymbolicLink() ? await stat(join(hostPath, d.name)) : null;
      const isDir = s === null ? d.isDirectory() : s.isDirectory();
      if (isDir) entries.push({ name: d.name, kind: 'dir' });
      else if (s?.isFile() ?? d.isFile()) entries.push({ name: d.name, kind: 'file', sizeBytes: (s ?? await stat(join(hostPath, d.name))).size });
    } catch {
      // A dangling link or an entry gone meanwhile: not worth an error for the whole folder.
    }
  }
  return entries;
}

/** Windows: drive letters A–Z that exist; paths pass through. */
export function windowsFiles(): HostFiles {
  return {
    async listDrives() {
      const drives: DriveInfo[] = [];
      for (const letter of 'CDEFGHIJKLMNOPQRSTUVWXYZ') {
        const root = `${letter}:\\`;
        try { await stat(root); } catch { continue; }
        drives.push({
          root, label: '', kind: letter === 'X' ? 'ram' : 'unknown', freeBytes: await freeBytes(root), readOnly: !(await writable(root)),
        });
      }
      return drives;
    },
    listDirectory: (path) => listHostDirectory(path, path, () => true),
    hostPath: (path) => path,
  };
}

/** Linux: each drive letter stands for a host folder. */
export function mappedFiles(mounts: readonly DriveMount[]): HostFiles {
  const byLetter = new Map(mounts.map((m) => [m.letter.toUpperCase(), m]));
  const hostPath = (path: string): string => {
    const { letter, parts } = splitWindowsPath(path);
    const mount = byLetter.get(letter);
    if (mount === undefined) throw notFound(path, `no drive ${letter}: here`);
    return join(mount.hostPath, ...parts);
  };
  return {
    async listDrives() {
      const drives: DriveInfo[] = [];
      for (const m of mounts) {
        drives.push({ root: `${m.letter.toUpperCase()}:\\`, label: m.label, kind: m.kind, freeBytes: await freeBytes(m.hostPath), readOnly: !(await writable(m.hostPath)) });
      }
      return drives;
    },
    // A name with a backslash cannot be reached by a Windows-style path: leave it out.
    listDirectory: (path) => listHostDirectory(hostPath(path), path, (name) => !name.includes('\\')),
    hostPath,
  };
}

/** Save logs: `lifeline-<time>.log` at the root of the drive; resolves with the path as shown. */
export async function writeLogFile(files: HostFiles, drive: string, text: string, now: Date): Promise<string> {
  const root = drive.endsWith('\\') ? drive : `${drive}\\`;
  const name = `lifeline-${now.toISOString().replace(/[:.]/g, '-')}.log`;
  const shown = `${root}${name}`;
  const target = files.hostPath(shown);
  try {
    await writeFile(target, text, 'utf8');
  } catch (e) {
    throw new RecoveryError('files.write-failed', `${shown}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { data: { path: shown }, cause: e });
  }
  return shown;
}

/** Every .inf under a folder (a driver folder loads them all), sorted, at most `limit`. */
export async function findInfFiles(files: HostFiles, folder: string, limit = 500): Promise<string[]> {
  const found: string[] = [];
  const walk = async (path: string, depth: number): Promise<void> => {
    if (depth > 8 || found.length >= limit) return;
    const entries = await listHostDirectory(files.hostPath(path), path, () => true);
    entries.sort((a, b) => a.name.localeCompare(b.name));
    for (const e of entries) {
      const child = path.endsWith('\\') ? `${path}${e.name}` : `${path}\\${e.name}`;
      if (e.kind === 'file' && /\.inf$/i.test(e.name) && found.length < limit) found.push(child);
      else if (e.kind === 'dir') await walk(child, depth + 1);
    }
  };
  await walk(folder, 0);
  return found;
}
