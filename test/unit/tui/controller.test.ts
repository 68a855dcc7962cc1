// The controller against fake services: every effect reaches the right service call, every
// outcome comes back as the action the reducers expect, and every failure shows the error's words.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RecoveryError } from '../../../src/core/errors.ts';
import { ApplianceController } from '../../../src/tui/controller.ts';
import type { AgentEvent, AgentHandle, ApplianceServices, DriverLoadReport } from '../../../src/tui/services.ts';
import { initialApp } from '../../../src/tui/state/app-state.ts';
import type { DiskInfo } from '../../../src/tui/state/driver-tools.ts';
import type { DriverInfo } from '../../../src/tui/state/driver-update.ts';
import type { DriveInfo } from '../../../src/tui/state/file-browser.ts';
import type { Nic } from '../../../src/tui/state/network-form.ts';
import { networkRate } from '../../../src/tui/state/restore-progress.ts';
import { renderScreen } from '../../../src/tui/state/screen-text.ts';
import type { ServerSettings } from '../../../src/tui/state/server-form.ts';

type Call = readonly [string, ...unknown[]];

const NICS: Nic[] = [{ name: 'Ethernet0', mac: '52-54-00-12-34-56', link: 'up', ipv4: ['10.0.0.9/24'], ipv6: [] }];
const DISKS: DiskInfo[] = [{ number: 0, model: 'QEMU HARDDISK', sizeBytes: 64n << 30n, logicalSectorSize: 512, physicalSectorSize: 512, bus: 'SATA', style: 'gpt', partitions: [] }];
const DRIVES: DriveInfo[] = [{ root: 'E:\\', label: 'USB', kind: 'removable', freeBytes: null, readOnly: false }];
const DRIVERS: DriverInfo[] = [{ publishedName: 'oem1.inf', originalName: 'viostor.inf', className: 'SCSIAdapter', provider: 'Red Hat, Inc.', version: '62.91' }];

class FakeAgent implements AgentHandle {
  stopped = false;
  readonly calls: Call[] = [];
  constructor(readonly emit: (e: AgentEvent) => void, private readonly fail: boolean) {}
  async answerCertificate(fingerprint: string, trust: boolean) { this.record('answerCertificate', fingerprint, trust); }
  async providePassphrase(jobId: string, passphrase: string) { this.record('providePassphrase', jobId, passphrase); }
  async declinePassphrase(jobId: string) { this.record('declinePassphrase', jobId); }
  async stop() { this.stopped = true; }
  private record(...call: Call) {
    this.calls.push(call);
    if (this.fail) throw new RecoveryError('agent.gone', 'the agent lost its session');
  }
}

/** Records every call; a method named in `failing` rejects with "<method> broke". */
class FakeServices implements ApplianceServices {
  readonly calls: Call[] = [];
  readonly agents: FakeAgent[] = [];
  failing = new Set<string>();
  agentFails = false;
  nics: Nic[] = NICS;
  shellExit: number | null = 0;

  private async call<T>(name: string, value: T, ...args: unknown[]): Promise<T> {
    this.calls.push([name, ...args]);
    if (this.failing.has(name)) throw new RecoveryError(`fake.${name}`, `${name} broke`);
    return value;
  }

  names(): string[] { return this.calls.map((c) => c[0]); }

  async startAgent(settings: ServerSettings, onEvent: (e: AgentEvent) => void): Promise<AgentHandle> {
    const agent = new FakeAgent(onEvent, this.agentFails);
    await this.call('startAgent', agent, settings);
    this.agents.push(agent);
    return agent;
  }

  saveServerSettings(settings: ServerSettings) { return this.call('saveServerSettings', undefined, settings); }
  saveLanguage(lang: string) { return this.call('saveLanguage', undefined, lang); }
  refreshNics() { return this.call('refreshNics', this.nics); }
  configureNetwork(name: string, config: unknown) { return this.call('configureNetwork', undefined, name, config); }
  listDrives() { return this.call('listDrives', DRIVES); }
  listDirectory(path: string) { return this.call('listDirectory', [{ name: 'viostor', kind: 'dir' as const }], path); }
  loadDriver(source: string, path: string) { return this.call<DriverLoadReport>('loadDriver', { loaded: 2, failures: [] }, source, path); }
  listDrivers() { return this.call('listDrivers', DRIVERS); }
  listDisks() { return this.call('listDisks', DISKS); }
  saveLogs(drive: string, text: string) { return this.call('saveLogs', `${drive}lifeline.log`, drive, text); }
  reboot() { return this.call('reboot', undefined); }
  shutdown() { return this.call('shutdown', undefined); }
  openShell() { return this.call('openShell', this.shellExit); }
}

