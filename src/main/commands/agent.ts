/**
 * `lifeline agent --headless`: the appliance without its TUI, or (`--role backup`) the backup agent
 * of the machine it runs on. Registers this machine with the backup server (an inventory built from
 * the disks given, never from all disks), heartbeats, waits for runs and executes them: restore runs
 * with the restore engine (role `restore`, the default), backup runs of the given disks with the
 * backup engine (role `backup`). A run of the other kind is refused (`agent.unsupported-job`).
 * Wiring only: the session and the engines are use cases in src/app.
 *
 * A backup run gets its snapshotter as `lifeline backup` does (platform.ts): VSS for the disks of a
 * Windows machine, as the job's `backupKind` says (copy unless full), else the no-snapshot adapter
 * with its reason (`--no-snapshot`, image files, Linux). The firmware is detected as there too.
 */
import { readFile } from 'node:fs/promises';
import { hostname as osHostname, networkInterfaces } from 'node:os';
import { finishingToolsForPlatform } from '../appliance/finishing-tools.ts';
import { ChildProcessRunner } from '../../adapters/node/child-process-runner.ts';
import { connectBackupServer } from '../../adapters/node/http-backup-server.ts';
import { NodeSetKeys } from '../../adapters/node/set-keys.ts';
import { systemClock } from '../../adapters/node/system-clock.ts';
import { AgentSession } from '../../app/agent-session.ts';
import type { AgentStatus } from '../../app/agent-session.ts';
import { runBackupJob } from '../../app/backup/run-backup-job.ts';
import type { BackupJobObserver, SnapshotterForSources } from '../../app/backup/run-backup-job.ts';
import type { RestoreObserver } from '../../app/restore/report.ts';
import { runRestoreJob } from '../../app/restore/run-restore-job.ts';
import type { ScriptRunner } from '../../app/restore/scripts.ts';
import { parseApplianceSettings, resolveAgentConfig } from '../../core/appliance-settings.ts';
import type { AgentConfig, ApplianceSettings, SettingsFirmware } from '../../core/appliance-settings.ts';
import { isRecoveryError, RecoveryError } from '../../core/errors.ts';
import type { AgentIdentity, HardwareInventory } from '../../core/protocol/jobs.ts';
import { formatBytes } from '../../core/units.ts';
import type { BackupServer } from '../../ports/backup-server.ts';
import type { BlockDeviceOpener } from '../../ports/block-device.ts';
import type { Clock } from '../../ports/clock.ts';
import type { VolumeSnapshotter } from '../../ports/volume-snapshot.ts';
import { booleanOption, stringOption, UsageError } from '../cli-kit.ts';
import type { Command, CommandIo, ParsedArgs } from '../cli-kit.ts';
import { chooseSnapshot, hostFirmware, makeSnapshotter, openDisk, sourceKinds, type SnapshotChoice } from '../platform.ts';
import { passphraseFromFile } from './passphrase-file.ts';

/** What the command needs from the machine; tests swap the server and the disks. */
export interface AgentCommandDeps {
  connect(config: AgentConfig): BackupServer & { close?(): Promise<void> };
  readonly disks: BlockDeviceOpener;
  readonly clock: Clock;
  readonly scripts: ScriptRunner;
  hostname(): string;
  /** The firmware this machine booted with when neither --firmware nor the settings say (default: platform.ts). */
  hostFirmware(): HardwareInventory['firmware'] | Promise<HardwareInventory['firmware']>;
  machineId(): Promise<string | undefined>;
  nics(): HardwareInventory['nics'];
  /** Called with the session's stop function (the CLI hooks it to SIGINT/SIGTERM). */
  onStop?(stop: () => void): () => void;
  /** The snapshotter for a backup run's choice (default: platform.ts — VSS on Windows, none elsewhere). */
  snapshotter?(choice: SnapshotChoice): Promise<VolumeSnapshotter>;
  /** process.platform unless a test says otherwise. */
  readonly platform?: string;
}

async function firstLine(path: string): Promise<string | undefined> {
  try {
    return (await readFile(path, 'utf8')).trim() || undefined;
  } catch {
    return undefined;
  }
}

const SCRIPT_TIMEOUT_MS = 60 * 60 * 1000;

