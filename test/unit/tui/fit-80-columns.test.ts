// 80×25 must be enough, in English and in Chinese (CJK counted 2 columns): every tab bar, label,
// button row, hint, dialog and message is rendered and measured with text-width.ts. Labels are
// never cut by the renderer, so a label that grows past the budget fails here.
import { describe, expect, it } from 'vitest';
import { applyKey } from '../../../src/tui/keymap.ts';
import { initialApp, reduceApp, type AppAction, type AppState } from '../../../src/tui/state/app-state.ts';
import type { DiskInfo } from '../../../src/tui/state/driver-tools.ts';
import { LANGS, translate, type Lang, type MsgParam } from '../../../src/tui/state/i18n.ts';
import { KEY_CONTEXTS } from '../../../src/tui/state/key-actions.ts';
import { SCREEN_COLUMNS, SCREEN_ROWS, renderScreen, tabBarText } from '../../../src/tui/state/screen-text.ts';
import { activeModal, screenView } from '../../../src/tui/state/screens.ts';
import { en, type MsgKey } from '../../../src/tui/state/strings.ts';
import { TABS } from '../../../src/tui/state/tabs.ts';
import { textWidth } from '../../../src/tui/state/text-width.ts';

function events(app: AppState, ...actions: AppAction[]): AppState {
  return actions.reduce((a, action) => reduceApp(a, action).state, app);
}

function keys(app: AppState, ...names: string[]): AppState {
  return names.reduce((a, full) => applyKey(a, { full, ...(full.length === 1 ? { ch: full } : {}) }).state, app);
}

const nics = [
  { name: 'Intel(R) Ethernet Connection I219-LM #2', mac: 'AA:BB:CC:DD:EE:FF', link: 'up', ipv4: ['192.168.100.200/24', '10.0.0.5/8'], ipv6: ['2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff/64'] },
  { name: 'Ethernet 2', mac: '00:15:5D:01:02:04', link: 'down', ipv4: [], ipv6: [] },
] as const;

const disks: DiskInfo[] = Array.from({ length: 4 }, (_, i) => ({
  number: i, model: 'SAMSUNG MZVL21T0HCLR-00BL2 with a long model name', sizeBytes: 1024n ** 4n, logicalSectorSize: 512, physicalSectorSize: 4096,
  bus: 'NVMe', style: 'gpt',
  partitions: Array.from({ length: 6 }, (_p, k) => ({ number: k + 1, sizeBytes: 123n * 1024n ** 3n, type: 'Microsoft basic data', letter: 'C', fileSystem: 'NTFS' })),
}));

const job: AppAction = {
  type: 'job/started', atMs: 0, job: { id: 'job-0123456789', name: 'Full restore of web01 to replacement hardware' },
  steps: ['prechecks', 'partition', 'data', 'drivers', 'boot', 'registry', 'scripts', 'report', 'extra-1', 'extra-2', 'extra-3', 'extra-4'],
  disks: Array.from({ length: 6 }, (_, i) => ({ key: `d${i}`, label: `Disk ${i} (931.5 GiB, NVMe) -> Disk ${i + 1} (953.9 GiB, NVMe)`, bytesTotal: 1e12 })),
};

/** Every screen in its fullest state, with each of its controls focused in turn. */
function fullestScreens(lang: Lang): [string, AppState][] {
  let app = events(initialApp({ lang }), { type: 'network/nics', nics: [...nics] }, { type: 'tools/disks', disks },
    { type: 'driver/list', drivers: Array.from({ length: 30 }, (_, i) => ({ publishedName: `oem${i}.inf`, originalName: 'netkvm-long-name.inf', className: 'Net', provider: 'Red Hat, Inc. and friends', version: '100.95.104.26200' })) },
    { type: 'server/error', code: 'auth.bad-access-key', message: 'the access key is unknown or revoked' });
  app = keys(app, 'f2', 'tab', 'tab', 'space', 'f3', 'tab', 'tab', 'space');
  app = { ...app, ipv4: { ...app.ipv4, address: '192.168.100.200', prefix: '255.255.255.0', gateway: '192.168.100.1', dns: '192.168.100.1, 8.8.8.8', invalid: ['address', 'prefix', 'gateway', 'dns'] } };
  const screens: [string, AppState][] = [];
  for (const tab of TABS.filter((t) => t !== 'restore')) {
    let s = focusOn(app, tab);
    for (let i = 0; i < 12; i++) {
      screens.push([`${tab} #${i}`, s]);
      // Open each drop-down once on the way.
      screens.push([`${tab} #${i} open`, keys(s, 'space')]);
      s = keys(s, 'tab');
    }
  }
  let running = events(app, job);
  for (let i = 0; i < 600; i++) running = events(running, { type: 'job/log', lines: [{ atMs: i * 1000, level: 'error', text: `line ${i} `.repeat(20) }] });
  for (let i = 0; i < 25; i++) running = events(running, { type: 'job/error', atMs: i, code: 'chunk.hash-mismatch', message: 'chunk 1f2e3d4c5b6a hash mismatch after 3 retries' });
  running = events(running, { type: 'job/step', id: 'partition', outcome: { state: 'skipped', reason: 'the layout on disk 1 is intact and was not recreated' } });
  screens.push(['restore running', running], ['restore log focused', keys(running, 'tab')]);
  screens.push(['restore failed', events(running, { type: 'job/finished', atMs: 1, outcome: 'failed', message: 'network connection lost for longer than the reconnect window' })]);
  // Dialogs.
  screens.push(['passphrase', keys(events(running, { type: 'job/passphrase-needed', attempt: 2, error: 'wrong passphrase for backup set web01-full' }), 'x', 'y')]);
  screens.push(['trust first', events(app, { type: 'server/certificate', fingerprint: 'ab'.repeat(32), pinned: null })]);
  screens.push(['trust changed', events(app, { type: 'server/certificate', fingerprint: 'ab'.repeat(32), pinned: 'cd'.repeat(32) })]);
  screens.push(['confirm reboot during a job', keys(focusOn(events(app, job), 'driver-tools'), 'tab', 'space')]);
  screens.push(['confirm shut down', keys(focusOn(app, 'driver-tools'), 'tab', 'tab', 'space')]);
  const browsing = events(keys(focusOn(app, 'driver-update'), 'tab', 'tab', 'space'),
    { type: 'browser/drives', owner: 'driver-update', drives: [{ root: 'E:\\', label: 'A VERY LONG VOLUME LABEL', kind: 'removable', freeBytes: 2 ** 40, readOnly: false }] });
  screens.push(['browser drives', browsing]);
  const listing = events(keys(browsing, 'enter'), { type: 'browser/listing', owner: 'driver-update', path: 'E:\\', entries: Array.from({ length: 50 }, (_, i) => ({ name: `folder-with-a-long-name-${i}`.repeat(3), kind: 'dir' as const })) });
  screens.push(['browser folder', listing], ['browser failed', events(keys(listing, 'down', 'enter'), { type: 'browser/failed', owner: 'driver-update', path: 'E:\\', message: 'The device is not ready.' })]);
  screens.push(['save logs', keys(focusOn(app, 'driver-tools'), 'tab', 'tab', 'tab', 'space')]);
  return screens;
}

