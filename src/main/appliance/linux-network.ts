/**
 * Network adapters on a Linux host from `ip -j addr` (iproute2's JSON): name, MAC, link state and
 * addresses with their prefix. The loopback is left out: it is nothing to configure.
 */
import { RecoveryError } from '../../core/errors.ts';
import type { ProcessRunner } from '../../ports/process-runner.ts';
import type { Nic } from '../../tui/state/network-form.ts';

interface IpAddrInfo {
  readonly family?: string;
  readonly local?: string;
  readonly prefixlen?: number;
}

interface IpLink {
  readonly ifname?: string;
  readonly address?: string;
  readonly operstate?: string;
  readonly link_type?: string;
  readonly addr_info?: readonly IpAddrInfo[];
}

function addresses(info: readonly IpAddrInfo[], family: 'inet' | 'inet6'): string[] {
  return info.filter((a) => a.family === family && typeof a.local === 'string').map((a) => (a.prefixlen === undefined ? `${a.local}` : `${a.local}/${a.prefixlen}`));
}

export function parseIpAddrJson(stdout: string): Nic[] {
  let links: unknown;
  try { links = JSON.parse(stdout); } catch (e) {
    throw new RecoveryError('network.unreadable', `ip -j addr printed no JSON: ${(e as Error).message}`);
  }
  if (!Array.isArray(links)) throw new RecoveryError('network.unreadable', 'ip -j addr did not print a list of links');
  return (links as IpLink[])
    .filter((l) => typeof l.ifname === 'string' && l.link_type !== 'loopback')
    .map((l) => ({
      name: l.ifname ?? '',
      mac: (l.address ?? '').toUpperCase(),
      link: l.operstate === 'UP' ? 'up' : l.operstate === 'DOWN' ? 'down' : 'unknown',
      ipv4: addresses(l.addr_info ?? [], 'inet'),
      ipv6: addresses(l.addr_info ?? [], 'inet6'),
    }));
}

export async function listLinuxNics(runner: ProcessRunner): Promise<Nic[]> {
  const r = await runner.run('ip', ['-j', 'addr'], { timeoutMs: 10_000 });
  if (r.exitCode !== 0) throw new RecoveryError('network.unreadable', `ip -j addr failed (exit ${r.exitCode}): ${r.stderr.trim() || r.stdout.trim()}`);
  return parseIpAddrJson(r.stdout);
}
