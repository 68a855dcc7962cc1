/**
 * Fetches one chunk and turns it into verified plaintext. The codec checks the stored bytes'
 * SHA-256 against the manifest BEFORE decrypting or decompressing, and the id after; nothing that
 * failed a check is returned. A stored-hash mismatch is fetched once more (a proxy or a flaky link
 * may have damaged it in transit); a second mismatch is the server's copy and fails with
 * `chunk.hash-mismatch`.
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
    private readonly server: Pick<BackupServer, 'getChunk'>,
    private readonly codec: ChunkCodec,
    private readonly retry: RetryPolicy,
    private readonly transfer?: RateLimiter,
  ) {}

  /** The verified plaintext, and the stored bytes received for it (counting a second fetch). */
  async plaintext(ref: ChunkRefLike): Promise<{ readonly bytes: Uint8Array; readonly received: number }> {
    let received = 0;
    for (let attempt = 1; ; attempt++) {
      await this.transfer?.take(ref.storedLength);
      const blob = await withRetry(`fetching chunk ${ref.chunkId}`, () => this.server.getChunk(ref.chunkId), this.retry);
      received += blob.length;
      try {
        return { bytes: this.codec.decode(blob, { id: ref.chunkId, storedHash: ref.storedHash }), received };
      } catch (e) {
        const inTransit = isRecoveryError(e) && e.code === 'chunk.hash-mismatch' && e.data.stage === 'stored';
        if (!inTransit || attempt >= 2) throw e;
      }
    }
  }
}
