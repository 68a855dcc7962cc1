/**
 * `lifeline token create`: an operator token (admin or operator role), shown once. Through the
 * server with an admin token, or — when no admin token is at hand — directly on the server's data
 * folder while the server is stopped (--data or --database).
 */
import { join, resolve } from 'node:path';
import { Catalog } from '../../server/catalog/catalog.ts';
import { openDatabase } from '../../server/catalog/open-database.ts';
import { RecoveryError } from '../../core/errors.ts';
import type { TokenCreated } from '../../core/protocol/schemas.ts';
import { UsageError, requiredString, stringOption } from '../cli-kit.ts';
import type { Command, ParsedArgs } from '../cli-kit.ts';
import { connectionOptions, print, withClient } from './operator-options.ts';

export const tokenCreate: Command = {
  path: ['token', 'create'],
  summary: 'Create an operator token; it is shown only once.',
  options: {
    ...connectionOptions,
    name: { type: 'string', valueName: 'NAME', description: 'Who the token is for (required).' },
    role: { type: 'string', valueName: 'ROLE', description: 'admin (bind targets, keys, tokens, prune) or operator (jobs). Default operator.' },
    tenant: { type: 'string', valueName: 'TENANT', description: "Another tenant's id (administrators of the default tenant)." },
    data: { type: 'string', valueName: 'DIR', description: "Work on a stopped server's data folder instead of through --server." },
    database: { type: 'string', valueName: 'URL', description: "Work on the server's PostgreSQL catalog instead of through --server." },
  },
  async run(args, io) {
    const name = requiredString(args, 'name');
    const role = stringOption(args, 'role') ?? 'operator';
    if (role !== 'admin' && role !== 'operator') throw new UsageError('--role is admin or operator');
    const tenantId = stringOption(args, 'tenant');
    const offline = stringOption(args, 'data') !== undefined || stringOption(args, 'database') !== undefined;
    const created = offline
      ? await createOffline(args, { name, role, ...(tenantId ? { tenantId } : {}) })
      : await withClient(args, (c) => c.createToken({ name, role, ...(tenantId ? { tenantId } : {}) }));
    print(args, io, created, (t) => `${t.role} token for ${t.name} (${t.tokenId}), shown only now:\n  ${t.token}`);
    return 0;
  },
};

async function createOffline(args: ParsedArgs, who: { name: string; role: 'admin' | 'operator'; tenantId?: string }): Promise<TokenCreated> {
  const location = stringOption(args, 'database') ?? join(resolve(stringOption(args, 'data') as string), 'catalog');
  const db = await openDatabase(location);
  const catalog = await Catalog.open(db).catch(async (e: unknown) => {
    await db.close();
    throw e;
  });
  try {
    const tenantId = who.tenantId ?? (await catalog.defaultTenant()).id;
    if ((await catalog.getTenant(tenantId)) === null) throw new RecoveryError('not-found', `no tenant ${tenantId}`);
    const { token, identity } = await catalog.createOperatorToken(tenantId, { name: who.name, role: who.role });
    return { token, tokenId: identity.tokenId, tenantId: identity.tenantId, name: identity.name, role: identity.role };
  } finally {
    await catalog.close();
  }
}
