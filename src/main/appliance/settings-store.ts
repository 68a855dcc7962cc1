/**
 * The appliance's settings on disk, in two places:
 *  - the state folder (`--state DIR`, file `appliance.json`): what Apply, Start, Trust and a
 *    language change saved, read at the next start:
 *      { "server": { "address": "10.0.0.5", "port": 50305, "ssl": false, "accessKey": "",
 *                    "pinnedFingerprint": null }, "language": "zh-CN" }
 *  - the boot media's settings file (`--settings FILE`, the format `lifeline agent --settings`
 *    reads, src/core/appliance-settings.ts) for unattended restores: a server in it is started at
 *    once, its network settings are applied first, its disks and firmware are the defaults.
 * Without a state folder, what Apply saves lives in memory for the session.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseApplianceSettings, parseServerAddress as parseSettingsAddress } from '../../core/appliance-settings.ts';
import type { ApplianceSettings as MediaFile, Ipv4Settings, Ipv6Settings } from '../../core/appliance-settings.ts';
import { RecoveryError } from '../../core/errors.ts';
import { parseLanguage, type Lang } from '../../tui/state/i18n.ts';
import type { NetworkConfig } from '../../tui/state/network-config.ts';
import type { ServerSettings } from '../../tui/state/server-form.ts';
import { isAccessKey, parsePort, parseServerAddress, prefixToMask } from '../../tui/state/validate.ts';

/** The state folder's settings. */
export interface ApplianceSettings {
  readonly server?: ServerSettings;
  readonly language?: Lang;
}

/** What the boot media's settings file gives the appliance. */
export interface MediaSettings {
  readonly server?: ServerSettings;
  readonly network: readonly NetworkConfig[];
  readonly disks: readonly string[];
  readonly protectedDisks: readonly string[];
  readonly firmware?: 'bios' | 'uefi';
  readonly passphrase?: string;
  readonly machineId?: string;
  /** Between polls for a run while waiting. */
  readonly pollSeconds?: number;
}

export const STATE_FILE = 'appliance.json';

function invalid(path: string, why: string): RecoveryError {
  return new RecoveryError('settings.invalid', `${path}: ${why}`, { data: { path } });
}

function serverSettings(value: unknown, path: string): ServerSettings {
  if (typeof value !== 'object' || value === null) throw invalid(path, '"server" must be an object');
  const v = value as Record<string, unknown>;
  const address = typeof v['address'] === 'string' ? parseServerAddress(v['address'].trim()) : null;
  if (address === null) throw invalid(path, '"server.address" must be an IP address or a DNS name');
  const ssl = v['ssl'] ?? false;
  if (typeof ssl !== 'boolean') throw invalid(path, '"server.ssl" must be true or false');
  const port = v['port'] === undefined ? (ssl ? 60305 : 50305) : parsePort(String(v['port']));
  if (port === null) throw invalid(path, '"server.port" must be a number from 1 to 65535');
  const accessKey = v['accessKey'] ?? '';
  if (typeof accessKey !== 'string' || !isAccessKey(accessKey)) throw invalid(path, '"server.accessKey" must be text without spaces');
  const pinned = v['pinnedFingerprint'] ?? null;
  if (pinned !== null && (typeof pinned !== 'string' || !/^([0-9a-f]{2}:?){32}$/i.test(pinned))) {
    throw invalid(path, '"server.pinnedFingerprint" must be a SHA-256 fingerprint (64 hex digits) or null');
  }
  return { address: address.text, port, ssl, accessKey, pinnedFingerprint: pinned };
}

/** Parse and check the state file's text; every mistake names the field. */
export function parseSettings(text: string, path: string): ApplianceSettings {
  let json: unknown;
  try { json = JSON.parse(text); } catch (e) { throw invalid(path, `not JSON: ${(e as Error).message}`); }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw invalid(path, 'must hold a JSON object');
  const v = json as Record<string, unknown>;
  const out: { server?: ServerSettings; language?: Lang } = {};
  if (v['server'] !== undefined) out.server = serverSettings(v['server'], path);
  if (v['language'] !== undefined) {
    const lang = typeof v['language'] === 'string' ? parseLanguage(v['language']) : null;
    if (lang === null) throw invalid(path, '"language" must be "en" or "zh-CN"');
    out.language = lang;
  }
  const unknown = Object.keys(v).find((k) => k !== 'server' && k !== 'language');
  if (unknown !== undefined) throw invalid(path, `"${unknown}" is not a known setting`);
  return out;
}

