import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  CHUNK_ENCRYPTED_HEADER_BYTES, CHUNK_FORMAT_VERSION, CHUNK_HEADER_BYTES, CHUNK_TAG_BYTES, MAX_CHUNK_PLAINTEXT,
  bytesToHex, chunkAad, chunkBlobLength, encodeChunkHeader, hexToBytes, isChunkId, parseChunkBlob, type ChunkHeader,
} from '../../../../src/core/backup/chunk-format.ts';
import { RecoveryError } from '../../../../src/core/errors.ts';

function blobOf(header: ChunkHeader, fill = 0xaa): Uint8Array {
  const bytes = new Uint8Array(chunkBlobLength(header)).fill(fill);
  bytes.set(encodeChunkHeader(header), 0);
  return bytes;
}

function codeOf(action: () => unknown): string {
  try {
    action();
  } catch (e) {
    if (e instanceof RecoveryError) return e.code;
    throw e;
  }
  return 'no error';
}

const plain: ChunkHeader = { version: CHUNK_FORMAT_VERSION, compressed: false, encrypted: false, plaintextLength: 100, storedLength: 100 };
const sealed: ChunkHeader = {
  version: CHUNK_FORMAT_VERSION, compressed: true, encrypted: true, plaintextLength: 1000, storedLength: 40,
  keyCheck: Uint8Array.of(1, 2, 3, 4), nonce: new Uint8Array(12).fill(7),
};

describe('chunk blob header', () => {
  it('lays out a plain header byte for byte', () => {
    const h = encodeChunkHeader(plain);
    expect(h.length).toBe(CHUNK_HEADER_BYTES);
    expect([...h]).toEqual([0x4c, 0x4c, 0x43, 0x4b, 1, 0, 0, 0, 100, 0, 0, 0, 100, 0, 0, 0]);
  });

  it('lays out an encrypted, compressed header with key check and nonce', () => {
    const h = encodeChunkHeader(sealed);
    expect(h.length).toBe(CHUNK_ENCRYPTED_HEADER_BYTES);
    expect(h[5]).toBe(0x03);
    expect([...h.subarray(8, 12)]).toEqual([0xe8, 0x03, 0, 0]);
    expect([...h.subarray(16, 20)]).toEqual([1, 2, 3, 4]);
    expect([...h.subarray(20, 32)]).toEqual(new Array(12).fill(7));
  });

  it('parses what it encodes, for every flag combination and length', () => {
    fc.assert(fc.property(fc.boolean(), fc.boolean(), fc.integer({ min: 1, max: 5000 }), fc.integer({ min: 0, max: 4999 }), (compressed, encrypted, plaintextLength, shrink) => {
      const storedLength = compressed ? Math.min(shrink, plaintextLength - 1) : plaintextLength;
      const header: ChunkHeader = encrypted
        ? { version: 1, compressed, encrypted, plaintextLength, storedLength, keyCheck: Uint8Array.of(9, 9, 9, 9), nonce: new Uint8Array(12).fill(3) }
        : { version: 1, compressed, encrypted, plaintextLength, storedLength };
      const blob = blobOf(header);
      const parsed = parseChunkBlob(blob);
      expect(parsed.header.compressed).toBe(compressed);
      expect(parsed.header.encrypted).toBe(encrypted);
      expect(parsed.header.plaintextLength).toBe(plaintextLength);
      expect(parsed.payload.length).toBe(storedLength);
      expect(parsed.tag?.length).toBe(encrypted ? CHUNK_TAG_BYTES : undefined);
      expect(blob.length).toBe((encrypted ? 32 : 16) + storedLength + (encrypted ? 16 : 0));
    }));
  });

  it('reports every cut of a blob as truncated', () => {
    const blob = blobOf(sealed);
    for (let cut = 0; cut < blob.length; cut++) {
      expect(codeOf(() => parseChunkBlob(blob.subarray(0, cut))), `cut at ${cut}`).toBe('chunk.truncated');
    }
  });

  it('reports trailing bytes, bad magic, unknown flags and reserved bits as corrupt', () => {
    const blob = blobOf(plain);
    const longer = new Uint8Array(blob.length + 1);
    longer.set(blob);
    expect(codeOf(() => parseChunkBlob(longer))).toBe('chunk.corrupt');
    for (const [offset, value] of [[0, 0x4d], [3, 0], [5, 0x04], [5, 0x80], [6, 1], [7, 1]] as const) {
      const bad = blob.slice();
      bad[offset] = value;
      expect(codeOf(() => parseChunkBlob(bad)), `byte ${offset} = ${value}`).toBe('chunk.corrupt');
    }
  });

  it('reports a newer format version as unsupported', () => {
    const bad = blobOf(plain);
    bad[4] = 2;
    expect(codeOf(() => parseChunkBlob(bad))).toBe('chunk.unsupported-version');
  });

  it('refuses inconsistent lengths: compressed not smaller, plain not equal, plaintext over the limit', () => {
    const raw = (flags: number, plaintextLength: number, storedLength: number): Uint8Array => {
      const b = blobOf(plain);
      const v = new DataView(b.buffer);
      b[5] = flags;
      v.setUint32(8, plaintextLength, true);
      v.setUint32(12, storedLength, true);
      return b;
    };
    expect(codeOf(() => parseChunkBlob(raw(0x01, 100, 100)))).toBe('chunk.corrupt');
    expect(codeOf(() => parseChunkBlob(raw(0x00, 100, 99)))).toBe('chunk.corrupt');
    expect(codeOf(() => parseChunkBlob(raw(0x00, MAX_CHUNK_PLAINTEXT + 1, 100)))).toBe('chunk.corrupt');
  });

  it('refuses to encode a header that mixes up the encryption fields or exceeds the size limit', () => {
    expect(codeOf(() => encodeChunkHeader({ ...plain, encrypted: true }))).toBe('chunk.corrupt');
    expect(codeOf(() => encodeChunkHeader({ ...sealed, nonce: new Uint8Array(8) }))).toBe('chunk.corrupt');
    expect(codeOf(() => encodeChunkHeader({ ...plain, plaintextLength: MAX_CHUNK_PLAINTEXT + 1 }))).toBe('chunk.too-large');
  });

  it('binds the raw id bytes and the header into the additional data', () => {
    const id = 'ab'.repeat(32);
    const header = encodeChunkHeader(sealed);
    const aad = chunkAad(id, header);
    expect(aad.length).toBe(32 + header.length);
    expect(aad[0]).toBe(0xab);
    expect([...aad.subarray(32)]).toEqual([...header]);
  });
});

describe('hex helpers and ids', () => {
  it('round-trips bytes through hex', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
      expect([...hexToBytes(bytesToHex(bytes))]).toEqual([...bytes]);
    }));
  });

  it('accepts only 64 lower-case hex digits as an id', () => {
    expect(isChunkId('0'.repeat(64))).toBe(true);
    expect(isChunkId('A'.repeat(64))).toBe(false);
    expect(isChunkId('0'.repeat(63))).toBe(false);
    expect(isChunkId(`../${'0'.repeat(61)}`)).toBe(false);
  });
});
