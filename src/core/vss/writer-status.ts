/**
 * Judging writer status after each backup phase (GatherWriterStatus + GetWriterStatus[Ex]). A writer
 * whose components are in the backup (and the ASR writer, always) must be healthy: a FAILED_AT_* state
 * or a failure HRESULT stops the backup with an error naming the phase and the writer. Failures of
 * writers the backup does not depend on are reported as warnings.
 */
import { RecoveryError } from '../errors.ts';
import { normalizeGuid } from '../partition/guid.ts';
import { failed, formatHresult, isRetryableHresult } from './hresult.ts';
import { ASR_WRITER_ID } from './writer-metadata.ts';

/** VSS_WRITER_STATE (vss.h), indexed by value. */
export const WRITER_STATES: readonly string[] = [
  'UNKNOWN', 'STABLE', 'WAITING_FOR_FREEZE', 'WAITING_FOR_THAW', 'WAITING_FOR_POST_SNAPSHOT',
  'WAITING_FOR_BACKUP_COMPLETE', 'FAILED_AT_IDENTIFY', 'FAILED_AT_PREPARE_BACKUP', 'FAILED_AT_PREPARE_SNAPSHOT',
  'FAILED_AT_FREEZE', 'FAILED_AT_THAW', 'FAILED_AT_POST_SNAPSHOT', 'FAILED_AT_BACKUP_COMPLETE',
  'FAILED_AT_PRE_RESTORE', 'FAILED_AT_POST_RESTORE', 'FAILED_AT_BACKUPSHUTDOWN',
];

export function writerStateName(state: number): string {
  return WRITER_STATES[state] ?? `STATE_${state}`;
}

export interface WriterStatus {
  readonly instanceId: string;
  readonly writerId: string;
  readonly name: string;
  /** VSS_WRITER_STATE value. */
  readonly state: number;
  /** The writer's failure HRESULT (0 when none). */
  readonly failure: number;
  /** From GetWriterStatusEx, when available: the application's own HRESULT and message. */
  readonly applicationResult?: number;
  readonly applicationMessage?: string;
}

export interface WriterProblem {
  readonly status: WriterStatus;
  readonly stateName: string;
  /** One line: writer, state, failure and message. */
  readonly text: string;
  readonly retryable: boolean;
}

export interface StatusJudgement {
  readonly fatal: readonly WriterProblem[];
  readonly warnings: readonly WriterProblem[];
}

function isFailedState(state: number): boolean {
  return state >= 6 && state <= 15;
}

function describe(s: WriterStatus): WriterProblem {
  const stateName = writerStateName(s.state);
  const parts = [`writer "${s.name}" {${s.writerId}} is ${stateName}`];
  if (s.failure !== 0) parts.push(formatHresult(s.failure));
  if (s.applicationResult !== undefined && s.applicationResult !== 0) parts.push(`application ${formatHresult(s.applicationResult)}`);
  if (s.applicationMessage !== undefined && s.applicationMessage.trim() !== '') parts.push(`"${s.applicationMessage.trim()}"`);
  return { status: s, stateName, text: parts.join(', '), retryable: isRetryableHresult(s.failure) };
}

/** Splits unhealthy writers into those the backup depends on (`required` writer ids, plus ASR) and the rest. */
export function judgeWriterStatus(statuses: readonly WriterStatus[], required: readonly string[]): StatusJudgement {
  const needed = new Set([ASR_WRITER_ID, ...required.map(normalizeGuid)]);
  const fatal: WriterProblem[] = [];
  const warnings: WriterProblem[] = [];
  for (const s of statuses) {
    if (!isFailedState(s.state) && !failed(s.failure)) continue;
    (needed.has(normalizeGuid(s.writerId)) ? fatal : warnings).push(describe(s));
  }
  return { fatal, warnings };
}

/** The error for a phase whose required writers failed: code vss.writer-failed, naming phase and writer. */
export function writerFailureError(phase: string, fatal: readonly WriterProblem[], cause?: unknown): RecoveryError {
  const first = fatal[0];
  const text = fatal.map((p) => p.text).join('; ');
  return new RecoveryError('vss.writer-failed', `VSS backup failed after ${phase}: ${text}`, {
    data: {
      phase,
      writer: first?.status.name,
      writerId: first?.status.writerId,
      state: first?.stateName,
      failure: first === undefined ? undefined : formatHresult(first.status.failure),
      writers: fatal.map((p) => ({ name: p.status.name, writerId: p.status.writerId, state: p.stateName, failure: formatHresult(p.status.failure), message: p.status.applicationMessage })),
    },
    retryable: fatal.every((p) => p.retryable),
    ...(cause === undefined ? {} : { cause }),
  });
}
