/**
 * Start: the agent session behind the Backup server tab. Connects to the server the operator
 * typed, registers this machine (the `--disk` disks, never all disks), heartbeats, and runs the
 * restore jobs the server assigns, turning every status change and engine report into the screens'
 * reports (agent-events.ts).
 *
 * TLS: a certificate not pinned yet is shown to the operator first (its SHA-256, read by a plain
 * TLS handshake without trusting it); only a certificate they trusted is then pinned for the real
 * connection. A pinned one that changed is asked about again.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { hostname as osHostname, networkInterfaces } from 'node:os';
import { connect as tlsConnect } from 'node:tls';
import { ChildProcessRunner } from '../../adapters/node/child-process-runner.ts';
import { connectBackupServer } from '../../adapters/node/http-backup-server.ts';
import { NodeSetKeys } from '../../adapters/node/set-keys.ts';
import { systemClock } from '../../adapters/node/system-clock.ts';
import { AgentSession } from '../../app/agent-session.ts';
import { runRestoreJob } from '../../app/restore/run-restore-job.ts';
import type { ScriptRunner } from '../../app/restore/scripts.ts';
import { serverUrl } from '../../core/appliance-settings.ts';
import { isRecoveryError, RecoveryError } from '../../core/errors.ts';
import type { AgentIdentity, HardwareInventory } from '../../core/protocol/jobs.ts';
import type { BackupServer } from '../../ports/backup-server.ts';
import type { BlockDeviceOpener } from '../../ports/block-device.ts';
import type { Clock } from '../../ports/clock.ts';
import type { AgentEvent, AgentHandle } from '../../tui/services.ts';
import type { ServerSettings } from '../../tui/state/server-form.ts';
import { AgentEventBridge } from './agent-events.ts';

import type { FinishingTools } from './finishing-tools.ts';

export type { FinishingTools };

export interface AgentLinkOptions {
  /** The machine's boot firmware as the server should see it. */
  readonly firmware: 'bios' | 'uefi';
  /** The disks this appliance may restore onto (paths its opener takes). */
  readonly disks: readonly string[];
  /** Listed to the server but never written (the boot media). */
  readonly protectedDisks?: readonly string[];
  readonly opener: BlockDeviceOpener;
  readonly tools: FinishingTools;
  /** Stable machine id; default: derived from the host name. */
  readonly machineId?: string;
  /** The passphrase of encrypted sets from the boot media; else the operator is asked. */
  readonly passphrase?: string;
  readonly clock?: Clock;
  /** Between polls for a run; default 5 s. */
  readonly pollMs?: number;
  /** Replaces the HTTP client (tests). */
  readonly connect?: (options: { url: string; accessKey?: string; fingerprint?: string }) => BackupServer & { close?(): Promise<void> };
}

export type StartAgent = (settings: ServerSettings, onEvent: (e: AgentEvent) => void) => Promise<AgentHandle>;

/** "AB:CD:…" or "abcd…" → "abcd…", for comparing fingerprints. */
export function normalizeFingerprint(text: string): string {
  return text.replace(/:/g, '').toLowerCase();
}

/** The SHA-256 of the certificate a TLS server presents, without trusting it. */
export function probeCertificate(host: string, port: number, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host, port, rejectUnauthorized: false, ...(/^[\d.]+$|:/.test(host) ? {} : { servername: host }) });
    const fail = (e: Error): void => {
      socket.destroy();
      reject(new RecoveryError('network.unreachable', `${host}:${port}: ${e.message}`, { retryable: true, cause: e }));
    };
    socket.setTimeout(timeoutMs, () => fail(new Error('no TLS answer in time')));
    socket.once('error', fail);
    socket.once('secureConnect', () => {
      const cert = socket.getPeerCertificate();
      socket.end();
      if (cert.raw === undefined) { reject(new RecoveryError('tls.no-certificate', `${host}:${port} presented no certificate`)); return; }
      resolve(createHash('sha256').update(cert.raw).digest('hex'));
    });
  });
}

function scriptRunner(): ScriptRunner {
  const runner = new ChildProcessRunner();
  const windows = process.platform === 'win32';
  return {
    run: async (line) => {
      const r = await runner.run(windows ? 'cmd.exe' : 'sh', windows ? ['/d', '/c', line] : ['-c', line], { timeoutMs: 60 * 60 * 1000 });
      return { exitCode: r.exitCode, output: `${r.stdout}${r.stderr}` };
    },
  };
}

/** The SMBIOS UUID or systemd's machine id where the host has one (Linux). */
async function hostMachineId(): Promise<string | undefined> {
  for (const path of ['/sys/class/dmi/id/product_uuid', '/etc/machine-id']) {
    try {
      const id = (await readFile(path, 'utf8')).trim();
      if (id !== '') return id;
    } catch {
      // Not readable here (not root, not Linux): try the next.
    }
  }
  return undefined;
}

