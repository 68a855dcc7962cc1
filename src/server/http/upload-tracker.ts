/**
 * The restore point each agent is uploading now. The port's `missingChunks` and `putChunk` name no
 * point, but the catalog's garbage collector keeps a chunk for an upload only once the upload's
 * point references it. So chunks an agent learns it may skip, or has just stored, are referenced
 * from its latest uploading point at once: a prune running meanwhile cannot take them.
 * Remembered in memory; after a restart it is looked up in the catalog again.
 */
import type { Catalog } from '../catalog/catalog.ts';
import type { AgentSets } from './agent-sets.ts';

export class UploadTracker {
  private readonly current = new Map<string, string>();

  constructor(
    private readonly catalog: Catalog,
    private readonly sets: AgentSets,
  ) {}

  begun(tenantId: string, agentId: string, pointId: string): void {
    this.current.set(`${tenantId}/${agentId}`, pointId);
  }

  ended(tenantId: string, agentId: string, pointId: string): void {
    if (this.current.get(`${tenantId}/${agentId}`) === pointId) this.current.delete(`${tenantId}/${agentId}`);
  }

  /** The agent's most recently begun point that is still uploading. */
  async pointOf(tenantId: string, agentId: string): Promise<string | undefined> {
    const key = `${tenantId}/${agentId}`;
    const known = this.current.get(key);
    if (known !== undefined) {
      const point = await this.catalog.getRestorePoint(tenantId, known);
      if (point?.state === 'uploading') return known;
      this.current.delete(key);
    }
    let latest: { id: string; startedAt: number } | undefined;
    const resources = new Set((await this.catalog.listResources(tenantId, agentId)).map((r) => r.id));
    for (const set of await this.catalog.listBackupSets(tenantId)) {
      if (!resources.has(set.resourceId)) continue;
      for (const p of await this.catalog.listRestorePoints(tenantId, set.id, { includeUncommitted: true })) {
        if (p.state === 'uploading' && (latest === undefined || p.startedAt.getTime() > latest.startedAt)) latest = { id: p.id, startedAt: p.startedAt.getTime() };
      }
    }
    if (latest !== undefined) this.current.set(key, latest.id);
    return latest?.id;
  }
}
