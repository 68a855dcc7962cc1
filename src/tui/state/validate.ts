/**
 * What the operator types, checked before anything is applied: IPv4 and IPv6 addresses, prefix
 * length or mask, gateway in the subnet, DNS names, ports. Pure parsers: they return the value or
 * null and never guess (no leading-zero octets, which Windows would read as octal, no zone ids).
 * The forms turn a null into a message naming the field.
 */

// ---------------------------------------------------------------- IPv4

/** "192.168.1.10" → 32-bit unsigned number; null unless four decimal octets 0–255 without leading zeros. */
export function parseIPv4(text: string): number | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  let value = 0;
  for (const part of parts) {
    if (!/^(0|[1-9]\d{0,2})$/.test(part)) return null;
    const octet = Number(part);
    if (octet > 255) return null;
    value = value * 256 + octet;
  }
  return value;
}

export function formatIPv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

export function ipv4Mask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** 24 → "255.255.255.0". */
export function prefixToMask(prefix: number): string {
  return formatIPv4(ipv4Mask(prefix));
}

/** "255.255.255.0" → 24; null for anything but a contiguous mask. */
export function maskToPrefix(mask: string): number | null {
  const value = parseIPv4(mask);
  if (value === null) return null;
  for (let prefix = 0; prefix <= 32; prefix++) if (ipv4Mask(prefix) === value) return prefix;
  return null;
}

/** What the IPv4 prefix field takes: "24", "/24" or "255.255.255.0". Null when none of these. */
export function parseIPv4Prefix(text: string): number | null {
  const bare = text.startsWith('/') ? text.slice(1) : text;
  if (/^\d{1,2}$/.test(bare)) {
    const n = Number(bare);
    return n <= 32 ? n : null;
  }
  return text.includes('.') ? maskToPrefix(text) : null;
}

export function ipv4Network(address: number, prefix: number): number {
  return (address & ipv4Mask(prefix)) >>> 0;
}

export function ipv4Broadcast(address: number, prefix: number): number {
  return (ipv4Network(address, prefix) | (~ipv4Mask(prefix) >>> 0)) >>> 0;
}

export function sameIPv4Subnet(a: number, b: number, prefix: number): boolean {
  return ipv4Network(a, prefix) === ipv4Network(b, prefix);
}

/** Why an address cannot be a host's own address or gateway in this subnet; null when it can. */
export function ipv4HostProblem(address: number, prefix: number): 'reserved' | 'network' | 'broadcast' | null {
  const first = Math.floor(address / 2 ** 24);
  if (first === 0 || first === 127 || first >= 224) return 'reserved';
  if (prefix <= 30 && address === ipv4Network(address, prefix)) return 'network';
  if (prefix <= 30 && address === ipv4Broadcast(address, prefix)) return 'broadcast';
  return null;
}

// ---------------------------------------------------------------- IPv6

/** Eight 16-bit groups. */
export type IPv6Groups = readonly number[];

function parseGroups(text: string): number[] | null {
  if (text === '') return [];
  const groups: number[] = [];
  for (const g of text.split(':')) {
    if (!/^[0-9a-f]{1,4}$/i.test(g)) return null;
    groups.push(parseInt(g, 16));
  }
  return groups;
}

/** "2001:db8::10", "::ffff:192.0.2.1" → groups; null for anything else (zone ids and brackets included). */
export function parseIPv6(text: string): IPv6Groups | null {
  let s = text;
  const tail: number[] = [];
  const lastColon = s.lastIndexOf(':');
  if (lastColon < 0) return null;
  const last = s.slice(lastColon + 1);
  if (last.includes('.')) {
    // An embedded IPv4 address stands for the last two groups.
    const v4 = parseIPv4(last);
    if (v4 === null) return null;
    tail.push(Math.floor(v4 / 65536), v4 % 65536);
    s = s.slice(0, lastColon + 1);
    if (!s.endsWith('::')) s = s.slice(0, -1);
  }
  const halves = s.split('::');
  if (halves.length > 2) return null;
  if (halves.length === 1) {
    const all = parseGroups(s);
    return all !== null && all.length + tail.length === 8 ? [...all, ...tail] : null;
  }
  const head = parseGroups(halves[0] ?? '');
  const rest = parseGroups(halves[1] ?? '');
  if (head === null || rest === null) return null;
  const known = head.length + rest.length + tail.length;
  if (known > 7) return null;
  return [...head, ...new Array<number>(8 - known).fill(0), ...rest, ...tail];
}

