/**
 * The appliance controller: holds the app state, feeds keys and reports through `reduceApp`, and
 * runs the effects the reducers return through `ApplianceServices`, turning each outcome (or
 * failure, with the error's own words) back into the action the reducers expect. It never throws
 * into the caller's event loop: every service call is awaited inside a catch.
 *
 * Effects of one reducer step run in order. Effects run in lanes (agent, network, drivers, browser,
 * tools, shell): within a lane one after another, lanes side by side, so a slow drvload does not
 * hold up a folder listing, and Apply then Start cannot save settings out of order.
 */
import { applyKey, type KeyPress } from './keymap.ts';
import type { AgentEvent, AgentHandle, ApplianceServices, TerminalSuspender } from './services.ts';
import { initialApp, reduceApp, type AppAction, type AppState } from './state/app-state.ts';
import type { Result } from './state/controls.ts';
import type { Effect, EffectType } from './state/effects.ts';
import type { NetworkConfig } from './state/network-config.ts';
import type { ServerSettings } from './state/server-form.ts';

type Lane = 'agent' | 'network' | 'drivers' | 'browser' | 'tools' | 'shell';

const LANES: Readonly<Record<EffectType, Lane>> = {
  'save-server-settings': 'agent', 'start-agent': 'agent', 'answer-certificate': 'agent', 'provide-passphrase': 'agent',
  'decline-passphrase': 'agent', 'save-language': 'agent',
  'configure-network': 'network', 'refresh-nics': 'network',
  'load-driver': 'drivers', 'list-drivers': 'drivers',
  'list-drives': 'browser', 'list-directory': 'browser',
  reboot: 'tools', shutdown: 'tools', 'save-logs': 'tools', 'refresh-disks': 'tools',
  'open-shell': 'shell',
};

/** How often the last progress counters are sampled again while a job runs, so a stall shows. */
export const PROGRESS_SAMPLE_MS = 1000;
/** Activity lines kept for Save logs. */
export const ACTIVITY_CAPACITY = 2000;

export interface ControllerOptions {
  readonly services: ApplianceServices;
  readonly app?: AppState;
  /** Epoch milliseconds; stamps job events and activity lines. */
  readonly now?: () => number;
  /** Lends the console to the command prompt; without one the shell runs over the UI. */
  readonly terminal?: TerminalSuspender;
  /** Called after every state change (the view redraws on its own tick). */
  readonly onChange?: () => void;
}

/** What to do first: settings found on the boot media or in the state folder. */
export interface StartupSettings {
  readonly settings?: ServerSettings;
  /** Press Start at once (unattended restores). */
  readonly autoStart?: boolean;
  /** Applied to the first adapter with a link before the settings load (unattended restores). */
  readonly network?: readonly NetworkConfig[];
}

/** A failure's words for the operator. */
export function errorWords(error: unknown): string {
  if (error instanceof Error) return error.message === '' ? error.name : error.message;
  return String(error);
}

function errorCode(error: unknown, fallback: string): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code !== '' ? code : fallback;
}

export class ApplianceController {
  private state: AppState;
  private readonly services: ApplianceServices;
  private readonly now: () => number;
  private readonly terminal: TerminalSuspender | undefined;
  private readonly onChange: () => void;
  private readonly lanes = new Map<Lane, Promise<void>>();
  private readonly activity: string[] = [];
  private agent: AgentHandle | null = null;
  /** Bumped on every start/stop, so a replaced agent's late events are dropped. */
  private agentGeneration = 0;
  private lastProgress: Extract<AgentEvent, { type: 'job/progress' }> | null = null;
  private lastProgressAt = 0;
  private sampler: ReturnType<typeof setInterval> | null = null;
  private stopped = false;
  private problem: string | null = null;

  constructor(options: ControllerOptions) {
    this.services = options.services;
    this.state = options.app ?? initialApp();
    this.now = options.now ?? Date.now;
    this.terminal = options.terminal;
    this.onChange = options.onChange ?? (() => {});
  }

  get app(): AppState {
    return this.state;
  }

  /**
   * A failure that has no place of its own in the state (reboot refused, language not saved, the
   * adapter list unreadable): the view shows it on the hint row until the next key.
   */
  get notice(): string | null {
    return this.problem;
  }

