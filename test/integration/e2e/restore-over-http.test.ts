/**
 * The restore issue's acceptance end to end over real HTTP: fixture disks built with the real tools
 * are backed up through the HTTP client into a real server (startTestServer); an operator binds the
 * restoring machine and creates a restore job; `lifeline agent --headless --once` runs as a child
 * process (so it can be killed for real) and restores onto blank image files. Results are checked
 * with sgdisk -v, sfdisk --dump, fsck.vfat -n, ntfsfix -n, ntfscat and mcopy, and the run's state,
 * report and log on the server. Faults: connections cut by a proxy, the agent killed with SIGKILL
 * and started again, a chunk corrupted in the server's store, and the refusals that must write
 * nothing.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { open, readdir, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DiskMapping, RestoreOptions } from '../../../src/core/protocol/jobs.ts';
import type { RunView } from '../../../src/core/protocol/schemas.ts';
import { DEFAULT_RESTORE_OPTIONS } from '../../../src/core/protocol/jobs.ts';
import { startFaultProxy, type FaultProxy } from '../../helpers/fault-proxy.ts';
import { extractPartition, makeGptUefiDisk, makeMbrBiosDisk, type FixtureDisk, type FixturePartition } from '../../helpers/fixture-disks.ts';
import { backupFixtureDisk, type FixtureBackup } from '../../helpers/make-backup.ts';
import { mustRun, runTool, tempDir } from '../../helpers/run.ts';
import { startTestServer, type TestServer } from '../../helpers/test-server.ts';

const CLI = new URL('../../../bin/lifeline.mjs', import.meta.url).pathname;
const MiB = 1024n * 1024n;

let work: { path: string; cleanup: () => Promise<void> };
let gpt: FixtureDisk;
let mbr: FixtureDisk;
let server: TestServer;
let gptBackup: FixtureBackup;
let mbrBackup: FixtureBackup;
let counter = 0;

beforeAll(async () => {
  work = await tempDir('lifeline-e2e-');
  // One after the other: the builders use fixed scratch names in their folder.
  gpt = await makeGptUefiDisk(work.path);
  mbr = await makeMbrBiosDisk(work.path);
  server = await startTestServer();
  const backupMachine = await server.agent();
  // Small blocks: enough chunks for a kill to land mid-restore.
  gptBackup = await backupFixtureDisk(backupMachine.client, gpt.path, { firmware: 'uefi', blockSize: 64 * 1024 });
  mbrBackup = await backupFixtureDisk(backupMachine.client, mbr.path, { firmware: 'bios' });
}, 120_000);
afterAll(async () => {
  await server?.stop();
  await work?.cleanup();
});

// ---------------------------------------------------------------- helpers

async function blankImage(sizeBytes: bigint): Promise<string> {
  const path = join(work.path, `target-${counter++}.img`);
  await writeFile(path, '');
  await truncate(path, Number(sizeBytes));
  return path;
}

/** An image with a pattern at its start, middle and end: "0 bytes written" must be visible. */
async function usedImage(sizeBytes: bigint): Promise<string> {
  const path = await blankImage(sizeBytes);
  const handle = await open(path, 'r+');
  try {
    for (const at of [0n, sizeBytes / 2n, sizeBytes - MiB]) await handle.write(new Uint8Array(Number(MiB)).fill(0xa5), 0, Number(MiB), Number(at));
  } finally {
    await handle.close();
  }
  return path;
}

async function sha256File(path: string): Promise<string> {
  return (await mustRun('sha256sum', [path])).split(' ')[0]!;
}

async function sha256Range(path: string, offset: bigint, length: bigint): Promise<string> {
  const handle = await open(path, 'r');
  try {
    const bytes = Buffer.alloc(Number(length));
    await handle.read(bytes, 0, bytes.length, Number(offset));
    return createHash('sha256').update(bytes).digest('hex');
  } finally {
    await handle.close();
  }
}

/** The identity lines of `sfdisk --dump` (label, label-id, partitions), without device names and sizes. */
async function sfdiskIdentity(path: string): Promise<string[]> {
  const dump = await mustRun('sfdisk', ['--dump', path]);
  return dump.split('\n')
    .filter((l) => /^(label|label-id|first-lba|sector-size):|:\s*start=/.test(l))
    .map((l) => l.replace(/^\S+?(\d+)\s*:/, 'p$1 :'));
}

