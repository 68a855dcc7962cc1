/**
 * Which disk adapter, snapshotter and firmware detection this process uses: the only place that
 * looks at process.platform for disks. Windows opens \\.\PhysicalDriveN and image files through
 * kernel32 (koffi); Linux through node:fs. `lifeline backup` and `lifeline agent --role backup`
 * choose their snapshotter here, with the same rules.
 */
import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { LinuxBlockDeviceOpener } from '../adapters/linux/linux-opener.ts';
import { ChildProcessRunner } from '../adapters/node/child-process-runner.ts';
import type { Firmware } from '../core/backup/manifest.ts';
import { isRecoveryError, RecoveryError } from '../core/errors.ts';
import type { BlockDevice, BlockDeviceOpener, OpenOptions } from '../ports/block-device.ts';
import type { VolumeSnapshotter } from '../ports/volume-snapshot.ts';
import { NoSnapshot, type NoSnapshotReason } from '../adapters/node/no-snapshot.ts';
import type { FirmwareDeps } from '../adapters/win32/firmware.ts';

async function platformOpener(): Promise<BlockDeviceOpener> {
  if (process.platform === 'linux') return new LinuxBlockDeviceOpener();
  if (process.platform === 'win32') {
    // Loaded only on Windows: koffi's win32 addon is not there anywhere else.
    const { Win32BlockDeviceOpener } = await import('../adapters/win32/win32-opener.ts');
    return new Win32BlockDeviceOpener();
  }
  throw new RecoveryError('platform.unsupported', `opening disks on ${process.platform} is not supported (Linux and Windows are)`, {
    data: { platform: process.platform },
  });
}

export async function openDisk(path: string, options: OpenOptions): Promise<BlockDevice> {
  return (await platformOpener()).open(path, options);
}

/** A backup source as the snapshot choice sees it: an image file, or a disk (anything else). */
export type SourceKind = 'image' | 'device';

/** A regular file is an image; `\\.\PhysicalDriveN`, `/dev/sdb` and paths that do not exist (yet) are disks. */
export async function sourceKinds(paths: readonly string[]): Promise<SourceKind[]> {
  return Promise.all(paths.map(async (p) => ((await stat(p).catch(() => undefined))?.isFile() ? 'image' : 'device')));
}

/** VSS, or no snapshot and why. */
export type SnapshotChoice = { readonly kind: 'vss' } | { readonly kind: 'none'; readonly reason: NoSnapshotReason };

/**
 * VSS snapshots volumes of Windows disks: it is used on Windows for disk sources unless
 * `--no-snapshot`; image files are read as they are; other platforms have no VSS. A mix of disks
 * and image files on Windows is refused with `snapshot.mixed-sources`, since one backup cannot be
 * half consistent without saying which half. For `lifeline backup` and the backup agent alike.
 */
export function chooseSnapshot(platform: string, noSnapshot: boolean, sourceKinds: readonly SourceKind[]): SnapshotChoice {
  if (noSnapshot) return { kind: 'none', reason: 'opted-out' };
  if (sourceKinds.every((k) => k === 'image')) return { kind: 'none', reason: 'not-volumes' };
  if (platform !== 'win32') return { kind: 'none', reason: 'unsupported-platform' };
  if (sourceKinds.includes('image')) {
    throw new RecoveryError('snapshot.mixed-sources', 'a VSS snapshot covers disks, not image files: give only disks or only image files, or read the disks live (--no-snapshot)', {
      data: { sourceKinds: [...sourceKinds] },
    });
  }
  return { kind: 'vss' };
}

/**
 * The VolumeSnapshotter for a choice: VSS (Windows only, loaded there alone: it needs koffi's win32
 * addon and vssapi.dll), or the explicit no-snapshot adapter that records why.
 */
export async function makeSnapshotter(choice: SnapshotChoice): Promise<VolumeSnapshotter> {
  if (choice.kind === 'none') return new NoSnapshot(choice.reason);
  if (process.platform !== 'win32') {
    throw new RecoveryError('snapshot.unavailable', `VSS snapshots exist only on Windows (this is ${process.platform})`, { data: { platform: process.platform } });
  }
  const { VssSnapshotter } = await import('../adapters/win32/vss/snapshotter.ts');
  return new VssSnapshotter();
}

/**
 * The firmware this machine booted with. Linux: /sys/firmware/efi exists on UEFI. Windows:
 * GetFirmwareType, else the registry value WinPE keeps (adapters/win32/firmware.ts); `unknown`
 * when neither tells, so the caller asks for --firmware instead of guessing. `windows` replaces the
 * Windows detection's kernel32 and tool runner (tests).
 */
export async function hostFirmware(platform: string = process.platform, windows: Partial<FirmwareDeps> = {}): Promise<Firmware | 'unknown'> {
  if (platform !== 'win32') return existsSync('/sys/firmware/efi') ? 'uefi' : 'bios';
  const { detectFirmware } = await import('../adapters/win32/firmware.ts');
  try {
    return (await detectFirmware({ ...windows, runner: windows.runner ?? new ChildProcessRunner() })).firmware;
  } catch (e) {
    if (isRecoveryError(e) && e.code === 'firmware.unknown') return 'unknown';
    throw e;
  }
}
