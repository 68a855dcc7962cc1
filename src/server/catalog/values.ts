/** Checks on values crossing into SQL, and the catalog's error constructors. */
import { RecoveryError } from '../../core/errors.ts';
import { SQLSTATE, sqlState } from './sql-database.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Chunk hashes: lower-case hex, 128 to 512 bits. */
const HASH = /^(?:[0-9a-f]{2}){16,64}$/;

export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID.test(value);
}

export function notFound(what: string, id: unknown): RecoveryError {
  return new RecoveryError('catalog.not-found', `No ${what} ${String(id)} in this tenant`, { data: { what, id } });
}

export function invalid(message: string, data: Record<string, unknown> = {}): RecoveryError {
  return new RecoveryError('catalog.invalid', message, { data });
}

/** `id` itself, or `catalog.not-found` when it cannot be an id (PostgreSQL would reject it). */
export function requireId(id: string, what: string): string {
  if (!isUuid(id)) throw notFound(what, id);
  return id;
}

export function requireHash(hash: string): string {
  if (!HASH.test(hash)) throw invalid(`Not a chunk hash (lower-case hex, 32–128 digits): ${hash}`, { hash });
  return hash;
}

export function requireHashes(hashes: readonly string[]): string[] {
  return [...new Set(hashes.map(requireHash))];
}

export function requireText(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.trim() === '') throw invalid(`${field} must be a non-empty string`, { field });
  return value;
}

export function requireObject(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(`${field} must be a JSON object`, { field });
  return value as Record<string, unknown>;
}

/** JSON text for a `$n::jsonb` parameter. */
export function json(value: unknown): string {
  return JSON.stringify(value);
}

/** Runs `work`, turning the database's constraint errors into catalog errors. */
export async function mapConstraintErrors<T>(work: Promise<T>, on: { conflict?: string; missing?: string }): Promise<T> {
  try {
    return await work;
  } catch (e) {
    const state = sqlState(e);
    if (state === SQLSTATE.uniqueViolation && on.conflict !== undefined) {
      throw new RecoveryError('catalog.conflict', on.conflict, { cause: e });
    }
    if (state === SQLSTATE.foreignKeyViolation && on.missing !== undefined) {
      throw new RecoveryError('catalog.not-found', on.missing, { cause: e });
    }
    throw e;
  }
}
