/**
 * Job runs: queued by the scheduler or an operator, claimed by the job's agent, ended once.
 *   queued → running → succeeded | failed | cancelled | idle      (queued → cancelled | idle too)
 * At most one run per job is queued or running (a partial unique index holds this).
 */
import { RecoveryError } from '../../core/errors.ts';
import { isOneShot, nextRunAfter, type Schedule } from '../../core/schedule.ts';
import { toJob } from './jobs.ts';
import type { SqlDatabase } from './sql-database.ts';
import type { EventLevel, FinalRunState, Job, JobRun, JsonObject, RunEvent, RunEventInput, RunLogLine, RunState } from './types.ts';
import { invalid, isUuid, json, notFound, requireId, requireObject, requireText } from './values.ts';

interface RunRow {
  id: string;
  tenant_id: string;
  job_id: string;
  trigger: 'schedule' | 'manual';
  state: RunState;
  queued_at: Date;
  started_at: Date | null;
  ended_at: Date | null;
  progress: JsonObject;
  report: JsonObject | null;
  error_code: string | null;
  error_message: string | null;
}

const toRun = (r: RunRow): JobRun => ({
  id: r.id,
  tenantId: r.tenant_id,
  jobId: r.job_id,
  trigger: r.trigger,
  state: r.state,
  queuedAt: r.queued_at,
  startedAt: r.started_at,
  endedAt: r.ended_at,
  progress: r.progress,
  report: r.report,
  errorCode: r.error_code,
  errorMessage: r.error_message,
});

const ACTIVE = `('queued', 'running')`;

/**
 * Queues a run of an enabled job and, atomically, plans the job's next run: a scheduled start
 * moves `nextRunAt` past `now` (missed runs are not replayed); any start of a one-shot job
 * clears it. Throws `catalog.job-busy` when a run is already queued or running.
 */
export async function startRun(db: SqlDatabase, tenantId: string, jobId: string, trigger: 'schedule' | 'manual', now: Date): Promise<JobRun> {
  requireId(tenantId, 'tenant');
  requireId(jobId, 'job');
  return db.transaction(async (tx) => {
    const { rows: jobs } = await tx.query<{ enabled: boolean; schedule: Schedule; next_run_at: Date | null }>(
      'SELECT enabled, schedule, next_run_at FROM jobs WHERE tenant_id = $1 AND id = $2 FOR UPDATE',
      [tenantId, jobId],
    );
    const job = jobs[0];
    if (job === undefined) throw notFound('job', jobId);
    if (!job.enabled) throw new RecoveryError('catalog.job-disabled', `Job ${jobId} is disabled`, { data: { jobId } });
    const { rows: active } = await tx.query(`SELECT 1 FROM job_runs WHERE job_id = $1 AND state IN ${ACTIVE}`, [jobId]);
    if (active.length > 0) throw new RecoveryError('catalog.job-busy', `Job ${jobId} has a run in progress`, { data: { jobId } });
    const next = isOneShot(job.schedule) ? null : trigger === 'schedule' ? nextRunAfter(job.schedule, now) : job.next_run_at;
    await tx.query('UPDATE jobs SET next_run_at = $2 WHERE id = $1', [jobId, next]);
    const { rows } = await tx.query<RunRow>(
      `INSERT INTO job_runs (tenant_id, job_id, trigger, state, queued_at) VALUES ($1, $2, $3, 'queued', $4) RETURNING *`,
      [tenantId, jobId, trigger, now],
    );
    return toRun(rows[0]!);
  });
}

/**
 * The agent asks for work. An agent asks only while it runs nothing, so a run of its that is still
 * "running" was interrupted (the appliance was killed or the machine rebooted): it gets that run
 * back first, to resume it from the job's journal. Otherwise its oldest queued run becomes running.
 * Null when there is none.
 */
