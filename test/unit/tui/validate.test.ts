import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  formatIPv4, formatIPv6, ipv4Broadcast, ipv4HostProblem, ipv4Network, ipv6GatewayReachable, ipv6HostProblem,
  isAccessKey, isDnsName, maskToPrefix, parseIPv4, parseIPv4Prefix, parseIPv6, parseIPv6Prefix, parsePort,
  parseServerAddress, prefixToMask, sameIPv4Subnet, sameIPv6Subnet, splitList,
} from '../../../src/tui/state/validate.ts';

describe('IPv4 addresses', () => {
  it.each([
    ['0.0.0.0', 0], ['192.168.1.10', 0xc0a8010a], ['255.255.255.255', 0xffffffff], ['10.0.0.1', 0x0a000001],
  ])('parses %s', (text, value) => {
    expect(parseIPv4(text)).toBe(value);
    expect(formatIPv4(value)).toBe(text);
  });

  it.each(['', '1.2.3', '1.2.3.4.5', '256.1.1.1', '1.2.3.-1', '01.2.3.4', '1.2.3.4 ', ' 1.2.3.4', '1..2.3', 'a.b.c.d', '1.2.3.0x1', '1.2.3.1e1'])(
    'refuses %j (no leading zeros: Windows would read them as octal)', (text) => {
      expect(parseIPv4(text)).toBeNull();
    });

  it('formats and parses back every 32-bit value', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 0xffffffff }), (v) => parseIPv4(formatIPv4(v)) === v));
  });
});

describe('prefix and mask', () => {
  it.each([[0, '0.0.0.0'], [8, '255.0.0.0'], [20, '255.255.240.0'], [24, '255.255.255.0'], [30, '255.255.255.252'], [32, '255.255.255.255']])(
    '/%i is %s both ways', (prefix, mask) => {
      expect(prefixToMask(prefix)).toBe(mask);
      expect(maskToPrefix(mask)).toBe(prefix);
    });

  it('round-trips every prefix 0-32', () => {
    for (let p = 0; p <= 32; p++) expect(maskToPrefix(prefixToMask(p))).toBe(p);
  });

  it.each(['255.0.255.0', '255.255.255.1', '0.255.255.255', '255.255.256.0'])('refuses the non-contiguous or bad mask %s', (mask) => {
    expect(maskToPrefix(mask)).toBeNull();
  });

  it('takes "24", "/24" or a dotted mask in the prefix field', () => {
    expect(parseIPv4Prefix('24')).toBe(24);
    expect(parseIPv4Prefix('/24')).toBe(24);
    expect(parseIPv4Prefix('255.255.255.0')).toBe(24);
    expect(parseIPv4Prefix('33')).toBeNull();
    expect(parseIPv4Prefix('255.255.0.255')).toBeNull();
    expect(parseIPv4Prefix('')).toBeNull();
    expect(parseIPv4Prefix('abc')).toBeNull();
  });
});

describe('IPv4 subnets', () => {
  const a = (t: string): number => parseIPv4(t) ?? Number.NaN;

  it('finds network and broadcast', () => {
    expect(formatIPv4(ipv4Network(a('192.168.1.77'), 24))).toBe('192.168.1.0');
    expect(formatIPv4(ipv4Broadcast(a('192.168.1.77'), 24))).toBe('192.168.1.255');
    expect(formatIPv4(ipv4Broadcast(a('10.1.2.3'), 8))).toBe('10.255.255.255');
  });

  it('says whether a gateway is in the subnet', () => {
    expect(sameIPv4Subnet(a('192.168.1.1'), a('192.168.1.200'), 24)).toBe(true);
    expect(sameIPv4Subnet(a('192.168.2.1'), a('192.168.1.200'), 24)).toBe(false);
    expect(sameIPv4Subnet(a('192.168.2.1'), a('192.168.1.200'), 16)).toBe(true);
  });

  it('refuses network, broadcast and reserved addresses as hosts', () => {
    expect(ipv4HostProblem(a('192.168.1.0'), 24)).toBe('network');
    expect(ipv4HostProblem(a('192.168.1.255'), 24)).toBe('broadcast');
    expect(ipv4HostProblem(a('127.0.0.1'), 8)).toBe('reserved');
    expect(ipv4HostProblem(a('224.0.0.5'), 24)).toBe('reserved');
    expect(ipv4HostProblem(a('0.1.2.3'), 24)).toBe('reserved');
    expect(ipv4HostProblem(a('192.168.1.10'), 24)).toBeNull();
    // /31 point-to-point links use both addresses.
    expect(ipv4HostProblem(a('10.0.0.0'), 31)).toBeNull();
  });

  it('an address and its own subnet agree for every prefix (property)', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 32 }), (addr, p) =>
      sameIPv4Subnet(addr, ipv4Network(addr, p), p) && sameIPv4Subnet(addr, ipv4Broadcast(addr, p), p)));
  });
});

