/**
 * Geometry of a Linux block device from sysfs, found by its device number (fstat `rdev`):
 * /sys/dev/block/M:m links to the same folder as /sys/class/block/<name>.
 *   size                       sectors of 512 bytes, whatever the logical sector size (kernel ABI)
 *   queue/logical_block_size   bytes
 *   queue/physical_block_size  bytes
 *   ro                         1 when the kernel refuses writes (e.g. `losetup --read-only`)
 * A partition's folder has no queue/: it lives in the parent disk's folder.
 */
import { readFile, realpath } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { RecoveryError } from '../../core/errors.ts';
import { isSectorSize } from '../../core/units.ts';
import type { DiskGeometry } from '../../core/partition/types.ts';

export interface SysfsBlockInfo {
  readonly geometry: DiskGeometry;
  readonly readOnly: boolean;
  /** The sysfs folder it was read from (resolved), for messages. */
  readonly sysfsPath: string;
}

/** Linux dev_t → major:minor, as glibc's gnu_dev_major/gnu_dev_minor split it (each 32 bits wide). */
export function splitDeviceNumber(rdev: bigint): { major: number; minor: number } {
  const major = ((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & 0xfffff000n);
  const minor = (rdev & 0xffn) | ((rdev >> 12n) & 0xffffff00n);
  return { major: Number(major), minor: Number(minor) };
}

async function readNumber(path: string): Promise<number> {
  const text = (await readFile(path, 'utf8')).trim();
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n)) {
    throw new RecoveryError('device.unsupported', `unexpected content in ${path}: "${text}"`, { data: { path } });
  }
  return n;
}

/** queue/<file> of the device, or of its parent disk when the device is a partition. */
async function readQueueValue(dir: string, file: string): Promise<number> {
  try {
    return await readNumber(join(dir, 'queue', file));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    return readNumber(join(dirname(dir), 'queue', file));
  }
}

/** Reads size, sector sizes and the read-only flag of the block device numbered `rdev`. */
export async function readSysfsBlockInfo(rdev: bigint, sysRoot = '/sys'): Promise<SysfsBlockInfo> {
  const { major, minor } = splitDeviceNumber(rdev);
  const link = join(sysRoot, 'dev', 'block', `${major}:${minor}`);
  let dir: string;
  try {
    dir = await realpath(link);
  } catch (e) {
    throw new RecoveryError('device.not-found', `no sysfs entry for block device ${major}:${minor}`, { cause: e, data: { path: link } });
  }
  const sectors512 = await readNumber(join(dir, 'size'));
  const logical = await readQueueValue(dir, 'logical_block_size');
  const physical = await readQueueValue(dir, 'physical_block_size');
  const readOnly = (await readNumber(join(dir, 'ro'))) !== 0;
  if (!isSectorSize(logical)) {
    throw new RecoveryError('device.unsupported', `logical sector size ${logical} is neither 512 nor 4096`, { data: { path: dir, logical } });
  }
  const geometry: DiskGeometry = { sizeBytes: BigInt(sectors512) * 512n, logicalSectorSize: logical, physicalSectorSize: physical };
  return { geometry, readOnly, sysfsPath: dir };
}
