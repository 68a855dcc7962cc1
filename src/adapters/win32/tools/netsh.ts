/**
 * netsh commands for the appliance's network menus (syntax as in reference §3.5):
 *   netsh interface ipv4 set address name=<if> source=static address=<a> mask=<m> [gateway=<g> gwmetric=1]
 *   netsh interface ipv4 set address name=<if> source=dhcp
 *   netsh interface ipv4|ipv6 set dnsservers name=<if> source=static address=<dns> register=primary validate=no
 *   netsh interface ipv4|ipv6 add dnsservers name=<if> address=<dns> index=<n> validate=no
 *   netsh interface ipv4|ipv6 set dnsservers name=<if> source=dhcp
 *   netsh interface ipv6 add|delete address interface=<if> address=<a>/<prefix> | add|delete route ::/0 interface=<if> nexthop=<g>
 * Every address is validated here and refused with `tool.invalid-argument` before netsh runs.
 * Arguments are argv entries: `name=Ethernet 2` is one element (Node quotes it; netsh sees the same
 * argv as from `name="Ethernet 2"` typed in cmd). `validate=no` skips netsh's DNS reachability probe.
 */
import type { ProcessRunner } from '../../../ports/process-runner.ts';
import { formatIpv4, ipv4HostProblem, ipv6UnicastProblem, maskToPrefix, parseIpv4, parseIpv6, prefixToMask } from './ip-address.ts';
import { invalidArgument, runChecked } from './tool-error.ts';
import type { ToolCommand } from './tool-error.ts';
import { integerIn, plainText } from './validate.ts';

const TOOL = 'netsh';
const EXE = 'netsh.exe';

export interface StaticIpv4 {
  readonly iface: string;
  readonly address: string;
  /** Prefix length (24) or dotted mask (255.255.255.0). */
  readonly mask: number | string;
  readonly gateway?: string;
  readonly dnsServers?: readonly string[];
}

export interface StaticIpv6 {
  readonly iface: string;
  readonly address: string;
  readonly prefixLength: number;
  readonly gateway?: string;
  readonly dnsServers?: readonly string[];
}

function ifaceName(name: string): string {
  if (name.trim() === '') throw invalidArgument(TOOL, 'interface', name, 'the interface name is empty');
  return plainText(TOOL, 'interface', name, 256);
}

function ipv4(argument: string, text: string): number {
  const v = parseIpv4(text.trim());
  if (v === undefined) throw invalidArgument(TOOL, argument, text, 'not an IPv4 address (a.b.c.d, no leading zeros)');
  return v;
}

function ipv4Host(argument: string, text: string): number {
  const v = ipv4(argument, text);
  const problem = ipv4HostProblem(v);
  if (problem !== undefined) throw invalidArgument(TOOL, argument, text, `${problem} cannot be used`);
  return v;
}

function ipv4Prefix(mask: number | string): number {
  if (typeof mask === 'number') return integerIn(TOOL, 'prefix length', mask, 1, 32);
  const prefix = maskToPrefix(mask.trim());
  if (prefix === undefined || prefix === 0) throw invalidArgument(TOOL, 'mask', mask, 'not a contiguous subnet mask such as 255.255.255.0');
  return prefix;
}

function ipv6(argument: string, text: string): string {
  const groups = parseIpv6(text.trim());
  if (groups === undefined) throw invalidArgument(TOOL, argument, text, 'not an IPv6 address');
  const problem = ipv6UnicastProblem(groups);
  if (problem !== undefined) throw invalidArgument(TOOL, argument, text, `${problem} cannot be used`);
  return text.trim().toLowerCase();
}

const cmd = (...args: string[]): ToolCommand => ({ file: EXE, args: ['interface', ...args] });

/** set dnsservers for the first server, add dnsservers index=2… for the rest. */
function dnsCommands(family: 'ipv4' | 'ipv6', iface: string, servers: readonly string[]): ToolCommand[] {
  return servers.map((server, i) => i === 0
    ? cmd(family, 'set', 'dnsservers', `name=${iface}`, 'source=static', `address=${server}`, 'register=primary', 'validate=no')
    : cmd(family, 'add', 'dnsservers', `name=${iface}`, `address=${server}`, `index=${i + 1}`, 'validate=no'));
}