/** Every known file of a partition read back with the real tools hashes as the fixture says. */
async function checkFiles(image: string, p: FixturePartition): Promise<void> {
  if (p.filesystem === 'none') return;
  const part = await extractPartition(image, p, join(work.path, `check-${counter++}.part`));
  const check = p.filesystem === 'fat32' ? await runTool('fsck.vfat', ['-n', part]) : await runTool('ntfsfix', ['-n', part]);
  expect(check.exitCode, check.stdout + check.stderr).toBe(0);
  for (const f of p.files) {
    const out = join(work.path, `file-${counter++}`);
    if (p.filesystem === 'fat32') await mustRun('mcopy', ['-n', '-i', `${image}@@${p.offsetBytes}`, `::/${f.path}`, out]);
    else await mustRun('sh', ['-c', 'ntfscat "$1" "$2" > "$3"', 'sh', part, `/${f.path}`, out]);
    expect(await sha256File(out), f.path).toBe(f.sha256);
  }
}

async function checkDisk(target: string, source: FixtureDisk): Promise<void> {
  if (source.style === 'gpt') expect(await mustRun('sgdisk', ['-v', target])).toMatch(/No problems found/);
  expect(await sfdiskIdentity(target)).toEqual(await sfdiskIdentity(source.path));
  for (const p of source.partitions) await checkFiles(target, p);
}

interface AgentProcess {
  readonly pid: number;
  readonly stderr: () => string;
  /** Exit code (null when killed) and the JSON line the agent prints with --once. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string }>;
  kill(): void;
}

interface AgentOptions {
  readonly machineId: string;
  readonly disks: readonly string[];
  readonly protectedDisks?: readonly string[];
  readonly firmware: 'bios' | 'uefi';
  /** The server's URL, or a proxy's in front of it. */
  readonly via?: string;
}

/** `lifeline agent --headless --once` as a child process; settings file for machine id and fast polling. */
async function spawnAgent(o: AgentOptions): Promise<AgentProcess> {
  const settings = join(work.path, `agent-${counter++}.json`);
  await writeFile(settings, JSON.stringify({ version: 1, machineId: o.machineId, hostname: 'restore-vm', pollSeconds: 1 }));
  const address = new URL(o.via ?? server.url).host;
  const args = [CLI, 'agent', '--headless', '--settings', settings, '--server', address, '--firmware', o.firmware, '--once',
    ...o.disks.flatMap((d) => ['--disk', d]), ...(o.protectedDisks ?? []).flatMap((d) => ['--protected-disk', d])];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string }>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal, out }));
  });
  if (child.pid === undefined) throw new Error('the agent did not start');
  return { pid: child.pid, stderr: () => err, exited, kill: () => child.kill('SIGKILL') };
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Waits for the machine to register, binds it as the administrator, and returns its agent id. */
async function bindMachine(machineId: string): Promise<string> {
  const target = await until(`${machineId} to register`, async () => (await server.admin.listTargets()).find((t) => t.machineId === machineId));
  if (!target.bound) await server.admin.bind(target.agentId);
  return target.agentId;
}

async function createRestoreJob(agentId: string, backup: FixtureBackup, disks: DiskMapping[], options: Partial<RestoreOptions> = {}, passphrase?: string): Promise<string> {
  const job = await server.admin.createJob({
    name: `restore ${counter++}`, agentId, schedule: { kind: 'now' },
    spec: { kind: 'restore', setId: backup.setId, pointId: backup.pointId, disks, options: { ...DEFAULT_RESTORE_OPTIONS, channels: 4, ...options }, ...(passphrase === undefined ? {} : { passphrase }) },
  });
  return job.jobId;
}

async function lastRun(jobId: string): Promise<RunView> {
  const [run] = await server.admin.listRuns(jobId);
  if (run === undefined) throw new Error(`job ${jobId} has no run`);
  return run;
}

function fullDisk(targetDisk: string): DiskMapping[] {
  return [{ sourceDisk: 0, targetDisk, partitions: [], rebuild: 'full' }];
}

/** One restore by a fresh agent process: spawn, bind, create the job, wait for the agent's exit. */
async function restoreOnce(backup: FixtureBackup, target: string, firmware: 'bios' | 'uefi', extra: Partial<AgentOptions> & { options?: Partial<RestoreOptions>; passphrase?: string } = {}) {
  const machineId = `vm-${counter++}`;
  const agent = await spawnAgent({ machineId, disks: [target], firmware, ...extra });
  const agentId = await bindMachine(machineId);
  const jobId = await createRestoreJob(agentId, backup, fullDisk(target), extra.options, extra.passphrase);
  const exit = await agent.exited;
  return { exit, run: await lastRun(jobId), jobId, stderr: agent.stderr() };
}

function stepStatus(run: RunView): Record<string, string> {
  return Object.fromEntries(run.steps.map((s) => [s.step, s.outcome.status]));
}

// ---------------------------------------------------------------- acceptance

