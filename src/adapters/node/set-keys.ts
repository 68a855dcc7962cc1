/** SetKeys over node:crypto (scrypt + AES-256-GCM) and the lz4 chunk codec. */
import type { WrappedKey } from '../../core/backup/manifest.ts';
import { RecoveryError } from '../../core/errors.ts';
import type { ChunkCodec, ChunkCompression } from '../../ports/chunk-codec.ts';
import type { SetKeys } from '../../ports/set-keys.ts';
import { createNodeChunkCodec } from './chunk-codec.ts';
import { deriveChunkIdKey, generateKey, unwrapDataKey, wrapDataKey } from './key-wrap.ts';

export class NodeSetKeys implements SetKeys {
  generateDataKey(): Uint8Array {
    return generateKey();
  }

  wrapDataKey(dataKey: Uint8Array, passphrase: string): Promise<WrappedKey> {
    return wrapDataKey(dataKey, passphrase);
  }

  unwrapDataKey(wrapped: WrappedKey, passphrase: string): Promise<Uint8Array> {
    return unwrapDataKey(wrapped, passphrase);
  }

  codecFor(options: { tenantChunkKey: string; dataKey?: Uint8Array; compression: ChunkCompression }): ChunkCodec {
    if (!/^[0-9a-f]{64}$/.test(options.tenantChunkKey)) {
      throw new RecoveryError('crypto.bad-tenant-key', 'the server sent a tenant chunk key that is not 64 hex digits');
    }
    const tenantKey = Uint8Array.from(Buffer.from(options.tenantChunkKey, 'hex'));
    return createNodeChunkCodec({
      chunkIdKey: deriveChunkIdKey(tenantKey, options.dataKey),
      compression: options.compression,
      ...(options.dataKey ? { dataKey: options.dataKey } : {}),
    });
  }
}
