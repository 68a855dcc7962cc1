/**
 * IPv4 and IPv6 tabs (one reducer, two families): the adapter to configure, DHCP or static
 * (address, prefix or mask, gateway, DNS servers), Apply, and the adapters' list (name, MAC, link,
 * current addresses) as data. Apply with a bad field shows a message naming it and returns no
 * effect; nothing is half-applied.
 */
import type { Control, ControlAction, ListColumn, Result, TextEdit } from './controls.ts';
import { applyTextEdit, result } from './controls.ts';
import { msg, rawText, type Msg } from './i18n.ts';
import {
  checkStaticIPv4, checkStaticIPv6, fieldLabel, type IpFamily, type NetworkConfig, type NetworkField,
} from './network-config.ts';
import { maskToPrefix, parseIPv4Prefix, prefixToMask } from './validate.ts';

export interface Nic {
  readonly name: string;
  readonly mac: string;
  readonly link: 'up' | 'down' | 'unknown';
  /** Current addresses with prefix, e.g. "192.168.1.20/24". */
  readonly ipv4: readonly string[];
  readonly ipv6: readonly string[];
}

export interface NetworkFormState {
  readonly family: IpFamily;
  readonly nics: readonly Nic[];
  /** The adapter to configure, by name (stable across refreshes). */
  readonly nic: string | null;
  readonly mode: 'dhcp' | 'static';
  readonly address: string;
  readonly prefix: string;
  readonly gateway: string;
  readonly dns: string;
  readonly invalid: readonly NetworkField[];
  readonly message: Msg | null;
  /** A configure-network effect is out and not yet answered. */
  readonly applying: boolean;
}

export type NetworkEvent =
  | { readonly type: 'network/nics'; readonly nics: readonly Nic[] }
  | { readonly type: 'network/applied'; readonly family: IpFamily; readonly interfaceName: string }
  | { readonly type: 'network/failed'; readonly family: IpFamily; readonly interfaceName: string; readonly message: string };

export type NetworkFormAction = ControlAction | NetworkEvent;

export function initialNetworkForm(family: IpFamily): NetworkFormState {
  return {
    family, nics: [], nic: null, mode: 'dhcp', address: '', prefix: family === 6 ? '64' : '', gateway: '', dns: '',
    invalid: [], message: null, applying: false,
  };
}

const FIELDS: readonly NetworkField[] = ['address', 'prefix', 'gateway', 'dns'];

export function networkControls(s: NetworkFormState): Control[] {
  const nicIndex = s.nics.findIndex((n) => n.name === s.nic);
  const controls: Control[] = [
    { kind: 'dropdown', id: 'nic', label: msg('net.adapter'), options: s.nics.map((n) => rawText(`${n.name} (${n.mac})`)), selected: nicIndex },
    { kind: 'radio', id: 'mode-dhcp', label: msg('net.dhcp'), selected: s.mode === 'dhcp' },
    { kind: 'radio', id: 'mode-static', label: msg('net.static'), selected: s.mode === 'static' },
  ];
  if (s.mode === 'static') {
    for (const field of FIELDS) {
      const hint = field === 'prefix' ? prefixHint(s.family, s.prefix) : undefined;
      controls.push({
        kind: 'text', id: field, label: msg(fieldLabel(s.family, field)), value: s[field], masked: false,
        invalid: s.invalid.includes(field), ...(hint === undefined ? {} : { hint }),
      });
    }
  }
  controls.push(
    { kind: 'button', id: 'apply', label: msg('button.apply') },
    { kind: 'button', id: 'refresh', label: msg('button.refresh') },
    { kind: 'list', id: 'nics', label: msg('net.adapters'), columns: NIC_COLUMNS, rows: nicRows(s), selected: null, height: 5 },
  );
  return controls;
}

const NIC_COLUMNS: readonly ListColumn[] = [
  { header: msg('net.col.name'), width: 20 },
  { header: msg('net.col.mac'), width: 17 },
  { header: msg('net.col.link'), width: 8 },
  { header: msg('net.col.addresses'), width: 0 },
];