/** What this agent does with its disks: restore onto them (the appliance) or back them up. */
export type AgentRole = 'restore' | 'backup';

export const defaultAgentDeps: AgentCommandDeps = {
  connect: (c) => connectBackupServer({ url: c.url, ...(c.accessKey ? { accessKey: c.accessKey } : {}), ...(c.fingerprint ? { fingerprint: c.fingerprint } : {}) }),
  disks: { open: (path, options) => openDisk(path, options) },
  clock: systemClock,
  scripts: {
    // Job scripts are command lines written for the platform's shell.
    run: async (line) => {
      const windows = process.platform === 'win32';
      const r = await new ChildProcessRunner().run(windows ? 'cmd.exe' : 'sh', windows ? ['/d', '/c', line] : ['-c', line], { timeoutMs: SCRIPT_TIMEOUT_MS });
      return { exitCode: r.exitCode, output: `${r.stdout}${r.stderr}` };
    },
  },
  hostname: () => osHostname(),
  hostFirmware: () => hostFirmware(),
  machineId: async () => (await firstLine('/etc/machine-id')) ?? (await firstLine('/sys/class/dmi/id/product_uuid')),
  nics: () => Object.entries(networkInterfaces()).flatMap(([name, addresses]) => {
    const external = (addresses ?? []).filter((a) => !a.internal);
    return external.length === 0 ? [] : [{ name, mac: external[0]!.mac, addresses: external.map((a) => a.address), up: true }];
  }),
  onStop: (stop) => {
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    return () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    };
  },
};

async function readSettings(path: string | undefined): Promise<ApplianceSettings | undefined> {
  if (path === undefined) return undefined;
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new RecoveryError('settings.unreadable', `cannot read the settings file ${path}: ${(e as Error).message}`, { data: { path } });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new RecoveryError('settings.invalid', `the settings file ${path} is not JSON: ${(e as Error).message}`, { data: { path } });
  }
  return parseApplianceSettings(json);
}

function roleOf(args: ParsedArgs): AgentRole {
  const role = stringOption(args, 'role') ?? 'restore';
  if (role !== 'restore' && role !== 'backup') throw new UsageError(`--role must be restore or backup, not "${role}"`);
  return role;
}

/** The first line of --passphrase-file, else the settings file's passphrase. */
async function passphraseOf(args: ParsedArgs, config: AgentConfig): Promise<string | undefined> {
  return (await passphraseFromFile(args)) ?? config.passphrase;
}

function flagsOf(args: ParsedArgs) {
  const firmware = stringOption(args, 'firmware');
  if (firmware !== undefined && firmware !== 'bios' && firmware !== 'uefi') throw new UsageError(`--firmware must be bios or uefi, not "${firmware}"`);
  const list = (name: string) => (args.values[name] as string[] | undefined) ?? [];
  const server = stringOption(args, 'server');
  const fingerprint = stringOption(args, 'fingerprint');
  const accessKey = stringOption(args, 'access-key');
  return {
    ...(server === undefined ? {} : { server }),
    ...(fingerprint === undefined ? {} : { fingerprint }),
    ...(accessKey === undefined ? {} : { accessKey }),
    ...(firmware === undefined ? {} : { firmware: firmware as SettingsFirmware }),
    ssl: booleanOption(args, 'ssl'),
    once: booleanOption(args, 'once'),
    disks: list('disk'),
    protectedDisks: list('protected-disk'),
  };
}

/** The machine as registered: only the disks given (rule of the issue: never all disks implicitly). */
async function identityOf(config: AgentConfig, deps: AgentCommandDeps): Promise<AgentIdentity> {
  const disks: HardwareInventory['disks'][number][] = [];
  for (const path of [...new Set([...config.disks, ...config.protectedDisks])]) {
    const device = await deps.disks.open(path, { writable: false });
    try {
      const g = device.geometry;
      disks.push({ path, sizeBytes: String(g.sizeBytes), logicalSectorSize: g.logicalSectorSize, physicalSectorSize: g.physicalSectorSize, protected: config.protectedDisks.includes(path) });
    } finally {
      await device.close();
    }
  }
  const hostname = config.hostname ?? deps.hostname();
  const machineId = config.machineId ?? (await deps.machineId()) ?? `lifeline-agent:${hostname}`;
  return { machineId, hostname, inventory: { firmware: config.firmware ?? (await deps.hostFirmware()), disks, nics: deps.nics() } };
}