  /** The appliance log so far: what was asked, what happened, newest last. */
  get activityLog(): readonly string[] {
    return this.activity;
  }

  /**
   * Read the adapters and disks; then apply the startup network settings (once the adapters are
   * known) and load the startup server settings, which may press Start.
   */
  start(startup: StartupSettings = {}): void {
    this.runEffects([{ type: 'refresh-nics' }, { type: 'refresh-disks' }]);
    const { settings, network = [] } = startup;
    const load = (): void => {
      if (settings !== undefined) this.dispatch({ type: 'server/settings-loaded', settings, autoStart: startup.autoStart === true });
    };
    if (network.length === 0) { load(); return; }
    this.enqueue('network', async () => {
      for (const config of network) {
        const nic = (config.family === 4 ? this.state.ipv4 : this.state.ipv6).nic;
        if (nic === null) { this.note('the boot media network settings were not applied: no network adapter'); break; }
        await this.run({ type: 'configure-network', interfaceName: nic, config });
      }
      load();
    });
  }

  key(press: KeyPress): void {
    if (this.stopped) return;
    if (this.problem !== null) { this.problem = null; this.onChange(); }
    this.take(applyKey(this.state, press));
  }

  dispatch(action: AppAction): void {
    if (this.stopped) return;
    this.take(reduceApp(this.state, action));
  }

  /** A failure from outside (an exception nobody caught): logged and shown like any other. */
  reportProblem(text: string): void {
    this.note(text);
  }

  /** Resolves once no effect is running or queued (tests, orderly shutdown). */
  async settle(): Promise<void> {
    for (;;) {
      const pending = new Set(this.lanes.values());
      await Promise.all(pending);
      // Effects that finished may have queued more (Apply → refresh); wait until nothing new came.
      if ([...this.lanes.values()].every((p) => pending.has(p))) return;
    }
  }

  /** Stop the agent and the sampler; later keys and events are ignored. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.stopSampler();
    await this.stopAgent();
  }

  private take(r: Result<AppState>): void {
    const before = this.state;
    this.state = r.state;
    if (this.state !== before) this.onChange();
    this.syncSampler();
    this.runEffects(r.effects);
  }

  private runEffects(effects: readonly Effect[]): void {
    for (const effect of effects) this.enqueue(LANES[effect.type], () => this.run(effect), effect.type);
  }

  /** Run `work` after everything queued in its lane; a bug there is shown, never thrown. */
  private enqueue(lane: Lane, work: () => Promise<void>, what: string = lane): void {
    const previous = this.lanes.get(lane) ?? Promise.resolve();
    this.lanes.set(lane, previous.then(work).catch((e: unknown) => this.note(`internal error in ${what}: ${errorWords(e)}`)));
  }

  private log(text: string): void {
    this.activity.push(`${new Date(this.now()).toISOString()} ${text}`);
    if (this.activity.length > ACTIVITY_CAPACITY) this.activity.splice(0, this.activity.length - ACTIVITY_CAPACITY);
  }

  /** A failure without an action of its own: logged and shown until the next key. */
  private note(text: string): void {
    this.log(`! ${text}`);
    if (this.stopped) return;
    this.problem = text;
    this.onChange();
  }

  /** Report an outcome: dispatch unless the controller stopped meanwhile. */
  private report(action: AppAction): void {
    this.dispatch(action);
  }

