/**
 * Which chunks an agent may read: those referenced by a committed restore point of a set that a
 * job assigned to the (bound) agent names. The catalog answers this per set (`agentMayReadSet`)
 * but not per chunk, so these read-only queries join its tables directly (indexed on
 * chunk_refs (tenant_id, hash)); they belong in the catalog once it offers them.
 *
 * A restore reads hundreds of chunks a second, nearly all of one point. Asking the catalog for each
 * one made the embedded database the bottleneck of a restore, so `ChunkReadAccess` keeps grants:
 * the first chunk of a point is checked by the full query, then that point's chunk ids are loaded
 * once, and later chunks of it are answered from memory. A grant is re-checked (the point still
 * committed, its set still named by a job of the bound agent) when it is older than
 * CHUNK_GRANT_TTL_MS, so deleting the job or pruning the point takes effect within that time
 * (unbinding at once: the data routes stop accepting the agent's credentials). Memory is bounded by MAX_GRANTED_CHUNK_IDS over all grants: a point with more
 * chunks than that is checked chunk by chunk, as before.
 */
import type { SqlQueryable } from '../catalog/sql-database.ts';

export const CHUNK_GRANT_TTL_MS = 5000;
/** About 100 MiB of ids; at 256 KiB a chunk, a point of 256 GB of data. */
export const MAX_GRANTED_CHUNK_IDS = 1_000_000;

const READABLE_POINT_JOINS = `
  JOIN job_sets js ON js.tenant_id = p.tenant_id AND js.set_id = p.set_id
  JOIN jobs j ON j.tenant_id = js.tenant_id AND j.id = js.job_id
  JOIN agents a ON a.tenant_id = j.tenant_id AND a.id = j.agent_id`;

/** The newest committed point readable by the agent that references the chunk, if any. */
async function grantingPoint(db: SqlQueryable, tenantId: string, agentId: string, chunkId: string): Promise<string | undefined> {
  const { rows } = await db.query<{ id: string }>(
    `SELECT p.id FROM chunk_refs r
       JOIN restore_points p ON p.tenant_id = r.tenant_id AND p.id = r.point_id AND p.state = 'committed'
       ${READABLE_POINT_JOINS}
       WHERE r.tenant_id = $1 AND r.hash = decode($3, 'hex') AND j.agent_id = $2 AND a.bound_at IS NOT NULL
       ORDER BY p.committed_at DESC LIMIT 1`,
    [tenantId, agentId, chunkId],
  );
  return rows[0]?.id;
}

async function pointStillReadable(db: SqlQueryable, tenantId: string, agentId: string, pointId: string): Promise<boolean> {
  const { rows } = await db.query<{ allowed: boolean }>(
    `SELECT EXISTS (
       SELECT 1 FROM restore_points p ${READABLE_POINT_JOINS}
       WHERE p.tenant_id = $1 AND p.id = $3 AND p.state = 'committed' AND j.agent_id = $2 AND a.bound_at IS NOT NULL) AS allowed`,
    [tenantId, agentId, pointId],
  );
  return rows[0]?.allowed === true;
}

interface PointGrant {
  readonly holder: string;
  readonly pointId: string;
  readonly chunkIds: ReadonlySet<string>;
  checkedAt: number;
}

export interface ChunkReadAccessLimits {
  readonly ttlMs: number;
  readonly maxChunkIds: number;
}

export class ChunkReadAccess {
  /** Oldest first, so the oldest grants go when memory is short. */
  private grants: PointGrant[] = [];
  private grantedIds = 0;
  private readonly loading = new Map<string, Promise<void>>();
  /** Points found too large to hold, so their ids are not loaded again for every chunk. */
  private readonly tooLarge = new Set<string>();

  constructor(
    private readonly db: SqlQueryable,
    private readonly now: () => number,
    private readonly limits: ChunkReadAccessLimits = { ttlMs: CHUNK_GRANT_TTL_MS, maxChunkIds: MAX_GRANTED_CHUNK_IDS },
  ) {}

  /** Ids held in memory over all grants (for tests and diagnostics). */
  get heldChunkIds(): number {
    return this.grantedIds;
  }

  async mayRead(tenantId: string, agentId: string, chunkId: string): Promise<boolean> {
    const holder = `${tenantId}/${agentId}`;
    const id = chunkId.toLowerCase();
    const grant = this.grants.find((g) => g.holder === holder && g.chunkIds.has(id));
    if (grant !== undefined) {
      if (this.now() - grant.checkedAt < this.limits.ttlMs) return true;
      if (await pointStillReadable(this.db, tenantId, agentId, grant.pointId)) {
        grant.checkedAt = this.now();
        return true;
      }
      this.drop(grant);
    }
    const pointId = await grantingPoint(this.db, tenantId, agentId, id);
    if (pointId === undefined) return false;
    await this.load(holder, tenantId, pointId);
    return true;
  }

  private drop(grant: PointGrant): void {
    const at = this.grants.indexOf(grant);
    if (at < 0) return;
    this.grants.splice(at, 1);
    this.grantedIds -= grant.chunkIds.size;
  }

  /** Loads a point's chunk ids once, even when several channels ask for it at the same moment. */
  private async load(holder: string, tenantId: string, pointId: string): Promise<void> {
    const key = `${holder}/${pointId}`;
    if (this.tooLarge.has(pointId)) return;
    if (this.grants.some((g) => g.holder === holder && g.pointId === pointId)) return;
    const pending = this.loading.get(key);
    if (pending !== undefined) return pending;
    const loaded = this.fetchGrant(holder, tenantId, pointId).finally(() => this.loading.delete(key));
    this.loading.set(key, loaded);
    return loaded;
  }

  private async fetchGrant(holder: string, tenantId: string, pointId: string): Promise<void> {
    const max = this.limits.maxChunkIds;
    const { rows } = await this.db.query<{ hash: string }>(
      `SELECT encode(hash, 'hex') AS hash FROM chunk_refs WHERE tenant_id = $1 AND point_id = $2 LIMIT $3`,
      [tenantId, pointId, max + 1],
    );
    if (rows.length > max) {
      if (this.tooLarge.size >= 1000) this.tooLarge.clear();
      this.tooLarge.add(pointId); // this point stays checked chunk by chunk
      return;
    }
    while (this.grants.length > 0 && this.grantedIds + rows.length > max) this.drop(this.grants[0]!);
    const grant: PointGrant = { holder, pointId, chunkIds: new Set(rows.map((r) => r.hash)), checkedAt: this.now() };
    this.grants.push(grant);
    this.grantedIds += grant.chunkIds.size;
  }
}
