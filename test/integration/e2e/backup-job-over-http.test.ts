/**
 * Backup jobs end to end over real HTTP: a GPT/UEFI fixture disk built with the real tools (sgdisk,
 * mkfs.vfat, mkntfs) is the disk of a machine whose `lifeline agent --headless --role backup --once`
 * runs as a child process; an operator creates the backup job with `lifeline job backup` against a
 * real server (startTestServer). The run must succeed with every step reported, progress seen by
 * the server while it copies, and a committed point in the machine's set; that point, restored by
 * the existing restore path (`lifeline agent --headless` onto a blank image), gives back identical
 * partition bytes. Failure paths: the source disk gone (failed, code, no point), a precondition
 * that does not hold (idle, nothing read), an operator cancelling mid-copy (cancelled, no point).
 * Encryption: an encrypted job is accepted before its set exists; the agent's first run creates the
 * set with the machine's passphrase, and a later run with a wrong one fails with nothing committed.
 */
import { spawn } from 'node:child_process';
import { copyFile, open, rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_RESTORE_OPTIONS } from '../../../src/core/protocol/jobs.ts';
import type { RunView } from '../../../src/core/protocol/schemas.ts';
import { parseCommandArgs, UsageError } from '../../../src/main/cli-kit.ts';
import { jobBackup, jobShow } from '../../../src/main/commands/job.ts';
import { makeGptUefiDisk, type FixtureDisk } from '../../helpers/fixture-disks.ts';
import { mustRun, runTool, tempDir } from '../../helpers/run.ts';
import { startTestServer, type TestServer } from '../../helpers/test-server.ts';

const CLI = new URL('../../../bin/lifeline.mjs', import.meta.url).pathname;

let work: { path: string; cleanup: () => Promise<void> };
let gpt: FixtureDisk;
let server: TestServer;
let counter = 0;

beforeAll(async () => {
  work = await tempDir('lifeline-backup-job-');
  gpt = await makeGptUefiDisk(work.path);
  server = await startTestServer();
}, 120_000);
afterAll(async () => {
  await server?.stop();
  await work?.cleanup();
});

// ---------------------------------------------------------------- helpers

interface AgentProcess {
  readonly stderr: () => string;
  readonly exited: Promise<{ code: number | null; out: string }>;
}

