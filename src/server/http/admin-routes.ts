/**
 * Administration: tenants, access keys and operator tokens. Admins manage their own tenant; the
 * admins of the default tenant (server administrators) also create tenants and manage theirs.
 * Another tenant's ids are "not found" to everyone else.
 */
import {
  createAccessKeyRequestSchema, createTenantRequestSchema, createTokenRequestSchema, parseWith,
  type AccessKeyView, type TenantView,
} from '../../core/protocol/schemas.ts';
import type { AccessKeyInfo, Tenant } from '../catalog/types.ts';
import type { Authenticator, OperatorCaller } from './auth.ts';
import { readJson } from './body.ts';
import type { ApiDeps } from './deps.ts';
import { refuse } from './errors.ts';
import type { Route } from './router.ts';

export function adminRoutes(deps: ApiDeps, auth: Authenticator): Route[] {
  const { catalog } = deps;

  /** The tenant the request is about: the caller's own, or any for a server administrator. */
  async function tenantFor(caller: OperatorCaller, requested: string | null | undefined): Promise<string> {
    if (requested === undefined || requested === null || requested === caller.tenantId) return caller.tenantId;
    const tenant = caller.serverAdmin ? await catalog.getTenant(requested) : null;
    if (tenant === null) throw refuse.notFound('tenant', requested);
    return tenant.id;
  }

  async function serverAdmin(req: Parameters<Authenticator['operator']>[0]): Promise<OperatorCaller> {
    const caller = await auth.operator(req, 'key.manage');
    if (!caller.serverAdmin) throw refuse.forbidden('only administrators of the default tenant manage tenants');
    return caller;
  }

  return [
    {
      method: 'POST', path: '/v1/tenants',
      async handle({ req }) {
        await serverAdmin(req);
        const { name } = parseWith(createTenantRequestSchema, await readJson(req), 'request.malformed');
        return { status: 201, json: tenantView(await catalog.createTenant(name)) };
      },
    },
    {
      method: 'POST', path: '/v1/access-keys',
      async handle({ req }) {
        const caller = await auth.operator(req, 'key.manage');
        const request = parseWith(createAccessKeyRequestSchema, await readJson(req), 'request.malformed');
        const tenantId = await tenantFor(caller, request.tenantId);
        const { key, info } = await catalog.createAccessKey(tenantId, request.label ?? '');
        deps.log(`access key ${info.id} created by ${caller.name}`);
        return { status: 201, json: { ...keyView(info), key } };
      },
    },
    {
      method: 'GET', path: '/v1/access-keys',
      async handle({ req, url }) {
        const caller = await auth.operator(req, 'key.manage');
        const tenantId = await tenantFor(caller, url.searchParams.get('tenant'));
        return { json: { keys: (await catalog.listAccessKeys(tenantId)).map(keyView) } };
      },
    },
    {
      method: 'POST', path: '/v1/access-keys/:keyId/revoke',
      async handle({ req, url, params }) {
        const caller = await auth.operator(req, 'key.manage');
        await readJson(req);
        const tenantId = await tenantFor(caller, url.searchParams.get('tenant'));
        await catalog.revokeAccessKey(tenantId, params.keyId as string);
        deps.log(`access key ${params.keyId} revoked by ${caller.name}`);
        return undefined;
      },
    },
    {
      method: 'POST', path: '/v1/tokens',
      async handle({ req }) {
        const caller = await auth.operator(req, 'token.manage');
        const request = parseWith(createTokenRequestSchema, await readJson(req), 'request.malformed');
        const tenantId = await tenantFor(caller, request.tenantId);
        const { token, identity } = await catalog.createOperatorToken(tenantId, { name: request.name, role: request.role });
        deps.log(`${identity.role} token for ${identity.name} created by ${caller.name}`);
        return { status: 201, json: { token, tokenId: identity.tokenId, tenantId: identity.tenantId, name: identity.name, role: identity.role } };
      },
    },
  ];
}

function keyView(k: AccessKeyInfo): AccessKeyView {
  return { keyId: k.id, tenantId: k.tenantId, label: k.label, createdAt: k.createdAt.toISOString(), revokedAt: k.revokedAt === null ? null : k.revokedAt.toISOString() };
}

function tenantView(t: Tenant): TenantView {
  return { tenantId: t.id, name: t.name, isDefault: t.isDefault };
}
