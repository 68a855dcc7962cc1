// The app state driven by keys through the key map, as the view will drive it.
import { describe, expect, it } from 'vitest';
import { applyKey } from '../../../src/tui/keymap.ts';
import { initialApp, reduceApp, type AppAction, type AppState } from '../../../src/tui/state/app-state.ts';
import type { Effect } from '../../../src/tui/state/effects.ts';
import { focusIsValid, focusedControl } from '../../../src/tui/state/focus.ts';
import { keyContext } from '../../../src/tui/state/key-context.ts';
import { activeModal } from '../../../src/tui/state/screens.ts';
import { renderScreen, tabBarText } from '../../../src/tui/state/screen-text.ts';

class Session {
  app: AppState;
  effects: Effect[] = [];
  constructor(app = initialApp()) { this.app = app; }
  keys(...names: string[]): this {
    for (const full of names) this.take(applyKey(this.app, { full }));
    return this;
  }
  type(text: string): this {
    for (const ch of text) this.take(applyKey(this.app, { full: ch === ' ' ? 'space' : ch, ch }));
    return this;
  }
  event(a: AppAction): this { this.take(reduceApp(this.app, a)); return this; }
  private take(r: { state: AppState; effects: readonly Effect[] }): void {
    this.app = r.state;
    this.effects.push(...r.effects);
    expect(focusIsValid(this.app)).toBe(true);
  }
  get focus(): string { return focusedControl(this.app)?.id ?? 'tabbar'; }
}

const nics = [{ name: 'Ethernet0', mac: '52:54:00:12:34:56', link: 'up', ipv4: [], ipv6: [] }, { name: 'Ethernet1', mac: '52:54:00:12:34:57', link: 'up', ipv4: [], ipv6: [] }] as const;
const jobStarted: AppAction = { type: 'job/started', atMs: 0, job: { id: 'j1', name: 'web01' }, disks: [{ key: 'd0', label: 'Disk 0', bytesTotal: 100 }] };

describe('tabs', () => {
  it('shows the six tabs; Restore appears once a job started', () => {
    const s = new Session();
    expect(tabBarText(s.app)).toBe('  [Backup server]|IPv4|IPv6|Driver update|Driver tools|Command prompt');
    s.event(jobStarted);
    expect(tabBarText(s.app)).toBe('> Backup server|IPv4|IPv6|Driver update|Driver tools|Command prompt|[Restore]');
  });

  it('starts on the server address field, ready to type', () => {
    const s = new Session().type('10.0.0.5');
    expect(s.focus).toBe('address');
    expect(s.app.server.address).toBe('10.0.0.5');
  });

  it('Up focuses the tab bar from anywhere; Left/Right then switch tabs (wrapping)', () => {
    const s = new Session().keys('tab', 'tab', 'up');
    expect(s.focus).toBe('tabbar');
    s.keys('right');
    expect(s.app.tab).toBe('ipv4');
    s.keys('left', 'left');
    expect(s.app.tab).toBe('shell');
    expect(s.focus).toBe('tabbar');
  });

  it('Left/Right do nothing to tabs while a control has focus', () => {
    const s = new Session().keys('left', 'right');
    expect(s.app.tab).toBe('server');
  });

  it('F1-F6 jump to the six tabs and focus their first control', () => {
    const s = new Session();
    const expected = [['f2', 'ipv4', 'nic'], ['f3', 'ipv6', 'nic'], ['f4', 'driver-update', 'source'], ['f5', 'driver-tools', 'language'], ['f6', 'shell', 'open-shell'], ['f1', 'server', 'address']];
    for (const [key, tab, control] of expected) {
      s.keys(key as string);
      expect([s.app.tab, s.focus]).toEqual([tab, control]);
    }
  });

  it('brings the Restore tab to the front when a job starts', () => {
    const s = new Session().keys('f4').event(jobStarted);
    expect(s.app.tab).toBe('restore');
    expect(s.focus).toBe('tabbar');
  });
});