/** A backup run's snapshotter, chosen from its sources with the rules `lifeline backup` uses (platform.ts). */
function snapshotterFor(deps: AgentCommandDeps, noSnapshot: boolean): SnapshotterForSources {
  return async (sources) => (deps.snapshotter ?? makeSnapshotter)(chooseSnapshot(deps.platform ?? process.platform, noSnapshot, await sourceKinds(sources)));
}

function describeStatus(s: AgentStatus): string {
  switch (s.state) {
    case 'connecting': return s.reason === undefined ? 'connecting to the server' : `reconnecting (attempt ${s.attempt}): ${s.reason}`;
    case 'online-unbound': return `registered as ${s.agentId}; waiting for an administrator to bind this machine`;
    case 'bound': return `bound (${s.agentId}); waiting for a job`;
    case 'job-running': return `running ${s.run.kind} job "${s.run.jobName}" (run ${s.run.runId})`;
    case 'job-done': return `job "${s.run.jobName}" succeeded`;
    case 'job-failed': return `job "${s.run.jobName}" ended ${s.outcome.state}${s.outcome.error ? ` [${s.outcome.error.code}]: ${s.outcome.error.message}` : ''}`;
    case 'error': return `error [${s.code}]: ${s.message}`;
    case 'stopped': return 'stopped';
  }
}

/** The run's steps, warnings and (every 5 s) progress on stderr; for restore and backup runs alike. */
function logObserver(io: CommandIo, clock: Clock): RestoreObserver & BackupJobObserver {
  let printedAt = 0;
  return {
    stepFinished: (r) => io.err(`  step ${r.step}: ${r.outcome.status === 'done' ? `done${r.outcome.detail ? ` (${r.outcome.detail})` : ''}` : r.outcome.status === 'skipped' ? `skipped: ${r.outcome.why}` : `FAILED [${r.outcome.code}]: ${r.outcome.message}`}`),
    event: (e) => {
      // Step outcomes are printed above and the final outcome by the session's status line.
      const told = e.data?.['step'] !== undefined || /^(restore|backup) (succeeded|failed|cancelled|idle)/.test(e.message);
      if (e.level === 'warning' || (e.level === 'error' && !told)) io.err(`  ${e.level}: ${e.message}`);
    },
    progress: (p) => {
      if (clock.now() - printedAt < 5_000) return;
      printedAt = clock.now();
      io.err(`  ${p.stage}: ${formatBytes(BigInt(p.bytesDone))} of ${formatBytes(BigInt(p.bytesTotal))}, network ${formatBytes(p.networkBytesPerSecond)}/s, disk ${formatBytes(p.diskBytesPerSecond)}/s`);
    },
  };
}