  private async run(effect: Effect): Promise<void> {
    this.log(describeEffect(effect));
    const s = this.services;
    switch (effect.type) {
      case 'save-server-settings':
        try { await s.saveServerSettings(effect.settings); } catch (e) {
          this.failed(effect, e);
          this.report({ type: 'server/error', code: errorCode(e, 'settings.save-failed'), message: `settings not saved: ${errorWords(e)}` });
        }
        return;
      case 'start-agent': return this.startAgent(effect.settings);
      case 'answer-certificate':
        try {
          await this.requireAgent().answerCertificate(effect.fingerprint, effect.trust);
        } catch (e) {
          this.failed(effect, e);
          this.report({ type: 'server/error', code: errorCode(e, 'agent.answer-failed'), message: errorWords(e) });
        }
        return;
      case 'provide-passphrase': case 'decline-passphrase':
        try {
          const agent = this.requireAgent();
          await (effect.type === 'provide-passphrase' ? agent.providePassphrase(effect.jobId, effect.passphrase) : agent.declinePassphrase(effect.jobId));
        } catch (e) {
          this.failed(effect, e);
          this.report({ type: 'job/error', atMs: this.now(), code: errorCode(e, 'agent.answer-failed'), message: errorWords(e) });
        }
        return;
      case 'save-language':
        try { await s.saveLanguage(effect.lang); } catch (e) { this.failed(effect, e); this.note(`language not saved: ${errorWords(e)}`); }
        return;
      case 'configure-network': {
        const { family } = effect.config;
        try {
          await s.configureNetwork(effect.interfaceName, effect.config);
        } catch (e) {
          this.failed(effect, e);
          this.report({ type: 'network/failed', family, interfaceName: effect.interfaceName, message: errorWords(e) });
          return;
        }
        this.report({ type: 'network/applied', family, interfaceName: effect.interfaceName });
        // Show the addresses the adapter has now.
        return this.refreshNics();
      }
      case 'refresh-nics': return this.refreshNics();
      case 'list-drives':
        try { this.report({ type: 'browser/drives', owner: effect.owner, drives: await s.listDrives() }); } catch (e) {
          this.failed(effect, e);
          this.report({ type: 'browser/failed', owner: effect.owner, path: null, message: errorWords(e) });
        }
        return;
      case 'list-directory':
        try {
          this.report({ type: 'browser/listing', owner: effect.owner, path: effect.path, entries: await s.listDirectory(effect.path) });
        } catch (e) {
          this.failed(effect, e);
          this.report({ type: 'browser/failed', owner: effect.owner, path: effect.path, message: errorWords(e) });
        }
        return;
      case 'load-driver':
        try {
          const report = await s.loadDriver(effect.source, effect.path);
          this.log(`loaded ${report.loaded} driver(s) from ${effect.path}, ${report.failures.length} failed`);
          this.report({ type: 'driver/loaded', path: effect.path, loaded: report.loaded, failures: report.failures });
        } catch (e) {
          this.failed(effect, e);
          this.report({ type: 'driver/load-failed', path: effect.path, message: errorWords(e) });
        }
        return;
      case 'list-drivers':
        try { this.report({ type: 'driver/list', drivers: await s.listDrivers() }); } catch (e) {
          this.failed(effect, e);
          this.report({ type: 'driver/list-failed', message: errorWords(e) });
        }
        return;
      case 'reboot': case 'shutdown':
        try { await (effect.type === 'reboot' ? s.reboot() : s.shutdown()); } catch (e) {
          this.failed(effect, e);
          this.note(`${effect.type === 'reboot' ? 'reboot' : 'shut down'} failed: ${errorWords(e)}`);
        }
        return;
      case 'save-logs':
        try {
          const path = await s.saveLogs(effect.drive, this.logText());
          this.log(`logs saved to ${path}`);
          this.report({ type: 'tools/logs-saved', path });
        } catch (e) {
          this.failed(effect, e);
          this.report({ type: 'tools/logs-failed', message: errorWords(e) });
        }
        return;
      case 'refresh-disks':
        try { this.report({ type: 'tools/disks', disks: await s.listDisks() }); } catch (e) {
          this.failed(effect, e);
          this.report({ type: 'tools/disks-failed', message: errorWords(e) });
        }
        return;
      case 'open-shell': return this.openShell();
    }
  }

  private failed(effect: Effect, error: unknown): void {
    this.log(`! ${effect.type} failed: ${errorWords(error)}`);
  }

  private requireAgent(): AgentHandle {
    if (this.agent === null) throw new Error('the agent is not running; press Start on the Backup server tab');
    return this.agent;
  }

  private async refreshNics(): Promise<void> {
    try {
      this.report({ type: 'network/nics', nics: await this.services.refreshNics() });
    } catch (e) {
      this.failed({ type: 'refresh-nics' }, e);
      this.note(`network adapters not read: ${errorWords(e)}`);
    }
  }

  private async stopAgent(): Promise<void> {
    const agent = this.agent;
    this.agent = null;
    this.agentGeneration++;
    this.lastProgress = null;
    if (agent === null) return;
    try { await agent.stop(); } catch (e) { this.log(`! agent stop failed: ${errorWords(e)}`); }
  }

