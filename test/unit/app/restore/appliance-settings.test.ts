/** The appliance settings file: validation, server addresses, and the merge with the command line. */
import { describe, expect, it } from 'vitest';
import { parseApplianceSettings, parseServerAddress, resolveAgentConfig, serverUrl } from '../../../../src/core/appliance-settings.ts';

const full = {
  version: 1,
  server: { address: 'backup.lan', ssl: true, fingerprint: 'AB:'.repeat(31) + 'CD', accessKey: 'k-123' },
  disks: ['/dev/vda'],
  protectedDisks: ['/dev/sr0'],
  firmware: 'uefi',
  once: true,
  machineId: 'vm-1',
  hostname: 'restore-vm',
  passphrase: 'swordfish',
  pollSeconds: 10,
  network: {
    ipv4: { mode: 'static', address: '10.0.0.9', prefixLength: 24, gateway: '10.0.0.1', dns: ['10.0.0.1'] },
    ipv6: { mode: 'auto' },
  },
};

describe('appliance settings', () => {
  it('reads a complete file as written', () => {
    expect(parseApplianceSettings(full)).toEqual(full);
    expect(parseApplianceSettings({ version: 1 })).toEqual({ version: 1 });
  });

  it.each([
    [{ ...full, version: 2 }, 'version'],
    [{ ...full, colour: 'red' }, 'colour'],
    [{ ...full, server: { ...full.server, port: 70000 } }, 'server.port'],
    [{ ...full, server: { ...full.server, address: 'bad host!' } }, 'server.address'],
    [{ ...full, server: { ...full.server, fingerprint: 'abc' } }, 'server.fingerprint'],
    [{ ...full, disks: ['/dev/vda', 7] }, 'disks[1]'],
    [{ ...full, firmware: 'efi' }, 'firmware'],
    [{ ...full, pollSeconds: 0 }, 'pollSeconds'],
    [{ ...full, network: { ipv4: { mode: 'static', address: '10.0.0.300', prefixLength: 24 } } }, 'network.ipv4.address'],
    [{ ...full, network: { ipv4: { mode: 'static' } } }, 'network.ipv4.address'],
    [{ ...full, network: { ipv6: { mode: 'static', address: 'fd00::1', prefixLength: 64, dns: ['10.0.0.1'] } } }, 'network.ipv6.dns[0]'],
    [[], ''],
  ])('refuses %j naming %s', (json, path) => {
    expect(() => parseApplianceSettings(json)).toThrow(expect.objectContaining({ code: 'settings.invalid', data: { path } }));
  });

  it('parses server addresses with the default ports of seed 000 §5.1', () => {
    expect(parseServerAddress('10.0.0.5', false)).toEqual({ host: '10.0.0.5', port: 50305 });
    expect(parseServerAddress('10.0.0.5', true)).toEqual({ host: '10.0.0.5', port: 60305 });
    expect(parseServerAddress('backup.lan:8080', true)).toEqual({ host: 'backup.lan', port: 8080 });
    expect(parseServerAddress('[fd00::5]:443', true)).toEqual({ host: 'fd00::5', port: 443 });
    expect(parseServerAddress('fd00::5', false)).toEqual({ host: 'fd00::5', port: 50305 });
    expect(() => parseServerAddress('host:0', false)).toThrow(/port/);
    expect(() => parseServerAddress('[10.0.0.1]:80', false)).toThrow(/IPv6/);
    expect(serverUrl('fd00::5', 60305, true)).toBe('https://[fd00::5]:60305');
  });

  it('lets the command line override the file, and never takes disks implicitly', () => {
    const file = parseApplianceSettings(full);
    const merged = resolveAgentConfig(file, { server: '10.1.1.1:9000', disks: ['/dev/vdb'], ssl: false, once: false });
    expect(merged).toMatchObject({ url: 'https://10.1.1.1:9000', disks: ['/dev/vdb'], protectedDisks: ['/dev/sr0'], once: true, passphrase: 'swordfish', pollSeconds: 10 });
    expect(resolveAgentConfig(undefined, { server: 'backup.lan', disks: ['a.img'] })).toMatchObject({ url: 'http://backup.lan:50305', once: false, pollSeconds: 5 });
    expect(resolveAgentConfig({ version: 1, server: { address: 'backup.lan', port: 1234 }, disks: ['a'] }, {}).url).toBe('http://backup.lan:1234');
    expect(() => resolveAgentConfig({ version: 1, server: { address: 'backup.lan' } }, {})).toThrow(expect.objectContaining({ code: 'settings.no-disks' }));
    expect(() => resolveAgentConfig(undefined, { disks: ['a'] })).toThrow(expect.objectContaining({ code: 'settings.no-server' }));
    expect(() => resolveAgentConfig(undefined, { server: 'x', disks: ['a'], fingerprint: 'zz' })).toThrow(expect.objectContaining({ data: { path: '--fingerprint' } }));
  });
});