describe('restore over HTTP by the headless agent process', () => {
  it.each([
    ['GPT/UEFI', 'same size', () => gpt, () => gptBackup, 'uefi' as const, 0n],
    ['GPT/UEFI', 'larger', () => gpt, () => gptBackup, 'uefi' as const, 32n * MiB],
    ['MBR/BIOS', 'same size', () => mbr, () => mbrBackup, 'bios' as const, 0n],
    ['MBR/BIOS', 'larger', () => mbr, () => mbrBackup, 'bios' as const, 32n * MiB],
  ])('restores the %s disk onto a blank image of the %s', async (_style, _size, source, backup, firmware, extra) => {
    const target = await blankImage(source().sizeBytes + extra);
    const { exit, run, stderr } = await restoreOnce(backup(), target, firmware);

    expect(exit.code, stderr).toBe(0);
    expect(JSON.parse(exit.out.trim())).toMatchObject({ runId: run.runId, state: 'succeeded', error: null });
    expect(run.state).toBe('succeeded');
    expect(stepStatus(run)).toMatchObject({ prechecks: 'done', partition: 'done', data: 'done', verify: 'done' });
    const disk = (run.report?.disks as Record<string, unknown>[] | undefined)?.[0];
    expect(disk).toMatchObject({ targetDisk: target, verified: true });

    await checkDisk(target, source());
    if (source().style === 'mbr') expect(await sha256Range(target, 0n, 512n)).toBe(await sha256Range(source().path, 0n, 512n));
    if (extra > 0n && source().style === 'gpt') {
      expect(await mustRun('sgdisk', ['-p', target])).toMatch(new RegExp(`last usable sector is ${(source().sizeBytes + extra) / 512n - 34n}`));
    }

    // The run's log on the server holds the step report.
    const { entries } = await server.admin.logs(run.runId);
    const stepEntries = entries.filter((e) => typeof e.data?.step === 'string');
    expect(stepEntries.map((e) => [e.data?.step, (e.data?.outcome as { status?: string } | undefined)?.status])).toEqual(expect.arrayContaining(
      ['prechecks', 'partition', 'data', 'verify'].map((step) => [step, 'done'])));
    const final = entries.at(-1);
    expect(final?.message).toBe('restore succeeded');
    expect(((final?.data?.report as { disks?: { verified?: boolean }[] } | undefined)?.disks ?? [])[0]?.verified).toBe(true);
  });
});

// ---------------------------------------------------------------- faults

