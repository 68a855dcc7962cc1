/** netsh builders with address validation, the IP parsers under them, and wpeutil. */
import { describe, expect, it } from 'vitest';
import { maskToPrefix, parseIpv4, parseIpv6 } from '../../../../../src/adapters/win32/tools/ip-address.ts';
import { automaticIpv6Commands, dhcpIpv4Commands, runNetsh, staticIpv4Commands, staticIpv6Commands } from '../../../../../src/adapters/win32/tools/netsh.ts';
import { runWpeutil, wpeutilCommand } from '../../../../../src/adapters/win32/tools/wpeutil.ts';
import { ScriptedRunner, exit, rejectionOf } from '../fake-runner.ts';

const args = (commands: { args: readonly string[] }[]) => commands.map((c) => c.args.join(' '));

describe('netsh IPv4', () => {
  it('sets a static address, gateway and two DNS servers (prefix or dotted mask)', () => {
    const expected = [
      'interface ipv4 set address name=Ethernet source=static address=10.20.0.5 mask=255.255.0.0 gateway=10.20.0.1 gwmetric=1',
      'interface ipv4 set dnsservers name=Ethernet source=static address=10.20.0.53 register=primary validate=no',
      'interface ipv4 add dnsservers name=Ethernet address=10.20.0.54 index=2 validate=no',
    ];
    const plan = { iface: 'Ethernet', address: '10.20.0.5', gateway: '10.20.0.1', dnsServers: ['10.20.0.53', '10.20.0.54'] };
    expect(args(staticIpv4Commands({ ...plan, mask: 16 }))).toEqual(expected);
    expect(args(staticIpv4Commands({ ...plan, mask: '255.255.0.0' }))).toEqual(expected);
    expect(staticIpv4Commands({ ...plan, mask: 16 }).every((c) => c.file === 'netsh.exe')).toBe(true);
  });

  it('keeps an interface name with spaces as one argument', () => {
    expect(staticIpv4Commands({ iface: 'Ethernet 2', address: '192.168.1.10', mask: 24 })[0]!.args)
      .toEqual(['interface', 'ipv4', 'set', 'address', 'name=Ethernet 2', 'source=static', 'address=192.168.1.10', 'mask=255.255.255.0']);
  });

  it('returns to DHCP for address and DNS', () => {
    expect(args(dhcpIpv4Commands('Ethernet'))).toEqual([
      'interface ipv4 set address name=Ethernet source=dhcp',
      'interface ipv4 set dnsservers name=Ethernet source=dhcp',
    ]);
  });

  it.each([
    [{ address: '10.20.0.256', mask: 24 }, /not an IPv4 address/],
    [{ address: '10.020.0.5', mask: 24 }, /no leading zeros/],
    [{ address: '10.20.0.5; del', mask: 24 }, /not an IPv4 address/],
    [{ address: '127.0.0.1', mask: 8 }, /loopback/],
    [{ address: '224.0.0.5', mask: 24 }, /multicast/],
    [{ address: '0.0.0.0', mask: 24 }, /unspecified/],
    [{ address: '10.20.0.5', mask: 33 }, /prefix length/],
    [{ address: '10.20.0.5', mask: '255.0.255.0' }, /contiguous/],
    [{ address: '10.20.0.0', mask: 24 }, /network address/],
    [{ address: '10.20.0.255', mask: 24 }, /broadcast address/],
    [{ address: '10.20.0.5', mask: 24, gateway: '10.20.1.1' }, /outside 10\.20\.0\.0\/24/],
    [{ address: '10.20.0.5', mask: 24, gateway: '10.20.0.5' }, /the address itself/],
    [{ address: '10.20.0.5', mask: 24, dnsServers: ['8.8.8'] }, /dns server/],
    [{ address: '10.20.0.5', mask: 24, iface: '' }, /empty/],
    [{ address: '10.20.0.5', mask: 24, iface: 'Eth"ernet' }, /double quote/],
  ])('refuses %j', (bad, reason) => {
    let error: unknown;
    try {
      staticIpv4Commands({ iface: 'Ethernet', ...bad });
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: 'tool.invalid-argument' });
    expect((error as Error).message).toMatch(reason);
  });
});

