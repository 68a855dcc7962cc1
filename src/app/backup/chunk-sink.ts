/**
 * Where a backup's non-zero blocks go: content-addressed chunks, each stored once on the server.
 *
 * `add` names a block by its chunk id and queues it; every `4 × channels` queued blocks the sink
 * asks the server which of them it already holds (see chunk-stats.ts) and
 * uploads the rest on at most `channels` concurrent puts, encoding each just before its put. `add`
 * waits while the batch is being dispatched, so the reader never runs ahead: at most 4 × channels
 * queued blocks plus `channels` blobs being sent (a block's plaintext is dropped once encoded) are
 * held, (4 + 1) × channels × blockSize plus blob headers. A chunk repeated within the backup is
 * looked up or uploaded once. The first failed put stops the sink; `finish` and later `add`s throw it.
 */
import type { ChunkRef } from '../../core/backup/manifest.ts';
import type { BackupServer } from '../../ports/backup-server.ts';
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
    for (const item of items) {
      if (held.has(item.id)) continue;
      await this.acquireChannel();
      const upload = this.upload(item).finally(() => {
        this.inFlight.delete(item.id);
        this.releaseChannel();
      });
      this.inFlight.set(item.id, upload);
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

  private async upload(item: Queued): Promise<void> {
    let heldBytes = item.length;
    try {
      const encoded = this.o.codec.encode(item.plaintext as Uint8Array);
      this.hold(encoded.blob.length);
      this.release(item.length);
      item.plaintext = undefined;
      heldBytes = encoded.blob.length;
      await this.o.transferLimit?.take(encoded.blob.length);
      const stat = await this.o.call('upload a chunk', () => this.o.server.putChunk(item.id, encoded.blob, encoded.storedHash));
      this.settled.set(item.id, stat);
      this.bytesUploaded += BigInt(encoded.blob.length);
      this.chunksUploaded++;
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
