/**
 * Turns plaintext blocks into stored chunk blobs and back (format: core/backup/chunk-format.ts).
 * One codec instance serves one backup set: it holds the set's chunk-id key, its data key when the
 * set is encrypted, and the set's compression choice.
 *
 * Implementations:
 * - MUST derive the id as HMAC-SHA-256(chunk-id key, plaintext), lower-case hex; equal plaintexts
 *   give equal ids within one codec's key scope and unrelated ids across scopes;
 * - MUST keep compression only when it makes the payload smaller than the plaintext;
 * - MUST use a fresh random 96-bit nonce per encrypted chunk and bind the id and the header as GCM
 *   additional data;
 * - decode MUST, in this order: (1) compare SHA-256 of the stored bytes with `expected.storedHash`
 *   when given, before any decryption or decompression; (2) check structure; (3) authenticate and
 *   decrypt; (4) decompress into exactly `plaintextLength` bytes; (5) recompute the id and compare it
 *   with `expected.id`. It MUST NOT return bytes that failed any step; failures are RecoveryErrors
 *   with the codes of core/backup/errors.ts (chunk.hash-mismatch, chunk.truncated, chunk.corrupt,
 *   crypto.wrong-key, crypto.key-required, …);
 * - SHOULD be synchronous CPU work with no I/O, so it can run inside worker threads unchanged.
 */
import type { ChunkCompression } from '../core/backup/chunk-format.ts';

export type { ChunkCompression };

export interface EncodedChunk {
  /** HMAC-SHA-256 of the plaintext under the codec's chunk-id key, hex. */
  readonly id: string;
  /** The bytes to store. */
  readonly blob: Uint8Array;
  /** SHA-256 of `blob`, hex: what a manifest records to check the blob before decoding it. */
  readonly storedHash: string;
  readonly storedLength: number;
  readonly plaintextLength: number;
  readonly compressed: boolean;
  readonly encrypted: boolean;
}

export interface ExpectedChunk {
  readonly id: string;
  /** From the manifest. Restores MUST pass it; only tools that hold a blob without its manifest entry omit it. */
  readonly storedHash?: string;
}

export interface ChunkCodec {
  readonly compression: ChunkCompression;
  readonly encrypted: boolean;
  /** The id a plaintext would get, without encoding it (dedup lookups). */
  chunkId(plaintext: Uint8Array): string;
  encode(plaintext: Uint8Array): EncodedChunk;
  /** The plaintext of `blob`, verified as described above. May share memory with `blob` (a stored, unencrypted chunk). */
  decode(blob: Uint8Array, expected: ExpectedChunk): Uint8Array;
  /** SHA-256 of stored bytes, hex. */
  storedHash(blob: Uint8Array): string;
}
