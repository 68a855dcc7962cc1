/**
 * diskpart, driven by a script file (`diskpart /s <file>`): one command per line, no blank lines,
 * ending with `exit`. Units are diskpart's: size= in MB, offset= in KB. Keep all steps of one job
 * in one script; Microsoft asks for ≥ 15 s between two diskpart runs.
 * Failure = exit code 1–5 or a failure banner in the output (parse/diskpart-outcome.ts).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ProcessRunner } from '../../../ports/process-runner.ts';
import { diskpartOutcome } from '../parse/diskpart-outcome.ts';
import type { DiskpartOutcome } from '../parse/diskpart-outcome.ts';
import { invalidArgument, runChecked } from './tool-error.ts';
import type { ToolCommand } from './tool-error.ts';
import { driveLetter, guid, integerIn, plainText } from './validate.ts';

export type DiskpartCommand =
  | { readonly op: 'select-disk'; readonly disk: number }
  | { readonly op: 'select-partition'; readonly partition: number }
  | { readonly op: 'select-volume'; readonly volume: number | string }
  | { readonly op: 'clean' }
  | { readonly op: 'convert'; readonly style: 'gpt' | 'mbr' }
  | {
      readonly op: 'create-partition';
      readonly kind: 'primary' | 'efi' | 'msr';
      readonly sizeMb?: number;
      readonly offsetKb?: number;
      /** MBR type byte (e.g. 0x07) or GPT type GUID; primary partitions only. */
      readonly id?: number | string;
    }
  | { readonly op: 'format'; readonly fs: 'ntfs' | 'fat32' | 'fat'; readonly quick: boolean; readonly label?: string }
  | { readonly op: 'assign-letter'; readonly letter: string }
  | { readonly op: 'active' }
  | { readonly op: 'set-id'; readonly id: number | string }
  | { readonly op: 'gpt-attributes'; readonly attributes: bigint }
  | { readonly op: 'uniqueid-disk'; readonly id: number | string }
  | { readonly op: 'list'; readonly what: 'disk' | 'partition' | 'volume' }
  | { readonly op: 'detail'; readonly what: 'disk' | 'partition' | 'volume' }
  | { readonly op: 'rescan' };

const TOOL = 'diskpart';
const MAX_DISK = 999;
const MAX_PARTITION = 128;
/** NTFS allows 32 characters in a label, FAT 11. */
const LABEL_MAX = { ntfs: 32, fat32: 11, fat: 11 } as const;

/** `id=` text: a type byte as two hex digits (not 0, not LDM 0x42), or a GPT type GUID. */
function partitionId(value: number | string, argument: string): string {
  if (typeof value === 'string') return guid(TOOL, argument, value);
  integerIn(TOOL, argument, value, 1, 0xff);
  if (value === 0x42) throw invalidArgument(TOOL, argument, value, '0x42 (LDM) is refused by diskpart');
  return value.toString(16).toUpperCase().padStart(2, '0');
}

function createPartition(c: Extract<DiskpartCommand, { op: 'create-partition' }>): string {
  const parts = [`create partition ${c.kind}`];
  if (c.sizeMb !== undefined) parts.push(`size=${integerIn(TOOL, 'size (MB)', c.sizeMb, 1, 2 ** 32)}`);
  if (c.offsetKb !== undefined) parts.push(`offset=${integerIn(TOOL, 'offset (KB)', c.offsetKb, 0, 2 ** 42)}`);
  if (c.id !== undefined) {
    if (c.kind !== 'primary') throw invalidArgument(TOOL, 'id', c.id, `create partition ${c.kind} takes no id=`);
    parts.push(`id=${partitionId(c.id, 'id')}`);
  }
  return parts.join(' ');
}

function format(c: Extract<DiskpartCommand, { op: 'format' }>): string {
  const parts = [`format fs=${c.fs}`];
  if (c.quick) parts.push('quick');
  if (c.label !== undefined) {
    // diskpart reads the script in the console code page: only ASCII means the same everywhere.
    if (/[^\x20-\x7e]/.test(c.label)) throw invalidArgument(TOOL, 'label', c.label, 'use printable ASCII only');
    parts.push(`label="${plainText(TOOL, 'label', c.label, LABEL_MAX[c.fs])}"`);
  }
  return parts.join(' ');
}

function uniqueId(id: number | string): string {
  if (typeof id === 'string') return guid(TOOL, 'uniqueid', id);
  return integerIn(TOOL, 'uniqueid', id, 1, 0xffffffff).toString(16).toUpperCase().padStart(8, '0');
}

