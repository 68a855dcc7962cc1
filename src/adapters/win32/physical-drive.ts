/**
 * BlockDevice over `\\.\PhysicalDriveN` or an image file, through kernel32 (the same code path for
 * both, so the file case can run under wine):
 * - Disks are opened with FILE_FLAG_NO_BUFFERING | FILE_FLAG_WRITE_THROUGH; geometry comes from
 *   IOCTL_DISK_GET_DRIVE_GEOMETRY_EX / GET_LENGTH_INFO / the access-alignment property, the
 *   read-only state from IOCTL_DISK_IS_WRITABLE and the disk attributes; the disk's own sector
 *   size wins over `OpenOptions.logicalSectorSize`.
 * - A writable open of a disk locks and dismounts every volume on it first (volumes.ts) and keeps
 *   those locks until close: Vista+ refuses raw writes into mounted volumes (reference §2.3).
 * - Files: size from GetFileSizeEx (rounded down to whole sectors), sector size from the open option.
 * - VSS shadow copies (`openSnapshotVolume`, `\\?\GLOBALROOT\Device\HarddiskVolumeShadowCopyN`): a
 *   read-only volume, size from IOCTL_DISK_GET_LENGTH_INFO, sector size of the disk it was taken
 *   on; FSCTL_ALLOW_EXTENDED_DASD_IO so the sectors past the filesystem (NTFS's backup boot
 *   sector) read too. Nothing is locked: the shadow copy does not change.
 * - Every transfer goes through page-aligned VirtualAlloc buffers (unbuffered I/O wants sector-
 *   aligned memory) in pieces of at most PIECE_BYTES, positioned by the OVERLAPPED offset (never the
 *   shared file pointer), on koffi worker threads so the event loop keeps running.
 */
import { checkBlockTransfer } from '../../core/block-transfer.ts';
import { RecoveryError } from '../../core/errors.ts';
import type { DiskGeometry } from '../../core/partition/types.ts';
import { isSectorSize, type SectorSize } from '../../core/units.ts';
import type { BlockDevice, BlockDeviceErrorCode, OpenOptions } from '../../ports/block-device.ts';
import { decodeAccessAlignment, decodeDeviceNumber, decodeDiskAttributes, decodeGeometryEx, decodeLengthInfo, encodePropertyQuery, STORAGE_PROPERTY } from './ioctl-decode.ts';
import {
  FILE_ATTRIBUTE_DIRECTORY, FILE_FLAG_NO_BUFFERING, FILE_FLAG_WRITE_THROUGH, FILE_SHARE_READ, FILE_SHARE_WRITE, GENERIC_READ,
  GENERIC_WRITE, INVALID_FILE_ATTRIBUTES, INVALID_HANDLE_VALUE, OPEN_EXISTING, WIN32_ERROR, Win32CallError, allocAligned,
  asyncCall, deviceIoControl, freeAligned, kernel32, win32ErrorName,
} from './kernel32.ts';
import type { AlignedBuffer, Kernel32 } from './kernel32.ts';
import { FSCTL, IOCTL } from './structs.ts';
import { lockVolumesOnDisk } from './volumes.ts';
import type { LockOptions, VolumeLocks } from './volumes.ts';

/** Largest single ReadFile/WriteFile; bigger transfers are split (1 MiB keeps drivers' limits happy). */
export const PIECE_BYTES = 1024 * 1024;

/** Aligned buffers kept between transfers (one per concurrent transfer is allocated on demand). */
const KEPT_BUFFERS = 8;

const DISK_PATH = /^\\\\[.?]\\PhysicalDrive(\d+)$/i;
/** The device object VSS reports for a shadow copy (VSS_SNAPSHOT_PROP::m_pwszSnapshotDeviceObject). */
const SNAPSHOT_DEVICE = /^\\\\\?\\GLOBALROOT\\Device\\HarddiskVolumeShadowCopy\d+$/i;
/** Device namespace paths other than long file paths (`\\?\C:\…`, `\\?\UNC\…`): volumes, CD-ROMs, … */
const OTHER_DEVICE = /^\\\\\.\\|^\\\\\?\\(?![A-Za-z]:\\|UNC\\)/i;

