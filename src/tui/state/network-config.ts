/**
 * A static IPv4 or IPv6 configuration as typed, checked field by field. Every problem names its
 * field; nothing is applied unless all fields pass. Addresses leave here in canonical text
 * (no leading zeros, RFC 5952 for IPv6) so netsh gets exactly one spelling.
 */
import { msg, type Msg, type MsgKey } from './i18n.ts';
import {
  formatIPv4, formatIPv6, ipv4HostProblem, ipv4Network, ipv6GatewayReachable, ipv6HostProblem, parseIPv4,
  parseIPv4Prefix, parseIPv6, parseIPv6Prefix, prefixToMask, sameIPv4Subnet, splitList,
} from './validate.ts';

export type IpFamily = 4 | 6;

export type NetworkConfig =
  | { readonly family: IpFamily; readonly mode: 'dhcp' }
  | {
    readonly family: IpFamily;
    readonly mode: 'static';
    readonly address: string;
    readonly prefixLength: number;
    /** IPv4 only: the same prefix as a dotted mask, which netsh also accepts. */
    readonly mask: string | null;
    readonly gateway: string | null;
    readonly dns: readonly string[];
  };

export type NetworkField = 'address' | 'prefix' | 'gateway' | 'dns';

export interface StaticInput {
  readonly address: string;
  readonly prefix: string;
  readonly gateway: string;
  readonly dns: string;
}

export interface FieldProblem {
  readonly field: NetworkField;
  readonly message: Msg;
}

export type CheckedStatic =
  | { readonly config: NetworkConfig; readonly problems?: undefined }
  | { readonly problems: readonly FieldProblem[] };

/** At most this many DNS servers (netsh takes a primary and alternates). */
export const MAX_DNS_SERVERS = 3;

export function fieldLabel(family: IpFamily, field: NetworkField): MsgKey {
  if (field === 'prefix') return family === 4 ? 'net.prefix4' : 'net.prefix6';
  return field === 'address' ? 'net.address' : field === 'gateway' ? 'net.gateway' : 'net.dns';
}

function problem(family: IpFamily, field: NetworkField, key: MsgKey, params: Record<string, string> = {}): FieldProblem {
  return { field, message: msg(key, { ...params, field: { key: fieldLabel(family, field) } }) };
}

export function checkStaticIPv4(input: StaticInput): CheckedStatic {
  const p: FieldProblem[] = [];
  const addressText = input.address.trim();
  const prefixText = input.prefix.trim();
  const gatewayText = input.gateway.trim();
  const address = parseIPv4(addressText);
  const parsedPrefix = parseIPv4Prefix(prefixText);
  const prefix = parsedPrefix === 0 ? null : parsedPrefix;
  if (addressText === '') p.push(problem(4, 'address', 'invalid.required'));
  else if (address === null) p.push(problem(4, 'address', 'invalid.ipv4', { value: addressText }));
  if (prefixText === '') p.push(problem(4, 'prefix', 'invalid.required'));
  else if (prefix === null) p.push(problem(4, 'prefix', 'invalid.prefix4'));
  const subnet = address !== null && prefix !== null ? `${formatIPv4(ipv4Network(address, prefix))}/${prefix}` : '';
  if (address !== null && prefix !== null) {
    const why = ipv4HostProblem(address, prefix);
    if (why !== null) p.push(problem(4, 'address', hostProblemKey(why), { value: addressText, subnet }));
  }
  let gateway: number | null = null;
  if (gatewayText !== '') {
    gateway = parseIPv4(gatewayText);
    if (gateway === null) p.push(problem(4, 'gateway', 'invalid.ipv4', { value: gatewayText }));
    else if (address !== null && prefix !== null) {
      const why = ipv4HostProblem(gateway, prefix);
      if (gateway === address) p.push(problem(4, 'gateway', 'invalid.gateway-self'));
      else if (!sameIPv4Subnet(gateway, address, prefix)) p.push(problem(4, 'gateway', 'invalid.gateway-outside', { value: gatewayText, subnet }));
      else if (why !== null) p.push(problem(4, 'gateway', hostProblemKey(why), { value: gatewayText, subnet }));
    }
  }
  const dns = checkDns(4, input.dns, p);
  if (p.length > 0 || address === null || prefix === null) return { problems: p };
  return {
    config: {
      family: 4, mode: 'static', address: formatIPv4(address), prefixLength: prefix, mask: prefixToMask(prefix),
      gateway: gateway === null ? null : formatIPv4(gateway), dns,
    },
  };
}

