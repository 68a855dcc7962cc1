/**
 * What the VSS snapshotter needs to know about the running machine before it asks VSS for anything:
 * every volume with its disk extents, mount points and filesystem (FindFirstVolumeW,
 * IOCTL_VOLUME_GET_VOLUME_DISK_EXTENTS, GetVolumeInformationW), the boot volume (the one holding
 * %SystemRoot%, via GetVolumeNameForVolumeMountPointW of its drive root), and the fixed disks (the
 * disk inventory's non-removable disks: ASR asks for all of them, critical-selection.ts excludes the
 * ones not being imaged).
 */
import { normalizeGuid } from '../../../core/partition/guid.ts';
import type { DiskInventory } from '../../../ports/disk-inventory.ts';
import { Win32DiskInventory } from '../disk-inventory.ts';
import type { DiskExtent } from '../ioctl-decode.ts';
import { kernel32, readWideStrings, wideBuffer, type Kernel32 } from '../kernel32.ts';
import { listVolumes } from '../volumes.ts';

export interface VolumeFact {
  /** Lower-case volume GUID without braces. */
  readonly guid: string;
  /** `\\?\Volume{guid}\` as FindFirstVolumeW gave it. */
  readonly name: string;
  readonly mountPoints: readonly string[];
  /** "ntfs", "refs", "fat32", … lower case; "" when Windows did not say (no filesystem, not mounted). */
  readonly filesystem: string;
  readonly extents: readonly DiskExtent[];
}

export interface MachineFacts {
  readonly volumes: readonly VolumeFact[];
  /** Numbers of every fixed (not removable) disk. */
  readonly fixedDisks: readonly number[];
  /** The volume holding %SystemRoot% ("boot volume" in Windows' words). */
  readonly bootVolumeGuid?: string;
}

const VOLUME_GUID = /Volume\{([0-9a-fA-F-]{36})\}/;

/** The lower-case GUID in `\\?\Volume{…}\`, undefined for other names. */
export function volumeGuidOf(name: string): string | undefined {
  const m = VOLUME_GUID.exec(name);
  return m === null ? undefined : normalizeGuid(m[1]!);
}

function filesystemOf(k: Kernel32, name: string): string {
  const fs = wideBuffer(64);
  const ok = k.GetVolumeInformationW(name.endsWith('\\') ? name : `${name}\\`, null, 0, [0], [0], [0], fs, 64);
  return ok ? (readWideStrings(fs)[0] ?? '').toLowerCase() : '';
}

function volumeAtMountPoint(k: Kernel32, mountPoint: string): string | undefined {
  const buffer = wideBuffer(64);
  if (!k.GetVolumeNameForVolumeMountPointW(mountPoint, buffer, 64)) return undefined;
  const name = readWideStrings(buffer)[0];
  return name === undefined ? undefined : volumeGuidOf(name);
}

export interface GatherOptions {
  readonly kernel?: Kernel32;
  readonly inventory?: DiskInventory;
  /** %SystemRoot% (default the environment's SystemRoot, else C:\Windows). */
  readonly systemRoot?: string;
}

export async function gatherMachineFacts(options: GatherOptions = {}): Promise<MachineFacts> {
  const k = options.kernel ?? kernel32();
  const volumes = listVolumes(k).flatMap((v): VolumeFact[] => {
    const guid = volumeGuidOf(v.name);
    return guid === undefined ? [] : [{ guid, name: v.name, mountPoints: v.mountPoints, filesystem: filesystemOf(k, v.name), extents: v.extents }];
  });
  const inventory = options.inventory ?? new Win32DiskInventory({ kernel: k });
  const fixedDisks = (await inventory.listDisks()).filter((d) => !d.removable).map((d) => d.number);
  const systemRoot = options.systemRoot ?? process.env.SystemRoot ?? 'C:\\Windows';
  const drive = /^([A-Za-z]):/.exec(systemRoot);
  const bootVolumeGuid = drive === null ? undefined : volumeAtMountPoint(k, `${drive[1]!.toUpperCase()}:\\`);
  return { volumes, fixedDisks, ...(bootVolumeGuid === undefined ? {} : { bootVolumeGuid }) };
}
