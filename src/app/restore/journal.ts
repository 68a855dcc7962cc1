/**
 * The resume journal of a restore run, kept on the server (WinPE's X: is a RAM disk): the target
 * byte ranges already written, per target disk, and marks such as "the table of this disk was
 * written and verified". A restarted run reads it and skips what is done.
 *
 * Rules:
 * 1. A range is journaled only after the device was flushed: the journal never claims bytes a
 *    power cut could still lose.
 * 2. Updates are batched (every `everyBytes` written or `everyMs`, whichever comes first) and sent
 *    through the reconnect-window retry; the server merges them, so a repeated update is harmless.
 *    A batch due during the restore is flushed and sent in the background, so the pipeline keeps
 *    writing meanwhile (the flush covers at least what the batch names); its failure is thrown by
 *    the next maybeFlush or flush.
 * 3. A resumed run does not trust the last `recheckBytes` before the end of each journaled range:
 *    the pipeline re-reads those units and restores them again unless they match the backup.
 */
import type { Extent } from '../../core/blockmap/extents.ts';
import { normalizeExtents } from '../../core/blockmap/extents.ts';
import type { ResumeJournal } from '../../core/protocol/jobs.ts';
import type { BackupServer } from '../../ports/backup-server.ts';
import type { Clock } from '../../ports/clock.ts';
import { withRetry } from './retry.ts';
import type { RetryPolicy } from './retry.ts';

export interface JournalPolicy {
  readonly everyBytes: number;
  readonly everyMs: number;
  readonly recheckBytes: number;
}

export const DEFAULT_JOURNAL_POLICY: JournalPolicy = { everyBytes: 64 * 1024 * 1024, everyMs: 2_000, recheckBytes: 4 * 1024 * 1024 };

/** How a unit of work relates to what an earlier attempt of the run finished. */
export type ResumeState = 'todo' | 'done' | 'recheck';

export function tableMark(targetDisk: string): string {
  return `table-verified:${targetDisk}`;
}

export class RestoreJournal {
  private pending = new Map<string, Extent[]>();
  private pendingMarks: string[] = [];
  private pendingBytes = 0;
  private lastFlushAt: number;
  private flushing: Promise<void> | undefined;
  private backgroundFailure: { error: unknown } | undefined;
  private readonly flushers = new Map<string, () => Promise<void>>();

  private constructor(
    private readonly server: Pick<BackupServer, 'mergeJournal'>,
    private readonly runId: string,
    private readonly clock: Clock,
    private readonly retry: RetryPolicy,
    private readonly policy: JournalPolicy,
    /** What earlier attempts of this run finished, as read at the start. */
    readonly earlier: ResumeJournal,
  ) {
    this.lastFlushAt = clock.now();
  }

  static async load(server: Pick<BackupServer, 'getJournal' | 'mergeJournal'>, runId: string, clock: Clock, retry: RetryPolicy, policy = DEFAULT_JOURNAL_POLICY): Promise<RestoreJournal> {
    const earlier = await withRetry('reading the resume journal', () => server.getJournal(runId), retry);
    return new RestoreJournal(server, runId, clock, retry, policy, earlier);
  }

  hasMark(mark: string): boolean {
    return this.earlier.marks.includes(mark);
  }

  /** Ranges earlier attempts finished on `targetDisk`, sorted and merged. */
  doneRanges(targetDisk: string): Extent[] {
    return normalizeExtents((this.earlier.disks[targetDisk] ?? []).map((r) => ({ start: BigInt(r.start), length: BigInt(r.length) })));
  }

  /** Flushes `targetDisk`'s device before its ranges are journaled (rule 1). */
  attach(targetDisk: string, flushDevice: () => Promise<void>): void {
    this.flushers.set(targetDisk, flushDevice);
  }

  record(targetDisk: string, offset: bigint, length: bigint): void {
    const list = this.pending.get(targetDisk) ?? [];
    list.push({ start: offset, length });
    this.pending.set(targetDisk, list);
    this.pendingBytes += Number(length);
  }

  /** Records a mark and sends it at once. */
  async mark(mark: string): Promise<void> {
    this.pendingMarks.push(mark);
    await this.flush();
  }

  /** Starts sending the batch when it is big or old enough and no flush is under way (rule 2). */
  async maybeFlush(): Promise<void> {
    this.throwBackgroundFailure();
    if (this.flushing !== undefined) return;
    if (this.pendingBytes >= this.policy.everyBytes || (this.pendingBytes > 0 && this.clock.now() - this.lastFlushAt >= this.policy.everyMs)) {
      this.flush(true).catch(() => undefined); // kept in backgroundFailure before anyone waiting resumes
    }
  }

  /** Flushes the devices, then sends everything recorded so far. One flush at a time. */
  async flush(background = false): Promise<void> {
    while (this.flushing !== undefined) await this.flushing.catch(() => undefined);
    this.throwBackgroundFailure();
    if (this.pending.size === 0 && this.pendingMarks.length === 0) return;
    const ranges = this.pending;
    const marks = this.pendingMarks;
    this.pending = new Map();
    this.pendingMarks = [];
    this.pendingBytes = 0;
    this.lastFlushAt = this.clock.now();
    this.flushing = this.send(ranges, marks);
    try {
      await this.flushing;
    } catch (error) {
      if (background) this.backgroundFailure ??= { error };
      throw error;
    } finally {
      this.flushing = undefined;
    }
  }

  private throwBackgroundFailure(): void {
    const failure = this.backgroundFailure;
    if (failure === undefined) return;
    this.backgroundFailure = undefined;
    throw failure.error;
  }

  private async send(ranges: Map<string, Extent[]>, marks: string[]): Promise<void> {
    for (const disk of ranges.keys()) await this.flushers.get(disk)?.();
    const disks: Record<string, { start: string; length: string }[]> = {};
    for (const [disk, list] of ranges) disks[disk] = normalizeExtents(list).map((e) => ({ start: String(e.start), length: String(e.length) }));
    // Not cancelled by the run's signal: saving what is done is exactly what an interruption needs.
    await withRetry('saving the resume journal', () => this.server.mergeJournal(this.runId, { disks, marks }), { ...this.retry, signal: undefined });
  }
}

/**
 * Whether a unit [offset, offset + length) can be skipped: `done` when a journaled range covers it
 * and it ends at least `recheckBytes` before that range's end, `recheck` when covered but inside
 * that tail (rule 3), `todo` otherwise. `done` ranges are sorted and merged.
 */
export function resumeStateOf(done: readonly Extent[], offset: bigint, length: bigint, recheckBytes: number): ResumeState {
  let lo = 0;
  let hi = done.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (done[mid]!.start + done[mid]!.length <= offset) lo = mid + 1;
    else hi = mid;
  }
  const range = done[lo];
  if (range === undefined || range.start > offset || range.start + range.length < offset + length) return 'todo';
  return offset + length <= range.start + range.length - BigInt(recheckBytes) ? 'done' : 'recheck';
}