/** The disk number in `\\.\PhysicalDriveN`, or undefined for anything else. */
export function physicalDriveNumber(path: string): number | undefined {
  const m = DISK_PATH.exec(path);
  return m === null ? undefined : Number(m[1]);
}

/** The port's error code for a Win32 error. */
export function deviceErrorCode(win32Error: number): BlockDeviceErrorCode {
  switch (win32Error) {
    case WIN32_ERROR.FILE_NOT_FOUND:
    case WIN32_ERROR.PATH_NOT_FOUND:
    case WIN32_ERROR.INVALID_NAME:
      return 'device.not-found';
    case WIN32_ERROR.ACCESS_DENIED:
      return 'device.access-denied';
    case WIN32_ERROR.SHARING_VIOLATION:
    case WIN32_ERROR.LOCK_VIOLATION:
      return 'device.busy';
    case WIN32_ERROR.WRITE_PROTECT:
      return 'device.read-only';
    case WIN32_ERROR.HANDLE_EOF:
      return 'device.short-read';
    default:
      return 'device.io-error';
  }
}

function deviceError(win32Error: number, path: string, what: string, data: Record<string, unknown> = {}): RecoveryError {
  const name = win32ErrorName(win32Error);
  return new RecoveryError(deviceErrorCode(win32Error), `${what} ${path}: ${name} (${win32Error})`, {
    data: { path, win32Error, errno: name, ...data },
  });
}

/** Win32CallError from an IOCTL becomes the port's error; anything else passes through. */
function asDeviceError(e: unknown, path: string, what: string): unknown {
  return e instanceof Win32CallError ? deviceError(e.win32Error, path, what, { call: e.call }) : e;
}


/** OVERLAPPED (32 bytes) carrying only the position: Offset at 16, OffsetHigh at 20. */
function overlappedAt(offset: bigint): Uint8Array {
  const bytes = new Uint8Array(32);
  const view = new DataView(bytes.buffer);
  view.setUint32(16, Number(offset & 0xffffffffn), true);
  view.setUint32(20, Number(offset >> 32n), true);
  return bytes;
}

export interface Probe {
  readonly geometry: DiskGeometry;
  readonly writeProtected: boolean;
  readonly diskNumber?: number;
}

/** Geometry, write protection and disk number of an open disk handle (IOCTLs of reference §2.4). */
export function probeDisk(k: Kernel32, handle: number, path: string): Probe {
  const ioctl = (code: number, input: Uint8Array | null, size: number) => deviceIoControl(k, handle, code, input, size, path);
  const geometryEx = decodeGeometryEx(ioctl(IOCTL.DISK_GET_DRIVE_GEOMETRY_EX, null, 256));
  let sizeBytes = geometryEx.diskSize;
  try {
    sizeBytes = decodeLengthInfo(ioctl(IOCTL.DISK_GET_LENGTH_INFO, null, 8));
  } catch {
    // Some drivers answer only the geometry; its DiskSize is the same number.
  }
  const logical = geometryEx.bytesPerSector;
  if (!isSectorSize(logical)) {
    throw new RecoveryError('device.unsupported', `${path}: sector size ${logical} is neither 512 nor 4096`, { data: { path, sector: logical } });
  }
  let physical: number = logical;
  try {
    physical = decodeAccessAlignment(ioctl(IOCTL.STORAGE_QUERY_PROPERTY, encodePropertyQuery(STORAGE_PROPERTY.accessAlignment), 28)).physicalSectorSize || logical;
  } catch {
    // Older storage drivers do not report alignment: assume physical = logical.
  }
  let writeProtected = false;
  try {
    ioctl(IOCTL.DISK_IS_WRITABLE, null, 0);
  } catch (e) {
    writeProtected = e instanceof Win32CallError && e.win32Error === WIN32_ERROR.WRITE_PROTECT;
  }
  try {
    writeProtected ||= decodeDiskAttributes(ioctl(IOCTL.DISK_GET_DISK_ATTRIBUTES, null, 16)).readOnly;
  } catch {
    // Not every driver answers disk attributes; IS_WRITABLE already spoke.
  }
  const diskNumber = decodeDeviceNumber(ioctl(IOCTL.STORAGE_GET_DEVICE_NUMBER, null, 12)).deviceNumber;
  const geometry = { sizeBytes: sizeBytes - (sizeBytes % BigInt(logical)), logicalSectorSize: logical, physicalSectorSize: physical };
  return { geometry, writeProtected, diskNumber };
}

