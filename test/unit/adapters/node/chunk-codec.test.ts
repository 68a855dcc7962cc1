import { createHash, createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { uncompressSync } from 'lz4-napi';
import { createNodeChunkCodec } from '../../../../src/adapters/node/chunk-codec.ts';
import {
  DEFAULT_SCRYPT, deriveChunkIdKey, generateKey, sealKey, unsealKey, unwrapDataKey, wrapDataKey,
} from '../../../../src/adapters/node/key-wrap.ts';
import { encodeManifest, validateManifest } from '../../../../src/core/backup/manifest.ts';
import { CHUNK_ENCRYPTED_HEADER_BYTES, CHUNK_HEADER_BYTES, CHUNK_TAG_BYTES, MAX_CHUNK_PLAINTEXT, parseChunkBlob } from '../../../../src/core/backup/chunk-format.ts';
import { RecoveryError } from '../../../../src/core/errors.ts';
import type { ChunkCodec, EncodedChunk } from '../../../../src/ports/chunk-codec.ts';

const tenantKey = generateKey();
const dataKey = generateKey();

/** Text-like data lz4 shrinks well, and random data it cannot shrink. */
function compressible(bytes: number): Uint8Array {
  const words = ['restore', 'partition', 'sector', 'chunk', 'volume', 'boot', 'NTFS', 'GPT', '\r\n'];
  let s = '';
  for (let i = 0; s.length < bytes; i++) s += `${words[(i * 7) % words.length]} ${i % 97} `;
  return new Uint8Array(Buffer.from(s.slice(0, bytes), 'latin1'));
}
const incompressible = (bytes: number) => new Uint8Array(randomBytes(bytes));

function codecs(): { name: string; codec: ChunkCodec }[] {
  return [
    { name: 'none, plain', codec: createNodeChunkCodec({ chunkIdKey: deriveChunkIdKey(tenantKey), compression: 'none' }) },
    { name: 'lz4, plain', codec: createNodeChunkCodec({ chunkIdKey: deriveChunkIdKey(tenantKey), compression: 'lz4' }) },
    { name: 'none, encrypted', codec: createNodeChunkCodec({ chunkIdKey: deriveChunkIdKey(tenantKey, dataKey), dataKey, compression: 'none' }) },
    { name: 'lz4, encrypted', codec: createNodeChunkCodec({ chunkIdKey: deriveChunkIdKey(tenantKey, dataKey), dataKey, compression: 'lz4' }) },
  ];
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

const decodeExpecting = (codec: ChunkCodec, c: EncodedChunk, blob = c.blob, withHash = true) =>
  codec.decode(blob, withHash ? { id: c.id, storedHash: c.storedHash } : { id: c.id });

describe('chunk codec round trips', () => {
  for (const { name, codec } of codecs()) {
    it(`${name}: decodes what it encodes, compressible and incompressible, any length`, () => {
      for (const data of [compressible(256 * 1024), incompressible(256 * 1024), new Uint8Array(0), new Uint8Array(4096), compressible(1)]) {
        const c = codec.encode(data);
        expect(Buffer.from(decodeExpecting(codec, c)).equals(Buffer.from(data))).toBe(true);
        expect(c.storedLength).toBe(c.blob.length);
        expect(Buffer.isBuffer(c.blob)).toBe(false);
        expect(c.storedHash).toBe(createHash('sha256').update(c.blob).digest('hex'));
        expect(c.encrypted).toBe(codec.encrypted);
        const header = parseChunkBlob(c.blob).header;
        expect(header.compressed).toBe(c.compressed);
        expect(header.encrypted).toBe(codec.encrypted);
        expect(header.plaintextLength).toBe(data.length);
      }
    });
  }

  it('decodes arbitrary data under every flag combination (property)', () => {
    const all = codecs();
    fc.assert(fc.property(fc.uint8Array({ maxLength: 20000 }), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 1, max: 200 }), (noise, which, repeat) => {
      const { codec } = all[which]!;
      // Repeating the noise makes some inputs compressible, some not.
      const data = new Uint8Array(noise.length * (noise.length > 2000 ? 1 : repeat));
      for (let i = 0; i < data.length; i += Math.max(1, noise.length)) data.set(noise.subarray(0, data.length - i), i);
      const c = codec.encode(data);
      expect(Buffer.from(decodeExpecting(codec, c)).equals(Buffer.from(data))).toBe(true);
    }), { numRuns: 200 });
  });

  it('uses HMAC-SHA-256 of the plaintext under the chunk-id key as the id', () => {
    const idKey = deriveChunkIdKey(tenantKey);
    const codec = createNodeChunkCodec({ chunkIdKey: idKey, compression: 'lz4' });
    const data = compressible(1000);
    expect(codec.encode(data).id).toBe(createHmac('sha256', idKey).update(data).digest('hex'));
    expect(codec.chunkId(data)).toBe(codec.encode(data).id);
  });

  it('compresses compressible data and stores incompressible data as is', () => {
    const codec = codecs()[1]!.codec;
    const text = codec.encode(compressible(256 * 1024));
    expect(text.compressed).toBe(true);
    expect(text.storedLength).toBeLessThan(256 * 1024 / 4);
    const random = codec.encode(incompressible(256 * 1024));
    expect(random.compressed).toBe(false);
    expect(random.storedLength).toBe(CHUNK_HEADER_BYTES + 256 * 1024);
    // The payload of a compressed chunk is a real lz4 block: the library decodes it on its own.
    const parsed = parseChunkBlob(text.blob);
    expect(Buffer.from(uncompressSync(parsed.payload)).equals(Buffer.from(compressible(256 * 1024)))).toBe(true);
  });

  it('encrypts: plaintext is not in the blob, nonces differ, overhead is header + tag', () => {
    const codec = codecs()[2]!.codec;
    const data = compressible(8192);
    const a = codec.encode(data);
    const b = codec.encode(data);
    expect(a.id).toBe(b.id);
    expect(a.storedHash).not.toBe(b.storedHash);
    expect(Buffer.from(a.blob).includes(Buffer.from(data.subarray(0, 64)))).toBe(false);
    expect(a.storedLength).toBe(CHUNK_ENCRYPTED_HEADER_BYTES + 8192 + CHUNK_TAG_BYTES);
  });

  it('gives two tenants, and two encrypted sets of one tenant, different ids for the same data', () => {
    const data = compressible(4096);
    const otherTenant = generateKey();
    const ids = [
      createNodeChunkCodec({ chunkIdKey: deriveChunkIdKey(tenantKey), compression: 'none' }).chunkId(data),
      createNodeChunkCodec({ chunkIdKey: deriveChunkIdKey(otherTenant), compression: 'none' }).chunkId(data),
      createNodeChunkCodec({ chunkIdKey: deriveChunkIdKey(tenantKey, dataKey), dataKey, compression: 'none' }).chunkId(data),
      createNodeChunkCodec({ chunkIdKey: deriveChunkIdKey(tenantKey, generateKey()), compression: 'none' }).chunkId(data),
    ];
    expect(new Set(ids).size).toBe(4);
  });

  it('refuses plaintext over the chunk limit and keys of the wrong size', () => {
    const codec = codecs()[0]!.codec;
    expect(codeOf(() => codec.encode(new Uint8Array(MAX_CHUNK_PLAINTEXT + 1)))).toBe('chunk.too-large');
    expect(codeOf(() => createNodeChunkCodec({ chunkIdKey: new Uint8Array(16), compression: 'none' }))).toBe('crypto.invalid-key');
    expect(codeOf(() => createNodeChunkCodec({ chunkIdKey: tenantKey, dataKey: new Uint8Array(31), compression: 'none' }))).toBe('crypto.invalid-key');
  });
});

