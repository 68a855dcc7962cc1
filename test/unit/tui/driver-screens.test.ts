import { describe, expect, it } from 'vitest';
import type { ControlAction } from '../../../src/tui/state/controls.ts';
import {
  diskRows, driverToolsControls, driverToolsModal, initialDriverTools, reduceDriverTools, type DiskInfo, type DriverToolsAction,
  type DriverToolsState,
} from '../../../src/tui/state/driver-tools.ts';
import {
  driverUpdateControls, driverUpdateModal, initialDriverUpdate, reduceDriverUpdate, type DriverUpdateAction, type DriverUpdateState,
} from '../../../src/tui/state/driver-update.ts';
import type { Effect } from '../../../src/tui/state/effects.ts';
import { translate, type Msg } from '../../../src/tui/state/i18n.ts';
import { initialShell, reduceShell } from '../../../src/tui/state/shell.ts';

const en = (m: Msg | null): string => (m === null ? '' : translate('en', m));
const press = (id: string): ControlAction => ({ type: 'control/press', id });
const choose = (id: string, index: number): ControlAction => ({ type: 'control/choose', id, index });
const typed = (text: string): ControlAction => ({ type: 'control/edit', id: 'path', edit: { kind: 'insert', text } });

function runUpdate(s: DriverUpdateState, ...actions: DriverUpdateAction[]) {
  let state = s;
  const effects: Effect[] = [];
  for (const a of actions) {
    const r = reduceDriverUpdate(state, a);
    state = r.state;
    effects.push(...r.effects);
  }
  return { state, effects };
}

function runTools(s: DriverToolsState, ...actions: DriverToolsAction[]) {
  let state = s;
  const effects: Effect[] = [];
  for (const a of actions) {
    const r = reduceDriverTools(state, a);
    state = r.state;
    effects.push(...r.effects);
  }
  return { state, effects };
}

describe('Driver update', () => {
  it('has the drop-down Driver folder | Single driver, the path, Open, Add, Get and the list', () => {
    const controls = driverUpdateControls(initialDriverUpdate());
    expect(controls.map((c) => `${c.kind}:${c.id}`)).toEqual(['dropdown:source', 'text:path', 'button:open', 'button:add', 'button:get', 'list:drivers']);
    const source = controls[0];
    expect(source?.kind === 'dropdown' ? source.options.map(en) : []).toEqual(['Driver folder', 'Single driver']);
  });

  it('Add loads a folder now, then asks for the NIC list again', () => {
    const { state, effects } = runUpdate(initialDriverUpdate(), typed('E:\\drivers\\2k19'), press('add'));
    expect(effects).toEqual([{ type: 'load-driver', source: 'folder', path: 'E:\\drivers\\2k19' }]);
    expect(state.busy).toBe('loading');
    const done = runUpdate(state, { type: 'driver/loaded', path: 'E:\\drivers\\2k19', loaded: 3, failures: [] });
    expect(done.effects).toEqual([{ type: 'refresh-nics' }]);
    expect(en(done.state.message)).toBe('Loaded 3 driver(s) from E:\\drivers\\2k19.');
    expect(done.state.busy).toBeNull();
  });

  it('reports partial loads with the first failure, and does not refresh NICs when nothing loaded', () => {
    const loading = runUpdate(initialDriverUpdate(), typed('E:\\d'), press('add')).state;
    const partial = runUpdate(loading, { type: 'driver/loaded', path: 'E:\\d', loaded: 0, failures: [{ inf: 'x.inf', message: 'drvload failed 0x80070002' }] });
    expect(partial.effects).toEqual([]);
    expect(en(partial.state.message)).toBe('Loaded 0 driver(s), 1 failed: x.inf: drvload failed 0x80070002');
  });

  it('Single driver needs an .inf file; an empty path is refused; no effect either way', () => {
    const single = runUpdate(initialDriverUpdate(), choose('source', 1)).state;
    expect(single.source).toBe('inf');
    const folder = runUpdate(single, typed('E:\\drivers'), press('add'));
    expect(folder.effects).toEqual([]);
    expect(en(folder.state.message)).toBe('.inf file: choose an .inf file.');
    expect(folder.state.pathInvalid).toBe(true);
    const inf = runUpdate(single, typed('E:\\drivers\\vioscsi.INF'), press('add'));
    expect(inf.effects).toEqual([{ type: 'load-driver', source: 'inf', path: 'E:\\drivers\\vioscsi.INF' }]);
    const empty = runUpdate(initialDriverUpdate(), press('add'));
    expect(empty.effects).toEqual([]);
    expect(en(empty.state.message)).toBe('Folder: required.');
  });

  it('Get lists the loaded drivers as table rows', () => {
    const { state, effects } = runUpdate(initialDriverUpdate(), press('get'));
    expect(effects).toEqual([{ type: 'list-drivers' }]);
    const listed = runUpdate(state, {
      type: 'driver/list',
      drivers: [{ publishedName: 'oem1.inf', originalName: 'viostor.inf', className: 'SCSIAdapter', provider: 'Red Hat, Inc.', version: '62.91.104.22100' }],
    }).state;
    const list = driverUpdateControls(listed).find((c) => c.kind === 'list');
    expect(list?.kind === 'list' ? list.rows.map((r) => r.map(en)) : []).toEqual([['oem1.inf', 'viostor.inf', 'SCSIAdapter', 'Red Hat, Inc.', '62.91.104.22100']]);
    expect(en(listed.message)).toBe('1 driver(s) loaded.');
  });

  it('refuses a second request while one is out', () => {
    const { effects, state } = runUpdate(initialDriverUpdate(), press('get'), press('get'), typed('E:\\d'), press('add'));
    expect(effects).toEqual([{ type: 'list-drivers' }]);
    expect(en(state.message)).toBe('Busy with the previous request.');
  });

  it('Open browses for a folder (or an .inf in Single driver mode) and fills the path', () => {
    const opened = runUpdate(initialDriverUpdate(), press('open'));
    expect(opened.effects).toEqual([{ type: 'list-drives', owner: 'driver-update' }]);
    expect(driverUpdateModal(opened.state)?.id).toBe('browser-driver-update');
    const drives = [{ root: 'E:\\', label: 'USB', kind: 'removable', freeBytes: null, readOnly: false }] as const;
    const chosen = runUpdate(opened.state,
      { type: 'browser/drives', owner: 'driver-update', drives },
      { type: 'control/pick', id: 'entries' },
      { type: 'browser/listing', owner: 'driver-update', path: 'E:\\', entries: [] },
      { type: 'control/pick', id: 'entries' }).state;
    expect(chosen.browser).toBeNull();
    expect(chosen.path).toBe('E:\\');
    const single = runUpdate(initialDriverUpdate(), choose('source', 1), press('open')).state;
    expect(single.browser?.purpose).toBe('inf');
  });

  it('closes the browser on Cancel without touching the path', () => {
    const s = runUpdate(initialDriverUpdate(), typed('E:\\old'), press('open'), press('browser-cancel')).state;
    expect(s.browser).toBeNull();
    expect(s.path).toBe('E:\\old');
  });
});

