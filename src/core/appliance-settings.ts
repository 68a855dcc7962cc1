/**
 * Settings of the appliance agent: the JSON file the ISO carries for unattended (VM) restores,
 * and the same values from the command line (`lifeline agent --headless`). docs/restore.md §7
 * documents every field. Pure: validation of untrusted JSON, address parsing, and the merge of file
 * and command-line values; reading the file is the caller's job.
 *
 * Rules:
 * 1. Unknown fields are refused (a typo must not silently drop a setting); errors are
 *    `settings.invalid` with `data.path` naming the field ("server.port", "disks[1]").
 * 2. The server port defaults to 50305, or 60305 with SSL (seed 000 §5.1).
 * 3. Command-line values override the file's, field by field; disks given on the command line
 *    replace the file's list.
 * 4. Disks are never implied: an agent without at least one disk is refused (`settings.no-disks`).
 */
import { RecoveryError } from './errors.ts';

export const SETTINGS_VERSION = 1 as const;
export const DEFAULT_PORT = 50305;
export const DEFAULT_SSL_PORT = 60305;
export const DEFAULT_POLL_SECONDS = 5;

export type SettingsFirmware = 'bios' | 'uefi';

export interface Ipv4Settings {
  readonly mode: 'dhcp' | 'static';
  readonly address?: string;
  readonly prefixLength?: number;
  readonly gateway?: string;
  readonly dns?: readonly string[];
}

export interface Ipv6Settings {
  readonly mode: 'auto' | 'static' | 'off';
  readonly address?: string;
  readonly prefixLength?: number;
  readonly gateway?: string;
  readonly dns?: readonly string[];
}

export interface ServerSettings {
  /** IPv4 address, IPv6 address or DNS name, optionally with ":port" ("[v6]:port" for IPv6). */
  readonly address: string;
  readonly port?: number;
  readonly ssl?: boolean;
  /** SHA-256 of the server's certificate: 64 hex digits, colons optional. */
  readonly fingerprint?: string;
  readonly accessKey?: string;
}

export interface ApplianceSettings {
  readonly version: typeof SETTINGS_VERSION;
  readonly server?: ServerSettings;
  /** The disks this agent offers as restore targets (device paths or image files). */
  readonly disks?: readonly string[];
  /** Disks that hold the boot media or a local backup copy: listed, never written. */
  readonly protectedDisks?: readonly string[];
  readonly firmware?: SettingsFirmware;
  /** Exit after one run. */
  readonly once?: boolean;
  readonly machineId?: string;
  readonly hostname?: string;
  /** Passphrase of encrypted sets, for jobs that carry none (unattended restores). */
  readonly passphrase?: string;
  readonly pollSeconds?: number;
  /** Applied by the WinPE appliance before it connects; the Linux agent leaves the host's network alone. */
  readonly network?: { readonly ipv4?: Ipv4Settings; readonly ipv6?: Ipv6Settings };
}

/** What the agent runs with, after the merge (rule 3). */
export interface AgentConfig {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly ssl: boolean;
  readonly fingerprint?: string;
  readonly accessKey?: string;
  readonly disks: readonly string[];
  readonly protectedDisks: readonly string[];
  readonly firmware?: SettingsFirmware;
  readonly once: boolean;
  readonly machineId?: string;
  readonly hostname?: string;
  readonly passphrase?: string;
  readonly pollSeconds: number;
}

function invalid(path: string, message: string, code = 'settings.invalid'): RecoveryError {
  return new RecoveryError(code, `settings ${path === '' ? '' : `"${path}" `}${message}`, { data: { path } });
}

const HOST_LABEL = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const FINGERPRINT = /^(?:[0-9a-fA-F]{64}|[0-9a-fA-F]{2}(?::[0-9a-fA-F]{2}){31})$/;

export function isIpv4(text: string): boolean {
  return IPV4.test(text);
}

export function isIpv6(text: string): boolean {
  const parts = text.split('::');
  if (parts.length > 2) return false;
  const groups = parts.flatMap((p) => (p === '' ? [] : p.split(':')));
  const ok = groups.every((g, i) => /^[0-9a-fA-F]{1,4}$/.test(g) || (i === groups.length - 1 && isIpv4(g)));
  const width = groups.reduce((n, g) => n + (g.includes('.') ? 2 : 1), 0);
  return ok && (parts.length === 2 ? width <= 7 : width === 8);
}

export function isHostname(text: string): boolean {
  return text.length <= 253 && text.split('.').every((l) => HOST_LABEL.test(l));
}

