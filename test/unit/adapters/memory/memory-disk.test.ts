import { describe, expect, it } from 'vitest';
import { isRecoveryError } from '../../../../src/core/errors.ts';
import { MemoryDisk, MemoryDiskOpener } from '../../../../src/adapters/memory/memory-disk.ts';

const TiB = 1024n ** 4n;

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  const outcome = await promise.then(() => undefined, (e: unknown) => e);
  return isRecoveryError(outcome) ? outcome.code : `not a RecoveryError: ${String(outcome)}`;
}

describe('MemoryDisk', () => {
  it('keeps writes volatile until flush: durableSnapshot is what a power cut would leave', async () => {
    const disk = MemoryDisk.create(64n * 1024n);
    await disk.write(512n, new Uint8Array(512).fill(7));
    expect(disk.snapshot()[512]).toBe(7);
    expect(disk.durableSnapshot()[512]).toBe(0);
    await disk.flush();
    expect(disk.durableSnapshot()[512]).toBe(7);
    // A later unflushed write leaves the flushed bytes of the same chunk in the durable view.
    await disk.write(1024n, new Uint8Array(512).fill(9));
    expect([disk.durableSnapshot()[512], disk.durableSnapshot()[1024]]).toEqual([7, 0]);
    expect([disk.snapshot()[512], disk.snapshot()[1024]]).toEqual([7, 9]);
  });

  it('copies the bytes of fromBytes, which are durable at once', async () => {
    const source = new Uint8Array(4096).map((_, i) => i & 0xff);
    const disk = MemoryDisk.fromBytes(source, { logicalSectorSize: 4096, physicalSectorSize: 4096 });
    source.fill(0);
    expect(disk.geometry).toEqual({ sizeBytes: 4096n, logicalSectorSize: 4096, physicalSectorSize: 4096 });
    expect(disk.durableSnapshot()[255]).toBe(255);
    expect((await disk.read(0n, 4096))[300]).toBe(300 & 0xff);
  });

  it('reads and writes across its 64 KiB storage chunks', async () => {
    const disk = MemoryDisk.create(1024n * 1024n);
    const data = new Uint8Array(3 * 65536 + 1024).map((_, i) => (i * 7) & 0xff);
    await disk.write(65536n - 512n, data);
    expect(Array.from(await disk.read(65536n - 512n, data.length))).toEqual(Array.from(data));
    expect(disk.snapshot().subarray(0, 65536 - 512).every((b) => b === 0)).toBe(true);
  });

  it('simulates a 2 TiB disk while storing only what was written', async () => {
    const disk = MemoryDisk.create(2n * TiB, { logicalSectorSize: 4096, physicalSectorSize: 4096 });
    const lastSector = 2n * TiB - 4096n;
    await disk.write(lastSector, new Uint8Array(4096).fill(0xee));
    expect((await disk.read(lastSector - 4096n, 8192)).subarray(4090, 4100)).toEqual(new Uint8Array([0, 0, 0, 0, 0, 0, 0xee, 0xee, 0xee, 0xee]));
    expect(await codeOf(disk.read(2n * TiB, 4096))).toBe('device.out-of-range');
  });

  it('shares bytes between handles; a read-only handle or a write-protected disk refuses writes', async () => {
    const disk = MemoryDisk.create(8192n, { path: 'memory:a' });
    const other = disk.reopen({ writable: false });
    await disk.write(0n, new Uint8Array(512).fill(3));
    expect((await other.read(0n, 512))[0]).toBe(3);
    expect(await codeOf(other.write(0n, new Uint8Array(512)))).toBe('device.read-only');
    await other.close();
    expect(await codeOf(other.read(0n, 512))).toBe('device.closed');
    expect((await disk.read(0n, 512))[0]).toBe(3);

    const protectedDisk = MemoryDisk.create(8192n, { path: 'memory:b', readOnly: true });
    expect(protectedDisk.readOnly).toBe(true);
    expect(() => protectedDisk.reopen({ writable: true })).toThrow(/read-only/);
    expect(await codeOf(new MemoryDiskOpener([protectedDisk]).open('memory:b', { writable: true }))).toBe('device.read-only');
  });

  it('refuses a size that is not whole sectors', () => {
    expect(() => MemoryDisk.create(1000n)).toThrow(RangeError);
    expect(() => MemoryDisk.create(8192n + 512n, { logicalSectorSize: 4096 })).toThrow(RangeError);
  });
});
