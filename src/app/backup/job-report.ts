/**
 * The report of a backup run (run-backup-job.ts): the job report of app/jobs/run-report.ts (steps
 * with their real outcomes, events in batches, the outcome sent with `finishRun`) with a backup's
 * steps. The outcome lists the steps in the order they belong to a backup, whatever order they were
 * recorded in (the post-script may run after a failed copy).
 */
import type { RecoveryError } from '../../core/errors.ts';
import type { RunOutcome } from '../../core/protocol/jobs.ts';
import type { Clock } from '../../ports/clock.ts';
import { asRecoveryError, RunReport, type EndState, type ReportServer, type RunKind, type RunObserver } from '../jobs/run-report.ts';
import { withRetry, type RetryPolicy } from './retry.ts';

/** The steps of a backup run, in order. */
export const BACKUP_STEPS = ['precondition', 'prechecks', 'pre-script', 'set', 'snapshot', 'survey', 'copy', 'commit', 'post-script'] as const;
export type BackupStep = (typeof BACKUP_STEPS)[number];

/** What a user of the backup job (the headless agent's log) is told as it happens. */
export type BackupJobObserver = RunObserver<BackupStep>;

const BACKUP_RUN: RunKind<BackupStep> = {
  name: 'backup',
  steps: BACKUP_STEPS,
  internalCode: 'backup.internal',
  closingLevel: { succeeded: 'info', failed: 'error', cancelled: 'warning', idle: 'warning' },
};

export class BackupJobReport extends RunReport<BackupStep> {
  constructor(
    runId: string,
    server: ReportServer,
    clock: Clock,
    retry: RetryPolicy,
    observer: BackupJobObserver = {},
    onRunEnded: (error: RecoveryError) => void = () => undefined,
  ) {
    super(BACKUP_RUN, { runId, server, clock, observer, onRunEnded, retryOutcome: (call) => withRetry(retry, 'report the outcome', call) });
  }

  /** Builds the outcome around `summary`, the steps in backup order; see RunReport.finishWith. */
  finish(state: EndState, summary: Record<string, unknown>, error?: RecoveryError): Promise<RunOutcome> {
    return this.finishWith(state, summary, this.orderedSteps(), error);
  }
}

export function toRecoveryError(e: unknown): RecoveryError {
  return asRecoveryError(e, 'backup.internal');
}