function setup(options: { now?: () => number } = {}) {
  const services = new FakeServices();
  const terminal = { suspended: 0, resumed: 0, suspend() { this.suspended++; return () => { this.resumed++; }; } };
  const controller = new ApplianceController({ services, app: initialApp(), terminal, ...(options.now === undefined ? {} : { now: options.now }) });
  /** Keys one by one, each after the effects of the one before have answered. */
  const keys = async (...names: string[]) => {
    for (const full of names) {
      controller.key({ full });
      await controller.settle();
    }
  };
  const type = async (text: string) => {
    for (const ch of text) controller.key({ full: ch === ' ' ? 'space' : ch, ch });
    await controller.settle();
  };
  const screen = () => renderScreen(controller.app).join('\n');
  return { services, terminal, controller, keys, type, screen };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('start', () => {
  it('reads the adapters and the disks into the IPv4, IPv6 and Driver tools screens', async () => {
    const { services, controller, screen, keys } = setup();
    controller.start();
    await controller.settle();
    expect(services.names()).toEqual(['refreshNics', 'listDisks']);
    expect(controller.app.ipv4.nics).toEqual(NICS);
    expect(controller.app.ipv6.nics).toEqual(NICS);
    await keys('f5');
    expect(screen()).toContain('QEMU HARDDISK');
  });

  it('settings from the boot media with autoStart save nothing new and start the agent', async () => {
    const { services, controller } = setup();
    const settings: ServerSettings = { address: '10.0.0.5', port: 50305, ssl: false, accessKey: '', pinnedFingerprint: null };
    controller.start({ settings, autoStart: true });
    await controller.settle();
    expect(services.calls.filter((c) => c[0] === 'startAgent')).toEqual([['startAgent', settings]]);
    expect(services.names()).not.toContain('saveServerSettings');
  });

  it('unattended: the boot media network goes to the adapter with a link before the agent starts', async () => {
    const { services, controller } = setup();
    const settings: ServerSettings = { address: '10.0.0.5', port: 50305, ssl: false, accessKey: '', pinnedFingerprint: null };
    const network = [{ family: 4 as const, mode: 'static' as const, address: '10.0.0.9', prefixLength: 24, mask: '255.255.255.0', gateway: null, dns: [] }];
    controller.start({ settings, autoStart: true, network });
    await controller.settle();
    const order = services.names().filter((n) => n !== 'listDisks');
    expect(order).toEqual(['refreshNics', 'configureNetwork', 'refreshNics', 'startAgent']);
    expect(services.calls.find((c) => c[0] === 'configureNetwork')).toEqual(['configureNetwork', 'Ethernet0', network[0]]);
    expect(renderScreen({ ...controller.app, tab: 'ipv4' }).join('\n')).toContain('Applied to Ethernet0.');
  });

  it('a failing adapter list is shown as a notice with its words, and the next key clears it', async () => {
    const { services, controller, keys } = setup();
    services.failing.add('refreshNics');
    controller.start();
    await controller.settle();
    expect(controller.notice).toBe('network adapters not read: refreshNics broke');
    await keys('tab');
    expect(controller.notice).toBeNull();
  });
});

describe('Backup server', () => {
  const expected: ServerSettings = { address: '10.0.0.5', port: 50305, ssl: false, accessKey: '', pinnedFingerprint: null };

  it('Apply saves the settings; a failed save puts the error words in the status line', async () => {
    const { services, controller, type, keys, screen } = setup();
    await type('10.0.0.5');
    await keys('tab', 'tab', 'tab', 'tab', 'space');
    expect(services.calls).toEqual([['saveServerSettings', expected]]);
    expect(screen()).toContain('Settings saved.');
    services.failing.add('saveServerSettings');
    await keys('up', 'tab', 'backspace');
    await type('6');
    await keys('tab', 'tab', 'tab', 'tab', 'space');
    expect(screen()).toContain('Status: ERROR: settings not saved: saveServerSettings broke');
    expect(controller.app.server.status).toMatchObject({ state: 'error', code: 'fake.saveServerSettings' });
  });

  it('Start saves first and then starts the agent, in that order even when saving is slow', async () => {
    const { services, controller, type } = setup();
    let release = (): void => {};
    const slow = new Promise<void>((resolve) => { release = resolve; });
    services.saveServerSettings = async (settings) => { services.calls.push(['saveServerSettings', settings]); await slow; };
    await type('10.0.0.5');
    for (const full of ['tab', 'tab', 'tab', 'tab', 'tab', 'space']) controller.key({ full });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(services.names()).toEqual(['saveServerSettings']);
    release();
    await controller.settle();
    expect(services.names()).toEqual(['saveServerSettings', 'startAgent']);
  });

  it('agent reports drive the status line; a restart stops the old agent and drops its late reports', async () => {
    const { services, controller, type, keys, screen } = setup();
    await type('10.0.0.5');
    await keys('tab', 'tab', 'tab', 'tab', 'tab', 'space');
    const first = services.agents[0];
    first?.emit({ type: 'server/registered', bound: false });
    expect(screen()).toContain('Status: online, not bound.');
    await keys('up', 'tab', 'tab', 'backspace');
    await type('6');
    await keys('tab', 'tab', 'tab', 'tab', 'space');
    expect(services.agents).toHaveLength(2);
    expect(first?.stopped).toBe(true);
    first?.emit({ type: 'server/binding', bound: true });
    expect(controller.app.server.status.state).toBe('connecting');
    services.agents[1]?.emit({ type: 'server/binding', bound: true });
    expect(screen()).toContain('Status: online, bound.');
  });

  it('a failed start shows its words and code', async () => {
    const { services, type, keys, screen } = setup();
    services.failing.add('startAgent');
    await type('10.0.0.5');
    await keys('tab', 'tab', 'tab', 'tab', 'tab', 'space');
    expect(screen()).toContain('Status: ERROR: startAgent broke [fake.startAgent]');
  });

  it('Trust answers the agent that asked and saves the pinned fingerprint', async () => {
    const { services, controller, type, keys } = setup();
    await type('10.0.0.5');
    await keys('tab', 'tab', 'space', 'tab', 'tab', 'tab', 'space');
    const fingerprint = 'ab'.repeat(32);
    services.agents[0]?.emit({ type: 'server/certificate', fingerprint, pinned: null });
    expect(renderScreen(controller.app).join('\n')).toContain('New server certificate');
    await keys('left', 'space');
    expect(services.agents[0]?.calls).toEqual([['answerCertificate', fingerprint, true]]);
    expect(services.calls.at(-1)).toEqual(['saveServerSettings', { address: '10.0.0.5', port: 60305, ssl: true, accessKey: '', pinnedFingerprint: fingerprint }]);
  });

  it('an answer the agent cannot take becomes an error status with its words', async () => {
    const { services, type, keys, screen } = setup();
    services.agentFails = true;
    await type('10.0.0.5');
    await keys('tab', 'tab', 'space', 'tab', 'tab', 'tab', 'space');
    services.agents[0]?.emit({ type: 'server/certificate', fingerprint: 'cd'.repeat(32), pinned: null });
    await keys('space');
    expect(screen()).toContain('Status: ERROR: the agent lost its session [agent.gone]');
  });
});

describe('network', () => {
  it('Apply configures the adapter, reports it applied and reads the adapters again', async () => {
    const { services, controller, keys, screen } = setup();
    controller.start();
    await controller.settle();
    await keys('f2', 'tab', 'tab', 'tab', 'space');
    expect(services.calls.filter((c) => c[0] === 'configureNetwork')).toEqual([['configureNetwork', 'Ethernet0', { family: 4, mode: 'dhcp' }]]);
    expect(services.names().slice(-2)).toEqual(['configureNetwork', 'refreshNics']);
    expect(screen()).toContain('Applied to Ethernet0.');
  });

  it('a refused configuration shows the tool words on the right tab', async () => {
    const { services, controller, keys, screen } = setup();
    services.failing.add('configureNetwork');
    controller.start();
    await controller.settle();
    await keys('f3', 'tab', 'tab', 'tab', 'space');
    expect(screen()).toContain('Could not apply to Ethernet0: configureNetwork broke');
    expect(controller.app.ipv4.message).toBeNull();
  });

  it('a bad static address calls nothing', async () => {
    const { services, controller, keys, type, screen } = setup();
    controller.start();
    await controller.settle();
    await keys('f2', 'tab', 'tab', 'space', 'tab');
    await type('10.0.0.300');
    await keys('tab');
    await type('24');
    await keys('tab', 'tab', 'tab', 'space');
    expect(services.names()).not.toContain('configureNetwork');
    expect(screen()).toContain('"10.0.0.300" is not an IPv4 address');
  });
});

describe('Driver update', () => {
  it('Add loads the folder, reports the count and reads the adapters again; Get lists the drivers', async () => {
    const { services, keys, type, screen } = setup();
    await keys('f4', 'tab');
    await type('E:\\drivers');
    await keys('tab', 'tab', 'space');
    expect(services.calls).toContainEqual(['loadDriver', 'folder', 'E:\\drivers']);
    expect(screen()).toContain('Loaded 2 driver(s) from E:\\drivers.');
    expect(services.names().at(-1)).toBe('refreshNics');
    await keys('tab', 'space');
    expect(screen()).toContain('viostor.inf');
  });

  it('load and list failures show their words', async () => {
    const { services, keys, type, screen } = setup();
    services.failing.add('loadDriver').add('listDrivers');
    await keys('f4', 'tab');
    await type('E:\\x');
    await keys('tab', 'tab', 'space');
    expect(screen()).toContain('Could not load E:\\x: loadDriver broke');
    await keys('tab', 'space');
    expect(screen()).toContain('Could not list drivers: listDrivers broke');
  });

  it('Open lists the drives, then the folder picked; a folder that fails shows why', async () => {
    const { services, keys, screen } = setup();
    await keys('f4', 'tab', 'tab', 'space');
    expect(services.names()).toEqual(['listDrives']);
    expect(screen()).toContain('E:\\ USB');
    await keys('enter');
    expect(services.calls.at(-1)).toEqual(['listDirectory', 'E:\\']);
    expect(screen()).toContain('viostor\\');
    services.failing.add('listDirectory');
    await keys('down', 'down', 'enter');
    expect(screen()).toContain('Cannot read E:\\viostor: listDirectory broke');
  });

  it('a service that throws instead of rejecting still becomes a message', async () => {
    const { services, keys, screen } = setup();
    services.listDrives = () => { throw new Error('no drives here'); };
    await keys('f4', 'tab', 'tab', 'space');
    expect(screen()).toContain('Cannot read : no drives here');
  });
});

describe('Driver tools', () => {
  it('Reboot asks first, then reboots; a refused reboot is a notice with its words', async () => {
    const { services, controller, keys } = setup();
    await keys('f5', 'tab', 'space');
    expect(services.names()).toEqual([]);
    await keys('left', 'space');
    expect(services.names()).toEqual(['reboot']);
    services.failing.add('shutdown');
    await keys('tab', 'space', 'left', 'space');
    expect(controller.notice).toBe('shut down failed: shutdown broke');
  });

  it('Save logs writes the activity log to the drive picked', async () => {
    const { services, keys, screen } = setup();
    await keys('f5', 'tab', 'tab', 'tab', 'space', 'enter');
    const save = services.calls.find((c) => c[0] === 'saveLogs');
    expect(save?.[1]).toBe('E:\\');
    expect(String(save?.[2])).toContain('list-drives');
    expect(screen()).toContain('Logs saved to E:\\lifeline.log.');
    services.failing.add('saveLogs');
    await keys('space', 'enter');
    expect(screen()).toContain('Could not save the logs: saveLogs broke');
  });

  it('Refresh reads the disks; a failure keeps the table and says why', async () => {
    const { services, keys, screen } = setup();
    await keys('f5', 'tab', 'tab', 'tab', 'tab', 'space');
    expect(screen()).toContain('QEMU HARDDISK');
    services.failing.add('listDisks');
    await keys('space');
    expect(screen()).toContain('Could not list the disks: listDisks broke');
    expect(screen()).toContain('QEMU HARDDISK');
  });

  it('choosing Chinese saves the language; a failed save is a notice', async () => {
    const { services, controller, keys } = setup();
    services.failing.add('saveLanguage');
    await keys('f5', 'right');
    expect(controller.app.lang).toBe('zh-CN');
    expect(services.calls).toEqual([['saveLanguage', 'zh-CN']]);
    expect(controller.notice).toBe('language not saved: saveLanguage broke');
  });
});

describe('Command prompt', () => {
  it('lends the terminal to the shell and takes it back, reporting the exit code', async () => {
    const { services, terminal, keys, screen } = setup();
    services.shellExit = 3;
    await keys('f6', 'space');
    expect(services.names()).toEqual(['openShell']);
    expect([terminal.suspended, terminal.resumed]).toEqual([1, 1]);
    expect(screen()).toContain('Command prompt closed (exit code 3).');
  });

  it('takes the terminal back when the shell cannot start, and says why', async () => {
    const { services, controller, terminal, keys } = setup();
    services.failing.add('openShell');
    await keys('f6', 'space');
    expect([terminal.suspended, terminal.resumed]).toEqual([1, 1]);
    expect(controller.notice).toBe('command prompt failed: openShell broke');
    expect(controller.app.shell.open).toBe(false);
  });
});

describe('restore job', () => {
  async function running(setupResult: ReturnType<typeof setup>) {
    const { type, keys, services } = setupResult;
    await type('10.0.0.5');
    await keys('tab', 'tab', 'tab', 'tab', 'tab', 'space');
    const agent = services.agents[0];
    if (agent === undefined) throw new Error('no agent started');
    agent.emit({ type: 'job/started', job: { id: 'j1', name: 'web01' }, disks: [{ key: 'd0', label: 'Disk 0 -> Disk 1', bytesTotal: 100_000_000 }] });
    return agent;
  }

  it('stamps job events with the controller clock and shows the Restore tab', async () => {
    let now = 5_000;
    const s = setup({ now: () => now });
    const agent = await running(s);
    expect(s.controller.app.tab).toBe('restore');
    expect(s.controller.app.restore.startedAtMs).toBe(5_000);
    now = 6_000;
    agent.emit({ type: 'job/log', lines: [{ level: 'info', text: 'partition table written' }] });
    expect(s.controller.app.restore.log.lines).toEqual([{ atMs: 6_000, level: 'info', text: 'partition table written' }]);
    agent.emit({ type: 'job/finished', outcome: 'failed', message: 'disk 1 is too small' });
    expect(s.screen()).toContain('Restore FAILED. disk 1 is too small');
    await s.controller.stop();
  });

  it('samples the last counters every second, so a stalled transfer shows a falling rate', async () => {
    vi.useFakeTimers({ now: 0 });
    const s = setup({ now: () => Date.now() });
    const agent = await running(s);
    agent.emit({ type: 'job/progress', networkBytes: 0, perDisk: [{ key: 'd0', bytesDone: 0 }] });
    vi.advanceTimersByTime(1000);
    agent.emit({ type: 'job/progress', networkBytes: 10_000_000, perDisk: [{ key: 'd0', bytesDone: 10_000_000 }] });
    expect(networkRate(s.controller.app.restore)).toBe(10_000_000);
    vi.advanceTimersByTime(6_000);
    expect(networkRate(s.controller.app.restore)).toBe(0);
    agent.emit({ type: 'job/finished', outcome: 'succeeded' });
    const samples = s.controller.app.restore.network.length;
    vi.advanceTimersByTime(3_000);
    expect(s.controller.app.restore.network.length).toBe(samples);
    await s.controller.stop();
  });

  it('hands the passphrase to the agent; a refused answer shows as a job error', async () => {
    const s = setup();
    const agent = await running(s);
    agent.emit({ type: 'job/passphrase-needed', attempt: 1 });
    await s.type('secret words');
    await s.keys('enter');
    expect(agent.calls).toEqual([['providePassphrase', 'j1', 'secret words']]);
    expect(JSON.stringify(s.controller.app)).not.toContain('secret words');
    expect(s.controller.activityLog.join('\n')).not.toContain('secret words');
    s.services.agentFails = true;
    const failing = new FakeAgent(() => {}, true);
    agent.providePassphrase = failing.providePassphrase.bind(failing);
    agent.emit({ type: 'job/passphrase-needed', attempt: 2, error: 'wrong passphrase' });
    await s.type('again');
    await s.keys('enter');
    expect(s.screen()).toContain('last: the agent lost its session [agent.gone]');
    await s.controller.stop();
  });

  it('after stop, reports and keys change nothing and the agent is stopped', async () => {
    const s = setup();
    const agent = await running(s);
    await s.controller.stop();
    const before = s.controller.app;
    agent.emit({ type: 'job/finished', outcome: 'succeeded' });
    s.controller.key({ full: 'f1' });
    expect(s.controller.app).toBe(before);
    expect(agent.stopped).toBe(true);
  });
});
