/**
 * The operator's side of the server's HTTP API (docs/protocol.md "Operators"), for the `lifeline`
 * operator commands and for tests. Answers are validated with the protocol schemas; errors are
 * RecoveryErrors with the server's code, as in the agent adapter.
 */
import { validateManifest, type BackupManifest } from '../../core/backup/manifest.ts';
import { RecoveryError } from '../../core/errors.ts';
import type { JobSpec } from '../../core/protocol/jobs.ts';
import {
  accessKeyCreatedSchema, accessKeyViewSchema, backupSetInfoSchema, healthSchema, jobViewSchema, logPageSchema, parseWith, pruneResultSchema,
  runViewSchema, targetViewSchema, tenantViewSchema, tokenCreatedSchema,
  type AccessKeyCreated, type AccessKeyView, type Health, type JobView, type LogPage, type PruneResult, type RunView, type SetView,
  type TargetView, type TenantView, type TokenCreated,
} from '../../core/protocol/schemas.ts';
import type { Schedule } from '../../core/schedule.ts';
import { z } from 'zod';
import { HttpTransport } from './http-transport.ts';

export interface OperatorConnectOptions {
  readonly url: string;
  readonly token: string;
  readonly fingerprint?: string;
  readonly timeoutMs?: number;
}

export interface CreateJobInput {
  readonly name: string;
  readonly agentId: string;
  readonly schedule: Schedule;
  readonly spec: JobSpec;
  readonly enabled?: boolean;
}

const targetsSchema = z.object({ targets: z.array(targetViewSchema) });
const setsSchema = z.object({ sets: z.array(backupSetInfoSchema) });
const jobsSchema = z.object({ jobs: z.array(jobViewSchema) });
const runsSchema = z.object({ runs: z.array(runViewSchema) });
const keysSchema = z.object({ keys: z.array(accessKeyViewSchema) });

export class OperatorClient {
  private readonly http: HttpTransport;
  private readonly auth: string;

  constructor(options: OperatorConnectOptions) {
    this.http = new HttpTransport({ url: options.url, connections: 4, ...(options.fingerprint ? { fingerprint: options.fingerprint } : {}), ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}) });
    this.auth = `Bearer ${options.token}`;
  }

  async health(): Promise<Health> {
    return parseWith(healthSchema, await this.http.json('GET', '/v1/health'));
  }

  // ---------------------------------------------------------------- targets
  async listTargets(): Promise<TargetView[]> {
    return parseWith(targetsSchema, await this.get('/v1/targets')).targets;
  }
  async getTarget(agentId: string): Promise<TargetView> {
    return parseWith(targetViewSchema, await this.get(`/v1/targets/${seg(agentId)}`));
  }
  async bind(agentId: string): Promise<TargetView> {
    return parseWith(targetViewSchema, await this.post(`/v1/targets/${seg(agentId)}/bind`, {}));
  }
  async unbind(agentId: string): Promise<TargetView> {
    return parseWith(targetViewSchema, await this.post(`/v1/targets/${seg(agentId)}/unbind`, {}));
  }

  // ---------------------------------------------------------------- sets
  async listSets(): Promise<SetView[]> {
    return parseWith(setsSchema, await this.get('/v1/sets')).sets;
  }
  /** With `allPoints`, uploading and deleting points are listed too. */
  async getSet(setId: string, options: { allPoints?: boolean } = {}): Promise<SetView> {
    return parseWith(backupSetInfoSchema, await this.get(`/v1/sets/${seg(setId)}`, options.allPoints ? { points: 'all' } : undefined));
  }
  async getManifest(pointId: string): Promise<BackupManifest> {
    const json = await this.get(`/v1/points/${seg(pointId)}/manifest`);
    try {
      return validateManifest(json);
    } catch (e) {
      throw new RecoveryError('protocol.bad-answer', `the server sent an invalid manifest for point ${pointId}`, { cause: e });
    }
  }
  async prune(setId: string, keep: number): Promise<PruneResult> {
    return parseWith(pruneResultSchema, await this.post(`/v1/sets/${seg(setId)}/prune`, { keep }));
  }

  // ---------------------------------------------------------------- jobs and runs
  async createJob(input: CreateJobInput): Promise<JobView> {
    return parseWith(jobViewSchema, await this.post('/v1/jobs', input));
  }
  async listJobs(): Promise<JobView[]> {
    return parseWith(jobsSchema, await this.get('/v1/jobs')).jobs;
  }
  async getJob(jobId: string): Promise<JobView> {
    return parseWith(jobViewSchema, await this.get(`/v1/jobs/${seg(jobId)}`));
  }
  async deleteJob(jobId: string): Promise<void> {
    await this.http.json('DELETE', `/v1/jobs/${seg(jobId)}`, { auth: this.auth });
  }
  async startJob(jobId: string): Promise<RunView> {
    return parseWith(runViewSchema, await this.post(`/v1/jobs/${seg(jobId)}/start`, {}));
  }
  async cancelJob(jobId: string): Promise<RunView> {
    return parseWith(runViewSchema, await this.post(`/v1/jobs/${seg(jobId)}/cancel`, {}));
  }
  /** Newest first. */
  async listRuns(jobId: string): Promise<RunView[]> {
    return parseWith(runsSchema, await this.get(`/v1/jobs/${seg(jobId)}/runs`)).runs;
  }
  async getRun(runId: string): Promise<RunView> {
    return parseWith(runViewSchema, await this.get(`/v1/runs/${seg(runId)}`));
  }
  /** Events of a run after event id `after`; `final` once the run ended and nothing is left. */
  async logs(runId: string, after = 0): Promise<LogPage> {
    return parseWith(logPageSchema, await this.get(`/v1/runs/${seg(runId)}/logs`, { after }));
  }

  // ---------------------------------------------------------------- administration
  async createTenant(name: string): Promise<TenantView> {
    return parseWith(tenantViewSchema, await this.post('/v1/tenants', { name }));
  }
  async createAccessKey(options: { label?: string; tenantId?: string } = {}): Promise<AccessKeyCreated> {
    return parseWith(accessKeyCreatedSchema, await this.post('/v1/access-keys', options));
  }
  async listAccessKeys(tenantId?: string): Promise<AccessKeyView[]> {
    return parseWith(keysSchema, await this.get('/v1/access-keys', tenantId ? { tenant: tenantId } : undefined)).keys;
  }
  async revokeAccessKey(keyId: string, tenantId?: string): Promise<void> {
    await this.http.json('POST', `/v1/access-keys/${seg(keyId)}/revoke`, { auth: this.auth, body: {}, ...(tenantId ? { query: { tenant: tenantId } } : {}) });
  }
  async createToken(options: { name: string; role: 'admin' | 'operator'; tenantId?: string }): Promise<TokenCreated> {
    return parseWith(tokenCreatedSchema, await this.post('/v1/tokens', options));
  }

  async close(): Promise<void> {
    await this.http.close();
  }

  private get(path: string, query?: Record<string, string | number>): Promise<unknown> {
    return this.http.json('GET', path, { auth: this.auth, ...(query ? { query } : {}) });
  }

  private post(path: string, body: unknown): Promise<unknown> {
    return this.http.json('POST', path, { auth: this.auth, body });
  }
}

export function connectOperator(options: OperatorConnectOptions): OperatorClient {
  return new OperatorClient(options);
}

function seg(value: string): string {
  return encodeURIComponent(value);
}
