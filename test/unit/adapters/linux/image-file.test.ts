import { mkdir, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isRecoveryError } from '../../../../src/core/errors.ts';
import type { RecoveryError } from '../../../../src/core/errors.ts';
import { ImageFileDevice, readFully, writeFully } from '../../../../src/adapters/linux/image-file.ts';
import type { PositionalFile } from '../../../../src/adapters/linux/image-file.ts';
import type { OpenOptions } from '../../../../src/ports/block-device.ts';
import { attachLoop, detachLoop } from '../../../../src/adapters/linux/loop-device.ts';
import { isRoot, mustRun, tempDir } from '../../../helpers/run.ts';

async function rejection(promise: Promise<unknown>): Promise<RecoveryError> {
  const outcome = await promise.then(() => undefined, (e: unknown) => e);
  if (!isRecoveryError(outcome)) throw new Error(`expected a RecoveryError, got ${String(outcome)}`);
  return outcome;
}

/** A file over `backing` that moves at most `step` bytes per call, as pread/pwrite may. */
function stingyFile(backing: Uint8Array, step: number): PositionalFile & { calls: number } {
  const file = {
    calls: 0,
    async read(buffer: Uint8Array, offset: number, length: number, position: number) {
      file.calls++;
      const n = Math.max(0, Math.min(step, length, backing.length - position));
      buffer.set(backing.subarray(position, position + n), offset);
      return { bytesRead: n };
    },
    async write(buffer: Uint8Array, offset: number, length: number, position: number) {
      file.calls++;
      const n = Math.max(0, Math.min(step, length, backing.length - position));
      backing.set(buffer.subarray(offset, offset + n), position);
      return { bytesWritten: n };
    },
  };
  return file;
}

describe('readFully / writeFully', () => {
  const backing = Uint8Array.from({ length: 64 }, (_, i) => i);

  it('retries short reads until the buffer is full', async () => {
    const file = stingyFile(backing, 3);
    const buffer = new Uint8Array(20);
    await readFully(file, 'stingy', buffer, 10);
    expect(Array.from(buffer)).toEqual(Array.from(backing.subarray(10, 30)));
    expect(file.calls).toBe(7);
  });

  it('turns an end of file mid-read into device.short-read', async () => {
    const error = await rejection(readFully(stingyFile(backing, 5), 'stingy', new Uint8Array(16), 56));
    expect(error.code).toBe('device.short-read');
    expect(error.data).toMatchObject({ offset: 56, length: 16, got: 8 });
  });

  it('retries short writes until everything is written, and reports a write that stops', async () => {
    const target = new Uint8Array(32);
    const file = stingyFile(target, 4);
    await writeFully(file, 'stingy', Uint8Array.from([9, 8, 7, 6, 5, 4, 3, 2, 1, 0]), 20);
    expect(Array.from(target.subarray(20, 30))).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
    expect(file.calls).toBe(3);
    const error = await rejection(writeFully(file, 'stingy', new Uint8Array(8), 28));
    expect(error.code).toBe('device.short-write');
    expect(error.data).toMatchObject({ got: 4 });
  });

  it('wraps OS errors with a stable code and the errno', async () => {
    const failing: PositionalFile = {
      read: async () => { throw Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' }); },
      write: async () => { throw Object.assign(new Error('ENOSPC: no space left'), { code: 'ENOSPC' }); },
    };
    const readError = await rejection(readFully(failing, 'bad', new Uint8Array(4), 512));
    expect(readError.code).toBe('device.io-error');
    expect(readError.data).toMatchObject({ errno: 'EIO', offset: 512, path: 'bad' });
    expect((await rejection(writeFully(failing, 'bad', new Uint8Array(4), 0))).data.errno).toBe('ENOSPC');
  });
});

describe('ImageFileDevice on files', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  beforeEach(async () => {
    dir = await tempDir();
  });
  afterEach(async () => {
    await dir.cleanup();
  });

  it('rounds an image that is not whole sectors down to whole sectors', async () => {
    const image = join(dir.path, 'odd.img');
    await writeFile(image, '');
    await truncate(image, 1024 * 1024 + 100);
    const device = await ImageFileDevice.open(image, { writable: false, logicalSectorSize: 4096 });
    expect(device.geometry).toEqual({ sizeBytes: 1024n * 1024n, logicalSectorSize: 4096, physicalSectorSize: 4096 });
    await device.close();
  });

  it('refuses a sector size other than 512 or 4096 for an image file', async () => {
    const image = join(dir.path, 'any.img');
    await writeFile(image, new Uint8Array(8192));
    const options = { writable: false, logicalSectorSize: 1024 } as unknown as OpenOptions;
    expect((await rejection(ImageFileDevice.open(image, options))).code).toBe('device.unsupported');
  });

  it('reports device.short-read when the file shrank under an open device', async () => {
    const image = join(dir.path, 'shrinks.img');
    await writeFile(image, new Uint8Array(64 * 1024).fill(1));
    const device = await ImageFileDevice.open(image, { writable: false });
    await truncate(image, 8 * 1024);
    expect((await rejection(device.read(4096n, 8192))).code).toBe('device.short-read');
    expect((await device.read(0n, 512)).every((b) => b === 1)).toBe(true);
    await device.close();
  });

  it('opens writable without truncating, and closing without writes changes nothing', async () => {
    const image = join(dir.path, 'keep.img');
    await writeFile(image, new Uint8Array(16 * 1024).fill(0x5a));
    const before = await mustRun('sha256sum', [image]);
    const device = await ImageFileDevice.open(image, { writable: true });
    expect(device.geometry.sizeBytes).toBe(16n * 1024n);
    await device.close();
    expect(await mustRun('sha256sum', [image])).toBe(before);
  });

  it('refuses a directory as device.not-a-disk', async () => {
    const folder = join(dir.path, 'folder');
    await mkdir(folder);
    expect((await rejection(ImageFileDevice.open(folder, { writable: false }))).code).toBe('device.not-a-disk');
    expect((await rejection(ImageFileDevice.open(folder, { writable: true }))).code).toBe('device.not-a-disk');
  });
});