describe('chunk codec failures', () => {
  const encrypted = codecs()[3]!.codec;
  const plainLz4 = codecs()[1]!.codec;
  const sample = encrypted.encode(compressible(64 * 1024));
  const plainSample = plainLz4.encode(compressible(64 * 1024));
  const flip = (blob: Uint8Array, offset: number) => {
    const copy = Uint8Array.from(blob);
    copy[offset] = copy[offset]! ^ 0x01;
    return copy;
  };

  it('refuses another data key with crypto.wrong-key, and a missing one with crypto.key-required', () => {
    const otherKey = generateKey();
    const other = createNodeChunkCodec({ chunkIdKey: deriveChunkIdKey(tenantKey, otherKey), dataKey: otherKey, compression: 'lz4' });
    expect(codeOf(() => decodeExpecting(other, sample))).toBe('crypto.wrong-key');
    const keyless = createNodeChunkCodec({ chunkIdKey: deriveChunkIdKey(tenantKey, dataKey), compression: 'lz4' });
    expect(codeOf(() => decodeExpecting(keyless, sample))).toBe('crypto.key-required');
  });

  it('checks the stored hash first: any flipped byte is chunk.hash-mismatch before decryption', () => {
    const { header } = parseChunkBlob(sample.blob);
    const offsets = { header: 9, keyCheck: 17, nonce: 25, payload: CHUNK_ENCRYPTED_HEADER_BYTES + 10, tag: sample.blob.length - 3 };
    expect(header.compressed).toBe(true);
    for (const [where, offset] of Object.entries(offsets)) {
      expect(codeOf(() => decodeExpecting(encrypted, sample, flip(sample.blob, offset))), where).toBe('chunk.hash-mismatch');
    }
    expect(codeOf(() => decodeExpecting(encrypted, sample, sample.blob.subarray(0, sample.blob.length - 1)))).toBe('chunk.hash-mismatch');
  });

  it('without a stored hash, names each corruption by what catches it', () => {
    const cases: [string, Uint8Array, string][] = [
      ['magic', flip(sample.blob, 0), 'chunk.corrupt'],
      ['version', Uint8Array.from(sample.blob, (b, i) => (i === 4 ? 2 : b)), 'chunk.unsupported-version'],
      ['plaintext length', flip(sample.blob, 9), 'chunk.corrupt'], // authenticated as AAD
      ['stored length', flip(sample.blob, 12), 'chunk.truncated'],
      ['key check', flip(sample.blob, 17), 'crypto.wrong-key'],
      ['nonce', flip(sample.blob, 25), 'chunk.corrupt'],
      ['payload', flip(sample.blob, CHUNK_ENCRYPTED_HEADER_BYTES + 10), 'chunk.corrupt'],
      ['tag', flip(sample.blob, sample.blob.length - 3), 'chunk.corrupt'],
      ['truncated', sample.blob.subarray(0, sample.blob.length - 1), 'chunk.truncated'],
      ['header only', sample.blob.subarray(0, 20), 'chunk.truncated'],
      ['empty', new Uint8Array(0), 'chunk.truncated'],
    ];
    for (const [where, blob, code] of cases) {
      expect(codeOf(() => decodeExpecting(encrypted, sample, blob, false)), where).toBe(code);
    }
  });

  it('catches corruption of an unencrypted lz4 chunk after decoding, by its id', () => {
    const payloadStart = CHUNK_HEADER_BYTES;
    // A flipped literal byte decodes to other data: only the id recomputation catches it.
    const codes = new Set<string>();
    for (let offset = payloadStart + 4; offset < plainSample.blob.length; offset += 97) {
      codes.add(codeOf(() => decodeExpecting(plainLz4, plainSample, flip(plainSample.blob, offset), false)));
    }
    expect(codes.has('no error')).toBe(false);
    expect([...codes].every((c) => c === 'chunk.hash-mismatch' || c === 'chunk.corrupt')).toBe(true);
    expect(codes.has('chunk.hash-mismatch')).toBe(true);
  });

  it('refuses an lz4 block whose declared size disagrees with the header, before decoding', () => {
    const bad = Uint8Array.from(plainSample.blob);
    new DataView(bad.buffer).setUint32(CHUNK_HEADER_BYTES, 0x7fffffff, true);
    expect(codeOf(() => decodeExpecting(plainLz4, plainSample, bad, false))).toBe('chunk.corrupt');
  });

  it('refuses a blob filed under another id (the id is bound into the encryption)', () => {
    const other = encrypted.encode(compressible(1000));
    expect(codeOf(() => encrypted.decode(sample.blob, { id: other.id, storedHash: sample.storedHash }))).toBe('chunk.corrupt');
    const plainOther = plainLz4.encode(compressible(1000));
    expect(codeOf(() => plainLz4.decode(plainSample.blob, { id: plainOther.id, storedHash: plainSample.storedHash }))).toBe('chunk.hash-mismatch');
  });

  it('refuses the right blob under the wrong tenant key by its id', () => {
    const wrongTenant = createNodeChunkCodec({ chunkIdKey: deriveChunkIdKey(generateKey()), compression: 'lz4' });
    expect(codeOf(() => decodeExpecting(wrongTenant, plainSample))).toBe('chunk.hash-mismatch');
  });
});

