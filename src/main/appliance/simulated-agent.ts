/**
 * A pretend agent for `--simulate`: it goes through what a real session reports (connecting, the
 * certificate question on first TLS contact, registered unbound, bound by an operator) and then
 * runs a short pretend restore with progress, steps and log lines, so every screen can be seen
 * without a server. Nothing touches a disk or the network.
 */
import type { AgentEvent, AgentHandle } from '../../tui/services.ts';
import type { ServerSettings } from '../../tui/state/server-form.ts';

export interface SimulatedAgentTiming {
  /** Between two steps of the script. */
  readonly stepMs: number;
  /** Progress reports while "restoring data". */
  readonly progressReports: number;
}

export const DEFAULT_TIMING: SimulatedAgentTiming = { stepMs: 700, progressReports: 16 };

/** The certificate a simulated TLS server presents. */
export const SIMULATED_FINGERPRINT = '5f3c9a1e7b2d4c6f8a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f708192a3b4c5';

const DISK_BYTES = 1024 * 1024 * 1024;

export function startSimulatedAgent(settings: ServerSettings, onEvent: (e: AgentEvent) => void, timing: SimulatedAgentTiming = DEFAULT_TIMING): AgentHandle {
  let stopped = false;
  let trustAnswer: ((trust: boolean) => void) | null = null;
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const wait = (ms: number): Promise<void> => new Promise((resolve) => {
    const t = setTimeout(() => { timers.delete(t); resolve(); }, ms);
    timers.add(t);
  });
  const emit = (e: AgentEvent): void => { if (!stopped) onEvent(e); };
  const log = (text: string, level: 'info' | 'warn' | 'error' = 'info'): void => emit({ type: 'job/log', lines: [{ level, text }] });

  const script = async (): Promise<void> => {
    emit({ type: 'server/connecting' });
    await wait(timing.stepMs);
    if (settings.ssl && settings.pinnedFingerprint !== SIMULATED_FINGERPRINT) {
      const answered = new Promise<boolean>((resolve) => { trustAnswer = resolve; });
      emit({ type: 'server/certificate', fingerprint: SIMULATED_FINGERPRINT, pinned: settings.pinnedFingerprint });
      const trusted = await answered;
      trustAnswer = null;
      if (!trusted) return;
      emit({ type: 'server/connecting' });
      await wait(timing.stepMs);
    }
    emit({ type: 'server/registered', bound: false });
    await wait(timing.stepMs * 2);
    if (stopped) return;
    emit({ type: 'server/binding', bound: true });
    await wait(timing.stepMs);
    if (stopped) return;
    await pretendRestore();
  };

  const pretendRestore = async (): Promise<void> => {
    emit({
      type: 'job/started', job: { id: 'sim-1', name: 'Simulated restore' },
      disks: [{ key: 'disk0', label: 'Disk 0 -> Disk 0', bytesTotal: DISK_BYTES }],
    });
    log('simulated job: nothing is written');
    for (const id of ['prechecks', 'partition']) {
      emit({ type: 'job/step', id, outcome: { state: 'running' } });
      await wait(timing.stepMs);
      emit({ type: 'job/step', id, outcome: { state: 'done' } });
      log(`${id} done`);
    }
    emit({ type: 'job/step', id: 'data', outcome: { state: 'running' } });
    for (let i = 1; i <= timing.progressReports && !stopped; i++) {
      const done = Math.round((DISK_BYTES * i) / timing.progressReports);
      emit({ type: 'job/progress', stage: 'data', networkBytes: Math.round(done * 0.6), perDisk: [{ key: 'disk0', bytesDone: done }] });
      await wait(Math.max(50, Math.round(timing.stepMs / 2)));
    }
    emit({ type: 'job/step', id: 'data', outcome: { state: 'done', detail: '1.00 GiB written' } });
    for (const id of ['drivers', 'boot', 'registry']) {
      emit({ type: 'job/step', id, outcome: { state: 'running' } });
      await wait(timing.stepMs);
      emit({ type: 'job/step', id, outcome: { state: 'done' } });
      log(`${id} done`);
    }
    emit({ type: 'job/step', id: 'scripts', outcome: { state: 'skipped', reason: 'none configured' } });
    emit({ type: 'job/step', id: 'report', outcome: { state: 'done' } });
    emit({ type: 'job/finished', outcome: 'succeeded' });
  };

  void script();
  return {
    async answerCertificate(_fingerprint, trust) {
      if (trustAnswer === null) throw new Error('no certificate question is open');
      trustAnswer(trust);
    },
    async providePassphrase() {
      throw new Error('the simulated job does not ask for a passphrase');
    },
    async declinePassphrase() {
      throw new Error('the simulated job does not ask for a passphrase');
    },
    async stop() {
      stopped = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      trustAnswer?.(false);
    },
  };
}
