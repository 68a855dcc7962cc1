/**
 * The Driver tools disk table from disks opened read-only: size, sector sizes, partition style and
 * partitions as the partition table says (the same reading `lifeline disk show` does).
 */
import { basename } from 'node:path';
import { inspectDisk } from '../../app/inspect-disk.ts';
import type { BlockDeviceOpener } from '../../ports/block-device.ts';
import type { DiskInfo } from '../../tui/state/driver-tools.ts';

export interface DiskSource {
  /** What the opener takes: an image file, /dev/sdX, \\.\PhysicalDriveN. */
  readonly path: string;
  readonly number: number;
  /** "File", "Unknown", … where nothing better is known. */
  readonly bus: string;
}

export async function describeDisk(opener: BlockDeviceOpener, source: DiskSource): Promise<DiskInfo> {
  const device = await opener.open(source.path, { writable: false });
  try {
    const report = await inspectDisk(device);
    const g = report.geometry;
    return {
      number: source.number,
      model: basename(source.path.replace(/\\/g, '/')),
      sizeBytes: g.sizeBytes,
      logicalSectorSize: g.logicalSectorSize,
      physicalSectorSize: g.physicalSectorSize,
      bus: source.bus,
      style: report.style === 'none' ? 'raw' : report.style,
      partitions: report.partitions.map((p) => ({
        number: p.number,
        sizeBytes: p.sectorCount * BigInt(g.logicalSectorSize),
        type: p.typeName,
        letter: null,
        fileSystem: null,
      })),
    };
  } finally {
    await device.close();
  }
}

/**
 * The disks in order. `probe`: the sources are guesses (\\.\PhysicalDrive0…31), those that do not
 * open are left out; otherwise the operator named them, and one that fails is the error.
 */
export async function describeDisks(opener: BlockDeviceOpener, sources: readonly DiskSource[], probe = false): Promise<DiskInfo[]> {
  const disks: DiskInfo[] = [];
  for (const source of sources) {
    try {
      disks.push(await describeDisk(opener, source));
    } catch (e) {
      if (!probe) throw e;
    }
  }
  return disks;
}
