/**
 * Where a backup's non-zero blocks go: content-addressed chunks, each stored once on the server.
 *
 * `add` names a block by its chunk id and queues it; every `4 × channels` queued blocks the sink
 * asks the server which of them it already holds (see chunk-stats.ts) and uploads the rest in
 * groups, one group per channel, each group in one batched put (the server's catalog work is paid
 * per request, not per chunk), at most `channels` puts at a time, encoding a group just before its
 * put. `add` waits while the batch is being dispatched, so the reader never runs ahead: at most
 * 4 × channels queued blocks plus `channels` groups of at most 4 blobs in flight (a block's
 * plaintext is dropped once encoded) are held, (4 + 4) × channels × blockSize plus blob headers.
 * A chunk repeated within the backup is looked up or uploaded once. The first failed put stops the sink;
 * `finish` and later `add`s throw it.
 */
import type { ChunkRef } from '../../core/backup/manifest.ts';
import { MAX_CHUNK_OVERHEAD } from '../../core/backup/chunk-format.ts';
import { CHUNK_WRITE_MAX_BYTES, CHUNK_WRITE_MAX_IDS } from '../../core/protocol/schemas.ts';
import type { BackupServer, ChunkUpload } from '../../ports/backup-server.ts';
import type { ChunkCodec } from '../../ports/chunk-codec.ts';
import type { ChunkStat } from '../../ports/chunk-store.ts';
import { MAX_IDS_PER_QUERY, type ChunkStatQuery } from './chunk-stats.ts';
import type { RateLimiter } from './rate-limiter.ts';

export const BATCH_BLOCKS_PER_CHANNEL = 4;

export interface ChunkSinkOptions {
  readonly server: BackupServer;
  readonly codec: ChunkCodec;
  readonly channels: number;
  /** Absent: the server cannot report held chunks, every distinct chunk is uploaded. */
  readonly transferLimit?: RateLimiter;
  /** Runs one server call under the backup's retry policy. */
  readonly call: <T>(what: string, f: () => Promise<T>) => Promise<T>;
  /** Told whenever the counters below change. */
  readonly onChange?: () => void;
}

interface Queued {
  readonly id: string;
  readonly length: number;
  /** Dropped once encoded, so only the blob stays in memory while it is sent. */
  plaintext: Uint8Array | undefined;
}

/**
 * Splits the blocks to upload into one group per channel (so every channel has a put to make),
 * each within what one batched put may carry; a blob is at most its plaintext plus a header.
 */
export function uploadGroups<T extends { readonly length: number }>(items: readonly T[], channels: number): T[][] {
  const perGroup = Math.min(CHUNK_WRITE_MAX_IDS, Math.max(1, Math.ceil(items.length / Math.max(1, channels))));
  const groups: T[][] = [];
  let group: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const most = item.length + MAX_CHUNK_OVERHEAD;
    if (group.length > 0 && (group.length >= perGroup || bytes + most > CHUNK_WRITE_MAX_BYTES)) {
      groups.push(group);
      group = [];
      bytes = 0;
    }
    group.push(item);
    bytes += most;
  }
  if (group.length > 0) groups.push(group);
  return groups;
}

export class ChunkSink {
  bytesUploaded = 0n;
  chunksUploaded = 0;
  /** Plaintext and blob bytes held right now. */
  bufferedBytes = 0;
  /** Highest `bufferedBytes` seen. */
  peakBufferedBytes = 0;

  private readonly settled = new Map<string, ChunkStat>();
  private readonly inFlight = new Map<string, Promise<void>>();
  private batch: Queued[] = [];
  private readonly batchIds = new Set<string>();
  private readonly batchLimit: number;
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  private failure: { readonly error: unknown } | undefined;

  constructor(private readonly o: ChunkSinkOptions) {
    this.batchLimit = BATCH_BLOCKS_PER_CHANNEL * o.channels;
  }

  /** Queues a block; returns its chunk id. The stat is available from `refOf` after `finish`. */
  async add(plaintext: Uint8Array): Promise<string> {
    this.throwIfFailed();
    const id = this.o.codec.chunkId(plaintext);
    if (this.settled.has(id) || this.inFlight.has(id) || this.batchIds.has(id)) return id;
    this.batch.push({ id, length: plaintext.length, plaintext });
    this.batchIds.add(id);
    this.hold(plaintext.length);
    if (this.batch.length >= this.batchLimit) await this.dispatch();
    return id;
  }