describe('key wrap', () => {
  const fast = { n: 2 ** 12, r: 8, p: 1 };

  async function codeOfAsync(action: () => Promise<unknown>): Promise<string> {
    try {
      await action();
    } catch (e) {
      if (e instanceof RecoveryError) return e.code;
      throw e;
    }
    return 'no error';
  }

  it('unwraps with the passphrase under the default scrypt parameters, and the key decodes the set\'s chunks', async () => {
    const wrapped = await wrapDataKey(dataKey, 'correct horse battery staple');
    expect(wrapped).toMatchObject({ kdf: 'scrypt', n: DEFAULT_SCRYPT.n, r: DEFAULT_SCRYPT.r, p: DEFAULT_SCRYPT.p, cipher: 'aes-256-gcm' });
    expect(wrapped.ciphertext).not.toContain(Buffer.from(dataKey).toString('hex'));
    const unwrapped = await unwrapDataKey(wrapped, 'correct horse battery staple');
    expect(Buffer.from(unwrapped).equals(Buffer.from(dataKey))).toBe(true);
    const chunk = codecs()[3]!.codec.encode(compressible(5000));
    const restoreCodec = createNodeChunkCodec({ chunkIdKey: deriveChunkIdKey(tenantKey, unwrapped), dataKey: unwrapped, compression: 'lz4' });
    expect(Buffer.from(decodeExpecting(restoreCodec, chunk)).equals(Buffer.from(compressible(5000)))).toBe(true);
  });

  it('is a record the manifest validator accepts', async () => {
    const wrapped = await wrapDataKey(dataKey, 'pw', fast);
    const manifest = {
      formatVersion: 1 as const, setId: 's', pointSequence: 1, createdAt: '2026-01-01T00:00:00Z', source: { hostname: 'h', firmware: 'bios' as const },
      options: { codec: 'lz4' as const, blockSize: 262144, encrypted: true, onlyUsedBlocks: true }, encryption: { cipher: 'aes-256-gcm' as const, dataKey: wrapped }, disks: [],
    };
    expect(validateManifest(JSON.parse(encodeManifest(manifest))).encryption?.dataKey).toEqual(wrapped);
  });

  it('says the passphrase is wrong, clearly', async () => {
    const wrapped = await wrapDataKey(dataKey, 'right', fast);
    await expect(unwrapDataKey(wrapped, 'wrong')).rejects.toMatchObject({ code: 'crypto.wrong-passphrase', message: expect.stringMatching(/passphrase is wrong/) });
  });

  it('binds the scrypt parameters and salt: editing them fails the unwrap instead of weakening it', async () => {
    const wrapped = await wrapDataKey(dataKey, 'pw', fast);
    expect(await codeOfAsync(() => unwrapDataKey({ ...wrapped, n: 2 ** 11 }, 'pw'))).toBe('crypto.wrong-passphrase');
    expect(await codeOfAsync(() => unwrapDataKey({ ...wrapped, salt: 'ab'.repeat(16) }, 'pw'))).toBe('crypto.wrong-passphrase');
    expect(await codeOfAsync(() => unwrapDataKey({ ...wrapped, ciphertext: 'cd'.repeat(32) }, 'pw'))).toBe('crypto.wrong-passphrase');
  });

  it('refuses weak or memory-hungry parameters', async () => {
    expect(await codeOfAsync(() => wrapDataKey(dataKey, 'pw', { n: 2 ** 8, r: 8, p: 1 }))).toBe('crypto.invalid-key');
    const wrapped = await wrapDataKey(dataKey, 'pw', fast);
    expect(await codeOfAsync(() => unwrapDataKey({ ...wrapped, n: 2 ** 20, r: 32 }, 'pw'))).toBe('crypto.invalid-key');
    expect(await codeOfAsync(() => unwrapDataKey({ ...wrapped, n: 3000 }, 'pw'))).toBe('crypto.invalid-key');
  });

  it('treats composed and decomposed spellings of a passphrase alike (NFC)', async () => {
    const wrapped = await wrapDataKey(dataKey, 'caf\u00e9', fast);
    expect(Buffer.from(await unwrapDataKey(wrapped, 'cafe\u0301')).equals(Buffer.from(dataKey))).toBe(true);
  });

  it('seals a tenant chunk key under a server key, bound to its purpose', () => {
    const serverKey = generateKey();
    const sealed = sealKey(tenantKey, serverKey, 'tenant-chunk-key:acme');
    expect(Buffer.from(unsealKey(sealed, serverKey, 'tenant-chunk-key:acme')).equals(Buffer.from(tenantKey))).toBe(true);
    expect(codeOf(() => unsealKey(sealed, generateKey(), 'tenant-chunk-key:acme'))).toBe('crypto.wrong-key');
    expect(codeOf(() => unsealKey(sealed, serverKey, 'tenant-chunk-key:other'))).toBe('crypto.wrong-key');
    expect(codeOf(() => unsealKey({ ...sealed, nonce: 'zz' }, serverKey, 'tenant-chunk-key:acme'))).toBe('crypto.invalid-key');
  });

  it('derives chunk-id keys deterministically, per tenant and per data key', () => {
    expect(Buffer.from(deriveChunkIdKey(tenantKey)).equals(Buffer.from(deriveChunkIdKey(tenantKey)))).toBe(true);
    expect(Buffer.from(deriveChunkIdKey(tenantKey)).equals(Buffer.from(deriveChunkIdKey(tenantKey, dataKey)))).toBe(false);
    expect(Buffer.from(deriveChunkIdKey(tenantKey)).equals(Buffer.from(tenantKey))).toBe(false);
  });
});