describe('IPv6 addresses', () => {
  it.each([
    ['2001:db8::10', '2001:db8::10'],
    ['2001:0DB8:0000:0000:0000:0000:0000:0010', '2001:db8::10'],
    ['::', '::'],
    ['::1', '::1'],
    ['fe80::1', 'fe80::1'],
    ['1::', '1::'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ['::ffff:192.0.2.1', '::ffff:c000:201'],
    ['64:ff9b::192.0.2.33', '64:ff9b::c000:221'],
    ['1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5:6:102:304'],
  ])('parses %s as %s (RFC 5952)', (text, canonical) => {
    const g = parseIPv6(text);
    expect(g).not.toBeNull();
    expect(formatIPv6(g ?? [])).toBe(canonical);
  });

  it.each(['', ':', ':::', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9', '1::2::3', '12345::', 'g::1', ':1:2:3:4:5:6:7', '1:2:3:4:5:6:7:',
    'fe80::1%eth0', '[::1]', '1.2.3.4', '::1.2.3', '1:2:3:4:5:6:7:1.2.3.4', '1:2:3:4:5:6:7:8::'])('refuses %j', (text) => {
    expect(parseIPv6(text)).toBeNull();
  });

  it('formats and parses back any eight groups (property)', () => {
    const group = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffff }));
    fc.assert(fc.property(fc.array(group, { minLength: 8, maxLength: 8 }), (groups) => {
      const text = formatIPv6(groups);
      expect(parseIPv6(text)).toEqual(groups);
      expect(text).not.toMatch(/::.*::/);
    }));
  });

  it('prefix, subnet, gateway', () => {
    const g = (t: string) => parseIPv6(t) ?? [];
    expect(parseIPv6Prefix('64')).toBe(64);
    expect(parseIPv6Prefix('/48')).toBe(48);
    expect(parseIPv6Prefix('129')).toBeNull();
    expect(sameIPv6Subnet(g('2001:db8:1::1'), g('2001:db8:1::ffff'), 64)).toBe(true);
    expect(sameIPv6Subnet(g('2001:db8:1::1'), g('2001:db8:2::1'), 64)).toBe(false);
    expect(sameIPv6Subnet(g('2001:db8:1::1'), g('2001:db8:2::1'), 32)).toBe(true);
    expect(ipv6GatewayReachable(g('fe80::1'), g('2001:db8:1::5'), 64)).toBe(true);
    expect(ipv6GatewayReachable(g('2001:db8:9::1'), g('2001:db8:1::5'), 64)).toBe(false);
    expect(ipv6HostProblem(g('::'))).toBe('reserved');
    expect(ipv6HostProblem(g('::1'))).toBe('reserved');
    expect(ipv6HostProblem(g('ff02::1'))).toBe('reserved');
    expect(ipv6HostProblem(g('fe80::5'))).toBe('reserved');
    expect(ipv6HostProblem(g('2001:db8::5'))).toBeNull();
  });
});

describe('names, ports, keys', () => {
  it.each(['backup', 'backup.corp.local', 'a-b.example.com', 'xn--fiqs8s.cn', 'example.com.', `${'a'.repeat(63)}.com`])('%s is a DNS name', (n) => {
    expect(isDnsName(n)).toBe(true);
  });

  it.each(['', '-a.com', 'a-.com', 'a..b', 'a_b.com', 'a b', `${'a'.repeat(64)}.com`, '10.0.0.300', '1.2.3', `${'a.'.repeat(127)}com`, '服务器.cn'])(
    '%j is not a DNS name', (n) => {
      expect(isDnsName(n)).toBe(false);
    });

  it('ports are 1-65535 in decimal', () => {
    expect(parsePort('50305')).toBe(50305);
    expect(parsePort('1')).toBe(1);
    expect(parsePort('65535')).toBe(65535);
    for (const bad of ['0', '65536', '', '-1', '1.5', '0x10', ' 80', '100000']) expect(parsePort(bad), bad).toBeNull();
  });

  it('server addresses are IPv4, IPv6 or DNS names', () => {
    expect(parseServerAddress('10.0.0.5')).toEqual({ kind: 'ipv4', text: '10.0.0.5' });
    expect(parseServerAddress('[2001:db8::1]')).toEqual({ kind: 'ipv6', text: '2001:db8::1' });
    expect(parseServerAddress('Backup.Local')).toEqual({ kind: 'dns', text: 'backup.local' });
    expect(parseServerAddress('10.0.0.256')).toBeNull();
    expect(parseServerAddress('http://x')).toBeNull();
  });

  it('access keys are printable ASCII without spaces, possibly empty', () => {
    expect(isAccessKey('')).toBe(true);
    expect(isAccessKey('AK-12_x.y/z+=')).toBe(true);
    expect(isAccessKey('a b')).toBe(false);
    expect(isAccessKey('密钥')).toBe(false);
    expect(isAccessKey('a'.repeat(257))).toBe(false);
  });

  it('splits DNS server lists on commas, semicolons and spaces', () => {
    expect(splitList(' 1.1.1.1, 8.8.8.8;9.9.9.9  ')).toEqual(['1.1.1.1', '8.8.8.8', '9.9.9.9']);
    expect(splitList('')).toEqual([]);
  });
});