  /** Dispatches what is queued and waits for every upload; throws the first failure. */
  async finish(): Promise<void> {
    if (!this.failure) {
      try {
        await this.dispatch();
      } catch (e) {
        this.failure ??= { error: e };
      }
    }
    await this.settle();
    this.throwIfFailed();
  }

  /** Waits for uploads already started, without starting more (after a failure elsewhere). */
  async settle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight.values()]);
  }

  refOf(id: string): ChunkRef {
    const stat = this.settled.get(id);
    if (!stat) throw new Error(`chunk ${id} has no stat: finish() first`);
    return { chunkId: id, storedHash: stat.storedHash, storedLength: stat.storedLength };
  }

  get chunkCount(): number {
    return this.settled.size;
  }

  private async dispatch(): Promise<void> {
    const items = this.batch;
    this.batch = [];
    this.batchIds.clear();
    if (items.length === 0) return;
    const held = await this.lookup(items.map((i) => i.id));
    for (const item of items) {
      const stat = held.get(item.id);
      if (stat === undefined) continue;
      this.settled.set(item.id, stat);
      this.release(item.length);
      item.plaintext = undefined;
    }
    this.o.onChange?.();
    for (const group of uploadGroups(items.filter((i) => !held.has(i.id)), this.o.channels)) {
      await this.acquireChannel();
      const upload = this.upload(group).finally(() => {
        for (const item of group) this.inFlight.delete(item.id);
        this.releaseChannel();
      });
      for (const item of group) this.inFlight.set(item.id, upload);
      // Failures are kept in `failure`; this handler only stops them being reported as unhandled.
      upload.catch(() => undefined);
    }
  }

  private async lookup(ids: readonly string[]): Promise<Map<string, ChunkStat>> {
    const held = new Map<string, ChunkStat>();
    const query: ChunkStatQuery = this.o.server;
    for (let i = 0; i < ids.length; i += MAX_IDS_PER_QUERY) {
      const slice = ids.slice(i, i + MAX_IDS_PER_QUERY);
      const wanted = new Set(slice);
      const stats = await this.o.call('ask which chunks the server holds', () => query.statChunks(slice));
      for (const s of stats) if (wanted.has(s.id)) held.set(s.id, s);
    }
    return held;
  }

  private async upload(group: readonly Queued[]): Promise<void> {
    const uploads: ChunkUpload[] = [];
    let heldBytes = group.reduce((n, i) => n + i.length, 0);
    try {
      for (const item of group) {
        const encoded = this.o.codec.encode(item.plaintext as Uint8Array);
        this.hold(encoded.blob.length);
        this.release(item.length);
        heldBytes += encoded.blob.length - item.length;
        item.plaintext = undefined;
        uploads.push({ id: item.id, blob: encoded.blob, storedHash: encoded.storedHash });
      }
      const bytes = uploads.reduce((n, u) => n + u.blob.length, 0);
      await this.o.transferLimit?.take(bytes);
      const stats = await this.o.call(uploads.length === 1 ? 'upload a chunk' : `upload ${uploads.length} chunks`, () => this.o.server.putChunks(uploads));
      for (const [i, stat] of stats.entries()) this.settled.set(uploads[i]!.id, stat);
      this.bytesUploaded += BigInt(bytes);
      this.chunksUploaded += uploads.length;
    } catch (e) {
      this.failure ??= { error: e };
      throw e;
    } finally {
      this.release(heldBytes);
      this.o.onChange?.();
    }
  }

  private async acquireChannel(): Promise<void> {
    while (this.active >= this.o.channels) {
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
    this.throwIfFailed();
    this.active++;
  }

  private releaseChannel(): void {
    this.active--;
    this.waiting.shift()?.();
  }

  private hold(bytes: number): void {
    this.bufferedBytes += bytes;
    if (this.bufferedBytes > this.peakBufferedBytes) this.peakBufferedBytes = this.bufferedBytes;
  }

  private release(bytes: number): void {
    this.bufferedBytes -= bytes;
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure.error;
  }
}