describe('netsh IPv6', () => {
  it('adds an address, a default route and DNS servers', () => {
    expect(args(staticIpv6Commands({ iface: 'Ethernet', address: '2001:DB8:1::10', prefixLength: 64, gateway: 'fe80::1', dnsServers: ['2001:db8:1::53', '2001:4860:4860::8888'] }))).toEqual([
      'interface ipv6 add address interface=Ethernet address=2001:db8:1::10/64',
      'interface ipv6 add route ::/0 interface=Ethernet nexthop=fe80::1',
      'interface ipv6 set dnsservers name=Ethernet source=static address=2001:db8:1::53 register=primary validate=no',
      'interface ipv6 add dnsservers name=Ethernet address=2001:4860:4860::8888 index=2 validate=no',
    ]);
  });

  it('removes a static setup and returns DNS to automatic', () => {
    expect(args(automaticIpv6Commands({ iface: 'Ethernet', address: '2001:db8:1::10', gateway: '2001:db8:1::1' }))).toEqual([
      'interface ipv6 delete address interface=Ethernet address=2001:db8:1::10',
      'interface ipv6 delete route ::/0 interface=Ethernet nexthop=2001:db8:1::1',
      'interface ipv6 set dnsservers name=Ethernet source=dhcp',
    ]);
  });

  it.each([
    [{ address: '2001:db8::1::2' }, /not an IPv6 address/],
    [{ address: '2001:db8:1:2:3:4:5:6:7' }, /not an IPv6 address/],
    [{ address: 'fe80::1%3' }, /not an IPv6 address/],
    [{ address: '::' }, /unspecified/],
    [{ address: '::1' }, /loopback/],
    [{ address: 'ff02::1' }, /multicast/],
    [{ address: '2001:db8::10', prefixLength: 129 }, /prefix length/],
    [{ address: '2001:db8::10', gateway: '2001:db8::10' }, /the address itself/],
  ])('refuses %j', (bad, reason) => {
    expect(() => staticIpv6Commands({ iface: 'Ethernet', prefixLength: 64, ...bad })).toThrow(reason);
  });
});

describe('IP parsing', () => {
  it('parses IPv4 and masks', () => {
    expect([parseIpv4('192.168.1.1'), parseIpv4('0.0.0.0'), parseIpv4('1.2.3'), parseIpv4('1.2.3.4.5'), parseIpv4('+1.2.3.4')]).toEqual([0xc0a80101, 0, undefined, undefined, undefined]);
    expect([maskToPrefix('255.255.255.0'), maskToPrefix('255.255.255.255'), maskToPrefix('255.255.0.255')]).toEqual([24, 32, undefined]);
  });

  it('parses IPv6 forms, with :: and a dotted IPv4 tail', () => {
    expect(parseIpv6('2001:db8::1')).toEqual([0x2001, 0xdb8, 0, 0, 0, 0, 0, 1]);
    expect(parseIpv6('::ffff:192.0.2.1')).toEqual([0, 0, 0, 0, 0, 0xffff, 0xc000, 0x0201]);
    expect(parseIpv6('1:2:3:4:5:6:7:8')).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(parseIpv6('1:2:3:4:5:6:7::')).toEqual([1, 2, 3, 4, 5, 6, 7, 0]);
    expect([parseIpv6('1:2:3:4:5:6:7:8::'), parseIpv6('12345::'), parseIpv6(':1'), parseIpv6('1.2.3.4')]).toEqual([undefined, undefined, undefined, undefined]);
  });
});

describe('running netsh', () => {
  it('runs commands in order and stops at the first failure', async () => {
    const runner = new ScriptedRunner(({ args: a }) => (a.includes('dnsservers') ? exit(1, 'The filename, directory name, or volume label syntax is incorrect.\r\n') : exit(0, 'Ok.\r\n')));
    const commands = staticIpv4Commands({ iface: 'Ethernet', address: '10.0.0.5', mask: 24, dnsServers: ['10.0.0.53', '10.0.0.54'] });
    const error = await rejectionOf(runNetsh(runner, commands));
    expect(error.code).toBe('tool.netsh-failed');
    expect(runner.calls).toHaveLength(2);
    expect(error.message).toContain('The filename, directory name, or volume label syntax is incorrect.');
  });
});

describe('wpeutil', () => {
  it('builds each command', () => {
    expect(wpeutilCommand({ op: 'InitializeNetwork', noWait: true })).toEqual({ file: 'wpeutil.exe', args: ['InitializeNetwork', '/NoWait'] });
    expect(wpeutilCommand({ op: 'InitializeNetwork' }).args).toEqual(['InitializeNetwork']);
    expect(wpeutilCommand({ op: 'WaitForNetwork' }).args).toEqual(['WaitForNetwork']);
    expect(wpeutilCommand({ op: 'UpdateBootInfo' }).args).toEqual(['UpdateBootInfo']);
    expect(wpeutilCommand({ op: 'Reboot' }).args).toEqual(['Reboot']);
    expect(wpeutilCommand({ op: 'Shutdown' }).args).toEqual(['Shutdown']);
  });

  it('gives network start-up a long timeout and fails with tool.wpeutil-failed', async () => {
    const runner = new ScriptedRunner(() => exit(1, 'Failed to initialize network.\r\n'));
    const error = await rejectionOf(runWpeutil(runner, { op: 'InitializeNetwork' }));
    expect(error.code).toBe('tool.wpeutil-failed');
    expect(runner.calls[0]!.options?.timeoutMs).toBe(300_000);
  });
});
