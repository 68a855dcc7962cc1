/**
 * A keyboard file browser over drives and folders that the controller lists on request (effects
 * `list-drives` / `list-directory`, answers `browser/*`). Used to pick a driver folder, a single
 * .inf, or the drive to save logs to. Answers for a location the browser no longer waits for are
 * dropped, so a slow USB stick cannot overwrite a newer listing.
 */
import type { ListColumn, ModalView, Result } from './controls.ts';
import { result } from './controls.ts';
import { formatBytes } from '../../core/units.ts';
import { msg, rawText, type Msg, type MsgKey } from './i18n.ts';

export type BrowserOwner = 'driver-update' | 'driver-tools';
export type BrowserPurpose = 'folder' | 'inf' | 'drive';

export interface DriveInfo {
  /** "E:\" */
  readonly root: string;
  readonly label: string;
  readonly kind: 'removable' | 'fixed' | 'cdrom' | 'ram' | 'network' | 'unknown';
  readonly freeBytes: number | null;
  readonly readOnly: boolean;
}

export interface DirEntry {
  readonly name: string;
  readonly kind: 'dir' | 'file';
  readonly sizeBytes?: number;
}

export type BrowserLocation =
  | { readonly kind: 'drives'; readonly drives: readonly DriveInfo[] }
  | { readonly kind: 'dir'; readonly path: string; readonly entries: readonly DirEntry[] };

export interface FileBrowserState {
  readonly owner: BrowserOwner;
  readonly purpose: BrowserPurpose;
  readonly at: BrowserLocation;
  /** The listing asked for and not yet answered; path null = the drive list. */
  readonly loading: { readonly path: string | null } | null;
  readonly selected: number;
  readonly error: Msg | null;
  /** Set when the operator picked something; the owner takes it and closes the browser. */
  readonly chosen: string | null;
  readonly cancelled: boolean;
}

export type BrowserEvent =
  | { readonly type: 'browser/drives'; readonly owner: BrowserOwner; readonly drives: readonly DriveInfo[] }
  | { readonly type: 'browser/listing'; readonly owner: BrowserOwner; readonly path: string; readonly entries: readonly DirEntry[] }
  | { readonly type: 'browser/failed'; readonly owner: BrowserOwner; readonly path: string | null; readonly message: string };

export type BrowserAction =
  | BrowserEvent
  | { readonly type: 'control/move'; readonly id: string; readonly delta: number }
  | { readonly type: 'control/pick'; readonly id: string }
  | { readonly type: 'control/press'; readonly id: string };

type Row =
  | { readonly kind: 'use-folder' }
  | { readonly kind: 'parent' }
  | { readonly kind: 'drive'; readonly drive: DriveInfo }
  | { readonly kind: 'dir' | 'file'; readonly entry: DirEntry };

export function openFileBrowser(owner: BrowserOwner, purpose: BrowserPurpose): Result<FileBrowserState> {
  const state: FileBrowserState = {
    owner, purpose, at: { kind: 'drives', drives: [] }, loading: { path: null }, selected: 0, error: null, chosen: null, cancelled: false,
  };
  return result(state, [{ type: 'list-drives', owner }]);
}

export function joinWindowsPath(dir: string, name: string): string {
  return dir.endsWith('\\') ? `${dir}${name}` : `${dir}\\${name}`;
}

/** "E:\a\b" → "E:\a"; "E:\a" → "E:\"; "E:\" → null (the drive list). */
export function parentWindowsPath(path: string): string | null {
  const trimmed = path.replace(/\\+$/, '');
  const cut = trimmed.lastIndexOf('\\');
  if (cut < 0) return null;
  return cut <= 2 ? trimmed.slice(0, cut + 1) : trimmed.slice(0, cut);
}

function samePath(a: string | null, b: string | null): boolean {
  return (a ?? '').replace(/\\+$/, '').toLowerCase() === (b ?? '').replace(/\\+$/, '').toLowerCase();
}

function rows(s: FileBrowserState): Row[] {
  if (s.at.kind === 'drives') {
    const usable = s.purpose === 'drive' ? s.at.drives.filter((d) => !d.readOnly && d.kind !== 'ram' && d.kind !== 'cdrom') : s.at.drives;
    return usable.map((drive) => ({ kind: 'drive', drive }));
  }
  const byName = (x: DirEntry, y: DirEntry): number => x.name.toLowerCase().localeCompare(y.name.toLowerCase());
  const dirs = s.at.entries.filter((e) => e.kind === 'dir').sort(byName);
  const files = s.purpose === 'inf' ? s.at.entries.filter((e) => e.kind === 'file' && /\.inf$/i.test(e.name)).sort(byName) : [];
  return [
    ...(s.purpose === 'folder' ? [{ kind: 'use-folder' } as const] : []),
    { kind: 'parent' },
    ...dirs.map((entry) => ({ kind: 'dir', entry }) as const),
    ...files.map((entry) => ({ kind: 'file', entry }) as const),
  ];
}

