/**
 * koffi bindings of the kernel32 calls the disk layer makes (reference §2.1–§2.8), loaded on first
 * use so that importing this module on Linux (tests, type checks) never touches kernel32.dll.
 *
 * Conventions (koffi 3):
 * - HANDLEs are declared `intptr_t`: plain numbers, INVALID_HANDLE_VALUE is -1.
 * - Pointers returned by C (VirtualAlloc) are BigInt; a BigInt or a Uint8Array may be passed to
 *   a `void *` parameter (a typed array is passed by address, valid only during the call).
 * - `_Out_ T *` parameters take a one-element array.
 * - koffi keeps LastErrorValue per thread around each call, so GetLastError() right after a failed
 *   synchronous call reports that call. Calls made with `.async` run on a worker thread, whose
 *   last error the main thread cannot see: callers repeat a failed async call synchronously to learn
 *   why (see `asyncCall` users in physical-drive.ts).
 */
import koffi from 'koffi';
import type { KoffiFunc } from 'koffi';
import { RecoveryError } from '../../core/errors.ts';

export const INVALID_HANDLE_VALUE = -1;
export const GENERIC_READ = 0x80000000;
export const GENERIC_WRITE = 0x40000000;
export const FILE_SHARE_READ = 1;
export const FILE_SHARE_WRITE = 2;
export const OPEN_EXISTING = 3;
export const FILE_FLAG_NO_BUFFERING = 0x20000000;
export const FILE_FLAG_WRITE_THROUGH = 0x80000000;
export const FILE_ATTRIBUTE_DIRECTORY = 0x10;
export const INVALID_FILE_ATTRIBUTES = 0xffffffff;
export const MEM_COMMIT = 0x1000;
export const MEM_RESERVE = 0x2000;
export const MEM_RELEASE = 0x8000;
export const PAGE_READWRITE = 4;

/** Win32 error codes the adapter tells apart (winerror.h). */
export const WIN32_ERROR = {
  INVALID_FUNCTION: 1,
  FILE_NOT_FOUND: 2,
  PATH_NOT_FOUND: 3,
  ACCESS_DENIED: 5,
  INVALID_HANDLE: 6,
  NO_MORE_FILES: 18,
  WRITE_PROTECT: 19,
  NOT_READY: 21,
  CRC: 23,
  SECTOR_NOT_FOUND: 27,
  WRITE_FAULT: 29,
  READ_FAULT: 30,
  GEN_FAILURE: 31,
  SHARING_VIOLATION: 32,
  LOCK_VIOLATION: 33,
  HANDLE_EOF: 38,
  NOT_SUPPORTED: 50,
  INVALID_PARAMETER: 87,
  INSUFFICIENT_BUFFER: 122,
  INVALID_NAME: 123,
  MORE_DATA: 234,
  NO_MORE_ITEMS: 259,
  IO_DEVICE: 1117,
} as const;

const ERROR_NAMES = new Map<number, string>(Object.entries(WIN32_ERROR).map(([name, code]) => [code, `ERROR_${name}`]));

/** "ERROR_ACCESS_DENIED" for 5; "Win32 error 1234" for codes not listed above. */
export function win32ErrorName(code: number): string {
  return ERROR_NAMES.get(code) ?? `Win32 error ${code}`;
}

type Pointer = bigint | Uint8Array | null;

