/**
 * Error codes of the backup data path (chunk blobs, keys, manifests, chunk stores, rate limits).
 * Codes are stable: the TUI, the server protocol and the docs key on them.
 */
import { RecoveryError } from '../errors.ts';

export type BackupErrorCode =
  /** The blob ends before its header says it should. */
  | 'chunk.truncated'
  /** Bad magic, impossible lengths, unknown flags, trailing bytes, a payload that does not decode. */
  | 'chunk.corrupt'
  /** A blob written by a newer format version. */
  | 'chunk.unsupported-version'
  /** The stored bytes or the decoded plaintext do not hash to what the manifest recorded. */
  | 'chunk.hash-mismatch'
  /** Plaintext larger than one chunk may be. */
  | 'chunk.too-large'
  /** The chunk is encrypted with another data key than the one given. */
  | 'crypto.wrong-key'
  /** The chunk is encrypted but no data key was given. */
  | 'crypto.key-required'
  /** The passphrase does not unwrap the backup set's data key. */
  | 'crypto.wrong-passphrase'
  /** A wrapped-key record or key that is malformed or uses parameters we refuse. */
  | 'crypto.invalid-key'
  /** A manifest that fails validation; data.path names the field. */
  | 'manifest.invalid'
  /** A manifest written by a newer format version; data.path is "formatVersion". */
  | 'manifest.unsupported-version'
  | 'store.not-found'
  | 'store.invalid-id'
  /** An I/O failure of the chunk store's backend (disk, object store). */
  | 'store.io'
  /** A rate text or time window that does not parse. */
  | 'rate.invalid';

export function backupError(
  code: BackupErrorCode,
  message: string,
  data: Record<string, unknown> = {},
  options: { cause?: unknown; retryable?: boolean } = {},
): RecoveryError {
  return new RecoveryError(code, message, { data, ...options });
}
