/**
 * Access keys and operator tokens: 256 random bits, shown once, stored only as SHA-256.
 * A plain hash is enough here (no salt, no slow KDF): the secrets are random, not chosen by
 * people, so there is nothing to guess, and a unique index on the hash finds the owner directly.
 * The prefix says what a leaked string is (secret scanners, logs).
 */
import { createHash, randomBytes } from 'node:crypto';

export type SecretKind = 'access-key' | 'operator-token';

const PREFIX: Record<SecretKind, string> = { 'access-key': 'llk_', 'operator-token': 'llt_' };

export function newSecret(kind: SecretKind): string {
  return PREFIX[kind] + randomBytes(32).toString('base64url');
}

export function hashSecret(secret: string): Uint8Array {
  return new Uint8Array(createHash('sha256').update(secret, 'utf8').digest());
}
