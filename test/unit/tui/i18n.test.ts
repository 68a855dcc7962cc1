import { describe, expect, it } from 'vitest';
import { LANGS, msg, parseLanguage, rawText, translate } from '../../../src/tui/state/i18n.ts';
import { en, zhCN, type MsgKey } from '../../../src/tui/state/strings.ts';
import { hasAmbiguousWidth } from '../../../src/tui/state/text-width.ts';

const keys = Object.keys(en) as MsgKey[];
const placeholders = (template: string): string[] => [...template.matchAll(/\{(\w+)\}/g)].map((m) => m[1] ?? '').sort();

describe('strings', () => {
  it('Chinese has exactly the English keys', () => {
    expect(Object.keys(zhCN).sort()).toEqual([...keys].sort());
  });

  it.each(keys)('%s has the same parameters in both languages', (key) => {
    expect(placeholders(zhCN[key])).toEqual(placeholders(en[key]));
  });

  it('no string is empty, and none holds a character some consoles draw twice as wide', () => {
    for (const lang of LANGS) {
      for (const key of keys) {
        const text = translate(lang, { key });
        expect(text.trim(), `${lang} ${key}`).not.toBe('');
        expect(hasAmbiguousWidth(text), `${lang} ${key}: ${text}`).toBe(false);
      }
    }
  });

  it('the Chinese texts really are Chinese where words are involved', () => {
    const han = /[\u4e00-\u9fff]/;
    const sameOnPurpose = new Set<MsgKey>(['tab.ipv4', 'tab.ipv6', 'server.access-key', 'net.col.mac', 'net.link.unknown', 'tools.language',
      'browser.drive-info', 'restore.disk', 'job.outcome.detail', 'ui.rows', 'restore.step.pending', 'restore.step.done', 'restore.step.done-detail']);
    for (const key of keys) if (!sameOnPurpose.has(key)) expect(zhCN[key], key).toMatch(han);
  });
});

describe('translate', () => {
  it('fills parameters, including other messages by key', () => {
    const m = msg('invalid.gateway-outside', { field: { key: 'net.gateway' }, value: '10.0.0.1', subnet: '192.168.1.0/24' });
    expect(translate('en', m)).toBe('Gateway: 10.0.0.1 is outside the subnet 192.168.1.0/24.');
    expect(translate('zh-CN', m)).toBe('网关：10.0.0.1 不在子网 192.168.1.0/24 内。');
    expect(translate('en', msg('shell.exited', { code: 3 }))).toBe('Command prompt closed (exit code 3).');
  });

  it('leaves raw text (names, the server words) alone in every language', () => {
    for (const lang of LANGS) expect(translate(lang, rawText('{x} as is'))).toBe('{x} as is');
  });

  it('reads the language setting in its usual spellings', () => {
    expect(parseLanguage('en')).toBe('en');
    expect(parseLanguage('en-US')).toBe('en');
    expect(parseLanguage('zh')).toBe('zh-CN');
    expect(parseLanguage('zh-CN')).toBe('zh-CN');
    expect(parseLanguage('zh_cn')).toBe('zh-CN');
    expect(parseLanguage('zh-Hans')).toBe('zh-CN');
    expect(parseLanguage('zh-TW')).toBeNull();
    expect(parseLanguage('fr')).toBeNull();
    expect(parseLanguage(undefined)).toBeNull();
  });
});
