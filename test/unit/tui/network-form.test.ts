import { describe, expect, it } from 'vitest';
import type { ControlAction } from '../../../src/tui/state/controls.ts';
import { translate, type Msg } from '../../../src/tui/state/i18n.ts';
import { checkStaticIPv4, MAX_DNS_SERVERS } from '../../../src/tui/state/network-config.ts';
import {
  initialNetworkForm, networkControls, prefixHint, reduceNetworkForm, type Nic, type NetworkFormAction, type NetworkFormState,
} from '../../../src/tui/state/network-form.ts';

const nics: Nic[] = [
  { name: 'Ethernet0', mac: '00:15:5D:01:02:03', link: 'down', ipv4: [], ipv6: [] },
  { name: 'Ethernet 2', mac: '00:15:5D:01:02:04', link: 'up', ipv4: ['169.254.10.2/16', '10.0.0.9/8'], ipv6: ['fe80::2/64'] },
];

function run(s: NetworkFormState, ...actions: NetworkFormAction[]) {
  let state = s;
  const effects = [];
  for (const a of actions) {
    const r = reduceNetworkForm(state, a);
    state = r.state;
    effects.push(...r.effects);
  }
  return { state, effects };
}

const press = (id: string): ControlAction => ({ type: 'control/press', id });
const en = (m: Msg | null): string => (m === null ? '' : translate('en', m));

function staticForm(family: 4 | 6, fields: Partial<Pick<NetworkFormState, 'address' | 'prefix' | 'gateway' | 'dns'>>): NetworkFormState {
  const loaded = run(initialNetworkForm(family), { type: 'network/nics', nics }, { type: 'control/toggle', id: 'mode-static' }).state;
  return { ...loaded, ...fields };
}

