/**
 * Strict IPv4/IPv6 parsing for the netsh builders: what an operator types into the static-address
 * form is checked here, before any tool runs. IPv4 is dotted decimal with no leading zeros (some
 * Windows APIs read `010` as octal). IPv6 is RFC 4291 text (one `::`, optional dotted IPv4 tail), no zone.
 */

/** IPv4 address → 32-bit value, or undefined. */
export function parseIpv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const p of parts) {
    if (!/^(0|[1-9]\d{0,2})$/.test(p) || Number(p) > 255) return undefined;
    value = value * 256 + Number(p);
  }
  return value;
}

export function formatIpv4(value: number): string {
  return [24, 16, 8, 0].map((s) => (value >>> s) & 0xff).join('.');
}

/** Dotted mask → prefix length when the mask is contiguous ones; undefined otherwise. */
export function maskToPrefix(mask: string): number | undefined {
  const v = parseIpv4(mask);
  if (v === undefined) return undefined;
  for (let prefix = 0; prefix <= 32; prefix++) {
    if (prefixToMask(prefix) === v) return prefix;
  }
  return undefined;
}

export function prefixToMask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** IPv6 address → 8 groups of 16 bits, or undefined. */
export function parseIpv6(text: string): number[] | undefined {
  if (text.length > 45 || !/^[0-9a-fA-F:.]+$/.test(text)) return undefined;
  let head = text;
  const tail: number[] = [];
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.')) {
    const v4 = parseIpv4(text.slice(lastColon + 1));
    if (v4 === undefined) return undefined;
    tail.push(v4 >>> 16, v4 & 0xffff);
    head = text.slice(0, lastColon + 1);
    if (head.endsWith(':') && !head.endsWith('::')) head = head.slice(0, -1);
  }
  const halves = head.split('::');
  if (halves.length > 2) return undefined;
  const groups = (s: string): number[] | undefined => {
    if (s === '') return [];
    const out: number[] = [];
    for (const g of s.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      out.push(Number.parseInt(g, 16));
    }
    return out;
  };
  const left = groups(halves[0]!);
  const right = halves.length === 2 ? groups(halves[1]!) : [];
  if (left === undefined || right === undefined) return undefined;
  const known = left.length + right.length + tail.length;
  if (halves.length === 1) return known === 8 ? [...left, ...tail] : undefined;
  if (known > 7) return undefined;
  return [...left, ...new Array<number>(8 - known).fill(0), ...right, ...tail];
}

/** Why an IPv4 address cannot be a host's unicast address, or undefined when it can. */
export function ipv4HostProblem(value: number): string | undefined {
  const first = value >>> 24;
  if (value === 0) return 'the unspecified address 0.0.0.0';
  if (first === 0) return 'in 0.0.0.0/8 ("this network")';
  if (first === 127) return 'a loopback address';
  if (first >= 224 && first <= 239) return 'a multicast address';
  if (first >= 240) return 'a reserved or broadcast address';
  return undefined;
}

/** Why an IPv6 address cannot be a unicast address, or undefined when it can. */
export function ipv6UnicastProblem(groups: readonly number[]): string | undefined {
  if (groups.every((g) => g === 0)) return 'the unspecified address ::';
  if (groups.slice(0, 7).every((g) => g === 0) && groups[7] === 1) return 'the loopback address ::1';
  if ((groups[0]! & 0xff00) === 0xff00) return 'a multicast address';
  return undefined;
}
