/**
 * The whole appliance UI as one value: language, active tab, focus, the open drop-down, table
 * scroll offsets, and each tab's own state. `reduceApp(state, action)` returns the next state and
 * the effects to run; keys arrive already mapped by the key map (`{ type: 'key', key }`), reports
 * from the controller arrive as events. A job that starts brings the Restore tab to the front
 * (unless a dialog is open, which keeps focus).
 */
import type { Result } from './controls.ts';
import { result } from './controls.ts';
import { initialDriverTools, reduceDriverTools, type DriverToolsState, type ToolsEvent } from './driver-tools.ts';
import { initialDriverUpdate, reduceDriverUpdate, type DriverEvent, type DriverUpdateState } from './driver-update.ts';
import type { BrowserEvent } from './file-browser.ts';
import { focusFirst, normalizeFocus, type Focus } from './focus.ts';
import type { Lang } from './i18n.ts';
import type { KeyAction } from './key-actions.ts';
import { reduceKey } from './key-reducer.ts';
import { initialNetworkForm, reduceNetworkForm, type NetworkEvent, type NetworkFormState } from './network-form.ts';
import { initialRestore, reduceRestore, type JobEvent, type RestoreState } from './restore-progress.ts';
import { activeModal } from './screens.ts';
import { initialServerForm, reduceServerForm, type ServerFormAction, type ServerFormState } from './server-form.ts';
import type { ServerEvent } from './server-status.ts';
import { initialShell, reduceShell, type ShellEvent, type ShellState } from './shell.ts';
import type { TabId } from './tabs.ts';

export interface AppState {
  readonly lang: Lang;
  readonly tab: TabId;
  readonly focus: Focus;
  /** Where focus returns when the open dialog closes. */
  readonly returnFocus: Focus;
  /** The open drop-down and the choice it had when opened (Esc restores it). */
  readonly dropdown: { readonly id: string; readonly original: number } | null;
  /** First visible row of scrolled tables, by `scrollKey(tab, list)`. */
  readonly scroll: Readonly<Record<string, number>>;
  readonly server: ServerFormState;
  readonly ipv4: NetworkFormState;
  readonly ipv6: NetworkFormState;
  readonly driverUpdate: DriverUpdateState;
  readonly driverTools: DriverToolsState;
  readonly shell: ShellState;
  readonly restore: RestoreState;
}

export type AppAction =
  | { readonly type: 'key'; readonly key: KeyAction }
  | { readonly type: 'set-language'; readonly lang: Lang }
  | Extract<ServerFormAction, { type: 'server/settings-loaded' }>
  | ServerEvent
  | NetworkEvent
  | DriverEvent
  | BrowserEvent
  | ToolsEvent
  | ShellEvent
  | JobEvent;

export function initialApp(options: { readonly lang?: Lang } = {}): AppState {
  const app: AppState = {
    lang: options.lang ?? 'en', tab: 'server', focus: { area: 'tabs' }, returnFocus: { area: 'tabs' }, dropdown: null, scroll: {},
    server: initialServerForm(), ipv4: initialNetworkForm(4), ipv6: initialNetworkForm(6), driverUpdate: initialDriverUpdate(),
    driverTools: initialDriverTools(), shell: initialShell(), restore: initialRestore(),
  };
  return focusFirst(app);
}

export function reduceApp(app: AppState, action: AppAction): Result<AppState> {
  const r = step(app, action);
  return result(normalizeFocus(r.state), r.effects);
}

function step(app: AppState, a: AppAction): Result<AppState> {
  switch (a.type) {
    case 'key': return reduceKey(app, a.key);
    case 'set-language':
      return a.lang === app.lang ? result(app) : result({ ...app, lang: a.lang }, [{ type: 'save-language', lang: a.lang }]);
    case 'server/settings-loaded': case 'server/connecting': case 'server/certificate': case 'server/registered':
    case 'server/binding': case 'server/error': {
      const r = reduceServerForm(app.server, a);
      return result({ ...app, server: r.state }, r.effects);
    }
    case 'network/nics': {
      const v4 = reduceNetworkForm(app.ipv4, a);
      const v6 = reduceNetworkForm(app.ipv6, a);
      return result({ ...app, ipv4: v4.state, ipv6: v6.state }, [...v4.effects, ...v6.effects]);
    }
    case 'network/applied': case 'network/failed': {
      if (a.family === 4) { const r = reduceNetworkForm(app.ipv4, a); return result({ ...app, ipv4: r.state }, r.effects); }
      const r = reduceNetworkForm(app.ipv6, a);
      return result({ ...app, ipv6: r.state }, r.effects);
    }
    case 'driver/loaded': case 'driver/load-failed': case 'driver/list': case 'driver/list-failed': {
      const r = reduceDriverUpdate(app.driverUpdate, a);
      return result({ ...app, driverUpdate: r.state }, r.effects);
    }
    case 'browser/drives': case 'browser/listing': case 'browser/failed': {
      if (a.owner === 'driver-update') { const r = reduceDriverUpdate(app.driverUpdate, a); return result({ ...app, driverUpdate: r.state }, r.effects); }
      const r = reduceDriverTools(app.driverTools, a);
      return result({ ...app, driverTools: r.state }, r.effects);
    }
    case 'tools/disks': case 'tools/disks-failed': case 'tools/logs-saved': case 'tools/logs-failed': {
      const r = reduceDriverTools(app.driverTools, a);
      return result({ ...app, driverTools: r.state }, r.effects);
    }
    case 'shell/exited': { const r = reduceShell(app.shell, a); return result({ ...app, shell: r.state }, r.effects); }
    case 'job/started': case 'job/finished': {
      const restore = reduceRestore(app.restore, a);
      const server = reduceServerForm(app.server, a);
      const next = { ...app, restore: restore.state, server: server.state };
      const effects = [...restore.effects, ...server.effects];
      // Bring the job to the front, unless the operator is answering a dialog.
      if (a.type === 'job/started' && activeModal(next) === null) return result({ ...next, tab: 'restore', dropdown: null, focus: { area: 'tabs' } }, effects);
      return result(next, effects);
    }
    case 'job/progress': case 'job/step': case 'job/error': case 'job/log': case 'job/passphrase-needed': {
      const r = reduceRestore(app.restore, a);
      return result({ ...app, restore: r.state }, r.effects);
    }
  }
}
