/**
 * A scripted kernel32 for running the win32 disk code on Linux: disks, volumes and image files in
 * memory, answering the IOCTLs the adapter sends with structures built by koffi.encode over the
 * structs.ts declarations (so the adapter's own decoders are checked, not reused). Buffers the
 * adapter passes by address (VirtualAlloc memory) are real: koffi.alloc + koffi.view.
 *
 * Win32 semantics kept: GetLastError reports the last *synchronous* call (calls made through
 * `.async` ran on a worker thread and leave it alone), OVERLAPPED offsets position ReadFile and
 * WriteFile, variable-size answers fail with ERROR_INSUFFICIENT_BUFFER / ERROR_MORE_DATA.
 */
import koffi from 'koffi';
import type { Kernel32 } from '../../../../src/adapters/win32/kernel32.ts';
import { WIN32_ERROR } from '../../../../src/adapters/win32/kernel32.ts';
import * as S from '../../../../src/adapters/win32/structs.ts';

export interface FakeDisk {
  readonly number: number;
  bytes: Uint8Array;
  readonly logicalSectorSize: number;
  readonly physicalSectorSize?: number;
  readonly writeProtected?: boolean;
  readonly offline?: boolean;
  readonly vendor?: string;
  readonly product?: string;
  readonly serial?: string;
  readonly busType?: number;
  readonly removable?: boolean;
  /** The IOCTL_DISK_GET_DRIVE_LAYOUT_EX answer. */
  layout?: Uint8Array;
}

export interface FakeVolume {
  readonly name: string;
  readonly mountPoints: readonly string[];
  readonly extents: readonly { readonly diskNumber: number; readonly offsetBytes: bigint; readonly lengthBytes: bigint }[];
  /** FSCTL_LOCK_VOLUME fails (ERROR_ACCESS_DENIED) this many times first. */
  lockFailures?: number;
  /** What GetVolumeInformationW names ("NTFS", "FAT32"); absent: the call fails. */
  readonly filesystem?: string;
}

/** A failure injected into ReadFile/WriteFile/FlushFileBuffers. */
export interface Fault {
  readonly op: 'read' | 'write' | 'flush';
  /** 'async': only the worker-thread attempt fails; 'always': the synchronous retry too. */
  readonly when: 'async' | 'always';
  readonly error: number;
  times: number;
}

type Target = { kind: 'disk'; disk: FakeDisk } | { kind: 'volume'; volume: FakeVolume } | { kind: 'file'; name: string } | { kind: 'shadow'; name: string } | { kind: 'find'; next: number };

const WRITE = 0x40000000;

function guidStruct(guid: string) {
  const hex = guid.replace(/-/g, '');
  return {
    Data1: Number.parseInt(hex.slice(0, 8), 16), Data2: Number.parseInt(hex.slice(8, 12), 16), Data3: Number.parseInt(hex.slice(12, 16), 16),
    Data4: Array.from({ length: 8 }, (_, i) => Number.parseInt(hex.slice(16 + 2 * i, 18 + 2 * i), 16)),
  };
}
export { guidStruct };

function writeWide(buffer: Uint8Array, strings: readonly string[]): void {
  const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.length);
  let at = 0;
  for (const s of strings) {
    for (let i = 0; i < s.length; i++, at += 2) view.setUint16(at, s.charCodeAt(i), true);
    at += 2;
  }
}

export class FakeKernel32 {
  readonly disks = new Map<number, FakeDisk>();
  readonly volumes: FakeVolume[] = [];
  readonly files = new Map<string, Uint8Array>();
  /** VSS shadow copy devices (\\?\GLOBALROOT\Device\HarddiskVolumeShadowCopyN) and their frozen bytes. */
  readonly shadows = new Map<string, Uint8Array>();
  /** Shadow devices that refuse IOCTL_DISK_GET_LENGTH_INFO. */
  readonly shadowsWithoutLength = new Set<string>();
  readonly directories = new Set<string>();
  readonly faults: Fault[] = [];
  /** Every call worth asserting on, in order: "CreateFileW \\.\PhysicalDrive1 rw", "LOCK \\?\Volume{…}", … */
  readonly log: string[] = [];
  /** Inputs of the layout-changing IOCTLs, by code. */
  readonly received: { code: number; input: Uint8Array }[] = [];
  /** Every ReadFile/WriteFile that reached a disk or file (after fault injection). */
  readonly transfers: { op: 'read' | 'write'; offset: number; length: number; async: boolean }[] = [];
  /** Answers ReadFile/WriteFile with at most this many bytes per call (0 = all). */
  maxBytesPerCall = 0;
  firmwareType: number | undefined = undefined;
  allocations = 0;
  frees = 0;
  /** Custom handler for IOCTLs the fake does not know; return undefined for ERROR_INVALID_FUNCTION. */
  onIoctl: ((code: number, input: Uint8Array | null, disk: FakeDisk | undefined) => Uint8Array | undefined) | undefined;

