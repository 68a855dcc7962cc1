/**
 * Runs one backup run assigned by the server (DESIGN flow 4 as a job): the job's precondition and
 * scripts, the backup engine (take-backup.ts) over the agent's own disks, progress and events while
 * it runs, and `finishRun` with the outcome and a report of every step. The outcome is never
 * "succeeded" unless every step that ran succeeded and the restore point was committed.
 *
 * Steps, in order (job-report.ts): precondition, prechecks, pre-script, then the engine's own —
 * set (open the resource's set), snapshot, survey (tables, file systems, used blocks), copy
 * (read, dedup, upload), commit (the point becomes visible) — and post-script.
 *
 * Rules:
 * 1. A precondition that does not hold sends the run back to `idle`, nothing else runs (seed 000
 *    §5.6, as for restores).
 * 2. Pre-checks before anything is run or read: the options are in range (`backup.bad-option`),
 *    every source is one of the disks this agent registered (`backup.unknown-source`), not
 *    protected (`backup.source-protected`), not named twice (`backup.source-twice`), and opens
 *    read-only (`device.*`); the firmware is known (`backup.firmware-unknown`); an encrypted job
 *    has a passphrase on this machine (`crypto.passphrase-required`); the snapshotter for these
 *    sources is chosen (`snapshot.*` when none fits them).
 * 3. The passphrase of an encrypted set never comes from the server: the job says only whether the
 *    set is encrypted; the agent brings the passphrase from its own configuration (settings file
 *    or --passphrase-file). A plain job is never given one. The first encrypted run of a resource
 *    creates its set, the fresh data key wrapped with that passphrase (backup-set.ts), as
 *    `lifeline backup` does: the server cannot make the key, so it creates the job without a set.
 * 4. The post-script runs once the pre-script ran, also when the backup failed or was stopped, so
 *    whatever the pre-script quiesced is resumed; its failure fails the run (`script.failed`).
 * 5. Stopping (job-guards.ts): the session's signal ends the run `failed` with
 *    `backup.interrupted`; the server ending the run (an operator cancelled it) ends it `cancelled`
 *    with `backup.cancelled`. Either way nothing is committed after the stop was seen.
 * 6. A run that fails or stops leaves no restore point: a point begun and not committed is not
 *    restorable, and the report says so.
 */
import type { Firmware } from '../../core/backup/manifest.ts';
import { RecoveryError } from '../../core/errors.ts';
import type { AgentIdentity, AssignedRun, BackupJobSpec, RunOutcome, StepOutcome } from '../../core/protocol/jobs.ts';
import { formatBytes } from '../../core/units.ts';
import type { AbortSignalLike } from '../../core/units.ts';
import type { BackupServer } from '../../ports/backup-server.ts';
import type { BlockDevice, BlockDeviceOpener } from '../../ports/block-device.ts';
import type { Clock } from '../../ports/clock.ts';
import type { SetKeys } from '../../ports/set-keys.ts';
import type { VolumeSnapshotter } from '../../ports/volume-snapshot.ts';
import { isRunEnded } from '../jobs/run-report.ts';
import { checkPrecondition, runScript, type ScriptRunner } from '../restore/scripts.ts';
import { guardDevice, guardServer, RunStop, type ServerWitness } from './job-guards.ts';
import { BackupJobMeter, type SourceStats } from './job-progress.ts';
import { BackupJobReport, toRecoveryError, type BackupJobObserver, type BackupStep } from './job-report.ts';
import type { BackupObserver, BackupProgress } from './observer.ts';
import { checkBackupOptions } from './options.ts';
import type { RetryPolicy } from './retry.ts';
import { takeBackup, type BackupRequest, type BackupResult } from './take-backup.ts';

export type { BackupJobObserver, BackupStep } from './job-report.ts';

