import { describe, expect, it } from 'vitest';
import type { ControlAction } from '../../../src/tui/state/controls.ts';
import { translate } from '../../../src/tui/state/i18n.ts';
import {
  DEFAULT_PORT, DEFAULT_TLS_PORT, fingerprintLines, initialServerForm, reduceServerForm, serverModal,
  type ServerFormAction, type ServerFormState, type ServerSettings,
} from '../../../src/tui/state/server-form.ts';
import { nextServerStatus, serverStatusText, type ServerStatus } from '../../../src/tui/state/server-status.ts';

function run(s: ServerFormState, ...actions: ServerFormAction[]) {
  let state = s;
  const effects = [];
  for (const a of actions) {
    const r = reduceServerForm(state, a);
    state = r.state;
    effects.push(...r.effects);
  }
  return { state, effects };
}

const press = (id: string): ControlAction => ({ type: 'control/press', id });
const toggleSsl: ControlAction = { type: 'control/toggle', id: 'ssl' };
const type = (id: string, text: string): ControlAction => ({ type: 'control/edit', id, edit: { kind: 'insert', text } });
const erase = (id: string, times: number): ControlAction[] => Array.from({ length: times }, () => ({ type: 'control/edit', id, edit: { kind: 'erase' } }) as const);

const withAddress = (address = '10.0.0.5'): ServerFormState => ({ ...initialServerForm(), address });
const en = (m: Parameters<typeof translate>[1] | null): string => (m === null ? '' : translate('en', m));

describe('Backup server: the SSL port rule', () => {
  it('starts on 50305 without SSL', () => {
    expect(initialServerForm().port).toBe('50305');
    expect(DEFAULT_PORT).toBe(50305);
    expect(DEFAULT_TLS_PORT).toBe(60305);
  });

  it('ticking Enable SSL switches 50305 to 60305, unticking switches back', () => {
    const on = run(initialServerForm(), toggleSsl).state;
    expect(on).toMatchObject({ ssl: true, port: '60305' });
    expect(run(on, toggleSsl).state).toMatchObject({ ssl: false, port: '50305' });
  });

  it('keeps a port the operator typed, ticking and unticking', () => {
    const typed = run(initialServerForm(), ...erase('port', 5), type('port', '8443')).state;
    expect(typed.port).toBe('8443');
    const on = run(typed, toggleSsl).state;
    expect(on).toMatchObject({ ssl: true, port: '8443' });
    expect(run(on, toggleSsl).state).toMatchObject({ ssl: false, port: '8443' });
  });

  it('keeps a port typed while SSL is on when unticking', () => {
    const on = run(initialServerForm(), toggleSsl, ...erase('port', 5), type('port', '443')).state;
    expect(run(on, toggleSsl).state).toMatchObject({ ssl: false, port: '443' });
  });

  it('treats a typed default or an empty field as not typed', () => {
    const retyped = run(initialServerForm(), ...erase('port', 5), type('port', '50305'), toggleSsl).state;
    expect(retyped.port).toBe('60305');
    const empty = run(initialServerForm(), ...erase('port', 5), toggleSsl).state;
    expect(empty.port).toBe('60305');
  });
});

describe('Backup server: Apply', () => {
  it('saves valid settings as an effect and moves the status to configured', () => {
    const { state, effects } = run(withAddress('backup.example.com'), toggleSsl, type('access-key', 'k3y-XYZ'), press('apply'));
    const settings: ServerSettings = { address: 'backup.example.com', port: 60305, ssl: true, accessKey: 'k3y-XYZ', pinnedFingerprint: null };
    expect(effects).toEqual([{ type: 'save-server-settings', settings }]);
    expect(state.saved).toEqual(settings);
    expect(state.status).toEqual({ state: 'configured' });
  });

  it('accepts IPv4, IPv6 (bracketed or not, stored canonical) and DNS names', () => {
    for (const [typed, stored] of [['192.168.1.10', '192.168.1.10'], ['[2001:DB8:0::10]', '2001:db8::10'], ['2001:db8::10', '2001:db8::10'], ['Backup-01.Corp.Local', 'backup-01.corp.local']]) {
      const { effects } = run(withAddress(typed), press('apply'));
      expect(effects, typed).toEqual([expect.objectContaining({ type: 'save-server-settings', settings: expect.objectContaining({ address: stored }) })]);
    }
  });

  it.each([
    ['', 'address', 'Server address: required.'],
    ['10.0.0.300', 'address', 'Server address: "10.0.0.300" is neither an IP address nor a DNS name.'],
    ['bad_name!', 'address', 'Server address: "bad_name!" is neither an IP address nor a DNS name.'],
  ])('refuses address %j with a message naming the field, and no effect', (address, field, message) => {
    const { state, effects } = run(withAddress(address), press('apply'));
    expect(effects).toEqual([]);
    expect(state.invalid).toEqual([field]);
    expect(en(state.message)).toBe(message);
    expect(state.saved).toBeNull();
  });

  it.each(['0', '65536', 'abc', ''])('refuses port %j', (port) => {
    const { state, effects } = run({ ...withAddress(), port }, press('apply'));
    expect(effects).toEqual([]);
    expect(state.invalid).toEqual(['port']);
    expect(en(state.message)).toBe('Port: a number from 1 to 65535.');
  });

  it('refuses an access key with spaces; an empty one is fine (single-tenant server)', () => {
    expect(run({ ...withAddress(), accessKey: 'a b' }, press('apply')).effects).toEqual([]);
    expect(run({ ...withAddress(), accessKey: '' }, press('apply')).effects).toHaveLength(1);
  });

  it('lists every bad field, names the first', () => {
    const { state } = run({ ...withAddress('x..y'), port: '99999', accessKey: 'a b' }, press('apply'));
    expect(state.invalid).toEqual(['address', 'port', 'access-key']);
    expect(en(state.message)).toMatch(/^Server address:/);
  });
});