describe('focus ring', () => {
  it('Tab and Down walk the controls in order, then back to the tab bar', () => {
    const s = new Session();
    const seen = [s.focus];
    for (let i = 0; i < 6; i++) seen.push(s.keys(i % 2 === 0 ? 'tab' : 'down').focus);
    expect(seen).toEqual(['address', 'port', 'ssl', 'access-key', 'apply', 'start', 'tabbar']);
  });

  it('Esc leaves the page for the tab bar, Tab from the tab bar enters it again', () => {
    const s = new Session().keys('tab', 'escape');
    expect(s.focus).toBe('tabbar');
    s.keys('tab');
    expect(s.focus).toBe('address');
    s.keys('up', 'enter');
    expect(s.focus).toBe('address');
  });

  it('Shift+Tab goes back where a terminal reports it', () => {
    const s = new Session().keys('tab', 'tab', 'S-tab');
    expect(s.focus).toBe('port');
  });

  it('Space ticks SSL, and the port follows', () => {
    const s = new Session().keys('tab', 'tab', 'space');
    expect(s.app.server.port).toBe('60305');
    s.keys('enter');
    expect(s.app.server.port).toBe('50305');
  });

  it('Enter in a text field moves to the next control', () => {
    expect(new Session().type('x').keys('enter').focus).toBe('port');
  });

  it('Space in a text field types a space; Backspace erases', () => {
    const s = new Session().type('a b').keys('backspace');
    expect(s.app.server.address).toBe('a ');
  });

  it('keeps focus on an existing control when controls disappear', () => {
    // Focus the DNS field in static mode, then drop the static fields behind focus's back (as a
    // reload of settings could) and let the next action re-settle focus.
    const s = new Session().event({ type: 'network/nics', nics: [...nics] }).keys('f2', 'tab', 'tab', 'space');
    expect(s.app.ipv4.mode).toBe('static');
    s.keys('tab', 'tab', 'tab', 'tab');
    expect(s.focus).toBe('dns');
    s.app = { ...s.app, ipv4: { ...s.app.ipv4, mode: 'dhcp' } };
    s.event({ type: 'network/nics', nics: [...nics] });
    expect(focusIsValid(s.app)).toBe(true);
    expect(['apply', 'refresh', 'nics']).toContain(s.focus);
  });
});

describe('drop-downs', () => {
  const onIpv4 = (): Session => new Session().event({ type: 'network/nics', nics: [...nics] }).keys('f2');

  it('Left/Right move the choice of a closed drop-down', () => {
    const s = onIpv4();
    expect(s.app.ipv4.nic).toBe('Ethernet0');
    s.keys('right');
    expect(s.app.ipv4.nic).toBe('Ethernet1');
    s.keys('right');
    expect(s.app.ipv4.nic).toBe('Ethernet1');
    s.keys('left');
    expect(s.app.ipv4.nic).toBe('Ethernet0');
  });

  it('Space opens; Left/Right/Up/Down move the choice; Space keeps it', () => {
    const s = onIpv4().keys('space');
    expect(keyContext(s.app)).toBe('dropdown-open');
    s.keys('down');
    expect(s.app.ipv4.nic).toBe('Ethernet1');
    s.keys('space');
    expect(keyContext(s.app)).toBe('dropdown');
    expect(s.app.ipv4.nic).toBe('Ethernet1');
  });

  it('Esc closes an open drop-down and restores the choice it had', () => {
    const s = onIpv4().keys('enter', 'right', 'escape');
    expect(s.app.ipv4.nic).toBe('Ethernet0');
    expect(s.app.dropdown).toBeNull();
    expect(s.focus).toBe('nic');
  });

  it('Tab keeps the new choice and moves on', () => {
    const s = onIpv4().keys('space', 'right', 'tab');
    expect(s.app.ipv4.nic).toBe('Ethernet1');
    expect(s.focus).toBe('mode-dhcp');
  });

  it('switches the language from the Driver tools drop-down and asks to remember it', () => {
    const s = new Session().keys('f5', 'right');
    expect(s.app.lang).toBe('zh-CN');
    expect(s.effects).toEqual([{ type: 'save-language', lang: 'zh-CN' }]);
    expect(tabBarText(s.app)).toContain('[驱动工具]');
  });

  it('switches the language by action too', () => {
    const r = reduceApp(initialApp(), { type: 'set-language', lang: 'zh-CN' });
    expect(r.state.lang).toBe('zh-CN');
    expect(r.effects).toEqual([{ type: 'save-language', lang: 'zh-CN' }]);
    expect(reduceApp(r.state, { type: 'set-language', lang: 'zh-CN' }).effects).toEqual([]);
    expect(initialApp({ lang: 'zh-CN' }).lang).toBe('zh-CN');
  });
});

