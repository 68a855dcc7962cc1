/**
 * What a screen shows and what can take focus, as data. Every screen lists its controls in focus
 * order; the app state moves focus over that list and turns keys into the control actions below,
 * so a screen reducer never sees a key, only "edit this field", "press this button".
 */
import type { Effect } from './effects.ts';
import type { Msg } from './i18n.ts';

export interface TextControl {
  readonly kind: 'text';
  readonly id: string;
  readonly label: Msg;
  readonly value: string;
  /** Drawn as "*" per character (access key, passphrase). */
  readonly masked: boolean;
  /** The last Apply found this field wrong; drawn with a "!" marker. */
  readonly invalid: boolean;
  /** Shown after the field, e.g. the mask for a typed prefix. */
  readonly hint?: Msg;
}

export interface CheckboxControl {
  readonly kind: 'checkbox';
  readonly id: string;
  readonly label: Msg;
  readonly checked: boolean;
}

/** One choice of a group; consecutive radios are drawn on one row. */
export interface RadioControl {
  readonly kind: 'radio';
  readonly id: string;
  readonly label: Msg;
  readonly selected: boolean;
}

export interface DropdownControl {
  readonly kind: 'dropdown';
  readonly id: string;
  readonly label: Msg;
  readonly options: readonly Msg[];
  /** Index into options; -1 when there is nothing to choose. */
  readonly selected: number;
}

/** Consecutive buttons are drawn on one row. */
export interface ButtonControl {
  readonly kind: 'button';
  readonly id: string;
  readonly label: Msg;
}

/** A table column; `width` in display columns, 0 = whatever is left of the row. */
export interface ListColumn {
  readonly header: Msg;
  readonly width: number;
}

/**
 * Rows of data, one Msg per cell. `selected === null`: a read-only table that only scrolls
 * (PageUp/PageDown); a number: a pick list (file browser) where Up/Down move the selection and
 * Enter picks.
 */
export interface ListControl {
  readonly kind: 'list';
  readonly id: string;
  readonly label: Msg;
  readonly columns: readonly ListColumn[];
  readonly rows: readonly (readonly Msg[])[];
  readonly selected: number | null;
  /** Visible rows on an 80×25 screen. */
  readonly height: number;
}

export type Control = TextControl | CheckboxControl | RadioControl | DropdownControl | ButtonControl | ListControl;

export type TextEdit = { readonly kind: 'insert'; readonly text: string } | { readonly kind: 'erase' };

/** What the app state asks of a screen once it has decided which control a key is for. */
export type ControlAction =
  | { readonly type: 'control/edit'; readonly id: string; readonly edit: TextEdit }
  /** Checkbox: flip. Radio: select. */
  | { readonly type: 'control/toggle'; readonly id: string }
  | { readonly type: 'control/choose'; readonly id: string; readonly index: number }
  | { readonly type: 'control/press'; readonly id: string }
  /** Pick lists: move the selection by `delta` rows (clamped). */
  | { readonly type: 'control/move'; readonly id: string; readonly delta: number }
  /** Pick lists: Enter on the selected row. */
  | { readonly type: 'control/pick'; readonly id: string };

/** A dialog over the screen. It owns focus until it closes; Esc presses `cancel`. */
export interface ModalView {
  readonly id: string;
  readonly title: Msg;
  readonly lines: readonly Msg[];
  readonly controls: readonly Control[];
  /** Control focused when the dialog opens (the safe choice for confirmations). */
  readonly initialFocus: string;
  /** Button that Esc presses. */
  readonly cancel: string;
  /** Button that Enter in the dialog's text field presses (e.g. OK after typing a passphrase). */
  readonly submit?: string;
}

/** Every reducer returns the next state and the effects for the controller to run, in order. */
export interface Result<S> {
  readonly state: S;
  readonly effects: readonly Effect[];
}

export function result<S>(state: S, effects: readonly Effect[] = []): Result<S> {
  return { state, effects };
}

/** Longest text a field keeps; more is dropped (a DNS name is at most 253 characters). */
export const MAX_FIELD_LENGTH = 256;

/** Append typed text (control characters dropped) or erase the last character. */
export function applyTextEdit(value: string, edit: TextEdit, maxLength = MAX_FIELD_LENGTH): string {
  if (edit.kind === 'erase') return Array.from(value).slice(0, -1).join('');
  const typed = Array.from(edit.text).filter((ch) => ch >= ' ' && ch !== '\x7f').join('');
  return Array.from(value + typed).slice(0, maxLength).join('');
}
