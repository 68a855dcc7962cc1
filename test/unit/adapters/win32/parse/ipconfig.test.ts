/** ipconfig /all parser on captured output from Windows 10, Server 2016 and XP. */
import { describe, expect, it } from 'vitest';
import { parseIpconfigAll } from '../../../../../src/adapters/win32/parse/ipconfig.ts';
import { crlf, toolOutput } from '../tool-fixtures.ts';

describe('parseIpconfigAll', () => {
  it('Windows 10: three adapters, DHCP lease, multi-line DNS servers and suffix lists', () => {
    const report = parseIpconfigAll(crlf(toolOutput('ipconfig__all__windows-10-dhcp-multi-adapter.txt')));
    expect(report.hostName).toBe('DESKTOP-WIN10-PRO');
    expect(report.globals['DNS Suffix Search List']).toEqual(['tailff123.ts.net', 'internal.companyname.com']);
    expect(report.adapters.map((a) => [a.kind, a.name])).toEqual([
      ['Unknown', 'Tailscale'], ['Ethernet', 'Ethernet 2'], ['Ethernet', 'Bluetooth Network Connection'],
    ]);
    const [tailscale, ethernet, bluetooth] = report.adapters;
    expect(tailscale!.physicalAddress).toBeUndefined();
    expect(tailscale!.ipv6).toEqual([
      { address: 'fd7a:115c:a1e0:ab12:4843:cd96:6293:47b2', status: 'Preferred' },
      { address: 'fe80::99d0:ec2d:b2e7:536b%8', status: 'Preferred' },
    ]);
    expect(tailscale!.dnsServers).toEqual(['fec0:0:0:ffff::1%1', 'fec0:0:0:ffff::2%1', 'fec0:0:0:ffff::3%1']);
    expect(tailscale!.fields['Connection-specific DNS Suffix Search List']).toEqual(['', 'tailff123.ts.net']);
    expect(ethernet).toMatchObject({
      description: 'ASIX AX88179 USB 3.0 to Gigabit Ethernet Adapter #2',
      physicalAddress: 'F8-E4-3B-AD-F2-6D',
      dhcpEnabled: true,
      mediaDisconnected: false,
      ipv4: [{ address: '10.50.13.132', status: 'Preferred' }],
      subnetMasks: ['255.255.255.0'],
      defaultGateways: ['10.50.13.1'],
      dhcpServer: '10.50.13.1',
      dnsServers: ['10.50.13.1'],
    });
    expect(ethernet!.fields['Lease Expires']).toEqual(['Monday, September 23, 2024 2:31:46 AM']);
    expect(bluetooth).toMatchObject({ mediaDisconnected: true, ipv4: [], physicalAddress: '1C-C1-0C-C3-25-B4' });
  });

  it('Server 2016: a static address with DHCP off and a disconnected ISATAP tunnel', () => {
    const report = parseIpconfigAll(toolOutput('ipconfig__all__windows-server-2016-static.txt'));
    expect(report.globals['Primary Dns Suffix']).toEqual(['somecompany.corp']);
    const [eth, tunnel] = report.adapters;
    expect(eth).toMatchObject({
      kind: 'Ethernet', name: 'Ethernet0', dhcpEnabled: false, physicalAddress: '00-0C-29-D6-12-2E',
      ipv4: [{ address: '192.168.22.153', status: 'Preferred' }], defaultGateways: ['192.168.22.1'], dnsServers: ['192.168.22.151'],
      dhcpServer: undefined,
    });
    expect(tunnel).toMatchObject({ kind: 'Tunnel', name: 'isatap.{17A4D79E-85D7-47FC-8972-ABBD8B58DC71}', mediaDisconnected: true });
  });

  it('XP: "IP Address" label, no status suffix, lease lines after DNS', () => {
    const report = parseIpconfigAll(toolOutput('ipconfig__all__windows-xp.txt'));
    expect(report.hostName).toBe('DESKTOP-PC4');
    expect(report.globals['Node Type']).toEqual(['Unknown']);
    const [lan] = report.adapters;
    expect(lan).toMatchObject({
      name: 'Local Area Connection', ipv4: [{ address: '192.168.22.135', status: undefined }],
      dhcpServer: '192.168.22.1', dnsServers: ['192.168.22.151'],
    });
    expect(lan!.fields['Lease Obtained']).toEqual(['Saturday, September 21, 2024 10:31:26 PM']);
  });
});
