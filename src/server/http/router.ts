/**
 * A table of routes, `/v1/runs/:runId/progress` style. Path parameters are checked for shape here
 * (ids are UUIDs, chunk ids 64 hex digits), so handlers never see a malformed one.
 */
import type { IncomingMessage } from 'node:http';
import { refuse } from './errors.ts';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface RequestContext {
  readonly req: IncomingMessage;
  readonly url: URL;
  readonly params: Readonly<Record<string, string>>;
}

/** undefined → 204 No Content. */
export type Reply = undefined | {
  readonly status?: number;
  readonly json?: unknown;
  readonly bytes?: Uint8Array;
  readonly headers?: Readonly<Record<string, string>>;
};

export interface Route {
  readonly method: HttpMethod;
  readonly path: string;
  handle(ctx: RequestContext): Promise<Reply>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const CHUNK_ID = /^[0-9a-f]{64}$/;

interface Compiled {
  readonly route: Route;
  readonly regex: RegExp;
  readonly names: readonly string[];
}

export class Router {
  private readonly compiled: Compiled[];

  constructor(routes: readonly Route[]) {
    this.compiled = routes.map((route) => {
      const names: string[] = [];
      const source = route.path.split('/').map((part) => {
        if (!part.startsWith(':')) return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        names.push(part.slice(1));
        return '([^/]+)';
      }).join('/');
      return { route, regex: new RegExp(`^${source}$`), names };
    });
  }

  /** The route and its parameters; 'wrong-method' when the path exists with other methods. */
  match(method: string, path: string): { route: Route; params: Record<string, string> } | 'not-found' | 'wrong-method' {
    let pathMatched = false;
    for (const c of this.compiled) {
      const m = c.regex.exec(path);
      if (!m) continue;
      pathMatched = true;
      if (c.route.method !== method) continue;
      const params: Record<string, string> = {};
      c.names.forEach((name, i) => {
        params[name] = checkParam(name, decodeSegment(m[i + 1] ?? ''));
      });
      return { route: c.route, params };
    }
    return pathMatched ? 'wrong-method' : 'not-found';
  }
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw refuse.badParameter(`bad escape in the path: ${segment}`);
  }
}

/** `…Id` parameters are UUIDs (lower case), `chunkId` is 64 hex digits. */
function checkParam(name: string, value: string): string {
  if (name === 'chunkId') {
    if (!CHUNK_ID.test(value)) throw refuse.badParameter('a chunk id is 64 lower-case hex digits', { parameter: name });
    return value;
  }
  if (name.endsWith('Id')) {
    const id = value.toLowerCase();
    if (!UUID.test(id)) throw refuse.badParameter(`${name} must be an id (UUID)`, { parameter: name });
    return id;
  }
  return value;
}