const DRIVE_KIND: Readonly<Record<DriveInfo['kind'], MsgKey>> = {
  removable: 'drive.removable', fixed: 'drive.fixed', cdrom: 'drive.cdrom', ram: 'drive.ram', network: 'drive.network', unknown: 'drive.unknown',
};

function rowCells(row: Row, s: FileBrowserState): Msg[] {
  switch (row.kind) {
    case 'use-folder': return [msg('browser.use-folder'), rawText(s.at.kind === 'dir' ? s.at.path : '')];
    case 'parent': return [rawText('..'), msg('browser.parent')];
    case 'drive': {
      const d = row.drive;
      const free = d.freeBytes === null ? '' : ` ${formatBytes(d.freeBytes)}`;
      return [rawText(`${d.root} ${d.label}`), msg('browser.drive-info', { kind: { key: DRIVE_KIND[d.kind] }, free })];
    }
    case 'dir': return [rawText(`${row.entry.name}\\`), msg('browser.folder')];
    case 'file': return [rawText(row.entry.name), rawText(row.entry.sizeBytes === undefined ? '' : formatBytes(row.entry.sizeBytes))];
  }
}

const COLUMNS: readonly ListColumn[] = [{ header: msg('browser.col.name'), width: 44 }, { header: msg('browser.col.info'), width: 0 }];

const TITLES: Readonly<Record<BrowserPurpose, MsgKey>> = { folder: 'browser.title.folder', inf: 'browser.title.inf', drive: 'browser.title.drive' };

export function fileBrowserModal(s: FileBrowserState): ModalView {
  const where = s.at.kind === 'dir' ? rawText(s.at.path) : msg('browser.drives');
  const status = s.loading !== null ? [msg('browser.loading')] : s.error !== null ? [s.error] : [];
  return {
    id: `browser-${s.owner}`,
    title: msg(TITLES[s.purpose]),
    lines: [msg('browser.location', { where: 'text' in where ? where.text : { key: where.key } }), ...status],
    controls: [
      { kind: 'list', id: 'entries', label: msg('browser.entries'), columns: COLUMNS, rows: rows(s).map((r) => rowCells(r, s)), selected: s.selected, height: 12 },
      { kind: 'button', id: 'browser-cancel', label: msg('button.cancel') },
    ],
    initialFocus: 'entries',
    cancel: 'browser-cancel',
  };
}

/** Ids of the browser dialog's own controls, so owners know which presses to pass on. */
export const BROWSER_CONTROL_IDS: readonly string[] = ['entries', 'browser-cancel'];

export function reduceFileBrowser(s: FileBrowserState, a: BrowserAction): Result<FileBrowserState> {
  switch (a.type) {
    case 'control/move': {
      const count = rows(s).length;
      return result({ ...s, selected: Math.max(0, Math.min(count - 1, s.selected + a.delta)) });
    }
    case 'control/pick': return pick(s);
    case 'control/press': return result(a.id === 'browser-cancel' ? { ...s, cancelled: true } : s);
    case 'browser/drives':
      if (a.owner !== s.owner || s.loading === null || s.loading.path !== null) return result(s);
      return result({ ...s, at: { kind: 'drives', drives: a.drives }, loading: null, selected: 0, error: null });
    case 'browser/listing':
      if (a.owner !== s.owner || s.loading === null || !samePath(s.loading.path, a.path)) return result(s);
      return result({ ...s, at: { kind: 'dir', path: a.path, entries: a.entries }, loading: null, selected: 0, error: null });
    case 'browser/failed':
      if (a.owner !== s.owner || s.loading === null || !samePath(s.loading.path, a.path)) return result(s);
      return result({ ...s, loading: null, error: msg('browser.failed', { where: a.path ?? '', detail: a.message }) });
  }
}

function go(s: FileBrowserState, path: string | null): Result<FileBrowserState> {
  const next = { ...s, loading: { path }, error: null };
  return result(next, [path === null ? { type: 'list-drives', owner: s.owner } : { type: 'list-directory', owner: s.owner, path }]);
}

function pick(s: FileBrowserState): Result<FileBrowserState> {
  const row = rows(s)[s.selected];
  if (row === undefined) return result(s);
  const here = s.at.kind === 'dir' ? s.at.path : null;
  switch (row.kind) {
    case 'use-folder': return result(here === null ? s : { ...s, chosen: here });
    case 'parent': return go(s, here === null ? null : parentWindowsPath(here));
    case 'drive': return s.purpose === 'drive' ? result({ ...s, chosen: row.drive.root }) : go(s, row.drive.root);
    case 'dir': return go(s, joinWindowsPath(here ?? '', row.entry.name));
    case 'file': return result({ ...s, chosen: joinWindowsPath(here ?? '', row.entry.name) });
  }
}
