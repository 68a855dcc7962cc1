/**
 * ChunkCodec with Node crypto (HMAC-SHA-256 ids, SHA-256 stored hashes, AES-256-GCM) and lz4-napi's
 * block API (prebuilt for win32-x64, so the Windows executable needs no compiler; its frame API is
 * about 10× slower on the main thread). Blob layout: core/backup/chunk-format.ts.
 */
import { createCipheriv, createDecipheriv, createHash, createHmac, createSecretKey, randomBytes } from 'node:crypto';
import { compressSync, uncompressSync } from 'lz4-napi';
import {
  CHUNK_FORMAT_VERSION, CHUNK_KEY_CHECK_BYTES, CHUNK_NONCE_BYTES, CHUNK_TAG_BYTES, MAX_CHUNK_PLAINTEXT,
  chunkAad, chunkBlobLength, encodeChunkHeader, parseChunkBlob, type ChunkCompression, type ChunkHeader,
} from '../../core/backup/chunk-format.ts';
import { backupError } from '../../core/backup/errors.ts';
import type { ChunkCodec, EncodedChunk, ExpectedChunk } from '../../ports/chunk-codec.ts';
import { KEY_BYTES } from './key-wrap.ts';

export interface NodeChunkCodecOptions {
  /** The set's chunk-id key (deriveChunkIdKey in key-wrap.ts). */
  readonly chunkIdKey: Uint8Array;
  /** The set's data key; present = chunks are encrypted. */
  readonly dataKey?: Uint8Array;
  readonly compression: ChunkCompression;
}

