/** Operator endpoints: targets, sets, jobs, runs and their logs. */
import { validateManifest } from '../../core/backup/manifest.ts';
import type { RestoreJobSpec } from '../../core/protocol/jobs.ts';
import { createJobRequestSchema, parseWith, pruneRequestSchema } from '../../core/protocol/schemas.ts';
import type { Catalog } from '../catalog/catalog.ts';
import type { Job } from '../catalog/types.ts';
import type { AgentSets } from './agent-sets.ts';
import type { Authenticator, OperatorCaller } from './auth.ts';
import { readJson } from './body.ts';
import type { ApiDeps } from './deps.ts';
import { refuse } from './errors.ts';
import { pruneSet } from './prune.ts';
import type { Route } from './router.ts';
import { jobInput, jobView, logEntry, pointView, runView, targetView } from './views.ts';

const LOG_PAGE = 1000;

export function operatorRoutes(deps: ApiDeps, auth: Authenticator, sets: AgentSets): Route[] {
  const { catalog } = deps;

  async function jobOf(caller: OperatorCaller, jobId: string): Promise<Job> {
    const job = await catalog.getJob(caller.tenantId, jobId);
    if (job === null) throw refuse.notFound('job', jobId);
    return job;
  }

  async function target(caller: OperatorCaller, agentId: string) {
    const agent = await catalog.getAgent(caller.tenantId, agentId);
    if (agent === null) throw refuse.notFound('target', agentId);
    return agent;
  }

  return [
    // ---------------------------------------------------------------- targets
    {
      method: 'GET', path: '/v1/targets',
      async handle({ req }) {
        const caller = await auth.operator(req, 'catalog.read');
        return { json: { targets: (await catalog.listAgents(caller.tenantId)).map(targetView) } };
      },
    },
    {
      method: 'GET', path: '/v1/targets/:agentId',
      async handle({ req, params }) {
        const caller = await auth.operator(req, 'catalog.read');
        return { json: targetView(await target(caller, params.agentId as string)) };
      },
    },
    {
      method: 'POST', path: '/v1/targets/:agentId/bind',
      async handle({ req, params }) {
        const caller = await auth.operator(req, 'agent.bind');
        await readJson(req);
        await target(caller, params.agentId as string);
        const agent = await catalog.bindAgent(caller.tenantId, params.agentId as string, caller.name);
        deps.log(`target ${agent.id} (${agent.hostname}) bound by ${caller.name}`);
        return { json: targetView(agent) };
      },
    },
    {
      method: 'POST', path: '/v1/targets/:agentId/unbind',
      async handle({ req, params }) {
        const caller = await auth.operator(req, 'agent.unbind');
        await readJson(req);
        await target(caller, params.agentId as string);
        const agent = await catalog.unbindAgent(caller.tenantId, params.agentId as string);
        auth.forgetAgent(agent.id);
        return { json: targetView(agent) };
      },
    },

    // ---------------------------------------------------------------- sets
    {
      method: 'GET', path: '/v1/sets',
      async handle({ req }) {
        const caller = await auth.operator(req, 'catalog.read');
        const index = await sets.resourceIndex(caller.tenantId);
        const list = [];
        for (const s of await catalog.listBackupSets(caller.tenantId)) {
          const resource = index.get(s.resourceId);
          const points = await catalog.listRestorePoints(caller.tenantId, s.id);
          list.push({
            setId: s.id, name: s.name, resource: resource?.name ?? s.name, codec: s.codec === 'lz4' ? 'lz4' : 'none', blockSize: s.blockSize,
            encrypted: s.encryption !== null, createdAt: s.createdAt.toISOString(), ...(resource ? { agentId: resource.agentId } : {}),
            points: points.map(pointView),
          });
        }
        return { json: { sets: list } };
      },
    },
    {
      method: 'POST', path: '/v1/sets/:setId/prune',
      async handle({ req, params }) {
        const caller = await auth.operator(req, 'pool.manage');
        const { keep } = parseWith(pruneRequestSchema, await readJson(req), 'request.malformed');
        const set = await catalog.getBackupSet(caller.tenantId, params.setId as string);
        if (set === null) throw refuse.notFound('backup set', params.setId as string);
        const result = await pruneSet(catalog, await deps.storeOf(caller.tenantId), caller.tenantId, set.id, keep);
        deps.log(`set ${set.name} pruned by ${caller.name}: ${result.deletedPoints.length} points, ${result.removedChunks} chunks (${result.freedBytes} bytes)`);
        return { json: result };
      },
    },

    // ---------------------------------------------------------------- jobs
    {
      method: 'POST', path: '/v1/jobs',
      async handle({ req }) {
        const caller = await auth.operator(req, 'job.create');
        const request = parseWith(createJobRequestSchema, await readJson(req), 'request.malformed');
        await target(caller, request.agentId);
        let setIds: string[];
        if (request.spec.kind === 'restore') {
          await checkRestoreSpec(catalog, caller.tenantId, request.spec);
          setIds = [request.spec.setId];
        } else {
          // An encrypted set's key is made by the machine: until its first run creates the set, the
          // job names none, and opening the set names it in the job (AgentSets.linkWaitingJobs).
          const spec = request.spec;
          let set = await sets.find(caller.tenantId, request.agentId, spec.resource);
          if (set === undefined && !spec.encrypted) {
            set = await sets.open(caller.tenantId, request.agentId, {
              resource: spec.resource, codec: spec.options.compression === 'fast' ? 'lz4' : 'none', blockSize: spec.options.blockSize,
            }, 0n);
          }
          setIds = set === undefined ? [] : [set.id];
        }
        const job = await catalog.createJob(caller.tenantId, jobInput(request.name, request.agentId, request.schedule, request.spec, setIds, request.enabled));
        if (request.spec.kind === 'backup' && setIds.length === 0) {
          // The machine may have created the set while the job was being created.
          const made = await sets.find(caller.tenantId, request.agentId, request.spec.resource);
          if (made !== undefined) await sets.linkWaitingJobs(caller.tenantId, request.agentId, request.spec.resource, made);
        }
        deps.wakeScheduler();
        deps.log(`job ${job.name} (${job.kind}) created by ${caller.name}`);
        return { status: 201, json: jobView(job) };
      },
    },
    {
      method: 'GET', path: '/v1/jobs',
      async handle({ req }) {
        const caller = await auth.operator(req, 'catalog.read');
        return { json: { jobs: (await catalog.listJobs(caller.tenantId)).map(jobView) } };
      },
    },
    {
      method: 'GET', path: '/v1/jobs/:jobId',
      async handle({ req, params }) {
        const caller = await auth.operator(req, 'catalog.read');
        return { json: jobView(await jobOf(caller, params.jobId as string)) };
      },
    },
    {
      method: 'DELETE', path: '/v1/jobs/:jobId',
      async handle({ req, params }) {
        const caller = await auth.operator(req, 'job.delete');
        await jobOf(caller, params.jobId as string);
        await catalog.deleteJob(caller.tenantId, params.jobId as string);
        return undefined;
      },
    },
    {
      method: 'POST', path: '/v1/jobs/:jobId/start',
      async handle({ req, params }) {
        const caller = await auth.operator(req, 'job.run');
        await readJson(req);
        const job = await jobOf(caller, params.jobId as string);
        return { status: 201, json: runView(await catalog.startRun(caller.tenantId, job.id, 'manual')) };
      },
    },
    {
      method: 'POST', path: '/v1/jobs/:jobId/cancel',
      async handle({ req, params }) {
        const caller = await auth.operator(req, 'job.run');
        await readJson(req);
        const job = await jobOf(caller, params.jobId as string);
        const active = (await catalog.listRuns(caller.tenantId, job.id)).find((r) => r.state === 'queued' || r.state === 'running');
        if (active === undefined) throw refuse.conflict(`job ${job.name} has no queued or running run`, { jobId: job.id });
        const run = await catalog.finishRun(caller.tenantId, active.id, { state: 'cancelled', report: { cancelledBy: caller.name } });
        return { json: runView(run) };
      },
    },
    {
      method: 'GET', path: '/v1/jobs/:jobId/runs',
      async handle({ req, params }) {
        const caller = await auth.operator(req, 'catalog.read');
        const job = await jobOf(caller, params.jobId as string);
        return { json: { runs: (await catalog.listRuns(caller.tenantId, job.id)).map(runView) } };
      },
    },
    {
      method: 'GET', path: '/v1/runs/:runId',
      async handle({ req, params }) {
        const caller = await auth.operator(req, 'catalog.read');
        const run = await catalog.getRun(caller.tenantId, params.runId as string);
        if (run === null) throw refuse.notFound('run', params.runId as string);
        return { json: runView(run) };
      },
    },
    {
      method: 'GET', path: '/v1/runs/:runId/logs',
      async handle({ req, url, params }) {
        const caller = await auth.operator(req, 'catalog.read');
        const afterText = url.searchParams.get('after') ?? '0';
        if (!/^\d{1,15}$/.test(afterText)) throw refuse.badParameter('after must be a whole number', { parameter: 'after' });
        const run = await catalog.getRun(caller.tenantId, params.runId as string);
        if (run === null) throw refuse.notFound('run', params.runId as string);
        const events = await catalog.listRunEvents(caller.tenantId, run.id, Number(afterText));
        const ended = run.state !== 'queued' && run.state !== 'running';
        const last = events[events.length - 1];
        return { json: { entries: events.slice(0, LOG_PAGE).map(logEntry), next: last?.id ?? Number(afterText), final: ended && events.length < LOG_PAGE } };
      },
    },
  ];
}