describe('faults over HTTP', () => {
  let proxy: FaultProxy | undefined;
  afterAll(() => proxy?.stop());

  it('retries through connections cut at random points, resumes and verifies', async () => {
    proxy = await startFaultProxy({ targetPort: Number(new URL(server.url).port), cuts: 3, seed: 19, cutAfterBytes: { min: 16 * 1024, max: 512 * 1024 } });
    const target = await blankImage(gpt.sizeBytes);
    const { exit, run, stderr } = await restoreOnce(gptBackup, target, 'uefi', { via: proxy.url });
    await proxy.stop();
    expect(exit.code, stderr).toBe(0);
    expect(proxy.cutsDone).toBe(3);
    expect(run.state).toBe('succeeded');
    expect(stepStatus(run)).toMatchObject({ data: 'done', verify: 'done' });
    await checkDisk(target, gpt);
  });

  it('resumes the job after the agent process was killed (SIGKILL) mid-restore, fetching fewer chunks', async () => {
    proxy = await startFaultProxy({ targetPort: Number(new URL(server.url).port) });
    const dataChunks = gptBackup.manifest.disks[0]!.extents.filter((e) => e.kind === 'data').length;
    const target = await blankImage(gpt.sizeBytes);
    const machineId = `vm-killed-${counter++}`;
    // Throttled so the kill lands mid-restore, after a journal save (every 2 s at the latest).
    const options: Partial<RestoreOptions> = { channels: 2, transferLimit: { windows: [], defaultBytesPerSecond: 1024 * 1024 } };
    const first = await spawnAgent({ machineId, disks: [target], firmware: 'uefi', via: proxy.url });
    const agentId = await bindMachine(machineId);
    const jobId = await createRestoreJob(agentId, gptBackup, fullDisk(target), options);
    const tenantId = (await server.server.catalog.defaultTenant()).id;
    const journaled = async () => ((await server.server.catalog.getJournal(tenantId, jobId)).get(target)?.length ?? 0) > 0;
    await until('half the chunks fetched and a journal save', async () => (proxy!.chunkGets >= dataChunks / 2 && (await journaled()) ? true : undefined), 60_000);
    first.kill();
    expect((await first.exited).signal).toBe('SIGKILL');
    const fetchedFirst = proxy.chunkGets;
    expect(fetchedFirst).toBeLessThan(dataChunks);
    const killed = await lastRun(jobId);
    expect(killed.state).toBe('running');

    // The appliance starts again (as after a reboot) and takes the same interrupted run back: no
    // operator action; the journal on the server says where the killed process got to.
    const second = await spawnAgent({ machineId, disks: [target], firmware: 'uefi', via: proxy.url });
    const exit = await second.exited;
    expect(exit.code, second.stderr()).toBe(0);
    const run = await lastRun(jobId);
    expect(run.runId).toBe(killed.runId);
    expect(run.state).toBe('succeeded');
    const fetchedSecond = proxy.chunkGets - fetchedFirst;
    // Verification fetches nothing for whole chunks; a resumed run fetches fewer than all.
    expect(fetchedSecond).toBeLessThan(dataChunks);
    expect(fetchedSecond).toBeGreaterThan(0);
    expect(Number((run.report?.disks as { resumedBytes?: string }[] | undefined)?.[0]?.resumedBytes ?? 0)).toBeGreaterThan(0);
    await checkDisk(target, gpt);
  });

  it('fails with chunk.hash-mismatch when a chunk file in the server store is corrupted, and does not report the disk good', async () => {
    const backupMachine = await server.agent();
    const corrupt = await backupFixtureDisk(backupMachine.client, mbr.path, { firmware: 'bios', resource: 'mbr-corrupt', compression: 'none' });
    const victim = corrupt.manifest.disks[0]!.extents.find((e) => e.kind === 'data' && e.diskOffset > mbr.partitions[1]!.offsetBytes);
    if (victim?.kind !== 'data') throw new Error('the fixture has no data in C:');
    const file = await findFile(server.dataDir, victim.chunkId);
    const handle = await open(file, 'r+');
    try {
      const byte = Buffer.alloc(1);
      const at = (await handle.stat()).size - 7;
      await handle.read(byte, 0, 1, at);
      byte[0] = byte[0]! ^ 0xff;
      await handle.write(byte, 0, 1, at);
    } finally {
      await handle.close();
    }
    const target = await blankImage(mbr.sizeBytes);
    const { exit, run } = await restoreOnce(corrupt, target, 'bios');
    expect(exit.code).toBe(1);
    expect(JSON.parse(exit.out.trim()).error.code).toBe('chunk.hash-mismatch');
    expect(run.state).toBe('failed');
    expect(run.error?.code).toBe('chunk.hash-mismatch');
    const disk = (run.report?.disks as Record<string, unknown>[])[0]!;
    expect(disk.verified).not.toBe(true);
    expect((disk.partitions as { complete: boolean }[]).some((p) => !p.complete)).toBe(true);
    // The damaged chunk never reached the disk.
    expect(await sha256Range(target, victim.diskOffset, victim.length)).toBe(createHash('sha256').update(new Uint8Array(Number(victim.length))).digest('hex'));
  });

});

// Independent agents and targets: these run side by side to keep the suite short.
describe.concurrent('refusals over HTTP: nothing is written', () => {
  it('refuses a wrong passphrase with 0 bytes written', async () => {
    const backupMachine = await server.agent();
    const encrypted = await backupFixtureDisk(backupMachine.client, mbr.path, { firmware: 'bios', passphrase: 'swordfish', resource: 'mbr-encrypted' });
    const target = await usedImage(mbr.sizeBytes);
    const before = await sha256File(target);
    const { exit, run } = await restoreOnce(encrypted, target, 'bios', { passphrase: 'sword fish' });
    expect(exit.code).toBe(1);
    expect(run.state).toBe('failed');
    expect(run.error?.code).toBe('crypto.wrong-passphrase');
    expect(await sha256File(target)).toBe(before);
  });

  it.each([
    ['a BIOS <-> UEFI cross restore', 'restore.firmware-mismatch', { firmware: 'bios' as const }],
    ['a target that is too small', 'layout.target-too-small', { size: 64n * MiB }],
    ['a protected target', 'restore.target-protected', { protect: true }],
  ])('refuses %s with 0 bytes written', async (_name, code, o: { firmware?: 'bios'; size?: bigint; protect?: boolean }) => {
    const target = await usedImage(o.size ?? gpt.sizeBytes);
    const before = await sha256File(target);
    const { exit, run } = await restoreOnce(gptBackup, target, o.firmware ?? 'uefi', o.protect === true ? { disks: [await blankImage(MiB)], protectedDisks: [target] } : {});
    expect(exit.code).toBe(1);
    expect(run.state).toBe('failed');
    expect(run.error?.code).toBe(code);
    expect(await sha256File(target)).toBe(before);
  });
});

async function findFile(dir: string, name: string): Promise<string> {
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name === name) return join(entry.parentPath, entry.name);
  }
  throw new Error(`no file ${name} under the server's data folder`);
}
