// The key map, key by key, against the recovery CD user guide's list (§5.1) and against the names
// blessed really reports for the byte sequences a console sends.
import { createRequire } from 'node:module';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { KEYMAP, keyAction } from '../../../src/tui/keymap.ts';
import { KEY_CONTEXTS, type KeyAction, type KeyContext } from '../../../src/tui/state/key-actions.ts';
import { FUNCTION_KEY_TABS } from '../../../src/tui/state/tabs.ts';

const PAGE: KeyContext[] = ['text', 'checkbox', 'radio', 'dropdown', 'button', 'list'];
const DIALOG: KeyContext[] = ['modal-text', 'modal-button', 'modal-list'];

type Row = [key: string, context: KeyContext, expected: KeyAction];

const contexts = (...cs: KeyContext[]): KeyContext[] => cs;

const guideTable: [rule: string, rows: Row[]][] = [
  ['Tab: next control', contexts(...PAGE, 'tabbar', 'dropdown-open', ...DIALOG).map((c): Row => ['tab', c, { type: 'focus-next' }])],
  ['Up: focus the tab bar', PAGE.map((c): Row => ['up', c, { type: 'focus-tabs' }])],
  ['Down: like Tab', contexts(...PAGE, 'tabbar', 'modal-text', 'modal-button').map((c): Row => ['down', c, { type: 'focus-next' }])],
  ['Left/Right with the tab bar focused: switch tabs', [['left', 'tabbar', { type: 'tab-prev' }], ['right', 'tabbar', { type: 'tab-next' }]]],
  ['Left/Right in a drop-down: move the choice', [
    ['left', 'dropdown', { type: 'choice-prev' }], ['right', 'dropdown', { type: 'choice-next' }],
    ['left', 'dropdown-open', { type: 'choice-prev' }], ['right', 'dropdown-open', { type: 'choice-next' }],
  ]],
  ['Space: open a drop-down, press a button', [
    ['space', 'dropdown', { type: 'open-dropdown' }], ['space', 'button', { type: 'press' }],
    ['space', 'modal-button', { type: 'press' }], ['space', 'checkbox', { type: 'press' }], ['space', 'radio', { type: 'press' }],
  ]],
  ['Enter activates', [
    ['enter', 'button', { type: 'press' }], ['enter', 'modal-button', { type: 'press' }], ['enter', 'checkbox', { type: 'press' }],
    ['enter', 'radio', { type: 'press' }], ['enter', 'dropdown', { type: 'open-dropdown' }], ['enter', 'dropdown-open', { type: 'close-dropdown' }],
    ['enter', 'text', { type: 'submit' }], ['enter', 'modal-text', { type: 'submit' }], ['enter', 'modal-list', { type: 'pick' }],
    ['enter', 'tabbar', { type: 'focus-next' }],
  ]],
  ['Esc backs out', [
    ...[...PAGE, ...DIALOG].map((c): Row => ['escape', c, { type: 'back' }]),
    ['escape', 'dropdown-open', { type: 'cancel-dropdown' }],
  ]],
  ['F1-F6 jump to the six tabs', contexts(...PAGE, 'tabbar', 'dropdown-open').flatMap((c) =>
    FUNCTION_KEY_TABS.map((tab, i): Row => [`f${i + 1}`, c, { type: 'tab-jump', tab }]))],
];

