/**
 * ChunkStore over a local folder (see README.md beside this file):
 *
 *   <root>/chunks/ab/cd/abcd…(64 hex)    committed blobs, fanned out by the id's first two bytes
 *   <root>/tmp/<id>.<random>.tmp          blobs being written; never listed, never served
 *
 * put, in this order: 1) write the temp file, 2) fsync it, 3) hard-link it to its final name, which
 * fails if that name exists (create-if-absent without a lock), 4) fsync the fan-out directory,
 * 5) remove the temp name. A crash before 3 leaves only a temp file; after 3 the blob is complete.
 */
import { createHash, randomBytes } from 'node:crypto';
import { link, mkdir, open, readFile, readdir, rename, rm, stat, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { MAX_CHUNK_OVERHEAD, MAX_CHUNK_PLAINTEXT, isChunkId, parseChunkBlob } from '../../core/backup/chunk-format.ts';
import { backupError } from '../../core/backup/errors.ts';
import { isRecoveryError } from '../../core/errors.ts';
import type { ChunkStat, ChunkStore, StoredBlobs } from '../../ports/chunk-store.ts';

export interface LocalFolderStoreOptions {
  /** Fault-injection seam for tests: runs after the temp file is durable, before it is committed. */
  readonly beforeCommit?: (tempPath: string) => Promise<void> | void;
}

const FAN_OUT = /^[0-9a-f]{2}$/;
const RETRYABLE = new Set(['EAGAIN', 'EBUSY', 'EMFILE', 'ENFILE', 'ETIMEDOUT']);
const HAS_CONCURRENCY = 32;
const GET_MANY_PARALLEL = 8;

export class LocalFolderStore implements ChunkStore {
  private constructor(
    readonly root: string,
    private readonly options: LocalFolderStoreOptions,
  ) {}

  /** Opens (creating if needed) a store rooted at `root`. */
  static async open(root: string, options: LocalFolderStoreOptions = {}): Promise<LocalFolderStore> {
    const store = new LocalFolderStore(root, options);
    await io('open', root, async () => {
      await mkdir(join(root, 'chunks'), { recursive: true });
      await mkdir(join(root, 'tmp'), { recursive: true });
    });
    return store;
  }

  async has(ids: readonly string[]): Promise<Set<string>> {
    ids.forEach(checkId);
    const found = new Set<string>();
    for (let i = 0; i < ids.length; i += HAS_CONCURRENCY) {
      await Promise.all(ids.slice(i, i + HAS_CONCURRENCY).map(async (id) => {
        if ((await this.size(id)) !== undefined) found.add(id);
      }));
    }
    return found;
  }

  async put(id: string, blob: Uint8Array): Promise<ChunkStat> {
    checkId(id);
    if (blob.length > MAX_CHUNK_PLAINTEXT + MAX_CHUNK_OVERHEAD) {
      throw backupError('chunk.too-large', `chunk ${id}: ${blob.length} bytes is more than a chunk blob may be`, { id, length: blob.length });
    }
    parseChunkBlob(blob); // refuse bytes that are not a chunk blob at all, before they take up space
    const existing = await this.stat(id);
    if (existing !== undefined) return existing;

    const dir = this.dirOf(id);
    const finalPath = join(dir, id);
    const tempPath = join(this.root, 'tmp', `${id}.${randomBytes(8).toString('hex')}.tmp`);
    try {
      await io('write', tempPath, async () => {
        await this.makeFanOutDir(id);
        const handle = await open(tempPath, 'wx');
        try {
          await handle.writeFile(blob);
          await handle.sync();
        } finally {
          await handle.close();
        }
      });
      await this.options.beforeCommit?.(tempPath);
      const committed = await io('commit', finalPath, () => commitNoReplace(tempPath, finalPath));
      await io('sync', dir, () => fsyncDir(dir));
      if (committed) return { id, storedLength: blob.length, storedHash: sha256(blob) };
    } finally {
      await rm(tempPath, { force: true });
    }
    // Another writer committed this id first: report what is stored, not what we brought.
    const winner = await this.stat(id);
    if (winner === undefined) throw backupError('store.io', `chunk ${id} vanished right after it was stored`, { id }, { retryable: true });
    return winner;
  }

  async get(id: string): Promise<Uint8Array> {
    checkId(id);
    const bytes = await io('read', id, async () => {
      try {
        return await readFile(join(this.dirOf(id), id));
      } catch (e) {
        if (errnoOf(e) === 'ENOENT') return undefined;
        throw e;
      }
    });
    if (bytes === undefined) throw backupError('store.not-found', `chunk ${id} is not in the store`, { id });
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  async getMany(ids: readonly string[], maxBytes: number): Promise<StoredBlobs | 'too-large'> {
    ids.forEach(checkId);
    const files: (FileHandle | undefined)[] = [];
    try {
      // Open and size every file first (GET_MANY_PARALLEL at a time, so the thread pool overlaps
      // them): the total decides the one buffer, and an oversized request reads nothing.
      const lengths: number[] = [];
      for (let at = 0; at < ids.length; at += GET_MANY_PARALLEL) {
        const group = ids.slice(at, at + GET_MANY_PARALLEL);
        // allSettled: every handle opened is kept in `files`, so the finally closes all of them.
        const opened = await Promise.allSettled(group.map((id) => this.openSized(id)));
        opened.forEach((o, i) => {
          if (o.status === 'fulfilled' && o.value !== undefined) [files[at + i], lengths[at + i]] = [o.value.file, o.value.size];
        });
        const failed = opened.find((o) => o.status === 'rejected');
        if (failed !== undefined) throw failed.reason;
        const absent = group.findIndex((_, i) => files[at + i] === undefined);
        if (absent >= 0) throw backupError('store.not-found', `chunk ${group[absent]} is not in the store`, { id: group[absent] });
      }
      let total = 0;
      const starts = lengths.map((length) => (total += length) - length);
      if (total > maxBytes) return 'too-large';
      const bytes = Buffer.allocUnsafe(total);
      for (let at = 0; at < ids.length; at += GET_MANY_PARALLEL) {
        await Promise.all(ids.slice(at, at + GET_MANY_PARALLEL).map(async (id, i) => {
          const index = at + i;
          const got = await io('read', id, () => readFully(files[index]!, bytes, starts[index]!, lengths[index]!));
          // A blob is never rewritten in place (put links a complete temp file), so a short read
          // means the file was cut under us: a store fault, not a short chunk.
          if (got !== lengths[index]) throw backupError('store.io', `chunk ${id} changed while it was read`, { id }, { retryable: true });
        }));
      }
      return { bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), lengths };
    } finally {
      await Promise.all(files.map((f) => f?.close().catch(() => undefined)));
    }
  }

  async stat(id: string): Promise<ChunkStat | undefined> {
    checkId(id);
    try {
      const bytes = await this.get(id);
      return { id, storedLength: bytes.length, storedHash: sha256(bytes) };
    } catch (e) {
      if (isRecoveryError(e) && e.code === 'store.not-found') return undefined;
      throw e;
    }
  }

  async delete(id: string): Promise<boolean> {
    checkId(id);
    const dir = this.dirOf(id);
    return io('delete', id, async () => {
      try {
        await unlink(join(dir, id));
      } catch (e) {
        if (errnoOf(e) === 'ENOENT') return false;
        throw e;
      }
      await fsyncDir(dir);
      return true;
    });
  }

  async *list(): AsyncIterable<string> {
    const chunks = join(this.root, 'chunks');
    for (const a of await listNames(chunks)) {
      if (!FAN_OUT.test(a)) continue;
      for (const b of await listNames(join(chunks, a))) {
        if (!FAN_OUT.test(b)) continue;
        for (const name of await listNames(join(chunks, a, b))) {
          if (isChunkId(name) && name.startsWith(a + b)) yield name;
        }
      }
    }
  }

  /** Removes temp files older than `olderThanMs` (debris of crashed writers); returns how many. */
  async sweepTemp(olderThanMs: number, nowMs: number = Date.now()): Promise<number> {
    const tmp = join(this.root, 'tmp');
    let removed = 0;
    for (const name of await listNames(tmp)) {
      const path = join(tmp, name);
      const info = await stat(path).catch(() => undefined);
      if (info !== undefined && info.isFile() && nowMs - info.mtimeMs > olderThanMs) {
        await rm(path, { force: true });
        removed++;
      }
    }
    return removed;
  }

  /** mkdir -p of chunks/ab/cd; when it created directories, their parents' entries are made durable too. */
  private async makeFanOutDir(id: string): Promise<void> {
    const chunks = join(this.root, 'chunks');
    const outer = join(chunks, id.slice(0, 2));
    if ((await mkdir(this.dirOf(id), { recursive: true })) !== undefined) {
      await fsyncDir(outer);
      await fsyncDir(chunks);
    }
  }

  private dirOf(id: string): string {
    return join(this.root, 'chunks', id.slice(0, 2), id.slice(2, 4));
  }

  /** The blob's open file and its length; undefined when absent. */
  private async openSized(id: string): Promise<{ file: FileHandle; size: number } | undefined> {
    return io('read', id, async () => {
      let file: FileHandle;
      try {
        file = await open(join(this.dirOf(id), id), 'r');
      } catch (e) {
        if (errnoOf(e) === 'ENOENT') return undefined;
        throw e;
      }
      try {
        return { file, size: (await file.stat()).size };
      } catch (e) {
        await file.close().catch(() => undefined);
        throw e;
      }
    });
  }

  private async size(id: string): Promise<number | undefined> {
    return io('stat', id, async () => {
      try {
        const info = await stat(join(this.dirOf(id), id));
        return info.size;
      } catch (e) {
        if (errnoOf(e) === 'ENOENT') return undefined;
        throw e;
      }
    });
  }
}

/** True when `tempPath` became `finalPath`; false when `finalPath` already existed (it is kept). */
async function commitNoReplace(tempPath: string, finalPath: string): Promise<boolean> {
  try {
    await link(tempPath, finalPath);
    return true;
  } catch (e) {
    const code = errnoOf(e);
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS') throw e;
  }
  // No hard links on this filesystem (FAT, some shares): rename, which can replace a blob a
  // concurrent writer committed a moment earlier. Both blobs are complete; see README.md.
  if ((await stat(finalPath).catch(() => undefined)) !== undefined) return false;
  await rename(tempPath, finalPath);
  return true;
}

/** Makes a directory's entries durable. Windows cannot open directories; NTFS journals them. */
async function fsyncDir(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Reads `length` bytes from the file's start into `into` at `at`; fewer only at end of file. */
async function readFully(file: FileHandle, into: Uint8Array, at: number, length: number): Promise<number> {
  let got = 0;
  while (got < length) {
    const { bytesRead } = await file.read(into, at + got, length - got, got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return got;
}

async function listNames(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (e) {
    if (errnoOf(e) === 'ENOENT' || errnoOf(e) === 'ENOTDIR') return [];
    throw backupError('store.io', `cannot list ${dir}: ${String(e)}`, {}, { cause: e, retryable: RETRYABLE.has(errnoOf(e) ?? '') });
  }
}

async function io<T>(what: string, where: string, action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (e) {
    if (isRecoveryError(e)) throw e;
    const code = errnoOf(e);
    throw backupError('store.io', `chunk store ${what} failed for ${where}: ${e instanceof Error ? e.message : String(e)}`, { errno: code }, { cause: e, retryable: RETRYABLE.has(code ?? '') });
  }
}

function checkId(id: string): void {
  if (!isChunkId(id)) throw backupError('store.invalid-id', `"${id.slice(0, 80)}" is not a chunk id (64 lower-case hex digits)`, { id: id.slice(0, 80) });
}

function errnoOf(e: unknown): string | undefined {
  return e instanceof Error && 'code' in e && typeof e.code === 'string' ? e.code : undefined;
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
