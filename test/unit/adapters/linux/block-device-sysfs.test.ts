import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isRecoveryError } from '../../../../src/core/errors.ts';
import { readSysfsBlockInfo, splitDeviceNumber } from '../../../../src/adapters/linux/block-device-sysfs.ts';
import { mustRun, tempDir } from '../../../helpers/run.ts';

/** glibc's gnu_dev_makedev, written out independently of the code under test. */
function makedev(major: number, minor: number): bigint {
  const ma = BigInt(major);
  const mi = BigInt(minor);
  return ((ma & 0xfffn) << 8n) | ((ma & 0xfffff000n) << 32n) | (mi & 0xffn) | ((mi & 0xffffff00n) << 12n);
}

describe('splitDeviceNumber', () => {
  it('agrees with stat(1) on real device nodes', async () => {
    for (const node of ['/dev/null', '/dev/zero', '/dev/loop-control']) {
      const [major, minor] = (await mustRun('stat', ['--format', '%t %T', node])).trim().split(' ').map((hex) => parseInt(hex, 16));
      expect(splitDeviceNumber((await stat(node, { bigint: true })).rdev), node).toEqual({ major, minor });
    }
  });

  it('inverts makedev for 32-bit majors and minors', () => {
    fc.assert(fc.property(fc.nat({ max: 0xffffffff }), fc.nat({ max: 0xffffffff }), (major, minor) => {
      expect(splitDeviceNumber(makedev(major, minor))).toEqual({ major, minor });
    }));
  });
});

describe('readSysfsBlockInfo on a sysfs tree', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  beforeEach(async () => {
    dir = await tempDir();
    // A 4Kn disk 259:0 with a partition 259:1, laid out as the kernel does.
    const disk = join(dir.path, 'devices', 'pci0000:00', 'nvme0n1');
    await mkdir(join(disk, 'queue'), { recursive: true });
    await mkdir(join(disk, 'nvme0n1p1'));
    await mkdir(join(dir.path, 'dev', 'block'), { recursive: true });
    const files: Record<string, string> = {
      'size': '2097152\n', 'ro': '0\n', 'queue/logical_block_size': '4096\n', 'queue/physical_block_size': '4096\n',
      'nvme0n1p1/size': '1024\n', 'nvme0n1p1/ro': '1\n', 'nvme0n1p1/partition': '1\n',
    };
    for (const [name, text] of Object.entries(files)) await writeFile(join(disk, name), text);
    await symlink('../../devices/pci0000:00/nvme0n1', join(dir.path, 'dev', 'block', '259:0'));
    await symlink('../../devices/pci0000:00/nvme0n1/nvme0n1p1', join(dir.path, 'dev', 'block', '259:1'));
  });
  afterEach(async () => {
    await dir.cleanup();
  });

  it('reads size in 512-byte units whatever the sector size', async () => {
    const info = await readSysfsBlockInfo(makedev(259, 0), dir.path);
    expect(info.geometry).toEqual({ sizeBytes: 2097152n * 512n, logicalSectorSize: 4096, physicalSectorSize: 4096 });
    expect(info.readOnly).toBe(false);
  });

  it("takes a partition's sector sizes from its disk and its own read-only flag", async () => {
    const info = await readSysfsBlockInfo(makedev(259, 1), dir.path);
    expect(info.geometry).toEqual({ sizeBytes: 1024n * 512n, logicalSectorSize: 4096, physicalSectorSize: 4096 });
    expect(info.readOnly).toBe(true);
  });

  it('refuses sector sizes other than 512 and 4096, and unknown devices', async () => {
    await writeFile(join(dir.path, 'devices', 'pci0000:00', 'nvme0n1', 'queue', 'logical_block_size'), '2048\n');
    const unsupported = await readSysfsBlockInfo(makedev(259, 0), dir.path).catch((e: unknown) => e);
    expect(isRecoveryError(unsupported) && unsupported.code).toBe('device.unsupported');
    const missing = await readSysfsBlockInfo(makedev(8, 0), dir.path).catch((e: unknown) => e);
    expect(isRecoveryError(missing) && missing.code).toBe('device.not-found');
  });
});