export function agentCommand(deps: AgentCommandDeps = defaultAgentDeps): Command {
  return {
    path: ['agent'],
    summary: 'Run the agent: register with the backup server and execute the restore (or, with --role backup, backup) jobs it assigns.',
    options: {
      headless: { type: 'boolean', description: 'Run without screens (required; `lifeline appliance` is the console with screens).' },
      server: { type: 'string', valueName: 'HOST[:PORT]', description: 'Backup server address; port 50305, or 60305 with --ssl.' },
      ssl: { type: 'boolean', description: 'Use TLS (port 60305 unless given).' },
      fingerprint: { type: 'string', valueName: 'SHA256', description: "Pin the server certificate's SHA-256 fingerprint." },
      'access-key': { type: 'string', valueName: 'KEY', description: "The tenant's access key." },
      role: { type: 'string', valueName: 'restore|backup', description: 'restore (default): restore jobs onto the --disk disks, as the appliance does; backup: back up the --disk disks when the server runs a backup job for this machine.' },
      disk: { type: 'string', multiple: true, valueName: 'PATH', description: 'A disk (device or image file): a restore target, or with --role backup a disk backup jobs may image.' },
      'protected-disk': { type: 'string', multiple: true, valueName: 'PATH', description: 'A disk listed in the inventory but never written (boot media, local backup copy).' },
      firmware: { type: 'string', valueName: 'bios|uefi', description: "This machine's firmware. Default: detected." },
      'no-snapshot': { type: 'boolean', description: 'With --role backup on Windows: read the disks live instead of from a VSS snapshot (no consistency, writers are not involved).' },
      once: { type: 'boolean', description: 'Exit after one run; exit code 0 only when it succeeded.' },
      'passphrase-file': { type: 'string', valueName: 'FILE', description: "Passphrase of this machine's encrypted sets (first line of FILE); overrides the settings file's. Never sent to the server." },
      settings: { type: 'string', valueName: 'FILE', description: 'Settings JSON (docs/restore.md); command-line values override it.' },
    },
    details: [
      'Exit status with --once: 0 succeeded, 1 failed or cancelled, 3 sent back to idle (precondition). Without --once the agent runs until stopped (SIGINT/SIGTERM).',
      'A backup job names the disks to image as this agent registered them (the --disk paths); an encrypted one needs the passphrase on this machine,',
      "which creates the resource's encrypted set on the first run. On Windows, disks are read from a VSS snapshot (a copy backup unless the job says full).",
    ].join('\n'),
    async run(args, io) {
      if (!booleanOption(args, 'headless')) throw new UsageError('the agent runs without a screen only with --headless; the console with screens is `lifeline appliance`');
      if (args.positionals.length > 0) throw new UsageError(`unexpected argument "${args.positionals[0]}"`);
      const role = roleOf(args);
      const noSnapshot = booleanOption(args, 'no-snapshot');
      if (noSnapshot && role !== 'backup') throw new UsageError('--no-snapshot is for --role backup: a restore agent takes no snapshot');
      const config = resolveAgentConfig(await readSettings(stringOption(args, 'settings')), flagsOf(args));
      const passphrase = await passphraseOf(args, config);
      const identity = await identityOf(config, deps);
      const server = deps.connect(config);
      const stopper = new AbortController();
      const release = deps.onStop?.(() => stopper.abort(new Error('stopped by a signal')));
      const observer = logObserver(io, deps.clock);
      const common = { server, clock: deps.clock, identity, pollMs: config.pollSeconds * 1000 };
      let session: AgentSession;
      if (role === 'backup') {
        session = new AgentSession({
          ...common,
          runBackup: (run, signal) => runBackupJob(run, {
            server, keys: new NodeSetKeys(), disks: deps.disks, clock: deps.clock, identity, scripts: deps.scripts, observer,
            snapshotter: snapshotterFor(deps, noSnapshot),
            ...(passphrase === undefined ? {} : { passphrase }),
          }, signal),
        });
      } else {
        const tools = await finishingToolsForPlatform();
        session = new AgentSession({
          ...common,
          runRestore: (run, signal) => runRestoreJob(run, {
            server, keys: new NodeSetKeys(), disks: deps.disks, clock: deps.clock, inventory: identity.inventory,
            drivers: tools.drivers, boot: tools.boot, asr: tools.asr, scripts: deps.scripts, observer,
            ...(passphrase === undefined ? {} : { passphrase: async () => passphrase }),
          }, signal),
        });
      }
      session.subscribe((s) => io.err(`agent: ${describeStatus(s)}`));
      io.err(`agent (${role}): ${identity.hostname} (${identity.machineId}), ${identity.inventory.firmware.toUpperCase()}, disks ${identity.inventory.disks.map((d) => `${d.path}${d.protected ? ' (protected)' : ''}`).join(', ')}; server ${config.url}`);
      try {
        const outcome = await session.run({ once: config.once, signal: stopper.signal });
        if (outcome === undefined) return 0;
        io.out(JSON.stringify({ runId: session.status.state === 'job-done' || session.status.state === 'job-failed' ? session.status.run.runId : undefined, state: outcome.state, error: outcome.error ?? null }));
        return outcome.state === 'succeeded' ? 0 : outcome.state === 'idle' ? 3 : 1;
      } catch (e) {
        if (isRecoveryError(e)) throw e;
        throw new RecoveryError('agent.failed', (e as Error).message, { cause: e });
      } finally {
        release?.();
        await server.close?.();
      }
    },
  };
}

export const agent: Command = agentCommand();
