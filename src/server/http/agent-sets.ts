/**
 * The backup set of a machine's resource. The protocol names a set by its resource (the machine's
 * disks, e.g. its hostname); the catalog hangs sets on a resource row of the agent and a storage
 * pool. This module keeps that mapping in one place: one resource row per (agent, resource name),
 * one local pool per tenant ("default", the tenant's folder under the server's chunk store).
 *
 * A backup job may be created before its set exists: an encrypted set's key is made by the machine,
 * so the agent's first run creates it (`POST /v1/sets` with the wrapped key). Opening a set names it
 * in the agent's backup jobs of that resource that still name none (`linkWaitingJobs`).
 */
import type { WrappedKey } from '../../core/backup/manifest.ts';
import { isRecoveryError } from '../../core/errors.ts';
import type { Catalog } from '../catalog/catalog.ts';
import type { BackupSet, BlockSize, Job } from '../catalog/types.ts';
import { encryptionOf } from './views.ts';

export interface SetRequest {
  readonly resource: string;
  readonly codec: 'lz4' | 'none';
  readonly blockSize: number;
  readonly wrappedKey?: WrappedKey;
}

const POOL_NAME = 'default';

export class AgentSets {
  constructor(private readonly catalog: Catalog) {}

  /** The agent's set of `resource`, if it was opened before. */
  async find(tenantId: string, agentId: string, resource: string): Promise<BackupSet | undefined> {
    const resources = await this.catalog.listResources(tenantId, agentId);
    const row = resources.find((r) => r.name === resource);
    if (row === undefined) return undefined;
    return (await this.catalog.listBackupSets(tenantId)).find((s) => s.resourceId === row.id);
  }

  /**
   * Finds or creates the agent's set of `request.resource`. A set's codec, block size and key are
   * fixed at creation. The agent's backup jobs of that resource that wait for their set get it.
   */
  async open(tenantId: string, agentId: string, request: SetRequest, diskBytes: bigint): Promise<BackupSet> {
    const set = await this.findOrCreate(tenantId, agentId, request, diskBytes);
    await this.linkWaitingJobs(tenantId, agentId, request.resource, set);
    return set;
  }

  /**
   * Names `set` in the agent's backup jobs of `resource` that name no set yet (created before it
   * existed). Idempotent; a job deleted meanwhile is passed over.
   */
  async linkWaitingJobs(tenantId: string, agentId: string, resource: string, set: BackupSet): Promise<void> {
    const waiting = (await this.catalog.listJobs(tenantId)).filter((j) => j.agentId === agentId && waitsForSetOf(j, resource));
    for (const job of waiting) {
      try {
        await this.catalog.addJobSet(tenantId, job.id, set.id);
      } catch (e) {
        if (!isRecoveryError(e) || e.code !== 'catalog.not-found') throw e;
      }
    }
  }

  private async findOrCreate(tenantId: string, agentId: string, request: SetRequest, diskBytes: bigint): Promise<BackupSet> {
    const existing = await this.find(tenantId, agentId, request.resource);
    if (existing !== undefined) return existing;
    const resource = await this.catalog.upsertResource(tenantId, agentId, {
      name: request.resource,
      diskIdentity: `resource:${request.resource}`,
      sizeBytes: diskBytes > 0n ? diskBytes : 1n,
      sectorSize: 512,
    });
    const input = {
      resourceId: resource.id,
      poolId: await this.poolOf(tenantId),
      encryption: request.wrappedKey === undefined ? null : encryptionOf(request.wrappedKey),
      codec: request.codec,
      blockSize: request.blockSize as BlockSize,
    };
    // Set names are unique per tenant: another machine may already use this resource name.
    for (const name of [request.resource, `${request.resource}@${agentId.slice(0, 8)}`, `${request.resource}@${agentId}`]) {
      try {
        return await this.catalog.createBackupSet(tenantId, { ...input, name });
      } catch (e) {
        if (!isRecoveryError(e) || e.code !== 'catalog.conflict') throw e;
        const raced = await this.find(tenantId, agentId, request.resource);
        if (raced !== undefined) return raced;
      }
    }
    throw new Error(`no free name for the backup set of ${request.resource}`);
  }

  /** True when the set holds one of this agent's resources. */
  async owns(tenantId: string, agentId: string, set: BackupSet): Promise<boolean> {
    return (await this.catalog.listResources(tenantId, agentId)).some((r) => r.id === set.resourceId);
  }

  /** resource id → its name and agent, for listings. */
  async resourceIndex(tenantId: string): Promise<Map<string, { name: string; agentId: string }>> {
    const index = new Map<string, { name: string; agentId: string }>();
    for (const agent of await this.catalog.listAgents(tenantId)) {
      for (const r of await this.catalog.listResources(tenantId, agent.id)) index.set(r.id, { name: r.name, agentId: agent.id });
    }
    return index;
  }

  private async poolOf(tenantId: string): Promise<string> {
    const find = async () => (await this.catalog.listPools(tenantId)).find((p) => p.name === POOL_NAME);
    const existing = await find();
    if (existing !== undefined) return existing.id;
    try {
      return (await this.catalog.createPool(tenantId, { name: POOL_NAME, kind: 'local', config: { path: `chunks/${tenantId}` } })).id;
    } catch (e) {
      const raced = await find();
      if (raced !== undefined) return raced.id;
      throw e;
    }
  }
}

/** A backup job of `resource` (its protocol spec is kept as `spec.job`, views.ts) that names no set yet. */
function waitsForSetOf(job: Job, resource: string): boolean {
  if (job.kind !== 'backup' || job.spec.setIds.length > 0) return false;
  const spec = (job.spec as unknown as { job?: { resource?: unknown } }).job;
  return spec?.resource === resource;
}
