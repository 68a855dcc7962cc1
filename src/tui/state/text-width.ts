/**
 * Display width of text in a terminal cell grid, so rows can be laid out for 80 columns in both
 * languages. Rules (after Markus Kuhn's wcwidth and Unicode UAX #11):
 *   - East Asian Wide and Fullwidth characters (CJK ideographs, kana, Hangul, fullwidth forms and
 *     punctuation such as "：" and "，") take 2 columns;
 *   - combining marks, zero-width spaces/joiners, variation selectors and control characters take 0;
 *   - everything else takes 1.
 * East Asian Ambiguous characters ("—", "…", "·", arrows, box drawing) are counted as 1, but a
 * console with a CJK font may draw them 2 wide, so our strings avoid them (see `hasAmbiguousWidth`).
 */

type Range = readonly [number, number];

const ZERO_WIDTH: readonly Range[] = [
  [0x0000, 0x001f], [0x007f, 0x009f], [0x00ad, 0x00ad],
  [0x0300, 0x036f], [0x0483, 0x0489], [0x0591, 0x05bd], [0x05bf, 0x05bf], [0x05c1, 0x05c2],
  [0x05c4, 0x05c5], [0x05c7, 0x05c7], [0x0610, 0x061a], [0x064b, 0x065f], [0x0670, 0x0670],
  [0x06d6, 0x06dc], [0x06df, 0x06e4], [0x06e7, 0x06e8], [0x06ea, 0x06ed], [0x0900, 0x0902],
  [0x093c, 0x093c], [0x0941, 0x0948], [0x094d, 0x094d], [0x0e31, 0x0e31], [0x0e34, 0x0e3a],
  [0x0e47, 0x0e4e], [0x1160, 0x11ff], [0x1ab0, 0x1aff], [0x1dc0, 0x1dff], [0x200b, 0x200f],
  [0x2028, 0x202e], [0x2060, 0x2064], [0x20d0, 0x20ff], [0x302a, 0x302d], [0x3099, 0x309a],
  [0xfe00, 0xfe0f], [0xfe20, 0xfe2f], [0xfeff, 0xfeff], [0xe0001, 0xe007f], [0xe0100, 0xe01ef],
];

const WIDE: readonly Range[] = [
  [0x1100, 0x115f], [0x231a, 0x231b], [0x2329, 0x232a], [0x2e80, 0x303e], [0x3041, 0x33ff],
  [0x3400, 0x4dbf], [0x4e00, 0x9fff], [0xa000, 0xa4cf], [0xa960, 0xa97f], [0xac00, 0xd7a3],
  [0xf900, 0xfaff], [0xfe10, 0xfe19], [0xfe30, 0xfe6f], [0xff00, 0xff60], [0xffe0, 0xffe6],
  [0x1f300, 0x1f64f], [0x1f900, 0x1f9ff], [0x20000, 0x2fffd], [0x30000, 0x3fffd],
];

/** The East Asian Ambiguous blocks that commonly sneak into UI text (not the whole UAX #11 list). */
const AMBIGUOUS: readonly Range[] = [
  [0x00a1, 0x00a1], [0x00a4, 0x00a4], [0x00a7, 0x00a8], [0x00aa, 0x00aa], [0x00ae, 0x00ae],
  [0x00b0, 0x00b4], [0x00b6, 0x00ba], [0x00bc, 0x00bf], [0x00c6, 0x00c6], [0x00d7, 0x00d8],
  [0x00e0, 0x00e1], [0x00e8, 0x00ea], [0x00f7, 0x00f7], [0x0391, 0x03c9], [0x0401, 0x0451],
  [0x2010, 0x2027], [0x2030, 0x203e], [0x2100, 0x22ff], [0x2460, 0x24ff], [0x2500, 0x25ff],
  [0x2600, 0x2619], [0x261c, 0x261f], [0x2640, 0x2642], [0x2660, 0x266f], [0x2776, 0x277f],
  [0xe000, 0xf8ff], [0xfffd, 0xfffd],
];

function inRanges(cp: number, ranges: readonly Range[]): boolean {
  let lo = 0;
  let hi = ranges.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const [start, end] = ranges[mid] as Range;
    if (cp < start) hi = mid - 1;
    else if (cp > end) lo = mid + 1;
    else return true;
  }
  return false;
}

/** Columns one code point takes: 0, 1 or 2. */
export function codePointWidth(cp: number): 0 | 1 | 2 {
  if (cp >= 0x20 && cp < 0x7f) return 1;
  if (inRanges(cp, ZERO_WIDTH)) return 0;
  return inRanges(cp, WIDE) ? 2 : 1;
}

/** Columns a string takes on the terminal. */
export function textWidth(text: string): number {
  let width = 0;
  for (const ch of text) width += codePointWidth(ch.codePointAt(0) ?? 0);
  return width;
}

/** True when the text holds a character some consoles draw 1 and others 2 columns wide. */
export function hasAmbiguousWidth(text: string): boolean {
  for (const ch of text) if (inRanges(ch.codePointAt(0) ?? 0, AMBIGUOUS)) return true;
  return false;
}

/** The longest prefix of `text` that fits `columns`, ending in "..." when something was cut. */
export function truncateToWidth(text: string, columns: number): string {
  if (textWidth(text) <= columns) return text;
  const room = columns - 3;
  if (room < 0) return '.'.repeat(Math.max(0, columns));
  let out = '';
  let width = 0;
  for (const ch of text) {
    const w = codePointWidth(ch.codePointAt(0) ?? 0);
    if (width + w > room) break;
    out += ch;
    width += w;
  }
  return `${out}...`;
}

/** `text` padded with spaces to exactly `columns` (truncated first when longer). */
export function padEndToWidth(text: string, columns: number): string {
  const fitted = truncateToWidth(text, columns);
  return fitted + ' '.repeat(Math.max(0, columns - textWidth(fitted)));
}