  private readonly handles = new Map<number, Target>();
  private nextHandle = 100;
  private error = 0;
  private lastError = 0;
  readonly kernel: Kernel32;

  constructor() {
    const fn = <A extends unknown[], R>(impl: (async: boolean, ...args: A) => R) => {
      const sync = (...args: A): R => {
        const result = impl(false, ...args);
        this.lastError = this.error;
        return result;
      };
      // A worker-thread call: the result arrives later and GetLastError on this thread is untouched.
      const async = (...args: unknown[]) => {
        const callback = args.pop() as (err: unknown, result?: R) => void;
        setImmediate(() => {
          try {
            callback(null, impl(true, ...(args as A)));
          } catch (e) {
            callback(e);
          }
        });
      };
      return Object.assign(sync, { async, info: { name: 'fake', arguments: [], result: {} } });
    };
    const k = {
      CreateFileW: fn((_a, name: string, access: number, _share: number, _sec: null, disposition: number) => this.createFile(name, access, disposition)),
      CloseHandle: fn((_a, h: number) => {
        this.log.push(`CloseHandle ${this.describe(h)}`);
        return this.handles.delete(h);
      }),
      ReadFile: fn((a, h: number, buffer: bigint, length: number, done: number[], ov: Uint8Array) => this.transfer(a, 'read', h, buffer, length, done, ov)),
      WriteFile: fn((a, h: number, buffer: bigint, length: number, done: number[], ov: Uint8Array) => this.transfer(a, 'write', h, buffer, length, done, ov)),
      SetFilePointerEx: fn(() => true),
      FlushFileBuffers: fn((a, h: number) => {
        if (this.fault(a, 'flush')) return false;
        this.log.push(`FlushFileBuffers ${this.describe(h)}`);
        return true;
      }),
      GetFileSizeEx: fn((_a, h: number, size: bigint[]) => {
        const t = this.handles.get(h);
        if (t?.kind !== 'file') return this.fail(WIN32_ERROR.INVALID_HANDLE);
        size[0] = BigInt(this.files.get(t.name)!.length);
        return true;
      }),
      GetFileAttributesW: fn((_a, name: string) => {
        if (this.directories.has(name)) return 0x10;
        if (this.files.has(name)) return 0x20;
        this.error = WIN32_ERROR.FILE_NOT_FOUND;
        return 0xffffffff;
      }),
      DeviceIoControl: fn((_a, h: number, code: number, input: Uint8Array | null, _inSize: number, out: Uint8Array | null, outSize: number, returned: number[]) =>
        this.ioctl(h, code, input, out, outSize, returned)),
      GetLastError: fn(() => {
        const e = this.lastError;
        this.error = e;
        return e;
      }),
      VirtualAlloc: fn((_a, _addr: null, size: number) => {
        this.allocations++;
        return koffi.alloc('uint8_t', size) as bigint;
      }),
      VirtualFree: fn((_a, address: bigint) => {
        this.frees++;
        koffi.free(address);
        return true;
      }),
      FindFirstVolumeW: fn((_a, buffer: Uint8Array) => {
        if (this.volumes.length === 0) return this.fail(WIN32_ERROR.NO_MORE_FILES, -1);
        writeWide(buffer, [this.volumes[0]!.name]);
        return this.open({ kind: 'find', next: 1 });
      }),
      FindNextVolumeW: fn((_a, h: number, buffer: Uint8Array) => {
        const t = this.handles.get(h);
        if (t?.kind !== 'find' || t.next >= this.volumes.length) return this.fail(WIN32_ERROR.NO_MORE_FILES);
        writeWide(buffer, [this.volumes[t.next++]!.name]);
        return true;
      }),
      FindVolumeClose: fn((_a, h: number) => this.handles.delete(h)),
      GetVolumePathNamesForVolumeNameW: fn((_a, name: string, buffer: Uint8Array, chars: number, needed: number[]) => {
        const v = this.volumes.find((x) => x.name === name);
        if (v === undefined) return this.fail(WIN32_ERROR.FILE_NOT_FOUND);
        const size = v.mountPoints.reduce((n, mp) => n + mp.length + 1, 1);
        needed[0] = size;
        if (size > chars) return this.fail(WIN32_ERROR.MORE_DATA);
        writeWide(buffer, v.mountPoints);
        return true;
      }),
      GetVolumeNameForVolumeMountPointW: fn((_a, mountPoint: string, buffer: Uint8Array) => {
        const v = this.volumes.find((x) => x.mountPoints.some((mp) => mp.toLowerCase() === mountPoint.toLowerCase()));
        if (v === undefined) return this.fail(WIN32_ERROR.NOT_SUPPORTED);
        writeWide(buffer, [v.name]);
        return true;
      }),
      GetVolumeInformationW: fn((_a, root: string, _name: null, _chars: number, _serial: number[], _max: number[], _flags: number[], fsName: Uint8Array) => {
        const v = this.volumes.find((x) => x.name === root);
        if (v?.filesystem === undefined) return this.fail(WIN32_ERROR.NOT_READY);
        writeWide(fsName, [v.filesystem]);
        return true;
      }),
      GetLogicalDriveStringsW: fn(() => 0),
      GetFirmwareType: undefined as unknown,
    };
    k.GetFirmwareType = fn((_a, type: number[]) => {
      if (this.firmwareType === undefined) return this.fail(WIN32_ERROR.INVALID_FUNCTION);
      type[0] = this.firmwareType;
      return true;
    });
    this.kernel = k as unknown as Kernel32;
  }

