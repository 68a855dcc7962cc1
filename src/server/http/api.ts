/**
 * The `/v1` API as one Node request listener, the same for the HTTP and the HTTPS listener. It never
 * lets a request take the process down: every failure, including a client that vanishes mid-body,
 * ends as an error answer (or a closed socket when there is nobody left to answer).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { RecoveryError } from '../../core/errors.ts';
import type { Health } from '../../core/protocol/schemas.ts';
import { adminRoutes } from './admin-routes.ts';
import { agentRoutes } from './agent-routes.ts';
import { AgentSets } from './agent-sets.ts';
import { Authenticator } from './auth.ts';
import { dataRoutes } from './data-routes.ts';
import type { ApiDeps } from './deps.ts';
import { errorReply } from './errors.ts';
import { operatorRoutes } from './operator-routes.ts';
import { Router, type Reply, type Route } from './router.ts';
import { UploadTracker } from './upload-tracker.ts';

export type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

export function createApiHandler(deps: ApiDeps): RequestListener {
  const auth = new Authenticator(deps);
  const sets = new AgentSets(deps.catalog);
  const uploads = new UploadTracker(deps.catalog, sets);
  const router = new Router([
    healthRoute(deps),
    ...agentRoutes(deps, auth),
    ...dataRoutes(deps, auth, sets, uploads),
    ...operatorRoutes(deps, auth, sets),
    ...adminRoutes(deps, auth),
  ]);

  return (req, res) => {
    // An aborted upload emits 'error' on the request; unheard, it would end the process.
    req.on('error', () => undefined);
    res.on('error', () => undefined);
    void handle(router, deps, req, res);
  };
}

async function handle(router: Router, deps: ApiDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    const url = new URL(req.url ?? '/', 'http://server');
    const found = router.match(req.method ?? 'GET', url.pathname);
    if (found === 'not-found') throw new RecoveryError('not-found', `no endpoint ${url.pathname}`, { data: { path: url.pathname } });
    if (found === 'wrong-method') throw new RecoveryError('request.method-not-allowed', `${req.method} is not allowed on ${url.pathname}`);
    send(req, res, await found.route.handle({ req, url, params: found.params }));
  } catch (e) {
    const reply = errorReply(e, deps.log);
    send(req, res, { status: reply.status, json: reply.body, headers: reply.headers });
  }
}

function send(req: IncomingMessage, res: ServerResponse, reply: Reply): void {
  if (res.headersSent || res.destroyed) return;
  const status = reply?.status ?? (reply === undefined ? 204 : 200);
  const headers: Record<string, string | number> = { 'cache-control': 'no-store', ...reply?.headers };
  // A body left unread is not drained (it may be huge or never end): the connection closes instead.
  if (!req.complete) headers['connection'] = 'close';
  let body: Uint8Array | string | undefined;
  if (reply?.bytes !== undefined) {
    body = reply.bytes;
    headers['content-type'] ??= 'application/octet-stream';
  } else if (reply?.json !== undefined) {
    body = JSON.stringify(reply.json);
    headers['content-type'] = 'application/json; charset=utf-8';
  }
  if (body !== undefined) headers['content-length'] = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
  res.writeHead(status, headers);
  res.end(body);
}

function healthRoute(deps: ApiDeps): Route {
  return {
    method: 'GET', path: '/v1/health',
    async handle() {
      const health: Health = {
        status: 'ok', version: deps.version, protocol: 1, multiTenant: (await deps.catalog.getTenancy()) === 'multi',
        ...(deps.tlsFingerprint ? { tlsFingerprint: deps.tlsFingerprint } : {}),
      };
      return { json: health };
    },
  };
}