describe('Driver tools', () => {
  it('Reboot and Shut down need a confirmation whose default is No', () => {
    for (const [button, effect] of [['reboot', 'reboot'], ['shutdown', 'shutdown']] as const) {
      const asked = runTools(initialDriverTools(), press(button));
      expect(asked.effects).toEqual([]);
      const modal = driverToolsModal(asked.state, false);
      expect(modal?.initialFocus).toBe('confirm-no');
      expect(modal?.cancel).toBe('confirm-no');
      expect(runTools(asked.state, press('confirm-no')).effects).toEqual([]);
      expect(runTools(asked.state, press('confirm-no')).state.confirm).toBeNull();
      expect(runTools(asked.state, press('confirm-yes')).effects).toEqual([{ type: effect }]);
    }
  });

  it('warns that a running restore will stop incomplete', () => {
    const asked = runTools(initialDriverTools(), press('reboot')).state;
    expect(driverToolsModal(asked, true)?.lines.map(en)).toContain('A restore job is running: it will stop incomplete.');
    expect(driverToolsModal(asked, false)?.lines.map(en)).not.toContain('A restore job is running: it will stop incomplete.');
  });

  it('Save logs chooses a drive, then saves there', () => {
    const opened = runTools(initialDriverTools(), press('save-logs'));
    expect(opened.effects).toEqual([{ type: 'list-drives', owner: 'driver-tools' }]);
    const drives = [{ root: 'F:\\', label: 'STICK', kind: 'removable', freeBytes: 1e9, readOnly: false }] as const;
    const saved = runTools(opened.state, { type: 'browser/drives', owner: 'driver-tools', drives }, { type: 'control/pick', id: 'entries' });
    expect(saved.effects).toEqual([{ type: 'save-logs', drive: 'F:\\' }]);
    expect(saved.state.chooser).toBeNull();
    const done = runTools(saved.state, { type: 'tools/logs-saved', path: 'F:\\lifeline-logs' }).state;
    expect(en(done.message)).toBe('Logs saved to F:\\lifeline-logs.');
  });

  it('shows disks with size, sector sizes, bus, table style and partitions', () => {
    const disks: DiskInfo[] = [{
      number: 0, model: 'QEMU HARDDISK', sizeBytes: 64n * 2n ** 30n, logicalSectorSize: 512, physicalSectorSize: 4096, bus: 'SATA', style: 'gpt',
      partitions: [
        { number: 1, sizeBytes: 100n * 2n ** 20n, type: 'EFI system', letter: null, fileSystem: 'FAT32' },
        { number: 2, sizeBytes: 63n * 2n ** 30n, type: 'Basic data', letter: 'C', fileSystem: 'NTFS' },
      ],
    }];
    expect(diskRows(disks).map((r) => r.map(en))).toEqual([
      ['0', '64.0 GiB', '512/4096', 'SATA', 'GPT', 'QEMU HARDDISK'],
      [' #1', '100.0 MiB', '', '', '', 'FAT32 EFI system'],
      [' #2', '63.0 GiB', '', '', '', 'C: NTFS Basic data'],
    ]);
    const s = runTools(initialDriverTools(), { type: 'tools/disks', disks }).state;
    const list = driverToolsControls(s).find((c) => c.kind === 'list');
    expect(list?.kind === 'list' ? list.rows : []).toHaveLength(3);
    expect(runTools(s, press('refresh-disks')).effects).toEqual([{ type: 'refresh-disks' }]);
  });
});

describe('Command prompt', () => {
  it('opens the shell as an effect once, and resumes when it exits', () => {
    const opened = reduceShell(initialShell(), press('open-shell'));
    expect(opened.effects).toEqual([{ type: 'open-shell' }]);
    expect(reduceShell(opened.state, press('open-shell')).effects).toEqual([]);
    const back = reduceShell(opened.state, { type: 'shell/exited', exitCode: 0 });
    expect(back.state.open).toBe(false);
    expect(en(back.state.message)).toBe('Command prompt closed (exit code 0).');
  });
});
