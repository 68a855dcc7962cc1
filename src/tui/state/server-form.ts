/**
 * Backup server tab: address (IP or DNS name), port, Enable SSL, optional Access Key, Apply, Start,
 * the status line, and the "trust this certificate?" dialog on first TLS contact.
 *
 * Port rule: 50305 plain, 60305 with SSL. Ticking or unticking SSL moves the port to the other
 * default only while it still shows the old default (or nothing); a port the operator typed stays.
 * Apply validates and saves. Start applies unsaved changes first, then starts the agent; it does
 * nothing while the agent already runs with these settings.
 */
import type { ModalView, Control, ControlAction, Result, TextEdit } from './controls.ts';
import { applyTextEdit, result } from './controls.ts';
import type { Effect } from './effects.ts';
import { msg, rawText, type Msg } from './i18n.ts';
import {
  agentActive, nextServerStatus, type JobLifecycle, type ServerEvent, type ServerStatus,
} from './server-status.ts';
import { isAccessKey, parsePort, parseServerAddress } from './validate.ts';

export const DEFAULT_PORT = 50305;
export const DEFAULT_TLS_PORT = 60305;

/** What Apply saves and Start connects with. */
export interface ServerSettings {
  readonly address: string;
  readonly port: number;
  readonly ssl: boolean;
  readonly accessKey: string;
  /** SHA-256 of the server certificate the operator trusted (TLS only). */
  readonly pinnedFingerprint: string | null;
}

export type ServerField = 'address' | 'port' | 'access-key';

export interface ServerFormState {
  readonly address: string;
  readonly port: string;
  readonly ssl: boolean;
  readonly accessKey: string;
  readonly saved: ServerSettings | null;
  /** Settings the running agent was started with. */
  readonly started: ServerSettings | null;
  readonly status: ServerStatus;
  readonly invalid: readonly ServerField[];
  readonly message: Msg | null;
}

export type ServerFormAction =
  | ControlAction
  | ServerEvent
  | JobLifecycle
  /** Settings from a file on the boot media (unattended restores); `autoStart` presses Start. */
  | { readonly type: 'server/settings-loaded'; readonly settings: ServerSettings; readonly autoStart: boolean };

export function initialServerForm(): ServerFormState {
  return {
    address: '', port: String(DEFAULT_PORT), ssl: false, accessKey: '',
    saved: null, started: null, status: { state: 'not-configured' }, invalid: [], message: null,
  };
}

const LABELS: Readonly<Record<ServerField, Msg>> = {
  address: msg('server.address'), port: msg('server.port'), 'access-key': msg('server.access-key'),
};

export function serverControls(s: ServerFormState): Control[] {
  return [
    { kind: 'text', id: 'address', label: LABELS.address, value: s.address, masked: false, invalid: s.invalid.includes('address') },
    { kind: 'text', id: 'port', label: LABELS.port, value: s.port, masked: false, invalid: s.invalid.includes('port') },
    { kind: 'checkbox', id: 'ssl', label: msg('server.ssl'), checked: s.ssl },
    { kind: 'text', id: 'access-key', label: LABELS['access-key'], value: s.accessKey, masked: true, invalid: s.invalid.includes('access-key'), hint: msg('server.access-key.hint') },
    { kind: 'button', id: 'apply', label: msg('button.apply') },
    { kind: 'button', id: 'start', label: msg('button.start') },
  ];
}

/** The trust dialog while the agent waits for the operator's answer. */
export function serverModal(s: ServerFormState): ModalView | null {
  if (s.status.state !== 'trust-pending') return null;
  const changed = s.status.pinned !== null;
  return {
    id: 'trust-certificate',
    title: msg(changed ? 'trust.title-changed' : 'trust.title'),
    lines: [
      msg(changed ? 'trust.changed' : 'trust.first', { address: s.started?.address ?? s.address }),
      msg('trust.fingerprint'),
      ...fingerprintLines(s.status.fingerprint).map(rawText),
      msg('trust.question'),
    ],
    controls: [
      { kind: 'button', id: 'trust-accept', label: msg('trust.accept') },
      { kind: 'button', id: 'trust-reject', label: msg('trust.reject') },
    ],
    initialFocus: 'trust-reject',
    cancel: 'trust-reject',
  };
}

/** "ab12…" or "AB:12:…" → upper-case byte pairs, 16 per line (47 columns). */
export function fingerprintLines(fingerprint: string): string[] {
  const pairs = fingerprint.replace(/[^0-9a-f]/gi, '').toUpperCase().match(/.{1,2}/g) ?? [];
  const lines: string[] = [];
  for (let i = 0; i < pairs.length; i += 16) lines.push(pairs.slice(i, i + 16).join(':'));
  return lines;
}

export function reduceServerForm(s: ServerFormState, a: ServerFormAction): Result<ServerFormState> {
  switch (a.type) {
    case 'control/edit': return result(edit(s, a.id, a.edit));
    case 'control/toggle': return result(a.id === 'ssl' ? toggleSsl(s) : s);
    case 'control/press': return press(s, a.id);
    case 'control/choose': case 'control/move': case 'control/pick': return result(s);
    case 'server/settings-loaded': {
      const loaded = fill(s, a.settings);
      return a.autoStart ? start(loaded) : result(loaded);
    }
    case 'server/error': {
      const status = nextServerStatus(s.status, a);
      const invalid: ServerField[] = a.code === 'auth.bad-access-key' ? ['access-key'] : [];
      return result({ ...s, status, invalid, message: null });
    }
    default: return result({ ...s, status: nextServerStatus(s.status, a) });
  }
}

