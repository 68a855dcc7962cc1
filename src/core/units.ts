/** Byte and sector arithmetic. LBAs and byte offsets are bigint: disks pass 2^53 bytes long before 2^64. */

export type SectorSize = 512 | 4096;

export const KiB = 1024n;
export const MiB = 1024n * KiB;
export const GiB = 1024n * MiB;

export function isSectorSize(n: number): n is SectorSize {
  return n === 512 || n === 4096;
}

/** "1.5 GiB"-style text for people; exact bytes stay in the data. */
export function formatBytes(bytes: bigint | number): string {
  const n = typeof bytes === 'bigint' ? Number(bytes) : bytes;
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = n;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${n} B` : `${value.toFixed(value < 10 ? 2 : 1)} ${units[unit]}`;
}

/** Structural AbortSignal so pure code can honour cancellation without DOM or Node types. */
export interface AbortSignalLike {
  readonly aborted: boolean;
  readonly reason?: unknown;
}
