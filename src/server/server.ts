/**
 * The backup server's composition root: data folder, catalog (embedded PGlite or PostgreSQL),
 * per-tenant chunk stores, TLS material, the HTTP and HTTPS listeners and the scheduler.
 *
 * Start order: 1) catalog (migrated), 2) server secrets and, on the very first start, an admin
 * token, 3) stores (half-written blobs of a crash swept), 4) listeners, 5) scheduler.
 * Stop order is the reverse, and waits for requests in progress (up to `stopGraceMs`).
 */
import { mkdir } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { join, resolve } from 'node:path';
import { RecoveryError } from '../core/errors.ts';
import { Catalog } from './catalog/catalog.ts';
import { describeLocation, openDatabase } from './catalog/open-database.ts';
import { createApiHandler } from './http/api.ts';
import { Scheduler } from './scheduler.ts';
import { ServerSecrets } from './server-secrets.ts';
import { TenantStores } from './tenant-stores.ts';
import { loadTlsMaterial } from './tls.ts';

export const DEFAULT_PORT = 50305;
export const DEFAULT_TLS_PORT = 60305;

export interface ServerOptions {
  readonly dataDir: string;
  /** postgres://… for a PostgreSQL catalog; default: PGlite in `<data>/catalog`. */
  readonly database?: string;
  /** Address to listen on; default all IPv4 interfaces. */
  readonly listen?: string;
  /** 0 picks a free port. */
  readonly port?: number;
  /** null: no TLS listener. */
  readonly tlsPort?: number | null;
  readonly tls?: { readonly certFile: string; readonly keyFile: string };
  /** Changes the stored tenancy mode; undefined keeps it (single-tenant on a new catalog). */
  readonly tenancy?: 'single' | 'multi';
  readonly version: string;
  readonly log?: (line: string) => void;
  readonly schedulerIntervalMs?: number;
  readonly agentPollMs?: number;
  readonly agentOfflineAfterMs?: number;
  /** GC keeps unreferenced chunks touched within this long (default 1 h). */
  readonly gcGraceMs?: number;
  /** 'process' trades power-cut durability of the embedded catalog for speed (tests). */
  readonly durability?: 'fsync' | 'process';
  readonly headersTimeoutMs?: number;
  readonly requestTimeoutMs?: number;
  readonly stopGraceMs?: number;
}