describe('Backup server: Start', () => {
  it('applies unsaved changes first, then starts the agent', () => {
    const { state, effects } = run(withAddress(), press('start'));
    expect(effects.map((e) => e.type)).toEqual(['save-server-settings', 'start-agent']);
    expect(state.status).toEqual({ state: 'connecting', reason: null });
    expect(state.started).toEqual(state.saved);
  });

  it('does not save again when the form is unchanged since Apply', () => {
    const applied = run(withAddress(), press('apply')).state;
    expect(run(applied, press('start')).effects.map((e) => e.type)).toEqual(['start-agent']);
  });

  it('refuses to start with a bad form (no effect at all)', () => {
    const { state, effects } = run(withAddress(''), press('start'));
    expect(effects).toEqual([]);
    expect(state.status).toEqual({ state: 'not-configured' });
  });

  it('does nothing while the agent already runs with the same settings, restarts with new ones', () => {
    const running = run(withAddress(), press('start'), { type: 'server/registered', bound: false }).state;
    const again = run(running, press('start'));
    expect(again.effects).toEqual([]);
    expect(en(again.state.message)).toBe('Already started with these settings.');
    const changed = run(running, ...erase('address', 8), type('address', '10.0.0.6'), press('start'));
    expect(changed.effects.map((e) => e.type)).toEqual(['save-server-settings', 'start-agent']);
  });

  it('Apply while running says a restart is needed', () => {
    const running = run(withAddress(), press('start')).state;
    const { state } = run(running, ...erase('address', 1), type('address', '6'), press('apply'));
    expect(en(state.message)).toBe('Settings saved. Press Start to reconnect with them.');
  });

  it('presses Start by itself for settings loaded from the boot media with autoStart', () => {
    const settings: ServerSettings = { address: '10.1.1.1', port: 60305, ssl: true, accessKey: '', pinnedFingerprint: null };
    const { state, effects } = run(initialServerForm(), { type: 'server/settings-loaded', settings, autoStart: true });
    expect(effects).toEqual([{ type: 'start-agent', settings }]);
    expect(state).toMatchObject({ address: '10.1.1.1', port: '60305', ssl: true });
    expect(run(initialServerForm(), { type: 'server/settings-loaded', settings, autoStart: false }).effects).toEqual([]);
  });
});