function networkConfig(family: 4, n: Ipv4Settings): NetworkConfig;
function networkConfig(family: 6, n: Ipv6Settings): NetworkConfig | null;
function networkConfig(family: 4 | 6, n: Ipv4Settings | Ipv6Settings): NetworkConfig | null {
  if (n.mode === 'off') return null;
  if (n.mode !== 'static' || n.address === undefined || n.prefixLength === undefined) return { family, mode: 'dhcp' };
  return {
    family, mode: 'static', address: n.address, prefixLength: n.prefixLength, mask: family === 4 ? prefixToMask(n.prefixLength) : null,
    gateway: n.gateway ?? null, dns: [...(n.dns ?? [])],
  };
}

/** The boot media's settings as the appliance uses them. */
export function mediaSettings(file: MediaFile): MediaSettings {
  let server: ServerSettings | undefined;
  if (file.server !== undefined) {
    const ssl = file.server.ssl ?? false;
    const { host, port } = parseSettingsAddress(file.server.address, ssl);
    server = { address: host, port: file.server.port ?? port, ssl, accessKey: file.server.accessKey ?? '', pinnedFingerprint: file.server.fingerprint ?? null };
  }
  const network: NetworkConfig[] = [];
  if (file.network?.ipv4 !== undefined) network.push(networkConfig(4, file.network.ipv4));
  const v6 = file.network?.ipv6 === undefined ? null : networkConfig(6, file.network.ipv6);
  if (v6 !== null) network.push(v6);
  return {
    ...(server === undefined ? {} : { server }), network, disks: file.disks ?? [], protectedDisks: file.protectedDisks ?? [],
    ...(file.firmware === undefined ? {} : { firmware: file.firmware }),
    ...(file.passphrase === undefined ? {} : { passphrase: file.passphrase }),
    ...(file.machineId === undefined ? {} : { machineId: file.machineId }),
    ...(file.pollSeconds === undefined ? {} : { pollSeconds: file.pollSeconds }),
  };
}

export async function readMediaSettings(path: string): Promise<MediaSettings> {
  let text: string;
  try { text = await readFile(path, 'utf8'); } catch (e) {
    throw new RecoveryError('settings.unreadable', `${path}: ${(e as Error).message}`, { data: { path }, cause: e });
  }
  let json: unknown;
  try { json = JSON.parse(text); } catch (e) { throw invalid(path, `not JSON: ${(e as Error).message}`); }
  return mediaSettings(parseApplianceSettings(json));
}

/** The state folder's settings, saved whole on every change (write to a temp file, then rename). */
export class SettingsStore {
  private current: ApplianceSettings;

  private constructor(private readonly dir: string | undefined, initial: ApplianceSettings) {
    this.current = initial;
  }

  /** Open the store of `dir` (created when missing), or an in-memory one without a folder. */
  static async open(dir: string | undefined): Promise<SettingsStore> {
    if (dir === undefined) return new SettingsStore(undefined, {});
    await mkdir(dir, { recursive: true });
    const path = join(dir, STATE_FILE);
    let text: string | undefined;
    try { text = await readFile(path, 'utf8'); } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new RecoveryError('settings.unreadable', `${path}: ${(e as Error).message}`, { data: { path } });
    }
    return new SettingsStore(dir, text === undefined ? {} : parseSettings(text, path));
  }

  get settings(): ApplianceSettings {
    return this.current;
  }

  get path(): string | undefined {
    return this.dir === undefined ? undefined : join(this.dir, STATE_FILE);
  }

  async saveServer(server: ServerSettings): Promise<void> {
    await this.write({ ...this.current, server });
  }

  async saveLanguage(language: Lang): Promise<void> {
    await this.write({ ...this.current, language });
  }

  private async write(next: ApplianceSettings): Promise<void> {
    const path = this.path;
    if (path !== undefined) {
      const temp = `${path}.tmp`;
      await writeFile(temp, `${JSON.stringify(next, null, 2)}\n`, 'utf8');
      await rename(temp, path);
    }
    this.current = next;
  }
}

/** What the appliance starts with: the state folder's saved server wins over the boot media's. */
export function startupSettings(saved: ApplianceSettings, media: MediaSettings | undefined): { server?: ServerSettings; autoStart: boolean; language?: Lang } {
  const language = saved.language === undefined ? {} : { language: saved.language };
  if (saved.server !== undefined) return { server: saved.server, autoStart: false, ...language };
  // A server on the boot media is there for an unattended restore: start it.
  if (media?.server !== undefined) return { server: media.server, autoStart: true, ...language };
  return { autoStart: false, ...language };
}