function probeFile(k: Kernel32, handle: number, path: string, options: OpenOptions): Probe {
  const sector = options.logicalSectorSize ?? 512;
  if (!isSectorSize(sector)) {
    throw new RecoveryError('device.unsupported', `${path}: sector size ${String(sector)} is neither 512 nor 4096`, { data: { path, sector } });
  }
  const size = [0n];
  if (!k.GetFileSizeEx(handle, size)) throw deviceError(k.GetLastError(), path, 'cannot size');
  const bytes = BigInt(size[0] ?? 0n);
  return { geometry: { sizeBytes: bytes - (bytes % BigInt(sector)), logicalSectorSize: sector, physicalSectorSize: sector }, writeProtected: false };
}

export interface PhysicalDriveDeps {
  readonly kernel?: Kernel32;
  readonly lock?: LockOptions;
}

export class PhysicalDrive implements BlockDevice {
  private closed = false;
  private readonly free: AlignedBuffer[] = [];
  private readonly allocated: AlignedBuffer[] = [];
  private readonly inFlight = new Set<Promise<unknown>>();

  private constructor(
    readonly path: string,
    private readonly k: Kernel32,
    private readonly handle: number,
    readonly geometry: DiskGeometry,
    readonly readOnly: boolean,
    /** N of PhysicalDriveN; undefined for image files. */
    readonly diskNumber: number | undefined,
    private readonly locks: VolumeLocks | undefined,
  ) {}

  /** Opens an existing disk or image file; `writable` never creates, truncates or grows anything. */
  static async open(path: string, options: OpenOptions, deps: PhysicalDriveDeps = {}): Promise<PhysicalDrive> {
    const k = deps.kernel ?? kernel32();
    const isDisk = physicalDriveNumber(path) !== undefined;
    if (!isDisk && OTHER_DEVICE.test(path)) {
      throw new RecoveryError('device.not-a-disk', `${path} is a device but not a whole disk (\\\\.\\PhysicalDriveN)`, { data: { path } });
    }
    if (!isDisk) {
      const attributes = k.GetFileAttributesW(path);
      if (attributes === INVALID_FILE_ATTRIBUTES) throw deviceError(k.GetLastError(), path, 'cannot open');
      if ((attributes & FILE_ATTRIBUTE_DIRECTORY) !== 0) {
        throw new RecoveryError('device.not-a-disk', `${path} is a directory, not an image file`, { data: { path } });
      }
    }
    const access = options.writable ? GENERIC_READ | GENERIC_WRITE : GENERIC_READ;
    const flags = isDisk ? FILE_FLAG_NO_BUFFERING | FILE_FLAG_WRITE_THROUGH : 0;
    // OPEN_EXISTING: a missing path is an error, never a new file.
    const handle = k.CreateFileW(path, access >>> 0, FILE_SHARE_READ | FILE_SHARE_WRITE, null, OPEN_EXISTING, flags >>> 0, 0);
    if (handle === INVALID_HANDLE_VALUE) throw deviceError(k.GetLastError(), path, 'cannot open');
    let locks: VolumeLocks | undefined;
    try {
      let probe: Probe;
      try {
        probe = isDisk ? probeDisk(k, handle, path) : probeFile(k, handle, path, options);
      } catch (e) {
        throw asDeviceError(e, path, 'cannot query');
      }
      if (options.writable && probe.writeProtected) {
        throw new RecoveryError('device.read-only', `${path} is write-protected`, { data: { path } });
      }
      if (probe.geometry.sizeBytes > BigInt(Number.MAX_SAFE_INTEGER)) {
        throw new RecoveryError('device.unsupported', `${path} is larger than 8 PiB`, { data: { path, sizeBytes: probe.geometry.sizeBytes } });
      }
      if (options.writable && probe.diskNumber !== undefined) {
        try {
          locks = await lockVolumesOnDisk(k, probe.diskNumber, deps.lock);
        } catch (e) {
          throw asDeviceError(e, path, 'cannot lock the volumes of');
        }
      }
      return new PhysicalDrive(path, k, handle, probe.geometry, !options.writable, probe.diskNumber, locks);
    } catch (e) {
      locks?.release();
      k.CloseHandle(handle);
      throw e;
    }
  }

