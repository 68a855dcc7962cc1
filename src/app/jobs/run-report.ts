/**
 * The report of one job run, for backup runs (app/backup/job-report.ts) and restore runs
 * (app/restore/report.ts) alike: every step with its real outcome (done, skipped and why, failed
 * with its code — never "done" for what did not run), the events along the way, and the outcome
 * sent with `finishRun`. Each kind of job brings its steps, its summary and how it retries; the
 * rest is here.
 *
 * Rules:
 * 1. Events are gathered and sent in batches: after every step, with every progress report and at
 *    the end. A batch that cannot be sent is kept for the next try; losing the server never fails
 *    the run by itself.
 * 2. A `conflict` whose `data.reason` is `catalog.run-not-active` means the server ended the run
 *    (an operator cancelled it): `onRunEnded` is told, so the run stops at its next guarded call.
 * 3. A step is recorded once: a second outcome for a step that has one is ignored.
 * 4. The outcome lists the steps in the order the subclass hands to `finishWith` (a backup's in
 *    the order they belong to a backup, a restore's as they were recorded).
 */
import { isRecoveryError, RecoveryError } from '../../core/errors.ts';
import type { RunEvent, RunOutcome, RunProgress, RunState, StepOutcome, StepReport } from '../../core/protocol/jobs.ts';
import type { BackupServer } from '../../ports/backup-server.ts';
import type { Clock } from '../../ports/clock.ts';

/** The states a run ends in. */
export type EndState = Exclude<RunState, 'queued' | 'running'>;

/** What a user of a job (the TUI, the headless agent's log) is told as it happens. */
export interface RunObserver<Step extends string> {
  stepStarted?(step: Step): void;
  stepFinished?(report: StepReport): void;
  progress?(progress: RunProgress): void;
  event?(event: RunEvent): void;
}

export type ReportServer = Pick<BackupServer, 'appendEvents' | 'finishRun'>;

/** What a kind of job (backup, restore) brings to its report. */
export interface RunKind<Step extends string> {
  /** How the closing event names the job: "<name> <state>". */
  readonly name: string;
  /** The steps of the job, in order. */
  readonly steps: readonly Step[];
  /** The code of an error a step throws that is not a RecoveryError. */
  readonly internalCode: string;
  /** The level of the closing event, per end state. */
  readonly closingLevel: Readonly<Record<EndState, RunEvent['level']>>;
}

export interface RunReportDeps<Step extends string> {
  readonly runId: string;
  readonly server: ReportServer;
  readonly clock: Clock;
  /** Makes the `finishRun` call within the job's reconnect window. */
  readonly retryOutcome: (call: () => Promise<void>) => Promise<void>;
  readonly observer?: RunObserver<Step> | undefined;
  readonly onRunEnded?: ((error: RecoveryError) => void) | undefined;
}

/** True when the server refused a run call because the run is no longer active (rule 2). */
export function isRunEnded(e: unknown): e is RecoveryError {
  return isRecoveryError(e) && e.code === 'conflict' && e.data['reason'] === 'catalog.run-not-active';
}

