/**
 * Translates the agent session's status changes and the restore engine's observer calls into the
 * reports the appliance screens take (AgentEvent). What the two sides disagree on, and how:
 *  - The engine reports throughput as rates; the screens want cumulative counters (they compute
 *    their own rates). The network counter is the rate summed over the time between reports.
 *  - The Restore tab needs the disks and their sizes when the job starts, but the engine knows
 *    them only after its pre-checks (first progress report). Then the job is announced again with
 *    its disks, and the steps and errors so far are replayed, so nothing is lost.
 *  - The first registration is `server/registered`; later bound/unbound changes are `server/binding`.
 */
import type { AgentStatus } from '../../app/agent-session.ts';
import type { RestoreObserver } from '../../app/restore/report.ts';
import { RESTORE_STEPS } from '../../app/restore/report.ts';
import type { AssignedRun, RunEvent, RunProgress, StepReport } from '../../core/protocol/jobs.ts';
import type { AgentEvent } from '../../tui/services.ts';
import type { StepOutcome } from '../../tui/state/restore-progress.ts';

type Emit = (event: AgentEvent) => void;

interface JobState {
  readonly id: string;
  readonly name: string;
  /** targetDisk → "Disk 0 -> /dev/loop3" */
  readonly labels: ReadonlyMap<string, string>;
  disks: readonly string[];
  readonly replay: AgentEvent[];
  networkBytes: number;
  lastProgressAt: number | null;
}

/** "/tmp/x/target.img" → "target.img", "\\\\.\\PhysicalDrive1" → "PhysicalDrive1": the bar must fit the row. */
function lastSegment(path: string): string {
  return path.split(/[\\/]/).filter((p) => p !== '').at(-1) ?? path;
}

export function stepOutcome(report: StepReport): StepOutcome {
  const o = report.outcome;
  switch (o.status) {
    case 'done': return o.detail === undefined ? { state: 'done' } : { state: 'done', detail: o.detail };
    case 'skipped': return { state: 'skipped', reason: o.why };
    case 'failed': return { state: 'failed', error: `${o.message} [${o.code}]` };
  }
}

export class AgentEventBridge {
  private registered = false;
  private job: JobState | null = null;

  constructor(private readonly emit: Emit, private readonly now: () => number = Date.now) {}

  /** The agent session's status listener. */
  readonly onStatus = (status: AgentStatus): void => {
    switch (status.state) {
      case 'connecting':
        this.registered = false;
        this.emit(status.reason === undefined ? { type: 'server/connecting' } : { type: 'server/connecting', reason: status.reason });
        return;
      case 'online-unbound': case 'bound': {
        const bound = status.state === 'bound';
        this.emit(this.registered ? { type: 'server/binding', bound } : { type: 'server/registered', bound });
        this.registered = true;
        return;
      }
      case 'job-running': return;
      case 'job-done': case 'job-failed': {
        const o = status.outcome;
        this.job = null;
        if (o.state === 'succeeded') { this.emit({ type: 'job/finished', outcome: 'succeeded' }); return; }
        const message = o.state === 'idle' ? 'the precondition does not hold; the job went back to idle' : o.error?.message;
        this.emit({ type: 'job/finished', outcome: o.state === 'failed' ? 'failed' : 'cancelled', ...(message === undefined ? {} : { message }) });
        return;
      }
      case 'error': this.emit({ type: 'server/error', code: status.code, message: status.message }); return;
      case 'stopped': return;
    }
  };

  /** A run starts: announce it before the engine's first step. */
  runStarted(run: AssignedRun): void {
    const labels = new Map<string, string>();
    if (run.spec.kind === 'restore') for (const d of run.spec.disks) labels.set(d.targetDisk, `Disk ${d.sourceDisk} -> ${lastSegment(d.targetDisk)}`);
    this.job = { id: run.jobId, name: run.jobName, labels, disks: [], replay: [], networkBytes: 0, lastProgressAt: null };
    this.announce(this.job, []);
  }

  /** The restore engine's observer. */
  readonly observer: RestoreObserver = {
    stepStarted: (step) => this.jobEvent({ type: 'job/step', id: step, outcome: { state: 'running' } }),
    stepFinished: (report) => this.jobEvent({ type: 'job/step', id: report.step, outcome: stepOutcome(report) }),
    progress: (p) => this.progress(p),
    event: (e) => this.event(e),
  };

  private announce(job: JobState, disks: RunProgress['disks']): void {
    this.emit({
      type: 'job/started', job: { id: job.id, name: job.name }, steps: [...RESTORE_STEPS],
      disks: disks.map((d) => ({ key: d.targetDisk, label: job.labels.get(d.targetDisk) ?? d.targetDisk, bytesTotal: Number(d.bytesTotal) })),
    });
  }

  /** Step and error reports are kept, to replay them when the job is announced again with its disks. */
  private jobEvent(event: AgentEvent): void {
    this.job?.replay.push(event);
    this.emit(event);
  }

  private progress(p: RunProgress): void {
    const job = this.job;
    if (job === null) return;
    const keys = p.disks.map((d) => d.targetDisk);
    if (keys.join('\n') !== job.disks.join('\n')) {
      job.disks = keys;
      this.announce(job, p.disks);
      for (const e of job.replay) this.emit(e);
    }
    const now = this.now();
    if (job.lastProgressAt !== null) job.networkBytes += Math.max(0, p.networkBytesPerSecond) * ((now - job.lastProgressAt) / 1000);
    job.lastProgressAt = now;
    this.emit({
      type: 'job/progress', stage: p.stage, networkBytes: Math.round(job.networkBytes),
      perDisk: p.disks.map((d) => ({ key: d.targetDisk, bytesDone: Number(d.bytesDone) })),
    });
  }

  private event(e: RunEvent): void {
    if (e.level === 'debug') return;
    const level = e.level === 'warning' ? 'warn' : e.level;
    this.emit({ type: 'job/log', lines: [{ level, text: e.message }] });
    if (e.level === 'error') {
      const outcome = e.data?.['outcome'] as { code?: unknown } | undefined;
      const code = [e.data?.['code'], outcome?.code].find((c): c is string => typeof c === 'string') ?? 'restore.error';
      this.jobEvent({ type: 'job/error', code, message: e.message });
    }
  }
}