/** "10.0.0.5", "backup.lan:8080", "[fd00::5]:60305", "fd00::5" → host and port (rule 2). */
export function parseServerAddress(text: string, ssl: boolean, path = 'server.address'): { host: string; port: number } {
  const t = text.trim();
  const fallback = ssl ? DEFAULT_SSL_PORT : DEFAULT_PORT;
  let host = t;
  let portText: string | undefined;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(t);
  if (bracketed) {
    host = bracketed[1]!;
    portText = bracketed[2];
    if (!isIpv6(host)) throw invalid(path, `"${text}" holds no IPv6 address in its brackets`);
  } else if (t.split(':').length === 2) {
    [host, portText] = t.split(':') as [string, string];
  }
  if (!(isIpv4(host) || isIpv6(host) || isHostname(host))) throw invalid(path, `"${text}" is not an IP address or host name`);
  if (portText === undefined) return { host, port: fallback };
  const port = Number(portText);
  if (!/^\d{1,5}$/.test(portText) || port < 1 || port > 65535) throw invalid(path, `"${text}" has no valid port (1–65535)`);
  return { host, port };
}

export function serverUrl(host: string, port: number, ssl: boolean): string {
  return `${ssl ? 'https' : 'http'}://${isIpv6(host) ? `[${host}]` : host}:${port}`;
}

// ---------------------------------------------------------------- validation of the file

type Obj = Record<string, unknown>;

function object(v: unknown, path: string, keys: readonly string[]): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw invalid(path, 'must be an object');
  for (const key of Object.keys(v)) if (!keys.includes(key)) throw invalid(path === '' ? key : `${path}.${key}`, 'is not a known setting');
  return v as Obj;
}

function optional<T>(v: unknown, read: (v: unknown) => T): T | undefined {
  return v === undefined ? undefined : read(v);
}

function text(v: unknown, path: string, max = 1024): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > max || /[\u0000-\u001f]/.test(v)) throw invalid(path, `must be text of 1–${max} characters`);
  return v;
}

function bool(v: unknown, path: string): boolean {
  if (typeof v !== 'boolean') throw invalid(path, 'must be true or false');
  return v;
}

function int(v: unknown, path: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw invalid(path, `must be a whole number from ${min} to ${max}`);
  return v;
}

function list(v: unknown, path: string, item: (v: unknown, path: string) => string): string[] {
  if (!Array.isArray(v)) throw invalid(path, 'must be a list');
  return v.map((x, i) => item(x, `${path}[${i}]`));
}

function ip(v: unknown, path: string, family: 4 | 6): string {
  const s = text(v, path, 64);
  if (!(family === 4 ? isIpv4(s) : isIpv6(s))) throw invalid(path, `must be an IPv${family} address`);
  return s;
}

function compact<T extends Obj>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

function readStatic<M extends string>(v: unknown, path: string, family: 4 | 6, modes: readonly M[]) {
  const o = object(v, path, ['mode', 'address', 'prefixLength', 'gateway', 'dns']);
  if (!modes.includes(o.mode as M)) throw invalid(`${path}.mode`, `must be one of ${modes.map((m) => `"${m}"`).join(', ')}`);
  const mode = o.mode as M;
  const out = compact({
    mode,
    address: optional(o.address, (x) => ip(x, `${path}.address`, family)),
    prefixLength: optional(o.prefixLength, (x) => int(x, `${path}.prefixLength`, 1, family === 4 ? 32 : 128)),
    gateway: optional(o.gateway, (x) => ip(x, `${path}.gateway`, family)),
    dns: optional(o.dns, (x) => list(x, `${path}.dns`, (y, p) => ip(y, p, family))),
  });
  if (mode === 'static' && (out.address === undefined || out.prefixLength === undefined)) throw invalid(`${path}.address`, 'and prefixLength are required for a static address');
  return out;
}

function readServer(v: unknown): ServerSettings {
  const o = object(v, 'server', ['address', 'port', 'ssl', 'fingerprint', 'accessKey']);
  const ssl = optional(o.ssl, (x) => bool(x, 'server.ssl'));
  const address = text(o.address, 'server.address', 300);
  parseServerAddress(address, ssl ?? false);
  const fingerprint = optional(o.fingerprint, (x) => text(x, 'server.fingerprint', 95));
  if (fingerprint !== undefined && !FINGERPRINT.test(fingerprint)) throw invalid('server.fingerprint', 'must be 64 hex digits (SHA-256), colons optional');
  return compact({
    address, ssl, fingerprint,
    port: optional(o.port, (x) => int(x, 'server.port', 1, 65535)),
    accessKey: optional(o.accessKey, (x) => text(x, 'server.accessKey', 512)),
  });
}

