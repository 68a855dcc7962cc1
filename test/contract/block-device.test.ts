/** Runs the BlockDevice contract against every adapter that can run on Linux. */
import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { SectorSize } from '../../src/core/units.ts';
import { LinuxBlockDeviceOpener } from '../../src/adapters/linux/linux-opener.ts';
import { attachLoop, detachLoop } from '../../src/adapters/linux/loop-device.ts';
import { MemoryDisk, MemoryDiskOpener } from '../../src/adapters/memory/memory-disk.ts';
import { isRoot, mustRun, tempDir } from '../helpers/run.ts';
import { describeBlockDevice } from './block-device.contract.ts';
import type { BlockDeviceSubject } from './block-device.contract.ts';

const DISK_BYTES = 8n * 1024n * 1024n;

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}

async function sha256sum(path: string): Promise<string> {
  const out = await mustRun('sha256sum', ['--', path]);
  return out.split(' ')[0] ?? '';
}

function memorySubject(sector: SectorSize) {
  return async (): Promise<BlockDeviceSubject> => {
    const disk = MemoryDisk.create(DISK_BYTES, { path: 'memory:disk0', logicalSectorSize: sector });
    const opener = new MemoryDiskOpener([disk]);
    return {
      opener,
      path: disk.path,
      logicalSectorSize: sector,
      expected: { sizeBytes: DISK_BYTES, logicalSectorSize: sector, physicalSectorSize: sector },
      missingPath: 'memory:disk9',
      exists: async (path) => opener.has(path),
      backingSize: async () => BigInt(disk.snapshot().length),
      durableSha256: async () => createHash('sha256').update(disk.durableSnapshot()).digest('hex'),
      cleanup: async () => undefined,
    };
  };
}

/** A sparse, all-zero image file in a fresh temp folder. */
async function makeImage(): Promise<{ dir: string; image: string; cleanup: () => Promise<void> }> {
  const dir = await tempDir();
  const image = join(dir.path, 'disk.img');
  await mustRun('truncate', ['--size', String(DISK_BYTES), image]);
  return { dir: dir.path, image, cleanup: dir.cleanup };
}

function imageFileSubject(sector: SectorSize) {
  return async (): Promise<BlockDeviceSubject> => {
    const { dir, image, cleanup } = await makeImage();
    return {
      opener: new LinuxBlockDeviceOpener(),
      path: image,
      logicalSectorSize: sector,
      expected: { sizeBytes: DISK_BYTES, logicalSectorSize: sector, physicalSectorSize: sector },
      missingPath: join(dir, 'missing.img'),
      exists,
      backingSize: async () => (await stat(image, { bigint: true })).size,
      durableSha256: () => sha256sum(image),
      cleanup,
    };
  };
}

function loopSubject(sector: SectorSize) {
  return async (): Promise<BlockDeviceSubject> => {
    const { dir, image, cleanup } = await makeImage();
    const device = await attachLoop(image, { sectorSize: sector });
    try {
      // The geometry the adapter must report is what blockdev (util-linux) says, not what we asked for.
      const [size, logical, physical] = (await mustRun('blockdev', ['--getsize64', '--getss', '--getpbsz', device])).trim().split(/\s+/);
      return {
        opener: new LinuxBlockDeviceOpener(),
        path: device,
        expected: { sizeBytes: BigInt(size ?? -1), logicalSectorSize: Number(logical) as SectorSize, physicalSectorSize: Number(physical) },
        missingPath: join(dir, 'missing-device'),
        exists,
        backingSize: async () => (await stat(image, { bigint: true })).size,
        // The backing file, not the loop device: only a flush pushes the loop's cached writes into it.
        durableSha256: () => sha256sum(image),
        cleanup: async () => {
          await detachLoop(device);
          await cleanup();
        },
      };
    } catch (e) {
      await detachLoop(device);
      await cleanup();
      throw e;
    }
  };
}

const needsRoot = isRoot ? {} : { skip: 'losetup needs root' };

describeBlockDevice('MemoryDisk, 512-byte sectors', memorySubject(512));
describeBlockDevice('MemoryDisk, 4096-byte sectors', memorySubject(4096));
describeBlockDevice('ImageFileDevice on an image file, 512-byte sectors', imageFileSubject(512));
describeBlockDevice('ImageFileDevice on an image file, 4096-byte sectors', imageFileSubject(4096));
describeBlockDevice('ImageFileDevice on a loop device, 512-byte sectors', loopSubject(512), needsRoot);
describeBlockDevice('ImageFileDevice on a loop device (losetup --sector-size 4096)', loopSubject(4096), needsRoot);
