/** `lifeline target list|show|bind|unbind`: the machines that registered with the server. */
import type { TargetView } from '../../core/protocol/schemas.ts';
import { formatBytes } from '../../core/units.ts';
import type { Command } from '../cli-kit.ts';
import { connectionOptions, onePositional, orDash, print, table, withClient } from './operator-options.ts';

export const targetList: Command = {
  path: ['target', 'list'],
  summary: 'List registered machines: online or not, bound or not.',
  options: connectionOptions,
  async run(args, io) {
    const targets = await withClient(args, (c) => c.listTargets());
    print(args, io, targets, (list) => list.length === 0 ? 'No machine has registered yet.' : table(
      ['AGENT', 'HOSTNAME', 'FIRMWARE', 'ONLINE', 'BOUND', 'LAST SEEN'],
      list.map((t) => [t.agentId, t.hostname, t.firmware, t.online ? 'yes' : 'no', t.bound ? 'yes' : 'no', t.lastHeartbeat]),
    ));
    return 0;
  },
};

export const targetShow: Command = {
  path: ['target', 'show'],
  summary: "Show a machine's hardware: disks, NICs, firmware.",
  positionals: '<agent-id>',
  options: connectionOptions,
  async run(args, io) {
    const agentId = onePositional(args, 'agent id');
    print(args, io, await withClient(args, (c) => c.getTarget(agentId)), renderTarget);
    return 0;
  },
};

export const targetBind: Command = {
  path: ['target', 'bind'],
  summary: 'Authorize a machine: it gets jobs and may read the sets they name (admin).',
  positionals: '<agent-id>',
  options: connectionOptions,
  async run(args, io) {
    const agentId = onePositional(args, 'agent id');
    const target = await withClient(args, (c) => c.bind(agentId));
    print(args, io, target, (t) => `Bound ${t.hostname} (${t.agentId}).`);
    return 0;
  },
};

export const targetUnbind: Command = {
  path: ['target', 'unbind'],
  summary: 'Withdraw a machine\'s authorization (admin).',
  positionals: '<agent-id>',
  options: connectionOptions,
  async run(args, io) {
    const agentId = onePositional(args, 'agent id');
    const target = await withClient(args, (c) => c.unbind(agentId));
    print(args, io, target, (t) => `Unbound ${t.hostname} (${t.agentId}).`);
    return 0;
  },
};

function renderTarget(t: TargetView): string {
  const lines = [
    `Agent      ${t.agentId}`,
    `Hostname   ${t.hostname}`,
    `Machine    ${t.machineId}`,
    `Firmware   ${t.firmware}`,
    `Online     ${t.online ? 'yes' : 'no'} (last seen ${t.lastHeartbeat})`,
    `Bound      ${t.bound ? `yes, by ${orDash(t.boundBy)} at ${orDash(t.boundAt)}` : 'no'}`,
  ];
  const inv = t.inventory;
  if (inv !== undefined) {
    if (inv.manufacturer || inv.model) lines.push(`Model      ${[inv.manufacturer, inv.model].filter(Boolean).join(' ')}`);
    if (inv.smbiosUuid) lines.push(`SMBIOS     ${inv.smbiosUuid}`);
    lines.push('', 'Disks:', table(
      ['PATH', 'SIZE', 'SECTOR', 'BUS', 'MODEL', 'NOTE'],
      inv.disks.map((d) => [d.path, formatBytes(BigInt(d.sizeBytes)), `${d.logicalSectorSize}/${d.physicalSectorSize}`, orDash(d.busType), orDash(d.model), d.protected ? 'protected' : '']),
    ));
    lines.push('', 'Network:', table(['NIC', 'MAC', 'UP', 'ADDRESSES'], inv.nics.map((n) => [n.name, n.mac, n.up ? 'yes' : 'no', n.addresses.join(' ')])));
  }
  return lines.join('\n');
}
