/**
 * The resume journal: per job and target disk, the byte ranges already done. Stored as a
 * PostgreSQL int8multirange, whose union merges overlapping and touching ranges by itself, so
 * `mergeJournal` is one atomic upsert and repeating it changes nothing (idempotent).
 * Keyed by job, not run: a new run of the same job resumes where the last one stopped; call
 * `clearJournal` when a run must start over (target disk changed, restore succeeded).
 */
import type { SqlDatabase } from './sql-database.ts';
import type { ByteRange } from './types.ts';
import { invalid, isUuid, mapConstraintErrors, requireId, requireText } from './values.ts';

const INT8_MAX = 2n ** 63n - 1n;

/** int8multirange literal of validated ranges, e.g. "{[0,512),[4096,8192)}". */
function multirange(ranges: readonly ByteRange[]): string {
  for (const r of ranges) {
    if (typeof r.start !== 'bigint' || typeof r.end !== 'bigint' || r.start < 0n || r.end <= r.start || r.end > INT8_MAX) {
      throw invalid(`Not a byte range [start, end): ${String(r.start)}, ${String(r.end)}`);
    }
  }
  return `{${ranges.map((r) => `[${r.start},${r.end})`).join(',')}}`;
}

interface RangeRow {
  disk: string;
  start: bigint;
  end: bigint;
}

/** Done ranges per disk, sorted, non-overlapping and non-touching. */
export async function getJournal(db: SqlDatabase, tenantId: string, jobId: string): Promise<Map<string, ByteRange[]>> {
  const journal = new Map<string, ByteRange[]>();
  if (!isUuid(tenantId) || !isUuid(jobId)) return journal;
  const { rows } = await db.query<RangeRow>(
    `SELECT j.disk, lower(r) AS start, upper(r) AS end FROM resume_journal j, unnest(j.done) AS r
     WHERE j.tenant_id = $1 AND j.job_id = $2 ORDER BY j.disk, lower(r)`,
    [tenantId, jobId],
  );
  for (const { disk, start, end } of rows) {
    const list = journal.get(disk) ?? [];
    list.push({ start, end });
    journal.set(disk, list);
  }
  return journal;
}

/** Adds done ranges for one disk of a job; returns that disk's merged ranges. */
export async function mergeJournal(
  db: SqlDatabase,
  tenantId: string,
  jobId: string,
  disk: string,
  ranges: readonly ByteRange[],
  at: { runId?: string; now: Date },
): Promise<ByteRange[]> {
  const literal = multirange(ranges);
  requireId(tenantId, 'tenant');
  requireId(jobId, 'job');
  requireText(disk, 'disk');
  const runId = at.runId === undefined ? null : requireId(at.runId, 'run');
  const { rows } = await mapConstraintErrors(
    db.query<RangeRow>(
      `WITH merged AS (
         INSERT INTO resume_journal (tenant_id, job_id, disk, done, run_id, updated_at) VALUES ($1, $2, $3, $4::int8multirange, $5, $6)
         ON CONFLICT (tenant_id, job_id, disk) DO UPDATE
           SET done = resume_journal.done + excluded.done, run_id = coalesce(excluded.run_id, resume_journal.run_id), updated_at = excluded.updated_at
         RETURNING disk, done)
       SELECT m.disk, lower(r) AS start, upper(r) AS end FROM merged m, unnest(m.done) AS r ORDER BY lower(r)`,
      [tenantId, jobId, disk, literal, runId, at.now],
    ),
    { missing: `No job ${jobId} in this tenant` },
  );
  return rows.map(({ start, end }) => ({ start, end }));
}

export async function clearJournal(db: SqlDatabase, tenantId: string, jobId: string): Promise<void> {
  await db.query('DELETE FROM resume_journal WHERE tenant_id = $1 AND job_id = $2', [requireId(tenantId, 'tenant'), requireId(jobId, 'job')]);
}
