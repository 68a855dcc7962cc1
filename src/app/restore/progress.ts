/**
 * Counters of a restore (per target disk and per region: bytes planned, written, found already
 * zero, skipped because an earlier attempt wrote them, received from the network) and the progress
 * reports built from them. Reports go to the server and the observer every `everyMs`, never once per
 * chunk; network and disk rates are shown apart so a technician can tell which side is slow.
 */
import type { RunProgress } from '../../core/protocol/jobs.ts';
import type { Clock } from '../../ports/clock.ts';
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

export class ProgressMeter {
  stage = 'prechecks';
  private lastAt: number;
  private lastNetwork = 0;
  private lastWritten = 0n;
  private sending: Promise<void> = Promise.resolve();

  constructor(
    private readonly disks: readonly DiskStats[],
    private readonly clock: Clock,
    private readonly everyMs: number,
    private readonly send: (progress: RunProgress) => Promise<void>,
  ) {
    this.lastAt = clock.now();
  }

  /** Sends a report when the last one is `everyMs` old (or when forced). Never throws. */
  tick(force = false): void {
    const now = this.clock.now();
    if (!force && now - this.lastAt < this.everyMs) return;
    const progress = this.measure(now);
    this.sending = this.sending.then(() => this.send(progress)).catch(() => undefined);
  }

  /** Resolves when every report handed out so far was sent (or failed). */
  settle(): Promise<void> {
    return this.sending;
  }

  /** The progress now, with rates since the previous report. */
  private measure(now: number): RunProgress {
    const regions = this.disks.flatMap((d) => d.regions);
    const network = regions.reduce((total, r) => total + r.networkBytes, 0);
    const written = sum(regions, (r) => r.writtenBytes);
    const done = sum(regions, doneBytes);
    const total = sum(regions, (r) => r.plannedBytes);
    const seconds = Math.max(now - this.lastAt, 1) / 1000;
    const diskRate = Number(written - this.lastWritten) / seconds;
    const progress: RunProgress = {
      stage: this.stage,
      bytesDone: String(done),
      bytesTotal: String(total),
      disks: this.disks.map((d) => ({ targetDisk: d.targetDisk, bytesDone: String(sum(d.regions, doneBytes)), bytesTotal: String(sum(d.regions, (r) => r.plannedBytes)) })),
      networkBytesPerSecond: Math.round((network - this.lastNetwork) / seconds),
      diskBytesPerSecond: Math.round(diskRate),
      ...(diskRate > 0 ? { etaSeconds: Math.ceil(Number(total - done) / diskRate) } : {}),
    };
    this.lastAt = now;
    this.lastNetwork = network;
    this.lastWritten = written;
    return progress;
  }
}