/** `e` as it is when it is a RecoveryError, else wrapped with `internalCode`. */
export function asRecoveryError(e: unknown, internalCode: string): RecoveryError {
  return isRecoveryError(e) ? e : new RecoveryError(internalCode, e instanceof Error ? e.message : String(e), { cause: e });
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function words(outcome: StepOutcome): string {
  if (outcome.status === 'done') return `done${outcome.detail ? `: ${outcome.detail}` : ''}`;
  if (outcome.status === 'skipped') return `skipped: ${outcome.why}`;
  return `failed: ${outcome.code}: ${outcome.message}`;
}

export abstract class RunReport<Step extends string> {
  readonly steps: StepReport[] = [];
  readonly errors: { code: string; message: string }[] = [];
  protected readonly clock: Clock;
  private readonly startedAt = new Map<Step, number>();
  private pendingEvents: RunEvent[] = [];
  private readonly observer: RunObserver<Step>;
  private readonly onRunEnded: (error: RecoveryError) => void;

  protected constructor(
    private readonly kind: RunKind<Step>,
    private readonly deps: RunReportDeps<Step>,
  ) {
    this.clock = deps.clock;
    this.observer = deps.observer ?? {};
    this.onRunEnded = deps.onRunEnded ?? (() => undefined);
  }

  /** Marks the step as running (its start time goes into the report). */
  start(step: Step): void {
    this.startedAt.set(step, this.clock.now());
    this.observer.stepStarted?.(step);
  }

  /** Records the step's outcome (rule 3); a step never started is recorded without times. */
  end(step: Step, outcome: StepOutcome): void {
    if (this.has(step)) return;
    const startedAt = this.startedAt.get(step);
    const report: StepReport = { step, outcome, ...(startedAt === undefined ? {} : { startedAt: iso(startedAt), endedAt: iso(this.clock.now()) }) };
    this.steps.push(report);
    this.observer.stepFinished?.(report);
    this.event(outcome.status === 'failed' ? 'error' : 'info', `${step}: ${words(outcome)}`, { step, outcome });
  }

  /** Runs one step and records its outcome; a failed outcome or a throw stops the job (thrown as RecoveryError). */
  async step(step: Step, work: () => Promise<StepOutcome>): Promise<StepOutcome> {
    this.start(step);
    let outcome: StepOutcome;
    try {
      outcome = await work();
    } catch (e) {
      const error = asRecoveryError(e, this.kind.internalCode);
      this.end(step, { status: 'failed', code: error.code, message: error.message });
      throw error;
    }
    this.end(step, outcome);
    await this.flushEvents();
    if (outcome.status === 'failed') throw new RecoveryError(outcome.code, outcome.message, { data: { step } });
    return outcome;
  }

  has(step: Step): boolean {
    return this.steps.some((s) => s.step === step);
  }

  /** Records every step that has no outcome yet as skipped, saying why it did not run. */
  notRun(why: string): void {
    for (const step of this.kind.steps) if (!this.has(step)) this.end(step, { status: 'skipped', why });
  }

  /** The step that failed first, if any. */
  failedStep(): Step | undefined {
    return this.steps.find((s) => s.outcome.status === 'failed')?.step as Step | undefined;
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
      await this.deps.server.appendEvents(this.deps.runId, batch);
    } catch (e) {
      if (isRunEnded(e)) this.onRunEnded(e);
      this.pendingEvents = [...batch, ...this.pendingEvents];
    }
  }

  /** The steps in the job's order, whatever order they were recorded in. */
  orderedSteps(): StepReport[] {
    const order = this.kind.steps as readonly string[];
    return [...this.steps].sort((a, b) => order.indexOf(a.step) - order.indexOf(b.step));
  }

  /** The report sent with the outcome: `summary`, then every step's outcome and the errors. */
  protected reportOf(summary: Record<string, unknown>, steps: readonly StepReport[]): Record<string, unknown> {
    return { ...summary, steps: steps.map((s) => ({ step: s.step, ...s.outcome })), errors: this.errors };
  }

  /**
   * Builds the outcome around `summary` with `steps` (rule 4), sends the last events and `finishRun`
   * (within the reconnect window). The outcome is returned even when the server cannot be told (an
   * error event says so).
   */
  protected async finishWith(state: EndState, summary: Record<string, unknown>, steps: StepReport[], error?: RecoveryError): Promise<RunOutcome> {
    if (error !== undefined) this.errors.push({ code: error.code, message: error.message });
    const report = this.reportOf(summary, steps);
    const outcome: RunOutcome = {
      state,
      steps,
      report,
      ...(error === undefined ? {} : { error: { code: error.code, message: error.message, data: { ...error.data } } }),
    };
    this.event(this.kind.closingLevel[state], `${this.kind.name} ${state}${error ? `: ${error.message}` : ''}`, { report });
    await this.flushEvents();
    try {
      await this.deps.retryOutcome(() => this.deps.server.finishRun(this.deps.runId, outcome));
    } catch (e) {
      this.event('error', `the outcome could not be sent to the server: ${e instanceof Error ? e.message : String(e)}`);
    }
    return outcome;
  }
}
