/**
 * Everything one restore run shares between its steps: the ports it was given, the retry policy of
 * its reconnect window, the rate limiters and the resume-buffer budget, the report, and what the
 * steps found (the prepared disks, the journal).
 */
import { RecoveryError } from '../../core/errors.ts';
import type { AssignedRun, HardwareInventory, RestoreJobSpec } from '../../core/protocol/jobs.ts';
import type { AbortSignalLike } from '../../core/units.ts';
import type { AsrSession } from '../../ports/asr-session.ts';
import type { BackupServer } from '../../ports/backup-server.ts';
import type { BlockDeviceOpener } from '../../ports/block-device.ts';
import type { BootTool } from '../../ports/boot-tool.ts';
import type { ChunkCodec } from '../../ports/chunk-codec.ts';
import type { Clock } from '../../ports/clock.ts';
import type { DriverTool } from '../../ports/driver-tool.ts';
import type { SetKeys } from '../../ports/set-keys.ts';
import { ByteBudget } from './byte-budget.ts';
import { ChunkFetcher } from './chunk-fetch.ts';
import { DEFAULT_JOURNAL_POLICY } from './journal.ts';
import type { JournalPolicy, RestoreJournal } from './journal.ts';
import type { PreparedRestore } from './preflight.ts';
import type { ProgressMeter } from './progress.ts';
import { RateLimiter } from './rate-limiter.ts';
import { RestoreReport } from './report.ts';
import type { RestoreObserver } from './report.ts';
import type { RetryPolicy } from './retry.ts';
import type { ScriptRunner } from './scripts.ts';

export interface RestoreTuning {
  readonly journal: JournalPolicy;
  /** How often progress goes to the server and the observer. */
  readonly progressEveryMs: number;
}

export const DEFAULT_TUNING: RestoreTuning = { journal: DEFAULT_JOURNAL_POLICY, progressEveryMs: 1_000 };

export interface RestoreDeps {
  readonly server: BackupServer;
  readonly keys: SetKeys;
  readonly disks: BlockDeviceOpener;
  readonly clock: Clock;
  /** This machine, as registered: firmware and disks (with their `protected` flags). */
  readonly inventory: HardwareInventory;
  readonly drivers: DriverTool;
  readonly boot: BootTool;
  readonly asr: AsrSession;
  /** Runs the job's precondition and scripts; absent = this appliance cannot run scripts. */
  readonly scripts?: ScriptRunner;
  /** Asked when the set is encrypted and the job carries no passphrase. */
  readonly passphrase?: () => Promise<string | undefined>;
  readonly observer?: RestoreObserver;
  readonly tuning?: Partial<RestoreTuning>;
}

export interface RestoreContext {
  readonly runId: string;
  readonly spec: RestoreJobSpec;
  readonly deps: RestoreDeps;
  readonly tuning: RestoreTuning;
  readonly retry: RetryPolicy;
  readonly report: RestoreReport;
  readonly transfer: RateLimiter;
  readonly writes: RateLimiter;
  readonly budget: ByteBudget;
  readonly signal?: AbortSignalLike;
  /** Set by the steps as they learn it. */
  idle?: boolean;
  journal?: RestoreJournal;
  prepared?: PreparedRestore;
  meter?: ProgressMeter;
}

export function createRestoreContext(run: AssignedRun, deps: RestoreDeps, signal?: AbortSignalLike): RestoreContext {
  if (run.spec.kind !== 'restore') throw new RecoveryError('restore.not-a-restore-job', `run ${run.runId} is a ${run.spec.kind} job, not a restore`);
  const spec = run.spec;
  const o = spec.options;
  const tuning: RestoreTuning = { ...DEFAULT_TUNING, ...deps.tuning };
  // The retry policy reports through the report, which needs the policy: tie the knot through a holder.
  const holder: { report?: RestoreReport } = {};
  const retry: RetryPolicy = {
    clock: deps.clock,
    windowMs: o.reconnectWindowMinutes * 60_000,
    ...(signal === undefined ? {} : { signal }),
    onRetry: (what, error, attempt, delayMs) =>
      holder.report?.event('warning', `${what}: ${error.code} (${error.message}); retry ${attempt} in ${Math.round(delayMs / 1000)} s`, { code: error.code, attempt }),
  };
  const report = new RestoreReport(run.runId, deps.server, deps.clock, retry, deps.observer);
  holder.report = report;
  return {
    runId: run.runId, spec, deps, tuning, retry, report,
    transfer: new RateLimiter(o.transferLimit, deps.clock, o.utcOffsetMinutes, Math.max(o.writeBlockSize, 1024 * 1024)),
    writes: new RateLimiter(o.writeLimit, deps.clock, o.utcOffsetMinutes, o.writeBlockSize),
    // The pre-checks refuse a bad resume buffer before anything uses it; this only keeps construction safe.
    budget: new ByteBudget(Number.isSafeInteger(o.resumeBufferBytes) && o.resumeBufferBytes > 0 ? o.resumeBufferBytes : 1),
    ...(signal === undefined ? {} : { signal }),
  };
}

export function fetcherFor(ctx: RestoreContext, codec: ChunkCodec): ChunkFetcher {
  return new ChunkFetcher(ctx.deps.server, codec, ctx.retry, ctx.transfer);
}
