// The appliance's composition pieces without a terminal: agent reports turned into screen
// reports, the settings files, and the Linux adapter list checked against iproute2 itself.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AssignedRun } from '../../src/core/protocol/jobs.ts';
import { DEFAULT_RESTORE_OPTIONS } from '../../src/core/protocol/jobs.ts';
import { AgentEventBridge } from '../../src/main/appliance/agent-events.ts';
import { parseIpAddrJson } from '../../src/main/appliance/linux-network.ts';
import { mediaSettings, SettingsStore, startupSettings } from '../../src/main/appliance/settings-store.ts';
import type { AgentEvent } from '../../src/tui/services.ts';
import { mustRun, tempDir } from '../helpers/run.ts';

const run: AssignedRun = {
  runId: 'r1', jobId: 'j1', jobName: 'web01',
  spec: { kind: 'restore', setId: 's', pointId: 'p', disks: [{ sourceDisk: 0, targetDisk: '/dev/loop3', partitions: [], rebuild: 'full' }], options: DEFAULT_RESTORE_OPTIONS },
};

function bridge() {
  const events: AgentEvent[] = [];
  let now = 0;
  const b = new AgentEventBridge((e) => events.push(e), () => now);
  return { b, events, at: (ms: number) => { now = ms; } };
}

describe('agent reports for the screens', () => {
  it('first registration, then binding changes; a reconnect registers again', () => {
    const { b, events } = bridge();
    b.onStatus({ state: 'connecting', attempt: 1 });
    b.onStatus({ state: 'online-unbound', agentId: 'a' });
    b.onStatus({ state: 'bound', agentId: 'a' });
    b.onStatus({ state: 'connecting', attempt: 2, reason: 'network.reset: socket hang up' });
    b.onStatus({ state: 'bound', agentId: 'a' });
    b.onStatus({ state: 'error', code: 'auth.bad-access-key', message: 'unknown access key' });
    expect(events).toEqual([
      { type: 'server/connecting' },
      { type: 'server/registered', bound: false },
      { type: 'server/binding', bound: true },
      { type: 'server/connecting', reason: 'network.reset: socket hang up' },
      { type: 'server/registered', bound: true },
      { type: 'server/error', code: 'auth.bad-access-key', message: 'unknown access key' },
    ]);
  });

  it('announces the job again with its disks at the first progress, replaying steps and errors', () => {
    const { b, events, at } = bridge();
    b.runStarted(run);
    b.observer.stepStarted?.('prechecks');
    b.observer.stepFinished?.({ step: 'prechecks', outcome: { status: 'done', detail: '1 disk' } });
    b.observer.event?.({ time: '', level: 'error', message: 'chunk refused', data: { code: 'restore.chunk-hash' } });
    events.length = 0;
    at(1000);
    const progress = { stage: 'data', bytesDone: '0', bytesTotal: '4096', networkBytesPerSecond: 0, diskBytesPerSecond: 0, disks: [{ targetDisk: '/dev/loop3', bytesDone: '0', bytesTotal: '4096' }] };
    b.observer.progress?.(progress);
    expect(events[0]).toMatchObject({ type: 'job/started', job: { id: 'j1', name: 'web01' }, disks: [{ key: '/dev/loop3', label: 'Disk 0 -> loop3', bytesTotal: 4096 }] });
    expect(events.slice(1, 5).map((e) => e.type)).toEqual(['job/step', 'job/step', 'job/error', 'job/progress']);
    events.length = 0;
    at(3000);
    b.observer.progress?.({ ...progress, bytesDone: '2048', networkBytesPerSecond: 500, disks: [{ targetDisk: '/dev/loop3', bytesDone: '2048', bytesTotal: '4096' }] });
    expect(events).toEqual([{ type: 'job/progress', stage: 'data', networkBytes: 1000, perDisk: [{ key: '/dev/loop3', bytesDone: 2048 }] }]);
  });

  it('maps step outcomes and run outcomes without ever turning a failure into success', () => {
    const { b, events } = bridge();
    b.runStarted(run);
    b.observer.stepFinished?.({ step: 'boot', outcome: { status: 'skipped', why: 'needs Windows' } });
    b.observer.stepFinished?.({ step: 'data', outcome: { status: 'failed', code: 'restore.verify-mismatch', message: 'bytes differ' } });
    b.onStatus({ state: 'job-failed', run: { runId: 'r1', jobId: 'j1', jobName: 'web01', kind: 'restore' }, outcome: { state: 'idle', steps: [] } });
    expect(events.slice(1)).toEqual([
      { type: 'job/step', id: 'boot', outcome: { state: 'skipped', reason: 'needs Windows' } },
      { type: 'job/step', id: 'data', outcome: { state: 'failed', error: 'bytes differ [restore.verify-mismatch]' } },
      { type: 'job/finished', outcome: 'cancelled', message: 'the precondition does not hold; the job went back to idle' },
    ]);
  });
});

