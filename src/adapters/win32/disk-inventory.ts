/**
 * The DiskInventory of a Windows/WinPE machine: every \\.\PhysicalDriveN that opens (N = 0…63),
 * with geometry, bus, vendor/product/serial (STORAGE_DEVICE_DESCRIPTOR), offline/read-only state,
 * the partition table as Windows reads it (IOCTL_DISK_GET_DRIVE_LAYOUT_EX) and the volumes
 * mounted from each partition (matched by disk extent).
 *
 * Boot media (never a restore target), from three pieces of evidence, any of which marks a disk:
 *   1. HKLM\System\CurrentControlSet\Control\PEBootRamdiskSourceDrive — the drive WinPE loaded
 *      boot.wim from (filled in by `wpeutil UpdateBootInfo`, reference §3.1);
 *   2. a volume holding \sources\boot.wim (the WinPE media layout);
 *   3. the volume the running program was started from, when that is not the X: RAM disk (which
 *      has no disk extents and so marks nothing).
 */
import { existsSync } from 'node:fs';
import { summarizePartitions } from '../../core/partition/summary.ts';
import type { DiskInfo, DiskInventory, DiskPartitionInfo } from '../../ports/disk-inventory.ts';
import type { ProcessRunner } from '../../ports/process-runner.ts';
import { decodeDeviceDescriptor, decodeDiskAttributes, descriptorSize, encodePropertyQuery, STORAGE_PROPERTY } from './ioctl-decode.ts';
import { FILE_SHARE_READ, FILE_SHARE_WRITE, GENERIC_READ, INVALID_HANDLE_VALUE, OPEN_EXISTING, deviceIoControl, kernel32 } from './kernel32.ts';
import type { Kernel32 } from './kernel32.ts';
import { decodeDriveLayout, tableFromDriveLayout } from './layout-writer.ts';
import { probeDisk } from './physical-drive.ts';
import { IOCTL } from './structs.ts';
import { regQueryValue } from './tools/reg.ts';
import { listVolumes } from './volumes.ts';
import type { VolumeInfo } from './volumes.ts';

export const MAX_DISKS = 64;
const CONTROL_KEY = 'HKLM\\System\\CurrentControlSet\\Control';

export interface BootMediaFacts {
  /** PEBootRamdiskSourceDrive ("E:\"), when WinPE recorded it. */
  readonly ramdiskSource?: string;
  /** Mount points (drive roots) whose volume holds \sources\boot.wim. */
  readonly bootWimAt: readonly string[];
  /** The drive root the running program lives on ("D:\"). */
  readonly programDrive?: string;
}

/** "e:" / "E:\" / "E:\\" → "e:\" so mount points compare equal. */
function normalizeMountPoint(path: string): string {
  return `${path.toLowerCase().replace(/\\+$/, '')}\\`;
}

/** Disk number → why it holds boot media, for every disk under a volume the facts point at. */
export function bootMediaDisks(volumes: readonly VolumeInfo[], facts: BootMediaFacts): Map<number, string> {
  const evidence: [string, string][] = [
    ...(facts.ramdiskSource === undefined ? [] : [[facts.ramdiskSource, `PEBootRamdiskSourceDrive is ${facts.ramdiskSource}`] as [string, string]]),
    ...facts.bootWimAt.map((mp): [string, string] => [mp, `${mp.replace(/\\?$/, '\\')}sources\\boot.wim`]),
    ...(facts.programDrive === undefined ? [] : [[facts.programDrive, `the program runs from ${facts.programDrive}`] as [string, string]]),
  ];
  const out = new Map<number, string>();
  for (const [mountPoint, reason] of evidence) {
    const volume = volumes.find((v) => v.mountPoints.some((mp) => normalizeMountPoint(mp) === normalizeMountPoint(mountPoint)));
    for (const extent of volume?.extents ?? []) if (!out.has(extent.diskNumber)) out.set(extent.diskNumber, reason);
  }
  return out;
}

/** The drive root of a Windows path ("D:\"), undefined for UNC and relative paths. */
export function driveRootOf(path: string): string | undefined {
  const m = /^([A-Za-z]):\\/.exec(path);
  return m === null ? undefined : `${m[1]!.toUpperCase()}:\\`;
}

export interface Win32DiskInventoryDeps {
  readonly kernel?: Kernel32;
  /** Runs reg.exe for PEBootRamdiskSourceDrive; without it that evidence is not used. */
  readonly runner?: ProcessRunner;
  readonly fileExists?: (path: string) => boolean;
  /** The running program (default process.execPath). */
  readonly programPath?: string;
}

function queryDevice(k: Kernel32, handle: number, path: string, code: number, input: Uint8Array | null, size: number): Uint8Array | undefined {
  try {
    return deviceIoControl(k, handle, code, input, size, path);
  } catch {
    return undefined;
  }
}

