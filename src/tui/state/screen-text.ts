/**
 * The screen as plain text rows, 80 columns by 25: tab bar, a rule, the tab's content (or the open
 * dialog), the key hints. Views draw widgets from the same data; this text form is the reference
 * layout, what tests measure, and what a serial console can show as is.
 *
 * Markers instead of colour: "> " starts the focused row, ">…<" wraps the focused button or radio,
 * "[x]"/"[ ]" checkboxes, "(*)"/"( )" radios and open drop-downs, "[name]" the active tab, "!" a
 * field the last Apply refused. Labels are never cut (tests prove they fit); data (values, server
 * words, table cells) is cut with "..." to its column.
 */
import type { AppState } from './app-state.ts';
import type { Control, ListControl, ModalView } from './controls.ts';
import { focusedControl, restoreVisible } from './focus.ts';
import { translate, type Lang, type Msg } from './i18n.ts';
import { keyContext } from './key-context.ts';
import { scrollOffset } from './key-reducer.ts';
import { activeModal, screenView } from './screens.ts';
import { TAB_LABELS, visibleTabs } from './tabs.ts';
import { padEndToWidth, textWidth, truncateToWidth } from './text-width.ts';

export const SCREEN_COLUMNS = 80;
export const SCREEN_ROWS = 25;
/** Visible options of an open drop-down. */
export const DROPDOWN_ROWS = 6;
const VALUE_WIDTH = 34;

export function tabBarText(app: AppState): string {
  const parts = visibleTabs(restoreVisible(app)).map((t) => {
    const label = translate(app.lang, { key: TAB_LABELS[t] });
    return t === app.tab ? `[${label}]` : label;
  });
  return `${app.focus.area === 'tabs' ? '> ' : '  '}${parts.join('|')}`;
}

export function hintText(app: AppState): string {
  return translate(app.lang, { key: `hint.${keyContext(app)}` });
}

interface RenderContext {
  readonly lang: Lang;
  readonly focusedId: string | null;
  readonly openDropdown: string | null;
  readonly offsetOf: (list: ListControl) => number;
}

export function renderScreen(app: AppState): string[] {
  const modal = activeModal(app);
  const focused = focusedControl(app);
  const rows = [tabBarText(app), '-'.repeat(SCREEN_COLUMNS)];
  if (modal !== null) {
    rows.push(...modalRows(modal.view, { lang: app.lang, focusedId: focused?.id ?? null, openDropdown: null, offsetOf: pickOffset }));
  } else {
    const view = screenView(app, app.tab);
    const ctx: RenderContext = {
      lang: app.lang,
      focusedId: app.focus.area === 'body' ? (focused?.id ?? null) : null,
      openDropdown: app.dropdown?.id ?? null,
      offsetOf: (list) => (list.selected === null ? scrollOffset(app, app.tab, list) : pickOffset(list)),
    };
    rows.push(...view.before.map((m) => line(app.lang, m)), ...controlRows(view.controls, ctx), ...view.after.map((m) => line(app.lang, m)));
  }
  rows.push(hintText(app));
  return rows;
}

function line(lang: Lang, m: Msg): string {
  return truncateToWidth(translate(lang, m), SCREEN_COLUMNS);
}

function pickOffset(list: ListControl): number {
  const max = Math.max(0, list.rows.length - list.height);
  return Math.max(0, Math.min(max, (list.selected ?? 0) - Math.floor(list.height / 2)));
}

function modalRows(view: ModalView, ctx: RenderContext): string[] {
  return [
    `== ${translate(ctx.lang, view.title)} ==`,
    ...view.lines.map((m) => line(ctx.lang, m)),
    '',
    ...controlRows(view.controls, ctx),
  ];
}

/** Width of the label column: the widest label of a text field or drop-down, plus a gap. */
function labelColumn(controls: readonly Control[], lang: Lang): number {
  const widths = controls.filter((c) => c.kind === 'text' || c.kind === 'dropdown').map((c) => textWidth(translate(lang, c.label)));
  return Math.max(0, ...widths) + 2;
}

