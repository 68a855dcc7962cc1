/** The appliance's session with the server: statuses, binding, reconnects, and --once semantics. */
import { describe, expect, it } from 'vitest';
import { MemoryBackupServer } from '../../../../src/adapters/memory/memory-backup-server.ts';
import { MemoryDisk } from '../../../../src/adapters/memory/memory-disk.ts';
import { AgentSession } from '../../../../src/app/agent-session.ts';
import type { AgentStatus } from '../../../../src/app/agent-session.ts';
import { runRestoreJob } from '../../../../src/app/restore/run-restore-job.ts';
import { RecoveryError } from '../../../../src/core/errors.ts';
import type { AgentIdentity, AssignedRun, RunOutcome } from '../../../../src/core/protocol/jobs.ts';
import type { AgentActivity } from '../../../../src/ports/backup-server.ts';
import { DEFAULT_RESTORE_OPTIONS } from '../../../../src/core/protocol/jobs.ts';
import { backupMemoryDisk, depsFor, DISK_BYTES, fullDisk, inventoryOf, makeSourceDisk, restoreRun, sha256, YieldingClock } from './restore-fixtures.ts';

function identity(disks: readonly MemoryDisk[]): AgentIdentity {
  return { machineId: 'vm-42', hostname: 'restore-vm', inventory: inventoryOf(disks.map((d) => ({ path: d.path, sizeBytes: d.geometry.sizeBytes }))) };
}

function record(session: AgentSession): AgentStatus['state'][] {
  const states: AgentStatus['state'][] = [];
  session.subscribe((s) => {
    if (states[states.length - 1] !== s.state) states.push(s.state);
  });
  return states;
}

