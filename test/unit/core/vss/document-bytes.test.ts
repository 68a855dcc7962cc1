import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeDocument, encodeDocument } from '../../../../src/core/vss/document-bytes.ts';

describe('VSS documents as bytes', () => {
  it('encodes like Node\'s UTF-8 and decodes back (property)', () => {
    fc.assert(fc.property(fc.string({ unit: 'grapheme', maxLength: 200 }), (text) => {
      const bytes = encodeDocument(text);
      expect(Buffer.from(bytes).equals(Buffer.from(text, 'utf8'))).toBe(true);
      expect(decodeDocument(bytes)).toBe(text);
    }), { numRuns: 500 });
  });

  it('writes a lone surrogate as U+FFFD instead of failing', () => {
    expect([...encodeDocument('a\ud800b')]).toEqual([0x61, 0xef, 0xbf, 0xbd, 0x62]);
  });

  it('decodes a large document', () => {
    const text = `<WRITER_METADATA caption="${'é𝄞'.repeat(100_000)}"/>`;
    expect(decodeDocument(encodeDocument(text))).toBe(text);
  });

  it.each([
    ['a lone continuation byte', [0x80]],
    ['an overlong slash', [0xc0, 0xaf]],
    ['a truncated sequence', [0xe2, 0x82]],
    ['an encoded surrogate', [0xed, 0xa0, 0x80]],
    ['past U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
  ])('refuses %s', (_name, bytes) => {
    expect(() => decodeDocument(Uint8Array.from(bytes))).toThrow(expect.objectContaining({ code: 'vss.document-invalid' }));
  });
});