export interface BackupJobDeps {
  readonly server: BackupServer;
  readonly keys: SetKeys;
  /** Opens the agent's disks by the names it registered them with (read-only here). */
  readonly disks: BlockDeviceOpener;
  readonly clock: Clock;
  /** This machine as registered: the hostname recorded in the point, its firmware and its disks. */
  readonly identity: Pick<AgentIdentity, 'hostname' | 'inventory'>;
  /** Runs the job's precondition and scripts; absent = this agent cannot run scripts. */
  readonly scripts?: ScriptRunner;
  /** The passphrase of this machine's encrypted sets (rule 3); absent = encrypted jobs fail. */
  readonly passphrase?: string;
  readonly observer?: BackupJobObserver;
  /** How often progress goes to the server and the observer; default 1 s. */
  readonly progressEveryMs?: number;
  /**
   * Freezes the volumes while they are read (VSS on Windows), handed to the engine as it is: one
   * snapshotter for every run, or a choice made per run from the job's sources (the agent: VSS for
   * Windows disks, else the no-snapshot adapter with its reason), made at the pre-checks. The job's
   * `options.backupKind` says copy (default) or full. Absent: the disks are read live and the
   * snapshot step says so.
   */
  readonly snapshotter?: VolumeSnapshotter | SnapshotterForSources;
}

/** Picks the snapshotter for a run's sources (the paths the agent registered); rejects with `snapshot.*` when none fits. */
export type SnapshotterForSources = (sources: readonly string[]) => Promise<VolumeSnapshotter>;

const READ_LIVE = 'this agent takes no volume snapshot: the disks are read live, as they are while the copy runs';
const SNAPSHOT_NONE: StepOutcome = { status: 'skipped', why: READ_LIVE };

/** Codes of the snapshotter's own failures (ports/volume-snapshot.ts, docs/vss-agent.md). */
const SNAPSHOT_ERROR = /^(vss|snapshot)\./;

const ENGINE_STEPS: Readonly<Record<string, BackupStep>> = { 'opening-set': 'set', surveying: 'survey', transferring: 'copy', committing: 'commit' };

interface OpenSource {
  readonly stats: SourceStats;
  readonly device: BlockDevice;
}

/** What one run learns as it goes, for its steps and its report. */
interface BackupJobContext {
  readonly run: AssignedRun;
  readonly spec: BackupJobSpec;
  readonly deps: BackupJobDeps;
  readonly signal: AbortSignalLike | undefined;
  readonly stop: RunStop;
  readonly report: BackupJobReport;
  readonly witness: ServerWitness;
  readonly sources: OpenSource[];
  firmware?: Firmware;
  snapshotter?: VolumeSnapshotter;
  meter?: BackupJobMeter;
  latest?: BackupProgress;
  copyStartedAt?: number;
  copyEndedAt?: number;
  result?: BackupResult;
}

export async function runBackupJob(run: AssignedRun, deps: BackupJobDeps, signal?: AbortSignalLike): Promise<RunOutcome> {
  if (run.spec.kind !== 'backup') throw new RecoveryError('backup.not-a-backup-job', `run ${run.runId} is a ${run.spec.kind} job, not a backup`);
  const spec = run.spec;
  const stop = new RunStop(signal);
  const minutes = Number.isInteger(spec.options.reconnectWindowMinutes) ? Math.min(Math.max(spec.options.reconnectWindowMinutes, 1), 60) : 10;
  const retry: RetryPolicy = { clock: deps.clock, windowMs: minutes * 60_000 };
  const report = new BackupJobReport(run.runId, deps.server, deps.clock, retry, deps.observer, (e) => stop.serverEnded(String(e.data['state'] ?? 'cancelled')));
  const ctx: BackupJobContext = { run, spec, deps, signal, stop, report, witness: { committed: false }, sources: [] };
  let preScriptRan = false;
  try {
    let holds = true;
    await report.step('precondition', async () => {
      const verdict = await checkPrecondition(spec.options.precondition, deps.scripts, signal);
      holds = verdict.holds;
      return verdict.outcome;
    });
    if (!holds) {
      report.notRun('not run: the precondition does not hold');
      return await finish(ctx, 'idle');
    }
    await report.step('prechecks', () => prechecks(ctx));
    await report.step('pre-script', () => runScript('pre-script', spec.options.preScript, deps.scripts, signal));
    preScriptRan = true;
    ctx.result = await backUp(ctx);
    await report.step('post-script', () => runScript('post-script', spec.options.postScript, deps.scripts, signal));
    if (ctx.meter) ctx.meter.stage = 'done';
    return await finish(ctx, stop.reason === 'cancelled' ? 'cancelled' : 'succeeded', stop.reason === 'cancelled' ? stop.error() : undefined);
  } catch (e) {
    const error = toRecoveryError(e);
    const stoppedAt = report.failedStep() ?? 'prechecks';
    if (preScriptRan && !report.has('post-script')) await postScriptAfterFailure(ctx);
    report.notRun(`not run: the backup stopped at "${stoppedAt}"`);
    return await finish(ctx, stop.reason === 'cancelled' ? 'cancelled' : 'failed', error);
  } finally {
    await Promise.allSettled(ctx.sources.map((s) => s.device.close()));
  }
}

