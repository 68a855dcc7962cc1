/**
 * `bcdedit [/store <file>] /enum [all|<id>] [/v]` (en-US). Each entry is a heading ("Windows Boot
 * Manager", "Windows Boot Loader", …) underlined with dashes, then `name<spaces>value` lines with
 * values aligned at column 24 (a 23-character name is followed by a single space), and list values
 * continued on lines indented to that column. Entries are separated by blank lines.
 * Tolerated, because published copies contain them: a `## ` before the heading and a missing dash
 * underline. Values are kept as text (`partition=C:`, `{bootmgr}`, malformed GUIDs included).
 */
import { isBlank, outputLines } from './text.ts';

export interface BcdEntry {
  /** The heading ("Windows Boot Loader"); undefined when the block had none (e.g. /dbgsettings). */
  readonly type: string | undefined;
  /** The `identifier` value: `{bootmgr}`, `{current}`, or a `{GUID}` with /v. */
  readonly identifier: string | undefined;
  /** Element name → values (one per line; several for lists such as displayorder). */
  readonly fields: Readonly<Record<string, readonly string[]>>;
  /** Element names in printed order. */
  readonly order: readonly string[];
}

const VALUE_COLUMN = 24;

/** `name   value` → [name, value]; undefined for a heading or prose line. */
function fieldLine(line: string): [string, string] | undefined {
  const m = /^(\S+)( +)(\S.*)$/.exec(line);
  if (m === null) return undefined;
  const [, name, gap, value] = m;
  if (gap!.length < 2 && name!.length + gap!.length < VALUE_COLUMN) return undefined;
  return [name!, value!.trimEnd()];
}

const isDashes = (line: string) => /^-{3,}\s*$/.test(line);
const isContinuation = (line: string) => /^\s{2,}\S/.test(line);

interface Builder { type: string | undefined; fields: Record<string, string[]>; order: string[]; last: string | undefined }

function finish(b: Builder): BcdEntry {
  return { type: b.type, identifier: b.fields['identifier']?.[0], fields: b.fields, order: b.order };
}

export function parseBcdeditEnum(stdout: string): BcdEntry[] {
  const entries: BcdEntry[] = [];
  let current: Builder | undefined;
  const close = () => {
    if (current !== undefined && current.order.length > 0) entries.push(finish(current));
    current = undefined;
  };
  const start = (type: string | undefined): Builder => ({ type, fields: Object.create(null) as Record<string, string[]>, order: [], last: undefined });
  for (const raw of outputLines(stdout)) {
    const line = raw.replace(/^#+ /, '');
    if (isBlank(line)) {
      close();
      continue;
    }
    if (isDashes(line)) continue;
    if (current !== undefined && current.last !== undefined && isContinuation(line)) {
      current.fields[current.last]!.push(line.trim());
      continue;
    }
    const field = fieldLine(line);
    if (field === undefined) {
      // A heading starts a new entry; prose such as "The operation completed successfully." has no fields after it.
      close();
      current = start(line.trim());
      continue;
    }
    current ??= start(undefined);
    const [name, value] = field;
    if (current.fields[name] === undefined) {
      current.fields[name] = [];
      current.order.push(name);
    }
    current.fields[name]!.push(value);
    current.last = name;
  }
  close();
  return entries;
}

/** First value of an element, e.g. `bcdField(entry, 'device')` → `partition=C:`. */
export function bcdField(entry: BcdEntry, name: string): string | undefined {
  return entry.fields[name]?.[0];
}

/** `The entry {GUID} was successfully created.` → `{GUID}` (lower case); undefined otherwise. */
export function parseBcdeditCreated(stdout: string): string | undefined {
  const m = /The entry (\{[0-9a-fA-F-]{36}\}) was successfully created/.exec(stdout);
  return m?.[1]?.toLowerCase();
}
