/**
 * Restore tab: the running job, its stage, per-disk progress, network and disk throughput apart,
 * ETA, bytes, the step checklist with each step's real outcome, errors, the passphrase prompt when
 * the set is encrypted and the job carries none, and the log (a bounded ring).
 *
 * Honesty rules: a step is shown done only when reported done; when the job ends failed or
 * cancelled, steps still running are shown failed ("interrupted"), never left looking busy.
 */
import type { ModalView, Result } from './controls.ts';
import { applyTextEdit, result, type ControlAction } from './controls.ts';
import { msg, rawText, type Msg } from './i18n.ts';
import { appendLog, emptyLog, type LogLine, type LogRing } from './log-ring.ts';
import { addSample, etaSeconds, rateOf, type Sample } from './throughput.ts';

export type StepOutcome =
  | { readonly state: 'pending' }
  | { readonly state: 'running' }
  | { readonly state: 'done'; readonly detail?: string }
  | { readonly state: 'skipped'; readonly reason: string }
  | { readonly state: 'failed'; readonly error: string; readonly interrupted?: boolean };

export interface RestoreStep {
  readonly id: string;
  readonly outcome: StepOutcome;
}

export interface DiskProgress {
  readonly key: string;
  /** "Disk 0 -> Disk 1" as the job maps them. */
  readonly label: string;
  readonly bytesDone: number;
  readonly bytesTotal: number;
}

export interface JobError {
  readonly atMs: number;
  readonly code: string;
  readonly message: string;
}

export type JobPhase = 'idle' | 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface RestoreState {
  readonly job: { readonly id: string; readonly name: string } | null;
  readonly phase: JobPhase;
  readonly stage: string | null;
  readonly startedAtMs: number | null;
  readonly finishedAtMs: number | null;
  readonly disks: readonly DiskProgress[];
  readonly network: readonly Sample[];
  readonly written: readonly Sample[];
  readonly steps: readonly RestoreStep[];
  readonly errors: readonly JobError[];
  readonly passphrase: { readonly value: string; readonly attempt: number; readonly error: Msg | null } | null;
  readonly log: LogRing;
  readonly outcome: Msg | null;
}

/** The steps of a restore in order (DESIGN flow 3), used when the job does not list its own. */
export const DEFAULT_STEPS: readonly string[] = ['prechecks', 'partition', 'data', 'drivers', 'boot', 'registry', 'scripts', 'report'];

export type JobEvent =
  | {
    readonly type: 'job/started'; readonly atMs: number; readonly job: { readonly id: string; readonly name: string };
    readonly steps?: readonly string[]; readonly disks: readonly Omit<DiskProgress, 'bytesDone'>[];
  }
  /** Cumulative counters: network bytes received, bytes written per disk. */
  | {
    readonly type: 'job/progress'; readonly atMs: number; readonly stage?: string; readonly networkBytes: number;
    readonly perDisk: readonly { readonly key: string; readonly bytesDone: number }[];
  }
  | { readonly type: 'job/step'; readonly id: string; readonly outcome: StepOutcome }
  | { readonly type: 'job/error'; readonly atMs: number; readonly code: string; readonly message: string }
  | { readonly type: 'job/log'; readonly lines: readonly LogLine[] }
  | { readonly type: 'job/passphrase-needed'; readonly attempt: number; readonly error?: string }
  | { readonly type: 'job/finished'; readonly atMs: number; readonly outcome: 'succeeded' | 'failed' | 'cancelled'; readonly message?: string };

export type RestoreAction = ControlAction | JobEvent;

export const MAX_ERRORS = 20;

export function initialRestore(): RestoreState {
  return {
    job: null, phase: 'idle', stage: null, startedAtMs: null, finishedAtMs: null, disks: [], network: [], written: [],
    steps: [], errors: [], passphrase: null, log: emptyLog(), outcome: null,
  };
}

export function bytesDone(s: RestoreState): number {
  return s.disks.reduce((sum, d) => sum + d.bytesDone, 0);
}

export function bytesTotal(s: RestoreState): number {
  return s.disks.reduce((sum, d) => sum + d.bytesTotal, 0);
}

export function networkRate(s: RestoreState): number | null {
  return rateOf(s.network);
}

export function diskRate(s: RestoreState): number | null {
  return rateOf(s.written);
}

/** Seconds left at the current disk write rate (the slower of the two ends the job). */
export function restoreEta(s: RestoreState): number | null {
  if (s.phase !== 'running') return null;
  const net = networkRate(s);
  const disk = diskRate(s);
  const rate = net === null || disk === null ? disk : Math.min(net, disk);
  return etaSeconds(bytesTotal(s) - bytesDone(s), rate);
}

