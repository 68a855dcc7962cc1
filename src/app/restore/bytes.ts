/** Byte helpers of the restore pipeline. */

/** True when every byte is 0 (word-wise where the view is aligned). */
export function isAllZero(bytes: Uint8Array): boolean {
  const head = (4 - (bytes.byteOffset % 4)) % 4;
  const start = Math.min(head, bytes.length);
  for (let i = 0; i < start; i++) if (bytes[i] !== 0) return false;
  const words = new Uint32Array(bytes.buffer, bytes.byteOffset + start, (bytes.length - start) >>> 2);
  for (let i = 0; i < words.length; i++) if (words[i] !== 0) return false;
  for (let i = start + words.length * 4; i < bytes.length; i++) if (bytes[i] !== 0) return false;
  return true;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Splits [offset, offset + length) into pieces of at most `size` bytes. */
export function* pieces(offset: bigint, length: bigint, size: number): Generator<{ readonly offset: bigint; readonly length: number }> {
  const step = BigInt(size);
  for (let at = 0n; at < length; at += step) {
    const n = length - at < step ? length - at : step;
    yield { offset: offset + at, length: Number(n) };
  }
}
