/**
 * A backup run assigned by the server, on memory adapters: the steps and their real outcomes,
 * progress and events on the server, the restore point it leaves (restored again and compared),
 * and every way it ends early (precondition, pre-checks, scripts, a failed upload, encryption,
 * the server cancelling the run, the agent stopping).
 */
import { describe, expect, it } from 'vitest';
import { MemoryBackupServer } from '../../../../src/adapters/memory/memory-backup-server.ts';
import { MemoryDisk, MemoryDiskOpener } from '../../../../src/adapters/memory/memory-disk.ts';
import { MemorySnapshotter } from '../../../../src/adapters/memory/memory-snapshotter.ts';
import { NoSnapshot } from '../../../../src/adapters/node/no-snapshot.ts';
import { NodeSetKeys } from '../../../../src/adapters/node/set-keys.ts';
import { DEFAULT_BACKUP_OPTIONS } from '../../../../src/app/backup/options.ts';
import { runBackupJob, type BackupJobDeps } from '../../../../src/app/backup/run-backup-job.ts';
import { runRestoreJob } from '../../../../src/app/restore/run-restore-job.ts';
import type { ScriptRunner } from '../../../../src/app/restore/scripts.ts';
import { RecoveryError } from '../../../../src/core/errors.ts';
import type { AssignedRun, BackupJobOptions, BackupJobSpec, RunOutcome } from '../../../../src/core/protocol/jobs.ts';
import { backupMemoryDisk, depsFor, DISK_BYTES, FakeClock, fullDisk, inventoryOf, makeSourceDisk, restoreRun, sha256 } from '../restore/restore-fixtures.ts';

let counter = 0;

function backupRun(options: Partial<BackupJobOptions> = {}, spec: Partial<Omit<BackupJobSpec, 'kind' | 'options'>> = {}): AssignedRun {
  counter++;
  return {
    runId: `backup-run-${counter}`, jobId: `backup-job-${counter}`, jobName: 'nightly',
    spec: { kind: 'backup', resource: 'pc', sources: ['source'], encrypted: false, ...spec, options: { ...DEFAULT_BACKUP_OPTIONS, ...options } },
  };
}

/** A clock whose every reading is 20 ms later than the last, so rates and report intervals are measurable. */
class TickingClock extends FakeClock {
  override now(): number {
    const t = super.now();
    void this.sleep(20);
    this.sleeps.pop();
    return t;
  }
}

/** Scripts as a list of what ran; `exit` decides each command line's exit code. */
function scripts(exit: (line: string) => number = () => 0): ScriptRunner & { ran: string[] } {
  const ran: string[] = [];
  return {
    ran,
    run: async (line) => {
      ran.push(line);
      return { exitCode: exit(line), output: `ran ${line}` };
    },
  };
}

interface Setup {
  readonly server: MemoryBackupServer;
  readonly source: MemoryDisk;
  readonly deps: BackupJobDeps;
}

async function setup(overrides: Partial<BackupJobDeps> = {}, disks: { path: string; protected?: boolean }[] = [{ path: 'source' }]): Promise<Setup> {
  const server = new MemoryBackupServer();
  await server.register({ machineId: 'pc-1', hostname: 'pc', inventory: { firmware: 'uefi', disks: [], nics: [] } });
  const source = await makeSourceDisk('source');
  const deps: BackupJobDeps = {
    server, keys: new NodeSetKeys(), disks: new MemoryDiskOpener([source]), clock: new FakeClock(),
    identity: { hostname: 'pc', inventory: inventoryOf(disks.map((d) => ({ path: d.path, sizeBytes: BigInt(DISK_BYTES), protected: d.protected ?? false }))) },
    ...overrides,
  };
  return { server, source, deps };
}

async function execute(s: Setup, run: AssignedRun, signal?: AbortSignal): Promise<RunOutcome> {
  s.server.assign(run);
  await s.server.nextRun();
  return runBackupJob(run, s.deps, signal);
}

function statuses(outcome: RunOutcome): [string, string][] {
  return outcome.steps.map((st) => [st.step, st.outcome.status]);
}

function codeOf(outcome: RunOutcome, step: string): string | undefined {
  const o = outcome.steps.find((st) => st.step === step)?.outcome;
  return o?.status === 'failed' ? o.code : undefined;
}

const ALL_SKIPPED_AFTER = (steps: string[]): [string, string][] => steps.map((st) => [st, 'skipped']);

