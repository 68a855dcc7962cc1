/**
 * The report of a restore run: every step with its real outcome (done, skipped and why, failed
 * with its code — never "done" for what did not run), per disk and partition the bytes, whether
 * they were verified, the time and the network and disk rates, and the errors. It goes to the
 * server with `finishRun`, and as events along the way.
 */
import { isRecoveryError, RecoveryError } from '../../core/errors.ts';
import type { RunEvent, RunOutcome, RunProgress, RunState, StepOutcome, StepReport } from '../../core/protocol/jobs.ts';
import type { BackupServer } from '../../ports/backup-server.ts';
import type { Clock } from '../../ports/clock.ts';
import type { DiskStats, RegionStats } from './progress.ts';
import { doneBytes } from './progress.ts';
import { withRetry } from './retry.ts';
import type { RetryPolicy } from './retry.ts';

/** The steps of a restore, in order (DESIGN flow 3). */
export const RESTORE_STEPS = ['precondition', 'prechecks', 'pre-script', 'partition', 'data', 'verify', 'drivers', 'boot', 'registry', 'post-script'] as const;
export type RestoreStep = (typeof RESTORE_STEPS)[number];

/** What a user of the engine (the TUI, the headless agent's log) is told as it happens. */
export interface RestoreObserver {
  stepStarted?(step: RestoreStep): void;
  stepFinished?(report: StepReport): void;
  progress?(progress: RunProgress): void;
  event?(event: RunEvent): void;
}

type ReportServer = Pick<BackupServer, 'appendEvents' | 'finishRun'>;

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function mbps(bytes: bigint | number, ms: number | undefined): number | null {
  if (ms === undefined || ms <= 0) return null;
  return Math.round((Number(bytes) / 1e6 / (ms / 1000)) * 10) / 10;
}

function regionReport(r: RegionStats): Record<string, unknown> {
  const ms = r.firstAt === undefined || r.lastAt === undefined ? undefined : r.lastAt - r.firstAt;
  return {
    ...(r.region.kind === 'partition' ? { sourcePartition: r.region.sourceNumber, targetPartition: r.region.targetNumber } : { area: 'outside-partitions' }),
    plannedBytes: String(r.plannedBytes),
    writtenBytes: String(r.writtenBytes),
    alreadyZeroBytes: String(r.alreadyZeroBytes),
    resumedBytes: String(r.resumedBytes),
    networkBytes: String(r.networkBytes),
    complete: doneBytes(r) === r.plannedBytes,
    verified: r.verified ?? null,
    seconds: ms === undefined ? null : ms / 1000,
    networkMBps: mbps(r.networkBytes, ms),
    diskMBps: mbps(r.writtenBytes, ms),
  };
}

function diskReport(d: DiskStats): Record<string, unknown> {
  const ms = d.startedAt === undefined || d.endedAt === undefined ? undefined : d.endedAt - d.startedAt;
  const total = (f: (r: RegionStats) => bigint | number) => d.regions.reduce((s, r) => s + BigInt(f(r)), 0n);
  const verified = d.regions.length === 0 ? null : d.regions.every((r) => r.verified === true) ? true : d.regions.some((r) => r.verified === false) ? false : null;
  return {
    sourceDisk: d.sourceDisk,
    targetDisk: d.targetDisk,
    mode: d.mode,
    table: d.table,
    plannedBytes: String(total((r) => r.plannedBytes)),
    writtenBytes: String(total((r) => r.writtenBytes)),
    alreadyZeroBytes: String(total((r) => r.alreadyZeroBytes)),
    resumedBytes: String(total((r) => r.resumedBytes)),
    networkBytes: String(total((r) => r.networkBytes)),
    verified,
    seconds: ms === undefined ? null : ms / 1000,
    networkMBps: mbps(total((r) => r.networkBytes), ms),
    diskMBps: mbps(total((r) => r.writtenBytes), ms),
    partitions: d.regions.filter((r) => r.region.kind === 'partition').map(regionReport),
    diskAreas: d.regions.filter((r) => r.region.kind === 'disk-area').map(regionReport)[0] ?? null,
  };
}

export class RestoreReport {
  readonly steps: StepReport[] = [];
  readonly disks: DiskStats[] = [];
  readonly errors: { code: string; message: string }[] = [];
  private pendingEvents: RunEvent[] = [];

