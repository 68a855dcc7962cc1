/** The Linux BlockDeviceOpener: image files and block devices alike go through ImageFileDevice. */
import type { BlockDevice, BlockDeviceOpener, OpenOptions } from '../../ports/block-device.ts';
import { ImageFileDevice } from './image-file.ts';

export class LinuxBlockDeviceOpener implements BlockDeviceOpener {
  open(path: string, options: OpenOptions): Promise<BlockDevice> {
    return ImageFileDevice.open(path, options);
  }
}
