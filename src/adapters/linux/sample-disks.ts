/**
 * Windows-like sample volumes and disks (for the demo, the tests and the benchmarks), built with the real tools as small sparse files:
 * mkntfs + ntfscp for NTFS, mkfs.vfat + mtools for FAT32, sgdisk / sfdisk for the tables.
 * Nothing is mounted. Every builder returns the layout it made and the files it placed, with
 * their SHA-256, so restore tests can check what comes back.
 *
 *   makeNtfsImage / makeFat32Image   one partition's filesystem in its own image file
 *   makeGptUefiDisk                  GPT: ESP (FAT32) · MSR · Windows (NTFS) · Recovery (NTFS, 0x8000000000000001)
 *   makeMbrBiosDisk                  MBR: active "System Reserved" (NTFS) · Windows (NTFS)
 *   imageRangeReader                 a ByteReader over a byte range of an image (one partition)
 *
 * Limits: ntfscp cannot create directories, so NTFS files live in the root directory; FAT files
 * may have any path (directories are made with mmd). Disks use 512-byte sectors.
 */
import { createHash } from 'node:crypto';
import { open, rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ByteReader } from '../../core/blockmap/detect.ts';
import { RecoveryError } from '../../core/errors.ts';
import { ChildProcessRunner } from '../node/child-process-runner.ts';

const runner = new ChildProcessRunner();

/** Runs one of the disk tools; its own words become the error when it fails. */
async function mustRun(file: string, args: readonly string[], options: { input?: string } = {}): Promise<string> {
  const result = await runner.run(file, args, { timeoutMs: 120_000, ...(options.input === undefined ? {} : { input: options.input }) });
  if (result.exitCode !== 0) {
    throw new RecoveryError('sample.tool-failed', `${file} ${args.join(' ')} exited ${result.exitCode}: ${(result.stderr || result.stdout).trim().slice(-400)}`, {
      data: { file, args, exitCode: result.exitCode },
    });
  }
  return result.stdout;
}

const MiB = 1024 * 1024;
const SECTOR = 512;

// ---------------------------------------------------------------- files

/** A file to place: given bytes or text, or `size` deterministic pseudo-random bytes from `seed`. */
export type FileSpec =
  | { readonly path: string; readonly data: Uint8Array | string }
  | { readonly path: string; readonly size: number; readonly seed?: string };

export interface KnownFile {
  /** Path inside the volume with forward slashes, no leading slash: "EFI/Microsoft/Boot/bootmgfw.efi". */
  readonly path: string;
  readonly size: number;
  readonly sha256: string;
}

