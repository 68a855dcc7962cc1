/**
 * INF syntax (Microsoft "General Syntax Rules for INF Files"), as Windows setup reads it:
 *  - `[section]` headers; names compare without case; same-named sections are merged in file order;
 *  - `;` starts a comment unless it is inside a `"quoted string"` (`""` is a literal quote);
 *  - a `\` that is the last character of a line, once its comment is removed, joins the next line
 *    (so a comment ending in `\` does not continue the line);
 *  - `key = value[, value…]`: the first unquoted `=` before any unquoted `,` splits the key off;
 *  - `%strkey%` is replaced by the [Strings] value (keys compare without case), `%%` is a literal
 *    `%`; unknown tokens (DIRIDs such as `%12%`, build placeholders) are kept as written.
 *    Replacement happens after the line is split, so a string holding `,` or `;` stays one value.
 */
import { decodeInfBytes } from './inf-decode.ts';
import type { InfEncoding } from './inf-decode.ts';

export interface InfLine {
  /** 1-based number of the physical line the logical line starts on. */
  readonly lineNumber: number;
  /** The key with strings substituted, or undefined for a line without `=`. */
  readonly key: string | undefined;
  /** The key as written (quotes removed), before substitution. */
  readonly rawKey: string | undefined;
  /** Comma-separated values with strings substituted (in [Strings] sections: one value, commas kept). */
  readonly fields: readonly string[];
  /** The same values before substitution. */
  readonly rawFields: readonly string[];
}

export interface InfSection {
  /** The name as first written. */
  readonly name: string;
  readonly lines: readonly InfLine[];
}

export interface InfDocument {
  /** How the bytes were decoded; 'text' when the caller passed a string. */
  readonly encoding: InfEncoding | 'text';
  /** Sections in file order; a section written twice appears once with both bodies. */
  readonly sections: readonly InfSection[];
  /** Lower-case section name → section. */
  readonly sectionIndex: ReadonlyMap<string, InfSection>;
  /** Lower-case string key → value, from [Strings] overlaid with [Strings.<locale>] when asked for. */
  readonly strings: ReadonlyMap<string, string>;
}

export interface ParseInfOptions {
  /** A language id such as `0409`: values of [Strings.0409] win over [Strings]. */
  readonly locale?: string;
}

type Part = { text: string; quoted: boolean };
type Field = Part[];
interface RawLine { lineNumber: number; key: Field | undefined; fields: Field[] }
interface RawSection { name: string; lines: RawLine[] }

/** Text before an unquoted `;`. */
function stripComment(line: string): string {
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '"') quoted = !quoted;
    else if (c === ';' && !quoted) return line.slice(0, i);
  }
  return line;
}

/** Splits one logical line into an optional key and fields of quoted/unquoted parts. */
function tokenize(line: string, splitCommas: boolean): { key: Field | undefined; fields: Field[] } {
  let key: Field | undefined;
  const fields: Field[] = [];
  let field: Field = [];
  let part: Part = { text: '', quoted: false };
  const endPart = () => {
    if (part.text !== '' || part.quoted) field.push(part);
    part = { text: '', quoted: false };
  };
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === '"') {
      if (part.quoted && line[i + 1] === '"') {
        part.text += '"';
        i++;
      } else {
        const opening = !part.quoted;
        endPart();
        part.quoted = opening;
      }
    } else if (part.quoted) {
      part.text += c;
    } else if (c === '=' && key === undefined && fields.length === 0) {
      endPart();
      key = field;
      field = [];
    } else if (c === ',' && splitCommas) {
      endPart();
      fields.push(field);
      field = [];
    } else {
      part.text += c;
    }
  }
  endPart();
  fields.push(field);
  return { key, fields };
}

/** Unquoted whitespace at either end of a field is not part of its value. */
function trimField(field: Field): Field {
  const out = field.map((p) => ({ ...p }));
  const first = out[0];
  if (first !== undefined && !first.quoted) first.text = first.text.trimStart();
  const last = out[out.length - 1];
  if (last !== undefined && !last.quoted) last.text = last.text.trimEnd();
  return out;
}

/** Replaces `%strkey%` tokens and `%%`; unknown tokens stay as written. */
export function substituteInfStrings(text: string, strings: ReadonlyMap<string, string>): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const at = text.indexOf('%', i);
    if (at < 0) return out + text.slice(i);
    out += text.slice(i, at);
    if (text[at + 1] === '%') {
      out += '%';
      i = at + 2;
      continue;
    }
    const end = text.indexOf('%', at + 1);
    if (end < 0) return out + text.slice(at);
    const token = text.slice(at + 1, end);
    out += strings.get(token.toLowerCase()) ?? `%${token}%`;
    i = end + 1;
  }
  return out;
}

