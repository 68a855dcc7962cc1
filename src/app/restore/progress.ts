/**
 * Counters of a restore (per target disk and per region: bytes planned, written, found already
 * zero, skipped because an earlier attempt wrote them, received from the network) and the progress
 * reports built from them (app/jobs/run-meter.ts). Reports go to the server and the observer every
 * `everyMs`, never once per chunk; network and disk rates are shown apart so a technician can tell
 * which side is slow: the disk rate is the write rate, the network rate the rate of bytes received.
 */
import type { RunProgress } from '../../core/protocol/jobs.ts';
import type { Clock } from '../../ports/clock.ts';
import { RunMeter, type MeterReading } from '../jobs/run-meter.ts';
import type { Region } from './restore-plan.ts';

export interface RegionStats {
  readonly region: Region;
  readonly plannedBytes: bigint;
  writtenBytes: bigint;
  alreadyZeroBytes: bigint;
  resumedBytes: bigint;
  networkBytes: number;
  /** Clock times of the first and last write (ms). */
  firstAt?: number;
  lastAt?: number;
  /** Set by verification: true when every byte matched, false at the first mismatch. */
  verified?: boolean;
}

export interface DiskStats {
  readonly sourceDisk: number;
  readonly targetDisk: string;
  /** "full rebuild", "partial rebuild", "layout intact", "raw disk". */
  readonly mode: string;
  table: string;
  readonly regions: RegionStats[];
  startedAt?: number;
  endedAt?: number;
}

export function newRegionStats(region: Region, plannedBytes: bigint): RegionStats {
  return { region, plannedBytes, writtenBytes: 0n, alreadyZeroBytes: 0n, resumedBytes: 0n, networkBytes: 0 };
}

export function doneBytes(r: RegionStats): bigint {
  return r.writtenBytes + r.alreadyZeroBytes + r.resumedBytes;
}

function sum<T>(items: readonly T[], f: (t: T) => bigint): bigint {
  return items.reduce((total, t) => total + f(t), 0n);
}

export class ProgressMeter extends RunMeter {
  constructor(
    private readonly disks: readonly DiskStats[],
    clock: Clock,
    everyMs: number,
    send: (progress: RunProgress) => Promise<void>,
  ) {
    super('prechecks', clock, everyMs, send);
  }

  protected read(): MeterReading {
    const regions = this.disks.flatMap((d) => d.regions);
    return {
      bytesDone: sum(regions, doneBytes),
      bytesTotal: sum(regions, (r) => r.plannedBytes),
      disks: this.disks.map((d) => ({ targetDisk: d.targetDisk, bytesDone: String(sum(d.regions, doneBytes)), bytesTotal: String(sum(d.regions, (r) => r.plannedBytes)) })),
      diskBytes: sum(regions, (r) => r.writtenBytes),
      networkBytes: BigInt(regions.reduce((total, r) => total + r.networkBytes, 0)),
    };
  }
}