  constructor(
    private readonly runId: string,
    private readonly server: ReportServer,
    private readonly clock: Clock,
    private readonly retry: RetryPolicy,
    private readonly observer: RestoreObserver = {},
  ) {}

  /** Runs one step and records its outcome; a failed outcome or a throw stops the job (rethrown as RecoveryError). */
  async step(step: RestoreStep, work: () => Promise<StepOutcome>): Promise<StepOutcome> {
    const startedAt = this.clock.now();
    this.observer.stepStarted?.(step);
    let outcome: StepOutcome;
    try {
      outcome = await work();
    } catch (e) {
      const error = isRecoveryError(e) ? e : new RecoveryError('restore.internal', e instanceof Error ? e.message : String(e), { cause: e });
      this.record(step, { status: 'failed', code: error.code, message: error.message }, startedAt);
      throw error;
    }
    this.record(step, outcome, startedAt);
    await this.flushEvents();
    if (outcome.status === 'failed') throw new RecoveryError(outcome.code, outcome.message, { data: { step } });
    return outcome;
  }

  /** Records every step that has no outcome yet as skipped, saying why it did not run. */
  notRun(why: string): void {
    for (const step of RESTORE_STEPS) {
      if (!this.steps.some((s) => s.step === step)) this.record(step, { status: 'skipped', why }, undefined);
    }
  }

  /** The step that failed, if any. */
  failedStep(): string | undefined {
    return this.steps.find((s) => s.outcome.status === 'failed')?.step;
  }

  event(level: RunEvent['level'], message: string, data?: Record<string, unknown>): void {
    const event: RunEvent = { time: iso(this.clock.now()), level, message, ...(data === undefined ? {} : { data }) };
    this.pendingEvents.push(event);
    this.observer.event?.(event);
  }

  /** Sends the events gathered so far; a failure keeps them for the next try and is not fatal. */
  async flushEvents(): Promise<void> {
    if (this.pendingEvents.length === 0) return;
    const batch = this.pendingEvents;
    this.pendingEvents = [];
    try {
      await this.server.appendEvents(this.runId, batch);
    } catch {
      this.pendingEvents = [...batch, ...this.pendingEvents];
    }
  }

  summary(): Record<string, unknown> {
    const written = this.disks.reduce((s, d) => s + d.regions.reduce((t, r) => t + r.writtenBytes, 0n), 0n);
    return {
      bytesWritten: String(written),
      disks: this.disks.map(diskReport),
      steps: this.steps.map((s) => ({ step: s.step, ...s.outcome })),
      errors: this.errors,
    };
  }

  /**
   * Builds the outcome, sends the last events and `finishRun` (within the reconnect window). The
   * outcome is returned even when the server cannot be told (an error event says so).
   */
  async finish(state: Exclude<RunState, 'queued' | 'running'>, error?: RecoveryError): Promise<RunOutcome> {
    if (error !== undefined) this.errors.push({ code: error.code, message: error.message });
    const report = this.summary();
    const outcome: RunOutcome = {
      state,
      steps: [...this.steps],
      report,
      ...(error === undefined ? {} : { error: { code: error.code, message: error.message, data: { ...error.data } } }),
    };
    this.event(state === 'succeeded' ? 'info' : state === 'idle' ? 'warning' : 'error', `restore ${state}${error ? `: ${error.message}` : ''}`, { report });
    await this.flushEvents();
    try {
      await withRetry('reporting the outcome', () => this.server.finishRun(this.runId, outcome), { ...this.retry, signal: undefined });
    } catch (e) {
      this.event('error', `the outcome could not be sent to the server: ${e instanceof Error ? e.message : String(e)}`);
    }
    return outcome;
  }

  private record(step: RestoreStep, outcome: StepOutcome, startedAt: number | undefined): void {
    const now = this.clock.now();
    const report: StepReport = { step, outcome, ...(startedAt === undefined ? {} : { startedAt: iso(startedAt), endedAt: iso(now) }) };
    this.steps.push(report);
    this.observer.stepFinished?.(report);
    const level = outcome.status === 'failed' ? 'error' : 'info';
    const words = outcome.status === 'done' ? `done${outcome.detail ? `: ${outcome.detail}` : ''}` : outcome.status === 'skipped' ? `skipped: ${outcome.why}` : `failed: ${outcome.code}: ${outcome.message}`;
    this.event(level, `${step}: ${words}`, { step, outcome });
  }
}
