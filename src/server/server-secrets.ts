/**
 * The server's own secrets, kept in the catalog's `server_settings` table so every server process
 * sharing a catalog (PostgreSQL) agrees on them:
 *  - `server-key`: 256 random bits from which each tenant's chunk-id key is derived (HMAC), so
 *    chunk ids are keyed per tenant without a column of their own;
 *  - `agent-secret:<agentId>`: the SHA-256 of the agent's current secret and its tenant. The
 *    catalog has no place for agent credentials yet; registering again replaces the secret;
 *  - `first-start`: claimed once, by the start that prints the first admin token.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { SqlDatabase } from './catalog/sql-database.ts';

interface AgentSecretRecord {
  readonly tenantId: string;
  readonly hash: string;
}

export class ServerSecrets {
  private constructor(
    private readonly db: SqlDatabase,
    private readonly serverKey: Uint8Array,
  ) {}

  static async open(db: SqlDatabase): Promise<ServerSecrets> {
    await db.query(`INSERT INTO server_settings (key, value) VALUES ('server-key', $1::jsonb) ON CONFLICT (key) DO NOTHING`, [
      JSON.stringify(randomBytes(32).toString('hex')),
    ]);
    const { rows } = await db.query<{ value: string }>(`SELECT value FROM server_settings WHERE key = 'server-key'`);
    const hex = rows[0]?.value ?? '';
    return new ServerSecrets(db, new Uint8Array(Buffer.from(hex, 'hex')));
  }

  /** True exactly once per catalog: for the start that must create the first admin token. */
  async claimFirstStart(at: Date): Promise<boolean> {
    const { rows } = await this.db.query(
      `INSERT INTO server_settings (key, value) VALUES ('first-start', $1::jsonb) ON CONFLICT (key) DO NOTHING RETURNING key`,
      [JSON.stringify(at.toISOString())],
    );
    return rows.length === 1;
  }

  /** The tenant's chunk-id key (hex): the same for every agent of the tenant, never stored. */
  tenantChunkKey(tenantId: string): string {
    return createHmac('sha256', this.serverKey).update(`tenant-chunk-key:${tenantId}`).digest('hex');
  }

  /** A new secret for the agent; the previous one stops working. */
  async issueAgentSecret(tenantId: string, agentId: string): Promise<string> {
    const secret = randomBytes(32).toString('base64url');
    const record: AgentSecretRecord = { tenantId, hash: sha256(secret) };
    await this.db.query(
      `INSERT INTO server_settings (key, value) VALUES ($1, $2::jsonb) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
      [`agent-secret:${agentId}`, JSON.stringify(record)],
    );
    return secret;
  }

  /** The agent's tenant when the secret is its current one, else undefined. */
  async verifyAgentSecret(agentId: string, secret: string): Promise<string | undefined> {
    const { rows } = await this.db.query<{ value: AgentSecretRecord }>(`SELECT value FROM server_settings WHERE key = $1`, [`agent-secret:${agentId}`]);
    const record = rows[0]?.value;
    if (record === undefined) return undefined;
    const expected = Buffer.from(record.hash, 'hex');
    const given = Buffer.from(sha256(secret), 'hex');
    return expected.length === given.length && timingSafeEqual(expected, given) ? record.tenantId : undefined;
  }
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