/** The point is committed and of the set, and every mapped disk and partition exists in its manifest. */
async function checkRestoreSpec(catalog: Catalog, tenantId: string, spec: RestoreJobSpec): Promise<void> {
  const point = await catalog.getRestorePoint(tenantId, spec.pointId);
  if (point === null || point.setId !== spec.setId) throw refuse.notFound('restore point of backup set', `${spec.setId}/${spec.pointId}`);
  if (point.state !== 'committed' || point.manifest === null) throw refuse.conflict(`restore point ${spec.pointId} is ${point.state}; only committed points restore`, { pointId: point.id });
  const manifest = validateManifest(point.manifest);
  spec.disks.forEach((mapping, i) => {
    const disk = manifest.disks.find((d) => d.number === mapping.sourceDisk);
    if (disk === undefined) throw refuse.malformed(`the restore point has no disk ${mapping.sourceDisk}`, { path: `spec.disks[${i}].sourceDisk` });
    const numbers = new Set(disk.layout.partitions.map((p) => p.number));
    const unknown = mapping.partitions.find((n) => !numbers.has(n));
    if (unknown !== undefined) throw refuse.malformed(`disk ${mapping.sourceDisk} of the restore point has no partition ${unknown}`, { path: `spec.disks[${i}].partitions` });
  });
  const targets = spec.disks.map((d) => d.targetDisk);
  if (new Set(targets).size !== targets.length) throw refuse.malformed('two source disks map onto one target disk', { path: 'spec.disks' });
}