const LINK_TEXT = { up: msg('net.link.up'), down: msg('net.link.down'), unknown: msg('net.link.unknown') } as const;

/** One row per adapter; extra addresses continue on rows of their own. */
function nicRows(s: NetworkFormState): Msg[][] {
  const rows: Msg[][] = [];
  for (const nic of s.nics) {
    const addresses = s.family === 4 ? nic.ipv4 : nic.ipv6;
    rows.push([rawText(nic.name), rawText(nic.mac), LINK_TEXT[nic.link], addresses[0] === undefined ? msg('net.no-address') : rawText(addresses[0])]);
    for (const extra of addresses.slice(1)) rows.push([rawText(''), rawText(''), rawText(''), rawText(extra)]);
  }
  return rows;
}

/** The other spelling of what was typed: "= 255.255.255.0" for /24, "= /24" for a mask. */
export function prefixHint(family: IpFamily, text: string): Msg | undefined {
  if (family !== 4) return undefined;
  const t = text.trim();
  const prefix = parseIPv4Prefix(t);
  if (prefix === null || t === '') return undefined;
  return rawText(t.includes('.') ? `= /${maskToPrefix(t) ?? prefix}` : `= ${prefixToMask(prefix)}`);
}

export function reduceNetworkForm(s: NetworkFormState, a: NetworkFormAction): Result<NetworkFormState> {
  switch (a.type) {
    case 'control/edit': return result(edit(s, a.id, a.edit));
    case 'control/toggle':
      if (a.id === 'mode-dhcp') return result({ ...s, mode: 'dhcp', invalid: [] });
      if (a.id === 'mode-static') return result({ ...s, mode: 'static' });
      return result(s);
    case 'control/choose': {
      const nic = a.id === 'nic' ? s.nics[a.index] : undefined;
      return result(nic === undefined ? s : { ...s, nic: nic.name });
    }
    case 'control/press':
      if (a.id === 'apply') return apply(s);
      if (a.id === 'refresh') return result(s, [{ type: 'refresh-nics' }]);
      return result(s);
    case 'control/move': case 'control/pick': return result(s);
    case 'network/nics': return result({ ...s, nics: a.nics, nic: keepNic(s.nic, a.nics) });
    case 'network/applied':
      if (a.family !== s.family) return result(s);
      return result({ ...s, applying: false, message: msg('net.applied', { name: a.interfaceName }) });
    case 'network/failed':
      if (a.family !== s.family) return result(s);
      return result({ ...s, applying: false, message: msg('net.failed', { name: a.interfaceName, detail: a.message }) });
  }
}

function edit(s: NetworkFormState, id: string, e: TextEdit): NetworkFormState {
  const field = FIELDS.find((f) => f === id);
  if (field === undefined || s.mode !== 'static') return s;
  return { ...s, [field]: applyTextEdit(s[field], e, 128) };
}

/** Keep the chosen adapter if it is still there; otherwise the first with a link, else the first. */
function keepNic(current: string | null, nics: readonly Nic[]): string | null {
  if (nics.some((n) => n.name === current)) return current;
  return (nics.find((n) => n.link === 'up') ?? nics[0])?.name ?? null;
}

function apply(s: NetworkFormState): Result<NetworkFormState> {
  if (s.nic === null) return result({ ...s, message: msg('net.no-adapter') });
  if (s.applying) return result({ ...s, message: msg('net.busy') });
  let config: NetworkConfig;
  if (s.mode === 'dhcp') config = { family: s.family, mode: 'dhcp' };
  else {
    const checked = (s.family === 4 ? checkStaticIPv4 : checkStaticIPv6)(s);
    if (checked.problems !== undefined) {
      return result({ ...s, invalid: checked.problems.map((p) => p.field), message: checked.problems[0]?.message ?? null });
    }
    config = checked.config;
  }
  const next = { ...s, invalid: [], applying: true, message: msg('net.applying', { name: s.nic }) };
  return result(next, [{ type: 'configure-network', interfaceName: s.nic, config }]);
}
