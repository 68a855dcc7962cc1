/**
 * Driver tools tab: Reboot and Shut down (each behind a Yes/No dialog whose default is No),
 * Save logs (pick a writable drive, e.g. a USB stick), and the disks as a table (size, sector
 * sizes, bus, partition style, partitions).
 */
import type { Control, ControlAction, ListColumn, ModalView, Result } from './controls.ts';
import { result } from './controls.ts';
import { formatBytes } from '../../core/units.ts';
import {
  BROWSER_CONTROL_IDS, fileBrowserModal, openFileBrowser, reduceFileBrowser, type BrowserAction, type BrowserEvent,
  type FileBrowserState,
} from './file-browser.ts';
import { msg, rawText, type Msg } from './i18n.ts';

export interface DiskPartition {
  readonly number: number;
  readonly sizeBytes: bigint;
  /** "EFI system", "Basic data", "0x07"… as the inventory names it. */
  readonly type: string;
  readonly letter: string | null;
  readonly fileSystem: string | null;
}

export interface DiskInfo {
  readonly number: number;
  readonly model: string;
  readonly sizeBytes: bigint;
  readonly logicalSectorSize: number;
  readonly physicalSectorSize: number;
  /** "SATA", "NVMe", "SAS", "USB", "Virtio"… */
  readonly bus: string;
  readonly style: 'mbr' | 'gpt' | 'raw';
  readonly partitions: readonly DiskPartition[];
}

export interface DriverToolsState {
  readonly confirm: 'reboot' | 'shutdown' | null;
  readonly chooser: FileBrowserState | null;
  /** null until the inventory answered. */
  readonly disks: readonly DiskInfo[] | null;
  readonly savingLogs: boolean;
  readonly message: Msg | null;
}

export type ToolsEvent =
  | { readonly type: 'tools/disks'; readonly disks: readonly DiskInfo[] }
  | { readonly type: 'tools/disks-failed'; readonly message: string }
  | { readonly type: 'tools/logs-saved'; readonly path: string }
  | { readonly type: 'tools/logs-failed'; readonly message: string };

export type DriverToolsAction = ControlAction | ToolsEvent | BrowserEvent;

export function initialDriverTools(): DriverToolsState {
  return { confirm: null, chooser: null, disks: null, savingLogs: false, message: null };
}

const COLUMNS: readonly ListColumn[] = [
  { header: msg('disks.col.disk'), width: 6 },
  { header: msg('disks.col.size'), width: 11 },
  { header: msg('disks.col.sector'), width: 10 },
  { header: msg('disks.col.bus'), width: 7 },
  { header: msg('disks.col.style'), width: 6 },
  { header: msg('disks.col.detail'), width: 0 },
];

/** One row per disk, then one per partition, indented. */
export function diskRows(disks: readonly DiskInfo[]): Msg[][] {
  const rows: Msg[][] = [];
  for (const d of disks) {
    rows.push([
      rawText(String(d.number)), rawText(formatBytes(d.sizeBytes)), rawText(`${d.logicalSectorSize}/${d.physicalSectorSize}`),
      rawText(d.bus), rawText(d.style.toUpperCase()), rawText(d.model),
    ]);
    for (const p of d.partitions) {
      const where = [p.letter === null ? '' : `${p.letter}:`, p.fileSystem ?? '', p.type].filter((x) => x !== '').join(' ');
      rows.push([rawText(` #${p.number}`), rawText(formatBytes(p.sizeBytes)), rawText(''), rawText(''), rawText(''), rawText(where)]);
    }
  }
  return rows;
}

export function driverToolsControls(s: DriverToolsState): Control[] {
  return [
    { kind: 'button', id: 'reboot', label: msg('tools.reboot') },
    { kind: 'button', id: 'shutdown', label: msg('tools.shutdown') },
    { kind: 'button', id: 'save-logs', label: msg('tools.save-logs') },
    { kind: 'button', id: 'refresh-disks', label: msg('button.refresh') },
    { kind: 'list', id: 'disks', label: msg('disks.title'), columns: COLUMNS, rows: diskRows(s.disks ?? []), selected: null, height: 12 },
  ];
}

