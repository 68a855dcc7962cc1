// `lifeline appliance --simulate` in a real terminal (tmux, 80×25): the first screen, the recovery
// CD's key map key by key, the static IPv4 checks, Chinese at 80 columns, and the command prompt
// handing the console over and back. The sessions start together (each needs a few seconds to
// load) and every step waits for the screen, never a fixed sleep.
import { readFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatBytes } from '../../src/core/units.ts';
import { zhCN } from '../../src/tui/state/strings.ts';
import { FUNCTION_KEY_TABS, TAB_LABELS } from '../../src/tui/state/tabs.ts';
import { mustRun, tempDir } from '../helpers/run.ts';
import { hasTmux, lineWidths, TmuxSession } from './tmux.ts';

const repo = fileURLToPath(new URL('../..', import.meta.url));
/** Names the disk table gives the GPT types sfdisk reports. */
const TYPE_NAMES: Readonly<Record<string, string>> = {
  'C12A7328-F81F-11D2-BA4B-00A0C93EC93B': 'EFI System',
  'EBD0A0A2-B9E5-4433-87C0-68B6B72699C7': 'Basic data',
};

interface SfdiskJson {
  readonly partitiontable: { readonly label: string; readonly sectorsize: number; readonly partitions: readonly { readonly size: number; readonly type: string }[] };
}

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const TABS = ['Backup server', 'IPv4', 'IPv6', 'Driver update', 'Driver tools', 'Command prompt'];

if (!hasTmux) console.warn('test/tui skipped: tmux is not installed (apt-get install tmux)');

