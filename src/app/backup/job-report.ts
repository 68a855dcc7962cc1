/**
 * The report of a backup run (run-backup-job.ts): every step with its real outcome (done, skipped
 * and why, failed with its code — never "done" for what did not run), the events along the way,
 * and the outcome sent with `finishRun`. The restore's report (app/restore/report.ts) does the same
 * for restore runs; the steps and the summary differ.
 *
 * Rules:
 * 1. Events are gathered and sent in batches: after every step, with every progress report and at
 *    the end. A batch that cannot be sent is kept for the next try; losing the server never fails
 *    the run by itself.
 * 2. A `conflict` whose `data.reason` is `catalog.run-not-active` means the server ended the run
 *    (an operator cancelled it): `onRunEnded` is told, so the run stops at its next guarded call.
 * 3. The outcome lists the steps in the order they belong to a backup, whatever order they were
 *    recorded in (the post-script may run after a failed copy).
 */
import { isRecoveryError, RecoveryError } from '../../core/errors.ts';
import type { RunEvent, RunOutcome, RunProgress, RunState, StepOutcome, StepReport } from '../../core/protocol/jobs.ts';
import type { BackupServer } from '../../ports/backup-server.ts';
import type { Clock } from '../../ports/clock.ts';
import { withRetry, type RetryPolicy } from './retry.ts';

/** The steps of a backup run, in order. */
export const BACKUP_STEPS = ['precondition', 'prechecks', 'pre-script', 'set', 'snapshot', 'survey', 'copy', 'commit', 'post-script'] as const;
export type BackupStep = (typeof BACKUP_STEPS)[number];

/** What a user of the backup job (the headless agent's log) is told as it happens. */
export interface BackupJobObserver {
  stepStarted?(step: BackupStep): void;
  stepFinished?(report: StepReport): void;
  progress?(progress: RunProgress): void;
  event?(event: RunEvent): void;
}

type ReportServer = Pick<BackupServer, 'appendEvents' | 'finishRun'>;

/** True when the server refused a run call because the run is no longer active (rule 2). */
export function isRunEnded(e: unknown): e is RecoveryError {
  return isRecoveryError(e) && e.code === 'conflict' && e.data['reason'] === 'catalog.run-not-active';
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function words(outcome: StepOutcome): string {
  if (outcome.status === 'done') return `done${outcome.detail ? `: ${outcome.detail}` : ''}`;
  if (outcome.status === 'skipped') return `skipped: ${outcome.why}`;
  return `failed: ${outcome.code}: ${outcome.message}`;
}

export class BackupJobReport {
  readonly steps: StepReport[] = [];
  readonly errors: { code: string; message: string }[] = [];
  private readonly startedAt = new Map<BackupStep, number>();
  private pendingEvents: RunEvent[] = [];

  constructor(
    private readonly runId: string,
    private readonly server: ReportServer,
    private readonly clock: Clock,
    private readonly retry: RetryPolicy,
    private readonly observer: BackupJobObserver = {},
    private readonly onRunEnded: (error: RecoveryError) => void = () => undefined,
  ) {}

  /** Marks the step as running (its start time goes into the report). */
  start(step: BackupStep): void {
    this.startedAt.set(step, this.clock.now());
    this.observer.stepStarted?.(step);
  }

  /** Records the step's outcome; a step never started is recorded without times. */
  end(step: BackupStep, outcome: StepOutcome): void {
    if (this.has(step)) return;
    const startedAt = this.startedAt.get(step);
    const report: StepReport = { step, outcome, ...(startedAt === undefined ? {} : { startedAt: iso(startedAt), endedAt: iso(this.clock.now()) }) };
    this.steps.push(report);
    this.observer.stepFinished?.(report);
    this.event(outcome.status === 'failed' ? 'error' : 'info', `${step}: ${words(outcome)}`, { step, outcome });
  }

  /** Runs one step and records its outcome; a failed outcome or a throw stops the job (thrown as RecoveryError). */
  async step(step: BackupStep, work: () => Promise<StepOutcome>): Promise<StepOutcome> {
    this.start(step);
    let outcome: StepOutcome;
    try {
      outcome = await work();
    } catch (e) {
      const error = toRecoveryError(e);
      this.end(step, { status: 'failed', code: error.code, message: error.message });
      throw error;
    }
    this.end(step, outcome);
    await this.flushEvents();
    if (outcome.status === 'failed') throw new RecoveryError(outcome.code, outcome.message, { data: { step } });
    return outcome;
  }

  has(step: BackupStep): boolean {
    return this.steps.some((s) => s.step === step);
  }

  /** Records every step that has no outcome yet as skipped, saying why it did not run. */
  notRun(why: string): void {
    for (const step of BACKUP_STEPS) if (!this.has(step)) this.end(step, { status: 'skipped', why });
  }

  /** The step that failed first, if any. */
  failedStep(): BackupStep | undefined {
    return this.steps.find((s) => s.outcome.status === 'failed')?.step as BackupStep | undefined;
  }

  event(level: RunEvent['level'], message: string, data?: Record<string, unknown>): void {
    const event: RunEvent = { time: iso(this.clock.now()), level, message, ...(data === undefined ? {} : { data }) };
    this.pendingEvents.push(event);
    this.observer.event?.(event);
  }

  /** Sends the events gathered so far (rule 1). Never throws. */
  async flushEvents(): Promise<void> {
    if (this.pendingEvents.length === 0) return;
    const batch = this.pendingEvents;
    this.pendingEvents = [];
    try {
      await this.server.appendEvents(this.runId, batch);
    } catch (e) {
      if (isRunEnded(e)) this.onRunEnded(e);
      this.pendingEvents = [...batch, ...this.pendingEvents];
    }
  }

  /** The steps in backup order (rule 3). */
  orderedSteps(): StepReport[] {
    return [...this.steps].sort((a, b) => BACKUP_STEPS.indexOf(a.step as BackupStep) - BACKUP_STEPS.indexOf(b.step as BackupStep));
  }

  /**
   * Builds the outcome around `summary`, sends the last events and `finishRun` (within the
   * reconnect window). The outcome is returned even when the server cannot be told (an event says so).
   */
  async finish(state: Exclude<RunState, 'queued' | 'running'>, summary: Record<string, unknown>, error?: RecoveryError): Promise<RunOutcome> {
    if (error !== undefined) this.errors.push({ code: error.code, message: error.message });
    const steps = this.orderedSteps();
    const report = { ...summary, steps: steps.map((s) => ({ step: s.step, ...s.outcome })), errors: this.errors };
    const outcome: RunOutcome = {
      state,
      steps,
      report,
      ...(error === undefined ? {} : { error: { code: error.code, message: error.message, data: { ...error.data } } }),
    };
    this.event(state === 'succeeded' ? 'info' : state === 'failed' ? 'error' : 'warning', `backup ${state}${error ? `: ${error.message}` : ''}`, { report });
    await this.flushEvents();
    try {
      await withRetry(this.retry, 'report the outcome', () => this.server.finishRun(this.runId, outcome));
    } catch (e) {
      this.event('error', `the outcome could not be sent to the server: ${e instanceof Error ? e.message : String(e)}`);
    }
    return outcome;
  }
}

export function toRecoveryError(e: unknown): RecoveryError {
  return isRecoveryError(e) ? e : new RecoveryError('backup.internal', e instanceof Error ? e.message : String(e), { cause: e });
}