/** Rule 4: the post-script still runs (without the stop signal: it puts the machine back as it was). */
async function postScriptAfterFailure(ctx: BackupJobContext): Promise<void> {
  try {
    await ctx.report.step('post-script', () => runScript('post-script', ctx.spec.options.postScript, ctx.deps.scripts));
  } catch (e) {
    const error = toRecoveryError(e);
    ctx.report.errors.push({ code: error.code, message: error.message });
  }
}

async function finish(ctx: BackupJobContext, state: 'succeeded' | 'failed' | 'cancelled' | 'idle', error?: RecoveryError): Promise<RunOutcome> {
  ctx.meter?.tick(true);
  await ctx.meter?.settle();
  return ctx.report.finish(state, summaryOf(ctx), error);
}

// ---------------------------------------------------------------- prechecks (rule 2)

function refuse(code: string, message: string, data: Record<string, unknown> = {}): RecoveryError {
  return new RecoveryError(code, message, { data });
}

async function prechecks(ctx: BackupJobContext): Promise<StepOutcome> {
  const { spec, deps } = ctx;
  checkBackupOptions(spec.options);
  const inventory = deps.identity.inventory;
  const firmware = spec.firmware ?? inventory.firmware;
  if (firmware === 'unknown') {
    throw refuse('backup.firmware-unknown', 'the job does not say how the imaged system boots and this agent cannot tell its firmware: give the job a firmware or start the agent with --firmware', {});
  }
  ctx.firmware = firmware;
  if (spec.sources.length === 0) throw refuse('backup.nothing-selected', 'the job names no disk to back up');
  const seen = new Set<string>();
  for (const path of spec.sources) {
    const disk = inventory.disks.find((d) => d.path === path);
    if (disk === undefined) {
      throw refuse('backup.unknown-source', `${path} is not one of this machine's disks (it registered ${inventory.disks.map((d) => d.path).join(', ') || 'none'})`, { source: path });
    }
    if (disk.protected) throw refuse('backup.source-protected', `${path} holds the boot media or a local backup copy: it is listed, never imaged`, { source: path });
    if (seen.has(path)) throw refuse('backup.source-twice', `${path} is named twice in the job`, { source: path });
    seen.add(path);
  }
  if (spec.encrypted && (deps.passphrase === undefined || deps.passphrase === '')) {
    throw refuse('crypto.passphrase-required',
      `the job backs up into the encrypted set of "${spec.resource}" and this agent has no passphrase for it; the server never holds it: give the agent one (settings "passphrase" or --passphrase-file)`,
      { resource: spec.resource });
  }
  for (const [number, path] of spec.sources.entries()) {
    const device = await deps.disks.open(path, { writable: false });
    ctx.sources.push({ device, stats: { number, path, bytesRead: 0n } });
  }
  const chosen = deps.snapshotter;
  if (chosen !== undefined) ctx.snapshotter = typeof chosen === 'function' ? await chosen(spec.sources) : chosen;
  const disks = ctx.sources.map((s) => `disk ${s.stats.number} = ${s.stats.path} (${formatBytes(s.device.geometry.sizeBytes)})`);
  return { status: 'done', detail: `${disks.join(', ')}; ${firmware.toUpperCase()} firmware; ${spec.encrypted ? 'encrypted set, passphrase on this machine' : 'plain set'}` };
}

