/** Agents (backup sources and restore targets), their binding by an admin, and their disks. */
import type { SqlDatabase } from './sql-database.ts';
import type { Agent, AgentRegistration, Firmware, JsonObject, Resource, ResourceInput } from './types.ts';
import { invalid, isUuid, json, mapConstraintErrors, notFound, requireId, requireObject, requireText } from './values.ts';

interface AgentRow {
  id: string;
  tenant_id: string;
  machine_id: string;
  hostname: string;
  firmware: Firmware;
  hardware: JsonObject;
  registered_at: Date;
  last_heartbeat: Date;
  bound_by: string | null;
  bound_at: Date | null;
}

/** Online when the last heartbeat is at most `offlineAfterMs` old at `now`. */
export function isOnline(lastHeartbeat: Date, now: Date, offlineAfterMs: number): boolean {
  return now.getTime() - lastHeartbeat.getTime() <= offlineAfterMs;
}

function toAgent(r: AgentRow, now: Date, offlineAfterMs: number): Agent {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    machineId: r.machine_id,
    hostname: r.hostname,
    firmware: r.firmware,
    hardware: r.hardware,
    registeredAt: r.registered_at,
    lastHeartbeat: r.last_heartbeat,
    online: isOnline(r.last_heartbeat, now, offlineAfterMs),
    bound: r.bound_at !== null,
    boundBy: r.bound_by,
    boundAt: r.bound_at,
  };
}

export interface AgentClock {
  readonly now: Date;
  readonly offlineAfterMs: number;
}

/**
 * Registers a machine, or refreshes what it reports when it registers again (same machine id):
 * the binding and the registration time are kept.
 */
export async function registerAgent(db: SqlDatabase, tenantId: string, reg: AgentRegistration, clock: AgentClock): Promise<Agent> {
  if (reg.firmware !== 'bios' && reg.firmware !== 'uefi') throw invalid(`Firmware must be 'bios' or 'uefi', not ${String(reg.firmware)}`);
  const { rows } = await mapConstraintErrors(
    db.query<AgentRow>(
      `INSERT INTO agents (tenant_id, machine_id, hostname, firmware, hardware, registered_at, last_heartbeat)
       VALUES ($1, $2, $3, $4, $5::jsonb, $6, $6)
       ON CONFLICT (tenant_id, machine_id) DO UPDATE
         SET hostname = excluded.hostname, firmware = excluded.firmware, hardware = excluded.hardware,
             last_heartbeat = greatest(agents.last_heartbeat, excluded.last_heartbeat)
       RETURNING *`,
      [
        requireId(tenantId, 'tenant'),
        requireText(reg.machineId, 'machineId'),
        reg.hostname,
        reg.firmware,
        json(requireObject(reg.hardware, 'hardware')),
        clock.now,
      ],
    ),
    { missing: `No tenant ${tenantId}` },
  );
  return toAgent(rows[0]!, clock.now, clock.offlineAfterMs);
}

export async function heartbeat(db: SqlDatabase, tenantId: string, agentId: string, now: Date): Promise<void> {
  const { rowCount } = await db.query(
    'UPDATE agents SET last_heartbeat = greatest(last_heartbeat, $3) WHERE tenant_id = $1 AND id = $2',
    [requireId(tenantId, 'tenant'), requireId(agentId, 'agent'), now],
  );
  if (rowCount === 0) throw notFound('agent', agentId);
}

export async function getAgent(db: SqlDatabase, tenantId: string, agentId: string, clock: AgentClock): Promise<Agent | null> {
  if (!isUuid(tenantId) || !isUuid(agentId)) return null;
  const { rows } = await db.query<AgentRow>('SELECT * FROM agents WHERE tenant_id = $1 AND id = $2', [tenantId, agentId]);
  return rows[0] === undefined ? null : toAgent(rows[0], clock.now, clock.offlineAfterMs);
}