  /** Without GetFirmwareType, as on wine 8 or Windows 7. */
  withoutFirmwareApi(): this {
    (this.kernel as { GetFirmwareType: unknown }).GetFirmwareType = undefined;
    return this;
  }

  addDisk(disk: FakeDisk): FakeDisk {
    this.disks.set(disk.number, disk);
    return disk;
  }

  openHandles(): string[] {
    return [...this.handles.entries()].filter(([, t]) => t.kind !== 'find').map(([h]) => this.describe(h));
  }

  private fail<T = boolean>(code: number, value: T = false as T): T {
    this.error = code;
    return value;
  }

  private open(target: Target): number {
    const h = this.nextHandle++;
    this.handles.set(h, target);
    return h;
  }

  private describe(h: number): string {
    const t = this.handles.get(h);
    if (t === undefined) return `#${h}`;
    return t.kind === 'disk' ? `\\\\.\\PhysicalDrive${t.disk.number}` : t.kind === 'volume' ? t.volume.name.replace(/\\$/, '') : t.kind === 'file' || t.kind === 'shadow' ? t.name : 'find';
  }

  private createFile(name: string, access: number, disposition: number): number {
    this.error = 0;
    if (disposition !== 3) return this.fail(WIN32_ERROR.INVALID_PARAMETER, -1);
    this.log.push(`CreateFileW ${name} ${(access & WRITE) !== 0 ? 'rw' : access === 0 ? 'query' : 'r'}`);
    const disk = /^\\\\\.\\PhysicalDrive(\d+)$/i.exec(name);
    if (disk !== null) {
      const d = this.disks.get(Number(disk[1]));
      return d === undefined ? this.fail(WIN32_ERROR.FILE_NOT_FOUND, -1) : this.open({ kind: 'disk', disk: d });
    }
    const volume = this.volumes.find((v) => v.name.replace(/\\$/, '') === name);
    if (volume !== undefined) return this.open({ kind: 'volume', volume });
    if (this.files.has(name)) return this.open({ kind: 'file', name });
    if (this.shadows.has(name)) return (access & WRITE) !== 0 ? this.fail(WIN32_ERROR.WRITE_PROTECT, -1) : this.open({ kind: 'shadow', name });
    return this.fail(WIN32_ERROR.FILE_NOT_FOUND, -1);
  }

  private fault(async: boolean, op: Fault['op']): boolean {
    const f = this.faults.find((x) => x.op === op && x.times > 0 && (x.when === 'always' || async));
    if (f === undefined) return false;
    f.times--;
    this.error = f.error;
    return true;
  }