export async function claimRun(db: SqlDatabase, tenantId: string, agentId: string, now: Date): Promise<{ run: JobRun; job: Job } | null> {
  if (!isUuid(tenantId) || !isUuid(agentId)) return null;
  return db.transaction(async (tx) => {
    const { rows } = await tx.query<{ id: string }>(
      `SELECT r.id FROM job_runs r JOIN jobs j ON j.id = r.job_id AND j.tenant_id = r.tenant_id
       WHERE r.tenant_id = $1 AND j.agent_id = $2 AND r.state IN ('running', 'queued')
       ORDER BY (r.state = 'running') DESC, r.queued_at, r.id LIMIT 1 FOR UPDATE OF r SKIP LOCKED`,
      [tenantId, agentId],
    );
    if (rows[0] === undefined) return null;
    const { rows: runs } = await tx.query<RunRow>(`UPDATE job_runs SET state = 'running', started_at = COALESCE(started_at, $2) WHERE id = $1 RETURNING *`, [rows[0].id, now]);
    const run = toRun(runs[0]!);
    const { rows: jobs } = await tx.query<Parameters<typeof toJob>[0]>('SELECT * FROM jobs WHERE id = $1', [run.jobId]);
    return { run, job: toJob(jobs[0]!) };
  });
}

export async function getRun(db: SqlDatabase, tenantId: string, runId: string): Promise<JobRun | null> {
  if (!isUuid(tenantId) || !isUuid(runId)) return null;
  const { rows } = await db.query<RunRow>('SELECT * FROM job_runs WHERE tenant_id = $1 AND id = $2', [tenantId, runId]);
  return rows[0] === undefined ? null : toRun(rows[0]);
}

/** Runs of a job, newest first. */
export async function listRuns(db: SqlDatabase, tenantId: string, jobId: string, limit = 50): Promise<JobRun[]> {
  if (!isUuid(tenantId) || !isUuid(jobId)) return [];
  const { rows } = await db.query<RunRow>('SELECT * FROM job_runs WHERE tenant_id = $1 AND job_id = $2 ORDER BY queued_at DESC, id LIMIT $3', [
    tenantId,
    jobId,
    limit,
  ]);
  return rows.map(toRun);
}

/** Replaces the progress of a running run (the latest snapshot is what matters). */
export async function updateRunProgress(db: SqlDatabase, tenantId: string, runId: string, progress: JsonObject): Promise<JobRun> {
  const { rows } = await db.query<RunRow>(`UPDATE job_runs SET progress = $3::jsonb WHERE tenant_id = $1 AND id = $2 AND state = 'running' RETURNING *`, [
    requireId(tenantId, 'tenant'),
    requireId(runId, 'run'),
    json(requireObject(progress, 'progress')),
  ]);
  if (rows[0] !== undefined) return toRun(rows[0]);
  throw await notActive(db, tenantId, runId, 'running');
}

async function notActive(db: SqlDatabase, tenantId: string, runId: string, wanted: string): Promise<RecoveryError> {
  const run = await getRun(db, tenantId, runId);
  if (run === null) return notFound('run', runId);
  return new RecoveryError('catalog.run-not-active', `Run ${runId} is ${run.state}, not ${wanted}`, { data: { runId, state: run.state } });
}

export interface RunEnd {
  readonly state: FinalRunState;
  readonly report?: JsonObject;
  /** Required when the run failed. */
  readonly error?: { readonly code: string; readonly message: string };
}

/**
 * Ends a queued or running run. Ending it again the same way returns it unchanged (a retried
 * request); ending an ended run differently throws `catalog.run-not-active`.
 */
