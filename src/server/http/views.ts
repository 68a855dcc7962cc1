/**
 * Catalog records ⇄ wire shapes. The catalog's job spec and encryption columns are its own; the
 * protocol's JobSpec and WrappedKey travel inside them (`spec.job`, the encryption fields), so a
 * job read back is exactly the job that was created.
 */
import type { WrappedKey } from '../../core/backup/manifest.ts';
import { RecoveryError } from '../../core/errors.ts';
import type { JobSpec, RunProgress, StepReport } from '../../core/protocol/jobs.ts';
import {
  jobSpecSchema, runProgressSchema, stepReportSchema,
  type JobView, type LogEntry, type PointView, type RunView, type TargetView,
} from '../../core/protocol/schemas.ts';
import type { Agent, EncryptionParams, Job, JobInput, JobRun, JsonObject, RestorePoint, RunEvent } from '../catalog/types.ts';

export function targetView(a: Agent): TargetView {
  const inventory = a.hardware as unknown as TargetView['inventory'];
  return {
    agentId: a.id, machineId: a.machineId, hostname: a.hostname,
    firmware: inventory?.firmware ?? a.firmware,
    online: a.online, bound: a.bound, boundBy: a.boundBy, boundAt: iso(a.boundAt),
    registeredAt: a.registeredAt.toISOString(), lastHeartbeat: a.lastHeartbeat.toISOString(),
    ...(inventory ? { inventory } : {}),
  };
}

export function pointView(p: RestorePoint): PointView {
  return { pointId: p.id, sequence: p.sequence, state: p.state, startedAt: p.startedAt.toISOString(), committedAt: iso(p.committedAt), stats: p.stats as Record<string, unknown> };
}

// ---------------------------------------------------------------- jobs

/** The catalog's job input for a protocol JobSpec; `setIds` are the backup sets a backup job writes. */
export function jobInput(name: string, agentId: string, schedule: JobInput['schedule'], spec: JobSpec, setIds: readonly string[], enabled?: boolean): JobInput {
  const { options, ...rest } = spec;
  const common = { name, agentId, schedule, options: options as unknown as JsonObject, ...(enabled === undefined ? {} : { enabled }) };
  if (spec.kind === 'backup') return { ...common, kind: 'backup', spec: { setIds, job: rest } as unknown as { setIds: string[] } };
  const numbers = [...new Set(spec.disks.flatMap((d) => d.partitions))];
  const catalogSpec = {
    setId: spec.setId,
    pointId: spec.pointId,
    diskMapping: spec.disks.map((d) => ({ source: String(d.sourceDisk), target: d.targetDisk })),
    partitions: spec.disks.some((d) => d.partitions.length === 0) || numbers.length === 0 ? 'all' : numbers,
    rebuild: spec.disks[0]?.rebuild ?? 'full',
    job: rest,
  };
  return { ...common, kind: 'restore', spec: catalogSpec as unknown as Extract<JobInput, { kind: 'restore' }>['spec'] };
}

/** The protocol JobSpec a catalog job was made from. */
export function jobSpecOf(job: Job): JobSpec {
  const stored = (job.spec as unknown as { job?: Record<string, unknown> }).job;
  const parsed = jobSpecSchema.safeParse({ ...stored, options: job.options });
  if (!parsed.success) throw new RecoveryError('server.internal', `job ${job.id} was not created through the protocol and cannot be sent to an agent`, { data: { jobId: job.id } });
  return parsed.data;
}

export function jobView(job: Job): JobView {
  return {
    jobId: job.id, name: job.name, kind: job.kind, agentId: job.agentId, schedule: job.schedule, enabled: job.enabled,
    nextRunAt: iso(job.nextRunAt), createdAt: job.createdAt.toISOString(), spec: jobSpecOf(job) as JobView['spec'],
  };
}

// ---------------------------------------------------------------- runs

/** What finishRun stores as the catalog's report: the steps and the agent's own report. */
export function storedReport(steps: readonly StepReport[], report: Readonly<Record<string, unknown>> | undefined): JsonObject {
  return { steps, ...(report === undefined ? {} : { report }) } as unknown as JsonObject;
}

export function runView(run: JobRun): RunView {
  const progress = runProgressSchema.safeParse(run.progress);
  const stored = (run.report ?? {}) as { steps?: unknown; report?: unknown };
  const steps = Array.isArray(stored.steps) ? stored.steps.filter((s) => stepReportSchema.safeParse(s).success) as StepReport[] : [];
  const report = typeof stored.report === 'object' && stored.report !== null ? (stored.report as Record<string, unknown>) : null;
  return {
    runId: run.id, jobId: run.jobId, trigger: run.trigger, state: run.state,
    queuedAt: run.queuedAt.toISOString(), startedAt: iso(run.startedAt), endedAt: iso(run.endedAt),
    progress: progress.success ? (progress.data as RunProgress) as RunView['progress'] : null,
    steps: steps as RunView['steps'], report,
    error: run.errorCode === null ? null : { code: run.errorCode, message: run.errorMessage ?? '' },
  };
}

export function logEntry(e: RunEvent): LogEntry {
  return { id: e.id, time: e.at.toISOString(), level: e.level, message: e.message, ...(Object.keys(e.data).length > 0 ? { data: e.data as Record<string, unknown> } : {}) };
}

// ---------------------------------------------------------------- encryption

/** The set's WrappedKey in the catalog's encryption record. */
export function encryptionOf(k: WrappedKey): EncryptionParams {
  return { salt: k.salt, wrappedKey: `${k.nonce}:${k.ciphertext}:${k.tag}`, kdf: { algorithm: 'scrypt', n: k.n, r: k.r, p: k.p, cipher: k.cipher } };
}

export function wrappedKeyOf(e: EncryptionParams | null): WrappedKey | undefined {
  if (e === null) return undefined;
  const [nonce = '', ciphertext = '', tag = ''] = e.wrappedKey.split(':');
  return { cipher: 'aes-256-gcm', nonce, ciphertext, tag, kdf: 'scrypt', n: Number(e.kdf['n']), r: Number(e.kdf['r']), p: Number(e.kdf['p']), salt: e.salt };
}

function iso(d: Date | null): string | null {
  return d === null ? null : d.toISOString();
}
