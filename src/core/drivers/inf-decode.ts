/**
 * INF files arrive as bytes in one of the encodings Windows setup accepts: UTF-16LE with a BOM (what
 * a Windows checkout of Windows-driver-samples produces), UTF-8 with or without a BOM, or the
 * system's ANSI code page (Windows-1252 here, the common case for Western driver packages).
 * Decoded by hand: the pure layer has no TextDecoder.
 */

export type InfEncoding = 'utf-16le' | 'utf-16be' | 'utf-8' | 'windows-1252';

export interface DecodedInfText {
  readonly text: string;
  readonly encoding: InfEncoding;
  /** True when the bytes started with a byte-order mark (it is not part of `text`). */
  readonly bom: boolean;
}

/** Windows-1252 characters for 0x80–0x9F; the five unassigned bytes map to the C1 control of the same value. */
const CP1252_HIGH = [
  0x20ac, 0x81, 0x201a, 0x192, 0x201e, 0x2026, 0x2020, 0x2021, 0x2c6, 0x2030, 0x160, 0x2039, 0x152, 0x8d, 0x17d, 0x8f,
  0x90, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x2dc, 0x2122, 0x161, 0x203a, 0x153, 0x9d, 0x17e, 0x178,
];

/** String.fromCharCode over many code units without overflowing the argument limit. */
function fromCodeUnits(units: readonly number[]): string {
  const CHUNK = 8192;
  let out = '';
  for (let i = 0; i < units.length; i += CHUNK) out += String.fromCharCode(...units.slice(i, i + CHUNK));
  return out;
}

function decodeUtf16(bytes: Uint8Array, start: number, littleEndian: boolean): string {
  const units: number[] = [];
  for (let i = start; i + 1 < bytes.length; i += 2) {
    const lo = littleEndian ? bytes[i]! : bytes[i + 1]!;
    const hi = littleEndian ? bytes[i + 1]! : bytes[i]!;
    units.push(lo | (hi << 8));
  }
  return fromCodeUnits(units);
}

/** Strict UTF-8 (no overlongs, no surrogates, ≤ U+10FFFF); undefined when the bytes are not UTF-8. */
function decodeUtf8(bytes: Uint8Array, start: number): string | undefined {
  const units: number[] = [];
  let i = start;
  while (i < bytes.length) {
    const b = bytes[i]!;
    if (b < 0x80) {
      units.push(b);
      i++;
      continue;
    }
    const length = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc2 ? 2 : 0;
    if (length === 0 || b > 0xf4 || i + length > bytes.length) return undefined;
    let cp = b & (0xff >> (length + 1));
    for (let k = 1; k < length; k++) {
      const c = bytes[i + k]!;
      if ((c & 0xc0) !== 0x80) return undefined;
      cp = (cp << 6) | (c & 0x3f);
    }
    const min = length === 2 ? 0x80 : length === 3 ? 0x800 : 0x10000;
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return undefined;
    if (cp >= 0x10000) units.push(0xd800 + ((cp - 0x10000) >> 10), 0xdc00 + ((cp - 0x10000) & 0x3ff));
    else units.push(cp);
    i += length;
  }
  return fromCodeUnits(units);
}

function decodeCp1252(bytes: Uint8Array): string {
  const units: number[] = [];
  for (const b of bytes) units.push(b >= 0x80 && b <= 0x9f ? CP1252_HIGH[b - 0x80]! : b);
  return fromCodeUnits(units);
}

/**
 * A BOM-less UTF-16LE INF starts with ASCII (`;`, `[`, a letter) and is mostly ASCII, so most
 * second bytes are zero; UTF-8 and ANSI text has no zero bytes at all.
 */
function looksLikeUtf16le(bytes: Uint8Array): boolean {
  const n = Math.min(bytes.length, 64) & ~1;
  if (n < 4 || bytes[1] !== 0 || bytes[0] === 0 || bytes[0]! > 0x7f) return false;
  let zeros = 0;
  for (let i = 1; i < n; i += 2) if (bytes[i] === 0) zeros++;
  return zeros * 4 >= (n / 2) * 3;
}

export function decodeInfBytes(bytes: Uint8Array): DecodedInfText {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return { text: decodeUtf16(bytes, 2, true), encoding: 'utf-16le', bom: true };
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return { text: decodeUtf16(bytes, 2, false), encoding: 'utf-16be', bom: true };
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
    const text = decodeUtf8(bytes, 3);
    if (text !== undefined) return { text, encoding: 'utf-8', bom: true };
  }
  if (looksLikeUtf16le(bytes)) return { text: decodeUtf16(bytes, 0, true), encoding: 'utf-16le', bom: false };
  const utf8 = decodeUtf8(bytes, 0);
  if (utf8 !== undefined) return { text: utf8, encoding: 'utf-8', bom: false };
  return { text: decodeCp1252(bytes), encoding: 'windows-1252', bom: false };
}