/** `jobRunning` adds a warning: rebooting now leaves the restore incomplete. */
export function driverToolsModal(s: DriverToolsState, jobRunning: boolean): ModalView | null {
  if (s.chooser !== null) return fileBrowserModal(s.chooser);
  if (s.confirm === null) return null;
  const reboot = s.confirm === 'reboot';
  return {
    id: `confirm-${s.confirm}`,
    title: msg(reboot ? 'tools.reboot' : 'tools.shutdown'),
    lines: [msg(reboot ? 'tools.confirm-reboot' : 'tools.confirm-shutdown'), ...(jobRunning ? [msg('tools.job-warning')] : [])],
    controls: [
      { kind: 'button', id: 'confirm-yes', label: msg('button.yes') },
      { kind: 'button', id: 'confirm-no', label: msg('button.no') },
    ],
    initialFocus: 'confirm-no',
    cancel: 'confirm-no',
  };
}

export function reduceDriverTools(s: DriverToolsState, a: DriverToolsAction): Result<DriverToolsState> {
  switch (a.type) {
    case 'control/press':
      if (s.chooser !== null && BROWSER_CONTROL_IDS.includes(a.id)) return withChooser(s, s.chooser, a);
      return press(s, a.id);
    case 'control/move': case 'control/pick':
    case 'browser/drives': case 'browser/listing': case 'browser/failed':
      return s.chooser === null ? result(s) : withChooser(s, s.chooser, a);
    case 'control/edit': case 'control/toggle': case 'control/choose': return result(s);
    case 'tools/disks': return result({ ...s, disks: a.disks });
    case 'tools/disks-failed': return result({ ...s, message: msg('disks.failed', { detail: a.message }) });
    case 'tools/logs-saved': return result({ ...s, savingLogs: false, message: msg('tools.logs-saved', { path: a.path }) });
    case 'tools/logs-failed': return result({ ...s, savingLogs: false, message: msg('tools.logs-failed', { detail: a.message }) });
  }
}

function withChooser(s: DriverToolsState, chooser: FileBrowserState, a: BrowserAction): Result<DriverToolsState> {
  const r = reduceFileBrowser(chooser, a);
  if (r.state.chosen !== null) {
    const drive = r.state.chosen;
    return result({ ...s, chooser: null, savingLogs: true, message: msg('tools.saving-logs', { drive }) }, [...r.effects, { type: 'save-logs', drive }]);
  }
  if (r.state.cancelled) return result({ ...s, chooser: null }, r.effects);
  return result({ ...s, chooser: r.state }, r.effects);
}

function press(s: DriverToolsState, id: string): Result<DriverToolsState> {
  switch (id) {
    case 'reboot': return result({ ...s, confirm: 'reboot' });
    case 'shutdown': return result({ ...s, confirm: 'shutdown' });
    case 'confirm-no': return result({ ...s, confirm: null });
    case 'confirm-yes': {
      if (s.confirm === null) return result(s);
      const effect = s.confirm === 'reboot' ? { type: 'reboot' } as const : { type: 'shutdown' } as const;
      return result({ ...s, confirm: null, message: msg(s.confirm === 'reboot' ? 'tools.rebooting' : 'tools.shutting-down') }, [effect]);
    }
    case 'save-logs': {
      if (s.savingLogs) return result({ ...s, message: msg('tools.busy') });
      const opened = openFileBrowser('driver-tools', 'drive');
      return result({ ...s, chooser: opened.state, message: null }, opened.effects);
    }
    case 'refresh-disks': return result(s, [{ type: 'refresh-disks' }]);
    default: return result(s);
  }
}