describe.skipIf(!hasTmux)('lifeline appliance in tmux', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let image: string;
  const sessions: Record<'keys' | 'apply' | 'ipv4' | 'chinese' | 'shell-xterm' | 'shell-windows-ansi', TmuxSession> = {} as never;

  const appliance = (args: string, term = 'xterm'): string => `env TERM=${term} SHELL=/bin/sh node bin/lifeline.mjs appliance --simulate ${args}`;

  beforeAll(async () => {
    dir = await tempDir('lifeline-tui-');
    image = join(dir.path, 'disk.img');
    await writeFile(image, '');
    await truncate(image, 32 * 1024 * 1024);
    await mustRun('sgdisk', ['-n', '1:2048:+8M', '-t', '1:ef00', '-n', '2:0:0', '-t', '2:0700', image]);
    sessions.keys = TmuxSession.start(appliance(''), { cwd: repo });
    sessions.apply = TmuxSession.start(appliance(`--state ${join(dir.path, 'state')} --disk ${image}`), { cwd: repo });
    sessions.ipv4 = TmuxSession.start(appliance(''), { cwd: repo });
    sessions.chinese = TmuxSession.start(appliance('--lang en'), { cwd: repo });
    // windows-ansi is what blessed uses in WinPE: no alternate screen, so the page must be cleared.
    sessions['shell-xterm'] = TmuxSession.start(appliance(''), { cwd: repo });
    sessions['shell-windows-ansi'] = TmuxSession.start(appliance('', 'windows-ansi'), { cwd: repo });
    await Promise.all(Object.values(sessions).map((s) => s.waitFor('Status: not configured', 30_000)));
  }, 60_000);

  afterAll(async () => {
    TmuxSession.killAll();
    await dir?.cleanup();
  });

  it('the first screen fits 80x25 and shows the tabs, with focus on the server address', () => {
    const lines = sessions.keys.screen();
    expect(lines.length).toBeLessThanOrEqual(25);
    expect(Math.max(...lineWidths(lines))).toBeLessThanOrEqual(80);
    expect(lines[0]).toBe(`  [${TABS[0]}]|${TABS.slice(1).join('|')}`);
    expect(lines[1]).toBe('-'.repeat(80));
    expect(sessions.keys.focusedRow(lines)).toMatch(/^> Server address +\[_ +\]/);
    expect(lines[24]).toContain('Type to edit');
  });

  it('follows the key map: Tab, Down, Space, Up to the tab bar, Left/Right, F1-F6, Enter once', async () => {
    const s = sessions.keys;
    s.keys('Tab');
    await s.waitFor((l) => s.focusedRow(l)?.startsWith('> Port') === true);
    s.keys('Down');
    await s.waitFor((l) => s.focusedRow(l) === '> [ ] Enable SSL (port 60305)');
    s.keys('Space');
    let lines = await s.waitFor((l) => s.focusedRow(l) === '> [x] Enable SSL (port 60305)');
    expect(lines.find((l) => l.includes('Port '))).toContain('[60305');
    s.keys('Up');
    await s.waitFor((l) => l[0] === `> [${TABS[0]}]|${TABS.slice(1).join('|')}`);
    s.keys('Right');
    await s.waitFor((l) => l[0]?.startsWith('> Backup server|[IPv4]|') === true);
    s.keys('Right');
    await s.waitFor((l) => l[0]?.includes('|[IPv6]|') === true);
    s.keys('Left', 'Left', 'Left');
    await s.waitFor((l) => l[0]?.endsWith('|[Command prompt]') === true);
    for (const [key, tab] of [['F4', 'Driver update'], ['F2', 'IPv4'], ['F6', 'Command prompt'], ['F3', 'IPv6'], ['F5', 'Driver tools'], ['F1', 'Backup server']] as const) {
      s.keys(key);
      await s.waitFor((l) => l[0]?.includes(`[${tab}]`) === true);
    }
    // Space presses a button: Get on Driver update lists the (simulated) drivers.
    s.keys('F4', 'Tab', 'Tab', 'Tab', 'Tab');
    await s.waitFor((l) => s.focusedRow(l)?.includes('>[ Get ]<') === true);
    s.keys('Space');
    await s.waitFor('0 driver(s) loaded.');
    // Enter reaches blessed as "return" then "enter": the dialog must open once, not open and close.
    s.keys('F5', 'Tab', 'Enter');
    lines = await s.waitFor('== Reboot ==');
    expect(s.focusedRow(lines)).toBe('>  [ Yes ]  >[ No ]<');
    s.keys('Escape');
    await s.waitFor((l) => !l.join('\n').includes('== Reboot =='));
  });

  it('Apply saves the typed server to the state folder; the disk table reads the --disk image', async () => {
    const s = sessions.apply;
    s.type('backup.example.net');
    s.keys('Tab', 'Tab', 'Tab', 'Tab');
    await s.waitFor((l) => s.focusedRow(l)?.includes('>[ Apply ]<') === true);
    s.keys('Space');
    await s.waitFor('Settings saved.');
    const saved = JSON.parse(await readFile(join(dir.path, 'state', 'appliance.json'), 'utf8')) as { server: unknown };
    expect(saved.server).toEqual({ address: 'backup.example.net', port: 50305, ssl: false, accessKey: '', pinnedFingerprint: null });
    s.keys('F5');
    const lines = await s.waitFor('EFI System');
    // What sfdisk reads from the same image, row by row.
    const table = (JSON.parse(await mustRun('sfdisk', ['--json', image])) as SfdiskJson).partitiontable;
    expect(lines.find((l) => l.startsWith('  0 '))).toMatch(new RegExp(`^ {2}0 +${escape(formatBytes(32 * 1024 * 1024))} +512/512 +File +${table.label.toUpperCase()} +disk\\.img$`));
    table.partitions.forEach((p, i) => {
      const row = lines.find((l) => l.startsWith(`   #${i + 1} `));
      expect(row).toMatch(new RegExp(`^ {3}#${i + 1} +${escape(formatBytes(p.size * table.sectorsize))} +${TYPE_NAMES[p.type]}$`));
    });
  });

  it('a bad static IPv4 address is refused with a message and nothing is applied; a good one is', async () => {
    const s = sessions.ipv4;
    s.keys('F2');
    await s.waitFor('192.168.10.50/24');
    s.keys('Tab', 'Tab', 'Space');
    await s.waitFor('(*) Static');
    s.keys('Tab');
    s.type('10.0.0.300');
    s.keys('Tab');
    s.type('24');
    s.keys('Tab', 'Tab', 'Tab');
    await s.waitFor((l) => s.focusedRow(l)?.includes('>[ Apply ]<') === true);
    s.keys('Space');
    let lines = await s.waitFor('is not an IPv4 address');
    expect(lines.join('\n')).toContain('Address: "10.0.0.300" is not an IPv4 address (like 192.168.1.10).');
    expect(lines.find((l) => l.includes('Address  '))).toMatch(/\[10\.0\.0\.300 +\]!/);
    expect(lines.join('\n')).toContain('192.168.10.50/24');
    expect(lines.join('\n')).not.toContain('Applied to');
    s.keys('Up', 'Tab', 'Tab', 'Tab', 'Tab', 'BSpace', 'BSpace', 'BSpace');
    s.type('30');
    s.keys('Tab', 'Tab', 'Tab', 'Tab', 'Space');
    lines = await s.waitFor('Applied to Ethernet.');
    await s.waitFor('10.0.0.30/24');
  });

  it('Chinese fits 80x25 on every tab and in a dialog, without wrapping', async () => {
    const s = sessions.chinese;
    s.keys('F5', 'Right');
    await s.waitFor('备份服务器');
    for (const [i, tab] of FUNCTION_KEY_TABS.entries()) {
      s.keys(`F${i + 1}`);
      const lines = await s.waitFor((l) => l[0]?.includes(`[${zhCN[TAB_LABELS[tab]]}]`) === true);
      expect(lines[1]).toBe('-'.repeat(80));
      expect(lines.length).toBeLessThanOrEqual(25);
      expect(Math.max(...lineWidths(lines))).toBeLessThanOrEqual(80);
      expect(lines[24]?.trim()).not.toBe('');
    }
    s.keys('F5', 'Tab', 'Space');
    const dialog = await s.waitFor((l) => l[2]?.startsWith('== ') === true);
    expect(dialog.join('\n')).toContain('重启');
    expect(Math.max(...lineWidths(dialog))).toBeLessThanOrEqual(80);
    s.keys('Escape');
  });

  it.each(['xterm', 'windows-ansi'] as const)('the command prompt takes over the console and gives it back (TERM=%s)', async (term) => {
    const s = sessions[`shell-${term}`];
    s.keys('F6');
    await s.waitFor((l) => s.focusedRow(l)?.includes('Open command prompt') === true);
    s.keys('Space');
    await s.waitFor((l) => !l.join('\n').includes('Open command prompt'));
    s.type('echo LIFELINE_$((6*7))');
    s.keys('Enter');
    const shell = await s.waitFor('LIFELINE_42');
    expect(shell.join('\n')).not.toMatch(/Backup server|Command prompt/);
    s.type('exit 3');
    s.keys('Enter');
    const lines = await s.waitFor('Command prompt closed (exit code 3).');
    expect(lines[0]).toContain('[Command prompt]');
    expect(lines.join('\n')).not.toContain('LIFELINE_42');
    // Keys reach the appliance again.
    s.keys('F1');
    await s.waitFor((l) => l[0]?.includes('[Backup server]') === true);
  });
});