  private async startAgent(settings: ServerSettings): Promise<void> {
    await this.stopAgent();
    if (this.stopped) return;
    const generation = this.agentGeneration;
    const onEvent = (event: AgentEvent): void => {
      if (generation !== this.agentGeneration) return;
      this.agentEvent(event);
    };
    try {
      const handle = await this.services.startAgent(settings, onEvent);
      if (generation !== this.agentGeneration || this.stopped) { await handle.stop(); return; }
      this.agent = handle;
      this.log(`agent started for ${settings.ssl ? 'https' : 'http'}://${settings.address}:${settings.port}`);
    } catch (e) {
      this.failed({ type: 'start-agent', settings }, e);
      if (generation === this.agentGeneration) this.report({ type: 'server/error', code: errorCode(e, 'agent.start-failed'), message: errorWords(e) });
    }
  }

  /** Stamp an agent report with our clock and hand it to the reducers. */
  private agentEvent(event: AgentEvent): void {
    const atMs = this.now();
    switch (event.type) {
      case 'job/log':
        this.report({ type: 'job/log', lines: event.lines.map((l) => ({ ...l, atMs })) });
        for (const l of event.lines) this.log(`job ${l.level}: ${l.text}`);
        return;
      case 'job/progress':
        this.lastProgress = event;
        this.lastProgressAt = atMs;
        this.report({ ...event, atMs });
        return;
      case 'job/started': case 'job/error': case 'job/finished':
        if (event.type === 'job/started') this.lastProgress = null;
        this.log(`${event.type}: ${JSON.stringify(event)}`);
        this.report({ ...event, atMs });
        return;
      case 'server/certificate': case 'server/registered': case 'server/binding': case 'server/error': case 'server/connecting':
        this.log(`${event.type}: ${JSON.stringify(event)}`);
        this.report(event);
        return;
      default:
        this.report(event);
    }
  }

  /** While a job runs, re-sample the last counters each second so a stalled transfer's rate falls. */
  private syncSampler(): void {
    const running = this.state.restore.phase === 'running' && !this.stopped;
    if (running && this.sampler === null) {
      this.sampler = setInterval(() => this.sample(), PROGRESS_SAMPLE_MS);
      this.sampler.unref?.();
    } else if (!running) this.stopSampler();
  }

  private stopSampler(): void {
    if (this.sampler !== null) clearInterval(this.sampler);
    this.sampler = null;
  }

  private sample(): void {
    const last = this.lastProgress;
    const atMs = this.now();
    if (last === null || atMs - this.lastProgressAt < PROGRESS_SAMPLE_MS) return;
    this.report({ type: 'job/progress', atMs, networkBytes: last.networkBytes, perDisk: last.perDisk });
  }

  private async openShell(): Promise<void> {
    const resume = this.terminal?.suspend();
    let exitCode: number | null = null;
    try {
      exitCode = await this.services.openShell();
      this.log(`command prompt exited with ${exitCode ?? 'no exit code'}`);
    } catch (e) {
      this.failed({ type: 'open-shell' }, e);
      this.note(`command prompt failed: ${errorWords(e)}`);
    } finally {
      resume?.();
    }
    this.report({ type: 'shell/exited', exitCode });
  }

  /** The appliance log and the restore log, for Save logs. */
  private logText(): string {
    const restore = this.state.restore.log.lines.map((l) => `${new Date(l.atMs).toISOString()} [${l.level}] ${l.text}`);
    const dropped = this.state.restore.log.dropped;
    return [
      '== appliance ==', ...this.activity,
      '', `== restore log${dropped > 0 ? ` (${dropped} older line(s) not kept)` : ''} ==`, ...restore, '',
    ].join('\r\n');
  }
}

/** One line for the activity log; never the passphrase or the access key. */
function describeEffect(effect: Effect): string {
  switch (effect.type) {
    case 'save-server-settings': case 'start-agent': {
      const s = effect.settings;
      return `${effect.type} ${s.address}:${s.port} ssl=${s.ssl} accessKey=${s.accessKey === '' ? 'none' : 'set'} pinned=${s.pinnedFingerprint ?? 'none'}`;
    }
    case 'provide-passphrase': return `provide-passphrase job ${effect.jobId}`;
    case 'configure-network': return `configure-network ${effect.interfaceName} ${JSON.stringify(effect.config)}`;
    default: return `${effect.type} ${JSON.stringify({ ...effect, type: undefined })}`;
  }
}
