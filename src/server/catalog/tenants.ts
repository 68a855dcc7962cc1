/** Tenants, the tenancy mode, agent access keys and operator tokens (only their hashes are kept). */
import { hashSecret, newSecret } from './secrets.ts';
import type { SqlDatabase } from './sql-database.ts';
import type { AccessKeyInfo, OperatorIdentity, OperatorRole, TenancyMode, Tenant } from './types.ts';
import { invalid, isUuid, json, mapConstraintErrors, notFound, requireId, requireText } from './values.ts';

interface TenantRow {
  id: string;
  name: string;
  is_default: boolean;
  created_at: Date;
}

const toTenant = (r: TenantRow): Tenant => ({ id: r.id, name: r.name, isDefault: r.is_default, createdAt: r.created_at });

export async function createTenant(db: SqlDatabase, name: string, now: Date): Promise<Tenant> {
  const { rows } = await mapConstraintErrors(
    db.query<TenantRow>('INSERT INTO tenants (name, created_at) VALUES ($1, $2) RETURNING *', [requireText(name, 'name'), now]),
    { conflict: `A tenant named ${name} exists` },
  );
  return toTenant(rows[0]!);
}

export async function getTenant(db: SqlDatabase, tenantId: string): Promise<Tenant | null> {
  if (!isUuid(tenantId)) return null;
  const { rows } = await db.query<TenantRow>('SELECT * FROM tenants WHERE id = $1', [tenantId]);
  return rows[0] === undefined ? null : toTenant(rows[0]);
}

export async function defaultTenant(db: SqlDatabase): Promise<Tenant> {
  const { rows } = await db.query<TenantRow>('SELECT * FROM tenants WHERE is_default');
  return toTenant(rows[0]!);
}

export async function getTenancy(db: SqlDatabase): Promise<TenancyMode> {
  const { rows } = await db.query<{ value: TenancyMode }>(`SELECT value FROM server_settings WHERE key = 'tenancy'`);
  return rows[0]?.value ?? 'single';
}

export async function setTenancy(db: SqlDatabase, mode: TenancyMode): Promise<void> {
  if (mode !== 'single' && mode !== 'multi') throw invalid(`Tenancy must be 'single' or 'multi', not ${String(mode)}`);
  await db.query(
    `INSERT INTO server_settings (key, value) VALUES ('tenancy', $1::jsonb) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
    [json(mode)],
  );
}

interface KeyRow {
  id: string;
  tenant_id: string;
  label: string;
  created_at: Date;
  revoked_at: Date | null;
}

const toKeyInfo = (r: KeyRow): AccessKeyInfo => ({ id: r.id, tenantId: r.tenant_id, label: r.label, createdAt: r.created_at, revokedAt: r.revoked_at });

/** A new access key for agents of `tenantId`. The key itself is returned once and never stored. */
export async function createAccessKey(db: SqlDatabase, tenantId: string, label: string, now: Date): Promise<{ key: string; info: AccessKeyInfo }> {
  const key = newSecret('access-key');
  const { rows } = await mapConstraintErrors(
    db.query<KeyRow>(
      'INSERT INTO access_keys (tenant_id, label, key_hash, created_at) VALUES ($1, $2, $3, $4) RETURNING id, tenant_id, label, created_at, revoked_at',
      [requireId(tenantId, 'tenant'), label, hashSecret(key), now],
    ),
    { missing: `No tenant ${tenantId}` },
  );
  return { key, info: toKeyInfo(rows[0]!) };
}

export async function listAccessKeys(db: SqlDatabase, tenantId: string): Promise<AccessKeyInfo[]> {
  if (!isUuid(tenantId)) return [];
  const { rows } = await db.query<KeyRow>(
    'SELECT id, tenant_id, label, created_at, revoked_at FROM access_keys WHERE tenant_id = $1 ORDER BY created_at, id',
    [tenantId],
  );
  return rows.map(toKeyInfo);
}

export async function revokeAccessKey(db: SqlDatabase, tenantId: string, keyId: string, now: Date): Promise<void> {
  const { rowCount } = await db.query(
    'UPDATE access_keys SET revoked_at = coalesce(revoked_at, $3) WHERE tenant_id = $1 AND id = $2',
    [requireId(tenantId, 'tenant'), requireId(keyId, 'access key'), now],
  );
  if (rowCount === 0) throw notFound('access key', keyId);
}

/**
 * The tenant an agent belongs to. A key that is given must be valid and not revoked, in either
 * mode. Without a key: the default tenant in single-tenant mode, nobody in multi-tenant mode.
 */
export async function findTenantByAccessKey(db: SqlDatabase, key: string | undefined): Promise<Tenant | null> {
  if (key === undefined || key === '') {
    return (await getTenancy(db)) === 'single' ? defaultTenant(db) : null;
  }
  const { rows } = await db.query<TenantRow>(
    'SELECT t.* FROM access_keys k JOIN tenants t ON t.id = k.tenant_id WHERE k.key_hash = $1 AND k.revoked_at IS NULL',
    [hashSecret(key)],
  );
  return rows[0] === undefined ? null : toTenant(rows[0]);
}

interface TokenRow {
  id: string;
  tenant_id: string;
  name: string;
  role: OperatorRole;
}

const toIdentity = (r: TokenRow): OperatorIdentity => ({ tokenId: r.id, tenantId: r.tenant_id, name: r.name, role: r.role });

export async function createOperatorToken(
  db: SqlDatabase,
  tenantId: string,
  who: { name: string; role: OperatorRole },
  now: Date,
): Promise<{ token: string; identity: OperatorIdentity }> {
  if (who.role !== 'admin' && who.role !== 'operator') throw invalid(`Role must be 'admin' or 'operator', not ${String(who.role)}`);
  const token = newSecret('operator-token');
  const { rows } = await mapConstraintErrors(
    db.query<TokenRow>(
      'INSERT INTO operator_tokens (tenant_id, name, role, token_hash, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id, tenant_id, name, role',
      [requireId(tenantId, 'tenant'), requireText(who.name, 'name'), who.role, hashSecret(token), now],
    ),
    { missing: `No tenant ${tenantId}` },
  );
  return { token, identity: toIdentity(rows[0]!) };
}

/** Who presents `token`, or null when it is unknown or revoked. Records the last use, to the minute. */
export async function authenticateToken(db: SqlDatabase, token: string, now: Date): Promise<OperatorIdentity | null> {
  if (token === '') return null;
  const { rows } = await db.query<TokenRow & { last_used_at: Date | null }>(
    'SELECT id, tenant_id, name, role, last_used_at FROM operator_tokens WHERE token_hash = $1 AND revoked_at IS NULL',
    [hashSecret(token)],
  );
  const row = rows[0];
  if (row === undefined) return null;
  // One write a minute at most: authentication runs on every API request.
  if (row.last_used_at === null || now.getTime() - row.last_used_at.getTime() >= 60_000) {
    await db.query('UPDATE operator_tokens SET last_used_at = $2 WHERE id = $1', [row.id, now]);
  }
  return toIdentity(row);
}

export async function revokeOperatorToken(db: SqlDatabase, tenantId: string, tokenId: string, now: Date): Promise<void> {
  const { rowCount } = await db.query(
    'UPDATE operator_tokens SET revoked_at = coalesce(revoked_at, $3) WHERE tenant_id = $1 AND id = $2',
    [requireId(tenantId, 'tenant'), requireId(tokenId, 'operator token'), now],
  );
  if (rowCount === 0) throw notFound('operator token', tokenId);
}
