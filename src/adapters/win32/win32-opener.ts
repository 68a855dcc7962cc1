/** The Windows BlockDeviceOpener: disks (\\.\PhysicalDriveN) and image files alike go through PhysicalDrive. */
import type { BlockDevice, BlockDeviceOpener, OpenOptions } from '../../ports/block-device.ts';
import { PhysicalDrive } from './physical-drive.ts';
import type { PhysicalDriveDeps } from './physical-drive.ts';

export class Win32BlockDeviceOpener implements BlockDeviceOpener {
  constructor(private readonly deps: PhysicalDriveDeps = {}) {}

  open(path: string, options: OpenOptions): Promise<BlockDevice> {
    return PhysicalDrive.open(path, options, this.deps);
  }
}
