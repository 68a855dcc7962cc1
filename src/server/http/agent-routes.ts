/** Agent endpoints: register, heartbeat, take the next run, and report on a run. */
import type { ResumeJournal } from '../../core/protocol/jobs.ts';
import {
  agentIdentitySchema, heartbeatRequestSchema, parseWith, resumeJournalSchema, runEventsSchema, runOutcomeSchema, runProgressSchema,
} from '../../core/protocol/schemas.ts';
import type { ByteRange, Job, JobRun, JsonObject } from '../catalog/types.ts';
import type { AgentCaller, Authenticator } from './auth.ts';
import { readJson } from './body.ts';
import type { ApiDeps } from './deps.ts';
import { refuse } from './errors.ts';
import type { Route } from './router.ts';
import { jobSpecOf, storedReport } from './views.ts';

/** Journal marks ride in the catalog's per-disk journal under this prefix (it has no marks of its own). */
const MARK = '#mark:';

export function agentRoutes(deps: ApiDeps, auth: Authenticator): Route[] {
  const { catalog } = deps;

  /** The run and its job, when the run is this agent's; others' runs do not exist for it. */
  async function ownRun(caller: AgentCaller, runId: string): Promise<{ run: JobRun; job: Job }> {
    const run = await catalog.getRun(caller.tenantId, runId);
    const job = run === null ? null : await catalog.getJob(caller.tenantId, run.jobId);
    if (run === null || job === null || job.agentId !== caller.agentId) throw refuse.notFound('run', runId);
    return { run, job };
  }

  return [
    {
      method: 'POST', path: '/v1/agents/register',
      async handle({ req }) {
        const tenantId = await auth.registeringTenant(req);
        const identity = parseWith(agentIdentitySchema, await readJson(req), 'request.malformed');
        const firmware = identity.inventory.firmware === 'unknown' ? 'uefi' : identity.inventory.firmware;
        const agent = await catalog.registerAgent(tenantId, {
          machineId: identity.machineId, hostname: identity.hostname, firmware, hardware: identity.inventory as unknown as JsonObject,
        });
        const secret = await deps.secrets.issueAgentSecret(tenantId, agent.id);
        auth.forgetAgent(agent.id);
        deps.log(`agent ${agent.id} (${identity.hostname}) registered${agent.bound ? '' : ', waiting to be bound'}`);
        return { json: { agentId: agent.id, secret, bound: agent.bound } };
      },
    },
    {
      method: 'POST', path: '/v1/agents/heartbeat',
      async handle({ req }) {
        const caller = await auth.agent(req);
        parseWith(heartbeatRequestSchema, await readJson(req), 'request.malformed');
        await catalog.heartbeat(caller.tenantId, caller.agentId);
        return { json: { bound: caller.agent.bound, nextPollMs: deps.pollMs } };
      },
    },
    {
      method: 'GET', path: '/v1/agents/next-run',
      async handle({ req }) {
        const caller = await auth.boundAgent(req);
        await catalog.heartbeat(caller.tenantId, caller.agentId);
        const claimed = await catalog.claimRun(caller.tenantId, caller.agentId);
        if (claimed === null) return undefined;
        return { json: { run: { runId: claimed.run.id, jobId: claimed.job.id, jobName: claimed.job.name, spec: jobSpecOf(claimed.job) } } };
      },
    },
    {
      method: 'POST', path: '/v1/runs/:runId/progress',
      async handle({ req, params }) {
        const caller = await auth.agent(req);
        const progress = parseWith(runProgressSchema, await readJson(req), 'request.malformed') as unknown as JsonObject;
        await ownRun(caller, params.runId as string);
        await catalog.updateRunProgress(caller.tenantId, params.runId as string, progress);
        return undefined;
      },
    },
    {
      method: 'POST', path: '/v1/runs/:runId/events',
      async handle({ req, params }) {
        const caller = await auth.agent(req);
        const { events } = parseWith(runEventsSchema, await readJson(req), 'request.malformed');
        await ownRun(caller, params.runId as string);
        for (const e of events) {
          await catalog.appendRunEvent(caller.tenantId, params.runId as string, {
            at: new Date(e.time), level: e.level, message: e.message, ...(e.data ? { data: e.data as JsonObject } : {}),
          });
        }
        return undefined;
      },
    },
    {
      method: 'GET', path: '/v1/runs/:runId/journal',
      async handle({ req, params }) {
        const caller = await auth.agent(req);
        const { job } = await ownRun(caller, params.runId as string);
        return { json: journalOf(await catalog.getJournal(caller.tenantId, job.id)) };
      },
    },
    {
      method: 'POST', path: '/v1/runs/:runId/journal',
      async handle({ req, params }) {
        const caller = await auth.agent(req);
        const update = parseWith(resumeJournalSchema, await readJson(req), 'request.malformed');
        const { job } = await ownRun(caller, params.runId as string);
        for (const [disk, ranges] of Object.entries(update.disks)) {
          if (disk.startsWith(MARK)) throw refuse.malformed(`a disk name may not start with ${MARK}`, { path: `disks.${disk}` });
          const byteRanges: ByteRange[] = ranges.filter((r) => r.length !== '0').map((r) => ({ start: BigInt(r.start), end: BigInt(r.start) + BigInt(r.length) }));
          if (byteRanges.length > 0) await catalog.mergeJournal(caller.tenantId, job.id, disk, byteRanges, params.runId);
        }
        for (const mark of update.marks) await catalog.mergeJournal(caller.tenantId, job.id, MARK + mark, [{ start: 0n, end: 1n }], params.runId);
        return undefined;
      },
    },
    {
      method: 'POST', path: '/v1/runs/:runId/finish',
      async handle({ req, params }) {
        const caller = await auth.agent(req);
        const outcome = parseWith(runOutcomeSchema, await readJson(req), 'request.malformed');
        const { job } = await ownRun(caller, params.runId as string);
        await catalog.finishRun(caller.tenantId, params.runId as string, {
          state: outcome.state,
          report: storedReport(outcome.steps, outcome.report),
          ...(outcome.error ? { error: { code: outcome.error.code, message: outcome.error.message } } : {}),
        });
        // A finished restore starts from scratch next time; anything else resumes where it stopped.
        if (outcome.state === 'succeeded') await catalog.clearJournal(caller.tenantId, job.id);
        deps.log(`run ${params.runId} of job ${job.name} ended: ${outcome.state}`);
        return undefined;
      },
    },
  ];
}

function journalOf(journal: Map<string, ByteRange[]>): ResumeJournal {
  const disks: Record<string, { start: string; length: string }[]> = {};
  const marks: string[] = [];
  for (const [disk, ranges] of journal) {
    if (disk.startsWith(MARK)) marks.push(disk.slice(MARK.length));
    else disks[disk] = ranges.map((r) => ({ start: r.start.toString(), length: (r.end - r.start).toString() }));
  }
  return { disks, marks };
}