export function restoreModal(s: RestoreState): ModalView | null {
  if (s.passphrase === null || s.job === null) return null;
  return {
    id: 'passphrase',
    title: msg('passphrase.title'),
    lines: [msg('passphrase.explain', { job: s.job.name }), ...(s.passphrase.error === null ? [] : [s.passphrase.error])],
    controls: [
      { kind: 'text', id: 'passphrase', label: msg('passphrase.label'), value: s.passphrase.value, masked: true, invalid: s.passphrase.error !== null },
      { kind: 'button', id: 'passphrase-ok', label: msg('button.ok') },
      { kind: 'button', id: 'passphrase-cancel', label: msg('button.cancel') },
    ],
    initialFocus: 'passphrase',
    cancel: 'passphrase-cancel',
    submit: 'passphrase-ok',
  };
}

export function reduceRestore(s: RestoreState, a: RestoreAction): Result<RestoreState> {
  switch (a.type) {
    case 'control/edit':
      if (a.id !== 'passphrase' || s.passphrase === null) return result(s);
      return result({ ...s, passphrase: { ...s.passphrase, value: applyTextEdit(s.passphrase.value, a.edit, 1024) } });
    case 'control/press': return press(s, a.id);
    case 'control/toggle': case 'control/choose': case 'control/move': case 'control/pick': return result(s);
    case 'job/started':
      return result({
        ...initialRestore(), log: s.log, job: a.job, phase: 'running', startedAtMs: a.atMs,
        disks: a.disks.map((d) => ({ ...d, bytesDone: 0 })),
        steps: (a.steps ?? DEFAULT_STEPS).map((id) => ({ id, outcome: { state: 'pending' } })),
      });
    case 'job/progress': {
      if (s.phase !== 'running') return result(s);
      const done = new Map(a.perDisk.map((d) => [d.key, d.bytesDone]));
      const disks = s.disks.map((d) => ({ ...d, bytesDone: Math.min(d.bytesTotal, done.get(d.key) ?? d.bytesDone) }));
      const written = disks.reduce((sum, d) => sum + d.bytesDone, 0);
      return result({
        ...s, disks, stage: a.stage ?? s.stage,
        network: addSample(s.network, { atMs: a.atMs, bytes: a.networkBytes }),
        written: addSample(s.written, { atMs: a.atMs, bytes: written }),
      });
    }
    case 'job/step': {
      const known = s.steps.some((st) => st.id === a.id);
      const steps = known ? s.steps.map((st) => (st.id === a.id ? { id: st.id, outcome: a.outcome } : st)) : [...s.steps, { id: a.id, outcome: a.outcome }];
      return result({ ...s, steps, stage: a.outcome.state === 'running' ? a.id : s.stage });
    }
    case 'job/error': return result({ ...s, errors: [...s.errors, { atMs: a.atMs, code: a.code, message: a.message }].slice(-MAX_ERRORS) });
    case 'job/log': return result({ ...s, log: appendLog(s.log, a.lines) });
    case 'job/passphrase-needed':
      if (s.job === null || s.phase !== 'running') return result(s);
      return result({ ...s, passphrase: { value: '', attempt: a.attempt, error: a.error === undefined ? null : rawText(a.error) } });
    case 'job/finished': return result(finish(s, a.atMs, a.outcome, a.message));
  }
}

function press(s: RestoreState, id: string): Result<RestoreState> {
  if (s.passphrase === null || s.job === null) return result(s);
  if (id === 'passphrase-cancel') return result({ ...s, passphrase: null }, [{ type: 'decline-passphrase', jobId: s.job.id }]);
  if (id !== 'passphrase-ok') return result(s);
  if (s.passphrase.value === '') {
    return result({ ...s, passphrase: { ...s.passphrase, error: msg('invalid.required', { field: { key: 'passphrase.label' } }) } });
  }
  return result({ ...s, passphrase: null }, [{ type: 'provide-passphrase', jobId: s.job.id, passphrase: s.passphrase.value }]);
}

function finish(s: RestoreState, atMs: number, outcome: 'succeeded' | 'failed' | 'cancelled', message: string | undefined): RestoreState {
  const interrupted = outcome !== 'succeeded';
  const steps = s.steps.map((st) => (interrupted && st.outcome.state === 'running'
    ? { id: st.id, outcome: { state: 'failed', error: '', interrupted: true } as const }
    : st));
  const key = outcome === 'succeeded' ? 'job.outcome.succeeded' : outcome === 'failed' ? 'job.outcome.failed' : 'job.outcome.cancelled';
  return {
    ...s, phase: outcome, finishedAtMs: atMs, steps, passphrase: null,
    outcome: message === undefined ? msg(key) : msg('job.outcome.detail', { outcome: { key }, detail: message }),
  };
}
