/**
 * The appliance's session with the backup server (DESIGN flows 1–2): register with the machine's
 * identity, heartbeat, wait to be bound, take assigned runs and execute them. The headless agent
 * runs it from the command line; the TUI puts a face on the same object through `subscribe`.
 *
 *   connecting ──register──▶ online-unbound ⇄ bound ──nextRun──▶ job-running ──▶ job-done | job-failed
 *        ▲  (a retryable failure anywhere: back to connecting, with the reason, and retry)   │
 *        └─────────────────────────────────────────────────────────────────────────────────┘
 *   error: a failure that retrying cannot fix (bad access key); stopped: the signal fired.
 *
 * Rules:
 * 1. Retryable failures (connection lost, 5xx, server.busy) are retried with backoff for ever;
 *    other failures of register end the session in `error`.
 * 2. While a run executes, heartbeats say "running" with its id.
 * 3. A run goes to the executor of its kind: restore runs to `runRestore` (the appliance), backup
 *    runs to `runBackup` (a machine's backup agent: `lifeline agent --role backup`, on Windows or on
 *    Linux with --disk images). A run whose executor this agent was not given is finished as failed
 *    with `agent.unsupported-job` (the WinPE appliance never backs up; a backup agent never writes
 *    its own disks).
 * 4. `once`: the session ends after its first run, with that run's outcome.
 */
import { isRecoveryError, RecoveryError } from '../core/errors.ts';
import type { AgentIdentity, AssignedRun, RunOutcome } from '../core/protocol/jobs.ts';
import type { AbortSignalLike } from '../core/units.ts';
import type { BackupServer } from '../ports/backup-server.ts';
import type { Clock } from '../ports/clock.ts';

export type AgentStatus =
  | { readonly state: 'connecting'; readonly attempt: number; readonly reason?: string }
  | { readonly state: 'online-unbound'; readonly agentId: string }
  | { readonly state: 'bound'; readonly agentId: string }
  | { readonly state: 'job-running'; readonly run: RunSummary }
  | { readonly state: 'job-done'; readonly run: RunSummary; readonly outcome: RunOutcome }
  | { readonly state: 'job-failed'; readonly run: RunSummary; readonly outcome: RunOutcome }
  | { readonly state: 'error'; readonly code: string; readonly message: string }
  | { readonly state: 'stopped' };

export interface RunSummary {
  readonly runId: string;
  readonly jobId: string;
  readonly jobName: string;
  readonly kind: AssignedRun['spec']['kind'];
}

export type AgentStatusListener = (status: AgentStatus) => void;

export interface AgentSessionDeps {
  readonly server: BackupServer;
  readonly clock: Clock;
  readonly identity: AgentIdentity;
  /** Executes a restore run to its end and reports it to the server (runRestoreJob); absent = this agent does not restore. */
  readonly runRestore?: (run: AssignedRun, signal?: AbortSignalLike) => Promise<RunOutcome>;
  /** Executes a backup run to its end and reports it to the server (runBackupJob); absent = this agent does not back up. */
  readonly runBackup?: (run: AssignedRun, signal?: AbortSignalLike) => Promise<RunOutcome>;
  /** Between polls for a run and between heartbeats while waiting; default 5 s. */
  readonly pollMs?: number;
  /** Heartbeats while a run executes; default 30 s. */
  readonly heartbeatMs?: number;
}

const RECONNECT_MS = [1_000, 2_000, 5_000, 10_000, 30_000];

function summary(run: AssignedRun): RunSummary {
  return { runId: run.runId, jobId: run.jobId, jobName: run.jobName, kind: run.spec.kind };
}

export class AgentSession {
  private current: AgentStatus = { state: 'connecting', attempt: 0 };
  private readonly listeners = new Set<AgentStatusListener>();
  private agentId = '';

  constructor(private readonly deps: AgentSessionDeps) {}

  get status(): AgentStatus {
    return this.current;
  }

