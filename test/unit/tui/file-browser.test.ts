import { describe, expect, it } from 'vitest';
import {
  fileBrowserModal, joinWindowsPath, openFileBrowser, parentWindowsPath, reduceFileBrowser, type BrowserAction,
  type BrowserPurpose, type DirEntry, type DriveInfo, type FileBrowserState,
} from '../../../src/tui/state/file-browser.ts';
import { translate } from '../../../src/tui/state/i18n.ts';

const drives: DriveInfo[] = [
  { root: 'X:\\', label: 'Boot', kind: 'ram', freeBytes: 400 * 2 ** 20, readOnly: false },
  { root: 'D:\\', label: 'LIFELINE', kind: 'cdrom', freeBytes: 0, readOnly: true },
  { root: 'E:\\', label: 'USB', kind: 'removable', freeBytes: 3 * 2 ** 30, readOnly: false },
];

const entries: DirEntry[] = [
  { name: 'vioscsi.inf', kind: 'file', sizeBytes: 4096 },
  { name: 'amd64', kind: 'dir' },
  { name: 'README.txt', kind: 'file', sizeBytes: 100 },
  { name: 'NetKVM.INF', kind: 'file', sizeBytes: 9000 },
  { name: '2k19', kind: 'dir' },
];

function run(s: FileBrowserState, ...actions: BrowserAction[]) {
  let state = s;
  const effects = [];
  for (const a of actions) {
    const r = reduceFileBrowser(state, a);
    state = r.state;
    effects.push(...r.effects);
  }
  return { state, effects };
}

const move = (delta: number): BrowserAction => ({ type: 'control/move', id: 'entries', delta });
const pick: BrowserAction = { type: 'control/pick', id: 'entries' };
function rowNames(s: FileBrowserState): string[] {
  const list = fileBrowserModal(s).controls.find((c) => c.kind === 'list');
  return list?.kind === 'list' ? list.rows.map((r) => translate('en', r[0] ?? { text: '' })) : [];
}

function opened(purpose: BrowserPurpose) {
  const r = openFileBrowser('driver-update', purpose);
  return run(r.state, { type: 'browser/drives', owner: 'driver-update', drives });
}

describe('file browser', () => {
  it('asks for the drive list when it opens and shows it when it arrives', () => {
    const r = openFileBrowser('driver-update', 'folder');
    expect(r.effects).toEqual([{ type: 'list-drives', owner: 'driver-update' }]);
    expect(r.state.loading).toEqual({ path: null });
    expect(rowNames(opened('folder').state)).toEqual(['X:\\ Boot', 'D:\\ LIFELINE', 'E:\\ USB']);
  });

  it('walks into a drive and a folder, asking for each listing', () => {
    const atDrives = opened('inf').state;
    const intoE = run(atDrives, move(2), pick);
    expect(intoE.effects).toEqual([{ type: 'list-directory', owner: 'driver-update', path: 'E:\\' }]);
    const listed = run(intoE.state, { type: 'browser/listing', owner: 'driver-update', path: 'E:\\', entries }).state;
    // Parent first, folders, then only .inf files (any case), sorted.
    expect(rowNames(listed)).toEqual(['..', '2k19\\', 'amd64\\', 'NetKVM.INF', 'vioscsi.inf']);
    const intoAmd64 = run(listed, move(2), pick);
    expect(intoAmd64.effects).toEqual([{ type: 'list-directory', owner: 'driver-update', path: 'E:\\amd64' }]);
  });

  it('picks an .inf file in single-driver mode', () => {
    const listed = run(opened('inf').state, move(2), pick, { type: 'browser/listing', owner: 'driver-update', path: 'E:\\', entries }).state;
    const chosen = run(listed, move(4), pick).state;
    expect(chosen.chosen).toBe('E:\\vioscsi.inf');
  });

  it('offers "use this folder" in folder mode and hides files', () => {
    const atRoot = run(opened('folder').state, move(2), pick, { type: 'browser/listing', owner: 'driver-update', path: 'E:\\', entries }).state;
    expect(rowNames(atRoot)).toEqual(['[Use this folder]', '..', '2k19\\', 'amd64\\']);
    const listed = run(atRoot, move(3), pick, { type: 'browser/listing', owner: 'driver-update', path: 'E:\\amd64', entries: [] }).state;
    expect(run(listed, pick).state.chosen).toBe('E:\\amd64');
  });

  it('goes up with ".." and back to the drive list from a root', () => {
    const inSub = run(opened('inf').state, move(2), pick, { type: 'browser/listing', owner: 'driver-update', path: 'E:\\amd64', entries: [] }).state;
    expect(run(inSub, pick).effects).toEqual([{ type: 'list-directory', owner: 'driver-update', path: 'E:\\' }]);
    const inRoot = run(inSub, pick, { type: 'browser/listing', owner: 'driver-update', path: 'E:\\', entries: [] }).state;
    expect(run(inRoot, pick).effects).toEqual([{ type: 'list-drives', owner: 'driver-update' }]);
  });

  it('drops answers it is not waiting for (stale path, other owner)', () => {
    const waiting = run(opened('inf').state, move(2), pick).state;
    const stale = run(waiting, { type: 'browser/listing', owner: 'driver-update', path: 'D:\\', entries }).state;
    expect(stale).toBe(waiting);
    const other = run(waiting, { type: 'browser/listing', owner: 'driver-tools', path: 'E:\\', entries }).state;
    expect(other).toBe(waiting);
    // Paths compare without case and trailing backslash, as Windows does.
    expect(run(waiting, { type: 'browser/listing', owner: 'driver-update', path: 'e:', entries }).state.at.kind).toBe('dir');
  });

  it('reports a listing that failed and stays where it was', () => {
    const waiting = run(opened('inf').state, move(2), pick).state;
    const failed = run(waiting, { type: 'browser/failed', owner: 'driver-update', path: 'E:\\', message: 'The device is not ready.' }).state;
    expect(failed.loading).toBeNull();
    expect(failed.at.kind).toBe('drives');
    expect(translate('en', failed.error ?? { text: '' })).toBe('Cannot read E:\\: The device is not ready.');
  });

  it('clamps the selection to the rows', () => {
    const s = opened('inf').state;
    expect(run(s, move(-5)).state.selected).toBe(0);
    expect(run(s, move(50)).state.selected).toBe(2);
  });

  it('offers only writable, non-RAM drives when choosing where to save logs, and picks the drive itself', () => {
    const r = openFileBrowser('driver-tools', 'drive');
    const s = run(r.state, { type: 'browser/drives', owner: 'driver-tools', drives }).state;
    expect(rowNames(s)).toEqual(['E:\\ USB']);
    expect(run(s, pick).state.chosen).toBe('E:\\');
  });

  it('cancels', () => {
    expect(run(opened('inf').state, { type: 'control/press', id: 'browser-cancel' }).state.cancelled).toBe(true);
  });

  it('joins and splits Windows paths', () => {
    expect(joinWindowsPath('E:\\', 'a')).toBe('E:\\a');
    expect(joinWindowsPath('E:\\a', 'b')).toBe('E:\\a\\b');
    expect(parentWindowsPath('E:\\a\\b')).toBe('E:\\a');
    expect(parentWindowsPath('E:\\a')).toBe('E:\\');
    expect(parentWindowsPath('E:\\')).toBeNull();
    expect(parentWindowsPath('E:\\a\\b\\')).toBe('E:\\a');
  });
});