export function checkStaticIPv6(input: StaticInput): CheckedStatic {
  const p: FieldProblem[] = [];
  const addressText = input.address.trim();
  const prefixText = input.prefix.trim();
  const gatewayText = input.gateway.trim();
  const address = parseIPv6(addressText);
  const parsedPrefix = parseIPv6Prefix(prefixText);
  const prefix = parsedPrefix === 0 ? null : parsedPrefix;
  if (addressText === '') p.push(problem(6, 'address', 'invalid.required'));
  else if (address === null) p.push(problem(6, 'address', 'invalid.ipv6', { value: addressText }));
  else if (ipv6HostProblem(address) !== null) p.push(problem(6, 'address', 'invalid.reserved', { value: addressText }));
  if (prefixText === '') p.push(problem(6, 'prefix', 'invalid.required'));
  else if (prefix === null) p.push(problem(6, 'prefix', 'invalid.prefix6'));
  let gateway = null;
  if (gatewayText !== '') {
    gateway = parseIPv6(gatewayText);
    if (gateway === null) p.push(problem(6, 'gateway', 'invalid.ipv6', { value: gatewayText }));
    else if (address !== null && prefix !== null) {
      const subnet = `${formatIPv6(maskIPv6(address, prefix))}/${prefix}`;
      if (formatIPv6(gateway) === formatIPv6(address)) p.push(problem(6, 'gateway', 'invalid.gateway-self'));
      else if (!ipv6GatewayReachable(gateway, address, prefix)) p.push(problem(6, 'gateway', 'invalid.gateway-outside', { value: gatewayText, subnet }));
    }
  }
  const dns = checkDns(6, input.dns, p);
  if (p.length > 0 || address === null || prefix === null) return { problems: p };
  return {
    config: {
      family: 6, mode: 'static', address: formatIPv6(address), prefixLength: prefix, mask: null,
      gateway: gateway === null ? null : formatIPv6(gateway), dns,
    },
  };
}

function hostProblemKey(why: 'reserved' | 'network' | 'broadcast'): MsgKey {
  return why === 'reserved' ? 'invalid.reserved' : why === 'network' ? 'invalid.network-address' : 'invalid.broadcast-address';
}

function checkDns(family: IpFamily, text: string, p: FieldProblem[]): string[] {
  const items = splitList(text);
  if (items.length > MAX_DNS_SERVERS) {
    p.push(problem(family, 'dns', 'invalid.dns-count', { max: String(MAX_DNS_SERVERS) }));
    return [];
  }
  const out: string[] = [];
  for (const item of items) {
    const v4 = family === 4 ? parseIPv4(item) : null;
    const v6 = family === 6 ? parseIPv6(item) : null;
    if (v4 !== null) out.push(formatIPv4(v4));
    else if (v6 !== null) out.push(formatIPv6(v6));
    else {
      p.push(problem(family, 'dns', family === 4 ? 'invalid.ipv4' : 'invalid.ipv6', { value: item }));
      break;
    }
  }
  return out;
}

function maskIPv6(a: readonly number[], prefix: number): number[] {
  return a.map((g, i) => {
    const bits = Math.max(0, Math.min(16, prefix - i * 16));
    return bits === 0 ? 0 : g & ((0xffff << (16 - bits)) & 0xffff);
  });
}
