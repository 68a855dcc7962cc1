/**
 * What the appliance UI needs from the machine, as one interface the composition roots implement
 * (src/main/appliance: Windows tools, a Linux host, or a simulation) and the controller calls.
 * Every method reports failure by rejecting, with a RecoveryError where it can (its `message` is
 * what the operator reads); the controller turns each outcome into the action the reducers expect.
 */
import type { DriverInfo, DriverSource } from './state/driver-update.ts';
import type { DiskInfo } from './state/driver-tools.ts';
import type { DirEntry, DriveInfo } from './state/file-browser.ts';
import type { Lang } from './state/i18n.ts';
import type { LogLine } from './state/log-ring.ts';
import type { NetworkConfig } from './state/network-config.ts';
import type { Nic } from './state/network-form.ts';
import type { JobEvent } from './state/restore-progress.ts';
import type { ServerSettings } from './state/server-form.ts';
import type { ServerEvent } from './state/server-status.ts';

/** A job event without its time: the controller stamps every event with its own clock. */
type Unstamped<E> = E extends { readonly atMs: number } ? Omit<E, 'atMs'> : E;

/** A restore log line as the agent reports it (the controller adds the time). */
export type AgentLogLine = Omit<LogLine, 'atMs'>;

/**
 * What a running agent reports: the server status (connecting, certificate, registered, binding,
 * error) and the restore job (started, progress counters, steps, errors, log, passphrase, finished).
 */
export type AgentEvent =
  | ServerEvent
  | Exclude<Unstamped<JobEvent>, { readonly type: 'job/log' }>
  | { readonly type: 'job/log'; readonly lines: readonly AgentLogLine[] };

/** A started agent session. Answers go to the session that asked for them. */
export interface AgentHandle {
  /** The operator's answer to `server/certificate`. */
  answerCertificate(fingerprint: string, trust: boolean): Promise<void>;
  /** The passphrase asked for by `job/passphrase-needed`. */
  providePassphrase(jobId: string, passphrase: string): Promise<void>;
  /** The operator will not give one: the job fails. */
  declinePassphrase(jobId: string): Promise<void>;
  /** Stop heartbeats and any job; resolves when the session has ended and reports no more. */
  stop(): Promise<void>;
}

export interface DriverLoadReport {
  /** INF files loaded. */
  readonly loaded: number;
  /** INF files that failed, with the tool's words. */
  readonly failures: readonly { readonly inf: string; readonly message: string }[];
}

export interface ApplianceServices {
  /** Register with the server and wait for jobs; events arrive through `onEvent` until `stop`. */
  startAgent(settings: ServerSettings, onEvent: (event: AgentEvent) => void): Promise<AgentHandle>;
  /** Persist the Backup server settings (Apply, Start, a pinned certificate). */
  saveServerSettings(settings: ServerSettings): Promise<void>;
  saveLanguage(lang: Lang): Promise<void>;
  /** The network adapters and their current addresses. */
  refreshNics(): Promise<readonly Nic[]>;
  /** Set one adapter to DHCP or a static configuration; rejects with the tool's words. */
  configureNetwork(interfaceName: string, config: NetworkConfig): Promise<void>;
  /** Drives for the file browser ("E:\" roots). */
  listDrives(): Promise<readonly DriveInfo[]>;
  /** One folder's entries; `path` is a Windows-style path the browser built ("E:\drivers"). */
  listDirectory(path: string): Promise<readonly DirEntry[]>;
  /** Load a driver now: one .inf, or every .inf under a folder. */
  loadDriver(source: DriverSource, path: string): Promise<DriverLoadReport>;
  /** The drivers loaded into the running system. */
  listDrivers(): Promise<readonly DriverInfo[]>;
  listDisks(): Promise<readonly DiskInfo[]>;
  /** Write `text` (the appliance log) to the root of `drive`; resolves with the file written. */
  saveLogs(drive: string, text: string): Promise<string>;
  reboot(): Promise<void>;
  shutdown(): Promise<void>;
  /**
   * Run the command prompt in this console and resolve with its exit code (null: killed) when the
   * operator leaves it. The caller has released the terminal before and takes it back after.
   */
  openShell(): Promise<number | null>;
}

/** Lends the terminal to a child process: `suspend` returns the function that takes it back. */
export interface TerminalSuspender {
  suspend(): () => void;
}
