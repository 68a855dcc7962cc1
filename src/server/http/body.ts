/**
 * Reading request bodies at the edge: the declared length is checked before a byte is read (413
 * early), the bytes read are counted against the same limit (for chunked bodies that lie), and a
 * body that ends early is a clean refusal, never a crash.
 */
import type { IncomingMessage } from 'node:http';
import { RecoveryError } from '../../core/errors.ts';
import { refuse } from './errors.ts';
import { CHUNK_READ_MAX_BYTES, CHUNK_WRITE_MAX_BYTES } from '../../core/protocol/schemas.ts';

const MIB = 1024 * 1024;

export const LIMITS = {
  json: MIB,
  manifest: 64 * MIB,
  /** 8 MiB of chunk plus 64 bytes of header (docs/protocol.md "Limits"). */
  chunk: 8 * MIB + 64,
  chunkRead: CHUNK_READ_MAX_BYTES,
  chunkWrite: CHUNK_WRITE_MAX_BYTES,
} as const;

export function tooLarge(limit: number): RecoveryError {
  return new RecoveryError('request.too-large', `the body is larger than this endpoint takes (${limit} bytes)`, { data: { limit } });
}

/** The declared Content-Length, undefined when the body is chunked. */
export function declaredLength(req: IncomingMessage): number | undefined {
  const header = req.headers['content-length'];
  if (header === undefined) return undefined;
  if (!/^\d{1,15}$/.test(header)) throw refuse.malformed('Content-Length is not a number');
  return Number(header);
}

export async function readBody(req: IncomingMessage, limit: number): Promise<Uint8Array> {
  const declared = declaredLength(req);
  if (declared !== undefined && declared > limit) throw tooLarge(limit);
  const parts: Uint8Array[] = [];
  let total = 0;
  try {
    for await (const part of req as AsyncIterable<Uint8Array>) {
      total += part.length;
      if (total > limit) throw tooLarge(limit);
      parts.push(part);
    }
  } catch (e) {
    if (e instanceof RecoveryError) throw e;
    throw new RecoveryError('request.malformed', 'the body ended before its declared length', { cause: e, data: { received: total } });
  }
  if (declared !== undefined && total !== declared) {
    throw new RecoveryError('request.malformed', 'the body ended before its declared length', { data: { received: total, declared } });
  }
  const body = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    body.set(p, at);
    at += p.length;
  }
  return body;
}

/** The parsed JSON body; an empty body is `{}` (POSTs that carry nothing). */
export async function readJson(req: IncomingMessage, limit: number = LIMITS.json): Promise<unknown> {
  const declared = declaredLength(req);
  const hasBody = (declared !== undefined && declared > 0) || req.headers['transfer-encoding'] !== undefined;
  if (hasBody && !isMediaType(req, 'application/json')) {
    throw new RecoveryError('request.unsupported-media-type', 'this endpoint takes application/json', { data: { contentType: req.headers['content-type'] ?? null } });
  }
  const bytes = await readBody(req, limit);
  if (bytes.length === 0) return {};
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) as unknown;
  } catch (e) {
    throw new RecoveryError('request.malformed', 'the body is not JSON', { cause: e, data: { path: '' } });
  }
}

export function isMediaType(req: IncomingMessage, type: string): boolean {
  const header = req.headers['content-type'];
  return header !== undefined && header.split(';')[0]?.trim().toLowerCase() === type;
}
