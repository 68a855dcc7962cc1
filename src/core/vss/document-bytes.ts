/**
 * VSS XML documents as bytes, the way a restore point stores them (as chunks, see
 * docs/backup-format.md §5 "vss"): UTF-8 without a byte-order mark. SaveAsXML hands out UTF-16 BSTRs;
 * a lone surrogate in one (never seen, but a BSTR may hold one) is written as U+FFFD rather than
 * refused, so a writer's odd string cannot fail a backup that already finished.
 * Pure: core has no TextEncoder (tsconfig.pure.json lib is ES2023 only).
 */
import { RecoveryError } from '../errors.ts';

export function encodeDocument(text: string): Uint8Array {
  const out = new Uint8Array(text.length * 3);
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    let cp = text.charCodeAt(i);
    if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < text.length) {
      const low = text.charCodeAt(i + 1);
      if (low >= 0xdc00 && low <= 0xdfff) {
        cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
        i++;
      }
    }
    if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xfffd;
    if (cp < 0x80) {
      out[n++] = cp;
    } else if (cp < 0x800) {
      out[n++] = 0xc0 | (cp >> 6);
      out[n++] = 0x80 | (cp & 0x3f);
    } else if (cp < 0x10000) {
      out[n++] = 0xe0 | (cp >> 12);
      out[n++] = 0x80 | ((cp >> 6) & 0x3f);
      out[n++] = 0x80 | (cp & 0x3f);
    } else {
      out[n++] = 0xf0 | (cp >> 18);
      out[n++] = 0x80 | ((cp >> 12) & 0x3f);
      out[n++] = 0x80 | ((cp >> 6) & 0x3f);
      out[n++] = 0x80 | (cp & 0x3f);
    }
  }
  return out.slice(0, n);
}

/** Strict UTF-8 back to text; throws vss.document-invalid for bytes that are not UTF-8. */
export function decodeDocument(bytes: Uint8Array): string {
  const bad = (at: number): never => {
    throw new RecoveryError('vss.document-invalid', `a stored VSS document is not UTF-8 (byte ${at})`, { data: { offset: at } });
  };
  const parts: string[] = [];
  let units: number[] = [];
  const push = (u: number): void => {
    units.push(u);
    if (units.length >= 8192) {
      parts.push(String.fromCharCode(...units));
      units = [];
    }
  };
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    if (b < 0x80) {
      push(b);
      i++;
      continue;
    }
    const length = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc2 ? 2 : 0;
    if (length === 0 || b > 0xf4 || i + length > bytes.length) bad(i);
    let cp = b & (0xff >> (length + 1));
    for (let k = 1; k < length; k++) {
      const c = bytes[i + k]!;
      if ((c & 0xc0) !== 0x80) bad(i + k);
      cp = (cp << 6) | (c & 0x3f);
    }
    const min = length === 2 ? 0x80 : length === 3 ? 0x800 : 0x10000;
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) bad(i);
    if (cp >= 0x10000) {
      push(0xd800 + ((cp - 0x10000) >> 10));
      push(0xdc00 + ((cp - 0x10000) & 0x3ff));
    } else {
      push(cp);
    }
    i += length;
  }
  parts.push(String.fromCharCode(...units));
  return parts.join('');
}
