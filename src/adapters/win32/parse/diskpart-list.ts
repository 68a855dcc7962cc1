/**
 * diskpart `list disk`, `list partition` and `list volume` (en-US column order, any indent):
 *   Disk ###  Status  Size  Free  Dyn  Gpt
 *   Partition ###  Type  Size  Offset
 *   Volume ###  Ltr  Label  Fs  Type  Size  Status  Info
 * Sizes are rounded by diskpart (binary units, "238 GB"); the text is kept next to the bytes.
 * Use these to show the operator what diskpart sees; the truth for writing comes from IOCTLs.
 */
import { parseDiskpartTable } from './diskpart-table.ts';
import { parseSize } from './text.ts';

export interface DiskpartDisk {
  readonly number: number;
  readonly selected: boolean;
  /** "Online", "Offline", "No Media", … as printed. */
  readonly status: string;
  readonly sizeText: string;
  readonly sizeBytes: bigint | undefined;
  readonly freeText: string;
  readonly freeBytes: bigint | undefined;
  readonly dynamic: boolean;
  readonly gpt: boolean;
}

export interface DiskpartPartition {
  readonly number: number;
  readonly selected: boolean;
  /** "Primary", "System", "Reserved", "Recovery", "Extended", "Logical", "Dynamic Data", … */
  readonly type: string;
  readonly sizeText: string;
  readonly sizeBytes: bigint | undefined;
  readonly offsetText: string;
  readonly offsetBytes: bigint | undefined;
}

export interface DiskpartVolume {
  readonly number: number;
  readonly selected: boolean;
  /** "C:"-style letter, or undefined when the volume has none. */
  readonly letter: string | undefined;
  readonly label: string;
  readonly fileSystem: string;
  /** "Partition", "Removable", "DVD-ROM", "Simple", "Mirror", … */
  readonly type: string;
  readonly sizeText: string;
  readonly sizeBytes: bigint | undefined;
  readonly status: string;
  /** "Boot", "System", "Hidden", "Pagefile", … or ''. */
  readonly info: string;
}

const cell = (cells: readonly string[], i: number) => cells[i] ?? '';

export function parseListDisk(stdout: string): DiskpartDisk[] {
  return parseDiskpartTable(stdout).map((r) => ({
    number: r.number,
    selected: r.selected,
    status: cell(r.cells, 1),
    sizeText: cell(r.cells, 2),
    sizeBytes: parseSize(cell(r.cells, 2)),
    freeText: cell(r.cells, 3),
    freeBytes: parseSize(cell(r.cells, 3)),
    dynamic: cell(r.cells, 4) === '*',
    gpt: cell(r.cells, 5) === '*',
  }));
}

export function parseListPartition(stdout: string): DiskpartPartition[] {
  return parseDiskpartTable(stdout).map((r) => ({
    number: r.number,
    selected: r.selected,
    type: cell(r.cells, 1),
    sizeText: cell(r.cells, 2),
    sizeBytes: parseSize(cell(r.cells, 2)),
    offsetText: cell(r.cells, 3),
    offsetBytes: parseSize(cell(r.cells, 3)),
  }));
}

export function parseListVolume(stdout: string): DiskpartVolume[] {
  return parseDiskpartTable(stdout).map((r) => {
    const letter = cell(r.cells, 1);
    return {
      number: r.number,
      selected: r.selected,
      letter: /^[A-Za-z]$/.test(letter) ? `${letter.toUpperCase()}:` : undefined,
      label: cell(r.cells, 2),
      fileSystem: cell(r.cells, 3),
      type: cell(r.cells, 4),
      sizeText: cell(r.cells, 5),
      sizeBytes: parseSize(cell(r.cells, 5)),
      status: cell(r.cells, 6),
      info: cell(r.cells, 7),
    };
  });
}