  /**
   * A VSS shadow copy device, read-only, for the backup's partition reads (offsets relative to the
   * volume's first byte). `logicalSectorSize` is the source disk's: a volume's transfers are aligned
   * like its disk's. Rejects `device.not-a-disk` for any other path.
   */
  static async openSnapshotVolume(path: string, logicalSectorSize: SectorSize, deps: PhysicalDriveDeps = {}): Promise<PhysicalDrive> {
    if (!SNAPSHOT_DEVICE.test(path)) {
      throw new RecoveryError('device.not-a-disk', `${path} is not a shadow copy device (\\\\?\\GLOBALROOT\\Device\\HarddiskVolumeShadowCopyN)`, { data: { path } });
    }
    const k = deps.kernel ?? kernel32();
    const handle = k.CreateFileW(path, GENERIC_READ >>> 0, FILE_SHARE_READ | FILE_SHARE_WRITE, null, OPEN_EXISTING, FILE_FLAG_NO_BUFFERING >>> 0, 0);
    if (handle === INVALID_HANDLE_VALUE) throw deviceError(k.GetLastError(), path, 'cannot open');
    try {
      let length: bigint;
      try {
        length = decodeLengthInfo(deviceIoControl(k, handle, IOCTL.DISK_GET_LENGTH_INFO, null, 8, path));
      } catch (e) {
        throw asDeviceError(e, path, 'cannot size');
      }
      try {
        deviceIoControl(k, handle, FSCTL.ALLOW_EXTENDED_DASD_IO, null, 0, path);
      } catch {
        // Not mounted (nothing to extend past) or not supported: reads inside the filesystem still work.
      }
      const sizeBytes = length - (length % BigInt(logicalSectorSize));
      return new PhysicalDrive(path, k, handle, { sizeBytes, logicalSectorSize, physicalSectorSize: logicalSectorSize }, true, undefined, undefined);
    } catch (e) {
      k.CloseHandle(handle);
      throw e;
    }
  }

  async read(offset: bigint, length: number): Promise<Uint8Array> {
    this.checkOpen();
    checkBlockTransfer(this.path, this.geometry, offset, length);
    const out = new Uint8Array(length);
    await this.track(this.pieces(offset, length, async (at, within, size, buffer) => {
      await this.transferFully('read', buffer, size, at);
      out.set(buffer.bytes.subarray(0, size), within);
    }));
    return out;
  }

  async write(offset: bigint, data: Uint8Array): Promise<void> {
    this.checkOpen();
    if (this.readOnly) {
      throw new RecoveryError('device.read-only', `${this.path} was opened read-only`, { data: { path: this.path, offset } });
    }
    checkBlockTransfer(this.path, this.geometry, offset, data.length);
    // Copied into our own buffer before the call returns: the caller may reuse `data` at once.
    await this.track(this.pieces(offset, data.length, async (at, within, size, buffer) => {
      buffer.bytes.set(data.subarray(within, within + size));
      await this.transferFully('write', buffer, size, at);
    }));
  }

