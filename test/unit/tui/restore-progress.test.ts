import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Effect } from '../../../src/tui/state/effects.ts';
import { translate, type Msg } from '../../../src/tui/state/i18n.ts';
import { appendLog, emptyLog } from '../../../src/tui/state/log-ring.ts';
import {
  bytesDone, bytesTotal, DEFAULT_STEPS, diskRate, initialRestore, networkRate, reduceRestore, restoreEta, restoreModal,
  type RestoreAction, type RestoreState,
} from '../../../src/tui/state/restore-progress.ts';
import { restoreLines, restoreLog, textBar } from '../../../src/tui/state/restore-view.ts';
import { addSample, etaSeconds, formatDuration, formatRate, percentOf, rateOf } from '../../../src/tui/state/throughput.ts';

const en = (m: Msg | null): string => (m === null ? '' : translate('en', m));
const GB = 1e9;

function run(s: RestoreState, ...actions: RestoreAction[]) {
  let state = s;
  const effects: Effect[] = [];
  for (const a of actions) {
    const r = reduceRestore(state, a);
    state = r.state;
    effects.push(...r.effects);
  }
  return { state, effects };
}

const started = (): RestoreState => run(initialRestore(), {
  type: 'job/started', atMs: 10_000, job: { id: 'job-7', name: 'web01 to new host' },
  disks: [{ key: 'd0', label: 'Disk 0 -> Disk 1', bytesTotal: 40 * GB }, { key: 'd1', label: 'Disk 1 -> Disk 2', bytesTotal: 10 * GB }],
}).state;

const progress = (atMs: number, net: number, d0: number, d1 = 0): RestoreAction =>
  ({ type: 'job/progress', atMs, networkBytes: net, perDisk: [{ key: 'd0', bytesDone: d0 }, { key: 'd1', bytesDone: d1 }] });

