import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { codePointWidth, hasAmbiguousWidth, padEndToWidth, textWidth, truncateToWidth } from '../../../src/tui/state/text-width.ts';

describe('display width', () => {
  it.each([
    ['', 0],
    ['Backup server', 13],
    ['备份服务器', 10],
    ['IPv4 地址', 9],
    ['：，。（）', 10],
    ['Ａ１', 4],
    ['한국어', 6],
    ['カタカナ', 8],
    ['e\u0301', 1],
    ['a\u200bb', 2],
    ['\u200d', 0],
    ['\t\x1b', 0],
    ['🌀', 2],
    ['𠀀', 2],
    ['「恢复」', 8],
  ])('%j is %i columns', (text, width) => {
    expect(textWidth(text)).toBe(width);
  });

  it('counts every code point 0, 1 or 2 wide, and a string as the sum', () => {
    fc.assert(fc.property(fc.string({ unit: 'grapheme', maxLength: 30 }), (s) => {
      const sum = Array.from(s).reduce((n, ch) => n + codePointWidth(ch.codePointAt(0) ?? 0), 0);
      return textWidth(s) === sum;
    }));
  });

  it('knows the ambiguous characters to keep out of UI text', () => {
    for (const ch of ['—', '…', '·', '→', '“', '”', '×', '─', '●', '★']) expect(hasAmbiguousWidth(ch), ch).toBe(true);
    for (const s of ['abc', '备份：（）「」', '[x] (*) > ...']) expect(hasAmbiguousWidth(s), s).toBe(false);
  });
});

describe('fitting text to columns', () => {
  it('truncates with "..." and never splits a wide character', () => {
    expect(truncateToWidth('hello world', 8)).toBe('hello...');
    expect(truncateToWidth('hello', 5)).toBe('hello');
    expect(truncateToWidth('备份服务器地址', 8)).toBe('备份...');
    expect(truncateToWidth('备份服务器地址', 9)).toBe('备份服...');
    expect(truncateToWidth('abc', 2)).toBe('..');
  });

  it('pads to exactly the width, wide characters included', () => {
    expect(padEndToWidth('网卡', 6)).toBe('网卡  ');
    expect(textWidth(padEndToWidth('备份服务器地址', 9))).toBe(9);
  });

  it('truncated and padded text always fits (property)', () => {
    fc.assert(fc.property(fc.string({ unit: 'grapheme', maxLength: 60 }), fc.integer({ min: 0, max: 40 }), (s, w) =>
      textWidth(truncateToWidth(s, w)) <= w && textWidth(padEndToWidth(s, w)) === w));
  });
});
