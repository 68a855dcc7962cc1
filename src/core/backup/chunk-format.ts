/*
 * Stored chunk blob, format version 1. All integers little-endian.
 *
 *  off len field
 *    0   4 magic            "LLCK"
 *    4   1 version          1
 *    5   1 flags            bit 0: payload is an lz4 block; bit 1: payload is AES-256-GCM ciphertext;
 *                           every other bit MUST be 0
 *    6   2 reserved         0
 *    8   4 plaintextLength  bytes after decoding
 *   12   4 storedLength     bytes of payload that follow the header
 *   -- only when encrypted:
 *   16   4 keyCheck         first 4 bytes of HMAC-SHA-256(dataKey, "lifeline key-check v1"):
 *                           tells "wrong key" apart from "corrupt" before GCM is tried
 *   20  12 nonce            random per chunk
 *   --
 *   16 or 32               payload (storedLength bytes)
 *   then, when encrypted:  16-byte GCM tag
 *
 * The blob is exactly header + storedLength (+ 16) bytes long. When encrypted, the GCM additional
 * data is the 32 raw bytes of the chunk id followed by the whole header, so a blob cannot be
 * replayed under another id and no header bit can be flipped unnoticed. An lz4 payload is an lz4
 * block preceded by its decoded size as u32 LE (lz4_flex's "size prepended" layout).
 *
 * parseChunkBlob only checks structure; hashes, authentication and decoding are the codec's job.
 */
import { backupError } from './errors.ts';

export const CHUNK_MAGIC = Uint8Array.of(0x4c, 0x4c, 0x43, 0x4b); // "LLCK"
export const CHUNK_FORMAT_VERSION = 1;
export const CHUNK_FLAG_LZ4 = 0x01;
export const CHUNK_FLAG_ENCRYPTED = 0x02;
export const CHUNK_HEADER_BYTES = 16;
export const CHUNK_ENCRYPTED_HEADER_BYTES = 32;
export const CHUNK_KEY_CHECK_BYTES = 4;
export const CHUNK_NONCE_BYTES = 12;
export const CHUNK_TAG_BYTES = 16;
/** Largest plaintext one chunk may carry: 8× the largest block size (2 MiB), so a bad length cannot make a reader allocate gigabytes. */
export const MAX_CHUNK_PLAINTEXT = 16 * 1024 * 1024;
/** Stored bytes never exceed plaintext + this: compression is skipped when it does not shrink. */
export const MAX_CHUNK_OVERHEAD = CHUNK_ENCRYPTED_HEADER_BYTES + CHUNK_TAG_BYTES;

/** Per-set compression choice: "fast" is an lz4 block (Node 20 has no zstd), or none. */
export type ChunkCompression = 'lz4' | 'none';

export interface ChunkHeader {
  readonly version: number;
  readonly compressed: boolean;
  readonly encrypted: boolean;
  readonly plaintextLength: number;
  readonly storedLength: number;
  /** Present exactly when encrypted. */
  readonly keyCheck?: Uint8Array;
  /** Present exactly when encrypted. */
  readonly nonce?: Uint8Array;
}

export interface ParsedChunkBlob {
  readonly header: ChunkHeader;
  /** The header bytes as stored (part of the GCM additional data). Views into the blob. */
  readonly headerBytes: Uint8Array;
  readonly payload: Uint8Array;
  /** Present exactly when encrypted. */
  readonly tag?: Uint8Array;
}

const CHUNK_ID = /^[0-9a-f]{64}$/;

/** A chunk id or a stored hash: 64 lower-case hex digits (a SHA-256-sized value). */
export function isChunkId(value: string): boolean {
  return CHUNK_ID.test(value);
}

export function chunkHeaderLength(encrypted: boolean): number {
  return encrypted ? CHUNK_ENCRYPTED_HEADER_BYTES : CHUNK_HEADER_BYTES;
}

export function chunkBlobLength(header: Pick<ChunkHeader, 'encrypted' | 'storedLength'>): number {
  return chunkHeaderLength(header.encrypted) + header.storedLength + (header.encrypted ? CHUNK_TAG_BYTES : 0);
}

