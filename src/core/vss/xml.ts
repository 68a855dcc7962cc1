/**
 * A small, strict XML reader and writer for the two VSS documents (writer metadata, backup
 * components). They are plain element/attribute trees: no DTDs, no namespaces beyond a default
 * `xmlns`, no mixed content that matters. What is read: the XML declaration, comments, processing
 * instructions (skipped), elements, attributes in either quote, character data, CDATA sections, the
 * five predefined entities and numeric character references. What is refused, with
 * RecoveryError('vss.xml-malformed', data {offset, reason}): unclosed or mismatched tags, a second
 * root, a DOCTYPE (VSS never writes one, and it is the door to entity expansion), unknown entities,
 * duplicate attributes, and nesting deeper than MAX_DEPTH.
 */
import { RecoveryError } from '../errors.ts';

export interface XmlElement {
  readonly name: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly children: readonly XmlElement[];
  /** Character data directly inside this element (all text nodes joined, untrimmed). */
  readonly text: string;
}

export const MAX_DEPTH = 64;

const NAME = /[A-Za-z_:][-A-Za-z0-9_:.]*/y;
const SPACE = /[ \t\r\n]*/y;
const ENTITIES: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function malformed(offset: number, reason: string): RecoveryError {
  return new RecoveryError('vss.xml-malformed', `XML is malformed at offset ${offset}: ${reason}`, { data: { offset, reason } });
}

function decodeEntities(raw: string, base: number): string {
  return raw.replace(/&([^;&]*);|&/g, (whole, ref: string | undefined, at: number) => {
    if (ref === undefined) throw malformed(base + at, 'a bare "&"');
    if (ref.startsWith('#')) {
      const code = ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      const digits = ref[1] === 'x' || ref[1] === 'X' ? /^#[xX][0-9a-fA-F]+$/ : /^#[0-9]+$/;
      if (!digits.test(ref) || !(code >= 0x9 && code <= 0x10ffff) || (code >= 0xd800 && code <= 0xdfff)) {
        throw malformed(base + at, `bad character reference "${whole}"`);
      }
      return String.fromCodePoint(code);
    }
    const named = ENTITIES[ref];
    if (named === undefined) throw malformed(base + at, `unknown entity "${whole}"`);
    return named;
  });
}

interface Open {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  text: string;
}

class Reader {
  pos = 0;
  constructor(readonly src: string) {}

  fail(reason: string): never {
    throw malformed(this.pos, reason);
  }

  skipSpace(): void {
    SPACE.lastIndex = this.pos;
    SPACE.exec(this.src);
    this.pos = SPACE.lastIndex;
  }

  name(): string {
    NAME.lastIndex = this.pos;
    const m = NAME.exec(this.src);
    if (m === null) this.fail('expected a name');
    this.pos = NAME.lastIndex;
    return m[0];
  }

  /**
   * At `<`: skips a comment or processing instruction (returns ''), reads a CDATA section (returns its
   * text), or returns undefined for an ordinary tag.
   */
  special(): { readonly cdata: string } | 'skipped' | undefined {
    const s = this.src;
    if (s.startsWith('<!--', this.pos)) {
      this.skipTo('-->', 'an unclosed comment');
      return 'skipped';
    }
    if (s.startsWith('<?', this.pos)) {
      this.skipTo('?>', 'an unclosed processing instruction');
      return 'skipped';
    }
    if (s.startsWith('<![CDATA[', this.pos)) {
      const start = this.pos + 9;
      this.skipTo(']]>', 'an unclosed CDATA section');
      return { cdata: s.slice(start, this.pos - 3) };
    }
    if (s.startsWith('<!', this.pos)) this.fail('DOCTYPE and other declarations are not accepted');
    return undefined;
  }

  skipTo(end: string, reason: string): void {
    const at = this.src.indexOf(end, this.pos);
    if (at < 0) this.fail(reason);
    this.pos = at + end.length;
  }

  attributes(): Record<string, string> {
    const attrs: Record<string, string> = Object.create(null) as Record<string, string>;
    for (;;) {
      const before = this.pos;
      this.skipSpace();
      const c = this.src[this.pos];
      if (c === '>' || c === '/' || c === undefined) return attrs;
      if (this.pos === before) this.fail('expected a space before an attribute');
      const key = this.name();
      this.skipSpace();
      if (this.src[this.pos] !== '=') this.fail(`attribute "${key}" has no value`);
      this.pos++;
      this.skipSpace();
      const quote = this.src[this.pos];
      if (quote !== '"' && quote !== "'") this.fail(`attribute "${key}" is not quoted`);
      const end = this.src.indexOf(quote, this.pos + 1);
      if (end < 0) this.fail(`attribute "${key}" is not closed`);
      const raw = this.src.slice(this.pos + 1, end);
      if (raw.includes('<')) this.fail(`attribute "${key}" contains "<"`);
      if (key in attrs) this.fail(`attribute "${key}" appears twice`);
      // Literal white space normalises to spaces; character references (&#10;) survive as written.
      attrs[key] = decodeEntities(raw.replace(/[\t\r\n]/g, ' '), this.pos + 1);
      this.pos = end + 1;
    }
  }
}