/** A typed settings object from untrusted JSON (already parsed), or `settings.invalid` (rule 1). */
export function parseApplianceSettings(json: unknown): ApplianceSettings {
  const keys = ['version', 'server', 'disks', 'protectedDisks', 'firmware', 'once', 'machineId', 'hostname', 'passphrase', 'pollSeconds', 'network'];
  const o = object(json, '', keys);
  if (o.version !== SETTINGS_VERSION) throw invalid('version', `must be ${SETTINGS_VERSION} (this build reads version ${SETTINGS_VERSION})`);
  const firmware = o.firmware;
  if (firmware !== undefined && firmware !== 'bios' && firmware !== 'uefi') throw invalid('firmware', 'must be "bios" or "uefi"');
  const network = optional(o.network, (v) => {
    const n = object(v, 'network', ['ipv4', 'ipv6']);
    return compact({
      ipv4: optional(n.ipv4, (x) => readStatic(x, 'network.ipv4', 4, ['dhcp', 'static'] as const)),
      ipv6: optional(n.ipv6, (x) => readStatic(x, 'network.ipv6', 6, ['auto', 'static', 'off'] as const)),
    });
  });
  return compact<ApplianceSettings & Obj>({
    version: SETTINGS_VERSION,
    server: optional(o.server, readServer),
    disks: optional(o.disks, (v) => list(v, 'disks', (x, p) => text(x, p))),
    protectedDisks: optional(o.protectedDisks, (v) => list(v, 'protectedDisks', (x, p) => text(x, p))),
    firmware: firmware as SettingsFirmware | undefined,
    once: optional(o.once, (v) => bool(v, 'once')),
    machineId: optional(o.machineId, (v) => text(v, 'machineId', 128)),
    hostname: optional(o.hostname, (v) => text(v, 'hostname', 255)),
    passphrase: optional(o.passphrase, (v) => text(v, 'passphrase', 1024)),
    pollSeconds: optional(o.pollSeconds, (v) => int(v, 'pollSeconds', 1, 3600)),
    network,
  });
}

/** Command-line values; each present one overrides the file (rule 3). */
export interface AgentFlags {
  readonly server?: string;
  readonly ssl?: boolean;
  readonly fingerprint?: string;
  readonly accessKey?: string;
  readonly disks?: readonly string[];
  readonly protectedDisks?: readonly string[];
  readonly firmware?: SettingsFirmware;
  readonly once?: boolean;
}

export function resolveAgentConfig(file: ApplianceSettings | undefined, flags: AgentFlags): AgentConfig {
  const ssl = flags.ssl === true || (file?.server?.ssl ?? false);
  const address = flags.server ?? file?.server?.address;
  if (address === undefined) throw invalid('server.address', 'is required: give --server HOST[:PORT] or a settings file with server.address', 'settings.no-server');
  const parsed = parseServerAddress(address, ssl, flags.server === undefined ? 'server.address' : '--server');
  const explicitPort = flags.server === undefined ? file?.server?.port : undefined;
  const port = explicitPort ?? parsed.port;
  const disks = flags.disks !== undefined && flags.disks.length > 0 ? [...flags.disks] : [...(file?.disks ?? [])];
  if (disks.length === 0) throw invalid('disks', 'must name at least one disk: give --disk PATH (disks are never taken implicitly)', 'settings.no-disks');
  const fingerprint = flags.fingerprint ?? file?.server?.fingerprint;
  if (fingerprint !== undefined && !FINGERPRINT.test(fingerprint)) throw invalid('--fingerprint', 'must be 64 hex digits (SHA-256), colons optional');
  const accessKey = flags.accessKey ?? file?.server?.accessKey;
  const firmware = flags.firmware ?? file?.firmware;
  return compact({
    url: serverUrl(parsed.host, port, ssl), host: parsed.host, port, ssl, fingerprint, accessKey, disks,
    protectedDisks: [...(flags.protectedDisks ?? []), ...(file?.protectedDisks ?? [])],
    firmware,
    once: flags.once === true || (file?.once ?? false),
    machineId: file?.machineId, hostname: file?.hostname, passphrase: file?.passphrase,
    pollSeconds: file?.pollSeconds ?? DEFAULT_POLL_SECONDS,
  });
}
