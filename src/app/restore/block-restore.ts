/**
 * The block pipeline of one target disk: write units (restore-plan.ts) are taken in offset order by
 * `channels` workers, a batch of consecutive data units at a time (up to BATCH_MAX_CHUNKS chunks and
 * BATCH_STORED_BYTES stored bytes, and a channel's share of the resume buffer); each worker fetches
 * its batch's chunks in one request (one request at a time per channel, so at most `channels`
 * requests in flight), has them verified by the codec (stored hash before decoding, id after),
 * assembles each unit and writes it with positional, sector-aligned writes of at most the write
 * block size.
 *
 * Guarantees:
 * 1. Memory: every unit holds its bytes from the resume-buffer budget until written, so the bytes
 *    in flight stay under `resumeBufferBytes` (plus one oversized unit) whatever the disk size.
 * 2. Zero extents are never transferred. The target is read and zeros are written only over pieces
 *    that are not zero already: a blank or trimmed target is not rewritten (nor are sparse image
 *    files filled), and a used one ends up exact.
 * 3. Rate limits: transfer (stored bytes fetched) and disk write (bytes written), by time window,
 *    shared by all channels.
 * 4. Resume: a unit the journal covers is skipped; one in the journal's last few MiB is re-read and
 *    skipped only when it matches the backup (zero units are re-checked by guarantee 2 anyway).
 * 5. On the first failure no new unit starts; units in flight finish, the device is flushed and the
 *    journal saved (best effort), then the failure is thrown.
 */
import type { Extent } from '../../core/blockmap/extents.ts';
import type { AbortSignalLike } from '../../core/units.ts';
import type { BlockDevice } from '../../ports/block-device.ts';
import type { ChunkCodec } from '../../ports/chunk-codec.ts';
import type { Clock } from '../../ports/clock.ts';
import type { ByteBudget } from './byte-budget.ts';
import { isAllZero, pieces } from './bytes.ts';
import type { ChunkFetcher, Plaintext } from './chunk-fetch.ts';
import { resumeStateOf } from './journal.ts';
import type { RestoreJournal } from './journal.ts';
import type { DiskStats, ProgressMeter, RegionStats } from './progress.ts';
import type { RateLimiter } from './rate-limiter.ts';
import type { DiskRestorePlan, WorkItem, WriteUnit } from './restore-plan.ts';
import { throwIfAborted } from './retry.ts';

export interface BlockRestoreInput {
  readonly targetDisk: string;
  readonly device: BlockDevice;
  readonly plan: DiskRestorePlan;
  readonly stats: DiskStats;
  readonly fetcher: ChunkFetcher;
  readonly codec: ChunkCodec;
  readonly journal: RestoreJournal;
  readonly budget: ByteBudget;
  readonly writeLimiter: RateLimiter;
  readonly meter: ProgressMeter;
  readonly clock: Clock;
  readonly writeBlockSize: number;
  readonly channels: number;
  readonly recheckBytes: number;
  readonly signal?: AbortSignalLike;
}

type DataItem = Extract<WorkItem, { kind: 'data' }>;

/** Stored bytes one batch fetches at most: well under what one chunk-read answer may carry (16 MiB). */
export const BATCH_STORED_BYTES = 4 * 1024 * 1024;
/** Chunks one batch fetches at most (CHUNK_READ_MAX_IDS allows more). */
export const BATCH_MAX_CHUNKS = 32;

function isWholeChunk(item: DataItem): boolean {
  return item.chunk.from === 0 && item.length === item.chunk.chunkLength;
}

/** Bytes a unit holds while in flight: its assembled bytes plus the largest chunk and blob it fetches. */
function memoryOf(unit: WriteUnit, writeBlockSize: number): number {
  if (unit.kind === 'zero') return writeBlockSize;
  const largest = (unit.items as DataItem[]).reduce((max, i) => Math.max(max, i.chunk.chunkLength + i.chunk.storedLength), 0);
  return Number(unit.length) + largest;
}

/**
 * Bytes a batch holds while in flight: every chunk it fetches (blob and plaintext) plus the
 * assembled bytes of units that are not one whole chunk (those write the plaintext itself).
 */
function memoryOfBatch(units: readonly WriteUnit[], writeBlockSize: number): number {
  if (units.length === 1) return memoryOf(units[0]!, writeBlockSize);
  let bytes = 0;
  for (const chunk of chunksOf(units).values()) bytes += chunk.chunkLength + chunk.storedLength;
  for (const unit of units) {
    const items = unit.items as DataItem[];
    if (!(items.length === 1 && isWholeChunk(items[0]!))) bytes += Number(unit.length);
  }
  return bytes;
}

/** The distinct chunks a batch's data units read, by id. */
function chunksOf(units: readonly WriteUnit[]): Map<string, DataItem['chunk']> {
  const chunks = new Map<string, DataItem['chunk']>();
  for (const unit of units) {
    if (unit.kind !== 'data') continue;
    for (const item of unit.items as DataItem[]) chunks.set(item.chunk.chunkId, item.chunk);
  }
  return chunks;
}

/** True when the target already holds exactly what the backup has for `unit` (whole chunks only). */
export async function dataUnitMatches(device: BlockDevice, codec: ChunkCodec, unit: WriteUnit): Promise<boolean> {
  for (const item of unit.items) {
    if (item.kind !== 'data' || !isWholeChunk(item)) return false;
    if (codec.chunkId(await device.read(item.offset, item.length)) !== item.chunk.chunkId) return false;
  }
  return true;
}

class DiskPipeline {
  private readonly zeros: Uint8Array;

  constructor(private readonly input: BlockRestoreInput) {
    this.zeros = new Uint8Array(input.writeBlockSize);
  }