export function createNodeChunkCodec(options: NodeChunkCodecOptions): ChunkCodec {
  if (options.chunkIdKey.length !== KEY_BYTES) throw backupError('crypto.invalid-key', `chunk-id key must be ${KEY_BYTES} bytes`);
  if (options.dataKey !== undefined && options.dataKey.length !== KEY_BYTES) throw backupError('crypto.invalid-key', `data key must be ${KEY_BYTES} bytes`);
  const idKey = createSecretKey(options.chunkIdKey);
  const dataKey = options.dataKey === undefined ? undefined : createSecretKey(options.dataKey);
  const keyCheck = options.dataKey === undefined ? undefined : keyCheckOf(options.dataKey);

  const chunkId = (plaintext: Uint8Array): string => createHmac('sha256', idKey).update(plaintext).digest('hex');
  const storedHash = (blob: Uint8Array): string => createHash('sha256').update(blob).digest('hex');

  return {
    compression: options.compression,
    encrypted: dataKey !== undefined,
    chunkId,
    storedHash,
    encode(plaintext: Uint8Array): EncodedChunk {
      if (plaintext.length > MAX_CHUNK_PLAINTEXT) {
        throw backupError('chunk.too-large', `a chunk holds at most ${MAX_CHUNK_PLAINTEXT} bytes, got ${plaintext.length}`, { length: plaintext.length });
      }
      const id = chunkId(plaintext);
      const packed = options.compression === 'lz4' ? compressSync(asBuffer(plaintext)) : undefined;
      // Kept only when it shrinks the chunk: incompressible data is stored as is.
      const compressed = packed !== undefined && packed.length < plaintext.length;
      const payload = compressed ? packed : plaintext;
      const header: ChunkHeader = dataKey === undefined || keyCheck === undefined
        ? { version: CHUNK_FORMAT_VERSION, compressed, encrypted: false, plaintextLength: plaintext.length, storedLength: payload.length }
        : { version: CHUNK_FORMAT_VERSION, compressed, encrypted: true, plaintextLength: plaintext.length, storedLength: payload.length, keyCheck, nonce: randomBytes(CHUNK_NONCE_BYTES) };
      const headerBytes = encodeChunkHeader(header);
      // A plain Uint8Array of its own: not a Buffer (whose slice() is a view) nor a slice of Node's shared pool (transferable).
      const blob = new Uint8Array(chunkBlobLength(header));
      blob.set(headerBytes, 0);
      if (dataKey === undefined || header.nonce === undefined) {
        blob.set(payload, headerBytes.length);
      } else {
        const cipher = createCipheriv('aes-256-gcm', dataKey, header.nonce, { authTagLength: CHUNK_TAG_BYTES });
        cipher.setAAD(chunkAad(id, headerBytes));
        const body = cipher.update(payload);
        blob.set(body, headerBytes.length);
        const tail = cipher.final(); // GCM is a stream mode: nothing is held back, but stay correct if it were
        blob.set(tail, headerBytes.length + body.length);
        blob.set(cipher.getAuthTag(), headerBytes.length + payload.length);
      }
      return { id, blob, storedHash: storedHash(blob), storedLength: blob.length, plaintextLength: plaintext.length, compressed, encrypted: header.encrypted };
    },
    decode(blob: Uint8Array, expected: ExpectedChunk): Uint8Array {
      // 1. The stored bytes are what the manifest recorded, before any key or decoder touches them.
      if (expected.storedHash !== undefined) {
        const actual = storedHash(blob);
        if (actual !== expected.storedHash) {
          throw backupError('chunk.hash-mismatch', `chunk ${expected.id}: stored bytes do not match the manifest's hash`, { id: expected.id, stage: 'stored', expected: expected.storedHash, actual });
        }
      }
      // 2. Structure.
      const parsed = parseChunkBlob(blob);
      const { header } = parsed;
      // 3. Authenticate and decrypt.
      let payload = parsed.payload;
      if (header.encrypted) {
        payload = decrypt(expected.id, parsed.headerBytes, parsed.payload, header, parsed.tag);
      }
      // 4. Decompress.
      const plaintext = header.compressed ? decompress(expected.id, payload, header.plaintextLength) : payload;
      // 5. The plaintext is the one the id names.
      const actualId = chunkId(plaintext);
      if (actualId !== expected.id) {
        throw backupError('chunk.hash-mismatch', `chunk ${expected.id}: decoded data does not match its id`, { id: expected.id, stage: 'plaintext', actual: actualId });
      }
      return plain(plaintext);
    },
  };

  function decrypt(id: string, headerBytes: Uint8Array, payload: Uint8Array, header: ChunkHeader, tag: Uint8Array | undefined): Uint8Array {
    if (dataKey === undefined || keyCheck === undefined) {
      throw backupError('crypto.key-required', `chunk ${id} is encrypted and no data key was given`, { id });
    }
    if (header.nonce === undefined || header.keyCheck === undefined || tag === undefined) {
      throw backupError('chunk.corrupt', `chunk ${id}: encrypted header without nonce or tag`, { id });
    }
    if (!header.keyCheck.every((b, i) => b === keyCheck[i])) {
      throw backupError('crypto.wrong-key', `chunk ${id} is encrypted with another key than this backup set's`, { id });
    }
    const decipher = createDecipheriv('aes-256-gcm', dataKey, header.nonce, { authTagLength: CHUNK_TAG_BYTES });
    decipher.setAAD(chunkAad(id, headerBytes));
    decipher.setAuthTag(tag);
    const out = decipher.update(payload);
    try {
      decipher.final();
    } catch (cause) {
      // The key check matched, so the key is right: the bytes, or the id they were filed under, are not.
      throw backupError('chunk.corrupt', `chunk ${id}: authentication failed (corrupt data, or a blob filed under another id)`, { id }, { cause });
    }
    return plain(out);
  }
}

function decompress(id: string, payload: Uint8Array, plaintextLength: number): Uint8Array {
  // lz4 blocks carry their decoded size first; check it before the decoder allocates anything.
  const declared = payload.length >= 4 ? new DataView(payload.buffer, payload.byteOffset, 4).getUint32(0, true) : -1;
  if (declared !== plaintextLength) {
    throw backupError('chunk.corrupt', `chunk ${id}: lz4 block declares ${declared} bytes, header ${plaintextLength}`, { id });
  }
  let out: Uint8Array;
  try {
    out = uncompressSync(payload);
  } catch (cause) {
    throw backupError('chunk.corrupt', `chunk ${id}: lz4 block does not decode`, { id }, { cause });
  }
  if (out.length !== plaintextLength) {
    throw backupError('chunk.corrupt', `chunk ${id}: lz4 block decoded to ${out.length} bytes, expected ${plaintextLength}`, { id });
  }
  return plain(out);
}

/** First 4 bytes of HMAC-SHA-256(dataKey, label): identifies the key without revealing it. */
function keyCheckOf(dataKey: Uint8Array): Uint8Array {
  return new Uint8Array(createHmac('sha256', dataKey).update('lifeline key-check v1').digest().subarray(0, CHUNK_KEY_CHECK_BYTES));
}

/** The same memory as a plain Uint8Array, so callers never meet Buffer's view-returning slice(). */
function plain(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