describe('dialogs', () => {
  it('the certificate question takes focus wherever the operator is, on Reject; Tab cycles; Esc rejects', () => {
    const s = new Session().type('10.0.0.5').keys('f4');
    s.event({ type: 'server/certificate', fingerprint: 'ab'.repeat(32), pinned: null });
    expect(activeModal(s.app)?.view.id).toBe('trust-certificate');
    expect(s.focus).toBe('trust-reject');
    s.keys('tab');
    expect(s.focus).toBe('trust-accept');
    s.keys('tab', 'f1', 'up');
    expect(s.app.tab).toBe('driver-update');
    expect(s.focus).toBe('trust-accept');
    s.keys('escape');
    expect(s.effects).toEqual([{ type: 'answer-certificate', fingerprint: 'ab'.repeat(32), trust: false }]);
    expect(activeModal(s.app)).toBeNull();
    expect(s.focus).toBe('source');
  });

  it('Reboot asks first; Enter on the default (No) does nothing; focus returns to the button', () => {
    const s = new Session().keys('f5', 'tab', 'space');
    expect(s.focus).toBe('confirm-no');
    s.keys('enter');
    expect(s.effects).toEqual([]);
    expect(s.focus).toBe('reboot');
    s.keys('space', 'left', 'enter');
    expect(s.effects).toEqual([{ type: 'reboot' }]);
  });

  it('a job starting under a dialog does not steal focus from it', () => {
    const s = new Session().keys('f5', 'tab', 'space').event(jobStarted);
    expect(s.app.tab).toBe('driver-tools');
    expect(s.focus).toBe('confirm-no');
  });

  it('the file browser: Up/Down move, Enter opens, the choice fills the path', () => {
    const s = new Session().keys('f4', 'tab', 'tab', 'space');
    expect(s.effects).toEqual([{ type: 'list-drives', owner: 'driver-update' }]);
    s.event({ type: 'browser/drives', owner: 'driver-update', drives: [
      { root: 'D:\\', label: 'CD', kind: 'cdrom', freeBytes: null, readOnly: true },
      { root: 'E:\\', label: 'USB', kind: 'removable', freeBytes: null, readOnly: false },
    ] });
    expect(keyContext(s.app)).toBe('modal-list');
    s.keys('down', 'enter');
    expect(s.effects.at(-1)).toEqual({ type: 'list-directory', owner: 'driver-update', path: 'E:\\' });
    s.event({ type: 'browser/listing', owner: 'driver-update', path: 'E:\\', entries: [{ name: 'netkvm', kind: 'dir' }] });
    s.keys('down', 'down', 'enter');
    s.event({ type: 'browser/listing', owner: 'driver-update', path: 'E:\\netkvm', entries: [] });
    s.keys('enter');
    expect(s.app.driverUpdate.path).toBe('E:\\netkvm');
    expect(activeModal(s.app)).toBeNull();
    expect(s.focus).toBe('open');
    s.keys('tab', 'space');
    expect(s.effects.at(-1)).toEqual({ type: 'load-driver', source: 'folder', path: 'E:\\netkvm' });
  });

  it('the passphrase prompt: typing is masked on screen, Enter submits', () => {
    const s = new Session().event(jobStarted).event({ type: 'job/passphrase-needed', attempt: 1 });
    expect(keyContext(s.app)).toBe('modal-text');
    s.type('open sesame').keys('enter');
    expect(s.effects).toEqual([{ type: 'provide-passphrase', jobId: 'j1', passphrase: 'open sesame' }]);
    expect(activeModal(s.app)).toBeNull();
  });

  it('masks secrets on screen', () => {
    const s = new Session().keys('tab', 'tab', 'tab').type('SECRETKEY');
    const screen = renderScreen(s.app).join('\n');
    expect(screen).not.toContain('SECRETKEY');
    expect(screen).toContain('*********');
  });
});

describe('effects from keys', () => {
  it('Apply and Start on the server tab', () => {
    const s = new Session().type('backup.lan').keys('tab', 'tab', 'tab', 'tab', 'space');
    expect(s.effects.map((e) => e.type)).toEqual(['save-server-settings']);
    s.keys('tab', 'enter');
    expect(s.effects.map((e) => e.type)).toEqual(['save-server-settings', 'start-agent']);
  });

  it('bad static IPv4: message in the status area, no effect', () => {
    const s = new Session().event({ type: 'network/nics', nics: [...nics] }).keys('f2', 'tab', 'tab', 'space', 'tab').type('192.168.1.300');
    s.keys('tab').type('24').keys('tab', 'tab', 'tab', 'space');
    expect(s.focus).toBe('apply');
    expect(s.effects).toEqual([]);
    expect(renderScreen(s.app)).toContain('Address: "192.168.1.300" is not an IPv4 address (like 192.168.1.10).');
  });

  it('Command prompt opens the shell', () => {
    expect(new Session().keys('f6', 'enter').effects).toEqual([{ type: 'open-shell' }]);
  });

  it('scrolls the log with PageUp and follows its tail again at End', () => {
    let s = new Session().event(jobStarted);
    for (let i = 0; i < 40; i++) s = s.event({ type: 'job/log', lines: [{ atMs: i * 1000, level: 'info', text: `line ${i}` }] });
    s.keys('tab');
    expect(s.focus).toBe('log');
    expect(renderScreen(s.app).join('\n')).toContain('line 39');
    s.keys('pageup', 'pageup', 'pageup', 'pageup', 'pageup', 'pageup');
    expect(renderScreen(s.app).join('\n')).toContain('line 0');
    expect(renderScreen(s.app).join('\n')).not.toContain('line 39');
    s.keys('end');
    s.event({ type: 'job/log', lines: [{ atMs: 99_000, level: 'info', text: 'line 40' }] });
    expect(renderScreen(s.app).join('\n')).toContain('line 40');
  });
});
