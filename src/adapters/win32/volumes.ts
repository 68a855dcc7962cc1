/**
 * Volumes as Windows sees them (reference §2.6): FindFirstVolumeW/FindNextVolumeW give
 * `\\?\Volume{GUID}\` names (with the trailing backslash SetVolumeMountPointW wants; CreateFileW
 * needs it stripped), GetVolumePathNamesForVolumeNameW their mount points, and
 * IOCTL_VOLUME_GET_VOLUME_DISK_EXTENTS on the opened volume the disks and byte ranges under them.
 *
 * Locking (reference §2.3): Vista+ refuses raw writes into a mounted volume's extents through the
 * disk handle. Before writing a disk, every volume with an extent on it is opened read/write,
 * locked (FSCTL_LOCK_VOLUME, which fails while files are open: retried) and dismounted
 * (FSCTL_DISMOUNT_VOLUME); the handles stay open until the disk is closed, because closing one
 * releases its lock and lets Windows mount the volume again.
 */
import { RecoveryError } from '../../core/errors.ts';
import { decodeVolumeDiskExtents } from './ioctl-decode.ts';
import type { DiskExtent } from './ioctl-decode.ts';
import {
  FILE_SHARE_READ, FILE_SHARE_WRITE, GENERIC_READ, GENERIC_WRITE, INVALID_HANDLE_VALUE, OPEN_EXISTING, WIN32_ERROR,
  Win32CallError, deviceIoControl, readWideStrings, wideBuffer,
} from './kernel32.ts';
import type { Kernel32 } from './kernel32.ts';
import { FSCTL, IOCTL } from './structs.ts';

export interface VolumeInfo {
  /** `\\?\Volume{GUID}\`, as FindFirstVolumeW returns it. */
  readonly name: string;
  readonly mountPoints: readonly string[];
  /** Empty when the volume has no disk extents to report (optical drives, RAM disks, wine's drives). */
  readonly extents: readonly DiskExtent[];
}

const VOLUME_NAME_CHARS = 64;

/** The path CreateFileW opens a volume by: its GUID name without the trailing backslash. */
export function volumeDevicePath(name: string): string {
  return name.endsWith('\\') ? name.slice(0, -1) : name;
}

function mountPointsOf(k: Kernel32, name: string): string[] {
  for (let chars = 256; chars <= 65536; chars *= 4) {
    const buffer = wideBuffer(chars);
    const needed = [0];
    if (k.GetVolumePathNamesForVolumeNameW(name, buffer, chars, needed)) return readWideStrings(buffer);
    if (k.GetLastError() !== WIN32_ERROR.MORE_DATA) return [];
  }
  return [];
}

function extentsOf(k: Kernel32, name: string): DiskExtent[] {
  const path = volumeDevicePath(name);
  const handle = k.CreateFileW(path, 0, FILE_SHARE_READ | FILE_SHARE_WRITE, null, OPEN_EXISTING, 0, 0);
  if (handle === INVALID_HANDLE_VALUE) return [];
  try {
    return decodeVolumeDiskExtents(deviceIoControl(k, handle, IOCTL.VOLUME_GET_VOLUME_DISK_EXTENTS, null, 8 + 24, path));
  } catch {
    // Volumes that are not on disks (CD-ROM, RAM disk X:) answer ERROR_INVALID_FUNCTION.
    return [];
  } finally {
    k.CloseHandle(handle);
  }
}

/** Every volume the volume manager knows, with its mount points and disk extents. */
export function listVolumes(k: Kernel32): VolumeInfo[] {
  const buffer = wideBuffer(VOLUME_NAME_CHARS);
  const find = k.FindFirstVolumeW(buffer, VOLUME_NAME_CHARS);
  if (find === INVALID_HANDLE_VALUE) {
    const error = k.GetLastError();
    if (error === WIN32_ERROR.NO_MORE_FILES || error === WIN32_ERROR.FILE_NOT_FOUND) return [];
    throw new Win32CallError('FindFirstVolumeW', error, 'volumes');
  }
  const names: string[] = [];
  try {
    do {
      const name = readWideStrings(buffer)[0];
      if (name !== undefined) names.push(name);
      buffer.fill(0);
    } while (k.FindNextVolumeW(find, buffer, VOLUME_NAME_CHARS));
  } finally {
    k.FindVolumeClose(find);
  }
  return names.map((name) => ({ name, mountPoints: mountPointsOf(k, name), extents: extentsOf(k, name) }));
}

/** Locked and dismounted volume handles, held until `release`. */
export interface VolumeLocks {
  readonly volumes: readonly VolumeInfo[];
  release(): void;
}

export interface LockOptions {
  /** Tries of FSCTL_LOCK_VOLUME per volume (a lock fails while any file on it is open). */
  readonly attempts?: number;
  readonly retryDelayMs?: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Locks and dismounts every volume with an extent on disk `diskNumber`; all or none. */
export async function lockVolumesOnDisk(k: Kernel32, diskNumber: number, options: LockOptions = {}): Promise<VolumeLocks> {
  const attempts = options.attempts ?? 10;
  const delay = options.retryDelayMs ?? 300;
  const touching = listVolumes(k).filter((v) => v.extents.some((e) => e.diskNumber === diskNumber));
  const held: number[] = [];
  const release = () => {
    for (const handle of held.splice(0)) k.CloseHandle(handle);
  };
  try {
    for (const volume of touching) {
      const path = volumeDevicePath(volume.name);
      const handle = k.CreateFileW(path, GENERIC_READ | GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE, null, OPEN_EXISTING, 0, 0);
      if (handle === INVALID_HANDLE_VALUE) throw new Win32CallError('CreateFileW', k.GetLastError(), path);
      held.push(handle);
      let lastError: unknown;
      for (let attempt = 1; attempt <= attempts; attempt++) {
        try {
          deviceIoControl(k, handle, FSCTL.LOCK_VOLUME, null, 0, path);
          lastError = undefined;
          break;
        } catch (e) {
          lastError = e;
          if (attempt < attempts) await sleep(delay);
        }
      }
      if (lastError !== undefined) {
        throw new RecoveryError('device.busy', `volume ${volume.mountPoints[0] ?? volume.name} on disk ${diskNumber} is in use and cannot be locked`, {
          cause: lastError, data: { volume: volume.name, mountPoints: volume.mountPoints, diskNumber, attempts },
        });
      }
      deviceIoControl(k, handle, FSCTL.DISMOUNT_VOLUME, null, 0, path);
    }
  } catch (e) {
    release();
    throw e;
  }
  return { volumes: touching, release };
}