describe('Backup server: status line', () => {
  const walk = (events: Parameters<typeof nextServerStatus>[1][]): ServerStatus =>
    events.reduce<ServerStatus>((s, e) => nextServerStatus(s, e), { state: 'configured' });

  it('goes connecting → online, not bound → bound → job running → done', () => {
    const states = [
      { type: 'server/connecting' }, { type: 'server/registered', bound: false }, { type: 'server/binding', bound: true },
      { type: 'job/started', job: { id: 'j1', name: 'web01' } }, { type: 'job/finished', outcome: 'succeeded' },
    ] as const;
    const seen = states.map((_, i) => walk(states.slice(0, i + 1) as never).state);
    expect(seen).toEqual(['connecting', 'online-unbound', 'bound', 'job-running', 'job-done']);
  });

  it('shows a failed job with the server words, or a fallback', () => {
    const failed = walk([{ type: 'job/started', job: { id: 'j1', name: 'web01' } }, { type: 'job/finished', outcome: 'failed', message: 'disk 1 too small' }]);
    expect(en(serverStatusText(failed))).toBe('Status: restore job "web01" FAILED: disk 1 too small');
    const cancelled = walk([{ type: 'job/started', job: { id: 'j1', name: 'web01' } }, { type: 'job/finished', outcome: 'cancelled' }]);
    expect(en(serverStatusText(cancelled))).toBe('Status: restore job "web01" FAILED: Restore cancelled.');
  });

  it('keeps the job outcome on a heartbeat that says bound; an unbind shows', () => {
    const done = walk([{ type: 'job/started', job: { id: 'j', name: 'n' } }, { type: 'job/finished', outcome: 'succeeded' }]);
    expect(nextServerStatus(done, { type: 'server/binding', bound: true }).state).toBe('job-done');
    expect(nextServerStatus(done, { type: 'server/binding', bound: false }).state).toBe('online-unbound');
    const running = walk([{ type: 'job/started', job: { id: 'j', name: 'n' } }]);
    expect(nextServerStatus(running, { type: 'server/binding', bound: false }).state).toBe('job-running');
  });

  it("shows the server's own words and code on errors, and marks the access key when it was refused", () => {
    const started = run(withAddress(), press('start')).state;
    const { state } = run(started, { type: 'server/error', code: 'auth.bad-access-key', message: 'the access key is unknown or revoked' });
    expect(en(serverStatusText(state.status))).toBe('Status: ERROR: the access key is unknown or revoked [auth.bad-access-key]');
    expect(state.invalid).toEqual(['access-key']);
    // Start again leaves the error state.
    expect(run(state, press('start')).effects.map((e) => e.type)).toEqual(['start-agent']);
  });

  it('says what broke while reconnecting', () => {
    const s = nextServerStatus({ state: 'bound' }, { type: 'server/connecting', reason: 'ECONNRESET' });
    expect(en(serverStatusText(s))).toBe('Status: reconnecting (ECONNRESET)');
  });
});

describe('Backup server: first TLS contact', () => {
  const fp = 'a1b2c3d4'.repeat(8);
  const asked = () => run(withAddress(), toggleSsl, press('start'), { type: 'server/certificate', fingerprint: fp, pinned: null }).state;

  it('asks to trust the certificate, showing the fingerprint, with Reject focused first', () => {
    const s = asked();
    expect(s.status.state).toBe('trust-pending');
    const modal = serverModal(s);
    expect(modal?.initialFocus).toBe('trust-reject');
    expect(modal?.cancel).toBe('trust-reject');
    const text = modal?.lines.map(en) ?? [];
    expect(text).toContain('A1:B2:C3:D4:A1:B2:C3:D4:A1:B2:C3:D4:A1:B2:C3:D4');
    expect(text[0]).toBe('The server 10.0.0.5 presents a certificate not seen before.');
  });

  it('Trust answers the agent, pins the fingerprint and saves it', () => {
    const { state, effects } = run(asked(), press('trust-accept'));
    expect(effects).toEqual([
      { type: 'answer-certificate', fingerprint: fp, trust: true },
      { type: 'save-server-settings', settings: expect.objectContaining({ pinnedFingerprint: fp, ssl: true, port: 60305 }) },
    ]);
    expect(state.saved?.pinnedFingerprint).toBe(fp);
    expect(state.status.state).toBe('connecting');
    expect(serverModal(state)).toBeNull();
    // The pin survives a later Apply of the same server, and is dropped for another server.
    expect(run(state, press('apply')).state.saved?.pinnedFingerprint).toBe(fp);
    expect(run(state, ...erase('address', 1), type('address', '9'), press('apply')).state.saved?.pinnedFingerprint).toBeNull();
  });

  it('Reject answers the agent and ends in an error state, pinning nothing', () => {
    const { state, effects } = run(asked(), press('trust-reject'));
    expect(effects).toEqual([{ type: 'answer-certificate', fingerprint: fp, trust: false }]);
    expect(state.status).toMatchObject({ state: 'error', code: 'tls.untrusted' });
    expect(state.saved?.pinnedFingerprint ?? null).toBeNull();
  });

  it('warns louder when a pinned certificate changed', () => {
    const s = run(withAddress(), toggleSsl, press('start'), { type: 'server/certificate', fingerprint: fp, pinned: 'ff'.repeat(32) }).state;
    expect(en(serverModal(s)?.title ?? { text: '' })).toBe('WARNING: server certificate changed');
  });

  it('prints a SHA-256 fingerprint as two lines of 16 bytes whatever the input spelling', () => {
    expect(fingerprintLines('ab:CD'.padEnd(5, '0') + 'ef'.repeat(30))).toHaveLength(2);
    expect(fingerprintLines('00'.repeat(32))).toEqual(['00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00', '00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00']);
  });
});