function focusOn(app: AppState, tab: (typeof TABS)[number]): AppState {
  const fkey = ['server', 'ipv4', 'ipv6', 'driver-update', 'driver-tools', 'shell'].indexOf(tab);
  return fkey < 0 ? app : keys(app, `f${fkey + 1}`);
}

describe.each(LANGS)('80×25 in %s', (lang) => {
  it('the tab bar fits with every tab active and the Restore tab shown, focused or not', () => {
    let app = events(initialApp({ lang }), job);
    for (const _ of TABS) {
      for (const focused of [keys(app, 'up'), keys(app, 'tab')]) {
        expect(textWidth(tabBarText(focused)), tabBarText(focused)).toBeLessThanOrEqual(SCREEN_COLUMNS);
      }
      app = keys(app, 'up', 'right');
    }
  });

  it('every screen, dialog and focus position fits 80 columns and 25 rows', () => {
    const screens = fullestScreens(lang);
    expect(screens.length).toBeGreaterThan(100);
    for (const [name, app] of screens) {
      const rows = renderScreen(app);
      expect(rows.length, `${name}:\n${rows.join('\n')}`).toBeLessThanOrEqual(SCREEN_ROWS);
      for (const row of rows) expect(textWidth(row), `${name}: ${row}`).toBeLessThanOrEqual(SCREEN_COLUMNS);
    }
  });

  it('every table header fits its column', () => {
    for (const [name, app] of fullestScreens(lang)) {
      const modal = activeModal(app);
      const controls = modal === null ? screenView(app, app.tab).controls : modal.view.controls;
      for (const c of controls) {
        if (c.kind !== 'list') continue;
        for (const col of c.columns.filter((x) => x.width > 0)) {
          const header = translate(lang, col.header);
          expect(textWidth(header), `${name} ${c.id}: ${header}`).toBeLessThanOrEqual(col.width);
        }
      }
    }
  });

  it('every key hint fits one row', () => {
    for (const context of KEY_CONTEXTS) {
      const hint = translate(lang, { key: `hint.${context}` });
      expect(textWidth(hint), hint).toBeLessThanOrEqual(SCREEN_COLUMNS);
    }
  });

  it('every message fits one row with typical values', () => {
    const sample: Record<string, MsgParam> = {
      field: { key: 'server.address' }, value: '192.168.100.200', subnet: '192.168.100.0/24', name: 'Ethernet 2', detail: 'The parameter is incorrect.',
      path: 'E:\\drivers\\2k19\\amd64', count: 12, failed: 3, job: 'web01 full restore', address: 'backup.example.com', reason: 'ECONNRESET',
      code: 'auth.bad-access-key', drive: 'E:\\', where: 'E:\\drivers\\2k19', kind: { key: 'drive.removable' }, free: ' 12.5 GiB',
      label: 'Partition table', error: 'dism exited with 2', bar: '[####################]', percent: 100, network: '123.4 MB/s',
      disk: '123.4 MB/s', eta: '12:34:56', done: '123.4 GiB', total: '456.7 GiB', id: 'job-12', phase: { key: 'restore.phase.cancelled' },
      stage: 'Restore data', outcome: { key: 'job.outcome.cancelled' }, message: 'chunk 1f2e3d4c hash mismatch', first: 100, last: 120, max: 3,
    };
    for (const key of Object.keys(en) as MsgKey[]) {
      const text = translate(lang, { key, params: sample });
      expect(text, key).not.toMatch(/\{\w+\}/);
      expect(textWidth(text), `${key}: ${text}`).toBeLessThanOrEqual(SCREEN_COLUMNS);
    }
  });
});
