/**
 * Progress of a backup run for the server (`reportProgress`) and the observer: the engine's own
 * progress (observer.ts) turned into the protocol's RunProgress, at most once every `everyMs` and
 * never once per block.
 *
 * - `bytesDone`/`bytesTotal`: planned bytes read so far / in all (tables, gaps, used blocks), over
 *   every source disk; the total is known once every disk was surveyed.
 * - per disk (`disks[].targetDisk` is the source disk's name as the agent registered it): the bytes
 *   read from it by the copy. The engine reads the disks one after the other and plans them as a
 *   whole, so a disk's own total is exact once the copy moved past it; the disk being read carries
 *   what is left of the plan, and disks not reached yet count 0 of 0.
 * - `diskBytesPerSecond` is the read rate, `networkBytesPerSecond` the rate of stored bytes sent,
 *   both since the previous report (app/jobs/run-meter.ts), so a slow disk and a slow network can
 *   be told apart.
 */
import type { RunProgress } from '../../core/protocol/jobs.ts';
import type { Clock } from '../../ports/clock.ts';
import { RunMeter, type MeterReading } from '../jobs/run-meter.ts';
import type { BackupProgress } from './observer.ts';

/** One source disk's counters, kept by the run (its reads are counted during the copy only). */
export interface SourceStats {
  readonly number: number;
  readonly path: string;
  bytesRead: bigint;
  /** Clock times of the copy's first and last read of this disk (ms). */
  firstAt?: number;
  lastAt?: number;
}

/** The backup's meter (app/jobs/run-meter.ts): the disk rate is the read rate, the network rate the upload rate. */
export class BackupJobMeter extends RunMeter {
  private latest: BackupProgress | undefined;

  constructor(
    private readonly sources: readonly SourceStats[],
    clock: Clock,
    everyMs: number,
    send: (progress: RunProgress) => Promise<void>,
  ) {
    super('set', clock, everyMs, send);
  }

  /** The engine's latest progress. */
  update(progress: BackupProgress): void {
    this.latest = progress;
  }

  protected read(): MeterReading {
    const p = this.latest;
    const read = p?.bytesRead ?? 0n;
    const total = p?.bytesTotal ?? 0n;
    return { bytesDone: read, bytesTotal: total, disks: this.perDisk(total), diskBytes: read, networkBytes: p?.bytesUploaded ?? 0n };
  }

  private perDisk(total: bigint): RunProgress['disks'] {
    const reading = this.latest?.disk === undefined ? -1 : this.sources.findIndex((s) => s.number === this.latest?.disk);
    const copied = this.latest?.stage === 'committing' || this.latest?.stage === 'done';
    let before = 0n;
    return this.sources.map((s, i) => {
      let diskTotal: bigint;
      if (copied || (reading >= 0 && i < reading)) diskTotal = s.bytesRead;
      else if (i === reading) diskTotal = total - before > s.bytesRead ? total - before : s.bytesRead;
      else diskTotal = s.bytesRead;
      before += s.bytesRead;
      return { targetDisk: s.path, bytesDone: String(s.bytesRead), bytesTotal: String(diskTotal) };
    });
  }
}
