/**
 * diskpart `detail disk` (en-US): the model on the first line, `Key : value` properties
 * (`Disk ID: 5E27161A` for MBR, `Disk ID: {GUID}` for GPT, `Type : ATA|SAS|NVMe|USB|…`,
 * `Boot Disk : Yes`, …), then the disk's volumes as a `list volume` table or "There are no volumes.".
 */
import { parseListVolume } from './diskpart-list.ts';
import type { DiskpartVolume } from './diskpart-list.ts';
import { isBlank, outputLines } from './text.ts';

export type DiskpartDiskId =
  | { readonly style: 'mbr'; readonly signature: number }
  | { readonly style: 'gpt'; readonly guid: string };

export interface DiskpartDiskDetail {
  readonly model: string;
  /** Every `Key : value` line as printed (keys trimmed). */
  readonly properties: Readonly<Record<string, string>>;
  readonly diskId: DiskpartDiskId | undefined;
  /** Bus type as diskpart names it (`Type` line): ATA, SATA, SAS, SCSI, NVMe, USB, RAID, Virtual, … */
  readonly busType: string | undefined;
  readonly locationPath: string | undefined;
  readonly bootDisk: boolean | undefined;
  readonly readOnly: boolean | undefined;
  readonly volumes: readonly DiskpartVolume[];
}

export function parseDiskId(text: string | undefined): DiskpartDiskId | undefined {
  const t = text?.trim() ?? '';
  if (/^[0-9A-Fa-f]{8}$/.test(t)) return { style: 'mbr', signature: Number.parseInt(t, 16) };
  const m = /^\{([0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})\}$/.exec(t);
  return m === null ? undefined : { style: 'gpt', guid: m[1]!.toLowerCase() };
}

const yesNo = (v: string | undefined) => (v === 'Yes' ? true : v === 'No' ? false : undefined);

export function parseDetailDisk(stdout: string): DiskpartDiskDetail {
  const lines = outputLines(stdout);
  let i = lines.findIndex((l) => !isBlank(l));
  const model = i < 0 ? '' : lines[i]!.trim();
  // No prototype: a property named "constructor" or "__proto__" is just data.
  const properties = Object.create(null) as Record<string, string>;
  for (i = i < 0 ? lines.length : i + 1; i < lines.length && !isBlank(lines[i]!); i++) {
    const line = lines[i]!;
    const colon = line.indexOf(':');
    if (colon < 0) break;
    const key = line.slice(0, colon).trim();
    if (key !== '' && !(key in properties)) properties[key] = line.slice(colon + 1).trim();
  }
  return {
    model,
    properties,
    diskId: parseDiskId(properties['Disk ID']),
    busType: properties['Type'],
    locationPath: properties['Location Path'],
    bootDisk: yesNo(properties['Boot Disk']),
    readOnly: yesNo(properties['Read-only'] ?? properties['Current Read-only State']),
    volumes: parseListVolume(lines.slice(i).join('\n')),
  };
}
