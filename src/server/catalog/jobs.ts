/** Backup and restore jobs, what is due, and which sets an agent may read. */
import { RecoveryError } from '../../core/errors.ts';
import { firstRun, isOneShot, parseSchedule, type Schedule, type ScheduleKind } from '../../core/schedule.ts';
import type { SqlDatabase, SqlQueryable } from './sql-database.ts';
import type { BackupSpec, Job, JobInput, JobKind, JsonObject, RestorePointState, RestoreSpec } from './types.ts';
import { invalid, isUuid, json, notFound, requireId, requireObject, requireText } from './values.ts';

/** Seed §5.4: a restore runs now, once at a time, or when started by hand. */
export const RESTORE_SCHEDULE_KINDS: readonly ScheduleKind[] = ['now', 'once', 'manual'];

interface JobRow {
  id: string;
  tenant_id: string;
  name: string;
  kind: JobKind;
  agent_id: string;
  schedule: Schedule;
  options: JsonObject;
  spec: BackupSpec | RestoreSpec;
  enabled: boolean;
  next_run_at: Date | null;
  created_at: Date;
}

export function toJob(r: JobRow): Job {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    name: r.name,
    kind: r.kind,
    agentId: r.agent_id,
    schedule: r.schedule,
    options: r.options,
    spec: r.spec,
    enabled: r.enabled,
    nextRunAt: r.next_run_at,
    createdAt: r.created_at,
  } as Job;
}

/**
 * The sets a job's spec names, checked for shape. A backup job may name none yet: its set does not
 * exist until the machine's first run creates it (an encrypted set, whose key only the machine can
 * make); `addJobSet` names it then.
 */
function setsOf(input: JobInput): string[] {
  requireObject(input.spec, 'spec');
  if (input.kind === 'backup') {
    const ids = input.spec.setIds;
    if (!Array.isArray(ids)) throw invalid('A backup job needs spec.setIds, a list (empty while its set does not exist yet)');
    return [...new Set(ids.map((id) => requireId(id, 'backup set')))];
  }
  const s = input.spec;
  requireId(s.pointId, 'restore point');
  if (!Array.isArray(s.diskMapping) || s.diskMapping.length === 0) throw invalid('A restore job needs spec.diskMapping, a non-empty list');
  if (s.rebuild !== 'full' && s.rebuild !== 'partial') throw invalid(`spec.rebuild must be 'full' or 'partial'`);
  if (s.partitions !== 'all' && !(Array.isArray(s.partitions) && s.partitions.every((n) => Number.isInteger(n) && n > 0))) {
    throw invalid(`spec.partitions must be 'all' or a list of partition numbers`);
  }
  return [requireId(s.setId, 'backup set')];
}

/**
 * Creates a job for a bound agent. Backup jobs name sets of the agent's own disks; restore jobs
 * name a committed point of their set and run now, once or by hand.
 */
export async function createJob(db: SqlDatabase, tenantId: string, input: JobInput, now: Date): Promise<Job> {
  requireId(tenantId, 'tenant');
  requireText(input.name, 'name');
  if (input.kind !== 'backup' && input.kind !== 'restore') throw invalid(`Job kind must be 'backup' or 'restore'`);
  const schedule = parseSchedule(input.schedule);
  if (input.kind === 'restore' && !RESTORE_SCHEDULE_KINDS.includes(schedule.kind)) {
    throw invalid(`A restore job's schedule must be one of ${RESTORE_SCHEDULE_KINDS.join(', ')}`, { kind: schedule.kind });
  }
  requireObject(input.options, 'options');
  const setIds = setsOf(input);
  const enabled = input.enabled ?? true;
  return db.transaction(async (tx) => {
    await requireBoundAgent(tx, tenantId, requireId(input.agentId, 'agent'));
    if (input.kind === 'restore') await requireCommittedPoint(tx, tenantId, input.spec);
    else await requireAgentSets(tx, tenantId, input.agentId, setIds);
    const { rows } = await tx.query<JobRow>(
      `INSERT INTO jobs (tenant_id, name, kind, agent_id, schedule, options, spec, point_id, enabled, next_run_at, created_at)
       VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, $7::jsonb, $8, $9, $10, $11) RETURNING *`,
      [
        tenantId,
        input.name,
        input.kind,
        input.agentId,
        json(schedule),
        json(input.options),
        json(input.spec),
        input.kind === 'restore' ? input.spec.pointId : null,
        enabled,
        firstRun(schedule, now),
        now,
      ],
    );
    const job = rows[0]!;
    await tx.query('INSERT INTO job_sets (tenant_id, job_id, set_id) SELECT $1, $2, s FROM unnest($3::uuid[]) AS s', [tenantId, job.id, setIds]);
    return toJob(job);
  });
}

