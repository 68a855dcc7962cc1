/**
 * Which disk adapter (and snapshotter) this process uses: the only place that looks at process.platform for disks.
 * Windows opens \\.\PhysicalDriveN and image files through kernel32 (koffi); Linux through node:fs.
 */
import { LinuxBlockDeviceOpener } from '../adapters/linux/linux-opener.ts';
import { RecoveryError } from '../core/errors.ts';
import type { BlockDevice, BlockDeviceOpener, OpenOptions } from '../ports/block-device.ts';
import type { VolumeSnapshotter } from '../ports/volume-snapshot.ts';
import { NoSnapshot, type NoSnapshotReason } from '../adapters/node/no-snapshot.ts';

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

/**
 * The VolumeSnapshotter for a `lifeline backup` choice: VSS (Windows only, loaded there alone: it
 * needs koffi's win32 addon and vssapi.dll), or the explicit no-snapshot adapter that records why.
 */
export async function makeSnapshotter(choice: { readonly kind: 'vss' } | { readonly kind: 'none'; readonly reason: NoSnapshotReason }): Promise<VolumeSnapshotter> {
  if (choice.kind === 'none') return new NoSnapshot(choice.reason);
  if (process.platform !== 'win32') {
    throw new RecoveryError('snapshot.unavailable', `VSS snapshots exist only on Windows (this is ${process.platform})`, { data: { platform: process.platform } });
  }
  const { VssSnapshotter } = await import('../adapters/win32/vss/snapshotter.ts');
  return new VssSnapshotter();
}
