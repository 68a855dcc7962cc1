/**
 * The report of a restore run: the job report of app/jobs/run-report.ts (every step with its real
 * outcome — never "done" for what did not run —, events along the way, the outcome sent with
 * `finishRun`) with a restore's steps and, per disk and partition, the bytes, whether they were
 * verified, the time and the network and disk rates. The outcome lists the steps as they were
 * recorded.
 */
import type { RecoveryError } from '../../core/errors.ts';
import type { RunOutcome } from '../../core/protocol/jobs.ts';
import type { Clock } from '../../ports/clock.ts';
import { RunReport, type EndState, type ReportServer, type RunKind, type RunObserver } from '../jobs/run-report.ts';
import type { DiskStats, RegionStats } from './progress.ts';
import { doneBytes } from './progress.ts';
import { withRetry } from './retry.ts';
import type { RetryPolicy } from './retry.ts';

/** The steps of a restore, in order (DESIGN flow 3). */
export const RESTORE_STEPS = ['precondition', 'prechecks', 'pre-script', 'partition', 'data', 'verify', 'drivers', 'boot', 'registry', 'post-script'] as const;
export type RestoreStep = (typeof RESTORE_STEPS)[number];

/** What a user of the engine (the TUI, the headless agent's log) is told as it happens. */
export type RestoreObserver = RunObserver<RestoreStep>;

const RESTORE_RUN: RunKind<RestoreStep> = {
  name: 'restore',
  steps: RESTORE_STEPS,
  internalCode: 'restore.internal',
  closingLevel: { succeeded: 'info', failed: 'error', cancelled: 'error', idle: 'warning' },
};

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

export class RestoreReport extends RunReport<RestoreStep> {
  readonly disks: DiskStats[] = [];

  constructor(runId: string, server: ReportServer, clock: Clock, retry: RetryPolicy, observer: RestoreObserver = {}) {
    super(RESTORE_RUN, { runId, server, clock, observer, retryOutcome: (call) => withRetry('reporting the outcome', call, { ...retry, signal: undefined }) });
  }

  summary(): Record<string, unknown> {
    return this.reportOf(this.totals(), this.steps);
  }

  /** Builds the outcome, the steps as recorded; see RunReport.finishWith. */
  finish(state: EndState, error?: RecoveryError): Promise<RunOutcome> {
    return this.finishWith(state, this.totals(), [...this.steps], error);
  }

  private totals(): Record<string, unknown> {
    const written = this.disks.reduce((s, d) => s + d.regions.reduce((t, r) => t + r.writtenBytes, 0n), 0n);
    return { bytesWritten: String(written), disks: this.disks.map(diskReport) };
  }
}