// ---------------------------------------------------------------- the engine's steps

/**
 * Runs take-backup.ts, turning its stages into the steps set, snapshot, survey, copy and commit.
 * Without a snapshotter the snapshot step is skipped (read live). With one, the snapshot is taken
 * within the engine's survey and lives through the copy: the step starts with the survey and ends
 * when the engine says what was frozen (`backup.snapshot`) or that nothing was (`backup.no-snapshot`).
 */
async function backUp(ctx: BackupJobContext): Promise<BackupResult> {
  const { run, spec, deps, report, stop } = ctx;
  const snapshotter = ctx.snapshotter;
  const meter = new BackupJobMeter(ctx.sources.map((s) => s.stats), deps.clock, deps.progressEveryMs ?? 1_000, async (progress) => {
    deps.observer?.progress?.(progress);
    try {
      await deps.server.reportProgress(run.runId, progress);
    } catch (e) {
      if (isRunEnded(e)) stop.serverEnded(String(e.data['state'] ?? 'cancelled'));
    }
    await report.flushEvents();
  });
  ctx.meter = meter;
  let current: BackupStep | undefined;
  const enter = (step: BackupStep | undefined, p: BackupProgress): void => {
    if (current !== undefined) report.end(current, { status: 'done', detail: detailOf(ctx, current, p) });
    if (current === 'set' && snapshotter === undefined) report.end('snapshot', SNAPSHOT_NONE);
    if (current === 'copy') ctx.copyEndedAt = deps.clock.now();
    current = step;
    if (step === 'copy') ctx.copyStartedAt = deps.clock.now();
    if (step === 'survey' && snapshotter !== undefined) report.start('snapshot');
    if (step !== undefined) {
      report.start(step);
      meter.stage = step;
    }
  };
  const observer: BackupObserver = {
    progress: (p) => {
      ctx.latest = p;
      meter.update(p);
      const step = ENGINE_STEPS[p.stage];
      if (step === current) {
        meter.tick();
        return;
      }
      enter(step, p);
      meter.tick(true);
    },
    notice: (n) => {
      report.event(n.level, `${n.code}: ${n.message}`, { code: n.code, ...(n.data ?? {}) });
      if (n.code === 'backup.snapshot') report.end('snapshot', { status: 'done', detail: n.message });
      if (n.code === 'backup.no-snapshot') report.end('snapshot', { status: 'skipped', why: n.message });
    },
  };
  const count = (s: SourceStats, length: number): void => {
    if (current !== 'copy') return;
    const now = deps.clock.now();
    s.bytesRead += BigInt(length);
    s.firstAt ??= now;
    s.lastAt = now;
  };
  const request: BackupRequest = {
    sources: ctx.sources.map((s) => ({ device: guardDevice(s.device, stop, (length) => count(s.stats, length)), number: s.stats.number })),
    resource: spec.resource,
    hostname: deps.identity.hostname,
    firmware: ctx.firmware!,
    options: spec.options,
    clock: deps.clock,
    ...(spec.encrypted ? { passphrase: deps.passphrase! } : {}),
    ...(snapshotter === undefined ? {} : { snapshotter, backupKind: spec.options.backupKind ?? 'copy' }),
  };
  try {
    const result = await takeBackup(guardServer(deps.server, stop, ctx.witness), deps.keys, request, observer);
    const vss = result.manifest.vss;
    if (vss?.method === 'vss') report.end('snapshot', { status: 'done', detail: `VSS ${vss.kind} backup, snapshot set ${vss.snapshotSetId}` });
    else report.end('snapshot', { status: 'skipped', why: vss?.method === 'none' ? `${vss.reason}: ${vss.message}` : READ_LIVE });
    return result;
  } catch (e) {
    const error = toRecoveryError(e);
    const failed = snapshotter !== undefined && !report.has('snapshot') && SNAPSHOT_ERROR.test(error.code) ? 'snapshot' : current ?? 'set';
    report.end(failed, { status: 'failed', code: error.code, message: error.message });
    if (snapshotter !== undefined && current !== undefined && current !== 'set' && !report.has('snapshot')) {
      report.end('snapshot', { status: 'skipped', why: `the backup stopped at "${current}" before the snapshotter said what it froze: the point has no snapshot record` });
    }
    throw error;
  }
}

