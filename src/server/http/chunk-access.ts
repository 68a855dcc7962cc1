/**
 * Which chunks an agent may read: those referenced by a committed restore point of a set that a
 * job assigned to the (bound) agent names. The catalog answers this per set (`agentMayReadSet`)
 * but not per chunk, so this one read-only query joins its tables directly (indexed on
 * chunk_refs (tenant_id, hash)); it belongs in the catalog once it offers it.
 */
import type { SqlQueryable } from '../catalog/sql-database.ts';

export async function agentMayReadChunk(db: SqlQueryable, tenantId: string, agentId: string, chunkId: string): Promise<boolean> {
  const { rows } = await db.query<{ allowed: boolean }>(
    `SELECT EXISTS (
       SELECT 1 FROM chunk_refs r
       JOIN restore_points p ON p.tenant_id = r.tenant_id AND p.id = r.point_id AND p.state = 'committed'
       JOIN job_sets js ON js.tenant_id = p.tenant_id AND js.set_id = p.set_id
       JOIN jobs j ON j.tenant_id = js.tenant_id AND j.id = js.job_id
       JOIN agents a ON a.tenant_id = j.tenant_id AND a.id = j.agent_id
       WHERE r.tenant_id = $1 AND r.hash = decode($3, 'hex') AND j.agent_id = $2 AND a.bound_at IS NOT NULL) AS allowed`,
    [tenantId, agentId, chunkId],
  );
  return rows[0]?.allowed === true;
}
