/**
 * Reproducible bytes that do not compress, for test disks: xorshift32 seeded from the hash of a
 * text, so the same seed always gives the same bytes and different seeds never dedup.
 */
import { createHash } from 'node:crypto';

/** `length` deterministic, incompressible bytes for `seed`. */
export function noise(length: number, seed: string): Uint8Array {
  const words = new Uint32Array(Math.ceil(length / 4));
  let x = createHash('sha256').update(seed).digest().readUInt32LE(0) || 1;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x >>> 0;
  }
  return new Uint8Array(words.buffer, 0, length);
}
