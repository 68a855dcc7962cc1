/**
 * Fetches one chunk and turns it into verified plaintext. The codec checks the stored bytes'
 * SHA-256 against the manifest BEFORE decrypting or decompressing, and the id after; nothing that
 * failed a check is returned. A stored-hash mismatch is fetched once more (a proxy or a flaky link
 * may have damaged it in transit); a second mismatch is the server's copy and fails with
 * `chunk.hash-mismatch`. `plaintexts` fetches several chunks in one request (the server's per-request
 * costs dominate at small block sizes) with the same checks per chunk.
 */
import { isRecoveryError } from '../../core/errors.ts';
import type { BackupServer } from '../../ports/backup-server.ts';
import type { ChunkCodec } from '../../ports/chunk-codec.ts';
import type { RateLimiter } from './rate-limiter.ts';
import { withRetry } from './retry.ts';
import type { RetryPolicy } from './retry.ts';

export interface ChunkRefLike {
  readonly chunkId: string;
  readonly storedHash: string;
  readonly storedLength: number;
}

export class ChunkFetcher {
  constructor(
    private readonly server: Pick<BackupServer, 'getChunk' | 'getChunks'>,
    private readonly codec: ChunkCodec,
    private readonly retry: RetryPolicy,
    private readonly transfer?: RateLimiter,
  ) {}

  /** The verified plaintext, and the stored bytes received for it (counting a second fetch). */
  async plaintext(ref: ChunkRefLike): Promise<Plaintext> {
    await this.transfer?.take(ref.storedLength);
    const blob = await withRetry(`fetching chunk ${ref.chunkId}`, () => this.server.getChunk(ref.chunkId), this.retry);
    return this.decodeOrRefetch(ref, blob);
  }

  /** `plaintext` of each ref, in order, fetched in one request. */
  async plaintexts(refs: readonly ChunkRefLike[]): Promise<Plaintext[]> {
    if (refs.length === 1) return [await this.plaintext(refs[0]!)];
    await this.transfer?.take(refs.reduce((sum, r) => sum + r.storedLength, 0));
    const blobs = await withRetry(`fetching ${refs.length} chunks`, () => this.server.getChunks(refs.map((r) => r.chunkId)), this.retry);
    const out: Plaintext[] = [];
    for (const [i, ref] of refs.entries()) out.push(await this.decodeOrRefetch(ref, blobs[i]!));
    return out;
  }

  private async decodeOrRefetch(ref: ChunkRefLike, blob: Uint8Array): Promise<Plaintext> {
    try {
      return { bytes: this.decode(ref, blob), received: blob.length };
    } catch (e) {
      const inTransit = isRecoveryError(e) && e.code === 'chunk.hash-mismatch' && e.data.stage === 'stored';
      if (!inTransit) throw e;
    }
    await this.transfer?.take(ref.storedLength);
    const again = await withRetry(`fetching chunk ${ref.chunkId} again`, () => this.server.getChunk(ref.chunkId), this.retry);
    return { bytes: this.decode(ref, again), received: blob.length + again.length };
  }

  private decode(ref: ChunkRefLike, blob: Uint8Array): Uint8Array {
    return this.codec.decode(blob, { id: ref.chunkId, storedHash: ref.storedHash });
  }
}

export interface Plaintext {
  readonly bytes: Uint8Array;
  /** Stored bytes received for it, a second fetch included. */
  readonly received: number;
}