/** Static IPv4: address/mask/gateway, then DNS servers in order. */
export function staticIpv4Commands(c: StaticIpv4): ToolCommand[] {
  const iface = ifaceName(c.iface);
  const address = ipv4Host('address', c.address);
  const prefix = ipv4Prefix(c.mask);
  const mask = prefixToMask(prefix);
  const network = (address & mask) >>> 0;
  const broadcast = (network | (~mask >>> 0)) >>> 0;
  if (prefix <= 30 && (address === network || address === broadcast)) {
    throw invalidArgument(TOOL, 'address', c.address, `it is the ${address === network ? 'network' : 'broadcast'} address of /${prefix}`);
  }
  const args = ['ipv4', 'set', 'address', `name=${iface}`, 'source=static', `address=${formatIpv4(address)}`, `mask=${formatIpv4(mask)}`];
  if (c.gateway !== undefined && c.gateway.trim() !== '') {
    const gateway = ipv4Host('gateway', c.gateway);
    if (gateway === address) throw invalidArgument(TOOL, 'gateway', c.gateway, 'it is the address itself');
    if (((gateway & mask) >>> 0) !== network) throw invalidArgument(TOOL, 'gateway', c.gateway, `it is outside ${formatIpv4(network)}/${prefix}`);
    args.push(`gateway=${formatIpv4(gateway)}`, 'gwmetric=1');
  }
  const dns = (c.dnsServers ?? []).map((d) => formatIpv4(ipv4Host('dns server', d)));
  return [cmd(...args), ...dnsCommands('ipv4', iface, dns)];
}

/** Back to DHCP for the IPv4 address and DNS servers. */
export function dhcpIpv4Commands(ifaceText: string): ToolCommand[] {
  const iface = ifaceName(ifaceText);
  return [
    cmd('ipv4', 'set', 'address', `name=${iface}`, 'source=dhcp'),
    cmd('ipv4', 'set', 'dnsservers', `name=${iface}`, 'source=dhcp'),
  ];
}

/** Static IPv6: add the address, a default route through the gateway, then DNS servers. */
export function staticIpv6Commands(c: StaticIpv6): ToolCommand[] {
  const iface = ifaceName(c.iface);
  const address = ipv6('address', c.address);
  const prefix = integerIn(TOOL, 'prefix length', c.prefixLength, 1, 128);
  const out = [cmd('ipv6', 'add', 'address', `interface=${iface}`, `address=${address}/${prefix}`)];
  if (c.gateway !== undefined && c.gateway.trim() !== '') {
    const gateway = ipv6('gateway', c.gateway);
    if (gateway === address) throw invalidArgument(TOOL, 'gateway', c.gateway, 'it is the address itself');
    out.push(cmd('ipv6', 'add', 'route', '::/0', `interface=${iface}`, `nexthop=${gateway}`));
  }
  const dns = (c.dnsServers ?? []).map((d) => ipv6('dns server', d));
  return [...out, ...dnsCommands('ipv6', iface, dns)];
}

/** Removes a static IPv6 setup (address, default route) and returns DNS to automatic. */
export function automaticIpv6Commands(c: { iface: string; address?: string; gateway?: string }): ToolCommand[] {
  const iface = ifaceName(c.iface);
  const out: ToolCommand[] = [];
  if (c.address !== undefined) out.push(cmd('ipv6', 'delete', 'address', `interface=${iface}`, `address=${ipv6('address', c.address)}`));
  if (c.gateway !== undefined) out.push(cmd('ipv6', 'delete', 'route', '::/0', `interface=${iface}`, `nexthop=${ipv6('gateway', c.gateway)}`));
  out.push(cmd('ipv6', 'set', 'dnsservers', `name=${iface}`, 'source=dhcp'));
  return out;
}

/** Runs the commands in order; stops at the first failure (`tool.netsh-failed`). */
export async function runNetsh(runner: ProcessRunner, commands: readonly ToolCommand[], timeoutMs = 60_000): Promise<void> {
  for (const command of commands) {
    await runChecked(runner, command, { code: 'tool.netsh-failed', options: { timeoutMs } });
  }
}
