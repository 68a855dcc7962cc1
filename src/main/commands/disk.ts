/** `lifeline disk show|blocks`: look at a disk image or device without changing it. */
import { inspectDisk, inspectPartitionBlocks } from '../../app/inspect-disk.ts';
import type { DiskReport, PartitionBlocksReport } from '../../app/inspect-disk.ts';
import { formatBytes } from '../../core/units.ts';
import { booleanOption, integerOption, toJson, UsageError } from '../cli-kit.ts';
import type { Command, OptionSpec, ParsedArgs } from '../cli-kit.ts';
import { openDisk } from '../platform.ts';

const sectorSizeOption: OptionSpec = {
  type: 'string',
  valueName: '512|4096',
  description: 'Logical sector size an image file stands for (devices report their own). Default 512.',
};

function onePath(args: ParsedArgs): string {
  if (args.positionals.length !== 1) throw new UsageError('give exactly one image file or device');
  return args.positionals[0] as string;
}

function sectorSizeOf(args: ParsedArgs): 512 | 4096 | undefined {
  const size = integerOption(args, 'sector-size', { min: 512, max: 4096 });
  if (size !== undefined && size !== 512 && size !== 4096) throw new UsageError('--sector-size must be 512 or 4096');
  return size;
}

export const diskShow: Command = {
  path: ['disk', 'show'],
  summary: "Show a disk's partition table and every problem found in it.",
  positionals: '<image-or-device>',
  options: {
    json: { type: 'boolean', description: 'Print JSON for scripts instead of a table.' },
    'sector-size': sectorSizeOption,
  },
  details: 'Exit status: 0 when the table has no errors, 3 when verify found errors (warnings alone give 0).',
  async run(args, io) {
    const sectorSize = sectorSizeOf(args);
    const device = await openDisk(onePath(args), { writable: false, ...(sectorSize ? { logicalSectorSize: sectorSize } : {}) });
    try {
      const report = await inspectDisk(device);
      io.out(booleanOption(args, 'json') ? toJson(report) : renderDiskReport(report));
      return report.problems.some((p) => p.severity === 'error') ? 3 : 0;
    } finally {
      await device.close();
    }
  },
};

export const diskBlocks: Command = {
  path: ['disk', 'blocks'],
  summary: "Show a partition's filesystem and how many bytes of it are in use.",
  positionals: '<image-or-device>',
  options: {
    partition: { type: 'string', valueName: 'N', description: 'Partition number, as `disk show` lists it (required).' },
    extents: { type: 'boolean', description: 'Also list every used extent (offsets relative to the partition start).' },
    json: { type: 'boolean', description: 'Print JSON for scripts.' },
    'sector-size': sectorSizeOption,
  },
  async run(args, io) {
    const number = integerOption(args, 'partition', { min: 1, max: 65535 });
    if (number === undefined) throw new UsageError('--partition is required');
    const sectorSize = sectorSizeOf(args);
    const device = await openDisk(onePath(args), { writable: false, ...(sectorSize ? { logicalSectorSize: sectorSize } : {}) });
    try {
      const report = await inspectPartitionBlocks(device, number);
      io.out(booleanOption(args, 'json') ? toJson(report) : renderBlocksReport(report, booleanOption(args, 'extents')));
      return 0;
    } finally {
      await device.close();
    }
  },
};

function table(rows: readonly (readonly string[])[], rightAligned: ReadonlySet<number>): string[] {
  const widths = rows[0]?.map((_, col) => Math.max(...rows.map((r) => (r[col] ?? '').length))) ?? [];
  return rows.map((r) => r.map((cell, col) => (rightAligned.has(col) ? cell.padStart(widths[col] ?? 0) : cell.padEnd(widths[col] ?? 0))).join('  ').trimEnd());
}

export function renderDiskReport(report: DiskReport): string {
  const g = report.geometry;
  const sectors = g.sizeBytes / BigInt(g.logicalSectorSize);
  const lines = [
    `Disk ${report.path}: ${formatBytes(g.sizeBytes)} (${g.sizeBytes} bytes), ${sectors} sectors of ${g.logicalSectorSize} bytes (physical ${g.physicalSectorSize})`,
  ];
  const style = { mbr: 'MBR', gpt: 'GPT', none: 'none (no partition table)' }[report.style];
  const identity = report.identity ? (report.style === 'gpt' ? `   Disk GUID: ${report.identity}` : `   Disk signature: 0x${report.identity}`) : '';
  const source = report.tableSource === 'backup' ? '   (read from the BACKUP copy: the primary is damaged)' : '';
  lines.push(`Partition table: ${style}${identity}${source}`);
  if (report.partitions.length > 0) {
    const rows: string[][] = [['#', 'Start', 'End', 'Sectors', 'Size', 'Type', 'Name', 'Flags']];
    for (const p of report.partitions) {
      const flags = [p.bootable ? (report.style === 'gpt' ? 'boot' : 'active') : '', p.logical ? 'logical' : '', p.dynamic ? 'dynamic' : '', p.attributes ? `attrs=0x${p.attributes.toString(16).padStart(16, '0')}` : '']
        .filter(Boolean).join(',');
      const type = report.style === 'gpt' ? p.typeName : `${p.type} ${p.typeName}`;
      rows.push([String(p.number), String(p.startLba), String(p.startLba + p.sectorCount - 1n), String(p.sectorCount), formatBytes(p.sectorCount * BigInt(g.logicalSectorSize)), type, p.name, flags]);
    }
    lines.push('', ...table(rows, new Set([0, 1, 2, 3, 4])));
    if (report.style === 'gpt') {
      lines.push('', 'Partition GUIDs:', ...report.partitions.map((p) => `  ${p.number}: ${p.uniqueGuid ?? '-'}  type ${p.type}`));
    }
  }
  lines.push('');
  if (report.problems.length === 0) {
    lines.push('No problems found.');
  } else {
    lines.push(`Problems (${report.problems.length}):`);
    for (const p of report.problems) lines.push(`  ${p.severity === 'error' ? 'ERROR  ' : 'warning'}  ${p.code}: ${p.message}`);
  }
  return lines.join('\n');
}

export function renderBlocksReport(report: PartitionBlocksReport, withExtents: boolean): string {
  const { partition, map } = report;
  const share = map.partitionBytes > 0n ? Number((map.usedBytes * 10000n) / map.partitionBytes) / 100 : 0;
  const lines = [
    `Partition ${partition.number}: ${formatBytes(map.partitionBytes)} (${map.partitionBytes} bytes)`,
    `Filesystem: ${map.filesystem}${map.label ? `  label "${map.label}"` : ''}${map.serial ? `  serial ${map.serial}` : ''}`,
    `Cluster size: ${map.clusterSize} bytes`,
    `Used: ${formatBytes(map.usedBytes)} (${map.usedBytes} bytes, ${share}%)`,
    `Extents: ${map.extents.length}`,
  ];
  if (map.filesystem === 'unknown') lines.push('Unknown filesystem: every byte counts as used.');
  if (withExtents) {
    lines.push('', 'Offset (bytes)      Length (bytes)');
    for (const e of map.extents) lines.push(`${String(e.start).padStart(16)}  ${String(e.length).padStart(16)}`);
  }
  return lines.join('\n');
}
