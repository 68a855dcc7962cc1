/**
 * The one table from keys to actions, per focus context. Keys are blessed's `key.full` names
 * ('tab', 'S-tab', 'up', 'enter', 'f1', 'pageup', …); plain data, no blessed import.
 *
 * The key list of the recovery CD's user guide (§5.1, target machine setup) is the specification:
 *   Tab         next control
 *   Up          focus the tab bar
 *   Down        like Tab
 *   Left/Right  tab bar focused: switch tabs; in a drop-down: move the choice
 *   Space       open a drop-down, press a button (and tick a checkbox)
 *   Alt+Tab     switch windows: Windows handles it; blessed reports no key for it (ESC+Tab gives
 *               no keypress), so nothing here may depend on it
 * Also: Enter activates, Esc backs out, F1–F6 jump to the six tabs (hypervisor consoles often
 * swallow Alt). Shift+Tab ('S-tab') goes back where a terminal reports it, but Windows delivers
 * it as Tab, so nothing depends on it.
 *
 * Deliberately unbound: 'return' (blessed emits 'return' and then 'enter' for one Enter press;
 * binding both would act twice), 'C-c' (the appliance is the WinPE shell; it must not quit).
 */
import type { AppAction, AppState } from './state/app-state.ts';
import { reduceApp } from './state/app-state.ts';
import type { Result } from './state/controls.ts';
import { result } from './state/controls.ts';
import type { KeyAction, KeyContext } from './state/key-actions.ts';
import { keyContext } from './state/key-context.ts';
import { FUNCTION_KEY_TABS } from './state/tabs.ts';

type Bindings = Readonly<Record<string, KeyAction>>;

const FUNCTION_KEYS: Bindings = Object.fromEntries(FUNCTION_KEY_TABS.map((tab, i) => [`f${i + 1}`, { type: 'tab-jump', tab }]));

/** Moving between controls on a page; shared by every non-dialog control. */
const PAGE: Bindings = {
  tab: { type: 'focus-next' },
  down: { type: 'focus-next' },
  up: { type: 'focus-tabs' },
  'S-tab': { type: 'focus-prev' },
  escape: { type: 'back' },
  ...FUNCTION_KEYS,
};

/** Moving between controls in a dialog: the tab bar is out of reach until it closes. */
const DIALOG: Bindings = {
  tab: { type: 'focus-next' },
  down: { type: 'focus-next' },
  up: { type: 'focus-prev' },
  'S-tab': { type: 'focus-prev' },
  escape: { type: 'back' },
};

const PRESS: Bindings = { space: { type: 'press' }, enter: { type: 'press' } };

export const KEYMAP: Readonly<Record<KeyContext, Bindings>> = {
  tabbar: {
    left: { type: 'tab-prev' },
    right: { type: 'tab-next' },
    tab: { type: 'focus-next' },
    down: { type: 'focus-next' },
    enter: { type: 'focus-next' },
    'S-tab': { type: 'focus-prev' },
    ...FUNCTION_KEYS,
  },
  text: { ...PAGE, enter: { type: 'submit' }, space: { type: 'insert', text: ' ' }, backspace: { type: 'erase' } },
  checkbox: { ...PAGE, ...PRESS },
  radio: { ...PAGE, ...PRESS },
  dropdown: {
    ...PAGE,
    left: { type: 'choice-prev' },
    right: { type: 'choice-next' },
    space: { type: 'open-dropdown' },
    enter: { type: 'open-dropdown' },
  },
  'dropdown-open': {
    left: { type: 'choice-prev' },
    up: { type: 'choice-prev' },
    right: { type: 'choice-next' },
    down: { type: 'choice-next' },
    space: { type: 'close-dropdown' },
    enter: { type: 'close-dropdown' },
    escape: { type: 'cancel-dropdown' },
    tab: { type: 'focus-next' },
    'S-tab': { type: 'focus-prev' },
    ...FUNCTION_KEYS,
  },
  button: { ...PAGE, ...PRESS },
  list: {
    ...PAGE,
    pageup: { type: 'scroll', step: 'page-up' },
    pagedown: { type: 'scroll', step: 'page-down' },
    home: { type: 'scroll', step: 'home' },
    end: { type: 'scroll', step: 'end' },
  },
  'modal-text': { ...DIALOG, enter: { type: 'submit' }, space: { type: 'insert', text: ' ' }, backspace: { type: 'erase' } },
  'modal-button': { ...DIALOG, left: { type: 'focus-prev' }, right: { type: 'focus-next' }, ...PRESS },
  'modal-list': {
    ...DIALOG,
    up: { type: 'move', step: 'up' },
    down: { type: 'move', step: 'down' },
    pageup: { type: 'move', step: 'page-up' },
    pagedown: { type: 'move', step: 'page-down' },
    home: { type: 'move', step: 'home' },
    end: { type: 'move', step: 'end' },
    enter: { type: 'pick' },
    space: { type: 'pick' },
  },
};

/** A key as blessed reports it: `key.full` and the character typed, if any. */
export interface KeyPress {
  readonly full: string;
  readonly ch?: string;
}

function printable(ch: string | undefined): ch is string {
  return ch !== undefined && Array.from(ch).length === 1 && ch >= ' ' && ch !== '\x7f';
}

/** The action for a key where focus is; typed characters go into text fields; null = ignore. */
export function keyAction(context: KeyContext, key: KeyPress): KeyAction | null {
  const bound = KEYMAP[context][key.full];
  if (bound !== undefined) return bound;
  const textField = context === 'text' || context === 'modal-text';
  const modified = key.full.startsWith('C-') || key.full.startsWith('M-');
  return textField && !modified && printable(key.ch) ? { type: 'insert', text: key.ch } : null;
}

/** Look the key up for the current focus and apply it. */
export function applyKey(app: AppState, key: KeyPress): Result<AppState> {
  const action = keyAction(keyContext(app), key);
  if (action === null) return result(app);
  const appAction: AppAction = { type: 'key', key: action };
  return reduceApp(app, appAction);
}
