/**
 * Opens (or creates) the resource's backup set and the chunk codec for it. An encrypted set's data
 * key is fixed when the set is created: a later backup must open it with the same passphrase
 * (`crypto.wrong-passphrase` otherwise, before anything is read or sent), and a set cannot change
 * between encrypted and plain.
 */
import type { ManifestEncryption, WrappedKey } from '../../core/backup/manifest.ts';
import { RecoveryError } from '../../core/errors.ts';
import type { BackupServer, BackupSetInfo } from '../../ports/backup-server.ts';
import type { ChunkCodec } from '../../ports/chunk-codec.ts';
import type { SetKeys } from '../../ports/set-keys.ts';

export interface OpenedSet {
  readonly set: BackupSetInfo;
  readonly codec: ChunkCodec;
  readonly encryption?: ManifestEncryption;
}

export interface OpenSetOptions {
  readonly resource: string;
  readonly compression: 'fast' | 'none';
  readonly blockSize: number;
  readonly passphrase?: string;
}

export async function openBackupSet(
  server: BackupServer,
  keys: SetKeys,
  options: OpenSetOptions,
  call: <T>(what: string, f: () => Promise<T>) => Promise<T>,
): Promise<OpenedSet> {
  const codecName = options.compression === 'fast' ? 'lz4' : 'none';
  const request = { resource: options.resource, codec: codecName, blockSize: options.blockSize } as const;
  if (options.passphrase === undefined) {
    const set = await call('open the backup set', () => server.openSet(request));
    if (set.wrappedKey !== undefined) {
      throw new RecoveryError('crypto.passphrase-required', `the backup set of "${options.resource}" is encrypted: give its passphrase (--passphrase-file or LIFELINE_PASSPHRASE)`, {
        data: { setId: set.setId, resource: options.resource },
      });
    }
    return { set, codec: keys.codecFor({ tenantChunkKey: set.tenantChunkKey, compression: codecName }) };
  }

  if (options.passphrase.length === 0) throw new RecoveryError('crypto.passphrase-empty', 'the passphrase is empty');
  // The server keeps the wrapped key only when it creates the set; an existing set answers with its own.
  const fresh = keys.generateDataKey();
  const wrapped = await keys.wrapDataKey(fresh, options.passphrase);
  const set = await call('open the backup set', () => server.openSet({ ...request, wrappedKey: wrapped }));
  if (set.wrappedKey === undefined) {
    throw new RecoveryError('backup.set-not-encrypted', `the backup set of "${options.resource}" was created without encryption; a set cannot become encrypted later (back up without a passphrase, or to another resource name)`, {
      data: { setId: set.setId, resource: options.resource },
    });
  }
  const dataKey = sameWrappedKey(set.wrappedKey, wrapped) ? fresh : await keys.unwrapDataKey(set.wrappedKey, options.passphrase);
  return {
    set,
    codec: keys.codecFor({ tenantChunkKey: set.tenantChunkKey, dataKey, compression: codecName }),
    encryption: { cipher: 'aes-256-gcm', dataKey: set.wrappedKey },
  };
}

function sameWrappedKey(a: WrappedKey, b: WrappedKey): boolean {
  return a.kdf === b.kdf && a.n === b.n && a.r === b.r && a.p === b.p && a.salt === b.salt
    && a.cipher === b.cipher && a.nonce === b.nonce && a.ciphertext === b.ciphertext && a.tag === b.tag;
}
