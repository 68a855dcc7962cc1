/**
 * Languages of the appliance: English and Simplified Chinese. State holds `Msg` values (a message
 * key with parameters, or raw text such as the server's own words) and only the view turns them
 * into text, so switching the language redraws everything, messages included.
 */
import { en, zhCN, type MsgKey } from './strings.ts';

export type { MsgKey } from './strings.ts';

export type Lang = 'en' | 'zh-CN';

export const LANGS: readonly Lang[] = ['en', 'zh-CN'];

/** Each language's name in itself, so a reader of either can find their own. */
export const LANGUAGE_NAMES: Readonly<Record<Lang, string>> = { en: 'English', 'zh-CN': '简体中文' };

/** A parameter: plain text, a number, or another message key (e.g. a field's label). */
export type MsgParam = string | number | { readonly key: MsgKey };

export type Msg =
  | { readonly key: MsgKey; readonly params?: Readonly<Record<string, MsgParam>> }
  | { readonly text: string };

export function msg(key: MsgKey, params?: Readonly<Record<string, MsgParam>>): Msg {
  return params === undefined ? { key } : { key, params };
}

/** A message used inside another (parameters of keyed messages are not carried over). */
export function asParam(m: Msg): MsgParam {
  return 'text' in m ? m.text : { key: m.key };
}

/** Text that is shown as is (names, paths, the server's own error words). */
export function rawText(text: string): Msg {
  return { text };
}

const tables: Readonly<Record<Lang, Readonly<Record<MsgKey, string>>>> = { en, 'zh-CN': zhCN };

export function translate(lang: Lang, m: Msg): string {
  if ('text' in m) return m.text;
  const template = tables[lang][m.key];
  const params = m.params ?? {};
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => {
    const p = params[name];
    if (p === undefined) return whole;
    return typeof p === 'object' ? tables[lang][p.key] : String(p);
  });
}

/** The language of a settings value ("en", "en-US", "zh", "zh-CN", "zh-Hans"…); null when unknown. */
export function parseLanguage(setting: string | undefined | null): Lang | null {
  const s = (setting ?? '').trim().toLowerCase().replace('_', '-');
  if (s === 'en' || s.startsWith('en-')) return 'en';
  if (s === 'zh' || s === 'zh-cn' || s === 'zh-hans' || s.startsWith('zh-hans-') || s === 'zh-sg') return 'zh-CN';
  return null;
}