/** The job's row, locked for the rest of the transaction; not-found when the tenant has no such job. */
async function lockJob(tx: SqlQueryable, tenantId: string, jobId: string): Promise<JobRow> {
  const { rows } = await tx.query<JobRow>('SELECT * FROM jobs WHERE tenant_id = $1 AND id = $2 FOR UPDATE', [requireId(tenantId, 'tenant'), requireId(jobId, 'job')]);
  const job = rows[0];
  if (job === undefined) throw notFound('job', jobId);
  return job;
}

/**
 * Names `setId` among the sets a backup job writes (its job_sets row and `spec.setIds`): for a job
 * created before its set existed. The set must hold one of the job's agent's resources; naming it
 * again changes nothing.
 */
export async function addJobSet(db: SqlDatabase, tenantId: string, jobId: string, setId: string): Promise<Job> {
  return db.transaction(async (tx) => {
    const job = await lockJob(tx, tenantId, jobId);
    if (job.kind !== 'backup') throw invalid(`Job ${jobId} is a ${job.kind} job; only backup jobs write sets`, { jobId });
    await requireAgentSets(tx, tenantId, job.agent_id, [requireId(setId, 'backup set')]);
    const setIds = [...new Set([...((job.spec as BackupSpec).setIds ?? []), setId])];
    await tx.query('INSERT INTO job_sets (tenant_id, job_id, set_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [tenantId, jobId, setId]);
    const { rows: updated } = await tx.query<JobRow>(
      `UPDATE jobs SET spec = jsonb_set(spec, '{setIds}', $3::jsonb) WHERE tenant_id = $1 AND id = $2 RETURNING *`,
      [tenantId, jobId, json(setIds)],
    );
    return toJob(updated[0]!);
  });
}

async function requireBoundAgent(tx: SqlQueryable, tenantId: string, agentId: string): Promise<void> {
  const { rows } = await tx.query<{ bound: boolean }>('SELECT bound_at IS NOT NULL AS bound FROM agents WHERE tenant_id = $1 AND id = $2 FOR SHARE', [
    tenantId,
    agentId,
  ]);
  if (rows[0] === undefined) throw notFound('agent', agentId);
  if (!rows[0].bound) {
    throw new RecoveryError('catalog.agent-unbound', `Agent ${agentId} is not bound; an admin must bind it before it gets jobs`, { data: { agentId } });
  }
}

async function requireCommittedPoint(tx: SqlQueryable, tenantId: string, spec: RestoreSpec): Promise<void> {
  const { rows } = await tx.query<{ state: RestorePointState; set_id: string }>(
    'SELECT state, set_id FROM restore_points WHERE tenant_id = $1 AND id = $2 FOR SHARE',
    [tenantId, spec.pointId],
  );
  const point = rows[0];
  if (point === undefined || point.set_id !== spec.setId) throw notFound('restore point of backup set', `${spec.setId}/${spec.pointId}`);
  if (point.state !== 'committed') {
    throw new RecoveryError('catalog.point-not-committed', `Restore point ${spec.pointId} is ${point.state}; only committed points restore`, {
      data: { pointId: spec.pointId, state: point.state },
    });
  }
}

async function requireAgentSets(tx: SqlQueryable, tenantId: string, agentId: string, setIds: readonly string[]): Promise<void> {
  const { rows } = await tx.query<{ id: string }>(
    `SELECT s.id FROM backup_sets s JOIN resources r ON r.tenant_id = s.tenant_id AND r.id = s.resource_id
     WHERE s.tenant_id = $1 AND r.agent_id = $2 AND s.id = ANY ($3::uuid[])`,
    [tenantId, agentId, setIds],
  );
  const found = new Set(rows.map((r) => r.id));
  const foreign = setIds.filter((id) => !found.has(id));
  if (foreign.length > 0) throw notFound(`backup set of agent ${agentId}`, foreign.join(', '));
}

export async function getJob(db: SqlDatabase, tenantId: string, jobId: string): Promise<Job | null> {
  if (!isUuid(tenantId) || !isUuid(jobId)) return null;
  const { rows } = await db.query<JobRow>('SELECT * FROM jobs WHERE tenant_id = $1 AND id = $2', [tenantId, jobId]);
  return rows[0] === undefined ? null : toJob(rows[0]);
}

export async function listJobs(db: SqlDatabase, tenantId: string): Promise<Job[]> {
  if (!isUuid(tenantId)) return [];
  const { rows } = await db.query<JobRow>('SELECT * FROM jobs WHERE tenant_id = $1 ORDER BY created_at, id', [tenantId]);
  return rows.map(toJob);
}

/**
 * Enables or disables a job. Enabling a recurring job plans its next run from `now` (no burst of
 * missed runs); one-shot plans keep what they had.
 */
export async function setJobEnabled(db: SqlDatabase, tenantId: string, jobId: string, enabled: boolean, now: Date): Promise<Job> {
  return db.transaction(async (tx) => {
    const job = await lockJob(tx, tenantId, jobId);
    const next = enabled && !job.enabled && !isOneShot(job.schedule) ? firstRun(job.schedule, now) : job.next_run_at;
    const { rows: updated } = await tx.query<JobRow>('UPDATE jobs SET enabled = $2, next_run_at = $3 WHERE id = $1 RETURNING *', [jobId, enabled, next]);
    return toJob(updated[0]!);
  });
}

/** Deletes a job with its runs, events and journal; refused while it has a queued or running run. */
export async function deleteJob(db: SqlDatabase, tenantId: string, jobId: string): Promise<void> {
  await db.transaction(async (tx) => {
    await lockJob(tx, tenantId, jobId);
    const { rows: active } = await tx.query(`SELECT 1 FROM job_runs WHERE job_id = $1 AND state IN ('queued', 'running')`, [jobId]);
    if (active.length > 0) throw new RecoveryError('catalog.job-busy', `Job ${jobId} has a run in progress`, { data: { jobId } });
    await tx.query('DELETE FROM jobs WHERE id = $1', [jobId]);
  });
}

/**
 * Enabled jobs whose next run is at or before `now` and that have no run queued or running,
 * earliest first. The scheduler's query: across all tenants unless `tenantId` is given.
 */
export async function dueJobs(db: SqlDatabase, now: Date, tenantId?: string, limit = 100): Promise<Job[]> {
  if (tenantId !== undefined && !isUuid(tenantId)) return [];
  const { rows } = await db.query<JobRow>(
    `SELECT * FROM jobs j
     WHERE j.enabled AND j.next_run_at IS NOT NULL AND j.next_run_at <= $1 AND ($2::uuid IS NULL OR j.tenant_id = $2)
       AND NOT EXISTS (SELECT 1 FROM job_runs r WHERE r.job_id = j.id AND r.state IN ('queued', 'running'))
     ORDER BY j.next_run_at, j.id LIMIT $3`,
    [now, tenantId ?? null, limit],
  );
  return rows.map(toJob);
}

/** True only when a job assigned to this (bound) agent names the set. */
export async function agentMayReadSet(db: SqlDatabase, tenantId: string, agentId: string, setId: string): Promise<boolean> {
  if (!isUuid(tenantId) || !isUuid(agentId) || !isUuid(setId)) return false;
  const { rows } = await db.query<{ allowed: boolean }>(
    `SELECT EXISTS (
       SELECT 1 FROM job_sets js
       JOIN jobs j ON j.id = js.job_id AND j.tenant_id = js.tenant_id
       JOIN agents a ON a.id = j.agent_id AND a.tenant_id = j.tenant_id
       WHERE js.tenant_id = $1 AND j.agent_id = $2 AND js.set_id = $3 AND a.bound_at IS NOT NULL) AS allowed`,
    [tenantId, agentId, setId],
  );
  return rows[0]?.allowed === true;
}
