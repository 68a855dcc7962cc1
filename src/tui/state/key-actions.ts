/**
 * What a key means, once the key map has looked at where focus is. These are still about the
 * focused control ("press it", "next choice"); the app state turns them into control actions for
 * the screen that owns the control.
 */
import type { TabId } from './tabs.ts';

/** Where focus is, as far as keys care. */
export type KeyContext =
  | 'tabbar'
  | 'text'
  | 'checkbox'
  | 'radio'
  | 'dropdown'
  | 'dropdown-open'
  | 'button'
  | 'list'
  | 'modal-text'
  | 'modal-button'
  | 'modal-list';

export const KEY_CONTEXTS: readonly KeyContext[] = [
  'tabbar', 'text', 'checkbox', 'radio', 'dropdown', 'dropdown-open', 'button', 'list', 'modal-text', 'modal-button', 'modal-list',
];

export type ListStep = 'up' | 'down' | 'page-up' | 'page-down' | 'home' | 'end';

export type KeyAction =
  | { readonly type: 'focus-next' }
  | { readonly type: 'focus-prev' }
  | { readonly type: 'focus-tabs' }
  | { readonly type: 'tab-prev' }
  | { readonly type: 'tab-next' }
  | { readonly type: 'tab-jump'; readonly tab: TabId }
  /** Button: press. Checkbox: tick/untick. Radio: select. */
  | { readonly type: 'press' }
  | { readonly type: 'open-dropdown' }
  /** Keep the choice and close. */
  | { readonly type: 'close-dropdown' }
  /** Restore the choice the drop-down had when it opened, and close. */
  | { readonly type: 'cancel-dropdown' }
  | { readonly type: 'choice-prev' }
  | { readonly type: 'choice-next' }
  /** Enter in a text field: the dialog's default button, else the next control. */
  | { readonly type: 'submit' }
  | { readonly type: 'insert'; readonly text: string }
  | { readonly type: 'erase' }
  /** Read-only tables. */
  | { readonly type: 'scroll'; readonly step: ListStep }
  /** Pick lists: move the selection. */
  | { readonly type: 'move'; readonly step: ListStep }
  | { readonly type: 'pick' }
  /** Esc: close a drop-down, cancel a dialog, or leave the page for the tab bar. */
  | { readonly type: 'back' };
