/**
 * Key handling of the backup data path, with Node crypto.
 *
 * - data key: 256 random bits per backup set; encrypts chunks (AES-256-GCM). Stored only wrapped:
 *   AES-256-GCM under a key derived from the set's passphrase with scrypt (N, r, p, salt stored).
 * - tenant chunk key: 256 random bits per tenant; keys chunk ids. The server keeps it sealed under
 *   its own master key (sealKey) and hands it to the tenant's agents over TLS.
 * - chunk-id key: what the codec actually uses, HMAC-SHA-256(tenant chunk key, label ‖ data key).
 *   Mixing in the data key gives every encrypted set its own id space, so a chunk is never skipped
 *   as "already stored" when the stored copy is encrypted under another set's key, and a server that
 *   knows the tenant key still cannot compute ids of encrypted data to confirm a guessed file.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes, scrypt } from 'node:crypto';
import { bytesToHex, hexToBytes } from '../../core/backup/chunk-format.ts';
import { backupError } from '../../core/backup/errors.ts';
import { SCRYPT_LIMITS, checkScryptParams, checkSealedKey, type SealedKey, type WrappedKey } from '../../core/backup/manifest.ts';

export const KEY_BYTES = 32;

export interface ScryptParams {
  readonly n: number;
  readonly r: number;
  readonly p: number;
}

/** 32 MiB of memory and roughly 0.1 s here: cheap once per backup or restore, costly per guess. */
export const DEFAULT_SCRYPT: ScryptParams = { n: 2 ** 15, r: 8, p: 1 };

const SALT_BYTES = 16;
const NONCE_BYTES = 12;

export function generateKey(): Uint8Array {
  return new Uint8Array(randomBytes(KEY_BYTES));
}

/** Wraps a backup set's data key under a passphrase. */
export async function wrapDataKey(dataKey: Uint8Array, passphrase: string, params: ScryptParams = DEFAULT_SCRYPT): Promise<WrappedKey> {
  requireKey(dataKey, 'data key');
  const salt = bytesToHex(randomBytes(SALT_BYTES));
  const kdf = { kdf: 'scrypt' as const, n: params.n, r: params.r, p: params.p, salt };
  const problem = checkScryptParams(kdf);
  if (problem !== undefined) throw backupError('crypto.invalid-key', `refusing scrypt parameters: ${problem}`, { ...params });
  const kek = await deriveKek(passphrase, kdf);
  const sealed = seal(dataKey, kek, wrapAad(kdf));
  return { ...kdf, ...sealed };
}

/** Unwraps a data key; a wrong passphrase is crypto.wrong-passphrase. */
export async function unwrapDataKey(wrapped: WrappedKey, passphrase: string): Promise<Uint8Array> {
  const problem = checkScryptParams(wrapped);
  if (problem !== undefined) throw backupError('crypto.invalid-key', `the wrapped key's scrypt parameters are refused: ${problem}`);
  const kek = await deriveKek(passphrase, wrapped);
  const key = open(wrapped, kek, wrapAad(wrapped));
  if (key === undefined) {
    throw backupError('crypto.wrong-passphrase', 'The passphrase is wrong: it does not unlock this backup set\'s encryption key.');
  }
  return key;
}

/** Seals a secret (a tenant chunk key) under a raw 256-bit key; `purpose` is bound as additional data. */
export function sealKey(secret: Uint8Array, kek: Uint8Array, purpose: string): SealedKey {
  requireKey(secret, 'secret');
  requireKey(kek, 'key-encryption key');
  return seal(secret, kek, Buffer.from(`lifeline key-seal v1|${purpose}`, 'utf8'));
}

export function unsealKey(sealed: SealedKey, kek: Uint8Array, purpose: string): Uint8Array {
  requireKey(kek, 'key-encryption key');
  const key = open(sealed, kek, Buffer.from(`lifeline key-seal v1|${purpose}`, 'utf8'));
  if (key === undefined) throw backupError('crypto.wrong-key', `the sealed ${purpose} does not open with this key`);
  return key;
}

/** The chunk-id key of a backup set: per tenant, and per data key when the set is encrypted. */
export function deriveChunkIdKey(tenantChunkKey: Uint8Array, dataKey?: Uint8Array): Uint8Array {
  requireKey(tenantChunkKey, 'tenant chunk key');
  const mac = createHmac('sha256', tenantChunkKey).update('lifeline chunk-id v1');
  if (dataKey !== undefined) {
    requireKey(dataKey, 'data key');
    mac.update(dataKey);
  }
  return new Uint8Array(mac.digest());
}

function requireKey(key: Uint8Array, what: string): void {
  if (key.length !== KEY_BYTES) throw backupError('crypto.invalid-key', `${what} must be ${KEY_BYTES} bytes, got ${key.length}`);
}

function deriveKek(passphrase: string, kdf: Pick<WrappedKey, 'n' | 'r' | 'p' | 'salt'>): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(passphrase.normalize('NFC'), hexToBytes(kdf.salt), KEY_BYTES, { N: kdf.n, r: kdf.r, p: kdf.p, maxmem: SCRYPT_LIMITS.maxMemoryBytes + 1024 * 1024 }, (err, key) =>
      err ? reject(backupError('crypto.invalid-key', `scrypt failed: ${err.message}`, {}, { cause: err })) : resolve(key),
    );
  });
}

/** The KDF parameters are bound as additional data: editing them breaks the unwrap instead of weakening it. */
function wrapAad(kdf: Pick<WrappedKey, 'n' | 'r' | 'p' | 'salt'>): Buffer {
  return Buffer.from(`lifeline key-wrap v1|scrypt|${kdf.n}|${kdf.r}|${kdf.p}|${kdf.salt}`, 'utf8');
}

function seal(secret: Uint8Array, kek: Uint8Array, aad: Uint8Array): SealedKey {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', kek, nonce, { authTagLength: 16 });
  cipher.setAAD(aad);
  const ciphertext = Buffer.concat([cipher.update(secret), cipher.final()]);
  return { cipher: 'aes-256-gcm', nonce: bytesToHex(nonce), ciphertext: bytesToHex(ciphertext), tag: bytesToHex(cipher.getAuthTag()) };
}

/** Undefined when authentication fails. */
function open(sealed: SealedKey, kek: Uint8Array, aad: Uint8Array): Uint8Array | undefined {
  const problem = checkSealedKey(sealed);
  if (problem !== undefined) throw backupError('crypto.invalid-key', `sealed key record is malformed: ${problem}`);
  const nonce = hexToBytes(sealed.nonce);
  const tag = hexToBytes(sealed.tag);
  const decipher = createDecipheriv('aes-256-gcm', kek, nonce, { authTagLength: 16 });
  decipher.setAAD(aad);
  decipher.setAuthTag(tag);
  try {
    return new Uint8Array(Buffer.concat([decipher.update(hexToBytes(sealed.ciphertext)), decipher.final()]));
  } catch {
    return undefined;
  }
}
