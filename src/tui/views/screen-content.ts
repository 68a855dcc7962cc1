/**
 * The text the blessed view draws: `renderScreen(app)` rows turned into blessed-tagged lines. The
 * markers in the text carry the meaning ("> " focus, "[x]", "(*)", "!"); the tags only add
 * emphasis (focused row inverse, dialog title bold), so a monochrome console loses nothing.
 * Every row is escaped: server words, file names and typed text may contain "{" and "}".
 */
import type { AppState } from '../state/app-state.ts';
import { renderScreen } from '../state/screen-text.ts';
import { truncateToWidth } from '../state/text-width.ts';

/** blessed tag escaping: "{" and "}" become the literal tags {open} and {close}. */
export function escapeTags(text: string): string {
  return text.replace(/[{}]/g, (c) => (c === '{' ? '{open}' : '{close}'));
}

function styled(row: string): string {
  const text = escapeTags(row);
  if (row.startsWith('> ')) return `{inverse}${text}{/inverse}`;
  if (row.startsWith('== ')) return `{bold}${text}{/bold}`;
  return text;
}

export interface ScreenContent {
  /** Tab bar, rule and page, one tagged line per row. */
  readonly body: string;
  /** The key hints, or a failure notice ("! …") until the next key. */
  readonly hint: string;
}

export function screenContent(app: AppState, notice: string | null, columns: number): ScreenContent {
  const rows = renderScreen(app);
  const hint = rows.pop() ?? '';
  const shown = notice === null ? escapeTags(hint) : `{inverse}${escapeTags(truncateToWidth(`! ${notice}`, columns))}{/inverse}`;
  return { body: rows.map(styled).join('\n'), hint: shown };
}