  private transfer(async: boolean, op: 'read' | 'write', h: number, buffer: bigint, length: number, done: number[], ov: Uint8Array): boolean {
    this.error = 0;
    const t = this.handles.get(h);
    const bytes = t?.kind === 'disk' ? t.disk.bytes : t?.kind === 'file' ? this.files.get(t.name) : t?.kind === 'shadow' ? this.shadows.get(t.name) : undefined;
    if (bytes === undefined) return this.fail(WIN32_ERROR.INVALID_HANDLE);
    if (this.fault(async, op)) return false;
    const view = new DataView(ov.buffer, ov.byteOffset, ov.length);
    const offset = Number(BigInt(view.getUint32(16, true)) | (BigInt(view.getUint32(20, true)) << 32n));
    this.transfers.push({ op, offset, length, async });
    let n = Math.max(0, Math.min(length, bytes.length - offset));
    if (this.maxBytesPerCall > 0) n = Math.min(n, this.maxBytesPerCall);
    const memory = new Uint8Array(koffi.view(buffer, Math.max(length, 1)));
    if (op === 'read') memory.set(bytes.subarray(offset, offset + n));
    else bytes.set(memory.subarray(0, n), offset);
    done[0] = n;
    return true;
  }

  private answer(out: Uint8Array | null, outSize: number, returned: number[], bytes: Uint8Array, short: number = WIN32_ERROR.INSUFFICIENT_BUFFER): boolean {
    if (out === null || outSize < bytes.length) return this.fail(short);
    out.set(bytes);
    returned[0] = bytes.length;
    return true;
  }

  private encode(type: Parameters<typeof koffi.sizeof>[0], value: unknown, size = koffi.sizeof(type)): Uint8Array {
    const bytes = new Uint8Array(size);
    koffi.encode(bytes, type, value);
    return bytes;
  }

  private ioctl(h: number, code: number, input: Uint8Array | null, out: Uint8Array | null, outSize: number, returned: number[]): boolean {
    this.error = 0;
    const t = this.handles.get(h);
    if (t === undefined) return this.fail(WIN32_ERROR.INVALID_HANDLE);
    if (t.kind === 'volume') return this.volumeIoctl(t.volume, code, out, outSize, returned);
    if (t.kind === 'shadow') return this.shadowIoctl(t.name, code, out, outSize, returned);
    if (t.kind !== 'disk') return this.fail(WIN32_ERROR.NOT_SUPPORTED);
    const d = t.disk;
    switch (code) {
      case S.IOCTL.DISK_GET_DRIVE_GEOMETRY_EX:
        return this.answer(out, outSize, returned, this.encode(S.DISK_GEOMETRY_EX, {
          Geometry: { Cylinders: 1n, MediaType: 12, TracksPerCylinder: 255, SectorsPerTrack: 63, BytesPerSector: d.logicalSectorSize },
          DiskSize: BigInt(d.bytes.length), Data: [0],
        }));
      case S.IOCTL.DISK_GET_LENGTH_INFO:
        return this.answer(out, outSize, returned, this.encode(S.GET_LENGTH_INFORMATION, { Length: BigInt(d.bytes.length) }));
      case S.IOCTL.STORAGE_QUERY_PROPERTY:
        return this.propertyIoctl(d, input, out, outSize, returned);
      case S.IOCTL.DISK_IS_WRITABLE:
        return d.writeProtected === true ? this.fail(WIN32_ERROR.WRITE_PROTECT) : true;
      case S.IOCTL.DISK_GET_DISK_ATTRIBUTES: {
        const bytes = new Uint8Array(16);
        new DataView(bytes.buffer).setBigUint64(8, (d.offline === true ? 1n : 0n) | (d.writeProtected === true ? 2n : 0n), true);
        return this.answer(out, outSize, returned, bytes);
      }
      case S.IOCTL.STORAGE_GET_DEVICE_NUMBER:
        return this.answer(out, outSize, returned, this.encode(S.STORAGE_DEVICE_NUMBER, { DeviceType: 7, DeviceNumber: d.number, PartitionNumber: 0 }));
      case S.IOCTL.DISK_GET_DRIVE_LAYOUT_EX:
        return d.layout === undefined ? this.fail(WIN32_ERROR.INVALID_FUNCTION) : this.answer(out, outSize, returned, d.layout);
      default: {
        this.log.push(`IOCTL 0x${code.toString(16)} ${this.describe(h)}`);
        if (input !== null) this.received.push({ code, input: input.slice() });
        const custom = this.onIoctl?.(code, input, d);
        if (custom === undefined) return this.fail(WIN32_ERROR.INVALID_FUNCTION);
        return custom.length === 0 ? true : this.answer(out, outSize, returned, custom);
      }
    }
  }