describe('IPv4 tab', () => {
  it('picks the first adapter with a link, and keeps the operator choice across refreshes', () => {
    const loaded = run(initialNetworkForm(4), { type: 'network/nics', nics }).state;
    expect(loaded.nic).toBe('Ethernet 2');
    const chosen = run(loaded, { type: 'control/choose', id: 'nic', index: 0 }).state;
    expect(chosen.nic).toBe('Ethernet0');
    expect(run(chosen, { type: 'network/nics', nics: [...nics].reverse() }).state.nic).toBe('Ethernet0');
    expect(run(chosen, { type: 'network/nics', nics: [] }).state.nic).toBeNull();
  });

  it('applies DHCP as one effect', () => {
    const loaded = run(initialNetworkForm(4), { type: 'network/nics', nics }).state;
    const { state, effects } = run(loaded, press('apply'));
    expect(effects).toEqual([{ type: 'configure-network', interfaceName: 'Ethernet 2', config: { family: 4, mode: 'dhcp' } }]);
    expect(state.applying).toBe(true);
    expect(en(run(state, { type: 'network/applied', family: 4, interfaceName: 'Ethernet 2' }).state.message)).toBe('Applied to Ethernet 2.');
    const failed = run(state, { type: 'network/failed', family: 4, interfaceName: 'Ethernet 2', message: 'The parameter is incorrect.' }).state;
    expect(en(failed.message)).toBe('Could not apply to Ethernet 2: The parameter is incorrect.');
    expect(failed.applying).toBe(false);
  });

  it('applies a valid static configuration in canonical form, mask or prefix', () => {
    for (const prefix of ['24', '/24', '255.255.255.0']) {
      const { effects } = run(staticForm(4, { address: '192.168.1.20', prefix, gateway: '192.168.1.1', dns: '192.168.1.1, 8.8.8.8' }), press('apply'));
      expect(effects, prefix).toEqual([{
        type: 'configure-network', interfaceName: 'Ethernet 2',
        config: { family: 4, mode: 'static', address: '192.168.1.20', prefixLength: 24, mask: '255.255.255.0', gateway: '192.168.1.1', dns: ['192.168.1.1', '8.8.8.8'] },
      }]);
    }
  });

  it('leaves gateway and DNS optional', () => {
    const { effects } = run(staticForm(4, { address: '10.0.0.5', prefix: '8' }), press('apply'));
    expect(effects).toEqual([expect.objectContaining({ config: expect.objectContaining({ gateway: null, dns: [] }) })]);
  });

  it.each([
    [{ address: '192.168.1.300', prefix: '24' }, ['address'], 'Address: "192.168.1.300" is not an IPv4 address (like 192.168.1.10).'],
    [{ address: '', prefix: '24' }, ['address'], 'Address: required.'],
    [{ address: '192.168.1.20', prefix: '' }, ['prefix'], 'Prefix or mask: required.'],
    [{ address: '192.168.1.20', prefix: '255.0.255.0' }, ['prefix'], 'Prefix or mask: a prefix 1-32 or a mask like 255.255.255.0.'],
    [{ address: '192.168.1.20', prefix: '0' }, ['prefix'], 'Prefix or mask: a prefix 1-32 or a mask like 255.255.255.0.'],
    [{ address: '192.168.1.20', prefix: '24', gateway: '10.0.0.1' }, ['gateway'], 'Gateway: 10.0.0.1 is outside the subnet 192.168.1.0/24.'],
    [{ address: '192.168.1.20', prefix: '24', gateway: '192.168.1.20' }, ['gateway'], 'Gateway: must differ from the address.'],
    [{ address: '192.168.1.20', prefix: '24', gateway: '192.168.1.255' }, ['gateway'], 'Gateway: 192.168.1.255 is the broadcast address of 192.168.1.0/24.'],
    [{ address: '192.168.1.0', prefix: '24' }, ['address'], 'Address: 192.168.1.0 is the network address of 192.168.1.0/24.'],
    [{ address: '127.0.0.2', prefix: '8' }, ['address'], 'Address: 127.0.0.2 cannot be a host address.'],
    [{ address: '192.168.1.20', prefix: '24', dns: '8.8.8.8, 8.8.4.x' }, ['dns'], 'DNS servers: "8.8.4.x" is not an IPv4 address (like 192.168.1.10).'],
    [{ address: '192.168.1.20', prefix: '24', dns: '1.1.1.1 2.2.2.2 3.3.3.3 4.4.4.4' }, ['dns'], `DNS servers: at most ${MAX_DNS_SERVERS} servers.`],
    [{ address: 'x', prefix: 'y', gateway: 'z' }, ['address', 'prefix', 'gateway'], 'Address: "x" is not an IPv4 address (like 192.168.1.10).'],
  ])('refuses %j: message names the field, nothing applied', (fields, invalid, message) => {
    const { state, effects } = run(staticForm(4, fields), press('apply'));
    expect(effects).toEqual([]);
    expect(state.invalid).toEqual(invalid);
    expect(en(state.message)).toBe(message);
    expect(state.applying).toBe(false);
    // The fields show a "!" marker.
    const marked = networkControls(state).filter((c) => c.kind === 'text' && c.invalid).map((c) => c.id);
    expect(marked).toEqual(invalid);
  });

  it('refuses to apply with no adapter, or while the last Apply is pending', () => {
    const none = run(initialNetworkForm(4), press('apply'));
    expect(none.effects).toEqual([]);
    expect(en(none.state.message)).toBe('No network adapter to configure. Load its driver in Driver update (F4).');
    const pending = run(initialNetworkForm(4), { type: 'network/nics', nics }, press('apply'), press('apply'));
    expect(pending.effects).toHaveLength(1);
  });

  it('shows the static fields only in static mode, with the other spelling of the prefix as a hint', () => {
    const dhcp = run(initialNetworkForm(4), { type: 'network/nics', nics }).state;
    expect(networkControls(dhcp).map((c) => c.id)).toEqual(['nic', 'mode-dhcp', 'mode-static', 'apply', 'refresh', 'nics']);
    const st = staticForm(4, { prefix: '24' });
    expect(networkControls(st).map((c) => c.id)).toEqual(['nic', 'mode-dhcp', 'mode-static', 'address', 'prefix', 'gateway', 'dns', 'apply', 'refresh', 'nics']);
    expect(en(prefixHint(4, '24') ?? null)).toBe('= 255.255.255.0');
    expect(en(prefixHint(4, '255.255.252.0') ?? null)).toBe('= /22');
    expect(prefixHint(4, '255.0.255.0')).toBeUndefined();
    expect(prefixHint(6, '64')).toBeUndefined();
  });

  it('lists adapters with name, MAC, link state and current addresses as table rows', () => {
    const list = networkControls(run(initialNetworkForm(4), { type: 'network/nics', nics }).state).find((c) => c.kind === 'list');
    expect(list?.kind === 'list' ? list.rows.map((r) => r.map(en)) : []).toEqual([
      ['Ethernet0', '00:15:5D:01:02:03', 'DOWN', '(none)'],
      ['Ethernet 2', '00:15:5D:01:02:04', 'up', '169.254.10.2/16'],
      ['', '', '', '10.0.0.9/8'],
    ]);
  });

  it('Refresh asks for the adapter list again', () => {
    expect(run(initialNetworkForm(4), press('refresh')).effects).toEqual([{ type: 'refresh-nics' }]);
  });

  it('ignores answers meant for the other family', () => {
    const pending = run(initialNetworkForm(4), { type: 'network/nics', nics }, press('apply')).state;
    expect(run(pending, { type: 'network/applied', family: 6, interfaceName: 'x' }).state).toBe(pending);
  });
});