export interface RunningServer {
  readonly listen: string;
  readonly httpPort: number;
  readonly httpsPort?: number;
  /** A URL to reach the HTTP listener from this machine. */
  readonly httpUrl: string;
  readonly httpsUrl?: string;
  /** "AB:CD:…" SHA-256 of the TLS certificate. */
  readonly tlsFingerprint?: string;
  readonly tlsCreated: boolean;
  /** The first admin token: only on the start that created the catalog. */
  readonly adminToken?: string;
  readonly catalog: Catalog;
  readonly scheduler: Scheduler;
  stop(): Promise<void>;
}

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const log = options.log ?? (() => undefined);
  const dataDir = resolve(options.dataDir);
  await mkdir(dataDir, { recursive: true });
  const location = options.database ?? join(dataDir, 'catalog');
  const db = await openDatabase(location, options.durability ? { durability: options.durability } : {});
  const closers: (() => Promise<void>)[] = [];
  try {
    const catalog = await Catalog.open(db, {
      ...(options.agentOfflineAfterMs !== undefined ? { agentOfflineAfterMs: options.agentOfflineAfterMs } : {}),
      ...(options.gcGraceMs !== undefined ? { gcGraceMs: options.gcGraceMs } : {}),
    });
    closers.push(() => catalog.close());
    log(`catalog: ${db.engine} at ${describeLocation(location)}`);
    if (options.tenancy !== undefined) await catalog.setTenancy(options.tenancy);
    const secrets = await ServerSecrets.open(db);
    const adminToken = await firstAdminToken(catalog, secrets);

    const stores = new TenantStores(join(dataDir, 'chunks'));
    const swept = await stores.sweepTemp(3_600_000);
    if (swept > 0) log(`chunk store: removed ${swept} half-written blobs`);

    const tls = options.tlsPort === null ? undefined : await loadTlsMaterial(dataDir, options.tls);
    const scheduler = new Scheduler(catalog, { log, ...(options.schedulerIntervalMs ? { intervalMs: options.schedulerIntervalMs } : {}) });
    const handler = createApiHandler({
      catalog, secrets, log, version: options.version,
      storeOf: (tenantId) => stores.storeOf(tenantId),
      wakeScheduler: () => scheduler.wake(),
      clock: () => new Date(),
      pollMs: options.agentPollMs ?? 5_000,
      ...(tls ? { tlsFingerprint: tls.fingerprint256 } : {}),
    });
    const timeouts = {
      headersTimeout: options.headersTimeoutMs ?? 30_000,
      requestTimeout: options.requestTimeoutMs ?? 300_000,
      keepAliveTimeout: 65_000,
    };
    const host = options.listen ?? '0.0.0.0';
    const http = createServer(timeouts, handler);
    http.on('clientError', answerClientError);
    const httpPort = await listen(http, options.port ?? DEFAULT_PORT, host);
    closers.push(() => close(http, options.stopGraceMs ?? 10_000));
    let https: Server | undefined;
    let httpsPort: number | undefined;
    if (tls) {
      https = createTlsServer({ ...timeouts, cert: tls.cert, key: tls.key }, handler);
      https.on('clientError', answerClientError);
      httpsPort = await listen(https, options.tlsPort ?? DEFAULT_TLS_PORT, host);
      const server = https;
      closers.push(() => close(server, options.stopGraceMs ?? 10_000));
    }
    scheduler.start();
    closers.push(() => scheduler.stop());

    const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
    let stopping: Promise<void> | undefined;
    return {
      listen: host,
      httpPort,
      ...(httpsPort !== undefined ? { httpsPort } : {}),
      httpUrl: `http://${shown}:${httpPort}`,
      ...(httpsPort !== undefined ? { httpsUrl: `https://${shown}:${httpsPort}` } : {}),
      ...(tls ? { tlsFingerprint: tls.fingerprint256 } : {}),
      tlsCreated: tls?.created ?? false,
      ...(adminToken !== undefined ? { adminToken } : {}),
      catalog,
      scheduler,
      stop: () => (stopping ??= runClosers(closers)),
    };
  } catch (e) {
    await runClosers(closers).catch(() => undefined);
    if (closers.length === 0) await db.close().catch(() => undefined);
    throw e;
  }
}

/**
 * On the catalog's first start: an admin token of the default tenant, to print once. The token is
 * made before the start is claimed, so a crash in between costs an unknown token, never the only one.
 */
async function firstAdminToken(catalog: Catalog, secrets: ServerSecrets): Promise<string | undefined> {
  const { rows } = await catalog.db.query(`SELECT 1 FROM server_settings WHERE key = 'first-start'`);
  if (rows.length > 0) return undefined;
  const tenant = await catalog.defaultTenant();
  const { token, identity } = await catalog.createOperatorToken(tenant.id, { name: 'admin', role: 'admin' });
  if (await secrets.claimFirstStart(new Date())) return token;
  await catalog.revokeOperatorToken(tenant.id, identity.tokenId);
  return undefined;
}

/**
 * Bytes that are not HTTP, headers too large, a request too slow: Node's parser refuses them before
 * any handler runs. Answer those in the protocol's error form too, then drop the connection.
 */
function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  if (!socket.writable || error.code === 'ECONNRESET') {
    socket.destroy();
    return;
  }
  const [status, reason, code] =
    error.code === 'HPE_HEADER_OVERFLOW' ? [431, 'Request Header Fields Too Large', 'request.headers-too-large']
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? [408, 'Request Timeout', 'request.timeout']
        : [400, 'Bad Request', 'request.malformed'];
  const body = JSON.stringify({ error: { code, message: `the request is not valid HTTP/1.1 (${error.code ?? error.message})`, data: {} } });
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const onError = (e: NodeJS.ErrnoException): void => {
      reject(new RecoveryError('server.listen-failed', `cannot listen on ${host}:${port} (${e.code ?? e.message})`, { cause: e, data: { host, port } }));
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolvePort((server.address() as AddressInfo).port);
    });
  });
}

/** Stops accepting, lets requests in progress finish, then cuts what is left after `graceMs`. */
function close(server: Server, graceMs: number): Promise<void> {
  return new Promise((done) => {
    const timer = setTimeout(() => server.closeAllConnections(), graceMs);
    timer.unref();
    server.close(() => {
      clearTimeout(timer);
      done();
    });
    server.closeIdleConnections();
  });
}

async function runClosers(closers: (() => Promise<void>)[]): Promise<void> {
  while (closers.length > 0) await closers.pop()?.();
}