/** Incompressible but reproducible content: SHA-256 in counter mode over the seed. */
export function fileBytes(spec: FileSpec): Uint8Array {
  if ('data' in spec) return typeof spec.data === 'string' ? new TextEncoder().encode(spec.data) : spec.data;
  const out = new Uint8Array(spec.size);
  const seed = spec.seed ?? spec.path;
  for (let at = 0, block = 0; at < spec.size; at += 32, block++) {
    const digest = createHash('sha256').update(`${seed}:${block}`).digest();
    out.set(digest.subarray(0, Math.min(32, spec.size - at)), at);
  }
  return out;
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function knownFile(spec: FileSpec, bytes: Uint8Array): KnownFile {
  return { path: spec.path.replace(/^\/+/, ''), size: bytes.length, sha256: sha256(bytes) };
}

let hostFileCounter = 0;

/** Writes a file's bytes to a host temp file for ntfscp / mcopy. */
async function hostCopy(dir: string, bytes: Uint8Array): Promise<string> {
  const path = join(dir, `.fixture-src-${process.pid}-${hostFileCounter++}`);
  await writeFile(path, bytes);
  return path;
}

// ---------------------------------------------------------------- partition images

export interface PartitionImage {
  readonly path: string;
  readonly sizeBytes: bigint;
  readonly filesystem: 'ntfs' | 'fat32';
  readonly label: string;
  readonly files: readonly KnownFile[];
}

export interface NtfsImageOptions {
  readonly sizeMiB: number;
  readonly files?: readonly FileSpec[];
  readonly label?: string;
  /** Image file name inside `dir` (default "ntfs-<label>.img"). */
  readonly name?: string;
  /** Bytes per cluster (mkntfs -c); default mkntfs's choice (4096 for small volumes). */
  readonly clusterSize?: number;
  /** Bytes per sector (mkntfs -s; 512 or 4096). */
  readonly sectorSize?: 512 | 4096;
  /** The partition's start LBA on its disk, recorded in the boot sector as Windows needs to boot. */
  readonly startSector?: bigint;
}

/** An NTFS volume filling a new sparse image; files are copied into its root directory. */
export async function makeNtfsImage(dir: string, options: NtfsImageOptions): Promise<PartitionImage> {
  const label = options.label ?? 'NTFS';
  const path = join(dir, options.name ?? `ntfs-${label}.img`);
  const sizeBytes = BigInt(options.sizeMiB * MiB);
  await writeFile(path, '');
  await truncate(path, Number(sizeBytes));
  await mustRun('mkntfs', [
    '-F', '-Q', '-q', '-L', label, '-s', String(options.sectorSize ?? SECTOR), '-p', String(options.startSector ?? 0n), '-H', '255', '-S', '63',
    ...(options.clusterSize === undefined ? [] : ['-c', String(options.clusterSize)]),
    path,
  ]);
  const files: KnownFile[] = [];
  for (const spec of options.files ?? []) {
    const name = spec.path.replace(/^\/+/, '');
    if (name.includes('/')) throw new Error(`NTFS fixture files live in the root directory (ntfscp cannot create directories): ${spec.path}`);
    const bytes = fileBytes(spec);
    const source = await hostCopy(dir, bytes);
    await mustRun('ntfscp', ['-q', path, source, `/${name}`]);
    await rm(source);
    files.push(knownFile(spec, bytes));
  }
  return { path, sizeBytes, filesystem: 'ntfs', label, files };
}

export interface Fat32ImageOptions {
  readonly sizeMiB: number;
  readonly files?: readonly FileSpec[];
  readonly label?: string;
  readonly name?: string;
  /** Sectors per cluster (mkfs.vfat -s); 1 lets a 33+ MiB volume reach FAT32's 65525 clusters. */
  readonly sectorsPerCluster?: number;
  /** Volume id as 8 hex digits (mkfs.vfat -i); shows as "XXXX-XXXX". */
  readonly volumeId?: string;
  readonly startSector?: bigint;
}

/** Adds files (creating their directories) to a FAT image with mtools. */
export async function copyIntoFat(dir: string, image: string, specs: readonly FileSpec[]): Promise<KnownFile[]> {
  const dirs = new Set<string>();
  for (const spec of specs) {
    const parts = spec.path.replace(/^\/+/, '').split('/').slice(0, -1);
    for (let i = 1; i <= parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
  }
  const sorted = [...dirs].sort((a, b) => a.split('/').length - b.split('/').length);
  if (sorted.length > 0) await mustRun('mmd', ['-i', image, ...sorted.map((d) => `::/${d}`)]);
  const files: KnownFile[] = [];
  for (const spec of specs) {
    const bytes = fileBytes(spec);
    const source = await hostCopy(dir, bytes);
    await mustRun('mcopy', ['-o', '-i', image, source, `::/${spec.path.replace(/^\/+/, '')}`]);
    await rm(source);
    files.push(knownFile(spec, bytes));
  }
  return files;
}

/** A FAT32 volume (an ESP, typically) filling a new sparse image. */
export async function makeFat32Image(dir: string, options: Fat32ImageOptions): Promise<PartitionImage> {
  const label = options.label ?? 'FAT32';
  const path = join(dir, options.name ?? `fat32-${label}.img`);
  const sizeBytes = BigInt(options.sizeMiB * MiB);
  await writeFile(path, '');
  await truncate(path, Number(sizeBytes));
  await mustRun('mkfs.vfat', [
    '-F', '32', '-S', String(SECTOR), '-s', String(options.sectorsPerCluster ?? 1), '-n', label,
    '-i', options.volumeId ?? '1234abcd', '-h', String(options.startSector ?? 0n), '--invariant', path,
  ]);
  const files = await copyIntoFat(dir, path, options.files ?? []);
  return { path, sizeBytes, filesystem: 'fat32', label, files };
}

// ---------------------------------------------------------------- whole disks

export type PartitionRole = 'esp' | 'msr' | 'windows' | 'recovery' | 'system-reserved';

export interface FixturePartition {
  readonly number: number;
  readonly role: PartitionRole;
  readonly startLba: bigint;
  readonly sectorCount: bigint;
  readonly offsetBytes: bigint;
  readonly sizeBytes: bigint;
  /** GPT type GUID (lower case) or MBR type byte as "0x07". */
  readonly type: string;
  readonly uniqueGuid?: string;
  readonly attributes?: bigint;
  readonly name: string;
  readonly bootable: boolean;
  readonly filesystem: 'ntfs' | 'fat32' | 'none';
  readonly label?: string;
  readonly files: readonly KnownFile[];
}

export interface FixtureDisk {
  readonly path: string;
  readonly sizeBytes: bigint;
  readonly sectorSize: 512;
  readonly style: 'gpt' | 'mbr';
  /** GPT disk GUID (lower case). */
  readonly diskGuid?: string;
  /** MBR disk signature. */
  readonly diskSignature?: number;
  readonly partitions: readonly FixturePartition[];
}

export const GPT_TYPES = {
  esp: 'c12a7328-f81f-11d2-ba4b-00a0c93ec93b',
  msr: 'e3c9e316-0b5c-4db8-817d-f92df00215ae',
  basicData: 'ebd0a0a2-b9e5-4433-87c0-68b6b72699c7',
  recovery: 'de94bba4-06d1-4d40-a16a-bfd50179d6ac',
} as const;

/** GPT_ATTRIBUTE_PLATFORM_REQUIRED | GPT_BASIC_DATA_ATTRIBUTE_NO_DRIVE_LETTER, as Windows sets on WinRE. */
export const RECOVERY_ATTRIBUTES = 0x8000000000000001n;

export interface GptUefiDiskOptions {
  /** Image file name inside `dir` (default "gpt-uefi.img"). */
  readonly name?: string;
  readonly sizesMiB?: { readonly esp?: number; readonly msr?: number; readonly windows?: number; readonly recovery?: number };
  readonly files?: { readonly esp?: readonly FileSpec[]; readonly windows?: readonly FileSpec[]; readonly recovery?: readonly FileSpec[] };
  readonly diskGuid?: string;
  /** Unique GUIDs for partitions 1–4. */
  readonly partitionGuids?: readonly [string, string, string, string];
}

export const DEFAULT_GPT_FILES = {
  esp: [
    { path: 'EFI/Microsoft/Boot/bootmgfw.efi', size: 96 * 1024 },
    { path: 'EFI/Microsoft/Boot/BCD', size: 24 * 1024 },
    { path: 'EFI/Boot/bootx64.efi', size: 64 * 1024 },
  ],
  windows: [
    { path: 'hello.txt', data: 'Lifeline fixture: the Windows volume.\r\n' },
    { path: 'ntoskrnl.exe', size: 1536 * 1024 },
    { path: 'pagefile.sys', size: 2 * MiB + 1234 },
  ],
  recovery: [{ path: 'Winre.wim', size: 768 * 1024 }],
} satisfies Record<string, FileSpec[]>;

const DEFAULT_DISK_GUID = '5d1e2f30-4a5b-4c6d-8e7f-901a2b3c4d5e';
const DEFAULT_PARTITION_GUIDS = [
  '0c1d2e3f-0001-4a4b-8c8d-000000000001',
  '0c1d2e3f-0002-4a4b-8c8d-000000000002',
  '0c1d2e3f-0003-4a4b-8c8d-000000000003',
  '0c1d2e3f-0004-4a4b-8c8d-000000000004',
] as const;

/** Copies a partition image into a disk image at `offset`, keeping holes as holes. */
async function placeImage(disk: string, image: string, offset: bigint): Promise<void> {
  await mustRun('dd', [`if=${image}`, `of=${disk}`, 'bs=1M', `seek=${offset}`, 'oflag=seek_bytes', 'conv=notrunc,sparse', 'status=none']);
  await rm(image);
}

interface Placement {
  readonly startLba: bigint;
  readonly sectorCount: bigint;
  readonly offsetBytes: bigint;
  readonly sizeBytes: bigint;
}

/** Consecutive 1 MiB-aligned partitions from LBA 2048. */
function plan(sizesMiB: readonly number[]): Placement[] {
  let lba = 2048n;
  return sizesMiB.map((sizeMiB) => {
    const sectorCount = BigInt((sizeMiB * MiB) / SECTOR);
    const placed = { startLba: lba, sectorCount, offsetBytes: lba * BigInt(SECTOR), sizeBytes: sectorCount * BigInt(SECTOR) };
    lba += sectorCount;
    return placed;
  });
}

/**
 * A UEFI/GPT Windows disk as Windows Setup lays it out: ESP (FAT32, boot files), MSR (no
 * filesystem), Windows (NTFS "Windows") and WinRE (NTFS "Recovery", attributes 0x8000000000000001).
 */
export async function makeGptUefiDisk(dir: string, options: GptUefiDiskOptions = {}): Promise<FixtureDisk> {
  const sizes = {
    esp: options.sizesMiB?.esp ?? 34, msr: options.sizesMiB?.msr ?? 16,
    windows: options.sizesMiB?.windows ?? 40, recovery: options.sizesMiB?.recovery ?? 16,
  };
  const files = {
    esp: options.files?.esp ?? DEFAULT_GPT_FILES.esp,
    windows: options.files?.windows ?? DEFAULT_GPT_FILES.windows,
    recovery: options.files?.recovery ?? DEFAULT_GPT_FILES.recovery,
  };
  const diskGuid = (options.diskGuid ?? DEFAULT_DISK_GUID).toLowerCase();
  const guids = (options.partitionGuids ?? DEFAULT_PARTITION_GUIDS).map((g) => g.toLowerCase());
  const layout = plan([sizes.esp, sizes.msr, sizes.windows, sizes.recovery]);
  const [esp, msr, windows, recovery] = layout as [Placement, Placement, Placement, Placement];
  const last = recovery;
  // Room after the last partition for the backup GPT (33 sectors), rounded to a whole MiB.
  const sizeBytes = (last.startLba + last.sectorCount) * BigInt(SECTOR) + BigInt(MiB);
  const path = join(dir, options.name ?? 'gpt-uefi.img');
  await writeFile(path, '');
  await truncate(path, Number(sizeBytes));

  const types = [GPT_TYPES.esp, GPT_TYPES.msr, GPT_TYPES.basicData, GPT_TYPES.recovery];
  const names = ['EFI system partition', 'Microsoft reserved partition', 'Basic data partition', 'Recovery'];
  const args = ['-o', '-U', diskGuid];
  layout.forEach((p, i) => {
    const n = i + 1;
    args.push('-n', `${n}:${p.startLba}:${p.startLba + p.sectorCount - 1n}`, '-t', `${n}:${types[i]}`, '-u', `${n}:${guids[i]}`, '-c', `${n}:${names[i]}`);
  });
  args.push('-A', '4:set:0', '-A', '4:set:63', path);
  await mustRun('sgdisk', args);

  const espImage = await makeFat32Image(dir, { sizeMiB: sizes.esp, label: 'SYSTEM', name: 'esp.part', files: files.esp, startSector: esp.startLba });
  await placeImage(path, espImage.path, esp.startLba * BigInt(SECTOR));
  const winImage = await makeNtfsImage(dir, { sizeMiB: sizes.windows, label: 'Windows', name: 'windows.part', files: files.windows, startSector: windows.startLba });
  await placeImage(path, winImage.path, windows.startLba * BigInt(SECTOR));
  const reImage = await makeNtfsImage(dir, { sizeMiB: sizes.recovery, label: 'Recovery', name: 'recovery.part', files: files.recovery, startSector: recovery.startLba });
  await placeImage(path, reImage.path, recovery.startLba * BigInt(SECTOR));

  const common = (i: number) => ({ number: i + 1, type: types[i]!, uniqueGuid: guids[i]!, name: names[i]!, bootable: false });
  return {
    path, sizeBytes, sectorSize: 512, style: 'gpt', diskGuid,
    partitions: [
      { ...common(0), role: 'esp', ...esp, attributes: 0n, filesystem: 'fat32', label: espImage.label, files: espImage.files },
      { ...common(1), role: 'msr', ...msr, attributes: 0n, filesystem: 'none', files: [] },
      { ...common(2), role: 'windows', ...windows, attributes: 0n, filesystem: 'ntfs', label: winImage.label, files: winImage.files },
      { ...common(3), role: 'recovery', ...recovery, attributes: RECOVERY_ATTRIBUTES, filesystem: 'ntfs', label: reImage.label, files: reImage.files },
    ],
  };
}

export interface MbrBiosDiskOptions {
  readonly name?: string;
  readonly sizesMiB?: { readonly systemReserved?: number; readonly windows?: number };
  readonly files?: { readonly systemReserved?: readonly FileSpec[]; readonly windows?: readonly FileSpec[] };
  readonly diskSignature?: number;
}

export const DEFAULT_MBR_FILES = {
  systemReserved: [
    { path: 'bootmgr', size: 400 * 1024 },
    { path: 'BOOTSECT.BAK', size: 8192 },
  ],
  windows: DEFAULT_GPT_FILES.windows,
} satisfies Record<string, FileSpec[]>;

/** A BIOS/MBR Windows disk: active NTFS "System Reserved" (boot files) and NTFS "Windows". */
export async function makeMbrBiosDisk(dir: string, options: MbrBiosDiskOptions = {}): Promise<FixtureDisk> {
  const sizes = { systemReserved: options.sizesMiB?.systemReserved ?? 16, windows: options.sizesMiB?.windows ?? 40 };
  const files = {
    systemReserved: options.files?.systemReserved ?? DEFAULT_MBR_FILES.systemReserved,
    windows: options.files?.windows ?? DEFAULT_MBR_FILES.windows,
  };
  const diskSignature = options.diskSignature ?? 0x4c1f3e2d;
  const [sys, win] = plan([sizes.systemReserved, sizes.windows]) as [Placement, Placement];
  const sizeBytes = (win.startLba + win.sectorCount) * BigInt(SECTOR) + BigInt(MiB);
  const path = join(dir, options.name ?? 'mbr-bios.img');
  await writeFile(path, '');
  await truncate(path, Number(sizeBytes));
  const script = [
    'label: dos',
    `label-id: 0x${diskSignature.toString(16).padStart(8, '0')}`,
    `start=${sys.startLba}, size=${sys.sectorCount}, type=7, bootable`,
    `start=${win.startLba}, size=${win.sectorCount}, type=7`,
    '',
  ].join('\n');
  await mustRun('sfdisk', ['--no-reread', '--no-tell-kernel', '-q', path], { input: script });

  const sysImage = await makeNtfsImage(dir, { sizeMiB: sizes.systemReserved, label: 'System Reserved', name: 'system.part', files: files.systemReserved, startSector: sys.startLba });
  await placeImage(path, sysImage.path, sys.startLba * BigInt(SECTOR));
  const winImage = await makeNtfsImage(dir, { sizeMiB: sizes.windows, label: 'Windows', name: 'windows.part', files: files.windows, startSector: win.startLba });
  await placeImage(path, winImage.path, win.startLba * BigInt(SECTOR));
  return {
    path, sizeBytes, sectorSize: 512, style: 'mbr', diskSignature,
    partitions: [
      { number: 1, role: 'system-reserved', ...sys, type: '0x07', name: '', bootable: true, filesystem: 'ntfs', label: sysImage.label, files: sysImage.files },
      { number: 2, role: 'windows', ...win, type: '0x07', name: '', bootable: false, filesystem: 'ntfs', label: winImage.label, files: winImage.files },
    ],
  };
}

// ---------------------------------------------------------------- reading back

/**
 * A ByteReader over bytes [offset, offset + length) of an image file (a partition of a disk
 * image), refusing reads outside that range so a block map that strays fails loudly.
 */
export async function imageRangeReader(path: string, offset: bigint, length: bigint): Promise<{ read: ByteReader; close: () => Promise<void> }> {
  const handle = await open(path, 'r');
  const read: ByteReader = async (at, size) => {
    if (at < 0n || size < 0 || at + BigInt(size) > length) throw new Error(`read of ${size} bytes at ${at} outside the ${length}-byte range`);
    const buffer = new Uint8Array(size);
    const { bytesRead } = await handle.read(buffer, 0, size, Number(offset + at));
    return buffer.subarray(0, bytesRead);
  };
  return { read, close: () => handle.close() };
}

/** Copies one partition of a disk image into its own sparse image file (for ntfs-3g tools, which take no offset). */
export async function extractPartition(disk: string, partition: Pick<FixturePartition, 'offsetBytes' | 'sizeBytes'>, target: string): Promise<string> {
  await mustRun('dd', [`if=${disk}`, `of=${target}`, 'bs=1M', `skip=${partition.offsetBytes}`, `count=${partition.sizeBytes}`, 'iflag=skip_bytes,count_bytes', 'conv=sparse', 'status=none']);
  return target;
}
