/**
 * Key actions applied to the focus model. Ring order: tab bar → first control → … → last control
 * → tab bar (Tab/Down forward; Up always jumps to the tab bar). In a dialog, Tab cycles its own
 * controls and Esc presses its cancel button; tabs cannot change until it closes.
 */
import type { AppState } from './app-state.ts';
import type { Control, ControlAction, ListControl, Result } from './controls.ts';
import { result } from './controls.ts';
import { bodyControls, focusFirst, restoreVisible } from './focus.ts';
import { LANGS } from './i18n.ts';
import type { KeyAction, ListStep } from './key-actions.ts';
import { activeModal, routeControl, type OpenModal } from './screens.ts';
import { visibleTabs, type TabId } from './tabs.ts';

export function reduceKey(app: AppState, key: KeyAction): Result<AppState> {
  const modal = activeModal(app);
  if (modal !== null) return modalKey(app, modal, key);
  if (key.type === 'tab-jump') return result(jumpTo(app, key.tab));
  if (app.focus.area === 'tabs') return result(tabsKey(app, key));
  if (app.focus.area !== 'body') return result(app);
  const controls = bodyControls(app);
  const c = controls[app.focus.index];
  return c === undefined ? result(app) : bodyKey(app, controls, c, key);
}

function jumpTo(app: AppState, tab: TabId): AppState {
  if (!visibleTabs(restoreVisible(app)).includes(tab)) return app;
  return focusFirst({ ...app, tab });
}

function tabsKey(app: AppState, key: KeyAction): AppState {
  const controls = bodyControls(app);
  switch (key.type) {
    case 'focus-next': return focusAt(app, controls, 0);
    case 'focus-prev': return focusAt(app, controls, controls.length - 1);
    case 'tab-prev': case 'tab-next': {
      const tabs = visibleTabs(restoreVisible(app));
      const at = tabs.indexOf(app.tab);
      const next = tabs[(at + (key.type === 'tab-next' ? 1 : tabs.length - 1)) % tabs.length] ?? app.tab;
      return { ...app, tab: next };
    }
    default: return app;
  }
}

function focusAt(app: AppState, controls: readonly Control[], index: number): AppState {
  const c = controls[index];
  return { ...app, dropdown: null, focus: c === undefined ? { area: 'tabs' } : { area: 'body', id: c.id, index } };
}

/** Apply a control action; the language drop-down is the app's own, the rest belong to the tab. */
function control(app: AppState, owner: TabId, a: ControlAction): Result<AppState> {
  if (a.type === 'control/choose' && a.id === 'language') {
    const lang = LANGS[a.index];
    if (lang === undefined || lang === app.lang) return result(app);
    return result({ ...app, lang }, [{ type: 'save-language', lang }]);
  }
  return routeControl(app, owner, a);
}

function bodyKey(app: AppState, controls: readonly Control[], c: Control, key: KeyAction): Result<AppState> {
  const index = app.focus.area === 'body' ? app.focus.index : 0;
  switch (key.type) {
    case 'focus-next': case 'submit': {
      if (key.type === 'submit' && c.kind !== 'text') return bodyKey(app, controls, c, { type: 'press' });
      return result(focusAt(app, controls, index + 1));
    }
    case 'focus-prev': return result(index === 0 ? { ...app, dropdown: null, focus: { area: 'tabs' } } : focusAt(app, controls, index - 1));
    case 'focus-tabs': return result({ ...app, dropdown: null, focus: { area: 'tabs' } });
    case 'back':
      if (app.dropdown !== null) return bodyKey(app, controls, c, { type: 'cancel-dropdown' });
      return result({ ...app, focus: { area: 'tabs' } });
    case 'press':
      if (c.kind === 'button') return control(app, app.tab, { type: 'control/press', id: c.id });
      if (c.kind === 'checkbox' || c.kind === 'radio') return control(app, app.tab, { type: 'control/toggle', id: c.id });
      if (c.kind === 'dropdown') return bodyKey(app, controls, c, { type: app.dropdown === null ? 'open-dropdown' : 'close-dropdown' });
      return result(app);
    case 'open-dropdown':
      if (c.kind !== 'dropdown' || c.options.length === 0) return result(app);
      return result({ ...app, dropdown: { id: c.id, original: c.selected } });
    case 'close-dropdown': return result({ ...app, dropdown: null });
    case 'cancel-dropdown': {
      const original = app.dropdown?.original;
      const closed = { ...app, dropdown: null };
      if (c.kind !== 'dropdown' || original === undefined || original === c.selected || original < 0) return result(closed);
      return control(closed, app.tab, { type: 'control/choose', id: c.id, index: original });
    }
    case 'choice-prev': case 'choice-next': {
      if (c.kind !== 'dropdown' || c.options.length === 0) return result(app);
      const delta = key.type === 'choice-next' ? 1 : -1;
      const target = c.selected < 0 ? 0 : Math.max(0, Math.min(c.options.length - 1, c.selected + delta));
      return target === c.selected ? result(app) : control(app, app.tab, { type: 'control/choose', id: c.id, index: target });
    }
    case 'insert': case 'erase':
      if (c.kind !== 'text') return result(app);
      return control(app, app.tab, { type: 'control/edit', id: c.id, edit: key.type === 'insert' ? { kind: 'insert', text: key.text } : { kind: 'erase' } });
    case 'scroll': return result(c.kind === 'list' && c.selected === null ? scroll(app, c, key.step) : app);
    case 'move': case 'pick': return listPick(app, app.tab, c, key);
    case 'tab-prev': case 'tab-next': case 'tab-jump': return result(app);
  }
}

