/**
 * Key handling for a backup set, so use cases can open codecs without importing node:crypto.
 *
 * Implementations:
 * - MUST derive the chunk-id key from the tenant key and (for encrypted sets) the data key, so ids
 *   of one encrypted set never collide with another set's (docs/backup-format.md §2);
 * - MUST fail `unwrapDataKey` with `crypto.wrong-passphrase` when the passphrase does not open the key;
 * - MUST return codecs that follow the ChunkCodec contract.
 */
import type { WrappedKey } from '../core/backup/manifest.ts';
import type { ChunkCodec, ChunkCompression } from './chunk-codec.ts';

export interface SetKeys {
  generateDataKey(): Uint8Array;
  wrapDataKey(dataKey: Uint8Array, passphrase: string): Promise<WrappedKey>;
  unwrapDataKey(wrapped: WrappedKey, passphrase: string): Promise<Uint8Array>;
  /** A codec for one set: `tenantChunkKey` hex from the server; `dataKey` for encrypted sets. */
  codecFor(options: { readonly tenantChunkKey: string; readonly dataKey?: Uint8Array; readonly compression: ChunkCompression }): ChunkCodec;
}