describe('settings files', () => {
  it('takes the boot media file: address with port, TLS pin, network, disks', () => {
    const media = mediaSettings({
      version: 1, server: { address: 'backup.lan:8080', ssl: true, fingerprint: 'AB'.repeat(32), accessKey: 'k1' }, disks: ['/dev/sdb'],
      network: { ipv4: { mode: 'static', address: '10.0.0.9', prefixLength: 24, gateway: '10.0.0.1', dns: ['10.0.0.1'] }, ipv6: { mode: 'off' } },
    });
    expect(media.server).toEqual({ address: 'backup.lan', port: 8080, ssl: true, accessKey: 'k1', pinnedFingerprint: 'AB'.repeat(32) });
    expect(media.network).toEqual([{ family: 4, mode: 'static', address: '10.0.0.9', prefixLength: 24, mask: '255.255.255.0', gateway: '10.0.0.1', dns: ['10.0.0.1'] }]);
    expect(media.disks).toEqual(['/dev/sdb']);
    expect(startupSettings({}, media)).toEqual({ server: media.server, autoStart: true });
    expect(mediaSettings({ version: 1, server: { address: '10.0.0.5', ssl: true } }).server?.port).toBe(60305);
  });

  it('saves Apply and the language in the state folder and reads them back; saved settings win', async () => {
    const dir = await tempDir('lifeline-state-');
    try {
      const server = { address: '10.0.0.5', port: 50305, ssl: false, accessKey: '', pinnedFingerprint: null };
      const store = await SettingsStore.open(dir.path);
      await store.saveServer(server);
      await store.saveLanguage('zh-CN');
      const again = await SettingsStore.open(dir.path);
      expect(again.settings).toEqual({ server, language: 'zh-CN' });
      expect(startupSettings(again.settings, mediaSettings({ version: 1, server: { address: 'other' } }))).toEqual({ server, autoStart: false, language: 'zh-CN' });
      await writeFile(join(dir.path, 'appliance.json'), JSON.stringify({ server, lang: 'en' }));
      await expect(SettingsStore.open(dir.path)).rejects.toMatchObject({ code: 'settings.invalid', message: expect.stringContaining('"lang"') });
      expect(JSON.parse(await readFile(join(dir.path, 'appliance.json'), 'utf8'))).toEqual({ server, lang: 'en' });
    } finally {
      await dir.cleanup();
    }
  });
});

describe('Linux adapters from ip -j addr', () => {
  it('lists what `ip -o addr` lists (loopback left out)', async () => {
    const nics = parseIpAddrJson(await mustRun('ip', ['-j', 'addr']));
    const expected = new Map<string, string[]>();
    for (const line of (await mustRun('ip', ['-o', 'addr'])).split('\n')) {
      const m = /^\d+:\s+(\S+)\s+(inet6?)\s+(\S+)/.exec(line);
      if (m === null || m[1] === 'lo') continue;
      expected.set(m[1]!, [...(expected.get(m[1]!) ?? []), m[3]!]);
    }
    const links = (await mustRun('ip', ['-o', 'link'])).split('\n').map((l) => /^\d+:\s+([^:@]+)/.exec(l)?.[1]).filter((n): n is string => n !== undefined && n !== 'lo');
    expect(nics.map((n) => n.name).sort()).toEqual(links.sort());
    for (const nic of nics) expect([...nic.ipv4, ...nic.ipv6].sort()).toEqual((expected.get(nic.name) ?? []).sort());
  });
});