export function encodeChunkHeader(h: ChunkHeader): Uint8Array {
  if (h.encrypted !== (h.keyCheck !== undefined && h.nonce !== undefined)) {
    throw backupError('chunk.corrupt', 'an encrypted chunk header needs a key check and a nonce, a plain one neither');
  }
  if (h.keyCheck !== undefined && h.keyCheck.length !== CHUNK_KEY_CHECK_BYTES) {
    throw backupError('chunk.corrupt', `key check must be ${CHUNK_KEY_CHECK_BYTES} bytes`);
  }
  if (h.nonce !== undefined && h.nonce.length !== CHUNK_NONCE_BYTES) {
    throw backupError('chunk.corrupt', `nonce must be ${CHUNK_NONCE_BYTES} bytes`);
  }
  if (h.plaintextLength > MAX_CHUNK_PLAINTEXT) {
    throw backupError('chunk.too-large', `a chunk holds at most ${MAX_CHUNK_PLAINTEXT} bytes`, { plaintextLength: h.plaintextLength });
  }
  const out = new Uint8Array(chunkHeaderLength(h.encrypted));
  const view = new DataView(out.buffer);
  out.set(CHUNK_MAGIC, 0);
  out[4] = h.version;
  out[5] = (h.compressed ? CHUNK_FLAG_LZ4 : 0) | (h.encrypted ? CHUNK_FLAG_ENCRYPTED : 0);
  view.setUint32(8, h.plaintextLength, true);
  view.setUint32(12, h.storedLength, true);
  if (h.keyCheck !== undefined && h.nonce !== undefined) {
    out.set(h.keyCheck, 16);
    out.set(h.nonce, 20);
  }
  return out;
}

/** Splits a stored blob into header, payload and tag; throws chunk.truncated / chunk.corrupt / chunk.unsupported-version. */
export function parseChunkBlob(blob: Uint8Array): ParsedChunkBlob {
  if (blob.length < CHUNK_HEADER_BYTES) {
    throw backupError('chunk.truncated', `chunk blob is ${blob.length} bytes, shorter than its ${CHUNK_HEADER_BYTES}-byte header`, { length: blob.length });
  }
  for (let i = 0; i < CHUNK_MAGIC.length; i++) {
    if (blob[i] !== CHUNK_MAGIC[i]) throw backupError('chunk.corrupt', 'not a chunk blob (bad magic)');
  }
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const version = view.getUint8(4);
  if (version !== CHUNK_FORMAT_VERSION) {
    throw backupError('chunk.unsupported-version', `chunk format version ${version} is not supported (this build reads ${CHUNK_FORMAT_VERSION})`, { version });
  }
  const flags = view.getUint8(5);
  if ((flags & ~(CHUNK_FLAG_LZ4 | CHUNK_FLAG_ENCRYPTED)) !== 0 || view.getUint16(6, true) !== 0) {
    throw backupError('chunk.corrupt', `chunk header has unknown flags or reserved bits set (flags 0x${flags.toString(16)})`, { flags });
  }
  const compressed = (flags & CHUNK_FLAG_LZ4) !== 0;
  const encrypted = (flags & CHUNK_FLAG_ENCRYPTED) !== 0;
  const plaintextLength = view.getUint32(8, true);
  const storedLength = view.getUint32(12, true);
  checkLengths(compressed, plaintextLength, storedLength);

  const headerLength = chunkHeaderLength(encrypted);
  const total = chunkBlobLength({ encrypted, storedLength });
  if (blob.length < total) {
    throw backupError('chunk.truncated', `chunk blob is ${blob.length} bytes, its header promises ${total}`, { length: blob.length, expected: total });
  }
  if (blob.length > total) {
    throw backupError('chunk.corrupt', `chunk blob has ${blob.length - total} bytes after its end`, { length: blob.length, expected: total });
  }
  const header: ChunkHeader = encrypted
    ? { version, compressed, encrypted, plaintextLength, storedLength, keyCheck: blob.subarray(16, 20), nonce: blob.subarray(20, 32) }
    : { version, compressed, encrypted, plaintextLength, storedLength };
  const payload = blob.subarray(headerLength, headerLength + storedLength);
  return encrypted
    ? { header, headerBytes: blob.subarray(0, headerLength), payload, tag: blob.subarray(headerLength + storedLength) }
    : { header, headerBytes: blob.subarray(0, headerLength), payload };
}

function checkLengths(compressed: boolean, plaintextLength: number, storedLength: number): void {
  if (plaintextLength > MAX_CHUNK_PLAINTEXT) {
    throw backupError('chunk.corrupt', `chunk header claims ${plaintextLength} plaintext bytes, more than a chunk may hold`, { plaintextLength });
  }
  // Compression is only kept when it shrinks the chunk, so a compressed payload is always smaller.
  if (compressed ? storedLength >= plaintextLength : storedLength !== plaintextLength) {
    throw backupError('chunk.corrupt', `chunk header lengths are inconsistent (plaintext ${plaintextLength}, stored ${storedLength})`, { plaintextLength, storedLength });
  }
}

/** GCM additional data: the chunk id's 32 bytes, then the header as stored. */
export function chunkAad(id: string, headerBytes: Uint8Array): Uint8Array {
  const aad = new Uint8Array(32 + headerBytes.length);
  aad.set(hexToBytes(id), 0);
  aad.set(headerBytes, 32);
  return aad;
}

export function hexToBytes(hex: string): Uint8Array {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) {
    throw backupError('chunk.corrupt', 'not a hex string', { length: hex.length });
  }
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function bytesToHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}
