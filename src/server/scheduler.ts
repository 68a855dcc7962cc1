/**
 * Turns due jobs into queued runs for their agents: every `intervalMs`, and at once when woken (a
 * job with schedule "now" was just created). The catalog plans each job's next run as it queues
 * one, so a tick that runs twice, or on two servers sharing a catalog, queues a job once
 * (`catalog.job-busy` for the loser). Missed runs are not replayed.
 */
import { isRecoveryError } from '../core/errors.ts';
import type { Catalog } from './catalog/catalog.ts';

export interface SchedulerOptions {
  readonly intervalMs?: number;
  readonly clock?: () => Date;
  readonly log?: (line: string) => void;
}

/** Refusals that only mean "not this time". */
const EXPECTED = new Set(['catalog.job-busy', 'catalog.job-disabled', 'catalog.not-found']);

export class Scheduler {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private readonly intervalMs: number;
  private readonly clock: () => Date;
  private readonly log: (line: string) => void;

  constructor(
    private readonly catalog: Catalog,
    options: SchedulerOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? 5_000;
    this.clock = options.clock ?? (() => new Date());
    this.log = options.log ?? (() => undefined);
  }

  start(): void {
    this.stopped = false;
    this.timer = setInterval(() => this.wake(), this.intervalMs);
    this.timer.unref();
    this.wake();
  }

  /** Looks for due jobs now (or right after the tick in progress). */
  wake(): void {
    if (this.stopped) return;
    if (this.running !== undefined) {
      this.again = true;
      return;
    }
    this.running = this.tick()
      .then(() => undefined, (e: unknown) => this.log(`scheduler: ${e instanceof Error ? e.message : String(e)}`))
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.wake();
        }
      });
  }

  /** Queues a run of every due job; returns how many were queued. */
  async tick(): Promise<number> {
    let queued = 0;
    for (const job of await this.catalog.dueJobs(this.clock())) {
      try {
        await this.catalog.startRun(job.tenantId, job.id, 'schedule');
        queued++;
      } catch (e) {
        if (!isRecoveryError(e) || !EXPECTED.has(e.code)) this.log(`scheduler: job ${job.id}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    return queued;
  }

  /** Stops ticking and waits for the tick in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    await this.running;
  }
}
