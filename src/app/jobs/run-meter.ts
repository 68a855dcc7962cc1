/**
 * Progress reports of one job run, for backup runs (app/backup/job-progress.ts) and restore runs
 * (app/restore/progress.ts) alike: what the job's counters say (`read()`, totals since the run
 * began) turned into the protocol's RunProgress, sent at most once every `everyMs` — never once
 * per block or chunk — in the order they were made.
 *
 * - `diskBytesPerSecond` (bytes read by a backup, written by a restore) and `networkBytesPerSecond`
 *   (stored bytes sent by a backup, received by a restore) are rates since the previous report,
 *   shown apart so a slow disk and a slow network can be told apart; never below 0.
 * - `etaSeconds` is what is left of `bytesTotal` at the disk rate, when the disk moved and the
 *   total is not behind what is done.
 */
import type { RunProgress } from '../../core/protocol/jobs.ts';
import type { Clock } from '../../ports/clock.ts';

/** What a job's counters say now, each a total since the run began. */
export interface MeterReading {
  readonly bytesDone: bigint;
  readonly bytesTotal: bigint;
  readonly disks: RunProgress['disks'];
  /** Bytes moved on the disks: the disk rate and the ETA come from it. */
  readonly diskBytes: bigint;
  /** Bytes moved over the network. */
  readonly networkBytes: bigint;
}

export abstract class RunMeter {
  /** Shown as the progress's stage: the step running now. */
  stage: string;
  private lastAt: number;
  private lastDisk = 0n;
  private lastNetwork = 0n;
  private sending: Promise<void> = Promise.resolve();

  protected constructor(
    stage: string,
    private readonly clock: Clock,
    private readonly everyMs: number,
    private readonly send: (progress: RunProgress) => Promise<void>,
  ) {
    this.stage = stage;
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

  /** The job's counters now. */
  protected abstract read(): MeterReading;

  /** The progress now, with rates since the previous report. */
  private measure(now: number): RunProgress {
    const r = this.read();
    const seconds = Math.max(now - this.lastAt, 1) / 1000;
    const diskRate = Number(r.diskBytes - this.lastDisk) / seconds;
    const progress: RunProgress = {
      stage: this.stage,
      bytesDone: String(r.bytesDone),
      bytesTotal: String(r.bytesTotal),
      disks: r.disks,
      networkBytesPerSecond: Math.max(0, Math.round(Number(r.networkBytes - this.lastNetwork) / seconds)),
      diskBytesPerSecond: Math.max(0, Math.round(diskRate)),
      ...(diskRate > 0 && r.bytesTotal >= r.bytesDone ? { etaSeconds: Math.ceil(Number(r.bytesTotal - r.bytesDone) / diskRate) } : {}),
    };
    this.lastAt = now;
    this.lastDisk = r.diskBytes;
    this.lastNetwork = r.networkBytes;
    return progress;
  }
}