describe('IPv6 tab', () => {
  it('defaults to prefix 64 and applies a static address in RFC 5952 form', () => {
    expect(initialNetworkForm(6).prefix).toBe('64');
    const { effects } = run(staticForm(6, { address: '2001:DB8:0:1::0020', gateway: 'fe80::1', dns: '2001:4860:4860::8888' }), press('apply'));
    expect(effects).toEqual([{
      type: 'configure-network', interfaceName: 'Ethernet 2',
      config: { family: 6, mode: 'static', address: '2001:db8:0:1::20', prefixLength: 64, mask: null, gateway: 'fe80::1', dns: ['2001:4860:4860::8888'] },
    }]);
  });

  it.each([
    [{ address: '2001:db8::g' }, 'Address: "2001:db8::g" is not an IPv6 address (like 2001:db8::10).'],
    [{ address: 'ff02::1' }, 'Address: ff02::1 cannot be a host address.'],
    [{ address: '2001:db8:1::5', prefix: '129' }, 'Prefix length: a prefix length 1-128.'],
    [{ address: '2001:db8:1::5', gateway: '2001:db8:2::1' }, 'Gateway: 2001:db8:2::1 is outside the subnet 2001:db8:1::/64.'],
    [{ address: '2001:db8:1::5', dns: '8.8.8.8' }, 'DNS servers: "8.8.8.8" is not an IPv6 address (like 2001:db8::10).'],
  ])('refuses %j with a message naming the field', (fields, message) => {
    const { state, effects } = run(staticForm(6, fields), press('apply'));
    expect(effects).toEqual([]);
    expect(en(state.message)).toBe(message);
  });

  it('shows IPv6 addresses in its adapter table', () => {
    const list = networkControls(run(initialNetworkForm(6), { type: 'network/nics', nics }).state).find((c) => c.kind === 'list');
    expect(list?.kind === 'list' ? en(list.rows[1]?.[3] ?? null) : '').toBe('fe80::2/64');
  });
});

describe('static configuration check', () => {
  it('a valid configuration has no problems; one bad field is reported alone', () => {
    const ok = checkStaticIPv4({ address: '172.16.5.4', prefix: '255.255.0.0', gateway: '172.16.0.1', dns: '' });
    expect(ok.problems).toBeUndefined();
    const bad = checkStaticIPv4({ address: '172.16.5.4', prefix: '16', gateway: '172.17.0.1', dns: '' });
    expect(bad.problems?.map((p) => p.field)).toEqual(['gateway']);
  });
});