  /** Calls `listener` on every status change; returns the unsubscribe function. */
  subscribe(listener: AgentStatusListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Runs until the signal fires (status `stopped`, resolves undefined) or, with `once`, until one
   * run ended (resolves its outcome). Rejects when registration fails for good (status `error`).
   */
  async run(options: { readonly once?: boolean; readonly signal?: AbortSignalLike } = {}): Promise<RunOutcome | undefined> {
    const { signal } = options;
    await this.connect(signal);
    while (!signal?.aborted) {
      const run = await this.poll(signal);
      if (run === undefined) continue;
      const outcome = await this.execute(run, signal);
      if (options.once === true) return outcome;
    }
    this.set({ state: 'stopped' });
    return undefined;
  }

  private set(status: AgentStatus): void {
    this.current = status;
    for (const listener of this.listeners) listener(status);
  }

  private async backoff(attempt: number, error: RecoveryError): Promise<void> {
    this.set({ state: 'connecting', attempt, reason: `${error.code}: ${error.message}` });
    await this.deps.clock.sleep(RECONNECT_MS[Math.min(attempt - 1, RECONNECT_MS.length - 1)]!);
  }

  private async connect(signal: AbortSignalLike | undefined): Promise<void> {
    for (let attempt = 1; !signal?.aborted; attempt++) {
      if (attempt === 1) this.set({ state: 'connecting', attempt });
      try {
        const registration = await this.deps.server.register(this.deps.identity);
        this.agentId = registration.agentId;
        this.set(registration.bound ? { state: 'bound', agentId: this.agentId } : { state: 'online-unbound', agentId: this.agentId });
        return;
      } catch (e) {
        if (!isRecoveryError(e) || !e.retryable) {
          const error = isRecoveryError(e) ? e : new RecoveryError('agent.register-failed', e instanceof Error ? e.message : String(e), { cause: e });
          this.set({ state: 'error', code: error.code, message: error.message });
          throw error;
        }
        await this.backoff(attempt, e);
      }
    }
  }

  /** One heartbeat and, when bound, one look for a run; waits `pollMs` when there is none. */
  private async poll(signal: AbortSignalLike | undefined): Promise<AssignedRun | undefined> {
    for (let attempt = 1; !signal?.aborted; attempt++) {
      try {
        const { bound } = await this.deps.server.heartbeat('idle');
        const state = bound ? 'bound' : 'online-unbound';
        if (this.current.state !== state || attempt > 1) this.set({ state, agentId: this.agentId });
        const run = bound ? await this.deps.server.nextRun() : undefined;
        if (run === undefined) await this.deps.clock.sleep(this.deps.pollMs ?? 5_000);
        return run;
      } catch (e) {
        if (isRecoveryError(e) && e.code === 'agent.not-bound') {
          this.set({ state: 'online-unbound', agentId: this.agentId });
          await this.deps.clock.sleep(this.deps.pollMs ?? 5_000);
          return undefined;
        }
        if (!isRecoveryError(e) || !e.retryable) throw e;
        await this.backoff(attempt, e);
      }
    }
    return undefined;
  }

  private async execute(run: AssignedRun, signal: AbortSignalLike | undefined): Promise<RunOutcome> {
    const info = summary(run);
    this.set({ state: 'job-running', run: info });
    const beats = { running: true, sent: 0 };
    const beat = this.heartbeatWhile(beats, run.runId);
    let outcome: RunOutcome;
    try {
      const executor = run.spec.kind === 'restore' ? this.deps.runRestore : this.deps.runBackup;
      outcome = executor === undefined ? await this.refuse(run) : await executor(run, signal);
    } finally {
      beats.running = false;
      await beat;
    }
    this.set(outcome.state === 'succeeded' ? { state: 'job-done', run: info, outcome } : { state: 'job-failed', run: info, outcome });
    return outcome;
  }

  /** Heartbeats every `heartbeatMs` while `beats.running` (rule 2), sleeping in short slices so it ends soon after the run. */
  private async heartbeatWhile(beats: { running: boolean; sent: number }, runId: string): Promise<void> {
    const every = this.deps.heartbeatMs ?? 30_000;
    let last = this.deps.clock.now();
    while (beats.running) {
      await this.deps.clock.sleep(Math.min(every, 1_000));
      if (beats.running && this.deps.clock.now() - last >= every) {
        last = this.deps.clock.now();
        beats.sent++;
        await this.deps.server.heartbeat('running', runId).catch(() => undefined);
      }
    }
  }

  /** Rule 3: a run of a kind this agent has no executor for. */
  private async refuse(run: AssignedRun): Promise<RunOutcome> {
    const message = run.spec.kind === 'backup'
      ? 'this agent restores disks; it does not run backup jobs (the machine to back up runs `lifeline agent --role backup`)'
      : 'this agent backs up its machine\'s disks; it does not run restore jobs (restores run from the recovery appliance)';
    const error = { code: 'agent.unsupported-job', message };
    const outcome: RunOutcome = { state: 'failed', steps: [], error };
    await this.deps.server.finishRun(run.runId, outcome).catch(() => undefined);
    return outcome;
  }
}