describe('Restore progress', () => {
  it('starts with every default step pending, disks at 0', () => {
    const s = started();
    expect(s.phase).toBe('running');
    expect(s.steps.map((st) => st.id)).toEqual(DEFAULT_STEPS);
    expect(s.steps.every((st) => st.outcome.state === 'pending')).toBe(true);
    expect(bytesDone(s)).toBe(0);
    expect(bytesTotal(s)).toBe(50 * GB);
  });

  it('keeps network and disk throughput apart, per-disk percent, and an ETA from the slower side', () => {
    const s = run(started(),
      progress(11_000, 1.0 * GB, 0.5 * GB),
      progress(13_000, 1.4 * GB, 0.9 * GB, 0.1 * GB)).state;
    expect(networkRate(s)).toBeCloseTo(200e6);
    expect(diskRate(s)).toBeCloseTo(250e6);
    // 50 GB - 1 GB written at min(200, 250) MB/s.
    expect(restoreEta(s)).toBe(245);
    const lines = restoreLines(s).map(en);
    expect(lines).toContain('Network 200.0 MB/s  Disk 250.0 MB/s  ETA 4:05');
    expect(lines).toContain(`Disk 0 -> Disk 1 ${textBar(2)} 2%`);
    expect(lines).toContain('Written 953.7 MiB of 46.6 GiB (2%)');
  });

  it('shows a stall as a falling rate within the window, not a whole-job average', () => {
    let s = started();
    for (let t = 0; t <= 10; t++) s = run(s, progress(11_000 + t * 1000, t * 100e6, t * 100e6)).state;
    for (let t = 11; t <= 20; t++) s = run(s, progress(11_000 + t * 1000, 1000e6, 1000e6)).state;
    expect(diskRate(s)).toBe(0);
    expect(restoreEta(s)).toBeNull();
    expect(restoreLines(s).map(en)).toContain('Network 0.00 MB/s  Disk 0.00 MB/s  ETA --:--');
  });

  it('records each step as reported: done, skipped with why, failed with the error, running', () => {
    const s = run(started(),
      { type: 'job/step', id: 'prechecks', outcome: { state: 'done' } },
      { type: 'job/step', id: 'partition', outcome: { state: 'skipped', reason: 'layout intact, not recreated' } },
      { type: 'job/step', id: 'data', outcome: { state: 'done', detail: '2 disks' } },
      { type: 'job/step', id: 'drivers', outcome: { state: 'failed', error: 'dism exit 2' } },
      { type: 'job/step', id: 'boot', outcome: { state: 'running' } }).state;
    expect(restoreLines(s).map(en).filter((l) => l.startsWith('['))).toEqual([
      '[x] Pre-checks',
      '[-] Partition table: skipped, layout intact, not recreated',
      '[x] Restore data: 2 disks',
      '[!] Inject drivers: FAILED, dism exit 2',
      '[>] Repair boot (running)',
      '[ ] Registry (ASR)',
      '[ ] Scripts',
      '[ ] Report',
    ]);
    expect(s.stage).toBe('boot');
  });

  it('turns steps still running into "interrupted" failures when the job fails, never leaves them busy', () => {
    const s = run(started(),
      { type: 'job/step', id: 'data', outcome: { state: 'running' } },
      { type: 'job/finished', atMs: 99_000, outcome: 'failed', message: 'connection lost for 30 min' }).state;
    expect(s.phase).toBe('failed');
    expect(s.steps.find((st) => st.id === 'data')?.outcome).toEqual({ state: 'failed', error: '', interrupted: true });
    expect(en(s.outcome)).toBe('Restore FAILED. connection lost for 30 min');
    expect(restoreEta(s)).toBeNull();
  });

  it('keeps running steps untouched on success (only real outcomes are shown)', () => {
    const s = run(started(), { type: 'job/step', id: 'report', outcome: { state: 'running' } }, { type: 'job/finished', atMs: 1, outcome: 'succeeded' }).state;
    expect(s.steps.find((st) => st.id === 'report')?.outcome.state).toBe('running');
    expect(en(s.outcome)).toBe('Restore succeeded. Use Driver tools (F5) to reboot.');
  });

  it('accepts steps the job names itself, in its order, and unknown ones by their id', () => {
    const s = run(initialRestore(), { type: 'job/started', atMs: 0, job: { id: 'j', name: 'n' }, steps: ['prechecks', 'custom-hook'], disks: [] },
      { type: 'job/step', id: 'late-step', outcome: { state: 'done' } }).state;
    expect(s.steps.map((st) => st.id)).toEqual(['prechecks', 'custom-hook', 'late-step']);
    expect(restoreLines(s).map(en)).toContain('[ ] custom-hook');
  });

  it('shows a long checklist as a window at the work in progress, counting hidden failures', () => {
    const ids = Array.from({ length: 14 }, (_, i) => `s${i}`);
    let s = run(initialRestore(), { type: 'job/started', atMs: 0, job: { id: 'j', name: 'n' }, steps: ids, disks: [] }).state;
    s = run(s, { type: 'job/step', id: 's0', outcome: { state: 'failed', error: 'boom' } },
      ...ids.slice(1, 10).map((id): RestoreAction => ({ type: 'job/step', id, outcome: { state: 'done' } })),
      { type: 'job/step', id: 's10', outcome: { state: 'running' } }).state;
    const steps = restoreLines(s).map(en).filter((l) => l.startsWith('[') || l.startsWith('...'));
    expect(steps).toEqual(['[x] s5', '[x] s6', '[x] s7', '[x] s8', '[x] s9', '[>] s10 (running)', '[ ] s11', '... 7 more step(s) not shown, 1 FAILED']);
  });

  it('never shows 100% before the last byte and clamps overshooting counters', () => {
    const s = run(started(), progress(11_000, 0, 40 * GB - 1, 20 * GB)).state;
    expect(s.disks.map((d) => d.bytesDone)).toEqual([40 * GB - 1, 10 * GB]);
    expect(restoreLines(s).map(en)).toContain(`Disk 0 -> Disk 1 ${textBar(99)} 99%`);
  });

  it('keeps the last errors, bounded, and shows the count and the last', () => {
    let s = started();
    for (let i = 0; i < 30; i++) s = run(s, { type: 'job/error', atMs: i, code: 'chunk.hash-mismatch', message: `chunk ${i}` }).state;
    expect(s.errors).toHaveLength(20);
    expect(restoreLines(s).map(en)).toContain('Errors: 20, last: chunk 29 [chunk.hash-mismatch]');
  });

  it('asks for the passphrase of an encrypted set and answers the agent, never keeping it', () => {
    const asked = run(started(), { type: 'job/passphrase-needed', attempt: 1 }).state;
    expect(restoreModal(asked)?.controls.map((c) => c.id)).toEqual(['passphrase', 'passphrase-ok', 'passphrase-cancel']);
    expect(restoreModal(asked)?.submit).toBe('passphrase-ok');
    const emptyOk = run(asked, { type: 'control/press', id: 'passphrase-ok' });
    expect(emptyOk.effects).toEqual([]);
    expect(en(emptyOk.state.passphrase?.error ?? null)).toBe('Passphrase: required.');
    const typed = run(asked, { type: 'control/edit', id: 'passphrase', edit: { kind: 'insert', text: 's3cret pass' } }, { type: 'control/press', id: 'passphrase-ok' });
    expect(typed.effects).toEqual([{ type: 'provide-passphrase', jobId: 'job-7', passphrase: 's3cret pass' }]);
    expect(typed.state.passphrase).toBeNull();
    expect(JSON.stringify(typed.state)).not.toContain('s3cret');
    const retry = run(typed.state, { type: 'job/passphrase-needed', attempt: 2, error: 'wrong passphrase' }).state;
    expect(restoreModal(retry)?.lines.map(en)).toContain('wrong passphrase');
    expect(run(retry, { type: 'control/press', id: 'passphrase-cancel' }).effects).toEqual([{ type: 'decline-passphrase', jobId: 'job-7' }]);
  });

  it('ignores a passphrase request when no job runs', () => {
    expect(run(initialRestore(), { type: 'job/passphrase-needed', attempt: 1 }).state.passphrase).toBeNull();
  });

  it('keeps the log bounded and shows time since the job started', () => {
    let s = started();
    for (let i = 0; i < 700; i++) s = run(s, { type: 'job/log', lines: [{ atMs: 10_000 + i * 1000, level: i % 100 === 0 ? 'error' : 'info', text: `line ${i}` }] }).state;
    expect(s.log.lines).toHaveLength(500);
    expect(s.log.dropped).toBe(200);
    const log = restoreLog(s, 4);
    expect(log.rows[0]?.map(en)).toEqual(['+3:20', '! line 200']);
    expect(log.rows[499]?.map(en)).toEqual(['+11:39', '  line 699']);
  });
});

