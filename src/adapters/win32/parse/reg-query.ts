/**
 * `reg query <key> [/v <name> | /ve] [/s]` output: a key path line (`HKEY_LOCAL_MACHINE\…`), then
 * its values as `    <name>    <REG_TYPE>    <data>` (4-space indent and separators; the default
 * value's name is `(Default)`). With /s, several keys follow each other; subkeys without values
 * show as bare key lines. Failure is `ERROR: <message>` with exit code 1.
 * Data is decoded by type: REG_DWORD/REG_QWORD print as 0x…, REG_BINARY as hex digits,
 * REG_MULTI_SZ as items joined by a literal `\0`.
 */
import { outputLines } from './text.ts';

export type RegValueType =
  | 'REG_SZ' | 'REG_EXPAND_SZ' | 'REG_MULTI_SZ' | 'REG_DWORD' | 'REG_QWORD' | 'REG_BINARY' | 'REG_NONE' | string;

export type RegData =
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'strings'; readonly value: readonly string[] }
  | { readonly kind: 'number'; readonly value: number }
  | { readonly kind: 'bigint'; readonly value: bigint }
  | { readonly kind: 'bytes'; readonly value: Uint8Array }
  | { readonly kind: 'raw'; readonly value: string };

export interface RegValue {
  readonly name: string;
  readonly type: RegValueType;
  /** The data as printed. */
  readonly text: string;
  readonly data: RegData;
}

export interface RegKey {
  readonly path: string;
  readonly values: readonly RegValue[];
}

export interface RegQueryResult {
  readonly keys: readonly RegKey[];
  /** The `ERROR: …` message when reg reported one. */
  readonly error: string | undefined;
}

const KEY_LINE = /^HKEY_[A-Z_]+(\\.*)?$/;
const ROOT_ABBREVIATIONS = /^(HKLM|HKCU|HKCR|HKU|HKCC)(\\.*)?$/;

export function decodeRegData(type: string, text: string): RegData {
  switch (type) {
    case 'REG_DWORD': {
      const m = /^0x([0-9a-fA-F]{1,8})$/.exec(text);
      return m === null ? { kind: 'raw', value: text } : { kind: 'number', value: Number.parseInt(m[1]!, 16) };
    }
    case 'REG_QWORD': {
      const m = /^0x([0-9a-fA-F]{1,16})$/.exec(text);
      return m === null ? { kind: 'raw', value: text } : { kind: 'bigint', value: BigInt(`0x${m[1]}`) };
    }
    case 'REG_BINARY':
    case 'REG_NONE': {
      if (!/^([0-9a-fA-F]{2})*$/.test(text)) return { kind: 'raw', value: text };
      const bytes = new Uint8Array(text.length / 2);
      for (let i = 0; i < bytes.length; i++) bytes[i] = Number.parseInt(text.slice(2 * i, 2 * i + 2), 16);
      return { kind: 'bytes', value: bytes };
    }
    case 'REG_MULTI_SZ':
      return { kind: 'strings', value: text === '' ? [] : text.split('\\0') };
    case 'REG_SZ':
    case 'REG_EXPAND_SZ':
      return { kind: 'string', value: text };
    default:
      return { kind: 'raw', value: text };
  }
}

/** `    name    REG_X    data` → value; undefined for other lines. */
function valueLine(line: string): RegValue | undefined {
  if (!line.startsWith('    ')) return undefined;
  const body = line.slice(4);
  const m = /(?:^| {4})(REG_[A-Z0-9_]+)(?: {4}|$)/.exec(body);
  if (m === null) return undefined;
  const name = body.slice(0, m.index);
  const type = m[1]!;
  const text = body.slice(m.index + m[0].length);
  return { name, type, text, data: decodeRegData(type, text) };
}

export function parseRegQuery(stdout: string): RegQueryResult {
  const keys: { path: string; values: RegValue[] }[] = [];
  let error: string | undefined;
  for (const line of outputLines(stdout)) {
    const trimmed = line.trim();
    if (trimmed.startsWith('ERROR:')) {
      error ??= trimmed.slice('ERROR:'.length).trim();
      continue;
    }
    if (KEY_LINE.test(trimmed) || ROOT_ABBREVIATIONS.test(trimmed)) {
      if (!line.startsWith(' ')) {
        keys.push({ path: trimmed, values: [] });
        continue;
      }
    }
    const value = valueLine(line);
    if (value !== undefined && keys.length > 0) keys.at(-1)!.values.push(value);
  }
  return { keys, error };
}

/** True when reg said the key or value does not exist (rather than failing otherwise). */
export function isRegNotFound(result: RegQueryResult): boolean {
  return result.error !== undefined && /unable to find the specified registry key or value/i.test(result.error);
}
