/**
 * The BlockDevice contract (src/ports/block-device.ts), one suite for every adapter: run it with
 * describeBlockDevice(name, makeSubject). Each test gets a fresh subject whose disk holds only zeros.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isRecoveryError } from '../../src/core/errors.ts';
import type { DiskGeometry } from '../../src/core/partition/types.ts';
import type { SectorSize } from '../../src/core/units.ts';
import type { BlockDevice, BlockDeviceOpener } from '../../src/ports/block-device.ts';

export interface BlockDeviceSubject {
  readonly opener: BlockDeviceOpener;
  /** The disk under test: all zeros when the subject is made. */
  readonly path: string;
  /** The sector size to ask for at open (image files); devices report their own. */
  readonly logicalSectorSize?: SectorSize;
  /** The geometry the adapter must report, known from how the subject was built or from another tool. */
  readonly expected: DiskGeometry;
  /** A path the opener would look in that does not exist. */
  readonly missingPath: string;
  /** Whether `path` exists, found out without the adapter. */
  exists(path: string): Promise<boolean>;
  /** Bytes of the backing store, found out without the adapter (an image file must never grow). */
  backingSize(): Promise<bigint>;
  /** SHA-256 (hex) of what the backing store holds durably, read without the adapter. */
  durableSha256(): Promise<string>;
  cleanup(): Promise<void>;
}

export interface DescribeOptions {
  /** Why the suite cannot run here (e.g. not root); it is then listed as skipped with this reason. */
  readonly skip?: string;
}

/** Rejects with a RecoveryError of `code`; anything else (including success) fails. */
async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  const outcome = await promise.then(() => 'resolved', (e: unknown) => e);
  expect(outcome, `expected ${code}`).not.toBe('resolved');
  expect(isRecoveryError(outcome), String(outcome)).toBe(true);
  expect((outcome as { code: string }).code).toBe(code);
}

/** mulberry32: deterministic bytes so a failure can be replayed. */
export function randomBytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let a = seed >>> 0;
  for (let i = 0; i < length; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = (t ^ (t >>> 14)) & 0xff;
  }
  return out;
}