export async function finishRun(db: SqlDatabase, tenantId: string, runId: string, end: RunEnd, now: Date): Promise<JobRun> {
  if (!['succeeded', 'failed', 'cancelled', 'idle'].includes(end.state)) throw invalid(`A run cannot end as ${String(end.state)}`);
  if (end.state === 'failed' && end.error === undefined) throw invalid('A failed run needs an error code and message');
  if (end.state === 'succeeded' && end.error !== undefined) throw invalid('A succeeded run has no error');
  const { rows } = await db.query<RunRow>(
    `UPDATE job_runs SET state = $3, ended_at = $4, report = $5::jsonb, error_code = $6, error_message = $7
     WHERE tenant_id = $1 AND id = $2 AND state IN ${ACTIVE} RETURNING *`,
    [
      requireId(tenantId, 'tenant'),
      requireId(runId, 'run'),
      end.state,
      now,
      end.report === undefined ? null : json(requireObject(end.report, 'report')),
      end.error?.code ?? null,
      end.error?.message ?? null,
    ],
  );
  if (rows[0] !== undefined) return toRun(rows[0]);
  const run = await getRun(db, tenantId, runId);
  if (run !== null && run.state === end.state) return run;
  throw await notActive(db, tenantId, runId, 'queued or running');
}

const LEVELS: readonly EventLevel[] = ['debug', 'info', 'warning', 'error'];

interface EventRow {
  id: bigint;
  run_id: string;
  at: Date;
  level: EventLevel;
  message: string;
  data: JsonObject;
}

const toEvent = (r: EventRow): RunEvent => ({ id: Number(r.id), runId: r.run_id, at: r.at, level: r.level, message: r.message, data: r.data });

export async function appendRunEvent(db: SqlDatabase, tenantId: string, runId: string, e: RunEventInput): Promise<RunEvent> {
  if (!LEVELS.includes(e.level)) throw invalid(`Event level must be one of ${LEVELS.join(', ')}`);
  // Selecting the run inside the INSERT keeps the event in the run's tenant: no row, no insert.
  const { rows } = await db.query<EventRow>(
    `INSERT INTO run_events (tenant_id, run_id, at, level, message, data)
     SELECT tenant_id, id, $3, $4, $5, $6::jsonb FROM job_runs WHERE tenant_id = $1 AND id = $2
     RETURNING id, run_id, at, level, message, data`,
    [requireId(tenantId, 'tenant'), requireId(runId, 'run'), e.at, e.level, requireText(e.message, 'message'), json(e.data ?? {})],
  );
  if (rows[0] === undefined) throw notFound('run', runId);
  return toEvent(rows[0]);
}

/** Events of a run in order; pass the last id seen as `afterId` to get only newer ones. */
export async function listRunEvents(db: SqlDatabase, tenantId: string, runId: string, afterId = 0, limit = 1000): Promise<RunEvent[]> {
  if (!isUuid(tenantId) || !isUuid(runId)) return [];
  const { rows } = await db.query<EventRow>(
    'SELECT id, run_id, at, level, message, data FROM run_events WHERE tenant_id = $1 AND run_id = $2 AND id > $3 ORDER BY id LIMIT $4',
    [tenantId, runId, afterId, limit],
  );
  return rows.map(toEvent);
}

/** Raw log text from the agent (its log file, in pieces). */
export async function appendRunLog(db: SqlDatabase, tenantId: string, runId: string, text: string, at: Date): Promise<void> {
  const { rowCount } = await db.query(
    'INSERT INTO run_logs (tenant_id, run_id, at, text) SELECT tenant_id, id, $3, $4 FROM job_runs WHERE tenant_id = $1 AND id = $2',
    [requireId(tenantId, 'tenant'), requireId(runId, 'run'), at, text],
  );
  if (rowCount === 0) throw notFound('run', runId);
}

export async function readRunLog(db: SqlDatabase, tenantId: string, runId: string, afterId = 0, limit = 1000): Promise<RunLogLine[]> {
  if (!isUuid(tenantId) || !isUuid(runId)) return [];
  const { rows } = await db.query<{ id: bigint; at: Date; text: string }>(
    'SELECT id, at, text FROM run_logs WHERE tenant_id = $1 AND run_id = $2 AND id > $3 ORDER BY id LIMIT $4',
    [tenantId, runId, afterId, limit],
  );
  return rows.map((r) => ({ id: Number(r.id), at: r.at, text: r.text }));
}