  private propertyIoctl(d: FakeDisk, input: Uint8Array | null, out: Uint8Array | null, outSize: number, returned: number[]): boolean {
    const property = input === null ? -1 : new DataView(input.buffer, input.byteOffset).getUint32(0, true);
    if (property === 6) {
      return this.answer(out, outSize, returned, this.encode(S.STORAGE_ACCESS_ALIGNMENT_DESCRIPTOR, {
        Version: 28, Size: 28, BytesPerCacheLine: 64, BytesOffsetForCacheAlignment: 0,
        BytesPerLogicalSector: d.logicalSectorSize, BytesPerPhysicalSector: d.physicalSectorSize ?? d.logicalSectorSize, BytesOffsetForSectorAlignment: 0,
      }));
    }
    if (property !== 0) return this.fail(WIN32_ERROR.INVALID_FUNCTION);
    // STORAGE_DEVICE_DESCRIPTOR with its strings appended, as storage drivers return it.
    const strings = [d.vendor, d.product, '1.0', d.serial];
    const tail: number[] = [];
    const offsets = strings.map((s) => {
      if (s === undefined) return 0;
      const at = 40 + tail.length;
      tail.push(...[...s].map((c) => c.charCodeAt(0)), 0);
      return at;
    });
    const size = 40 + tail.length;
    const bytes = this.encode(S.STORAGE_DEVICE_DESCRIPTOR, {
      Version: 40, Size: size, DeviceType: 0, DeviceTypeModifier: 0, RemovableMedia: d.removable === true ? 1 : 0, CommandQueueing: 1,
      VendorIdOffset: offsets[0], ProductIdOffset: offsets[1], ProductRevisionOffset: offsets[2], SerialNumberOffset: offsets[3],
      BusType: d.busType ?? 0x0b, RawPropertiesLength: 0, RawDeviceProperties: [0],
    }, size);
    bytes.set(tail, 40);
    // Storage drivers answer as much as fits (the 8-byte header first) and succeed.
    if (out === null || outSize < 8) return this.fail(WIN32_ERROR.INSUFFICIENT_BUFFER);
    const n = Math.min(outSize, bytes.length);
    out.set(bytes.subarray(0, n));
    returned[0] = n;
    return true;
  }

  private shadowIoctl(name: string, code: number, out: Uint8Array | null, outSize: number, returned: number[]): boolean {
    this.log.push(`IOCTL 0x${code.toString(16)} ${name}`);
    if (code === S.IOCTL.DISK_GET_LENGTH_INFO && !this.shadowsWithoutLength.has(name)) {
      return this.answer(out, outSize, returned, this.encode(S.GET_LENGTH_INFORMATION, { Length: BigInt(this.shadows.get(name)!.length) }));
    }
    if (code === S.FSCTL.ALLOW_EXTENDED_DASD_IO) return true;
    return this.fail(WIN32_ERROR.INVALID_FUNCTION);
  }

  private volumeIoctl(v: FakeVolume, code: number, out: Uint8Array | null, outSize: number, returned: number[]): boolean {
    const name = v.name.replace(/\\$/, '');
    switch (code) {
      case S.IOCTL.VOLUME_GET_VOLUME_DISK_EXTENTS: {
        if (v.extents.length === 0) return this.fail(WIN32_ERROR.INVALID_FUNCTION);
        const size = S.volumeDiskExtentsSize(v.extents.length);
        const bytes = new Uint8Array(size);
        const view = new DataView(bytes.buffer);
        view.setUint32(0, v.extents.length, true);
        v.extents.forEach((e, i) => koffi.encode(bytes, 8 + 24 * i, S.DISK_EXTENT, { DiskNumber: e.diskNumber, StartingOffset: e.offsetBytes, ExtentLength: e.lengthBytes }));
        if (out !== null && outSize >= 8 && outSize < size) {
          out.set(bytes.subarray(0, 8));
          return this.fail(WIN32_ERROR.MORE_DATA);
        }
        return this.answer(out, outSize, returned, bytes, WIN32_ERROR.MORE_DATA);
      }
      case S.FSCTL.LOCK_VOLUME:
        if ((v.lockFailures ?? 0) > 0) {
          v.lockFailures = (v.lockFailures ?? 0) - 1;
          this.log.push(`LOCK ${name} refused`);
          return this.fail(WIN32_ERROR.ACCESS_DENIED);
        }
        this.log.push(`LOCK ${name}`);
        return true;
      case S.FSCTL.DISMOUNT_VOLUME:
        this.log.push(`DISMOUNT ${name}`);
        return true;
      default:
        return this.fail(WIN32_ERROR.INVALID_FUNCTION);
    }
  }
}
