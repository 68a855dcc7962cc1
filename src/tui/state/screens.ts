/**
 * The tabs' screens as the app state sees them: which controls each shows (in focus order), the
 * text lines above and below them, which dialog is open, and where a control action goes.
 */
import type { AppState } from './app-state.ts';
import type { Control, ControlAction, ModalView, Result } from './controls.ts';
import { result } from './controls.ts';
import { driverToolsControls, driverToolsModal, reduceDriverTools } from './driver-tools.ts';
import { driverUpdateControls, driverUpdateModal, reduceDriverUpdate } from './driver-update.ts';
import { LANGS, LANGUAGE_NAMES, msg, rawText, type Msg } from './i18n.ts';
import { networkControls, reduceNetworkForm } from './network-form.ts';
import { restoreModal, reduceRestore } from './restore-progress.ts';
import { restoreLines, restoreLog } from './restore-view.ts';
import { reduceServerForm, serverControls, serverModal } from './server-form.ts';
import { serverStatusText } from './server-status.ts';
import { reduceShell, shellControls } from './shell.ts';
import type { TabId } from './tabs.ts';

export interface ScreenView {
  readonly controls: readonly Control[];
  /** Lines above the controls (summaries). */
  readonly before: readonly Msg[];
  /** Lines below the controls (status, the last message). */
  readonly after: readonly Msg[];
}

/** Screen rows left for a tab's content: 25 minus tab bar, rule and key-hint row. */
export const CONTENT_ROWS = 22;

function present(...lines: (Msg | null)[]): Msg[] {
  return lines.filter((m): m is Msg => m !== null);
}

export function languageControl(app: AppState): Control {
  return { kind: 'dropdown', id: 'language', label: msg('tools.language'), options: LANGS.map((l) => rawText(LANGUAGE_NAMES[l])), selected: LANGS.indexOf(app.lang) };
}

export function screenView(app: AppState, tab: TabId): ScreenView {
  switch (tab) {
    case 'server':
      return { controls: serverControls(app.server), before: [], after: present(serverStatusText(app.server.status), app.server.message) };
    case 'ipv4': case 'ipv6': {
      const form = tab === 'ipv4' ? app.ipv4 : app.ipv6;
      return { controls: networkControls(form), before: form.nics.length === 0 ? [msg('net.none')] : [], after: present(form.message) };
    }
    case 'driver-update':
      return { controls: driverUpdateControls(app.driverUpdate), before: [], after: present(app.driverUpdate.message) };
    case 'driver-tools':
      return { controls: [languageControl(app), ...driverToolsControls(app.driverTools)], before: [], after: present(app.driverTools.message) };
    case 'shell':
      return { controls: shellControls(), before: [msg('shell.explain'), msg('shell.alt-tab')], after: present(app.shell.message) };
    case 'restore': {
      const before = restoreLines(app.restore);
      const after = present(app.restore.outcome);
      // The log takes whatever rows are left: its label row plus its lines.
      const height = Math.max(2, CONTENT_ROWS - before.length - after.length - 1);
      return { controls: [restoreLog(app.restore, height)], before, after };
    }
  }
}

export interface OpenModal {
  readonly owner: TabId;
  readonly view: ModalView;
}

/** The dialog that has focus: the certificate question first, then the passphrase, then any other. */
export function activeModal(app: AppState): OpenModal | null {
  const jobRunning = app.restore.phase === 'running';
  const candidates: [TabId, ModalView | null][] = [
    ['server', serverModal(app.server)],
    ['restore', restoreModal(app.restore)],
    ['driver-update', driverUpdateModal(app.driverUpdate)],
    ['driver-tools', driverToolsModal(app.driverTools, jobRunning)],
  ];
  for (const [owner, view] of candidates) if (view !== null) return { owner, view };
  return null;
}

/** Hand a control action to the screen that owns the control. */
export function routeControl(app: AppState, owner: TabId, a: ControlAction): Result<AppState> {
  switch (owner) {
    case 'server': { const r = reduceServerForm(app.server, a); return result({ ...app, server: r.state }, r.effects); }
    case 'ipv4': { const r = reduceNetworkForm(app.ipv4, a); return result({ ...app, ipv4: r.state }, r.effects); }
    case 'ipv6': { const r = reduceNetworkForm(app.ipv6, a); return result({ ...app, ipv6: r.state }, r.effects); }
    case 'driver-update': { const r = reduceDriverUpdate(app.driverUpdate, a); return result({ ...app, driverUpdate: r.state }, r.effects); }
    case 'driver-tools': { const r = reduceDriverTools(app.driverTools, a); return result({ ...app, driverTools: r.state }, r.effects); }
    case 'shell': { const r = reduceShell(app.shell, a); return result({ ...app, shell: r.state }, r.effects); }
    case 'restore': { const r = reduceRestore(app.restore, a); return result({ ...app, restore: r.state }, r.effects); }
  }
}
