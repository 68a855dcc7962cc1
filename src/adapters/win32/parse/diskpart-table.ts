/**
 * diskpart prints its lists as fixed-width tables: a header, a line of dash groups that gives each
 * column's start, then one row per object ("Disk 0", "Volume 1", …; localized words). The dash line
 * is the anchor: it survives localization, a missing indent and the blank lines some published
 * copies put between rows. A row's cell runs from its column's start to the next column's start,
 * so right-aligned sizes and labels with spaces ("Windows RE") come out whole. The selected object
 * is marked with `*` before the first column.
 */
import { isBlank, outputLines } from './text.ts';

export interface TableRow {
  /** Cell texts, trimmed, one per column (missing trailing cells are ''). */
  readonly cells: readonly string[];
  /** True when the row carries diskpart's `*` focus marker. */
  readonly selected: boolean;
  /** The number in the first cell ("Disk 3" → 3). */
  readonly number: number;
}

const DASHES = /^ *-+( +-+)+ *$/;

function columnStarts(dashLine: string): number[] {
  const starts: number[] = [];
  for (let i = 0; i < dashLine.length; i++) {
    if (dashLine[i] === '-' && (i === 0 || dashLine[i - 1] === ' ')) starts.push(i);
  }
  return starts;
}

/** "* Disk 0" / "Disk 0" → number and marker; undefined when the text is not a row label. */
function rowLabel(text: string): { number: number; selected: boolean } | undefined {
  const m = /^(\*\s*)?\S+(?: \S+)? (\d{1,6})$/.exec(text.trim());
  return m === null ? undefined : { number: Number(m[2]), selected: m[1] !== undefined };
}

/**
 * The first table in `text`: rows after its dash line until the first line that is not a row
 * (blank lines between rows are skipped). Empty when there is no table.
 */
export function parseDiskpartTable(text: string): TableRow[] {
  const lines = outputLines(text);
  const dashAt = lines.findIndex((l) => DASHES.test(l));
  if (dashAt < 0) return [];
  const starts = columnStarts(lines[dashAt]!);
  const first = starts[0]!;
  const rows: TableRow[] = [];
  for (const line of lines.slice(dashAt + 1)) {
    if (isBlank(line)) continue;
    const cells = starts.map((s, i) => line.slice(i === 0 ? 0 : s, starts[i + 1] ?? line.length).trim());
    const prefixMarked = line.slice(0, first).includes('*');
    const label = rowLabel(cells[0]!);
    if (label === undefined) break;
    cells[0] = cells[0]!.replace(/^\*\s*/, '');
    rows.push({ cells, selected: label.selected || prefixMarked, number: label.number });
  }
  return rows;
}
