/**
 * Every failure becomes an answer with a stable code (docs/protocol.md "Errors"). Errors of the
 * catalog and the chunk store keep their own code in `data.reason` and travel under the protocol's
 * code, so clients key on one table.
 */
import { RecoveryError, isRecoveryError } from '../../core/errors.ts';

export interface ErrorReply {
  readonly status: number;
  readonly body: { readonly error: { readonly code: string; readonly message: string; readonly data: Readonly<Record<string, unknown>>; readonly retryable?: true } };
  readonly headers: Readonly<Record<string, string>>;
}

/** Protocol codes and their HTTP status. */
const STATUS: Readonly<Record<string, number>> = {
  'request.malformed': 400,
  'request.bad-parameter': 400,
  'auth.missing': 401,
  'auth.bad-access-key': 401,
  'auth.bad-token': 401,
  'auth.forbidden': 403,
  'agent.not-bound': 403,
  'not-found': 404,
  'request.method-not-allowed': 405,
  'request.timeout': 408,
  conflict: 409,
  'request.length-required': 411,
  'request.too-large': 413,
  'request.unsupported-media-type': 415,
  'request.headers-too-large': 431,
  'chunk.hash-mismatch': 422,
  'chunk.invalid': 422,
  'manifest.invalid': 422,
  'manifest.missing-chunks': 422,
  'server.busy': 429,
  'server.internal': 500,
  'store.io': 503,
};

/** Codes of the layers below → protocol code. */
const TRANSLATED: Readonly<Record<string, string>> = {
  'catalog.not-found': 'not-found',
  'store.not-found': 'not-found',
  'catalog.invalid': 'request.malformed',
  'schedule.invalid': 'request.malformed',
  'crypto.invalid-key': 'request.malformed',
  'store.invalid-id': 'request.bad-parameter',
  'catalog.conflict': 'conflict',
  'catalog.job-busy': 'conflict',
  'catalog.job-disabled': 'conflict',
  'catalog.run-not-active': 'conflict',
  'catalog.point-not-uploading': 'conflict',
  'catalog.point-not-committed': 'conflict',
  'catalog.point-in-use': 'conflict',
  'catalog.agent-unbound': 'conflict',
  'catalog.missing-chunks': 'manifest.missing-chunks',
  'catalog.chunk-deleting': 'server.busy',
  'catalog.chunk-not-reserved': 'server.busy',
  'chunk.truncated': 'chunk.invalid',
  'chunk.corrupt': 'chunk.invalid',
  'chunk.unsupported-version': 'chunk.invalid',
  'chunk.too-large': 'chunk.invalid',
  'manifest.unsupported-version': 'manifest.invalid',
};

const RETRYABLE = new Set(['server.busy', 'store.io', 'server.internal']);

export function errorReply(e: unknown, log: (line: string) => void): ErrorReply {
  if (!isRecoveryError(e) || (STATUS[e.code] === undefined && TRANSLATED[e.code] === undefined)) {
    log(`internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    return reply('server.internal', 'the server failed on this request; it is logged', {});
  }
  const translated = TRANSLATED[e.code];
  const data: Record<string, unknown> = { ...e.data };
  if (translated !== undefined) data['reason'] = e.code;
  return reply(translated ?? e.code, e.message, data, e.retryable);
}

function reply(code: string, message: string, data: Record<string, unknown>, retryable = false): ErrorReply {
  const status = STATUS[code] ?? 500;
  const isRetryable = retryable || RETRYABLE.has(code);
  const headers: Record<string, string> = code === 'server.busy' ? { 'retry-after': '1' } : {};
  return { status, headers, body: { error: { code, message, data: jsonSafe(data), ...(isRetryable ? { retryable: true as const } : {}) } } };
}

/** Error data may hold bigints or causes; keep what JSON can carry. */
function jsonSafe(data: Record<string, unknown>): Record<string, unknown> {
  try {
    return JSON.parse(JSON.stringify(data, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))) as Record<string, unknown>;
  } catch {
    return {};
  }
}

/** Shorthands for the HTTP layer's own refusals. */
export const refuse = {
  malformed: (message: string, data: Record<string, unknown> = {}) => new RecoveryError('request.malformed', message, { data }),
  badParameter: (message: string, data: Record<string, unknown> = {}) => new RecoveryError('request.bad-parameter', message, { data }),
  notFound: (what: string, id: string) => new RecoveryError('not-found', `no ${what} ${id}`, { data: { what, id } }),
  forbidden: (message: string, data: Record<string, unknown> = {}) => new RecoveryError('auth.forbidden', message, { data }),
  conflict: (message: string, data: Record<string, unknown> = {}) => new RecoveryError('conflict', message, { data }),
};