describe.skipIf(!isRoot)(`ImageFileDevice on loop devices${isRoot ? '' : ' (skipped: losetup needs root)'}`, () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let image: string;
  const loops: string[] = [];
  beforeEach(async () => {
    dir = await tempDir();
    image = join(dir.path, 'disk.img');
    await writeFile(image, '');
    await truncate(image, 4 * 1024 * 1024);
  });
  afterEach(async () => {
    for (const loop of loops.splice(0)) await detachLoop(loop);
    await dir.cleanup();
  });

  it('refuses a writable open of a read-only loop device, which the kernel itself would allow', async () => {
    const loop = await attachLoop(image, { readOnly: true });
    loops.push(loop);
    expect((await rejection(ImageFileDevice.open(loop, { writable: true }))).code).toBe('device.read-only');
    const device = await ImageFileDevice.open(loop, { writable: false });
    expect(device.readOnly).toBe(true);
    expect((await device.read(0n, 512)).length).toBe(512);
    await device.close();
  });

  it('opens a device exclusively for writing: a second writable open is device.busy', async () => {
    const loop = await attachLoop(image);
    loops.push(loop);
    const first = await ImageFileDevice.open(loop, { writable: true });
    try {
      expect((await rejection(ImageFileDevice.open(loop, { writable: true }))).code).toBe('device.busy');
      const reader = await ImageFileDevice.open(loop, { writable: false });
      await reader.close();
    } finally {
      await first.close();
    }
    const again = await ImageFileDevice.open(loop, { writable: true });
    await again.close();
  });

  it("takes the device's own sector size over the open option", async () => {
    const loop = await attachLoop(image, { sectorSize: 4096 });
    loops.push(loop);
    const device = await ImageFileDevice.open(loop, { writable: false, logicalSectorSize: 512 });
    expect(device.geometry.logicalSectorSize).toBe(4096);
    expect((await rejection(device.read(512n, 512))).code).toBe('device.unaligned');
    await device.close();
  });
});