export interface Kernel32 {
  readonly CreateFileW: KoffiFunc<(name: string, access: number, share: number, security: null, disposition: number, flags: number, template: number) => number>;
  readonly CloseHandle: KoffiFunc<(handle: number) => boolean>;
  readonly ReadFile: KoffiFunc<(handle: number, buffer: Pointer, length: number, done: number[], overlapped: Uint8Array | null) => boolean>;
  readonly WriteFile: KoffiFunc<(handle: number, buffer: Pointer, length: number, done: number[], overlapped: Uint8Array | null) => boolean>;
  readonly SetFilePointerEx: KoffiFunc<(handle: number, distance: bigint, position: bigint[], method: number) => boolean>;
  readonly FlushFileBuffers: KoffiFunc<(handle: number) => boolean>;
  readonly GetFileSizeEx: KoffiFunc<(handle: number, size: bigint[]) => boolean>;
  readonly GetFileAttributesW: KoffiFunc<(name: string) => number>;
  readonly DeviceIoControl: KoffiFunc<(handle: number, code: number, input: Pointer, inputSize: number, output: Pointer, outputSize: number, returned: number[], overlapped: null) => boolean>;
  readonly GetLastError: KoffiFunc<() => number>;
  readonly VirtualAlloc: KoffiFunc<(address: null, size: number, type: number, protect: number) => bigint | null>;
  readonly VirtualFree: KoffiFunc<(address: bigint, size: number, type: number) => boolean>;
  readonly FindFirstVolumeW: KoffiFunc<(name: Uint8Array, chars: number) => number>;
  readonly FindNextVolumeW: KoffiFunc<(handle: number, name: Uint8Array, chars: number) => boolean>;
  readonly FindVolumeClose: KoffiFunc<(handle: number) => boolean>;
  readonly GetVolumePathNamesForVolumeNameW: KoffiFunc<(volume: string, names: Uint8Array, chars: number, needed: number[]) => boolean>;
  readonly GetVolumeNameForVolumeMountPointW: KoffiFunc<(mountPoint: string, volume: Uint8Array, chars: number) => boolean>;
  readonly GetLogicalDriveStringsW: KoffiFunc<(chars: number, buffer: Uint8Array) => number>;
  readonly GetVolumeInformationW: KoffiFunc<(root: string, name: Uint8Array | null, nameChars: number, serial: number[], maxComponent: number[], flags: number[], fsName: Uint8Array, fsChars: number) => boolean>;
  /** Windows 8 / WinPE 4 and later; undefined where kernel32 lacks it (older systems, wine 8). */
  readonly GetFirmwareType: KoffiFunc<(type: number[]) => boolean> | undefined;
}

let loaded: Kernel32 | undefined;

function bind(): Kernel32 {
  const lib = koffi.load('kernel32.dll');
  const f = <T extends (...args: never[]) => unknown>(definition: string): KoffiFunc<T> => lib.func(definition) as KoffiFunc<T>;
  const optional = <T extends (...args: never[]) => unknown>(definition: string): KoffiFunc<T> | undefined => {
    try {
      return f<T>(definition);
    } catch {
      return undefined;
    }
  };
  return {
    CreateFileW: f('intptr_t __stdcall CreateFileW(const char16_t *name, uint32_t access, uint32_t share, void *security, uint32_t disposition, uint32_t flags, intptr_t templ)'),
    CloseHandle: f('bool __stdcall CloseHandle(intptr_t h)'),
    ReadFile: f('bool __stdcall ReadFile(intptr_t h, void *buf, uint32_t len, _Out_ uint32_t *done, void *overlapped)'),
    WriteFile: f('bool __stdcall WriteFile(intptr_t h, void *buf, uint32_t len, _Out_ uint32_t *done, void *overlapped)'),
    SetFilePointerEx: f('bool __stdcall SetFilePointerEx(intptr_t h, int64_t dist, _Out_ int64_t *newPos, uint32_t method)'),
    FlushFileBuffers: f('bool __stdcall FlushFileBuffers(intptr_t h)'),
    GetFileSizeEx: f('bool __stdcall GetFileSizeEx(intptr_t h, _Out_ int64_t *size)'),
    GetFileAttributesW: f('uint32_t __stdcall GetFileAttributesW(const char16_t *name)'),
    DeviceIoControl: f('bool __stdcall DeviceIoControl(intptr_t h, uint32_t code, void *inBuf, uint32_t inSize, void *outBuf, uint32_t outSize, _Out_ uint32_t *returned, void *overlapped)'),
    GetLastError: f('uint32_t __stdcall GetLastError()'),
    VirtualAlloc: f('void * __stdcall VirtualAlloc(void *addr, uintptr_t size, uint32_t type, uint32_t protect)'),
    VirtualFree: f('bool __stdcall VirtualFree(void *addr, uintptr_t size, uint32_t type)'),
    FindFirstVolumeW: f('intptr_t __stdcall FindFirstVolumeW(void *name, uint32_t chars)'),
    FindNextVolumeW: f('bool __stdcall FindNextVolumeW(intptr_t h, void *name, uint32_t chars)'),
    FindVolumeClose: f('bool __stdcall FindVolumeClose(intptr_t h)'),
    GetVolumePathNamesForVolumeNameW: f('bool __stdcall GetVolumePathNamesForVolumeNameW(const char16_t *volume, void *names, uint32_t chars, _Out_ uint32_t *needed)'),
    GetVolumeNameForVolumeMountPointW: f('bool __stdcall GetVolumeNameForVolumeMountPointW(const char16_t *mountPoint, void *volume, uint32_t chars)'),
    GetLogicalDriveStringsW: f('uint32_t __stdcall GetLogicalDriveStringsW(uint32_t chars, void *buffer)'),
    GetVolumeInformationW: f('bool __stdcall GetVolumeInformationW(const char16_t *root, void *name, uint32_t nameChars, _Out_ uint32_t *serial, _Out_ uint32_t *maxComponent, _Out_ uint32_t *flags, void *fsName, uint32_t fsChars)'),
    GetFirmwareType: optional('bool __stdcall GetFirmwareType(_Out_ uint32_t *type)'),
  };
}