/** Index of the first differing byte, or -1; cheaper to report than a diff of megabytes. */
export function firstDifference(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function describeBlockDevice(name: string, makeSubject: () => Promise<BlockDeviceSubject>, options: DescribeOptions = {}): void {
  const title = options.skip === undefined ? `BlockDevice contract: ${name}` : `BlockDevice contract: ${name} (skipped: ${options.skip})`;
  describe.skipIf(options.skip !== undefined)(title, () => {
    let subject: BlockDeviceSubject;
    const opened: BlockDevice[] = [];

    async function openDevice(writable: boolean): Promise<BlockDevice> {
      const device = await subject.opener.open(subject.path, { writable, logicalSectorSize: subject.logicalSectorSize });
      opened.push(device);
      return device;
    }

    beforeEach(async () => {
      subject = await makeSubject();
    });
    afterEach(async () => {
      for (const device of opened.splice(0)) await device.close();
      await subject.cleanup();
    });

    it('reports the geometry, path and mode it was opened with', async () => {
      const ro = await openDevice(false);
      expect(ro.geometry).toEqual(subject.expected);
      expect(ro.path).toBe(subject.path);
      expect(ro.readOnly).toBe(true);
      expect(ro.geometry.sizeBytes % BigInt(ro.geometry.logicalSectorSize)).toBe(0n);
      const rw = await openDevice(true);
      expect(rw.readOnly).toBe(false);
      expect(rw.geometry).toEqual(subject.expected);
    });

    it('rejects offsets and lengths that are not whole logical sectors', async () => {
      const device = await openDevice(true);
      const s = device.geometry.logicalSectorSize;
      // 512 is unaligned on a 4096-byte-sector disk: code that assumes 512 fails here, not in WinPE.
      for (const offset of [1n, BigInt(s / 2), BigInt(s + 8)]) {
        await expectCode(device.read(offset, s), 'device.unaligned');
        await expectCode(device.write(offset, new Uint8Array(s).fill(0xaa)), 'device.unaligned');
      }
      for (const length of [1, s - 1, s + s / 2]) {
        await expectCode(device.read(0n, length), 'device.unaligned');
        await expectCode(device.write(0n, new Uint8Array(length).fill(0xaa)), 'device.unaligned');
      }
      expect(firstDifference(await device.read(0n, 2 * s), new Uint8Array(2 * s))).toBe(-1);
    });

    it('rejects transfers that leave the disk and never grows it', async () => {
      const device = await openDevice(true);
      const s = device.geometry.logicalSectorSize;
      const size = device.geometry.sizeBytes;
      const backingBefore = await subject.backingSize();
      await expectCode(device.read(size, s), 'device.out-of-range');
      await expectCode(device.read(size - BigInt(s), 2 * s), 'device.out-of-range');
      await expectCode(device.read(-BigInt(s), s), 'device.out-of-range');
      await expectCode(device.write(size, new Uint8Array(s).fill(1)), 'device.out-of-range');
      await expectCode(device.write(size - BigInt(s), new Uint8Array(2 * s).fill(1)), 'device.out-of-range');
      await device.flush();
      expect(await subject.backingSize()).toBe(backingBefore);
      // The last sector itself is in range, both ways.
      const last = randomBytes(s, 7);
      await device.write(size - BigInt(s), last);
      expect(firstDifference(await device.read(size - BigInt(s), s), last)).toBe(-1);
    });

    it('refuses writes through a read-only open and leaves the disk unchanged', async () => {
      const ro = await openDevice(false);
      const s = ro.geometry.logicalSectorSize;
      await expectCode(ro.write(0n, new Uint8Array(s).fill(0x55)), 'device.read-only');
      const rw = await openDevice(true);
      expect(firstDifference(await rw.read(0n, s), new Uint8Array(s))).toBe(-1);
    });

    it('reads back random data written at random aligned offsets', async () => {
      const device = await openDevice(true);
      const s = device.geometry.logicalSectorSize;
      const sectors = Number(device.geometry.sizeBytes / BigInt(s));
      const mirror = new Uint8Array(Number(device.geometry.sizeBytes));
      const transfer = fc.record({ sector: fc.nat({ max: sectors - 1 }), count: fc.integer({ min: 1, max: 64 }), seed: fc.integer() });
      await fc.assert(fc.asyncProperty(fc.array(transfer, { minLength: 1, maxLength: 6 }), transfer, async (writes, probe) => {
        for (const w of writes) {
          const data = randomBytes(Math.min(w.count, sectors - w.sector) * s, w.seed);
          await device.write(BigInt(w.sector * s), data);
          mirror.set(data, w.sector * s);
        }
        for (const r of [...writes, probe]) {
          const length = Math.min(r.count, sectors - r.sector) * s;
          const got = await device.read(BigInt(r.sector * s), length);
          expect(firstDifference(got, mirror.subarray(r.sector * s, r.sector * s + length))).toBe(-1);
        }
      }), { numRuns: 30 });
    });

    it('serves concurrent reads and writes on different ranges', async () => {
      const device = await openDevice(true);
      const s = device.geometry.logicalSectorSize;
      const slot = 8 * s;
      const slots = Math.min(48, Number(device.geometry.sizeBytes) / slot);
      const first = Array.from({ length: slots }, (_, i) => randomBytes(slot, 1000 + i));
      await Promise.all(first.map((data, i) => device.write(BigInt(i * slot), data)));
      // Even slots are rewritten while odd slots are read, all in flight at once.
      const second = first.map((data, i) => (i % 2 === 0 ? randomBytes(slot, 5000 + i) : data));
      const reads = await Promise.all(second.map((data, i) =>
        i % 2 === 0 ? device.write(BigInt(i * slot), data).then(() => data) : device.read(BigInt(i * slot), slot)));
      reads.forEach((got, i) => expect(firstDifference(got, second[i] ?? new Uint8Array(0)), `slot ${i}`).toBe(-1));
      const after = await Promise.all(second.map((_, i) => device.read(BigInt(i * slot), slot)));
      after.forEach((got, i) => expect(firstDifference(got, second[i] ?? new Uint8Array(0)), `slot ${i}`).toBe(-1));
    });

    it('returns exactly the bytes asked for, in arrays the caller owns', async () => {
      const device = await openDevice(true);
      const s = device.geometry.logicalSectorSize;
      const size = device.geometry.sizeBytes;
      const tail = 3 * s;
      for (const [offset, length] of [[0n, s], [BigInt(s), 8 * s], [0n, 1024 * 1024], [size - BigInt(tail), tail], [0n, 0], [size, 0]] as const) {
        const got = await device.read(offset, length);
        expect(got).toBeInstanceOf(Uint8Array);
        expect(got.length).toBe(length);
      }
      const data = randomBytes(2 * s, 42);
      const source = data.slice();
      await device.write(BigInt(4 * s), source);
      source.fill(0); // the device must not keep the caller's buffer
      const got = await device.read(BigInt(4 * s), 2 * s);
      expect(firstDifference(got, data)).toBe(-1);
      got.fill(0xff); // nor hand out its own
      expect(firstDifference(await device.read(BigInt(4 * s), 2 * s), data)).toBe(-1);
    });

    it('keeps flushed data: visible without the adapter, then after close and reopen', async () => {
      const device = await openDevice(true);
      const s = device.geometry.logicalSectorSize;
      const mirror = new Uint8Array(Number(device.geometry.sizeBytes));
      const ranges = [[0, 1], [1, 33], [Number(device.geometry.sizeBytes) / s - 4, 4], [100, 7]] as const;
      for (const [sector, count] of ranges) {
        const data = randomBytes(count * s, sector + 1);
        await device.write(BigInt(sector * s), data);
        mirror.set(data, sector * s);
      }
      await device.flush();
      expect(await subject.durableSha256()).toBe(sha256(mirror));
      await device.close();
      await expectCode(device.read(0n, s), 'device.closed');
      const again = await openDevice(false);
      expect(firstDifference(await again.read(0n, mirror.length), mirror)).toBe(-1);
      expect(await subject.durableSha256()).toBe(sha256(mirror));
    });

    it('gives device.not-found for a missing path and never creates it', async () => {
      expect(await subject.exists(subject.missingPath)).toBe(false);
      await expectCode(subject.opener.open(subject.missingPath, { writable: false }), 'device.not-found');
      await expectCode(subject.opener.open(subject.missingPath, { writable: true, logicalSectorSize: subject.logicalSectorSize }), 'device.not-found');
      expect(await subject.exists(subject.missingPath)).toBe(false);
      expect(await subject.exists(subject.path)).toBe(true);
    });
  });
}
