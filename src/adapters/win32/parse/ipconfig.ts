/**
 * `ipconfig /all` (en-US; Windows XP through 11). Global settings come first, then one block per
 * adapter introduced by an unindented `<kind> adapter <name>:` line. Each setting is an indented,
 * dot-padded label, ` : ` (or ` :` when empty), and a value; list values (DNS servers, search
 * suffixes) continue on deeper-indented lines without a colon. Addresses may carry a status suffix
 * such as `(Preferred)` and IPv6 ones a zone (`%8`). Labels are localized on other languages, so the
 * typed fields below are en-US only; `fields` keeps everything as printed.
 */
import { isBlank, outputLines } from './text.ts';

export interface IpAddressEntry {
  readonly address: string;
  /** `Preferred`, `Deprecated`, `Tentative`, `Duplicate`, … when printed. */
  readonly status: string | undefined;
}

export interface IpconfigAdapter {
  /** `Ethernet`, `Wireless LAN`, `Tunnel`, `Unknown`, `PPP`, … */
  readonly kind: string;
  /** Connection name as Windows shows it (the name netsh wants). */
  readonly name: string;
  /** Label → values, as printed (labels without their dot padding). */
  readonly fields: Readonly<Record<string, readonly string[]>>;
  readonly description: string | undefined;
  /** `AA-BB-CC-DD-EE-FF`, or undefined when empty. */
  readonly physicalAddress: string | undefined;
  readonly mediaDisconnected: boolean;
  readonly dhcpEnabled: boolean | undefined;
  readonly ipv4: readonly IpAddressEntry[];
  readonly ipv6: readonly IpAddressEntry[];
  readonly subnetMasks: readonly string[];
  readonly defaultGateways: readonly string[];
  readonly dhcpServer: string | undefined;
  readonly dnsServers: readonly string[];
}

export interface IpconfigReport {
  readonly hostName: string | undefined;
  readonly globals: Readonly<Record<string, readonly string[]>>;
  readonly adapters: readonly IpconfigAdapter[];
}

/** `   Label . . . : value` → [label, value]; undefined for other lines. */
function setting(line: string): [string, string] | undefined {
  if (!/^\s/.test(line)) return undefined;
  const at = line.indexOf(' :');
  if (at < 0 || (line.length > at + 2 && line[at + 2] !== ' ')) return undefined;
  const label = line.slice(0, at).replace(/[ .]+$/, '').trim();
  return label === '' ? undefined : [label, line.slice(at + 2).trim()];
}

function addressEntry(value: string): IpAddressEntry {
  const m = /^(.*?)\(([A-Za-z]+)\)$/.exec(value);
  return m === null ? { address: value, status: undefined } : { address: m[1]!, status: m[2] };
}

type Fields = Record<string, string[]>;

function toAdapter(kind: string, name: string, fields: Fields): IpconfigAdapter {
  const all = (...labels: string[]) => labels.flatMap((l) => fields[l] ?? []).filter((v) => v !== '');
  const one = (label: string) => all(label)[0];
  const dhcp = one('DHCP Enabled');
  return {
    kind, name, fields,
    description: one('Description'),
    physicalAddress: one('Physical Address'),
    mediaDisconnected: one('Media State') === 'Media disconnected',
    dhcpEnabled: dhcp === 'Yes' ? true : dhcp === 'No' ? false : undefined,
    ipv4: all('IPv4 Address', 'IP Address', 'Autoconfiguration IPv4 Address').map(addressEntry),
    ipv6: all('IPv6 Address', 'Temporary IPv6 Address', 'Link-local IPv6 Address').map(addressEntry),
    subnetMasks: all('Subnet Mask'),
    defaultGateways: all('Default Gateway'),
    dhcpServer: one('DHCP Server'),
    dnsServers: all('DNS Servers'),
  };
}

export function parseIpconfigAll(stdout: string): IpconfigReport {
  const globals: Fields = Object.create(null) as Fields;
  const adapters: IpconfigAdapter[] = [];
  let fields = globals;
  let last: string | undefined;
  let pending: { kind: string; name: string; fields: Fields } | undefined;
  const flush = () => {
    if (pending !== undefined) adapters.push(toAdapter(pending.kind, pending.name, pending.fields));
  };
  for (const line of outputLines(stdout)) {
    if (isBlank(line)) continue;
    const header = /^(\S.*?) adapter (.*):\s*$/.exec(line);
    if (header !== null) {
      flush();
      pending = { kind: header[1]!, name: header[2]!, fields: Object.create(null) as Fields };
      fields = pending.fields;
      last = undefined;
      continue;
    }
    const kv = setting(line);
    if (kv !== undefined) {
      const [label, value] = kv;
      (fields[label] ??= []).push(value);
      last = label;
    } else if (/^\s/.test(line) && last !== undefined) {
      fields[last]!.push(line.trim());
    }
  }
  flush();
  return { hostName: globals['Host Name']?.[0], globals, adapters };
}
