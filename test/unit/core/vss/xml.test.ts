import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RecoveryError } from '../../../../src/core/errors.ts';
import { childrenNamed, localName, MAX_DEPTH, parseXml, serializeXml, type XmlElement } from '../../../../src/core/vss/xml.ts';

function reason(text: string): string {
  try {
    parseXml(text);
  } catch (e) {
    expect(e).toBeInstanceOf(RecoveryError);
    expect((e as RecoveryError).code).toBe('vss.xml-malformed');
    return String((e as RecoveryError).data['reason']);
  }
  throw new Error(`parsed: ${text}`);
}

describe('parseXml', () => {
  it('reads the declaration, comments, attributes in both quotes, entities, CDATA and nested elements', () => {
    const root = parseXml(
      '\ufeff<?xml version="1.0" encoding="UTF-16"?>\n<!-- c --><A x="1" y=\'t&amp;&lt;&gt;&quot;&apos;&#65;&#x42;\'>' +
      '<B/><x:C z="a\tb"> hi <![CDATA[<raw>&amp;]]></x:C><?pi ignored?></A>\n',
    );
    expect(root.name).toBe('A');
    expect(root.attributes).toEqual({ x: '1', y: 't&<>"\'AB' });
    expect(root.children.map((c) => c.name)).toEqual(['B', 'x:C']);
    const c = root.children[1]!;
    expect(localName(c.name)).toBe('C');
    expect(c.attributes['z']).toBe('a b');
    expect(c.text).toBe(' hi <raw>&amp;');
    expect(childrenNamed(root, 'C')).toHaveLength(1);
  });

  it('keeps character references to white space in attributes', () => {
    expect(parseXml('<a v="x&#10;y&#9;z"/>').attributes['v']).toBe('x\ny\tz');
  });

  it.each([
    ['<a><b></a>', 'does not match'],
    ['<a>', 'not closed'],
    ['<a/><b/>', 'second root'],
    ['<!DOCTYPE a [<!ENTITY x "y">]><a/>', 'DOCTYPE'],
    ['<a>&foo;</a>', 'unknown entity'],
    ['<a>&#xD800;</a>', 'bad character reference'],
    ['<a b="1" b="2"/>', 'twice'],
    ['<a b=1/>', 'not quoted'],
    ['<a b/>', 'no value'],
    ['<a b="<"/>', 'contains "<"'],
    ['text<a/>', 'outside the root'],
    ['<a/>tail', 'outside the root'],
    ['<a>&</a>', 'bare "&"'],
    ['', 'no root'],
    ['<a><!-- open</a>', 'unclosed comment'],
    ['<a b="1"c="2"/>', 'space before'],
  ])('refuses %j', (text, expected) => {
    expect(reason(text)).toContain(expected);
  });

  it(`refuses nesting deeper than ${MAX_DEPTH}`, () => {
    const ok = '<e>'.repeat(MAX_DEPTH) + '</e>'.repeat(MAX_DEPTH);
    expect(parseXml(ok).name).toBe('e');
    expect(reason('<e>'.repeat(MAX_DEPTH + 1) + '</e>'.repeat(MAX_DEPTH + 1))).toContain('deeper');
  });

  it('reads a 2 MB document (the System Writer lists tens of thousands of files)', () => {
    const files = Array.from({ length: 20_000 }, (_, i) => `<FILE_LIST path="c:\\windows\\system32" filespec="f${i}.dll" filespecBackupType="3855"/>`).join('');
    const text = `<WRITER_METADATA><BACKUP_LOCATIONS><FILE_GROUP componentName="System Files">${files}</FILE_GROUP></BACKUP_LOCATIONS></WRITER_METADATA>`;
    const root = parseXml(text);
    expect(root.children[0]!.children[0]!.children).toHaveLength(20_000);
  });
});

const name = fc.stringMatching(/^[A-Za-z][A-Za-z0-9_.-]{0,8}$/);
const value = fc.string({ unit: fc.constantFrom('a', 'Z', ' ', '&', '<', '>', '"', "'", '\t', '\n', '\r', 'é', '中', '1') , maxLength: 12 });

const element: fc.Memo<XmlElement> = fc.memo((depth) =>
  fc.record({
    name,
    attributes: fc.dictionary(name, value, { maxKeys: 3 }),
    children: depth <= 1 ? fc.constant([]) : fc.array(element(depth - 1), { maxLength: 3 }),
    text: fc.constant(''),
  }),
);

describe('serializeXml', () => {
  it('round-trips any element tree with awkward attribute values', () => {
    fc.assert(fc.property(element(4), (tree) => {
      expect(parseXml(serializeXml(tree))).toEqual(tree);
    }), { numRuns: 300 });
  });

  it('round-trips text content', () => {
    fc.assert(fc.property(value, (text) => {
      expect(parseXml(serializeXml({ name: 't', attributes: {}, children: [], text })).text).toBe(text);
    }), { numRuns: 200 });
  });
});
