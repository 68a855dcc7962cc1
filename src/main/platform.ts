/**
 * Which adapters this process uses. The only place that looks at process.platform; Windows disks
 * arrive with the Windows adapter (src/adapters/win32), until then they are refused clearly.
 */
import { LinuxBlockDeviceOpener } from '../adapters/linux/linux-opener.ts';
import { RecoveryError } from '../core/errors.ts';
import type { BlockDevice, OpenOptions } from '../ports/block-device.ts';

export async function openDisk(path: string, options: OpenOptions): Promise<BlockDevice> {
  if (process.platform === 'linux') return new LinuxBlockDeviceOpener().open(path, options);
  throw new RecoveryError('platform.unsupported', `opening disks on ${process.platform} is not supported by this build (Linux only so far)`, {
    data: { platform: process.platform },
  });
}
