/**
 * Who is calling (docs/protocol.md "Authentication"): an agent's first contact with an access key
 * (or none in single-tenant mode), a registered agent with its id and secret, or an operator with
 * a bearer token. Every caller carries its tenant; handlers pass it to every catalog call.
 */
import type { IncomingMessage } from 'node:http';
import { RecoveryError } from '../../core/errors.ts';
import type { Agent, OperatorRole } from '../catalog/types.ts';
import { roleAllows, type OperatorAction } from '../catalog/roles.ts';
import type { ApiDeps } from './deps.ts';

export interface AgentCaller {
  readonly kind: 'agent';
  readonly tenantId: string;
  readonly agentId: string;
  readonly agent: Agent;
}

export interface OperatorCaller {
  readonly kind: 'operator';
  readonly tenantId: string;
  readonly name: string;
  readonly role: OperatorRole;
  /** An admin of the default tenant: manages tenants and every tenant's keys and tokens. */
  readonly serverAdmin: boolean;
}

export type Caller = AgentCaller | OperatorCaller;

type Credentials = { scheme: 'accesskey' | 'agent' | 'bearer'; value: string } | undefined;

function credentials(req: IncomingMessage): Credentials {
  const header = req.headers.authorization;
  if (header === undefined || header.trim() === '') return undefined;
  const m = /^(\S+)\s+(\S+)\s*$/.exec(header);
  const scheme = m?.[1]?.toLowerCase();
  if (!m || (scheme !== 'accesskey' && scheme !== 'agent' && scheme !== 'bearer')) {
    throw new RecoveryError('auth.missing', 'the Authorization header must be "AccessKey <key>", "Agent <id>.<secret>" or "Bearer <token>"');
  }
  return { scheme, value: m[2] as string };
}

/**
 * How long a bound agent's credentials stay trusted without asking the catalog again on the chunk
 * routes (reads, uploads, dedup lookups: hundreds a second during a restore or a backup). Unbinding or re-registering
 * forgets them at once; anything else that changes an agent shows there within this time.
 */
export const AGENT_CREDENTIAL_TTL_MS = 2000;
const MAX_CACHED_CREDENTIALS = 10_000;

export class Authenticator {
  private defaultTenantId: string | undefined;
  /** Authorization header value → the bound agent it proved, and until when that is trusted. */
  private readonly boundCredentials = new Map<string, { caller: AgentCaller; until: number }>();

  constructor(private readonly deps: ApiDeps) {}

  /** The tenant a registering agent joins. */
  async registeringTenant(req: IncomingMessage): Promise<string> {
    const c = credentials(req);
    if (c !== undefined && c.scheme !== 'accesskey') throw new RecoveryError('auth.missing', 'registration takes an access key ("AccessKey <key>")');
    const tenant = await this.deps.catalog.findTenantByAccessKey(c?.value);
    if (tenant !== null) return tenant.id;
    if (c === undefined) throw new RecoveryError('auth.missing', 'this server is multi-tenant: registration needs an access key');
    throw new RecoveryError('auth.bad-access-key', 'the access key is unknown or revoked');
  }

  async agent(req: IncomingMessage): Promise<AgentCaller> {
    const c = credentials(req);
    if (c?.scheme !== 'agent') throw new RecoveryError('auth.missing', 'this endpoint takes agent credentials ("Agent <id>.<secret>" from registration)');
    const dot = c.value.indexOf('.');
    const agentId = c.value.slice(0, dot).toLowerCase();
    const secret = c.value.slice(dot + 1);
    const tenantId = dot > 0 ? await this.deps.secrets.verifyAgentSecret(agentId, secret) : undefined;
    const agent = tenantId === undefined ? null : await this.deps.catalog.getAgent(tenantId, agentId);
    if (tenantId === undefined || agent === null) throw new RecoveryError('auth.bad-token', 'the agent credentials are unknown or were replaced by a newer registration');
    return { kind: 'agent', tenantId, agentId, agent };
  }

  /** An agent that an administrator has bound: only those get jobs and touch backup data. */
  async boundAgent(req: IncomingMessage): Promise<AgentCaller> {
    const caller = await this.agent(req);
    if (!caller.agent.bound) throw new RecoveryError('agent.not-bound', 'this machine is not bound yet: an administrator must bind it on the server');
    return caller;
  }

  /**
   * boundAgent for the data routes: a credential proved in the last AGENT_CREDENTIAL_TTL_MS is
   * trusted without the two catalog queries (secret, agent row) that each request would cost.
   */
  async boundAgentCached(req: IncomingMessage): Promise<AgentCaller> {
    const header = req.headers.authorization ?? '';
    const now = this.deps.clock().getTime();
    const hit = this.boundCredentials.get(header);
    if (hit !== undefined && hit.until > now) return hit.caller;
    this.boundCredentials.delete(header);
    const caller = await this.boundAgent(req);
    if (this.boundCredentials.size >= MAX_CACHED_CREDENTIALS) this.boundCredentials.clear();
    this.boundCredentials.set(header, { caller, until: now + AGENT_CREDENTIAL_TTL_MS });
    return caller;
  }

  /** Forget what was proved for this agent (it was unbound, or registered again with a new secret). */
  forgetAgent(agentId: string): void {
    for (const [header, { caller }] of this.boundCredentials) {
      if (caller.agentId === agentId.toLowerCase()) this.boundCredentials.delete(header);
    }
  }

  async operator(req: IncomingMessage, action: OperatorAction): Promise<OperatorCaller> {
    const c = credentials(req);
    if (c?.scheme !== 'bearer') throw new RecoveryError('auth.missing', 'this endpoint takes an operator token ("Bearer <token>")');
    const identity = await this.deps.catalog.authenticateToken(c.value);
    if (identity === null) throw new RecoveryError('auth.bad-token', 'the operator token is unknown or revoked');
    if (!roleAllows(identity.role, action)) {
      throw new RecoveryError('auth.forbidden', `the ${identity.role} role may not do this (${action})`, { data: { role: identity.role, action } });
    }
    const serverAdmin = identity.role === 'admin' && identity.tenantId === (await this.defaultTenant());
    return { kind: 'operator', tenantId: identity.tenantId, name: identity.name, role: identity.role, serverAdmin };
  }

  /** Agents and operators alike (reading a manifest). */
  async any(req: IncomingMessage): Promise<Caller> {
    return credentials(req)?.scheme === 'agent' ? this.boundAgent(req) : this.operator(req, 'catalog.read');
  }

  private async defaultTenant(): Promise<string> {
    this.defaultTenantId ??= (await this.deps.catalog.defaultTenant()).id;
    return this.defaultTenantId;
  }
}
