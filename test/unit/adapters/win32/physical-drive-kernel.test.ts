/**
 * PhysicalDrive on Linux over a scripted kernel32 (fake-kernel32.ts): the shared BlockDevice
 * contract for disks and image files (with a leak check of handles and VirtualAlloc buffers after
 * every test), then what only a disk has: geometry from IOCTLs, write protection, the volume
 * lock/dismount recipe of reference §2.3, Win32 error mapping and the async-then-sync error path.
 * The same code runs for real under wine in test/wine/.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isRecoveryError } from '../../../../src/core/errors.ts';
import type { SectorSize } from '../../../../src/core/units.ts';
import { WIN32_ERROR } from '../../../../src/adapters/win32/kernel32.ts';
import { deviceErrorCode, PhysicalDrive, PIECE_BYTES, physicalDriveNumber } from '../../../../src/adapters/win32/physical-drive.ts';
import { Win32BlockDeviceOpener } from '../../../../src/adapters/win32/win32-opener.ts';
import { describeBlockDevice, firstDifference, randomBytes } from '../../../contract/block-device.contract.ts';
import type { BlockDeviceSubject } from '../../../contract/block-device.contract.ts';
import { FakeKernel32 } from './fake-kernel32.ts';
import type { FakeDisk } from './fake-kernel32.ts';

const MiB = 1024 * 1024;
const DISK = '\\\\.\\PhysicalDrive1';

function leakCheck(fake: FakeKernel32): void {
  expect(fake.openHandles(), 'handles left open').toEqual([]);
  expect(fake.frees, 'VirtualAlloc buffers not freed').toBe(fake.allocations);
}

function subject(kind: 'disk' | 'file', sector: SectorSize) {
  return async (): Promise<BlockDeviceSubject> => {
    const fake = new FakeKernel32();
    const bytes = new Uint8Array(8 * MiB);
    const path = kind === 'disk' ? DISK : 'C:\\images\\disk.img';
    if (kind === 'disk') fake.addDisk({ number: 1, bytes, logicalSectorSize: sector });
    else fake.files.set(path, bytes);
    const backing = () => (kind === 'disk' ? fake.disks.get(1)!.bytes : fake.files.get(path)!);
    return {
      opener: new Win32BlockDeviceOpener({ kernel: fake.kernel }),
      path,
      logicalSectorSize: sector,
      expected: { sizeBytes: BigInt(bytes.length), logicalSectorSize: sector, physicalSectorSize: sector },
      missingPath: kind === 'disk' ? '\\\\.\\PhysicalDrive9' : 'C:\\images\\missing.img',
      exists: async (p) => (physicalDriveNumber(p) !== undefined ? fake.disks.has(physicalDriveNumber(p)!) : fake.files.has(p)),
      backingSize: async () => BigInt(backing().length),
      durableSha256: async () => createHash('sha256').update(backing()).digest('hex'),
      cleanup: async () => leakCheck(fake),
    };
  };
}

describeBlockDevice('PhysicalDrive over scripted kernel32, \\\\.\\PhysicalDriveN, 512-byte sectors', subject('disk', 512));
describeBlockDevice('PhysicalDrive over scripted kernel32, \\\\.\\PhysicalDriveN, 4096-byte sectors', subject('disk', 4096));
describeBlockDevice('PhysicalDrive over scripted kernel32, image file, 512-byte sectors', subject('file', 512));

async function rejection(promise: Promise<unknown>): Promise<{ code: string; data: Record<string, unknown> }> {
  const outcome = await promise.then(() => undefined, (e: unknown) => e);
  expect(isRecoveryError(outcome), String(outcome)).toBe(true);
  return outcome as { code: string; data: Record<string, unknown> };
}

function diskFixture(extra: Partial<FakeDisk> = {}) {
  const fake = new FakeKernel32();
  fake.addDisk({ number: 1, bytes: new Uint8Array(4 * MiB), logicalSectorSize: 512, ...extra });
  return fake;
}

describe('PhysicalDrive on \\\\.\\PhysicalDriveN (scripted kernel32)', () => {
  it('takes geometry from the IOCTLs: logical size, physical size of a 512e disk, whole sectors', async () => {
    const fake = diskFixture({ physicalSectorSize: 4096, bytes: new Uint8Array(4 * MiB + 700) });
    const device = await PhysicalDrive.open(DISK, { writable: false, logicalSectorSize: 4096 }, { kernel: fake.kernel });
    expect(device.geometry).toEqual({ sizeBytes: BigInt(4 * MiB + 512), logicalSectorSize: 512, physicalSectorSize: 4096 });
    expect(device.diskNumber).toBe(1);
    await device.close();
    leakCheck(fake);
  });

  it('refuses sector sizes other than 512/4096 and closes the handle', async () => {
    const fake = diskFixture({ logicalSectorSize: 520 });
    expect((await rejection(PhysicalDrive.open(DISK, { writable: false }, { kernel: fake.kernel }))).code).toBe('device.unsupported');
    leakCheck(fake);
  });

  it('refuses a writable open of a write-protected disk; a read-only open works', async () => {
    const fake = diskFixture({ writeProtected: true });
    expect((await rejection(PhysicalDrive.open(DISK, { writable: true }, { kernel: fake.kernel }))).code).toBe('device.read-only');
    leakCheck(fake);
    const device = await PhysicalDrive.open(DISK, { writable: false }, { kernel: fake.kernel });
    expect(device.readOnly).toBe(true);
    await device.close();
  });

  it('locks and dismounts every volume on the disk before writing and holds them until close', async () => {
    const fake = diskFixture();
    fake.volumes.push(
      { name: '\\\\?\\Volume{aaaaaaaa-0000-0000-0000-000000000001}\\', mountPoints: ['E:\\'], extents: [{ diskNumber: 1, offsetBytes: 1048576n, lengthBytes: 1048576n }] },
      { name: '\\\\?\\Volume{aaaaaaaa-0000-0000-0000-000000000002}\\', mountPoints: ['C:\\'], extents: [{ diskNumber: 0, offsetBytes: 1048576n, lengthBytes: 1048576n }] },
      // A spanned volume with a second extent on disk 1.
      { name: '\\\\?\\Volume{aaaaaaaa-0000-0000-0000-000000000003}\\', mountPoints: [], extents: [{ diskNumber: 0, offsetBytes: 0n, lengthBytes: 512n }, { diskNumber: 1, offsetBytes: 2097152n, lengthBytes: 512n }] },
    );
    const device = await PhysicalDrive.open(DISK, { writable: true }, { kernel: fake.kernel });
    const locked = fake.log.filter((l) => /^(LOCK|DISMOUNT)/.test(l));
    expect(locked).toEqual([
      'LOCK \\\\?\\Volume{aaaaaaaa-0000-0000-0000-000000000001}', 'DISMOUNT \\\\?\\Volume{aaaaaaaa-0000-0000-0000-000000000001}',
      'LOCK \\\\?\\Volume{aaaaaaaa-0000-0000-0000-000000000003}', 'DISMOUNT \\\\?\\Volume{aaaaaaaa-0000-0000-0000-000000000003}',
    ]);
    await device.write(1048576n, randomBytes(4096, 3));
    expect(fake.openHandles().sort()).toEqual([DISK, '\\\\?\\Volume{aaaaaaaa-0000-0000-0000-000000000001}', '\\\\?\\Volume{aaaaaaaa-0000-0000-0000-000000000003}'].sort());
    await device.close();
    leakCheck(fake);
  });

  it('takes no locks for a read-only open', async () => {
    const fake = diskFixture();
    fake.volumes.push({ name: '\\\\?\\Volume{aaaaaaaa-0000-0000-0000-000000000001}\\', mountPoints: ['E:\\'], extents: [{ diskNumber: 1, offsetBytes: 0n, lengthBytes: 512n }] });
    const device = await PhysicalDrive.open(DISK, { writable: false }, { kernel: fake.kernel });
    expect(fake.log.filter((l) => l.startsWith('LOCK'))).toEqual([]);
    await device.close();
  });

  it('retries a refused lock, and gives device.busy with the volume when it stays refused', async () => {
    const fake = diskFixture();
    const volume = { name: '\\\\?\\Volume{aaaaaaaa-0000-0000-0000-000000000001}\\', mountPoints: ['E:\\'], extents: [{ diskNumber: 1, offsetBytes: 0n, lengthBytes: 512n }], lockFailures: 2 };
    fake.volumes.push(volume);
    const device = await PhysicalDrive.open(DISK, { writable: true }, { kernel: fake.kernel, lock: { attempts: 3, retryDelayMs: 1 } });
    expect(fake.log.filter((l) => l.startsWith('LOCK'))).toHaveLength(3);
    await device.close();
    volume.lockFailures = 5;
    const refused = await rejection(PhysicalDrive.open(DISK, { writable: true }, { kernel: fake.kernel, lock: { attempts: 3, retryDelayMs: 1 } }));
    expect(refused.code).toBe('device.busy');
    expect(refused.data).toMatchObject({ volume: volume.name, mountPoints: ['E:\\'], diskNumber: 1, attempts: 3 });
    leakCheck(fake);
  });

  it('repeats a failed worker-thread call synchronously: a transient failure passes, a lasting one is mapped', async () => {
    const fake = diskFixture();
    const device = await PhysicalDrive.open(DISK, { writable: true }, { kernel: fake.kernel });
    fake.faults.push({ op: 'write', when: 'async', error: WIN32_ERROR.GEN_FAILURE, times: 1 });
    const data = randomBytes(8192, 9);
    await device.write(4096n, data);
    expect(firstDifference(await device.read(4096n, 8192), data)).toBe(-1);

    fake.faults.push({ op: 'write', when: 'always', error: WIN32_ERROR.ACCESS_DENIED, times: 2 });
    const denied = await rejection(device.write(0n, data));
    expect([denied.code, denied.data.errno, denied.data.win32Error, denied.data.offset]).toEqual(['device.access-denied', 'ERROR_ACCESS_DENIED', 5, 0n]);

    fake.faults.push({ op: 'read', when: 'always', error: WIN32_ERROR.CRC, times: 2 });
    expect(await rejection(device.read(0n, 512))).toMatchObject({ code: 'device.io-error', data: { errno: 'ERROR_CRC', win32Error: 23 } });

    fake.faults.push({ op: 'flush', when: 'always', error: WIN32_ERROR.IO_DEVICE, times: 2 });
    expect((await rejection(device.flush())).code).toBe('device.io-error');
    await device.close();
    leakCheck(fake);
  });

  it('splits large transfers into pieces and loops over short ones', async () => {
    const fake = diskFixture();
    const device = await PhysicalDrive.open(DISK, { writable: true }, { kernel: fake.kernel });
    const data = randomBytes(2 * PIECE_BYTES + PIECE_BYTES / 2, 11);
    await device.write(512n, data);
    expect(fake.transfers.filter((t) => t.op === 'write').map((t) => [t.offset, t.length])).toEqual([
      [512, PIECE_BYTES], [512 + PIECE_BYTES, PIECE_BYTES], [512 + 2 * PIECE_BYTES, PIECE_BYTES / 2],
    ]);
    fake.maxBytesPerCall = 4096;
    const got = await device.read(512n, 64 * 1024);
    expect(firstDifference(got, data.subarray(0, 64 * 1024))).toBe(-1);
    expect(fake.transfers.filter((t) => t.op === 'read')).toHaveLength(16);
    await device.close();
  });

  it('turns a zero-byte answer into device.short-read', async () => {
    const fake = new FakeKernel32();
    fake.files.set('C:\\disk.img', new Uint8Array(64 * 1024));
    const device = await PhysicalDrive.open('C:\\disk.img', { writable: false }, { kernel: fake.kernel });
    fake.files.set('C:\\disk.img', new Uint8Array(4096)); // someone truncated the image behind our back
    expect((await rejection(device.read(8192n, 4096))).code).toBe('device.short-read');
    await device.close();
  });

  it('finishes transfers in flight before close releases buffers and handles', async () => {
    const fake = diskFixture();
    const device = await PhysicalDrive.open(DISK, { writable: true }, { kernel: fake.kernel });
    const data = randomBytes(PIECE_BYTES, 5);
    const writing = device.write(0n, data);
    await device.close();
    await writing;
    expect(firstDifference(fake.disks.get(1)!.bytes.subarray(0, PIECE_BYTES), data)).toBe(-1);
    leakCheck(fake);
    expect((await rejection(device.read(0n, 512))).code).toBe('device.closed');
  });

  it('tells disks, other devices, folders and files apart by path', async () => {
    const fake = diskFixture();
    fake.directories.add('C:\\images');
    fake.files.set('\\\\?\\C:\\images\\long.img', new Uint8Array(8192));
    const open = (path: string) => PhysicalDrive.open(path, { writable: false }, { kernel: fake.kernel });
    expect((await rejection(open('\\\\.\\C:'))).code).toBe('device.not-a-disk');
    expect((await rejection(open('\\\\?\\Volume{aaaaaaaa-0000-0000-0000-000000000001}'))).code).toBe('device.not-a-disk');
    expect((await rejection(open('C:\\images'))).code).toBe('device.not-a-disk');
    expect((await rejection(open('C:\\images\\none.img'))).code).toBe('device.not-found');
    expect((await rejection(open('\\\\.\\PhysicalDrive7'))).code).toBe('device.not-found');
    const long = await open('\\\\?\\C:\\images\\long.img');
    expect(long.geometry.sizeBytes).toBe(8192n);
    await long.close();
    leakCheck(fake);
  });

  it('maps Win32 errors to the port codes', () => {
    expect([2, 3, 123, 5, 32, 33, 19, 38, 23, 1117].map(deviceErrorCode)).toEqual([
      'device.not-found', 'device.not-found', 'device.not-found', 'device.access-denied', 'device.busy', 'device.busy',
      'device.read-only', 'device.short-read', 'device.io-error', 'device.io-error',
    ]);
    expect([physicalDriveNumber('\\\\.\\PhysicalDrive12'), physicalDriveNumber('\\\\?\\physicaldrive0'), physicalDriveNumber('\\\\.\\C:')]).toEqual([12, 0, undefined]);
  });
});