function detailOf(ctx: BackupJobContext, step: BackupStep, p: BackupProgress): string {
  const { witness, spec } = ctx;
  switch (step) {
    case 'set': {
      const set = witness.set;
      if (set === undefined) return `the set of "${spec.resource}" is open`;
      return `set ${set.setId} of "${set.resource}" (${set.codec}, ${formatBytes(set.blockSize)} blocks, ${set.wrappedKey === undefined ? 'not encrypted' : 'encrypted'})`;
    }
    case 'survey':
      return `${ctx.sources.length} disk${ctx.sources.length === 1 ? '' : 's'} surveyed: ${formatBytes(p.bytesTotal)} to read (${spec.options.onlyUsedBlocks ? 'partition tables, gaps and used blocks' : 'every block'})`;
    case 'copy':
      return `${formatBytes(p.bytesRead)} read, ${formatBytes(p.zeroBytes)} of zeros recorded, ${formatBytes(p.bytesUploaded)} sent in ${p.chunksUploaded} of ${p.chunksTotal} chunks (the server held the others)`;
    case 'commit':
      return witness.point === undefined ? 'the restore point is committed' : `restore point ${witness.point.sequence} (${witness.point.pointId}) committed: it can be restored`;
    default:
      return '';
  }
}

// ---------------------------------------------------------------- the report

function mbps(bytes: bigint, ms: number | undefined): number | null {
  if (ms === undefined || ms <= 0) return null;
  return Math.round((Number(bytes) / 1e6 / (ms / 1000)) * 10) / 10;
}

function summaryOf(ctx: BackupJobContext): Record<string, unknown> {
  const { witness, spec, result } = ctx;
  const p = ctx.latest;
  const copyMs = ctx.copyStartedAt === undefined ? undefined : (ctx.copyEndedAt ?? ctx.deps.clock.now()) - ctx.copyStartedAt;
  const bytesRead = p?.bytesRead ?? 0n;
  const bytesUploaded = p?.bytesUploaded ?? 0n;
  const point = witness.point;
  return {
    resource: spec.resource,
    encrypted: spec.encrypted,
    setId: witness.set?.setId ?? null,
    pointId: point?.pointId ?? null,
    sequence: point?.sequence ?? null,
    committed: witness.committed,
    ...(point !== undefined && !witness.committed ? { note: `restore point ${point.sequence} was begun but not committed: it is not restorable, and a prune removes it` } : {}),
    bytesPlanned: String(p?.bytesTotal ?? 0n),
    bytesRead: String(bytesRead),
    zeroBytes: String(p?.zeroBytes ?? 0n),
    bytesUploaded: String(bytesUploaded),
    chunksTotal: p?.chunksTotal ?? 0,
    chunksUploaded: p?.chunksUploaded ?? 0,
    ...(result === undefined ? {} : { peakBufferedBytes: result.peakBufferedBytes }),
    seconds: copyMs === undefined ? null : copyMs / 1000,
    readMBps: mbps(bytesRead, copyMs),
    uploadMBps: mbps(bytesUploaded, copyMs),
    disks: ctx.sources.map((s) => {
      const disk = result?.manifest.disks.find((d) => d.number === s.stats.number);
      const ms = s.stats.firstAt === undefined || s.stats.lastAt === undefined ? undefined : s.stats.lastAt - s.stats.firstAt;
      return {
        sourceDisk: s.stats.number,
        disk: s.stats.path,
        sizeBytes: String(s.device.geometry.sizeBytes),
        ...(disk === undefined ? {} : { style: disk.style, partitions: disk.layout.partitions.length, extents: disk.extents.length }),
        bytesRead: String(s.stats.bytesRead),
        seconds: ms === undefined ? null : ms / 1000,
        readMBps: mbps(s.stats.bytesRead, ms),
      };
    }),
  };
}