export async function listAgents(db: SqlDatabase, tenantId: string, clock: AgentClock): Promise<Agent[]> {
  if (!isUuid(tenantId)) return [];
  const { rows } = await db.query<AgentRow>('SELECT * FROM agents WHERE tenant_id = $1 ORDER BY hostname, id', [tenantId]);
  return rows.map((r) => toAgent(r, clock.now, clock.offlineAfterMs));
}

/** An admin authorizes the machine: only bound agents get jobs and may read backup sets. */
export async function bindAgent(db: SqlDatabase, tenantId: string, agentId: string, by: string, clock: AgentClock): Promise<Agent> {
  const { rows } = await db.query<AgentRow>(
    `UPDATE agents SET bound_by = coalesce(bound_by, $3), bound_at = coalesce(bound_at, $4)
     WHERE tenant_id = $1 AND id = $2 RETURNING *`,
    [requireId(tenantId, 'tenant'), requireId(agentId, 'agent'), requireText(by, 'by'), clock.now],
  );
  if (rows[0] === undefined) throw notFound('agent', agentId);
  return toAgent(rows[0], clock.now, clock.offlineAfterMs);
}

export async function unbindAgent(db: SqlDatabase, tenantId: string, agentId: string, clock: AgentClock): Promise<Agent> {
  const { rows } = await db.query<AgentRow>(
    'UPDATE agents SET bound_by = NULL, bound_at = NULL WHERE tenant_id = $1 AND id = $2 RETURNING *',
    [requireId(tenantId, 'tenant'), requireId(agentId, 'agent')],
  );
  if (rows[0] === undefined) throw notFound('agent', agentId);
  return toAgent(rows[0], clock.now, clock.offlineAfterMs);
}

interface ResourceRow {
  id: string;
  tenant_id: string;
  agent_id: string;
  name: string;
  disk_identity: string;
  size_bytes: bigint;
  sector_size: 512 | 4096;
  updated_at: Date;
}

const toResource = (r: ResourceRow): Resource => ({
  id: r.id,
  tenantId: r.tenant_id,
  agentId: r.agent_id,
  name: r.name,
  diskIdentity: r.disk_identity,
  sizeBytes: r.size_bytes,
  sectorSize: r.sector_size,
  updatedAt: r.updated_at,
});

/** Records one disk of an agent, keyed by its identity; a disk seen again is updated in place. */
export async function upsertResource(db: SqlDatabase, tenantId: string, agentId: string, input: ResourceInput, now: Date): Promise<Resource> {
  if (typeof input.sizeBytes !== 'bigint' || input.sizeBytes <= 0n) throw invalid('sizeBytes must be a positive bigint');
  if (input.sectorSize !== 512 && input.sectorSize !== 4096) throw invalid(`sectorSize must be 512 or 4096, not ${String(input.sectorSize)}`);
  // The conflict target includes tenant_id: another tenant's row never matches, so a foreign
  // agent id falls through to the INSERT and its composite foreign key.
  const { rows } = await mapConstraintErrors(
    db.query<ResourceRow>(
      `INSERT INTO resources (tenant_id, agent_id, name, disk_identity, size_bytes, sector_size, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (tenant_id, agent_id, disk_identity) DO UPDATE
         SET name = excluded.name, size_bytes = excluded.size_bytes, sector_size = excluded.sector_size, updated_at = excluded.updated_at
       RETURNING *`,
      [requireId(tenantId, 'tenant'), requireId(agentId, 'agent'), input.name, requireText(input.diskIdentity, 'diskIdentity'), input.sizeBytes, input.sectorSize, now],
    ),
    { missing: `No agent ${agentId} in this tenant` },
  );
  return toResource(rows[0]!);
}

export async function listResources(db: SqlDatabase, tenantId: string, agentId: string): Promise<Resource[]> {
  if (!isUuid(tenantId) || !isUuid(agentId)) return [];
  const { rows } = await db.query<ResourceRow>('SELECT * FROM resources WHERE tenant_id = $1 AND agent_id = $2 ORDER BY name, id', [tenantId, agentId]);
  return rows.map(toResource);
}