/** `lifeline agent --headless --once` as a child process, with a settings file for its identity and fast polling. */
async function spawnAgent(o: { machineId: string; role: 'backup' | 'restore'; disks: readonly string[]; extra?: readonly string[] }): Promise<AgentProcess> {
  const settings = join(work.path, `agent-${counter++}.json`);
  await writeFile(settings, JSON.stringify({ version: 1, machineId: o.machineId, hostname: o.machineId, pollSeconds: 1 }));
  const args = [CLI, 'agent', '--headless', '--role', o.role, '--settings', settings, '--server', new URL(server.url).host, '--firmware', 'uefi', '--once',
    ...o.disks.flatMap((d) => ['--disk', d]), ...(o.extra ?? [])];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
  const exited = new Promise<{ code: number | null; out: string }>((resolve) => child.on('close', (code) => resolve({ code, out })));
  return { stderr: () => err, exited };
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

async function bindMachine(machineId: string): Promise<string> {
  const target = await until(`${machineId} to register`, async () => (await server.admin.listTargets()).find((t) => t.machineId === machineId));
  if (!target.bound) await server.admin.bind(target.agentId);
  return target.agentId;
}

/** `lifeline job backup …` as an operator types it; returns the job id. */
async function createBackupJob(agentId: string, resource: string, source: string, extra: string[] = []): Promise<string> {
  const out: string[] = [];
  const err: string[] = [];
  const argv = ['--server', server.url, '--token', server.adminToken, '--json', '--target', agentId, '--resource', resource, '--source', source, ...extra];
  const code = await jobBackup.run(parseCommandArgs(jobBackup, argv), { out: (t) => out.push(t), err: (t) => err.push(t) });
  expect(code, err.join('\n')).toBe(0);
  return (JSON.parse(out.join('\n')) as { jobId: string }).jobId;
}

async function lastRun(jobId: string): Promise<RunView> {
  const [run] = await server.admin.listRuns(jobId);
  if (run === undefined) throw new Error(`job ${jobId} has no run`);
  return run;
}

function stepStatus(run: RunView): Record<string, string> {
  return Object.fromEntries(run.steps.map((s) => [s.step, s.outcome.status]));
}

async function setOf(agentId: string, resource: string) {
  return (await server.admin.listSets()).find((s) => s.agentId === agentId && s.resource === resource);
}

async function blankImage(sizeBytes: bigint): Promise<string> {
  const path = join(work.path, `target-${counter++}.img`);
  await writeFile(path, '');
  await truncate(path, Number(sizeBytes));
  return path;
}

async function sha256Range(path: string, offset: bigint, length: bigint): Promise<string> {
  const { createHash } = await import('node:crypto');
  const handle = await open(path, 'r');
  try {
    const hash = createHash('sha256');
    const buffer = Buffer.alloc(1024 * 1024);
    for (let at = 0n; at < length;) {
      const n = Number(length - at < BigInt(buffer.length) ? length - at : BigInt(buffer.length));
      const { bytesRead } = await handle.read(buffer, 0, n, Number(offset + at));
      if (bytesRead !== n) throw new Error(`short read of ${path} at ${offset + at}`);
      hash.update(buffer.subarray(0, n));
      at += BigInt(n);
    }
    return hash.digest('hex');
  } finally {
    await handle.close();
  }
}

/** A passphrase file as an agent's --passphrase-file reads it (the first line). */
/** A new restoring machine takes a restore job of the point onto a blank image; returns the image once the run succeeded. */
async function restoreByFreshAgent(setId: string, pointId: string, extra: readonly string[] = []): Promise<string> {
  const target = await blankImage(gpt.sizeBytes);
  const restoreMachine = `vm-${counter++}`;
  const restorer = await spawnAgent({ machineId: restoreMachine, role: 'restore', disks: [target], extra });
  const restoreAgent = await bindMachine(restoreMachine);
  const restoreJob = await server.admin.createJob({
    name: `restore ${counter++}`, agentId: restoreAgent, schedule: { kind: 'now' },
    spec: { kind: 'restore', setId, pointId, disks: [{ sourceDisk: 0, targetDisk: target, partitions: [], rebuild: 'full' }], options: DEFAULT_RESTORE_OPTIONS },
  });
  const restored = await restorer.exited;
  expect(restored.code, restorer.stderr()).toBe(0);
  expect((await lastRun(restoreJob.jobId)).state).toBe('succeeded');
  return target;
}

async function passphraseFile(passphrase: string): Promise<string> {
  const path = join(work.path, `passphrase-${counter++}.txt`);
  await writeFile(path, `${passphrase}\n`);
  return path;
}

/** A copy of the fixture disk, so a test may change or remove it. */
async function copyOfFixture(): Promise<string> {
  const path = join(work.path, `source-${counter++}.img`);
  await copyFile(gpt.path, path);
  return path;
}

// ---------------------------------------------------------------- acceptance

describe('backup jobs over HTTP, run by the backup agent process', () => {
  it('runs the job an operator created, commits a point, and that point restores to identical partition bytes', async () => {
    const source = await copyOfFixture();
    const machineId = `pc-${counter++}`;
    const marker = join(work.path, `pre-${counter++}`);
    const agent = await spawnAgent({ machineId, role: 'backup', disks: [source] });
    const agentId = await bindMachine(machineId);
    // Paced reads, so the server sees the copy in progress.
    const jobId = await createBackupJob(agentId, machineId, source, ['--read-limit', '6 MiB/s', '--channels', '2', '--pre-script', `echo quiesced > '${marker}'`, '--post-script', 'echo resumed']);

    const seen: RunView[] = [];
    const watching = until('the run to end', async () => {
      const runs = await server.admin.listRuns(jobId);
      if (runs[0]?.progress) seen.push(runs[0]);
      return runs[0] !== undefined && !['queued', 'running'].includes(runs[0].state) ? runs[0] : undefined;
    }, 120_000, 50);
    const exit = await agent.exited;
    const run = await watching;

    expect(exit.code, agent.stderr()).toBe(0);
    expect(JSON.parse(exit.out.trim())).toMatchObject({ runId: run.runId, state: 'succeeded', error: null });
    expect(run.state).toBe('succeeded');
    expect(stepStatus(run)).toEqual({
      precondition: 'skipped', prechecks: 'done', 'pre-script': 'done', set: 'done', snapshot: 'skipped',
      survey: 'done', copy: 'done', commit: 'done', 'post-script': 'done',
    });
    expect((await runTool('cat', [marker])).stdout.trim()).toBe('quiesced');

    // Progress as the server saw it: the copy under way, then all of it, per disk.
    const copying = seen.filter((r) => r.progress?.stage === 'copy' && BigInt(r.progress.bytesDone) < BigInt(r.progress.bytesTotal));
    expect(copying.length, JSON.stringify(seen.map((r) => r.progress?.stage))).toBeGreaterThan(0);
    expect(copying.some((r) => (r.progress?.diskBytesPerSecond ?? 0) > 0)).toBe(true);
    const final = run.progress!;
    expect(final.stage).toBe('done');
    expect(final.bytesDone).toBe(final.bytesTotal);
    expect(final.disks).toEqual([{ targetDisk: source, bytesDone: final.bytesTotal, bytesTotal: final.bytesTotal }]);

    // The point is in the machine's set, committed, and the report names it.
    const set = await setOf(agentId, machineId);
    expect(set?.points?.length).toBe(1);
    const point = set!.points![0]!;
    expect(run.report).toMatchObject({ committed: true, pointId: point.pointId, setId: set!.setId, resource: machineId });
    const manifest = await server.admin.getManifest(point.pointId);
    expect(manifest.source).toEqual({ hostname: machineId, firmware: 'uefi' });
    expect(manifest.disks[0]?.style).toBe('gpt');

    // The server's log of the run: every step as it ended, and the outcome. The snapshot step (here
    // the no-snapshot adapter: an image file) lasts from the survey to the end of the copy.
    const { entries } = await server.admin.logs(run.runId);
    expect(entries.filter((e) => typeof e.data?.step === 'string').map((e) => e.data?.step)).toEqual(
      ['precondition', 'prechecks', 'pre-script', 'set', 'survey', 'snapshot', 'copy', 'commit', 'post-script']);
    expect(run.steps.find((s) => s.step === 'snapshot')?.outcome).toMatchObject({ status: 'skipped', why: expect.stringContaining('not-volumes') });
    expect(manifest.vss).toMatchObject({ method: 'none', reason: 'not-volumes' });
    expect(entries.at(-1)?.message).toBe('backup succeeded');

    // The existing restore path gives the partitions back byte for byte.
    const target = await restoreByFreshAgent(set!.setId, point.pointId);
    for (const p of gpt.partitions) {
      expect(await sha256Range(target, p.offsetBytes, p.sizeBytes), `partition ${p.number} (${p.role})`).toBe(await sha256Range(source, p.offsetBytes, p.sizeBytes));
    }
    expect((await runTool('cmp', [source, target])).exitCode).toBe(0);
    expect(await mustRun('sgdisk', ['-v', target])).toMatch(/No problems found/);
  }, 180_000);
});

describe('lifeline job backup', () => {
  it('creates a job on a recurring plan, with its options, that job show describes', async () => {
    const machine = await server.agent({ identity: { hostname: 'pc-plan' } });
    const plan = { kind: 'weekly', everyWeeks: 1, weekdays: [1, 3, 5], at: '23:30', startDate: '2030-01-01', utcOffsetMinutes: 60 };
    const jobId = await createBackupJob(machine.agentId, 'pc-plan', '/dev/loop9', [
      '--schedule', JSON.stringify(plan), '--compression', 'none', '--block-size', '1M', '--channels', '3', '--all-blocks', '--firmware', 'bios',
      '--transfer-limit', '2 MiB/s mon-fri 08:00-18:00', '--post-script', 'echo done',
    ]);
    const job = await server.admin.getJob(jobId);
    expect(job).toMatchObject({ kind: 'backup', schedule: plan, nextRunAt: '2030-01-02T22:30:00.000Z', name: 'backup pc-plan' });
    expect(job.spec).toMatchObject({
      kind: 'backup', resource: 'pc-plan', sources: ['/dev/loop9'], firmware: 'bios', encrypted: false,
      options: { compression: 'none', blockSize: 1024 * 1024, channels: 3, onlyUsedBlocks: false, postScript: 'echo done' },
    });
    const out: string[] = [];
    await jobShow.run(parseCommandArgs(jobShow, ['--server', server.url, '--token', server.adminToken, jobId]), { out: (t) => out.push(t), err: () => undefined });
    expect(out.join('\n')).toMatch(/Backup {5}resource pc-plan, BIOS\n {2}disk 0 ← \/dev\/loop9/);
    // The set of an unencrypted job exists from the start, empty.
    expect((await setOf(machine.agentId, 'pc-plan'))?.points).toEqual([]);
  });

  it('refuses what it cannot send', async () => {
    const run = (argv: string[]) => jobBackup.run(parseCommandArgs(jobBackup, ['--server', server.url, '--token', server.adminToken, ...argv]), { out: () => undefined, err: () => undefined });
    await expect(run(['--target', 'x'])).rejects.toBeInstanceOf(UsageError);
    await expect(run(['--target', 'x', '--source', 'd', '--schedule', '{"kind":"daily"}'])).rejects.toThrow(/--schedule: Invalid schedule/);
    await expect(run(['--target', 'x', '--source', 'd', '--block-size', '3K'])).rejects.toThrow(/block size/);
  });
});

describe('encrypted backup jobs', () => {
  it('accepts a job before its set exists; the first run creates the set with the machine\'s passphrase and restores to identical bytes; a wrong passphrase later commits nothing', async () => {
    const source = await copyOfFixture();
    const machineId = `pc-${counter++}`;
    const passphrase = await passphraseFile('correct horse battery staple');
    const agent = await spawnAgent({ machineId, role: 'backup', disks: [source], extra: ['--passphrase-file', passphrase] });
    const agentId = await bindMachine(machineId);
    expect(await setOf(agentId, machineId)).toBeUndefined();

    // The server has no key to make the set with: it takes the job and leaves the set to the machine.
    const jobId = await createBackupJob(agentId, machineId, source, ['--encrypted']);
    expect((await server.admin.getJob(jobId)).spec).toMatchObject({ kind: 'backup', resource: machineId, encrypted: true });
    const exit = await agent.exited;
    expect(exit.code, agent.stderr()).toBe(0);
    const run = await lastRun(jobId);
    expect(run.state).toBe('succeeded');
    expect(stepStatus(run)).toMatchObject({ prechecks: 'done', set: 'done', copy: 'done', commit: 'done' });
    expect(run.steps.find((s) => s.step === 'set')?.outcome).toMatchObject({ detail: expect.stringContaining('encrypted') });

    const set = await setOf(agentId, machineId);
    expect(set).toMatchObject({ encrypted: true, resource: machineId });
    expect(set?.points?.length).toBe(1);
    const point = set!.points![0]!;
    expect(run.report).toMatchObject({ committed: true, encrypted: true, setId: set!.setId, pointId: point.pointId });
    const manifest = await server.admin.getManifest(point.pointId);
    expect(manifest.options.encrypted).toBe(true);
    // The job now names the set the machine created.
    const tenant = await server.server.catalog.defaultTenant();
    expect((await server.server.catalog.getJob(tenant.id, jobId))?.spec).toMatchObject({ setIds: [set!.setId] });

    // Restored with the passphrase (the restoring agent's own): identical bytes.
    const target = await restoreByFreshAgent(set!.setId, point.pointId, ['--passphrase-file', passphrase]);
    expect((await runTool('cmp', [source, target])).exitCode).toBe(0);

    // A later run of the same job on an agent holding another passphrase: refused at the set, nothing committed.
    const wrong = await spawnAgent({ machineId, role: 'backup', disks: [source], extra: ['--passphrase-file', await passphraseFile('not the passphrase')] });
    await bindMachine(machineId);
    await server.admin.startJob(jobId);
    const refused = await wrong.exited;
    expect(refused.code, wrong.stderr()).toBe(1);
    expect(JSON.parse(refused.out.trim())).toMatchObject({ state: 'failed', error: { code: 'crypto.wrong-passphrase' } });
    const failed = await lastRun(jobId);
    expect(failed.state).toBe('failed');
    expect(failed.error?.code).toBe('crypto.wrong-passphrase');
    expect(stepStatus(failed)).toMatchObject({ prechecks: 'done', set: 'failed', survey: 'skipped', copy: 'skipped', commit: 'skipped' });
    expect(failed.report).toMatchObject({ committed: false, pointId: null });
    expect((await server.admin.getSet(set!.setId, { allPoints: true })).points?.map((p) => p.pointId)).toEqual([point.pointId]);
  }, 240_000);
});

// ---------------------------------------------------------------- failure paths

describe('backup jobs that do not succeed', () => {
  it('fails with device.not-found when the source disk is gone, and commits no point', async () => {
    const source = await copyOfFixture();
    const machineId = `pc-${counter++}`;
    const agent = await spawnAgent({ machineId, role: 'backup', disks: [source] });
    const agentId = await bindMachine(machineId);
    await rm(source);
    const jobId = await createBackupJob(agentId, machineId, source);
    const exit = await agent.exited;
    expect(exit.code).toBe(1);
    expect(JSON.parse(exit.out.trim()).error.code).toBe('device.not-found');
    const run = await lastRun(jobId);
    expect(run.state).toBe('failed');
    expect(run.error?.code).toBe('device.not-found');
    expect(stepStatus(run)).toMatchObject({ prechecks: 'failed', set: 'skipped', copy: 'skipped', commit: 'skipped' });
    expect((await setOf(agentId, machineId))?.points ?? []).toEqual([]);
  }, 120_000);

  it('goes back to idle when the precondition does not hold: exit 3, nothing read or committed', async () => {
    const machineId = `pc-${counter++}`;
    const agent = await spawnAgent({ machineId, role: 'backup', disks: [gpt.path] });
    const agentId = await bindMachine(machineId);
    const jobId = await createBackupJob(agentId, machineId, gpt.path, ['--precondition', 'exit 1', '--pre-script', 'echo never']);
    const exit = await agent.exited;
    expect(exit.code).toBe(3);
    const run = await lastRun(jobId);
    expect(run.state).toBe('idle');
    expect(run.error).toBeNull();
    expect(stepStatus(run)).toEqual({
      precondition: 'done', prechecks: 'skipped', 'pre-script': 'skipped', set: 'skipped', snapshot: 'skipped',
      survey: 'skipped', copy: 'skipped', commit: 'skipped', 'post-script': 'skipped',
    });
    expect(run.progress).toBeNull();
    expect((await setOf(agentId, machineId))?.points ?? []).toEqual([]);
  }, 120_000);

  it('ends cancelled when the operator cancels mid-copy, and commits no point', async () => {
    const machineId = `pc-${counter++}`;
    const agent = await spawnAgent({ machineId, role: 'backup', disks: [gpt.path] });
    const agentId = await bindMachine(machineId);
    const jobId = await createBackupJob(agentId, machineId, gpt.path, ['--read-limit', '2 MiB/s']);
    await until('the copy to be under way', async () => ((await server.admin.listRuns(jobId))[0]?.progress?.stage === 'copy' ? true : undefined), 60_000, 50);
    await server.admin.cancelJob(jobId);
    const exit = await agent.exited;
    expect(exit.code).toBe(1);
    expect(JSON.parse(exit.out.trim())).toMatchObject({ state: 'cancelled', error: { code: 'backup.cancelled' } });
    const run = await lastRun(jobId);
    expect(run.state).toBe('cancelled');
    expect((await setOf(agentId, machineId))?.points ?? []).toEqual([]);
    const { entries } = await server.admin.logs(run.runId);
    expect(entries.some((e) => e.message.startsWith('backup cancelled'))).toBe(true);
  }, 120_000);

  it('refuses a restore job: a backup agent never writes its disks', async () => {
    const machineId = `pc-${counter++}`;
    const source = await copyOfFixture();
    const before = await sha256Range(source, 0n, gpt.sizeBytes);
    const backupMachine = await spawnAgent({ machineId, role: 'backup', disks: [source] });
    const agentId = await bindMachine(machineId);
    const jobId = await createBackupJob(agentId, machineId, source);
    expect((await backupMachine.exited).code).toBe(0);
    const set = await setOf(agentId, machineId);
    const again = await spawnAgent({ machineId, role: 'backup', disks: [source] });
    const restoreJob = await server.admin.createJob({
      name: `restore ${counter++}`, agentId, schedule: { kind: 'now' },
      spec: { kind: 'restore', setId: set!.setId, pointId: set!.points![0]!.pointId, disks: [{ sourceDisk: 0, targetDisk: source, partitions: [], rebuild: 'full' }], options: DEFAULT_RESTORE_OPTIONS },
    });
    const exit = await again.exited;
    expect(exit.code).toBe(1);
    expect((await lastRun(restoreJob.jobId)).error?.code).toBe('agent.unsupported-job');
    expect((await lastRun(jobId)).state).toBe('succeeded');
    expect(await sha256Range(source, 0n, gpt.sizeBytes)).toBe(before);
  }, 120_000);
});