  /** FlushFileBuffers: the OS cache and (for disks) the device's write cache. */
  async flush(): Promise<void> {
    this.checkOpen();
    await this.track((async () => {
      if (await asyncCall<boolean>(this.k.FlushFileBuffers, this.handle)) return;
      if (this.k.FlushFileBuffers(this.handle)) return;
      throw deviceError(this.k.GetLastError(), this.path, 'cannot flush');
    })());
  }

  /**
   * DeviceIoControl on the disk handle (CREATE_DISK, SET_DRIVE_LAYOUT_EX, …); rejects with a
   * Win32CallError. Synchronous: these calls are short and their error code must be read at once.
   */
  async ioctl(code: number, input: Uint8Array | null, outputSize: number): Promise<Uint8Array> {
    this.checkOpen();
    return deviceIoControl(this.k, this.handle, code, input, outputSize, this.path);
  }

  /** Releases the volume locks and the handle once transfers in flight have finished. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.inFlight]);
    this.locks?.release();
    this.k.CloseHandle(this.handle);
    for (const buffer of this.allocated.splice(0)) freeAligned(this.k, buffer);
    this.free.length = 0;
  }

  private checkOpen(): void {
    if (this.closed) throw new RecoveryError('device.closed', `${this.path} is closed`, { data: { path: this.path } });
  }

  private async track<T>(work: Promise<T>): Promise<T> {
    this.inFlight.add(work);
    try {
      return await work;
    } finally {
      this.inFlight.delete(work);
    }
  }

  /** Runs `step` for each piece of at most PIECE_BYTES, one aligned buffer per transfer. */
  private async pieces(offset: bigint, length: number, step: (at: bigint, within: number, size: number, buffer: AlignedBuffer) => Promise<void>): Promise<void> {
    if (length === 0) return;
    const buffer = this.free.pop() ?? this.allocate();
    try {
      for (let within = 0; within < length; within += PIECE_BYTES) {
        await step(offset + BigInt(within), within, Math.min(PIECE_BYTES, length - within), buffer);
      }
    } finally {
      this.release(buffer);
    }
  }

  /** Keeps a few buffers for the next transfers; a burst of concurrent ones gives the rest back. */
  private release(buffer: AlignedBuffer): void {
    if (this.free.length < KEPT_BUFFERS || this.closed) {
      this.free.push(buffer);
      return;
    }
    this.allocated.splice(this.allocated.indexOf(buffer), 1);
    freeAligned(this.k, buffer);
  }

  private allocate(): AlignedBuffer {
    const buffer = allocAligned(this.k, PIECE_BYTES);
    this.allocated.push(buffer);
    return buffer;
  }

  /**
   * ReadFile/WriteFile until `size` bytes moved. A call that fails on the worker thread is repeated
   * synchronously (positional, so harmless) to read its error code on this thread.
   */
  private async transferFully(kind: 'read' | 'write', buffer: AlignedBuffer, size: number, at: bigint): Promise<void> {
    const fn = kind === 'read' ? this.k.ReadFile : this.k.WriteFile;
    let done = 0;
    while (done < size) {
      const position = at + BigInt(done);
      const moved = [0];
      let ok = await asyncCall<boolean>(fn, this.handle, buffer.address + BigInt(done), size - done, moved, overlappedAt(position));
      if (!ok) {
        ok = fn(this.handle, buffer.address + BigInt(done), size - done, moved, overlappedAt(position));
        if (!ok) throw deviceError(this.k.GetLastError(), this.path, `cannot ${kind}`, { offset: position, length: size - done });
      }
      const n = moved[0] ?? 0;
      if (n === 0) {
        throw new RecoveryError(kind === 'read' ? 'device.short-read' : 'device.short-write',
          `${this.path}: ${kind} of ${size} bytes at offset ${at} stopped after ${done}`, { data: { path: this.path, offset: at, length: size, got: done } });
      }
      done += n;
    }
  }
}