async function identity(o: AgentLinkOptions): Promise<AgentIdentity> {
  const disks: HardwareInventory['disks'][number][] = [];
  const protectedDisks = o.protectedDisks ?? [];
  for (const path of [...new Set([...o.disks, ...protectedDisks])]) {
    const device = await o.opener.open(path, { writable: false });
    try {
      const g = device.geometry;
      disks.push({ path, sizeBytes: String(g.sizeBytes), logicalSectorSize: g.logicalSectorSize, physicalSectorSize: g.physicalSectorSize, protected: protectedDisks.includes(path) });
    } finally {
      await device.close();
    }
  }
  const nics = Object.entries(networkInterfaces()).flatMap(([name, addresses]) => {
    const external = (addresses ?? []).filter((a) => !a.internal);
    return external[0] === undefined ? [] : [{ name, mac: external[0].mac, addresses: external.map((a) => a.address), up: true }];
  });
  const hostname = osHostname();
  return { machineId: o.machineId ?? (await hostMachineId()) ?? `lifeline-appliance:${hostname}`, hostname, inventory: { firmware: o.firmware, disks, nics } };
}

export function agentStarter(o: AgentLinkOptions): StartAgent {
  return async (settings, onEvent) => {
    const clock = o.clock ?? systemClock;
    const stopper = new AbortController();
    let stopped = false;
    const emit = (e: AgentEvent): void => { if (!stopped) onEvent(e); };
    let trustAnswer: ((trust: boolean) => void) | null = null;
    let passphraseAnswer: { jobId: string; resolve: (p: string | undefined) => void } | null = null;
    let passphraseAttempts = 0;
    const bridge = new AgentEventBridge(emit, () => clock.now());
    const me = await identity(o);
    const url = serverUrl(settings.address, settings.port, settings.ssl);

    /** The fingerprint to pin: the saved one, or one the operator trusts now; null = rejected or stopped. */
    const trustedFingerprint = async (): Promise<string | null | undefined> => {
      if (!settings.ssl) return undefined;
      for (let attempt = 1; !stopper.signal.aborted; attempt++) {
        let seen: string;
        try {
          seen = await probeCertificate(settings.address, settings.port);
        } catch (e) {
          emit({ type: 'server/connecting', reason: (e as Error).message });
          await clock.sleep(Math.min(30_000, 1000 * attempt));
          continue;
        }
        const pinned = settings.pinnedFingerprint;
        if (pinned !== null && normalizeFingerprint(pinned) === seen) return seen;
        const answered = new Promise<boolean>((resolve) => { trustAnswer = resolve; });
        emit({ type: 'server/certificate', fingerprint: seen, pinned });
        const trusted = await answered;
        trustAnswer = null;
        return trusted ? seen : null;
      }
      return null;
    };

    const run = async (): Promise<void> => {
      emit({ type: 'server/connecting' });
      const fingerprint = await trustedFingerprint();
      if (fingerprint === null || stopper.signal.aborted) return;
      const connectOptions = { url, ...(settings.accessKey === '' ? {} : { accessKey: settings.accessKey }), ...(fingerprint === undefined ? {} : { fingerprint }) };
      const server = (o.connect ?? connectBackupServer)(connectOptions);
      const session = new AgentSession({
        server, clock, identity: me, ...(o.pollMs === undefined ? {} : { pollMs: o.pollMs }),
        runRestore: (assigned, signal) => {
          bridge.runStarted(assigned);
          passphraseAttempts = 0;
          return runRestoreJob(assigned, {
            server, keys: new NodeSetKeys(), disks: o.opener, clock, inventory: me.inventory, ...o.tools, scripts: scriptRunner(),
            observer: bridge.observer,
            passphrase: o.passphrase !== undefined ? async () => o.passphrase : () => new Promise((resolve) => {
              passphraseAnswer = { jobId: assigned.jobId, resolve };
              emit({ type: 'job/passphrase-needed', attempt: ++passphraseAttempts });
            }),
          }, signal);
        },
      });
      session.subscribe(bridge.onStatus);
      try {
        await session.run({ signal: stopper.signal });
      } catch (e) {
        // The session already reported its error status; anything else is said here.
        if (!isRecoveryError(e) && !stopped) emit({ type: 'server/error', code: 'agent.failed', message: (e as Error).message });
      } finally {
        await server.close?.();
      }
    };

    const done = run().catch((e: unknown) => emit({ type: 'server/error', code: 'agent.failed', message: (e as Error).message }));
    const answerPassphrase = (jobId: string, passphrase: string | undefined): void => {
      const pending = passphraseAnswer;
      if (pending === null || pending.jobId !== jobId) throw new RecoveryError('agent.no-question', 'no job is waiting for a passphrase');
      passphraseAnswer = null;
      pending.resolve(passphrase);
    };
    return {
      async answerCertificate(_fingerprint, trust) {
        const answer = trustAnswer;
        if (answer === null) throw new RecoveryError('agent.no-question', 'the agent is not waiting for a certificate answer');
        answer(trust);
      },
      async providePassphrase(jobId, passphrase) { answerPassphrase(jobId, passphrase); },
      async declinePassphrase(jobId) { answerPassphrase(jobId, undefined); },
      async stop() {
        stopped = true;
        stopper.abort(new Error('stopped by the operator'));
        (trustAnswer as ((trust: boolean) => void) | null)?.(false);
        (passphraseAnswer as { resolve: (p: string | undefined) => void } | null)?.resolve(undefined);
        await done;
      },
    };
  };
}