/** RFC 5952 text: lower case, no leading zeros, the longest run of two or more zero groups as "::". */
export function formatIPv6(groups: IPv6Groups): string {
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < groups.length; ) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < groups.length && groups[j] === 0) j++;
    if (j - i > bestLength) { bestStart = i; bestLength = j - i; }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

/** What the IPv6 prefix field takes: "64" or "/64". */
export function parseIPv6Prefix(text: string): number | null {
  const bare = text.startsWith('/') ? text.slice(1) : text;
  if (!/^\d{1,3}$/.test(bare)) return null;
  const n = Number(bare);
  return n <= 128 ? n : null;
}

export function sameIPv6Subnet(a: IPv6Groups, b: IPv6Groups, prefix: number): boolean {
  for (let i = 0; i < 8; i++) {
    const bits = Math.max(0, Math.min(16, prefix - i * 16));
    const mask = bits === 0 ? 0 : (0xffff << (16 - bits)) & 0xffff;
    if (((a[i] ?? 0) & mask) !== ((b[i] ?? 0) & mask)) return false;
  }
  return true;
}

export function isIPv6LinkLocal(a: IPv6Groups): boolean {
  return ((a[0] ?? 0) & 0xffc0) === 0xfe80;
}

/** Why an address cannot be a host's static address; null when it can. */
export function ipv6HostProblem(a: IPv6Groups): 'reserved' | null {
  const unspecifiedOrLoopback = a.slice(0, 7).every((g) => g === 0) && ((a[7] ?? 0) === 0 || a[7] === 1);
  const multicast = ((a[0] ?? 0) & 0xff00) === 0xff00;
  return unspecifiedOrLoopback || multicast || isIPv6LinkLocal(a) ? 'reserved' : null;
}

/** A gateway may be in the subnet or, as routers usually advertise themselves, link-local. */
export function ipv6GatewayReachable(gateway: IPv6Groups, address: IPv6Groups, prefix: number): boolean {
  return isIPv6LinkLocal(gateway) || sameIPv6Subnet(gateway, address, prefix);
}

// ---------------------------------------------------------------- names, ports, keys

/**
 * A host name after RFC 1123: labels of 1–63 letters, digits and inner hyphens, 253 characters in
 * all, one trailing dot allowed. The last label is not all digits, so "10.0.0.300" is not a name.
 */
export function isDnsName(text: string): boolean {
  const name = text.endsWith('.') ? text.slice(0, -1) : text;
  if (name.length === 0 || name.length > 253) return false;
  const labels = name.split('.');
  if (!labels.every((l) => /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i.test(l))) return false;
  return !/^\d+$/.test(labels[labels.length - 1] ?? '');
}

/** "50305" → 50305; null unless 1–65535 written in decimal digits. */
export function parsePort(text: string): number | null {
  if (!/^\d{1,5}$/.test(text)) return null;
  const n = Number(text);
  return n >= 1 && n <= 65535 ? n : null;
}

export type ServerAddress = { readonly kind: 'ipv4' | 'ipv6' | 'dns'; readonly text: string };

/** The backup server's address: an IPv4 address, an IPv6 address (brackets allowed) or a DNS name. */
export function parseServerAddress(text: string): ServerAddress | null {
  if (parseIPv4(text) !== null) return { kind: 'ipv4', text };
  const unbracketed = /^\[.*\]$/.test(text) ? text.slice(1, -1) : text;
  const v6 = parseIPv6(unbracketed);
  if (v6 !== null) return { kind: 'ipv6', text: formatIPv6(v6) };
  return isDnsName(text) ? { kind: 'dns', text: text.toLowerCase() } : null;
}

/** Access keys are printable ASCII without spaces; empty means "single-tenant server, no key". */
export function isAccessKey(text: string): boolean {
  return /^[\x21-\x7e]{0,256}$/.test(text);
}

/** "a, b c" → ["a", "b", "c"]: DNS server lists may be separated by commas or spaces. */
export function splitList(text: string): string[] {
  return text.split(/[\s,;]+/).filter((s) => s !== '');
}