function freeze(open: Open): XmlElement {
  return { name: open.name, attributes: { ...open.attributes }, children: open.children, text: open.text };
}

/** Parses one document; the root element is returned. A leading BOM is ignored. */
export function parseXml(text: string): XmlElement {
  const r: Reader = new Reader(text.startsWith('\ufeff') ? text.slice(1) : text);
  const src = r.src;
  const stack: Open[] = [];
  let root: XmlElement | undefined;
  while (r.pos < src.length) {
    const lt = src.indexOf('<', r.pos);
    const chunk = src.slice(r.pos, lt < 0 ? src.length : lt);
    if (chunk.length > 0) {
      const top = stack[stack.length - 1];
      if (top === undefined) {
        if (chunk.trim() !== '') r.fail('text outside the root element');
      } else {
        top.text += decodeEntities(chunk, r.pos);
      }
    }
    if (lt < 0) {
      r.pos = src.length;
      break;
    }
    r.pos = lt;
    const special = r.special();
    if (special !== undefined) {
      const top = stack[stack.length - 1];
      if (special !== 'skipped') {
        if (top === undefined) r.fail('CDATA outside the root element');
        top.text += special.cdata;
      }
      continue;
    }
    if (src[r.pos + 1] === '/') {
      r.pos += 2;
      const name = r.name();
      r.skipSpace();
      if (src[r.pos] !== '>') r.fail(`end tag "${name}" is not closed`);
      r.pos++;
      const open = stack.pop();
      if (open === undefined || open.name !== name) r.fail(`end tag "${name}" does not match "${open?.name ?? '(none)'}"`);
      const done = freeze(open);
      const parent = stack[stack.length - 1];
      if (parent === undefined) root = done;
      else parent.children.push(done);
      continue;
    }
    r.pos++;
    const name = r.name();
    const attributes = r.attributes();
    if (root !== undefined) r.fail('a second root element');
    const selfClosing = src.startsWith('/>', r.pos);
    if (!selfClosing && src[r.pos] !== '>') r.fail(`start tag "${name}" is not closed`);
    r.pos += selfClosing ? 2 : 1;
    const open: Open = { name, attributes, children: [], text: '' };
    if (selfClosing) {
      const parent = stack[stack.length - 1];
      if (parent === undefined) root = freeze(open);
      else parent.children.push(freeze(open));
    } else {
      if (stack.length >= MAX_DEPTH) r.fail(`elements nested deeper than ${MAX_DEPTH}`);
      stack.push(open);
    }
  }
  if (stack.length > 0) throw malformed(src.length, `element "${stack[stack.length - 1]!.name}" is not closed`);
  if (root === undefined) throw malformed(src.length, 'no root element');
  return root;
}

/** The name without a namespace prefix ("x:FILE_GROUP" → "FILE_GROUP"). */
export function localName(name: string): string {
  const colon = name.indexOf(':');
  return colon < 0 ? name : name.slice(colon + 1);
}

/** Child elements with the given local name, in document order. */
export function childrenNamed(element: XmlElement, name: string): XmlElement[] {
  return element.children.filter((c) => localName(c.name) === name);
}

export function firstChild(element: XmlElement, name: string): XmlElement | undefined {
  return element.children.find((c) => localName(c.name) === name);
}

function escape(value: string, attribute: boolean): string {
  let out = value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  if (attribute) out = out.replace(/"/g, '&quot;').replace(/\t/g, '&#9;').replace(/\n/g, '&#10;').replace(/\r/g, '&#13;');
  return out;
}

/** Compact serialisation (no indentation), attributes in insertion order; empty elements self-close. */
export function serializeXml(element: XmlElement): string {
  const attrs = Object.entries(element.attributes).map(([k, v]) => ` ${k}="${escape(v, true)}"`).join('');
  const inner = escape(element.text, false) + element.children.map(serializeXml).join('');
  return inner === '' ? `<${element.name}${attrs}/>` : `<${element.name}${attrs}>${inner}</${element.name}>`;
}