/** One command as its script line. */
export function diskpartLine(c: DiskpartCommand): string {
  switch (c.op) {
    case 'select-disk': return `select disk ${integerIn(TOOL, 'disk', c.disk, 0, MAX_DISK)}`;
    case 'select-partition': return `select partition ${integerIn(TOOL, 'partition', c.partition, 1, MAX_PARTITION)}`;
    case 'select-volume': return `select volume ${typeof c.volume === 'number'
      ? integerIn(TOOL, 'volume', c.volume, 0, MAX_DISK)
      : driveLetter(TOOL, 'volume', c.volume).slice(0, 1)}`;
    case 'clean': return 'clean';
    case 'convert': return `convert ${c.style}`;
    case 'create-partition': return createPartition(c);
    case 'format': return format(c);
    case 'assign-letter': return `assign letter=${driveLetter(TOOL, 'letter', c.letter).slice(0, 1)}`;
    case 'active': return 'active';
    case 'set-id': return `set id=${partitionId(c.id, 'set id')}`;
    case 'gpt-attributes': {
      if (c.attributes < 0n || c.attributes >= 1n << 64n) throw invalidArgument(TOOL, 'gpt attributes', String(c.attributes), 'not a 64-bit value');
      return `gpt attributes=0x${c.attributes.toString(16).toUpperCase().padStart(16, '0')}`;
    }
    case 'uniqueid-disk': return `uniqueid disk id=${uniqueId(c.id)}`;
    case 'list': return `list ${c.what}`;
    case 'detail': return `detail ${c.what}`;
    case 'rescan': return 'rescan';
  }
}

/** Script text for `diskpart /s`: one line per command, CRLF, no blank lines, ending with `exit`. */
export function diskpartScript(commands: readonly DiskpartCommand[]): string {
  return [...commands.map(diskpartLine), 'exit'].join('\r\n') + '\r\n';
}

export interface BiosSystemPartitionPlan {
  readonly disk: number;
  /** Default 350 MB. */
  readonly sizeMb?: number;
  /** Default K. */
  readonly letter?: string;
  /** Default "System Reserved". */
  readonly label?: string;
}

/**
 * Re-creates a lost BIOS system partition in the disk's free space: primary, type 0x07, NTFS,
 * lettered, active. Follow with `bcdboot <C:>\Windows /s K: /f BIOS` (bcdboot.ts).
 */
export function biosSystemPartitionScript(plan: BiosSystemPartitionPlan): string {
  return diskpartScript([
    { op: 'select-disk', disk: plan.disk },
    { op: 'create-partition', kind: 'primary', sizeMb: plan.sizeMb ?? 350, id: 0x07 },
    { op: 'format', fs: 'ntfs', quick: true, label: plan.label ?? 'System Reserved' },
    { op: 'assign-letter', letter: plan.letter ?? 'K' },
    { op: 'active' },
  ]);
}

export interface DiskpartRun extends DiskpartOutcome {
  readonly stdout: string;
}

export interface RunDiskpartOptions {
  /** Folder for the script file. Default: the OS temp folder. */
  readonly tempDir?: string;
  /** Default 10 minutes (a full format of a large volume takes long). */
  readonly timeoutMs?: number;
  readonly executable?: string;
}

/** Writes the script to a temp file, runs `diskpart /s <file>`, removes the file, judges the outcome. */
export async function runDiskpart(runner: ProcessRunner, script: string, options: RunDiskpartOptions = {}): Promise<DiskpartRun> {
  const dir = await mkdtemp(join(options.tempDir ?? tmpdir(), 'lifeline-diskpart-'));
  const file = join(dir, 'script.txt');
  try {
    await writeFile(file, script, 'utf8');
    const command: ToolCommand = { file: options.executable ?? 'diskpart.exe', args: ['/s', file] };
    const result = await runChecked(runner, command, {
      code: 'tool.diskpart-failed',
      failureIn: (r) => diskpartOutcome(r).errors.join(' | ') || undefined,
      details: (r) => {
        const { exitMeaning, errors } = diskpartOutcome(r);
        return { script: script.split('\r\n').filter((l) => l !== ''), exitMeaning, errors };
      },
      options: { timeoutMs: options.timeoutMs ?? 600_000 },
    });
    return { ...diskpartOutcome(result), stdout: result.stdout };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