describe("key map against the user guide's key list", () => {
  for (const [rule, rows] of guideTable) {
    it.each(rows)(`${rule}: %s in %s`, (key, context, expected) => {
      expect(keyAction(context, { full: key })).toEqual(expected);
    });
  }

  it('F1-F6 are the six tabs in the order of the tab bar', () => {
    expect(FUNCTION_KEY_TABS).toEqual(['server', 'ipv4', 'ipv6', 'driver-update', 'driver-tools', 'shell']);
  });

  it('gives F-keys no meaning inside a dialog (it must be answered first)', () => {
    for (const c of DIALOG) expect(keyAction(c, { full: 'f1' })).toBeNull();
  });

  it("binds neither 'return' (blessed sends it before 'enter') nor Ctrl+C nor Alt+Tab anywhere", () => {
    for (const c of KEY_CONTEXTS) {
      for (const name of ['return', 'C-c', 'M-tab', 'M-C-i']) expect(KEYMAP[c][name], `${name} in ${c}`).toBeUndefined();
    }
  });

  it('never needs Shift+Tab: every context has another way back (Up, the tab bar, or a previous choice)', () => {
    const backwards = new Set(['focus-tabs', 'focus-prev', 'choice-prev', 'move']);
    for (const c of KEY_CONTEXTS) {
      const others = Object.entries(KEYMAP[c]).filter(([k]) => k !== 'S-tab').map(([, a]) => a.type);
      const tabbarWraps = c === 'tabbar' && others.includes('focus-next');
      expect(others.some((t) => backwards.has(t)) || tabbarWraps, c).toBe(true);
    }
  });

  it('types printable characters into text fields only, Space included', () => {
    expect(keyAction('text', { full: 'a', ch: 'a' })).toEqual({ type: 'insert', text: 'a' });
    expect(keyAction('text', { full: 'S-a', ch: 'A' })).toEqual({ type: 'insert', text: 'A' });
    expect(keyAction('modal-text', { full: '.', ch: '.' })).toEqual({ type: 'insert', text: '.' });
    expect(keyAction('text', { full: 'space', ch: ' ' })).toEqual({ type: 'insert', text: ' ' });
    expect(keyAction('text', { full: 'backspace', ch: '\x7f' })).toEqual({ type: 'erase' });
    expect(keyAction('button', { full: 'a', ch: 'a' })).toBeNull();
    expect(keyAction('text', { full: 'C-a', ch: '\x01' })).toBeNull();
    expect(keyAction('text', { full: 'M-x' })).toBeNull();
    // 'e' must stay a letter: blessed's own Textbox would spawn $EDITOR on it.
    expect(keyAction('text', { full: 'e', ch: 'e' })).toEqual({ type: 'insert', text: 'e' });
  });
});

// blessed's decoder, fed the bytes a terminal (or libuv on the Windows console) sends.
const require = createRequire(import.meta.url);
const blessedKeys = require('blessed/lib/keys.js') as { emitKeypressEvents(stream: NodeJS.ReadableStream): void };

interface BlessedKey { name?: string; ctrl: boolean; meta: boolean; shift: boolean }

/** `key.full` names blessed's Program derives for a byte sequence (program.js _listenInput). */
function blessedNames(bytes: string): string[] {
  const stream = new PassThrough();
  blessedKeys.emitKeypressEvents(stream);
  const names: string[] = [];
  stream.on('keypress', (ch: string | undefined, key: BlessedKey | undefined) => {
    const k = key ?? { ctrl: false, meta: false, shift: false, name: undefined };
    const base = k.name ?? ch ?? '';
    const full = `${k.ctrl ? 'C-' : ''}${k.meta ? 'M-' : ''}${k.shift && k.name !== undefined ? 'S-' : ''}${base}`;
    names.push(full);
    if (k.name === 'return' && bytes === '\r') names.push('enter');
  });
  stream.write(bytes);
  return names;
}

describe('what blessed reports for each key of the guide', () => {
  it.each([
    ['Tab', '\t', ['tab']],
    ['Shift+Tab on a VT terminal', '\x1b[Z', ['S-tab']],
    ['Up', '\x1b[A', ['up']],
    ['Down', '\x1b[B', ['down']],
    ['Left', '\x1b[D', ['left']],
    ['Right', '\x1b[C', ['right']],
    ['Space', ' ', ['space']],
    ['Enter (CR: "return" then "enter")', '\r', ['return', 'enter']],
    ['Esc', '\x1b', ['escape']],
    ['Backspace', '\x7f', ['backspace']],
    ['F1 (libuv on the Windows console)', '\x1b[[A', ['f1']],
    ['F5 (libuv on the Windows console)', '\x1b[[E', ['f5']],
    ['F1 (xterm)', '\x1bOP', ['f1']],
    ['F6 (xterm)', '\x1b[17~', ['f6']],
    ['PageDown', '\x1b[6~', ['pagedown']],
    ['Alt+Tab, should a console pass it on (ESC Tab)', '\x1b\t', []],
  ])('%s', (_name, bytes, expected) => {
    expect(blessedNames(bytes)).toEqual(expected);
  });

  it('every key the guide lists arrives under a name the key map binds', () => {
    for (const [bytes, context] of [['\t', 'button'], ['\x1b[A', 'button'], ['\x1b[B', 'button'], ['\x1b[D', 'tabbar'],
      ['\x1b[C', 'tabbar'], [' ', 'button'], ['\r', 'button'], ['\x1b', 'button'], ['\x1b[[A', 'button']] as const) {
      const bound = blessedNames(bytes).filter((n) => KEYMAP[context][n] !== undefined);
      expect(bound, JSON.stringify(bytes)).toHaveLength(1);
    }
  });
});
