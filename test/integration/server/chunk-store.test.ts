import { execFile } from 'node:child_process';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createNodeChunkCodec } from '../../../src/adapters/node/chunk-codec.ts';
import { deriveChunkIdKey, generateKey } from '../../../src/adapters/node/key-wrap.ts';
import { RecoveryError } from '../../../src/core/errors.ts';
import type { ChunkStore } from '../../../src/ports/chunk-store.ts';
import { LocalFolderStore } from '../../../src/server/chunk-store/local-folder-store.ts';
import { mustRun, tempDir } from '../../helpers/run.ts';

const tenantKey = generateKey();
const dataKey = generateKey();
const codec = createNodeChunkCodec({ chunkIdKey: deriveChunkIdKey(tenantKey, dataKey), dataKey, compression: 'lz4' });
const storeModule = fileURLToPath(new URL('../../../src/server/chunk-store/local-folder-store.ts', import.meta.url));

function block(seed: number, bytes = 64 * 1024): Uint8Array {
  const out = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) out[i] = (i * 31 + seed * 7 + (i >> 9)) & 0xff;
  return out;
}

async function listAll(store: ChunkStore): Promise<string[]> {
  const ids: string[] = [];
  for await (const id of store.list()) ids.push(id);
  return ids.sort();
}

async function codeOf(action: () => Promise<unknown>): Promise<string> {
  try {
    await action();
  } catch (e) {
    if (e instanceof RecoveryError) return e.code;
    throw e;
  }
  return 'no error';
}

let dir: { path: string; cleanup: () => Promise<void> };
beforeEach(async () => {
  dir = await tempDir('lifeline-chunk-store-');
});
afterEach(async () => {
  await dir.cleanup();
});