/** The bindings, declared on first call; throws `win32.unavailable` where kernel32.dll cannot load. */
export function kernel32(): Kernel32 {
  if (loaded !== undefined) return loaded;
  try {
    loaded = bind();
  } catch (e) {
    throw new RecoveryError('win32.unavailable', `kernel32.dll cannot be loaded here (${process.platform}): ${(e as Error).message}`, {
      cause: e, data: { platform: process.platform },
    });
  }
  return loaded;
}

/** A failed Win32 call as data: which call, on what, and the error code GetLastError gave. */
export class Win32CallError extends RecoveryError {
  constructor(readonly call: string, readonly win32Error: number, readonly target: string) {
    super('win32.call-failed', `${call} on ${target} failed: ${win32ErrorName(win32Error)} (${win32Error})`, {
      data: { call, target, win32Error, win32Name: win32ErrorName(win32Error) },
    });
  }
}

/** Runs a koffi function on a worker thread; the promise settles with its return value. */
export function asyncCall<R>(fn: { async: (...args: never[]) => void }, ...args: unknown[]): Promise<R> {
  return new Promise<R>((resolve, reject) => {
    const callback = (err: unknown, result: R) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(result));
    (fn.async as (...a: unknown[]) => void)(...args, callback);
  });
}

/** Output sizes never grow past this: a driver that keeps asking for more is broken. */
const MAX_IOCTL_OUTPUT = 16 * 1024 * 1024;

/**
 * DeviceIoControl with a growing output buffer: variable-length answers (drive layouts, disk
 * extents, property descriptors) fail with ERROR_INSUFFICIENT_BUFFER or ERROR_MORE_DATA until the
 * buffer fits. Returns the bytes the driver filled in.
 */
export function deviceIoControl(k: Kernel32, handle: number, code: number, input: Uint8Array | null, outputSize: number, target: string): Uint8Array {
  for (let size = outputSize; ; size *= 2) {
    const output = size > 0 ? new Uint8Array(size) : null;
    const returned = [0];
    if (k.DeviceIoControl(handle, code, input, input?.length ?? 0, output, size, returned, null)) {
      return output === null ? new Uint8Array(0) : output.slice(0, returned[0]);
    }
    const error = k.GetLastError();
    const grow = error === WIN32_ERROR.INSUFFICIENT_BUFFER || error === WIN32_ERROR.MORE_DATA;
    if (!grow || size === 0 || size * 2 > MAX_IOCTL_OUTPUT) {
      throw new Win32CallError(`DeviceIoControl(0x${code.toString(16).padStart(8, '0')})`, error, target);
    }
  }
}

/** Page-aligned memory from VirtualAlloc, with a view for copying in and out. */
export interface AlignedBuffer {
  readonly address: bigint;
  readonly bytes: Uint8Array;
}

export function allocAligned(k: Kernel32, size: number): AlignedBuffer {
  const address = k.VirtualAlloc(null, size, MEM_COMMIT | MEM_RESERVE, PAGE_READWRITE);
  if (address === null || address === 0n) throw new Win32CallError('VirtualAlloc', k.GetLastError(), `${size} bytes`);
  const pointer = BigInt(address);
  return { address: pointer, bytes: new Uint8Array(koffi.view(pointer, size)) };
}

export function freeAligned(k: Kernel32, buffer: AlignedBuffer): void {
  k.VirtualFree(buffer.address, 0, MEM_RELEASE);
}

/** A UTF-16 output buffer of `chars` characters. */
export function wideBuffer(chars: number): Uint8Array {
  return new Uint8Array(chars * 2);
}

/** The strings of a UTF-16LE buffer up to the first empty one (a single string or a multi-sz list). */
export function readWideStrings(buffer: Uint8Array): string[] {
  const units = new Uint16Array(buffer.buffer, buffer.byteOffset, Math.floor(buffer.length / 2));
  const out: string[] = [];
  let start = 0;
  for (let i = 0; i < units.length; i++) {
    if (units[i] !== 0) continue;
    if (i === start) break;
    out.push(String.fromCharCode(...units.subarray(start, i)));
    start = i + 1;
  }
  return out;
}