export function controlRows(controls: readonly Control[], ctx: RenderContext): string[] {
  const rows: string[] = [];
  const labelWidth = labelColumn(controls, ctx.lang);
  for (let i = 0; i < controls.length; i++) {
    const c = controls[i] as Control;
    if (c.kind === 'button' || c.kind === 'radio') {
      const group: Control[] = [];
      while (i < controls.length && controls[i]?.kind === c.kind) group.push(controls[i++] as Control);
      i--;
      rows.push(groupRow(group, ctx));
      continue;
    }
    const mark = c.id === ctx.focusedId ? '> ' : '  ';
    const label = translate(ctx.lang, c.label);
    switch (c.kind) {
      case 'text': {
        const shown = c.masked ? '*'.repeat(Array.from(c.value).length) : c.value;
        const cursor = c.id === ctx.focusedId ? '_' : '';
        const box = padEndToWidth(tail(shown + cursor, VALUE_WIDTH), VALUE_WIDTH);
        const hint = c.hint === undefined ? '' : ` ${translate(ctx.lang, c.hint)}`;
        rows.push(`${mark}${padEndToWidth(label, labelWidth)}[${box}]${c.invalid ? '!' : ' '}${hint}`);
        break;
      }
      case 'checkbox':
        rows.push(`${mark}[${c.checked ? 'x' : ' '}] ${label}`);
        break;
      case 'dropdown': rows.push(...dropdownRows(c, mark, padEndToWidth(label, labelWidth), ctx)); break;
      case 'list': rows.push(...listRows(c, mark, label, ctx)); break;
    }
  }
  return rows;
}

/** Keep the end of a long value in view, where the operator is typing. */
function tail(text: string, columns: number): string {
  if (textWidth(text) <= columns) return text;
  const chars = Array.from(text);
  let out = '';
  for (let i = chars.length - 1; i >= 0 && textWidth(`<${chars[i] ?? ''}${out}`) <= columns; i--) out = `${chars[i] ?? ''}${out}`;
  return `<${out}`;
}

function groupRow(group: readonly Control[], ctx: RenderContext): string {
  const anyFocused = group.some((c) => c.id === ctx.focusedId);
  const items = group.map((c) => {
    const label = translate(ctx.lang, c.label);
    const body = c.kind === 'radio' ? `(${c.selected ? '*' : ' '}) ${label}` : `[ ${label} ]`;
    return c.id === ctx.focusedId ? `>${body}<` : ` ${body} `;
  });
  return `${anyFocused ? '> ' : '  '}${items.join(' ')}`;
}

function dropdownRows(c: Extract<Control, { kind: 'dropdown' }>, mark: string, label: string, ctx: RenderContext): string[] {
  const current = c.options[c.selected];
  const shown = current === undefined ? '-' : truncateToWidth(translate(ctx.lang, current), 40);
  if (ctx.openDropdown !== c.id) return [`${mark}${label}< ${shown} >`];
  const first = Math.max(0, Math.min(c.options.length - DROPDOWN_ROWS, c.selected - Math.floor(DROPDOWN_ROWS / 2)));
  const indent = ' '.repeat(2 + textWidth(label));
  const options = c.options.slice(first, first + DROPDOWN_ROWS).map((o, k) =>
    `${indent}(${first + k === c.selected ? '*' : ' '}) ${truncateToWidth(translate(ctx.lang, o), 40)}`);
  return [`${mark}${label}v ${shown}`, ...options];
}

function listRows(c: ListControl, mark: string, label: string, ctx: RenderContext): string[] {
  const offset = ctx.offsetOf(c);
  const count = c.rows.length;
  const range = count > c.height ? `  (${translate(ctx.lang, { key: 'ui.rows', params: { first: offset + 1, last: Math.min(count, offset + c.height), count } })})` : '';
  const rows = [`${mark}${label}${range}`];
  const fixed = c.columns.reduce((sum, col) => sum + col.width + 1, 0);
  const widths = c.columns.map((col) => (col.width === 0 ? Math.max(1, SCREEN_COLUMNS - 2 - fixed) : col.width));
  const cells = (values: readonly Msg[]): string => values
    .map((v, k) => padEndToWidth(translate(ctx.lang, v), widths[k] ?? 1)).join(' ').trimEnd();
  const headers = c.columns.map((col) => col.header);
  if (headers.some((h) => translate(ctx.lang, h) !== '')) rows.push(`  ${cells(headers)}`);
  if (count === 0) rows.push(`  ${translate(ctx.lang, { key: 'ui.empty' })}`);
  for (let k = offset; k < Math.min(count, offset + c.height); k++) {
    rows.push(`${c.selected === k ? '> ' : '  '}${cells(c.rows[k] ?? [])}`);
  }
  return rows;
}