describe('local folder chunk store', () => {
  it('stores, finds, serves, lists and deletes blobs under ab/cd/<id>', async () => {
    const store = await LocalFolderStore.open(dir.path);
    const chunks = [1, 2, 3].map((seed) => codec.encode(block(seed)));
    for (const c of chunks) {
      expect(await store.put(c.id, c.blob)).toEqual({ id: c.id, storedLength: c.storedLength, storedHash: c.storedHash });
    }
    const absent = 'f'.repeat(64);
    expect(await store.has([...chunks.map((c) => c.id), absent])).toEqual(new Set(chunks.map((c) => c.id)));
    expect(await listAll(store)).toEqual(chunks.map((c) => c.id).sort());
    for (const c of chunks) {
      const path = join(dir.path, 'chunks', c.id.slice(0, 2), c.id.slice(2, 4), c.id);
      // The stored hash is what the coreutils tool computes over the file on disk.
      expect((await mustRun('sha256sum', [path])).split(' ')[0]).toBe(c.storedHash);
      const served = await store.get(c.id);
      expect(Buffer.from(codec.decode(served, { id: c.id, storedHash: c.storedHash })).equals(Buffer.from(block(chunks.indexOf(c) + 1)))).toBe(true);
      expect(await store.stat(c.id)).toEqual({ id: c.id, storedLength: c.storedLength, storedHash: c.storedHash });
    }
    expect(await store.delete(chunks[0]!.id)).toBe(true);
    expect(await store.delete(chunks[0]!.id)).toBe(false);
    expect(await codeOf(() => store.get(chunks[0]!.id))).toBe('store.not-found');
    expect(await store.stat(chunks[0]!.id)).toBeUndefined();
    expect(await listAll(store)).toEqual(chunks.slice(1).map((c) => c.id).sort());
    expect(await readdir(join(dir.path, 'tmp'))).toEqual([]);
  });

  it('serves several blobs end to end in one buffer, in the order asked, or says they are too large', async () => {
    const store = await LocalFolderStore.open(dir.path);
    // More blobs than are read at a time, of different sizes, one asked for twice.
    const chunks = Array.from({ length: 11 }, (_, i) => codec.encode(block(20 + i, (i + 1) * 8 * 1024)));
    for (const c of chunks) await store.put(c.id, c.blob);
    const asked = [chunks[3]!, ...chunks, chunks[3]!];
    const many = await store.getMany(asked.map((c) => c.id), 16 * 1024 * 1024);
    if (many === 'too-large') throw new Error('unexpected too-large');
    expect(many.lengths).toEqual(asked.map((c) => c.storedLength));
    expect(many.bytes.length).toBe(asked.reduce((sum, c) => sum + c.storedLength, 0));
    let at = 0;
    for (const c of asked) {
      expect(Buffer.from(many.bytes.subarray(at, at + c.storedLength)).equals(Buffer.from(c.blob))).toBe(true);
      at += c.storedLength;
    }

    const total = chunks.reduce((sum, c) => sum + c.storedLength, 0);
    expect(await store.getMany(chunks.map((c) => c.id), total)).not.toBe('too-large');
    expect(await store.getMany(chunks.map((c) => c.id), total - 1)).toBe('too-large');

    // An absent id in the second group is named; a malformed one is refused before any file opens.
    const absent = 'e'.repeat(64);
    const missing = await store.getMany([...chunks.slice(0, 9).map((c) => c.id), absent], total).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(RecoveryError);
    expect((missing as RecoveryError).code).toBe('store.not-found');
    expect((missing as RecoveryError).message).toContain(absent);
    expect(await codeOf(() => store.getMany([chunks[0]!.id, '../../etc/passwd'], total))).toBe('store.invalid-id');
  });

  it('keeps the first blob of an id: a second put returns what is stored', async () => {
    const store = await LocalFolderStore.open(dir.path);
    const first = codec.encode(block(9));
    const second = codec.encode(block(9)); // same id, other nonce
    expect(second.id).toBe(first.id);
    expect(second.storedHash).not.toBe(first.storedHash);
    await store.put(first.id, first.blob);
    expect(await store.put(second.id, second.blob)).toEqual({ id: first.id, storedLength: first.storedLength, storedHash: first.storedHash });
    expect(Buffer.from(await store.get(first.id)).equals(Buffer.from(first.blob))).toBe(true);
  });

  it('lets concurrent puts of one id agree on a single stored blob', async () => {
    let reachedCommit = 0;
    const store = await LocalFolderStore.open(dir.path, { beforeCommit: () => void reachedCommit++ });
    const candidates = Array.from({ length: 8 }, () => codec.encode(block(5, 256 * 1024)));
    const stats = await Promise.all(candidates.map((c) => store.put(c.id, c.blob)));
    // All of them raced to the commit step, so the losers met an existing name there.
    expect(reachedCommit).toBe(8);
    const stored = await store.stat(candidates[0]!.id);
    expect(stored).toBeDefined();
    for (const s of stats) expect(s).toEqual(stored);
    // Exactly one writer's blob is the one on disk; every other writer was told about it.
    expect(candidates.filter((c) => c.storedHash === stored!.storedHash)).toHaveLength(1);
    expect(await listAll(store)).toEqual([candidates[0]!.id]);
    expect(await readdir(join(dir.path, 'tmp'))).toEqual([]);
  });

  it('never lists or serves the temp file of a writer killed before it committed', async () => {
    const store = await LocalFolderStore.open(dir.path);
    const c = codec.encode(block(7, 512 * 1024));
    const blobFile = join(dir.path, 'blob.bin');
    await writeFile(blobFile, c.blob);
    // A separate process runs our put and is SIGKILLed between "temp file durable" and "commit".
    const script = `
      const { readFile } = await import('node:fs/promises');
      const { LocalFolderStore } = await import(process.env.STORE_MODULE);
      const store = await LocalFolderStore.open(process.env.STORE_ROOT, { beforeCommit: () => process.kill(process.pid, 'SIGKILL') });
      await store.put(process.env.CHUNK_ID, new Uint8Array(await readFile(process.env.BLOB_FILE)));
      console.log('committed');`;
    const child = await new Promise<{ signal: string | null; stdout: string }>((resolve) => {
      execFile(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        env: { ...process.env, STORE_MODULE: storeModule, STORE_ROOT: dir.path, CHUNK_ID: c.id, BLOB_FILE: blobFile },
      }, (error, stdout) => resolve({ signal: error?.signal ?? null, stdout }));
    });
    expect(child.signal).toBe('SIGKILL');
    expect(child.stdout).not.toContain('committed');

    const debris = await readdir(join(dir.path, 'tmp'));
    expect(debris).toHaveLength(1);
    expect(debris[0]!.startsWith(c.id)).toBe(true);
    expect(Buffer.from(await readFile(join(dir.path, 'tmp', debris[0]!))).equals(Buffer.from(c.blob))).toBe(true);

    expect(await listAll(store)).toEqual([]);
    expect(await store.has([c.id])).toEqual(new Set());
    expect(await store.stat(c.id)).toBeUndefined();
    expect(await codeOf(() => store.get(c.id))).toBe('store.not-found');

    // The retry succeeds, and sweeping removes only the debris.
    expect((await store.put(c.id, c.blob)).storedHash).toBe(c.storedHash);
    expect(await store.sweepTemp(60_000)).toBe(0); // too young to sweep
    expect(await store.sweepTemp(0, Date.now() + 1000)).toBe(1);
    expect(await readdir(join(dir.path, 'tmp'))).toEqual([]);
    expect(await listAll(store)).toEqual([c.id]);
  });

  it('ignores stray files and misplaced ids when listing', async () => {
    const store = await LocalFolderStore.open(dir.path);
    const c = codec.encode(block(3));
    await store.put(c.id, c.blob);
    const other = codec.encode(block(4));
    await mkdir(join(dir.path, 'chunks', 'zz'), { recursive: true });
    await writeFile(join(dir.path, 'chunks', c.id.slice(0, 2), c.id.slice(2, 4), 'notes.txt'), 'x');
    // An id filed under the wrong fan-out folder is not a committed blob of this store.
    const wrong = other.id.slice(0, 2) === '00' ? '01' : '00';
    await mkdir(join(dir.path, 'chunks', wrong, '00'), { recursive: true });
    await writeFile(join(dir.path, 'chunks', wrong, '00', other.id), other.blob);
    expect(await listAll(store)).toEqual([c.id]);
  });

  it('refuses bad ids and non-blobs before touching the disk', async () => {
    const store = await LocalFolderStore.open(dir.path);
    const c = codec.encode(block(1));
    for (const id of ['../../etc/passwd', 'A'.repeat(64), 'a'.repeat(63), '']) {
      expect(await codeOf(() => store.put(id, c.blob))).toBe('store.invalid-id');
      expect(await codeOf(() => store.get(id))).toBe('store.invalid-id');
      expect(await codeOf(() => store.has([id]))).toBe('store.invalid-id');
      expect(await codeOf(() => store.delete(id))).toBe('store.invalid-id');
    }
    expect(await codeOf(() => store.put(c.id, new TextEncoder().encode('hello, not a chunk')))).toBe('chunk.corrupt');
    expect(await codeOf(() => store.put(c.id, c.blob.subarray(0, 40)))).toBe('chunk.truncated');
    expect(await listAll(store)).toEqual([]);
    expect(await readdir(join(dir.path, 'tmp'))).toEqual([]);
  });
});
