/**
 * Raw access to one disk (an image file, a loop device, \\.\PhysicalDriveN).
 * Offsets and lengths are bytes. Implementations:
 * - MUST reject reads and writes that are not aligned to `geometry.logicalSectorSize`
 *   (offset and length), so code that works on the Linux adapters also works unbuffered on Windows;
 * - MUST reject a read or write that runs past `geometry.sizeBytes` (no silent growth of image files);
 * - MUST return exactly `length` bytes from read (short reads are retried or turned into errors);
 * - MUST make written data durable by the time `flush()` resolves;
 * - SHOULD allow concurrent positional reads and writes on different ranges.
 * They reject with a `RecoveryError` whose `code` is one of `BlockDeviceErrorCode` below.
 */
import type { DiskGeometry } from '../core/partition/types.ts';

/**
 * Stable codes of the errors block devices and openers reject with:
 * - `device.unaligned`: offset or length is not a multiple of the logical sector size;
 * - `device.out-of-range`: the transfer starts before 0 or runs past `geometry.sizeBytes`;
 * - `device.read-only`: a write on a read-only device, or a writable open of a read-only disk;
 * - `device.short-read` / `device.short-write`: the disk ended (or stopped taking bytes) mid-transfer;
 * - `device.not-found`: `open` of a path that does not exist (a writable open never creates it);
 * - `device.not-a-disk`: the path is neither an image file nor a block device;
 * - `device.access-denied`, `device.busy` (in use, e.g. mounted): the OS refused the open;
 * - `device.unsupported`: a geometry this project cannot handle (sector size other than 512/4096);
 * - `device.closed`: any call after `close()`;
 * - `device.io-error`: the OS reported an I/O error (`data.errno` says which).
 */
export type BlockDeviceErrorCode =
  | 'device.unaligned'
  | 'device.out-of-range'
  | 'device.read-only'
  | 'device.short-read'
  | 'device.short-write'
  | 'device.not-found'
  | 'device.not-a-disk'
  | 'device.access-denied'
  | 'device.busy'
  | 'device.unsupported'
  | 'device.closed'
  | 'device.io-error';

export interface BlockDevice {
  /** Where it is, for messages: "/dev/loop3", "disk.img", "\\\\.\\PhysicalDrive1". */
  readonly path: string;
  readonly geometry: DiskGeometry;
  readonly readOnly: boolean;
  read(offset: bigint, length: number): Promise<Uint8Array>;
  write(offset: bigint, data: Uint8Array): Promise<void>;
  flush(): Promise<void>;
  close(): Promise<void>;
}

export interface OpenOptions {
  readonly writable: boolean;
  /** Image files carry no sector size: the caller says which one the disk emulates (default 512). */
  readonly logicalSectorSize?: 512 | 4096;
}

/** Opens disks by path. One per platform adapter. */
export interface BlockDeviceOpener {
  open(path: string, options: OpenOptions): Promise<BlockDevice>;
}
