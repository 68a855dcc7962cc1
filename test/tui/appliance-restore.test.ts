// A whole restore through the appliance's screens, in a real terminal against a real server: the
// technician types the server (TLS), Applies, Starts, trusts the certificate after comparing its
// fingerprint, and waits; the operator binds the machine and creates a restore job of an
// encrypted backup; the technician types the passphrase; the Restore tab shows the progress and
// the outcome, and the restored image passes `sgdisk -v` and matches the source's table.
import { readFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_RESTORE_OPTIONS } from '../../src/core/protocol/jobs.ts';
import { makeGptUefiDisk, type FixtureDisk } from '../helpers/fixture-disks.ts';
import { backupFixtureDisk, type FixtureBackup } from '../helpers/make-backup.ts';
import { mustRun, tempDir } from '../helpers/run.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';
import { hasTmux, TmuxSession } from './tmux.ts';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const PASSPHRASE = 'correct horse battery staple';

describe.skipIf(!hasTmux)('a restore driven from the appliance screens', () => {
  let s: TestServer;
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let source: FixtureDisk;
  let backup: FixtureBackup;
  let target: string;
  let tui: TmuxSession;

  beforeAll(async () => {
    dir = await tempDir('lifeline-tui-restore-');
    target = join(dir.path, 'target.img');
    await writeFile(target, '');
    // The boot media's settings: only a short poll, so the test does not wait 5 s per look for a job.
    const settings = join(dir.path, 'media.json');
    await writeFile(settings, JSON.stringify({ version: 1, pollSeconds: 1 }));
    // The server, the source disk and the appliance start side by side; each takes seconds.
    tui = TmuxSession.start(
      `env TERM=xterm node bin/lifeline.mjs appliance --disk ${target} --firmware uefi --state ${join(dir.path, 'state')} --settings ${settings}`,
      { cwd: repo },
    );
    [s, source] = await Promise.all([startTestServer(), makeGptUefiDisk(dir.path), tui.waitFor('Status: not configured', 30_000)]);
    // The target is as large as the source; the appliance reads its size when Start registers it.
    await truncate(target, Number(source.sizeBytes));
    const sourceAgent = await s.agent({ identity: { hostname: 'source-host' } });
    backup = await backupFixtureDisk(sourceAgent.client, source.path, { passphrase: PASSPHRASE, resource: 'source-host' });
  }, 120_000);

  afterAll(async () => {
    TmuxSession.killAll();
    await s?.stop();
    await dir?.cleanup();
  });

  it('connects over TLS after the technician trusts the fingerprint the server shows', async () => {
    const port = new URL(s.tlsUrl).port;
    tui.type('127.0.0.1');
    tui.keys('Tab', 'Tab', 'Space');
    await tui.waitFor('[x] Enable SSL');
    tui.keys('Up', 'Tab', 'Tab', 'BSpace', 'BSpace', 'BSpace', 'BSpace', 'BSpace');
    tui.type(port);
    tui.keys('Tab', 'Tab', 'Tab');
    await tui.waitFor((l) => tui.focusedRow(l)?.includes('>[ Apply ]<') === true);
    tui.keys('Space');
    await tui.waitFor('Settings saved.');
    tui.keys('Tab', 'Space');
    const dialog = await tui.waitFor('== New server certificate ==');
    const shown = dialog.filter((l) => /^([0-9A-F]{2}:){15}[0-9A-F]{2}$/.test(l)).join(':');
    expect(shown).toBe(s.fingerprint.toUpperCase());
    expect(tui.focusedRow(dialog)).toBe('>  [ Trust ]  >[ Reject ]<');
    tui.keys('Left', 'Space');
    await tui.waitFor('Status: online, not bound.');
    const saved = JSON.parse(await readFile(join(dir.path, 'state', 'appliance.json'), 'utf8')) as { server: { pinnedFingerprint: string; port: number } };
    expect(saved.server.port).toBe(Number(port));
    expect(saved.server.pinnedFingerprint.replace(/:/g, '').toLowerCase()).toBe(s.fingerprint.replace(/:/g, '').toLowerCase());
  }, 60_000);

  it('shows the binding, the job with its progress, asks for the passphrase, and ends restored', async () => {
    const targets = await s.admin.listTargets();
    const me = targets.find((t) => t.inventory?.disks.some((d) => d.path === target) === true);
    if (me === undefined) throw new Error(`the appliance did not register: ${JSON.stringify(targets)}`);
    expect(me.firmware).toBe('uefi');
    await s.admin.bind(me.agentId);
    await tui.waitFor('Status: online, bound.');

    await s.admin.createJob({
      name: 'tui restore', agentId: me.agentId, schedule: { kind: 'now' },
      spec: {
        kind: 'restore', setId: backup.setId, pointId: backup.pointId,
        disks: [{ sourceDisk: 0, targetDisk: target, partitions: [], rebuild: 'full' }], options: DEFAULT_RESTORE_OPTIONS,
      },
    });
    const asked = await tui.waitFor('== Encrypted backup ==', 30_000);
    expect(asked.join('\n')).toContain('Job "tui restore" needs the backup set passphrase.');
    tui.type(PASSPHRASE);
    tui.keys('Enter');
    // Progress: a disk line with its bar while the data is written, then the outcome.
    await tui.waitFor((l) => l.some((row) => /^Disk 0 -> target\.img \[[#-]{20}\] \d+%$/.test(row)), 30_000);
    const end = await tui.waitFor(/Restore (succeeded|FAILED)/, 60_000);
    expect(end.join('\n'), end.join('\n')).toContain('Restore succeeded. Use Driver tools (F5) to reboot.');
    expect(end[0]).toContain('[Restore]');
    expect(end.join('\n')).toMatch(/Job: tui restore \(.+\)  State: SUCCEEDED/);
    expect(end.join('\n')).toMatch(/\[#{20}\] 100%/);

    const verify = await mustRun('sgdisk', ['-v', target]);
    expect(verify).toContain('No problems found');
    const table = async (path: string) => (await mustRun('sfdisk', ['--dump', path]))
      .split('\n').filter((l) => /label-id|start=/.test(l)).map((l) => l.replace(/^\S+?(\d+) :/, '$1 :'));
    expect(await table(target)).toEqual(await table(source.path));
  }, 120_000);
});
