/** The BlockDevice port's alignment and bounds rules, shared by every adapter so they agree exactly. */
import { RecoveryError } from './errors.ts';
import type { DiskGeometry } from './partition/types.ts';

/** Throws device.out-of-range or device.unaligned for a transfer the port must refuse. */
export function checkBlockTransfer(path: string, g: DiskGeometry, offset: bigint, length: number): void {
  const sector = BigInt(g.logicalSectorSize);
  if (!Number.isSafeInteger(length) || length < 0 || offset < 0n || offset + BigInt(length) > g.sizeBytes) {
    throw new RecoveryError('device.out-of-range', `${path}: ${length} bytes at offset ${offset} are outside the disk (${g.sizeBytes} bytes)`,
      { data: { path, offset, length, sizeBytes: g.sizeBytes } });
  }
  if (offset % sector !== 0n || BigInt(length) % sector !== 0n) {
    throw new RecoveryError('device.unaligned', `${path}: ${length} bytes at offset ${offset} are not aligned to ${sector}-byte sectors`,
      { data: { path, offset, length, sectorSize: g.logicalSectorSize } });
  }
}