function edit(s: ServerFormState, id: string, e: TextEdit): ServerFormState {
  if (id === 'address') return { ...s, address: applyTextEdit(s.address, e) };
  if (id === 'port') return { ...s, port: applyTextEdit(s.port, e, 5) };
  if (id === 'access-key') return { ...s, accessKey: applyTextEdit(s.accessKey, e) };
  return s;
}

function toggleSsl(s: ServerFormState): ServerFormState {
  const ssl = !s.ssl;
  const typed = s.port.trim();
  const oldDefault = String(s.ssl ? DEFAULT_TLS_PORT : DEFAULT_PORT);
  const port = typed === '' || typed === oldDefault ? String(ssl ? DEFAULT_TLS_PORT : DEFAULT_PORT) : s.port;
  return { ...s, ssl, port };
}

function fill(s: ServerFormState, settings: ServerSettings): ServerFormState {
  const status: ServerStatus = s.status.state === 'not-configured' ? { state: 'configured' } : s.status;
  return {
    ...s, address: settings.address, port: String(settings.port), ssl: settings.ssl, accessKey: settings.accessKey,
    saved: settings, status, invalid: [], message: msg('server.loaded'),
  };
}

function press(s: ServerFormState, id: string): Result<ServerFormState> {
  switch (id) {
    case 'apply': return apply(s);
    case 'start': return start(s);
    case 'trust-accept': return answerTrust(s, true);
    case 'trust-reject': return answerTrust(s, false);
    default: return result(s);
  }
}

type Checked = { readonly settings: ServerSettings } | { readonly invalid: ServerField[]; readonly message: Msg };

/** The form as settings, or every wrong field and a message naming the first. */
export function checkServerForm(s: ServerFormState): Checked {
  const invalid: ServerField[] = [];
  const problems: Msg[] = [];
  const addressText = s.address.trim();
  const address = parseServerAddress(addressText);
  if (addressText === '') { invalid.push('address'); problems.push(msg('invalid.required', { field: { key: 'server.address' } })); }
  else if (address === null) { invalid.push('address'); problems.push(msg('invalid.host', { field: { key: 'server.address' }, value: addressText })); }
  const port = parsePort(s.port.trim());
  if (port === null) { invalid.push('port'); problems.push(msg('invalid.port', { field: { key: 'server.port' } })); }
  if (!isAccessKey(s.accessKey)) { invalid.push('access-key'); problems.push(msg('invalid.access-key', { field: { key: 'server.access-key' } })); }
  const first = problems[0];
  if (first !== undefined || address === null || port === null) return { invalid, message: first ?? msg('invalid.form') };
  const sameServer = s.saved !== null && s.saved.address === address.text && s.saved.port === port;
  return {
    settings: {
      address: address.text, port, ssl: s.ssl, accessKey: s.accessKey,
      pinnedFingerprint: sameServer ? (s.saved?.pinnedFingerprint ?? null) : null,
    },
  };
}

function apply(s: ServerFormState): Result<ServerFormState> {
  const checked = checkServerForm(s);
  if ('invalid' in checked) return result({ ...s, invalid: checked.invalid, message: checked.message });
  const { settings } = checked;
  const status: ServerStatus = s.status.state === 'not-configured' ? { state: 'configured' } : s.status;
  const restartNeeded = agentActive(s.status) && s.started !== null && !sameSettings(s.started, settings);
  const next = { ...s, saved: settings, status, invalid: [], message: msg(restartNeeded ? 'server.saved-restart' : 'server.saved') };
  return result(next, [{ type: 'save-server-settings', settings }]);
}

function start(s: ServerFormState): Result<ServerFormState> {
  const checked = checkServerForm(s);
  if ('invalid' in checked) return result({ ...s, invalid: checked.invalid, message: checked.message });
  const { settings } = checked;
  const effects: Effect[] = [];
  if (s.saved === null || !sameSettings(s.saved, settings)) effects.push({ type: 'save-server-settings', settings });
  if (agentActive(s.status) && s.started !== null && sameSettings(s.started, settings)) {
    return result({ ...s, saved: settings, invalid: [], message: msg('server.already-started') }, effects);
  }
  effects.push({ type: 'start-agent', settings });
  const status: ServerStatus = { state: 'connecting', reason: null };
  return result({ ...s, saved: settings, started: settings, status, invalid: [], message: null }, effects);
}

function answerTrust(s: ServerFormState, trust: boolean): Result<ServerFormState> {
  if (s.status.state !== 'trust-pending') return result(s);
  const { fingerprint } = s.status;
  const answer: Effect = { type: 'answer-certificate', fingerprint, trust };
  if (!trust) {
    const status: ServerStatus = { state: 'error', code: 'tls.untrusted', detail: msg('trust.rejected') };
    return result({ ...s, status, message: null }, [answer]);
  }
  const base = s.started ?? s.saved;
  if (base === null) return result({ ...s, status: { state: 'connecting', reason: null } }, [answer]);
  const settings: ServerSettings = { ...base, pinnedFingerprint: fingerprint };
  const next = { ...s, saved: settings, started: settings, status: { state: 'connecting', reason: null } as const, message: msg('trust.pinned') };
  return result(next, [answer, { type: 'save-server-settings', settings }]);
}

export function sameSettings(a: ServerSettings, b: ServerSettings): boolean {
  return a.address === b.address && a.port === b.port && a.ssl === b.ssl && a.accessKey === b.accessKey
    && a.pinnedFingerprint === b.pinnedFingerprint;
}