describe('AgentSession', () => {
  it('registers, takes the assigned restore run and ends after it with --once, restored and reported', async () => {
    const server = new MemoryBackupServer();
    await server.register({ machineId: 'source', hostname: 'source', inventory: { firmware: 'uefi', disks: [], nics: [] } });
    const source = await makeSourceDisk();
    const backup = await backupMemoryDisk(server, source);
    const target = MemoryDisk.create(BigInt(DISK_BYTES), { path: 'target' });
    const run = restoreRun(backup, [fullDisk('target')]);
    server.assign(run);
    const clock = new YieldingClock();
    const session = new AgentSession({
      server, clock, identity: identity([target]),
      runRestore: (r, signal) => runRestoreJob(r, depsFor(server, [target], clock), signal),
    });
    const states = record(session);
    const outcome = await session.run({ once: true });
    expect(outcome?.state).toBe('succeeded');
    expect(states).toEqual(['connecting', 'bound', 'job-running', 'job-done']);
    expect(server.identity?.machineId).toBe('vm-42');
    expect(server.identity?.inventory.disks.map((d) => d.path)).toEqual(['target']);
    expect(server.runs.get(run.runId)?.outcome?.state).toBe('succeeded');
    expect(sha256(target.durableSnapshot())).toBe(sha256(source.snapshot()));
  });

  it('waits unbound until an administrator binds the machine, then runs the job', async () => {
    const server = new MemoryBackupServer({ bound: false });
    const clock = new YieldingClock();
    const ran: string[] = [];
    const session = new AgentSession({
      server, clock, identity: identity([]), pollMs: 5_000,
      runRestore: async (r): Promise<RunOutcome> => {
        ran.push(r.runId);
        const outcome: RunOutcome = { state: 'succeeded', steps: [] };
        await server.finishRun(r.runId, outcome);
        return outcome;
      },
    });
    const states = record(session);
    const run: AssignedRun = { runId: 'r1', jobId: 'j1', jobName: 'later', spec: { kind: 'restore', setId: 's', pointId: 'p', disks: [], options: DEFAULT_RESTORE_OPTIONS } };
    // The operator binds the machine and creates the job while it polls unbound (before its third heartbeat).
    let beats = 0;
    const heartbeat = server.heartbeat.bind(server);
    server.heartbeat = async (activity: AgentActivity) => {
      if (++beats === 3) {
        server.bound = true;
        server.assign(run);
      }
      return heartbeat(activity);
    };
    const outcome = await session.run({ once: true });
    expect(outcome?.state).toBe('succeeded');
    expect(ran).toEqual(['r1']);
    expect(states).toEqual(['connecting', 'online-unbound', 'bound', 'job-running', 'job-done']);
    expect(clock.sleeps.filter((ms) => ms === 5_000).length).toBeGreaterThanOrEqual(2);
  });

  it('keeps reconnecting through retryable failures, with the reason in the status', async () => {
    const server = new MemoryBackupServer();
    for (let i = 0; i < 3; i++) server.failNext('register', new RecoveryError('network.unreachable', 'connection refused', { retryable: true }));
    server.failNext('heartbeat', new RecoveryError('server.busy', 'busy', { retryable: true }));
    const clock = new YieldingClock();
    const reasons: string[] = [];
    const session = new AgentSession({ server, clock, identity: identity([]), runRestore: async () => ({ state: 'failed', steps: [] }) });
    session.subscribe((s) => {
      if (s.state === 'connecting' && s.reason) reasons.push(s.reason);
    });
    const stop = new AbortController();
    session.subscribe((s) => {
      if (s.state === 'bound' && reasons.length === 4) stop.abort();
    });
    await expect(session.run({ signal: stop.signal })).resolves.toBeUndefined();
    expect(reasons).toEqual([
      'network.unreachable: connection refused', 'network.unreachable: connection refused', 'network.unreachable: connection refused', 'server.busy: busy',
    ]);
    expect(clock.sleeps.slice(0, 3)).toEqual([1000, 2000, 5000]);
    expect(session.status.state).toBe('stopped');
  });

  it('ends in error on a failure retrying cannot fix', async () => {
    const server = new MemoryBackupServer();
    server.failNext('register', new RecoveryError('auth.bad-access-key', 'the access key is unknown or revoked'));
    const session = new AgentSession({ server, clock: new YieldingClock(), identity: identity([]), runRestore: async () => ({ state: 'failed', steps: [] }) });
    await expect(session.run({ once: true })).rejects.toMatchObject({ code: 'auth.bad-access-key' });
    expect(session.status).toEqual({ state: 'error', code: 'auth.bad-access-key', message: 'the access key is unknown or revoked' });
  });

  it('finishes a backup run as failed: the appliance only restores', async () => {
    const server = new MemoryBackupServer();
    const run: AssignedRun = {
      runId: 'b1', jobId: 'j', jobName: 'nightly', spec: {
        kind: 'backup', resource: 'pc', sources: ['disk0'], encrypted: false,
        options: { compression: 'fast', channels: 1, blockSize: 262144, onlyUsedBlocks: true, reconnectWindowMinutes: 10, resumeBufferBytes: 10485760, utcOffsetMinutes: 0 },
      },
    };
    server.assign(run);
    let restores = 0;
    const session = new AgentSession({ server, clock: new YieldingClock(), identity: identity([]), runRestore: async () => (restores++, { state: 'succeeded', steps: [] }) });
    const outcome = await session.run({ once: true });
    expect(restores).toBe(0);
    expect(outcome?.error?.code).toBe('agent.unsupported-job');
    expect(server.runs.get('b1')?.outcome?.state).toBe('failed');
    expect(session.status.state).toBe('job-failed');
  });

  it('executes a backup run through runBackup when the agent backs up, and refuses restores then', async () => {
    const server = new MemoryBackupServer();
    const backup: AssignedRun = {
      runId: 'b2', jobId: 'j', jobName: 'nightly', spec: {
        kind: 'backup', resource: 'pc', sources: ['disk0'], encrypted: false,
        options: { compression: 'fast', channels: 1, blockSize: 262144, onlyUsedBlocks: true, reconnectWindowMinutes: 10, resumeBufferBytes: 10485760, utcOffsetMinutes: 0 },
      },
    };
    const restore: AssignedRun = { runId: 'r2', jobId: 'j2', jobName: 'restore', spec: { kind: 'restore', setId: 's', pointId: 'p', disks: [], options: DEFAULT_RESTORE_OPTIONS } };
    server.assign(backup);
    server.assign(restore);
    const ran: string[] = [];
    const session = new AgentSession({
      server, clock: new YieldingClock(), identity: identity([]),
      runBackup: async (r, signal) => {
        ran.push(`${r.runId}:${signal === stop.signal}`);
        const outcome: RunOutcome = { state: 'succeeded', steps: [] };
        await server.finishRun(r.runId, outcome);
        return outcome;
      },
    });
    const stop = new AbortController();
    const outcomes: RunOutcome[] = [];
    session.subscribe((s) => {
      if (s.state === 'job-done' || s.state === 'job-failed') outcomes.push(s.outcome);
      if (outcomes.length === 2) stop.abort();
    });
    await session.run({ signal: stop.signal });
    expect(ran).toEqual(['b2:true']);
    expect(outcomes.map((o) => o.state)).toEqual(['succeeded', 'failed']);
    expect(server.runs.get('r2')?.outcome?.error?.code).toBe('agent.unsupported-job');
    expect(server.runs.get('r2')?.outcome?.error?.message).toMatch(/does not run restore jobs/);
  });

  it('heartbeats "running" while a long run executes', async () => {
    const server = new MemoryBackupServer();
    const beats: string[] = [];
    const heartbeat = server.heartbeat.bind(server);
    server.heartbeat = async (activity: AgentActivity, runId?: string) => {
      beats.push(`${activity}:${runId ?? ''}`);
      return heartbeat(activity);
    };
    const clock = new YieldingClock();
    server.assign({ runId: 'long', jobId: 'j', jobName: 'long', spec: { kind: 'restore', setId: 's', pointId: 'p', disks: [], options: DEFAULT_RESTORE_OPTIONS } });
    const session = new AgentSession({
      server, clock, identity: identity([]), heartbeatMs: 10_000,
      runRestore: async () => {
        for (let i = 0; i < 40; i++) await clock.sleep(1_000);
        return { state: 'succeeded', steps: [] };
      },
    });
    await session.run({ once: true });
    expect(beats.filter((b) => b === 'running:long').length).toBeGreaterThanOrEqual(2);
  });
});
