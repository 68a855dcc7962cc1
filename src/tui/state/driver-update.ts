/**
 * Driver update tab: Driver folder | Single driver, the path (typed, or chosen with Open in the
 * file browser), Add (load it now with drvload), Get (list the drivers loaded) and that list.
 * A successful load asks for the NIC list again: a network driver is the usual reason to be here.
 */
import type { Control, ControlAction, ListColumn, ModalView, Result } from './controls.ts';
import { applyTextEdit, result } from './controls.ts';
import type { Effect } from './effects.ts';
import {
  BROWSER_CONTROL_IDS, fileBrowserModal, openFileBrowser, reduceFileBrowser, type BrowserAction, type BrowserEvent,
  type FileBrowserState,
} from './file-browser.ts';
import { msg, rawText, type Msg } from './i18n.ts';

export interface DriverInfo {
  readonly publishedName: string;
  readonly originalName: string;
  readonly className: string;
  readonly provider: string;
  readonly version: string;
}

export type DriverSource = 'folder' | 'inf';

export interface DriverUpdateState {
  readonly source: DriverSource;
  readonly path: string;
  readonly pathInvalid: boolean;
  readonly browser: FileBrowserState | null;
  /** null until Get answered. */
  readonly drivers: readonly DriverInfo[] | null;
  readonly busy: 'loading' | 'listing' | null;
  readonly message: Msg | null;
}

export type DriverEvent =
  | { readonly type: 'driver/loaded'; readonly path: string; readonly loaded: number; readonly failures: readonly { readonly inf: string; readonly message: string }[] }
  | { readonly type: 'driver/load-failed'; readonly path: string; readonly message: string }
  | { readonly type: 'driver/list'; readonly drivers: readonly DriverInfo[] }
  | { readonly type: 'driver/list-failed'; readonly message: string };

export type DriverUpdateAction = ControlAction | DriverEvent | BrowserEvent;

export function initialDriverUpdate(): DriverUpdateState {
  return { source: 'folder', path: '', pathInvalid: false, browser: null, drivers: null, busy: null, message: null };
}

const SOURCES: readonly DriverSource[] = ['folder', 'inf'];

const COLUMNS: readonly ListColumn[] = [
  { header: msg('drivers.col.published'), width: 11 },
  { header: msg('drivers.col.original'), width: 16 },
  { header: msg('drivers.col.class'), width: 14 },
  { header: msg('drivers.col.provider'), width: 18 },
  { header: msg('drivers.col.version'), width: 0 },
];

export function driverUpdateControls(s: DriverUpdateState): Control[] {
  const rows = (s.drivers ?? []).map((d) => [d.publishedName, d.originalName, d.className, d.provider, d.version].map(rawText));
  return [
    { kind: 'dropdown', id: 'source', label: msg('drivers.source'), options: [msg('drivers.source.folder'), msg('drivers.source.inf')], selected: SOURCES.indexOf(s.source) },
    { kind: 'text', id: 'path', label: msg(s.source === 'folder' ? 'drivers.path.folder' : 'drivers.path.inf'), value: s.path, masked: false, invalid: s.pathInvalid },
    { kind: 'button', id: 'open', label: msg('button.open') },
    { kind: 'button', id: 'add', label: msg('button.add') },
    { kind: 'button', id: 'get', label: msg('button.get') },
    { kind: 'list', id: 'drivers', label: msg('drivers.list'), columns: COLUMNS, rows, selected: null, height: 9 },
  ];
}

export function driverUpdateModal(s: DriverUpdateState): ModalView | null {
  return s.browser === null ? null : fileBrowserModal(s.browser);
}

export function reduceDriverUpdate(s: DriverUpdateState, a: DriverUpdateAction): Result<DriverUpdateState> {
  switch (a.type) {
    case 'control/edit': return result(a.id === 'path' ? { ...s, path: applyTextEdit(s.path, a.edit), pathInvalid: false } : s);
    case 'control/choose': {
      const source = a.id === 'source' ? SOURCES[a.index] : undefined;
      return result(source === undefined ? s : { ...s, source, pathInvalid: false });
    }
    case 'control/press':
      if (s.browser !== null && BROWSER_CONTROL_IDS.includes(a.id)) return withBrowser(s, s.browser, a);
      return press(s, a.id);
    case 'control/move': case 'control/pick':
    case 'browser/drives': case 'browser/listing': case 'browser/failed':
      return s.browser === null ? result(s) : withBrowser(s, s.browser, a);
    case 'control/toggle': return result(s);
    case 'driver/loaded': {
      const failed = a.failures.length;
      const message = failed === 0
        ? msg('drivers.loaded', { count: a.loaded, path: a.path })
        : msg('drivers.loaded-some', { count: a.loaded, failed, detail: `${a.failures[0]?.inf ?? ''}: ${a.failures[0]?.message ?? ''}` });
      const effects: Effect[] = a.loaded > 0 ? [{ type: 'refresh-nics' }] : [];
      return result({ ...s, busy: null, message }, effects);
    }
    case 'driver/load-failed': return result({ ...s, busy: null, message: msg('drivers.load-failed', { path: a.path, detail: a.message }) });
    case 'driver/list': return result({ ...s, busy: null, drivers: a.drivers, message: msg('drivers.listed', { count: a.drivers.length }) });
    case 'driver/list-failed': return result({ ...s, busy: null, message: msg('drivers.list-failed', { detail: a.message }) });
  }
}

function withBrowser(s: DriverUpdateState, browser: FileBrowserState, a: BrowserAction): Result<DriverUpdateState> {
  const r = reduceFileBrowser(browser, a);
  if (r.state.chosen !== null) return result({ ...s, browser: null, path: r.state.chosen, pathInvalid: false, message: null }, r.effects);
  if (r.state.cancelled) return result({ ...s, browser: null }, r.effects);
  return result({ ...s, browser: r.state }, r.effects);
}

function press(s: DriverUpdateState, id: string): Result<DriverUpdateState> {
  switch (id) {
    case 'open': {
      const opened = openFileBrowser('driver-update', s.source === 'folder' ? 'folder' : 'inf');
      return result({ ...s, browser: opened.state, message: null }, opened.effects);
    }
    case 'add': return add(s);
    case 'get':
      if (s.busy !== null) return result({ ...s, message: msg('drivers.busy') });
      return result({ ...s, busy: 'listing', message: msg('drivers.listing') }, [{ type: 'list-drivers' }]);
    default: return result(s);
  }
}

function add(s: DriverUpdateState): Result<DriverUpdateState> {
  const path = s.path.trim();
  const field = { key: s.source === 'folder' ? 'drivers.path.folder' : 'drivers.path.inf' } as const;
  if (path === '') return result({ ...s, pathInvalid: true, message: msg('invalid.required', { field }) });
  if (s.source === 'inf' && !/\.inf$/i.test(path)) return result({ ...s, pathInvalid: true, message: msg('invalid.inf', { field }) });
  if (s.busy !== null) return result({ ...s, message: msg('drivers.busy') });
  const next = { ...s, busy: 'loading' as const, pathInvalid: false, message: msg('drivers.loading', { path }) };
  return result(next, [{ type: 'load-driver', source: s.source, path }]);
}
