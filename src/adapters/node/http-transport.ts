/**
 * The HTTP plumbing the server's clients share (agent and operator): an undici keep-alive pool,
 * certificate pinning by SHA-256 fingerprint, and the translation of answers and socket failures
 * into RecoveryErrors with stable codes (docs/protocol.md "Errors").
 */
import { TLSSocket } from 'node:tls';
import { Agent, buildConnector, request, type Dispatcher } from 'undici';
import { RecoveryError, isRecoveryError } from '../../core/errors.ts';

export interface TransportOptions {
  readonly url: string;
  readonly fingerprint?: string;
  readonly timeoutMs?: number;
  readonly connections?: number;
}

export interface HttpAnswer {
  readonly status: number;
  readonly bytes: Uint8Array;
  /** Response headers, names lower-case; a repeated header's values joined with ", ". */
  readonly headers: Readonly<Record<string, string>>;
  json(): unknown;
}

export interface RequestOptions {
  readonly auth?: string | undefined;
  /** Sent as JSON. */
  readonly body?: unknown;
  /** Sent as application/octet-stream. */
  readonly binary?: Uint8Array;
  readonly headers?: Readonly<Record<string, string>>;
  readonly query?: Readonly<Record<string, string | number | undefined>>;
}

type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

/** Takes a response body piece by piece (`requestInto`). */
export interface BodySink<T> {
  write(piece: Uint8Array): void;
  end(): T;
}

/** Response headers, names lower-case; a repeated header's values joined with ", ". */
function headersOf(response: Dispatcher.ResponseData): Record<string, string> {
  return Object.fromEntries(Object.entries(response.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : v ?? '']));
}

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ETIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT']);
/** undici's refusals of the request itself: a bug here, not the network. */
const NOT_NETWORK = new Set(['UND_ERR_INVALID_ARG', 'UND_ERR_NOT_SUPPORTED', 'UND_ERR_INVALID_RETURN_VALUE', 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH']);

export class HttpTransport {
  readonly origin: string;
  private readonly prefix: string;
  private readonly dispatcher: Agent;

  constructor(options: TransportOptions) {
    let url: URL;
    try {
      url = new URL(options.url);
    } catch (e) {
      throw new RecoveryError('config.bad-server-url', `not a server address: ${options.url}`, { cause: e });
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new RecoveryError('config.bad-server-url', `the server address must start with http:// or https://: ${options.url}`);
    }
    this.origin = url.origin;
    this.prefix = url.pathname.replace(/\/+$/, '');
    const timeout = options.timeoutMs ?? 60_000;
    this.dispatcher = new Agent({
      connections: options.connections ?? 64,
      keepAliveTimeout: 30_000,
      headersTimeout: timeout,
      bodyTimeout: timeout,
      connect: options.fingerprint === undefined
        ? { timeout: Math.min(timeout, 30_000) }
        : pinnedConnector(normalizeFingerprint(options.fingerprint), Math.min(timeout, 30_000)),
    });
  }

  /** A JSON request; resolves with the parsed body, or undefined for 204. */
  async json(method: HttpMethod, path: string, options: RequestOptions = {}): Promise<unknown> {
    const answer = await this.request(method, path, options);
    return answer.status === 204 ? undefined : answer.json();
  }

  /** Any request; throws the server's error as a RecoveryError for non-2xx answers. */
  async request(method: HttpMethod, path: string, options: RequestOptions = {}): Promise<HttpAnswer> {
    const response = await this.send(method, path, options);
    const bytes = await this.bodyOf(response, method, path);
    const answer: HttpAnswer = { status: response.statusCode, bytes, headers: headersOf(response), json: () => parseJson(bytes, method, path) };
    if (answer.status >= 200 && answer.status < 300) return answer;
    throw serverError(answer.status, bytes, method, path);
  }

  /**
   * A request whose successful body goes piece by piece into a sink made from the answer's headers,
   * instead of being gathered into one buffer first (a batch of chunks: each lands in its own array).
   * A sink that throws ends the request; an error answer is thrown as by `request`.
   */
  async requestInto<T>(method: HttpMethod, path: string, options: RequestOptions, sinkFor: (headers: Readonly<Record<string, string>>) => BodySink<T>): Promise<T> {
    const response = await this.send(method, path, options);
    if (response.statusCode < 200 || response.statusCode >= 300) {
      throw serverError(response.statusCode, await this.bodyOf(response, method, path), method, path);
    }
    let sink: BodySink<T>;
    try {
      sink = sinkFor(headersOf(response));
    } catch (e) {
      response.body.destroy();
      throw e;
    }
    try {
      for await (const piece of response.body) sink.write(piece as Uint8Array);
    } catch (e) {
      response.body.destroy();
      throw isRecoveryError(e) ? e : networkError(e, method, path);
    }
    return sink.end();
  }

  private async send(method: HttpMethod, path: string, options: RequestOptions): Promise<Dispatcher.ResponseData> {
    const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
    if (options.auth !== undefined) headers.authorization = options.auth;
    let body: string | Uint8Array | undefined;
    if (options.binary !== undefined) {
      headers['content-type'] = 'application/octet-stream';
      body = options.binary;
    } else if (options.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.body);
    }
    try {
      return await request(`${this.origin}${this.prefix}${path}${queryString(options.query)}`, {
        method, headers, body, dispatcher: this.dispatcher,
      });
    } catch (e) {
      throw networkError(e, method, path);
    }
  }

  private async bodyOf(response: Dispatcher.ResponseData, method: string, path: string): Promise<Uint8Array> {
    try {
      return new Uint8Array(await response.body.arrayBuffer());
    } catch (e) {
      throw networkError(e, method, path);
    }
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }
}

/** "AB:CD:…" or "abcd…" → "abcd…". */
export function normalizeFingerprint(text: string): string {
  const hex = text.replace(/[:\s]/g, '').toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(hex)) {
    throw new RecoveryError('config.bad-fingerprint', 'a certificate fingerprint is 64 hex digits (SHA-256), colons optional', { data: { fingerprint: text } });
  }
  return hex;
}