/** Vendor/product/serial and bus: ask for the 8-byte header first, then the size it names. */
function deviceDescriptor(k: Kernel32, handle: number, path: string) {
  const query = encodePropertyQuery(STORAGE_PROPERTY.device);
  const header = queryDevice(k, handle, path, IOCTL.STORAGE_QUERY_PROPERTY, query, 8);
  if (header === undefined || header.length < 8) return undefined;
  const full = queryDevice(k, handle, path, IOCTL.STORAGE_QUERY_PROPERTY, query, Math.max(descriptorSize(header), 40));
  return full === undefined ? undefined : decodeDeviceDescriptor(full);
}

function partitionsOf(table: ReturnType<typeof tableFromDriveLayout>, volumes: readonly VolumeInfo[], diskNumber: number, sector: number): DiskPartitionInfo[] {
  if (table === undefined) return [];
  return summarizePartitions(table).map((p) => {
    const offset = p.startLba * BigInt(sector);
    const volume = volumes.find((v) => v.extents.some((e) => e.diskNumber === diskNumber && e.offsetBytes === offset));
    return volume === undefined ? { ...p, mountPoints: [] } : { ...p, volume: volume.name, mountPoints: volume.mountPoints };
  });
}

export class Win32DiskInventory implements DiskInventory {
  constructor(private readonly deps: Win32DiskInventoryDeps = {}) {}

  async listDisks(): Promise<readonly DiskInfo[]> {
    const k = this.deps.kernel ?? kernel32();
    const volumes = listVolumes(k);
    const boot = bootMediaDisks(volumes, await this.bootFacts(volumes));
    const disks: DiskInfo[] = [];
    for (let n = 0; n < MAX_DISKS; n++) {
      const disk = this.queryDisk(k, n, volumes, boot);
      if (disk !== undefined) disks.push(disk);
    }
    return disks;
  }

  private async bootFacts(volumes: readonly VolumeInfo[]): Promise<BootMediaFacts> {
    const exists = this.deps.fileExists ?? existsSync;
    const roots = volumes.flatMap((v) => v.mountPoints).filter((mp) => /^[A-Za-z]:\\$/.test(mp));
    let ramdiskSource: string | undefined;
    if (this.deps.runner !== undefined) {
      try {
        const value = await regQueryValue(this.deps.runner, CONTROL_KEY, 'PEBootRamdiskSourceDrive');
        if (value?.data.kind === 'string' && value.data.value !== '') ramdiskSource = value.data.value;
      } catch {
        // Outside WinPE the value does not exist; the other evidence still counts.
      }
    }
    const programDrive = driveRootOf(this.deps.programPath ?? process.execPath);
    return {
      ...(ramdiskSource === undefined ? {} : { ramdiskSource }),
      bootWimAt: roots.filter((root) => exists(`${root}sources\\boot.wim`)),
      ...(programDrive === undefined ? {} : { programDrive }),
    };
  }

  private queryDisk(k: Kernel32, n: number, volumes: readonly VolumeInfo[], boot: ReadonlyMap<number, string>): DiskInfo | undefined {
    const path = `\\\\.\\PhysicalDrive${n}`;
    const handle = k.CreateFileW(path, GENERIC_READ >>> 0, FILE_SHARE_READ | FILE_SHARE_WRITE, null, OPEN_EXISTING, 0, 0);
    if (handle === INVALID_HANDLE_VALUE) return undefined;
    try {
      let probe;
      try {
        probe = probeDisk(k, handle, path);
      } catch {
        return undefined;
      }
      const descriptor = deviceDescriptor(k, handle, path);
      const attributesBytes = queryDevice(k, handle, path, IOCTL.DISK_GET_DISK_ATTRIBUTES, null, 16);
      const attributes = attributesBytes === undefined ? undefined : decodeDiskAttributes(attributesBytes);
      const layoutBytes = queryDevice(k, handle, path, IOCTL.DISK_GET_DRIVE_LAYOUT_EX, null, 48 + 144 * 16);
      const layout = layoutBytes === undefined ? undefined : decodeDriveLayout(layoutBytes);
      const sector = probe.geometry.logicalSectorSize;
      const table = layout === undefined ? undefined : tableFromDriveLayout(layout, sector);
      const number = probe.diskNumber ?? n;
      const reason = boot.get(number);
      return {
        number, path, geometry: probe.geometry,
        busType: descriptor?.busType ?? 'Unknown',
        model: [descriptor?.vendor ?? '', descriptor?.product ?? ''].filter((s) => s !== '').join(' '),
        serial: descriptor?.serial ?? '',
        removable: descriptor?.removable ?? false,
        style: layout?.style ?? 'raw',
        ...(table?.style === 'gpt' ? { diskId: table.diskGuid } : table?.style === 'mbr' ? { diskId: (table.diskSignature >>> 0).toString(16).padStart(8, '0') } : {}),
        partitions: partitionsOf(table, volumes, number, sector),
        holdsBootMedia: reason !== undefined,
        ...(reason === undefined ? {} : { bootMediaReason: reason }),
        readOnly: probe.writeProtected,
        offline: attributes?.offline ?? false,
      };
    } finally {
      k.CloseHandle(handle);
    }
  }
}