const joinRaw = (field: Field) => field.map((p) => p.text).join('');
const joinSubstituted = (field: Field, strings: ReadonlyMap<string, string>) =>
  field.map((p) => substituteInfStrings(p.text, strings)).join('');

const isStringsSection = (name: string) => /^strings(\.|$)/i.test(name);

/** Physical lines → sections of tokenized logical lines (no substitution yet). */
function readSections(text: string): RawSection[] {
  const physical = text.split(/\r\n|\n|\r/);
  const sections: RawSection[] = [];
  const byName = new Map<string, RawSection>();
  let current: RawSection | undefined;
  for (let i = 0; i < physical.length; i++) {
    const lineNumber = i + 1;
    let logical = stripComment(physical[i]!).trimEnd();
    while (logical.endsWith('\\') && i + 1 < physical.length) {
      i++;
      logical = logical.slice(0, -1) + stripComment(physical[i]!).trimEnd();
    }
    const trimmed = logical.trim();
    if (trimmed === '') continue;
    if (trimmed.startsWith('[')) {
      const close = trimmed.indexOf(']');
      const name = (close < 0 ? trimmed.slice(1) : trimmed.slice(1, close)).trim();
      const lower = name.toLowerCase();
      current = byName.get(lower);
      if (current === undefined) {
        current = { name, lines: [] };
        byName.set(lower, current);
        sections.push(current);
      }
      continue;
    }
    if (current === undefined) continue; // text before the first section means nothing to setup
    const { key, fields } = tokenize(logical, !isStringsSection(current.name));
    current.lines.push({ lineNumber, key: key === undefined ? undefined : trimField(key), fields: fields.map(trimField) });
  }
  return sections;
}

function collectStrings(sections: readonly RawSection[], locale: string | undefined): Map<string, string> {
  const strings = new Map<string, string>();
  const load = (name: string) => {
    const section = sections.find((s) => s.name.toLowerCase() === name);
    for (const line of section?.lines ?? []) {
      if (line.key === undefined) continue;
      strings.set(joinRaw(line.key).toLowerCase(), line.fields.map(joinRaw).join(','));
    }
  };
  load('strings');
  if (locale !== undefined) load(`strings.${locale.toLowerCase()}`);
  return strings;
}

export function parseInfDocument(input: Uint8Array | string, options: ParseInfOptions = {}): InfDocument {
  const decoded = typeof input === 'string' ? { text: input, encoding: 'text' as const } : decodeInfBytes(input);
  const raw = readSections(decoded.text);
  const strings = collectStrings(raw, options.locale);
  const sections: InfSection[] = raw.map((s) => ({
    name: s.name,
    lines: s.lines.map((l) => ({
      lineNumber: l.lineNumber,
      key: l.key === undefined ? undefined : joinSubstituted(l.key, strings),
      rawKey: l.key === undefined ? undefined : joinRaw(l.key),
      fields: l.fields.map((f) => joinSubstituted(f, strings)),
      rawFields: l.fields.map(joinRaw),
    })),
  }));
  const sectionIndex = new Map(sections.map((s) => [s.name.toLowerCase(), s] as const));
  return { encoding: decoded.encoding, sections, sectionIndex, strings };
}

export function findInfSection(doc: InfDocument, name: string): InfSection | undefined {
  return doc.sectionIndex.get(name.toLowerCase());
}

/** Every line of `section` whose key is `key` (without case), in order. */
export function infLinesWithKey(section: InfSection | undefined, key: string): InfLine[] {
  const lower = key.toLowerCase();
  return (section?.lines ?? []).filter((l) => l.key?.toLowerCase() === lower);
}

/** First value of the first line with `key`, or undefined. */
export function infValue(section: InfSection | undefined, key: string): string | undefined {
  return infLinesWithKey(section, key)[0]?.fields[0];
}

/** An INF number: decimal or 0x-prefixed hexadecimal; undefined for anything else. */
export function parseInfNumber(text: string | undefined): number | undefined {
  const t = text?.trim() ?? '';
  if (/^0x[0-9a-f]{1,8}$/i.test(t)) return Number.parseInt(t.slice(2), 16);
  if (/^\d{1,10}$/.test(t)) return Number.parseInt(t, 10);
  return undefined;
}