describe('throughput helpers', () => {
  it('rates need two samples at different times', () => {
    expect(rateOf([])).toBeNull();
    expect(rateOf([{ atMs: 1, bytes: 5 }])).toBeNull();
    expect(rateOf([{ atMs: 0, bytes: 0 }, { atMs: 500, bytes: 1e6 }])).toBe(2e6);
  });

  it('keeps only the window plus its anchor, and restarts when a counter goes back', () => {
    let samples = addSample([], { atMs: 0, bytes: 0 });
    for (let t = 1; t <= 20; t++) samples = addSample(samples, { atMs: t * 1000, bytes: t * 10 }, 5000);
    expect(samples.map((x) => x.atMs)).toEqual([15000, 16000, 17000, 18000, 19000, 20000]);
    expect(addSample(samples, { atMs: 21000, bytes: 3 })).toEqual([{ atMs: 21000, bytes: 3 }]);
  });

  it('never keeps more than the window holds (property)', () => {
    fc.assert(fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 2000 }), fc.integer({ min: 0, max: 1e6 })), { maxLength: 200 }), (steps) => {
      let samples: ReturnType<typeof addSample> = [];
      let t = 0;
      let b = 0;
      for (const [dt, db] of steps) {
        t += dt;
        b += db;
        samples = addSample(samples, { atMs: t, bytes: b }, 5000);
        const first = samples[0];
        const second = samples[1];
        if (second !== undefined && second.atMs <= t - 5000) return false;
        if (first === undefined) return false;
        const rate = rateOf(samples);
        if (rate !== null && rate < 0) return false;
      }
      return true;
    }));
  });

  it('formats rates, durations, ETAs and percentages', () => {
    expect(formatRate(null)).toBe('-- MB/s');
    expect(formatRate(1.5e6)).toBe('1.50 MB/s');
    expect(formatRate(123.45e6)).toBe('123.5 MB/s');
    expect(formatDuration(null)).toBe('--:--');
    expect(formatDuration(65)).toBe('1:05');
    expect(formatDuration(3723)).toBe('1:02:03');
    expect(etaSeconds(0, null)).toBe(0);
    expect(etaSeconds(100, 0)).toBeNull();
    expect(etaSeconds(100, 30)).toBe(4);
    expect(percentOf(0, 0)).toBe(0);
    expect(percentOf(999, 1000)).toBe(99);
    expect(percentOf(1000, 1000)).toBe(100);
  });

  it('log ring drops from the front', () => {
    const ring = appendLog(emptyLog(3), [1, 2, 3, 4, 5].map((i) => ({ atMs: i, level: 'info', text: String(i) }) as const));
    expect(ring.lines.map((l) => l.text)).toEqual(['3', '4', '5']);
    expect(ring.dropped).toBe(2);
  });
});
