/**
 * The focus model. Focus is on the tab bar, on a control of the active tab, or on a control of the
 * open dialog. It is kept by control id (with the index as a fallback), and re-settled after every
 * action, because controls come and go (static fields appear with "Static", a dialog closes, a NIC
 * list empties). Invariant, checked by `focusIsValid` and property-tested: focus is always on
 * something that exists, and a dialog, when open, has it.
 */
import type { AppState } from './app-state.ts';
import type { Control } from './controls.ts';
import { activeModal, screenView } from './screens.ts';
import { visibleTabs } from './tabs.ts';

export type Focus =
  | { readonly area: 'tabs' }
  | { readonly area: 'body'; readonly id: string; readonly index: number }
  | { readonly area: 'modal'; readonly modal: string; readonly id: string; readonly index: number };

export function restoreVisible(app: AppState): boolean {
  return app.restore.job !== null;
}

export function bodyControls(app: AppState): readonly Control[] {
  return screenView(app, app.tab).controls;
}

/** Focus on the first control of the active tab, or the tab bar when it has none. */
export function focusFirst(app: AppState): AppState {
  const first = bodyControls(app)[0];
  return { ...app, dropdown: null, focus: first === undefined ? { area: 'tabs' } : { area: 'body', id: first.id, index: 0 } };
}

function settle(ids: readonly string[], id: string, index: number): { id: string; index: number } | null {
  if (ids.length === 0) return null;
  const at = ids.indexOf(id);
  if (at >= 0) return { id, index: at };
  const i = Math.max(0, Math.min(index, ids.length - 1));
  return { id: ids[i] ?? '', index: i };
}

/** Put focus back on something that exists; give it to the open dialog, or back from a closed one. */
export function normalizeFocus(app: AppState): AppState {
  let a = app;
  if (!visibleTabs(restoreVisible(a)).includes(a.tab)) a = { ...a, tab: 'server', focus: { area: 'tabs' }, dropdown: null };
  const modal = activeModal(a);
  if (modal !== null) {
    const ids = modal.view.controls.map((c) => c.id);
    const f = a.focus;
    const kept = f.area === 'modal' && f.modal === modal.view.id ? settle(ids, f.id, f.index) : null;
    if (kept !== null) return { ...a, dropdown: null, focus: { area: 'modal', modal: modal.view.id, ...kept } };
    const index = Math.max(0, ids.indexOf(modal.view.initialFocus));
    const returnFocus = f.area === 'modal' ? a.returnFocus : f;
    return { ...a, dropdown: null, returnFocus, focus: { area: 'modal', modal: modal.view.id, id: ids[index] ?? '', index } };
  }
  let focus: Focus = a.focus.area === 'modal' ? a.returnFocus : a.focus;
  if (focus.area === 'body') {
    const kept = settle(bodyControls(a).map((c) => c.id), focus.id, focus.index);
    focus = kept === null ? { area: 'tabs' } : { area: 'body', ...kept };
  }
  const dropdown = a.dropdown !== null && focus.area === 'body' && focus.id === a.dropdown.id ? a.dropdown : null;
  return { ...a, focus, dropdown, returnFocus: focus };
}

/** The invariant the reducers keep (for tests and assertions). */
export function focusIsValid(app: AppState): boolean {
  if (!visibleTabs(restoreVisible(app)).includes(app.tab)) return false;
  const modal = activeModal(app);
  const f = app.focus;
  if (modal !== null) {
    return f.area === 'modal' && f.modal === modal.view.id && modal.view.controls[f.index]?.id === f.id;
  }
  if (f.area === 'modal') return false;
  if (f.area === 'body' && bodyControls(app)[f.index]?.id !== f.id) return false;
  if (app.dropdown !== null) {
    const c = f.area === 'body' ? bodyControls(app)[f.index] : undefined;
    return c?.kind === 'dropdown' && c.id === app.dropdown.id;
  }
  return true;
}

/** The control that has focus, if any. */
export function focusedControl(app: AppState): Control | null {
  const f = app.focus;
  if (f.area === 'tabs') return null;
  const controls = f.area === 'modal' ? (activeModal(app)?.view.controls ?? []) : bodyControls(app);
  return controls[f.index] ?? null;
}
