/**
 * BlockDevice over an image file or a Linux block device (/dev/loopN, /dev/sdX), through a
 * node:fs/promises FileHandle with positional reads and writes.
 * - Files: size from fstat (rounded down to whole sectors), sector size from the open option.
 * - Block devices: size, sector sizes and the read-only flag from sysfs (block-device-sysfs.ts).
 *   A writable open is exclusive (O_EXCL), so the kernel refuses it while the disk is mounted.
 * - Never O_CREAT and never past the end: opening or writing cannot create or grow a target.
 */
import { checkBlockTransfer } from '../../core/block-transfer.ts';
import { constants } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { RecoveryError } from '../../core/errors.ts';
import type { DiskGeometry } from '../../core/partition/types.ts';
import { isSectorSize } from '../../core/units.ts';
import type { BlockDevice, OpenOptions } from '../../ports/block-device.ts';
import { readSysfsBlockInfo } from './block-device-sysfs.ts';

/** The part of a FileHandle the transfer loops use (a seam for tests of short transfers). */
export interface PositionalFile {
  read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
  write(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesWritten: number }>;
}

function osError(e: unknown, path: string, what: string, data: Record<string, unknown> = {}): RecoveryError {
  const errno = (e as NodeJS.ErrnoException).code;
  const code = errno === 'ENOENT' || errno === 'ENXIO' || errno === 'ENODEV' ? 'device.not-found'
    : errno === 'EACCES' || errno === 'EPERM' ? 'device.access-denied'
    : errno === 'EROFS' ? 'device.read-only'
    : errno === 'EBUSY' ? 'device.busy'
    : errno === 'EISDIR' ? 'device.not-a-disk'
    : 'device.io-error';
  return new RecoveryError(code, `${what} ${path}: ${(e as Error).message}`, { cause: e, data: { path, errno, ...data } });
}

/** Reads until `buffer` is full; pread may return fewer bytes than asked, zero only at the end. */
export async function readFully(file: PositionalFile, path: string, buffer: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < buffer.length) {
    let bytesRead: number;
    try {
      ({ bytesRead } = await file.read(buffer, done, buffer.length - done, position + done));
    } catch (e) {
      throw osError(e, path, 'cannot read', { offset: position + done });
    }
    if (bytesRead === 0) {
      throw new RecoveryError('device.short-read', `${path} ended after ${done} of ${buffer.length} bytes at offset ${position}`,
        { data: { path, offset: position, length: buffer.length, got: done } });
    }
    done += bytesRead;
  }
}

/** Writes all of `data`; pwrite may take fewer bytes than given. */
export async function writeFully(file: PositionalFile, path: string, data: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < data.length) {
    let bytesWritten: number;
    try {
      ({ bytesWritten } = await file.write(data, done, data.length - done, position + done));
    } catch (e) {
      throw osError(e, path, 'cannot write', { offset: position + done });
    }
    if (bytesWritten === 0) {
      throw new RecoveryError('device.short-write', `${path} took ${done} of ${data.length} bytes at offset ${position}`,
        { data: { path, offset: position, length: data.length, got: done } });
    }
    done += bytesWritten;
  }
}


/** Size and sector sizes of what `handle` refers to, or why it is not a disk. */
async function probe(handle: FileHandle, path: string, options: OpenOptions): Promise<{ geometry: DiskGeometry; readOnly: boolean }> {
  const st = await handle.stat({ bigint: true });
  if (st.isFile()) {
    const sector = options.logicalSectorSize ?? 512;
    if (!isSectorSize(sector)) {
      throw new RecoveryError('device.unsupported', `${path}: sector size ${String(sector)} is neither 512 nor 4096`, { data: { path, sector } });
    }
    const sizeBytes = st.size - (st.size % BigInt(sector));
    return { geometry: { sizeBytes, logicalSectorSize: sector, physicalSectorSize: sector }, readOnly: false };
  }
  if (st.isBlockDevice()) {
    // The device's own sector size wins over options.logicalSectorSize: a disk cannot be told otherwise.
    return readSysfsBlockInfo(st.rdev);
  }
  throw new RecoveryError('device.not-a-disk', `${path} is neither an image file nor a block device`, { data: { path } });
}

export class ImageFileDevice implements BlockDevice {
  private closed = false;

  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    readonly geometry: DiskGeometry,
    readonly readOnly: boolean,
  ) {}

  /** Opens an existing image file or block device; `writable` never creates or truncates anything. */
  static async open(path: string, options: OpenOptions): Promise<ImageFileDevice> {
    let isBlockDevice: boolean;
    try {
      isBlockDevice = (await stat(path)).isBlockDevice();
    } catch (e) {
      throw osError(e, path, 'cannot open');
    }
    // O_EXCL without O_CREAT is Linux's exclusive open of a block device (EBUSY while mounted).
    const flags = !options.writable ? constants.O_RDONLY : isBlockDevice ? constants.O_RDWR | constants.O_EXCL : constants.O_RDWR;
    let handle: FileHandle;
    try {
      handle = await open(path, flags);
    } catch (e) {
      throw osError(e, path, 'cannot open');
    }
    try {
      const { geometry, readOnly } = await probe(handle, path, options);
      if (options.writable && readOnly) {
        throw new RecoveryError('device.read-only', `${path} is read-only`, { data: { path } });
      }
      if (geometry.sizeBytes > BigInt(Number.MAX_SAFE_INTEGER)) {
        throw new RecoveryError('device.unsupported', `${path} is larger than 8 PiB`, { data: { path, sizeBytes: geometry.sizeBytes } });
      }
      return new ImageFileDevice(path, handle, geometry, !options.writable);
    } catch (e) {
      await handle.close();
      throw e;
    }
  }

  async read(offset: bigint, length: number): Promise<Uint8Array> {
    this.checkOpen();
    checkBlockTransfer(this.path, this.geometry, offset, length);
    // A fresh array, never a view into Node's shared Buffer pool.
    const buffer = new Uint8Array(length);
    await readFully(this.handle, this.path, buffer, Number(offset));
    return buffer;
  }

  async write(offset: bigint, data: Uint8Array): Promise<void> {
    this.checkOpen();
    if (this.readOnly) {
      throw new RecoveryError('device.read-only', `${this.path} was opened read-only`, { data: { path: this.path, offset } });
    }
    checkBlockTransfer(this.path, this.geometry, offset, data.length);
    await writeFully(this.handle, this.path, data, Number(offset));
  }

  /** fdatasync: on a block device the kernel also sends a cache flush to the disk. */
  async flush(): Promise<void> {
    this.checkOpen();
    try {
      await this.handle.datasync();
    } catch (e) {
      throw osError(e, this.path, 'cannot flush');
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.handle.close();
  }

  private checkOpen(): void {
    if (this.closed) throw new RecoveryError('device.closed', `${this.path} is closed`, { data: { path: this.path } });
  }
}