function stepDelta(list: ListControl, step: ListStep): number {
  switch (step) {
    case 'up': return -1;
    case 'down': return 1;
    case 'page-up': return -list.height;
    case 'page-down': return list.height;
    case 'home': return -list.rows.length;
    case 'end': return list.rows.length;
  }
}

/** Key of a table's scroll offset in `AppState.scroll`. */
export function scrollKey(tab: TabId, listId: string): string {
  return `${tab}/${listId}`;
}

/** Offset of the first visible row; a table never scrolled shows its top, a log its tail. */
export function scrollOffset(app: AppState, tab: TabId, list: ListControl): number {
  const max = Math.max(0, list.rows.length - list.height);
  const stored = app.scroll[scrollKey(tab, list.id)];
  return Math.max(0, Math.min(max, stored ?? (list.id === 'log' ? max : 0)));
}

function scroll(app: AppState, list: ListControl, step: ListStep): AppState {
  const key = scrollKey(app.tab, list.id);
  const next = scrollOffset(app, app.tab, list) + stepDelta(list, step);
  const max = Math.max(0, list.rows.length - list.height);
  const rest = Object.fromEntries(Object.entries(app.scroll).filter(([k]) => k !== key));
  // Scrolling to the end of the log resumes following it.
  if (list.id === 'log' && next >= max) return { ...app, scroll: rest };
  return { ...app, scroll: { ...rest, [key]: Math.max(0, Math.min(max, next)) } };
}

function listPick(app: AppState, owner: TabId, c: Control, key: KeyAction): Result<AppState> {
  if (c.kind !== 'list' || c.selected === null) return result(app);
  if (key.type === 'pick') return control(app, owner, { type: 'control/pick', id: c.id });
  if (key.type === 'move') return control(app, owner, { type: 'control/move', id: c.id, delta: stepDelta(c, key.step) });
  return result(app);
}

function modalKey(app: AppState, modal: OpenModal, key: KeyAction): Result<AppState> {
  const { view, owner } = modal;
  const f = app.focus;
  const index = f.area === 'modal' ? f.index : 0;
  const c = view.controls[index];
  if (c === undefined) return result(app);
  const cycle = (delta: number): AppState => {
    const n = view.controls.length;
    const i = (index + delta + n) % n;
    return { ...app, focus: { area: 'modal', modal: view.id, id: view.controls[i]?.id ?? '', index: i } };
  };
  switch (key.type) {
    case 'focus-next': return result(cycle(1));
    case 'focus-prev': return result(cycle(-1));
    case 'back': return control(app, owner, { type: 'control/press', id: view.cancel });
    case 'press':
      if (c.kind === 'button') return control(app, owner, { type: 'control/press', id: c.id });
      return listPick(app, owner, c, { type: 'pick' });
    case 'submit':
      if (c.kind === 'text' && view.submit !== undefined) return control(app, owner, { type: 'control/press', id: view.submit });
      return c.kind === 'text' ? result(cycle(1)) : modalKey(app, modal, { type: 'press' });
    case 'insert': case 'erase':
      if (c.kind !== 'text') return result(app);
      return control(app, owner, { type: 'control/edit', id: c.id, edit: key.type === 'insert' ? { kind: 'insert', text: key.text } : { kind: 'erase' } });
    case 'move': case 'pick': return listPick(app, owner, c, key);
    default: return result(app);
  }
}
