/**
 * The Restore tab as lines of text: job and state, stage, one line per disk with a text bar,
 * network and disk throughput apart, ETA, bytes, the step checklist with markers, the last error,
 * and the log table. Markers carry the meaning ("[x]", "[-]", "[!]", "[>]", "[ ]"), not colour.
 */
import type { ListControl } from './controls.ts';
import { formatBytes } from '../../core/units.ts';
import { msg, rawText, type Msg, type MsgKey } from './i18n.ts';
import {
  bytesDone, bytesTotal, diskRate, networkRate, restoreEta, type JobPhase, type RestoreState, type RestoreStep,
} from './restore-progress.ts';
import { formatDuration, formatRate, percentOf } from './throughput.ts';

/** Disk lines shown; more disks are summed up in one line. */
export const MAX_DISK_LINES = 3;
/** Step lines shown (a restore has 8); longer checklists show a window around the work in progress. */
export const MAX_STEP_LINES = 8;
const BAR_WIDTH = 20;

const STEP_LABELS: Readonly<Record<string, MsgKey>> = {
  prechecks: 'step.prechecks', partition: 'step.partition', data: 'step.data', drivers: 'step.drivers',
  boot: 'step.boot', registry: 'step.registry', scripts: 'step.scripts', report: 'step.report',
};

const PHASES: Readonly<Record<JobPhase, MsgKey>> = {
  idle: 'restore.phase.idle', running: 'restore.phase.running', succeeded: 'restore.phase.succeeded',
  failed: 'restore.phase.failed', cancelled: 'restore.phase.cancelled',
};

/** A known step's name in the UI language; an unknown one as the job named it. */
export function stepLabel(id: string): string | { key: MsgKey } {
  const key = STEP_LABELS[id];
  return key === undefined ? id : { key };
}

/** "[#########-----------]" */
export function textBar(percent: number, width = BAR_WIDTH): string {
  const filled = Math.round((Math.max(0, Math.min(100, percent)) * width) / 100);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
}

function stepLine(step: RestoreStep): Msg {
  const label = stepLabel(step.id);
  const o = step.outcome;
  switch (o.state) {
    case 'pending': return msg('restore.step.pending', { label });
    case 'running': return msg('restore.step.running', { label });
    case 'done': return o.detail === undefined ? msg('restore.step.done', { label }) : msg('restore.step.done-detail', { label, detail: o.detail });
    case 'skipped': return msg('restore.step.skipped', { label, reason: o.reason });
    case 'failed': return o.interrupted === true ? msg('restore.step.interrupted', { label }) : msg('restore.step.failed', { label, error: o.error });
  }
}

export function restoreLines(s: RestoreState): Msg[] {
  if (s.job === null) return [msg('restore.no-job')];
  const lines: Msg[] = [
    msg('restore.job', { name: s.job.name, id: s.job.id, phase: { key: PHASES[s.phase] } }),
    msg('restore.stage', { stage: s.stage === null ? '-' : stepLabel(s.stage) }),
  ];
  const shown = s.disks.length > MAX_DISK_LINES ? s.disks.slice(0, MAX_DISK_LINES - 1) : s.disks;
  for (const d of shown) {
    const p = percentOf(d.bytesDone, d.bytesTotal);
    lines.push(msg('restore.disk', { label: d.label, bar: textBar(p), percent: p }));
  }
  if (shown.length < s.disks.length) lines.push(msg('restore.more-disks', { count: s.disks.length - shown.length }));
  const done = bytesDone(s);
  const total = bytesTotal(s);
  lines.push(
    msg('restore.rates', { network: formatRate(networkRate(s)), disk: formatRate(diskRate(s)), eta: formatDuration(restoreEta(s)) }),
    msg('restore.bytes', { done: formatBytes(done), total: formatBytes(total), percent: percentOf(done, total) }),
  );
  lines.push(...stepLines(s.steps));
  const last = s.errors[s.errors.length - 1];
  if (last !== undefined) lines.push(msg('restore.last-error', { count: s.errors.length, code: last.code, message: last.message }));
  return lines;
}

/**
 * The checklist, or for long ones a window of steps ending at the furthest step that has started
 * (so the work in progress shows) and one line counting the rest, failures included.
 */
function stepLines(steps: readonly RestoreStep[]): Msg[] {
  if (steps.length <= MAX_STEP_LINES) return steps.map(stepLine);
  const shown = MAX_STEP_LINES - 1;
  let frontier = 0;
  steps.forEach((st, i) => { if (st.outcome.state !== 'pending') frontier = i; });
  const start = Math.max(0, Math.min(frontier - shown + 2, steps.length - shown));
  const hidden = [...steps.slice(0, start), ...steps.slice(start + shown)];
  const failed = hidden.filter((st) => st.outcome.state === 'failed').length;
  const more = failed === 0
    ? msg('restore.more-steps', { count: hidden.length })
    : msg('restore.more-steps-failed', { count: hidden.length, failed });
  return [...steps.slice(start, start + shown).map(stepLine), more];
}

const LEVEL_MARK = { info: ' ', warn: '?', error: '!' } as const;

export function restoreLog(s: RestoreState, height: number): ListControl {
  const start = s.startedAtMs ?? s.log.lines[0]?.atMs ?? 0;
  const rows = s.log.lines.map((l) => [rawText(`+${formatDuration((l.atMs - start) / 1000)}`), rawText(`${LEVEL_MARK[l.level]} ${l.text}`)]);
  return {
    kind: 'list', id: 'log', label: msg('restore.log'), selected: null, height, rows,
    columns: [{ header: rawText(''), width: 9 }, { header: rawText(''), width: 0 }],
  };
}