/**
 * Trusts exactly the certificate with this SHA-256, whoever signed it: the server's self-signed
 * certificate has no CA to chain to, so pinning replaces chain checks. No session cache, so every
 * connection shows its certificate.
 */
function pinnedConnector(expected: string, timeout: number): buildConnector.connector {
  const base = buildConnector({ rejectUnauthorized: false, timeout, maxCachedSessions: 0 });
  return (options, callback) => {
    base(options, (error, socket) => {
      if (error !== null) {
        callback(error, null);
        return;
      }
      if (socket instanceof TLSSocket) {
        const seen = socket.getPeerCertificate().fingerprint256 ?? '';
        if (seen.replace(/:/g, '').toLowerCase() !== expected) {
          socket.destroy();
          callback(new RecoveryError('tls.fingerprint-mismatch', 'the server presented a certificate other than the pinned one', {
            data: { expected, seen },
          }), null);
          return;
        }
      }
      callback(null, socket);
    });
  };
}

function networkError(e: unknown, method: string, path: string): RecoveryError {
  if (isRecoveryError(e)) return e;
  const code = errorCode(e);
  const where = { method, path, cause: code };
  if (code !== undefined && (code.startsWith('ERR_TLS') || /CERT|SELF_SIGNED/.test(code))) {
    return new RecoveryError('tls.untrusted', `the server's certificate is not trusted (${code}); pin its fingerprint`, { cause: e, data: where });
  }
  if (code !== undefined && NOT_NETWORK.has(code)) {
    return new RecoveryError('protocol.bad-request', `the request could not be sent (${code})`, { cause: e, data: where });
  }
  if (code !== undefined && UNREACHABLE.has(code)) {
    return new RecoveryError('network.unreachable', `cannot reach the server (${code})`, { cause: e, data: where, retryable: true });
  }
  return new RecoveryError('network.reset', `the connection to the server was lost (${code ?? String(e)})`, { cause: e, data: where, retryable: true });
}

function errorCode(e: unknown): string | undefined {
  let current: unknown = e;
  for (let depth = 0; depth < 4 && typeof current === 'object' && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

function serverError(status: number, bytes: Uint8Array, method: string, path: string): RecoveryError {
  const retryableStatus = status >= 500 || status === 429;
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    parsed = undefined;
  }
  const error = (parsed as { error?: { code?: unknown; message?: unknown; data?: unknown; retryable?: unknown } } | undefined)?.error;
  if (error && typeof error.code === 'string') {
    const data = typeof error.data === 'object' && error.data !== null ? { ...(error.data as Record<string, unknown>) } : {};
    return new RecoveryError(error.code, typeof error.message === 'string' ? error.message : error.code, {
      data: { ...data, status },
      retryable: error.retryable === true || retryableStatus || error.code === 'server.busy',
    });
  }
  return new RecoveryError(retryableStatus ? 'server.internal' : 'protocol.bad-answer', `the server answered ${method} ${path} with HTTP ${status}`, {
    data: { status }, retryable: retryableStatus,
  });
}

function parseJson(bytes: Uint8Array, method: string, path: string): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw new RecoveryError('protocol.bad-answer', `the server's answer to ${method} ${path} is not JSON`, { cause: e });
  }
}

function queryString(query: RequestOptions['query']): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}