  private region(unit: WriteUnit): RegionStats {
    return this.input.stats.regions[unit.region]!;
  }

  private async write(offset: bigint, bytes: Uint8Array, region: RegionStats): Promise<void> {
    const { device, writeLimiter, writeBlockSize } = this.input;
    for (const piece of pieces(0n, BigInt(bytes.length), writeBlockSize)) {
      const at = Number(piece.offset);
      await writeLimiter.take(piece.length);
      await device.write(offset + piece.offset, bytes.subarray(at, at + piece.length));
      region.writtenBytes += BigInt(piece.length);
    }
  }

  private async writeData(unit: WriteUnit, region: RegionStats, fetched: Map<string, Plaintext>, counted: Set<string>): Promise<void> {
    const items = unit.items as DataItem[];
    const single = items.length === 1 && isWholeChunk(items[0]!);
    let buffer: Uint8Array | undefined = single ? undefined : new Uint8Array(Number(unit.length));
    for (const item of items) {
      const { bytes, received } = fetched.get(item.chunk.chunkId)!;
      if (!counted.has(item.chunk.chunkId)) {
        counted.add(item.chunk.chunkId);
        region.networkBytes += received;
      }
      if (buffer === undefined) buffer = bytes;
      else buffer.set(bytes.subarray(item.chunk.from, item.chunk.from + item.length), Number(item.offset - unit.offset));
    }
    await this.write(unit.offset, buffer!, region);
  }

  private async writeZero(unit: WriteUnit, region: RegionStats): Promise<void> {
    const { device, writeBlockSize } = this.input;
    for (const piece of pieces(unit.offset, unit.length, writeBlockSize)) {
      throwIfAborted(this.input.signal);
      if (isAllZero(await device.read(piece.offset, piece.length))) region.alreadyZeroBytes += BigInt(piece.length);
      else await this.write(piece.offset, this.zeros.subarray(0, piece.length), region);
    }
  }

  /** Whether a resumed run may skip `unit` (ticked and counted as resumed when so). */
  private async skips(unit: WriteUnit, done: readonly Extent[]): Promise<boolean> {
    const { input } = this;
    const state = resumeStateOf(done, unit.offset, unit.length, input.recheckBytes);
    const skip = state === 'done' || (state === 'recheck' && unit.kind === 'data' && (await dataUnitMatches(input.device, input.codec, unit)));
    if (skip) {
      this.region(unit).resumedBytes += unit.length;
      input.meter.tick();
    }
    return skip;
  }

  async restoreBatch(batch: readonly WriteUnit[], done: readonly Extent[]): Promise<void> {
    const { input } = this;
    const todo: WriteUnit[] = [];
    for (const unit of batch) if (!(await this.skips(unit, done))) todo.push(unit);
    if (todo.length === 0) return;
    const granted = await input.budget.acquire(memoryOfBatch(todo, input.writeBlockSize));
    try {
      const chunks = [...chunksOf(todo).values()];
      const plaintexts = chunks.length === 0 ? [] : await input.fetcher.plaintexts(chunks);
      const fetched = new Map(chunks.map((c, i) => [c.chunkId, plaintexts[i]!]));
      const counted = new Set<string>();
      for (const unit of todo) {
        throwIfAborted(input.signal);
        const region = this.region(unit);
        region.firstAt ??= input.clock.now();
        if (unit.kind === 'data') await this.writeData(unit, region, fetched, counted);
        else await this.writeZero(unit, region);
        region.lastAt = input.clock.now();
        input.journal.record(input.targetDisk, unit.offset, unit.length);
        await input.journal.maybeFlush();
        input.meter.tick();
      }
    } finally {
      input.budget.release(granted);
    }
  }
}

/**
 * Takes the next batch from `units` starting at `from`: one zero unit alone, or consecutive data
 * units within the batch limits (always at least one).
 */
export function nextBatch(units: readonly WriteUnit[], from: number, limits: { readonly memoryBytes: number; readonly writeBlockSize: number }): WriteUnit[] {
  const first = units[from];
  if (first === undefined) return [];
  const batch = [first];
  if (first.kind === 'zero') return batch;
  for (let i = from + 1; i < units.length; i++) {
    const unit = units[i]!;
    if (unit.kind !== 'data') break;
    const candidate = [...batch, unit];
    const chunks = chunksOf(candidate);
    const stored = [...chunks.values()].reduce((sum, c) => sum + c.storedLength, 0);
    if (chunks.size > BATCH_MAX_CHUNKS || stored > BATCH_STORED_BYTES || memoryOfBatch(candidate, limits.writeBlockSize) > limits.memoryBytes) break;
    batch.push(unit);
  }
  return batch;
}

export async function restoreBlocks(input: BlockRestoreInput): Promise<void> {
  const pipeline = new DiskPipeline(input);
  input.journal.attach(input.targetDisk, () => input.device.flush());
  const done = input.journal.doneRanges(input.targetDisk);
  const units = input.plan.units;
  const channels = Math.max(1, input.channels);
  // A channel's share of the resume buffer, so batches never keep the other channels waiting.
  const limits = { memoryBytes: Math.floor(input.budget.capacity / channels), writeBlockSize: input.writeBlockSize };
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (failure === undefined) {
      const batch = nextBatch(units, next, limits);
      if (batch.length === 0) return;
      next += batch.length;
      try {
        throwIfAborted(input.signal);
        await pipeline.restoreBatch(batch, done);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: channels }, worker));
  if (failure !== undefined) {
    // Keep what is on the disk and say so in the journal, so a restart does not redo it.
    await input.device.flush().then(() => input.journal.flush()).catch(() => undefined);
    throw failure.error;
  }
  await input.device.flush();
  await input.journal.flush();
}
