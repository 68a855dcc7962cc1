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
 *   both since the previous report, so a slow disk and a slow network can be told apart.
 */
import type { RunProgress } from '../../core/protocol/jobs.ts';
import type { Clock } from '../../ports/clock.ts';
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

export class BackupJobMeter {
  /** Shown as the progress's stage: the step running now. */
  stage = 'set';
  private latest: BackupProgress | undefined;
  private lastAt: number;
  private lastRead = 0n;
  private lastUploaded = 0n;
  private sending: Promise<void> = Promise.resolve();

  constructor(
    private readonly sources: readonly SourceStats[],
    private readonly clock: Clock,
    private readonly everyMs: number,
    private readonly send: (progress: RunProgress) => Promise<void>,
  ) {
    this.lastAt = clock.now();
  }

  /** The engine's latest progress. */
  update(progress: BackupProgress): void {
    this.latest = progress;
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

  private measure(now: number): RunProgress {
    const p = this.latest;
    const read = p?.bytesRead ?? 0n;
    const total = p?.bytesTotal ?? 0n;
    const uploaded = p?.bytesUploaded ?? 0n;
    const seconds = Math.max(now - this.lastAt, 1) / 1000;
    const diskRate = Number(read - this.lastRead) / seconds;
    const progress: RunProgress = {
      stage: this.stage,
      bytesDone: String(read),
      bytesTotal: String(total),
      disks: this.perDisk(total),
      networkBytesPerSecond: Math.max(0, Math.round(Number(uploaded - this.lastUploaded) / seconds)),
      diskBytesPerSecond: Math.max(0, Math.round(diskRate)),
      ...(diskRate > 0 && total >= read ? { etaSeconds: Math.ceil(Number(total - read) / diskRate) } : {}),
    };
    this.lastAt = now;
    this.lastRead = read;
    this.lastUploaded = uploaded;
    return progress;
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