describe('runBackupJob', () => {
  it('backs up the agent\'s disk into a committed point that restores byte for byte, and says so step by step', async () => {
    const s = await setup();
    const run = backupRun();
    const outcome = await execute(s, run);

    expect(outcome.state, JSON.stringify(outcome.error)).toBe('succeeded');
    expect(statuses(outcome)).toEqual([
      ['precondition', 'skipped'], ['prechecks', 'done'], ['pre-script', 'skipped'], ['set', 'done'], ['snapshot', 'skipped'],
      ['survey', 'done'], ['copy', 'done'], ['commit', 'done'], ['post-script', 'skipped'],
    ]);
    const record = s.server.runs.get(run.runId)!;
    expect(record.outcome).toEqual(outcome);
    const [point] = s.server.committedPoints();
    expect(point).toBeDefined();
    expect(outcome.report).toMatchObject({ resource: 'pc', committed: true, pointId: point!.pointId, sequence: point!.sequence, setId: point!.manifest.setId });
    expect(point!.manifest.source).toEqual({ hostname: 'pc', firmware: 'uefi' });
    expect(point!.manifest.disks.map((d) => d.number)).toEqual([0]);
    const detail = (step: string) => (outcome.steps.find((st) => st.step === step)?.outcome as { detail?: string }).detail;
    expect(detail('commit')).toContain(`restore point ${point!.sequence}`);
    expect(detail('prechecks')).toContain('disk 0 = source');

    // The point restores onto a blank disk exactly.
    const target = MemoryDisk.create(BigInt(DISK_BYTES), { path: 'target' });
    const restore = restoreRun({ setId: point!.manifest.setId, pointId: point!.pointId }, [fullDisk('target')]);
    s.server.assign(restore);
    await s.server.nextRun();
    const restored = await runRestoreJob(restore, depsFor(s.server, [target], new FakeClock()));
    expect(restored.state, JSON.stringify(restored.error)).toBe('succeeded');
    expect(sha256(target.durableSnapshot())).toBe(sha256(s.source.snapshot()));

    // Events on the server: one per step outcome, and the final one with the report.
    const messages = record.events.map((e) => e.message);
    expect(messages).toEqual(expect.arrayContaining(['set: done: ' + detail('set'), 'copy: done: ' + detail('copy')]));
    expect(messages.at(-1)).toBe('backup succeeded');
    expect(record.events.at(-1)?.data?.['report']).toMatchObject({ committed: true });
  });

  it('reports progress at most once per interval with stages, bytes per disk and rates', async () => {
    const clock = new TickingClock();
    const s = await setup({ clock, progressEveryMs: 200 });
    const seen: string[] = [];
    const run = backupRun({ blockSize: 64 * 1024 });
    const outcome = await execute({ ...s, deps: { ...s.deps, observer: { progress: (p) => seen.push(p.stage) } } }, run);
    expect(outcome.state).toBe('succeeded');
    const progress = s.server.runs.get(run.runId)!.progress;
    expect(progress.length).toBeGreaterThan(4);
    expect(seen.length).toBe(progress.length);
    expect(new Set(progress.map((p) => p.stage))).toEqual(new Set(['set', 'survey', 'copy', 'commit', 'done']));
    const last = progress.at(-1)!;
    expect(last.bytesDone).toBe(last.bytesTotal);
    expect(BigInt(last.bytesTotal)).toBeGreaterThan(0n);
    expect(last.disks).toEqual([{ targetDisk: 'source', bytesDone: last.bytesTotal, bytesTotal: last.bytesTotal }]);
    const copying = progress.filter((p) => p.stage === 'copy');
    expect(copying.some((p) => p.diskBytesPerSecond > 0 && p.networkBytesPerSecond > 0 && p.etaSeconds !== undefined)).toBe(true);
    for (const p of copying) expect(BigInt(p.disks[0]!.bytesDone)).toBeLessThanOrEqual(BigInt(p.disks[0]!.bytesTotal));
    const report = outcome.report as { readMBps: number | null; disks: { readMBps: number | null; bytesRead: string }[] };
    expect(report.readMBps).toBeGreaterThan(0);
    expect(report.disks[0]).toMatchObject({ bytesRead: last.bytesTotal });
    expect(report.disks[0]!.readMBps).toBeGreaterThan(0);
  });

  it('reports per disk for two sources, the one not reached yet at 0 of 0', async () => {
    const s = await setup({ progressEveryMs: 0 }, [{ path: 'source' }, { path: 'second' }]);
    const second = MemoryDisk.fromBytes(new Uint8Array(4 * 1024 * 1024).fill(7), { path: 'second' });
    (s.deps.disks as MemoryDiskOpener).add(second);
    const run = backupRun({}, { sources: ['source', 'second'] });
    const outcome = await execute(s, run);
    expect(outcome.state).toBe('succeeded');
    const progress = s.server.runs.get(run.runId)!.progress.filter((p) => p.stage === 'copy');
    const firstDiskOnly = progress.find((p) => p.disks[0]!.bytesDone !== '0' && p.disks[1]!.bytesDone === '0');
    expect(firstDiskOnly?.disks[1]).toEqual({ targetDisk: 'second', bytesDone: '0', bytesTotal: '0' });
    expect(BigInt(firstDiskOnly!.disks[0]!.bytesTotal)).toBe(BigInt(firstDiskOnly!.bytesTotal));
    const last = s.server.runs.get(run.runId)!.progress.at(-1)!;
    expect(last.disks.map((d) => d.bytesDone === d.bytesTotal)).toEqual([true, true]);
    expect(BigInt(last.disks[1]!.bytesTotal)).toBe(4n * 1024n * 1024n);
    expect(s.server.committedPoints()[0]!.manifest.disks.map((d) => d.number)).toEqual([0, 1]);
  });

  it('sends the run back to idle when the precondition does not hold: nothing is read, no point begun', async () => {
    const runner = scripts((line) => (line === 'check' ? 1 : 0));
    const s = await setup({ scripts: runner });
    const outcome = await execute(s, backupRun({ precondition: 'check', preScript: 'pre', postScript: 'post' }));
    expect(outcome.state).toBe('idle');
    expect(outcome.error).toBeUndefined();
    expect(statuses(outcome)).toEqual([['precondition', 'done'], ...ALL_SKIPPED_AFTER(['prechecks', 'pre-script', 'set', 'snapshot', 'survey', 'copy', 'commit', 'post-script'])]);
    expect(runner.ran).toEqual(['check']);
    expect(s.server.points.size).toBe(0);
  });

  it('runs the scripts around the backup, in order', async () => {
    const runner = scripts();
    const s = await setup({ scripts: runner });
    const outcome = await execute(s, backupRun({ precondition: 'check', preScript: 'pre', postScript: 'post' }));
    expect(outcome.state).toBe('succeeded');
    expect(runner.ran).toEqual(['check', 'pre', 'post']);
    expect(statuses(outcome).filter(([st]) => st.includes('script') || st === 'precondition')).toEqual([['precondition', 'done'], ['pre-script', 'done'], ['post-script', 'done']]);
  });

  it('fails at the pre-checks when a source disk is missing, unknown, protected or named twice; nothing is begun', async () => {
    const cases: [string, Partial<Omit<BackupJobSpec, 'kind' | 'options'>>, { path: string; protected?: boolean }[]][] = [
      ['device.not-found', { sources: ['gone'] }, [{ path: 'gone' }]],
      ['backup.unknown-source', { sources: ['/dev/sda'] }, [{ path: 'source' }]],
      ['backup.source-protected', { sources: ['source'] }, [{ path: 'source', protected: true }]],
      ['backup.source-twice', { sources: ['source', 'source'] }, [{ path: 'source' }]],
    ];
    for (const [code, spec, disks] of cases) {
      const runner = scripts();
      const s = await setup({ scripts: runner }, disks);
      const run = backupRun({ preScript: 'pre', postScript: 'post' }, spec);
      const outcome = await execute(s, run);
      expect(outcome.state, code).toBe('failed');
      expect(outcome.error?.code).toBe(code);
      expect(codeOf(outcome, 'prechecks')).toBe(code);
      expect(statuses(outcome).slice(2)).toEqual(ALL_SKIPPED_AFTER(['pre-script', 'set', 'snapshot', 'survey', 'copy', 'commit', 'post-script']));
      expect(runner.ran).toEqual([]);
      expect(s.server.points.size).toBe(0);
      expect(s.server.runs.get(run.runId)?.outcome?.state).toBe('failed');
    }
  });

  it('refuses bad options and an unknown firmware before anything runs', async () => {
    const s = await setup();
    const bad = await execute(s, backupRun({ channels: 0 }));
    expect(bad.error?.code).toBe('backup.bad-option');
    const unknown = await setup({ identity: { hostname: 'pc', inventory: { ...inventoryOf([{ path: 'source', sizeBytes: BigInt(DISK_BYTES) }]), firmware: 'unknown' } } });
    expect((await execute(unknown, backupRun())).error?.code).toBe('backup.firmware-unknown');
    const given = await execute(unknown, backupRun({}, { firmware: 'bios' }));
    expect(given.state).toBe('succeeded');
    expect(unknown.server.committedPoints()[0]!.manifest.source.firmware).toBe('bios');
  });

  it('fails with script.failed when the pre-script fails: nothing read, the post-script not run', async () => {
    const runner = scripts((line) => (line === 'pre' ? 2 : 0));
    const s = await setup({ scripts: runner });
    const outcome = await execute(s, backupRun({ preScript: 'pre', postScript: 'post' }));
    expect(outcome.state).toBe('failed');
    expect(outcome.error?.code).toBe('script.failed');
    expect(runner.ran).toEqual(['pre']);
    expect(s.server.points.size).toBe(0);
  });

  it('a failed upload fails the copy: no point is committed, the begun one is named, the post-script still runs', async () => {
    const runner = scripts();
    const s = await setup({ scripts: runner });
    s.server.failNext('putChunk', new RecoveryError('store.full', 'no space left on the server'));
    const outcome = await execute(s, backupRun({ preScript: 'pre', postScript: 'post' }));
    expect(outcome.state).toBe('failed');
    expect(outcome.error?.code).toBe('store.full');
    expect(statuses(outcome)).toEqual([
      ['precondition', 'skipped'], ['prechecks', 'done'], ['pre-script', 'done'], ['set', 'done'], ['snapshot', 'skipped'],
      ['survey', 'done'], ['copy', 'failed'], ['commit', 'skipped'], ['post-script', 'done'],
    ]);
    expect(runner.ran).toEqual(['pre', 'post']);
    expect(s.server.committedPoints()).toEqual([]);
    expect(outcome.report).toMatchObject({ committed: false, sequence: 1 });
    expect((outcome.report as { note?: string }).note).toMatch(/begun but not committed/);
  });

  it('backs up into an encrypted set with the passphrase the agent holds, and refuses without or with a wrong one', async () => {
    const s = await setup({ passphrase: 'correct horse' });
    // The machine's first encrypted backup made the set (only the machine knows the key).
    await backupMemoryDisk(s.server, await makeSourceDisk('first'), { passphrase: 'correct horse', resource: 'pc' });
    const ok = await execute(s, backupRun({}, { encrypted: true }));
    expect(ok.state, JSON.stringify(ok.error)).toBe('succeeded');
    const latest = s.server.committedPoints().sort((a, b) => b.sequence - a.sequence)[0]!;
    expect(latest.manifest.options.encrypted).toBe(true);

    const none = await execute({ ...s, deps: { ...s.deps, passphrase: undefined } as BackupJobDeps }, backupRun({}, { encrypted: true }));
    expect(none.error?.code).toBe('crypto.passphrase-required');
    expect(codeOf(none, 'prechecks')).toBe('crypto.passphrase-required');

    const wrong = await execute({ ...s, deps: { ...s.deps, passphrase: 'wrong horse' } }, backupRun({}, { encrypted: true }));
    expect(wrong.error?.code).toBe('crypto.wrong-passphrase');
    expect(codeOf(wrong, 'set')).toBe('crypto.wrong-passphrase');

    // A job that says "plain" is never given the passphrase: the encrypted set refuses it.
    const plain = await execute(s, backupRun());
    expect(plain.error?.code).toBe('crypto.passphrase-required');
    expect(codeOf(plain, 'set')).toBe('crypto.passphrase-required');
    expect(s.server.committedPoints().length).toBe(2);
  });

  it('ends cancelled, without committing, when the server says an operator cancelled the run', async () => {
    const runner = scripts();
    const s = await setup({ scripts: runner });
    const ended = () => new RecoveryError('conflict', 'Run is cancelled, not running', { data: { reason: 'catalog.run-not-active', state: 'cancelled' } });
    for (let i = 0; i < 50; i++) s.server.failNext('reportProgress', ended());
    const run = backupRun({ postScript: 'post' });
    const outcome = await execute(s, run);
    expect(outcome.state).toBe('cancelled');
    expect(outcome.error?.code).toBe('backup.cancelled');
    expect(s.server.committedPoints()).toEqual([]);
    expect(statuses(outcome).find(([st]) => st === 'commit')?.[1]).not.toBe('done');
    expect(runner.ran).toEqual(['post']);
    expect(s.server.runs.get(run.runId)?.outcome?.state).toBe('cancelled');
  });

  it('ends failed with backup.interrupted when the agent stops mid-copy', async () => {
    const stopper = new AbortController();
    const s = await setup({ progressEveryMs: 0 });
    const deps: BackupJobDeps = { ...s.deps, observer: { progress: (p) => { if (p.stage === 'copy' && p.bytesDone !== '0') stopper.abort(); } } };
    const outcome = await execute({ ...s, deps }, backupRun(), stopper.signal);
    expect(outcome.state).toBe('failed');
    expect(outcome.error?.code).toBe('backup.interrupted');
    expect(codeOf(outcome, 'copy')).toBe('backup.interrupted');
    expect(s.server.committedPoints()).toEqual([]);
  });

  it('hands a snapshotter to the engine and reports the snapshot step as it went', async () => {
    const frozen = MemoryDisk.fromBytes(new Uint8Array(6 * 1024 * 1024).fill(0x5a), { path: 'frozen-2' });
    const vss = await setup({ snapshotter: new MemorySnapshotter({ frozen: new Map([['0:2', frozen]]) }) });
    const taken = await execute(vss, backupRun());
    expect(taken.state, JSON.stringify(taken.error)).toBe('succeeded');
    expect(taken.steps.find((st) => st.step === 'snapshot')?.outcome).toMatchObject({ status: 'done' });
    expect(vss.server.committedPoints()[0]!.manifest.vss?.method).toBe('vss');

    const none = await setup({ snapshotter: new NoSnapshot('not-volumes') });
    const live = await execute(none, backupRun());
    expect(live.state).toBe('succeeded');
    expect(live.steps.find((st) => st.step === 'snapshot')?.outcome).toMatchObject({ status: 'skipped', why: expect.stringContaining('not-volumes') });

    const failing = await setup({ snapshotter: new MemorySnapshotter({ frozen: new Map(), failSnapshot: new RecoveryError('vss.phase-failed', 'DoSnapshotSet failed') }) });
    const failed = await execute(failing, backupRun());
    expect(failed.state).toBe('failed');
    expect(failed.error?.code).toBe('vss.phase-failed');
    expect(codeOf(failed, 'snapshot')).toBe('vss.phase-failed');
    expect(statuses(failed).slice(5)).toEqual(ALL_SKIPPED_AFTER(['survey', 'copy', 'commit', 'post-script']));
    expect(failing.server.committedPoints()).toEqual([]);
  });

  it('chooses the snapshotter per run from the job\'s sources at the pre-checks, with the job\'s backup kind', async () => {
    const asked: (readonly string[])[] = [];
    const snapshotter = new MemorySnapshotter({ frozen: new Map() });
    const s = await setup({ snapshotter: async (sources) => { asked.push(sources); return snapshotter; } });
    const copy = await execute(s, backupRun());
    expect(copy.state, JSON.stringify(copy.error)).toBe('succeeded');
    const full = await execute(s, backupRun({ backupKind: 'full' }));
    expect(full.state, JSON.stringify(full.error)).toBe('succeeded');
    expect(asked).toEqual([['source'], ['source']]);
    expect(snapshotter.requests.map((r) => r.kind)).toEqual(['copy', 'full']);

    const refusing = await setup({ snapshotter: async () => { throw new RecoveryError('snapshot.mixed-sources', 'disks and image files together'); } });
    const refused = await execute(refusing, backupRun());
    expect(refused.state).toBe('failed');
    expect(codeOf(refused, 'prechecks')).toBe('snapshot.mixed-sources');
    expect(refusing.server.committedPoints()).toEqual([]);
  });

  it('is for backup runs only', async () => {
    const s = await setup();
    const restore = restoreRun({ setId: 's', pointId: 'p' }, [fullDisk('x')]);
    await expect(runBackupJob(restore, s.deps)).rejects.toMatchObject({ code: 'backup.not-a-backup-job' });
  });
});
