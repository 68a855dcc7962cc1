/**
 * Verification after a restore (option "verify", on by default): every byte the restore is
 * responsible for is read back from the target and compared with the backup.
 * - a whole chunk: its id is recomputed from the bytes read (the codec's keyed hash), and must
 *   equal the manifest's id;
 * - a slice of a chunk (next to a table sector or a partition edge): the chunk is fetched and
 *   verified again, and the slice compared byte for byte;
 * - a zero extent: every byte read must be zero.
 * The first mismatch fails the run with `restore.verify-mismatch` and marks the region unverified;
 * regions are marked verified only when all their bytes matched. Bytes a used-blocks backup does
 * not hold (free space) are not part of the restore and not compared.
 */
import { RecoveryError } from '../../core/errors.ts';
import type { AbortSignalLike } from '../../core/units.ts';
import type { BlockDevice } from '../../ports/block-device.ts';
import type { ChunkCodec } from '../../ports/chunk-codec.ts';
import type { ByteBudget } from './byte-budget.ts';
import { bytesEqual, isAllZero, pieces } from './bytes.ts';
import type { ChunkFetcher } from './chunk-fetch.ts';
import type { DiskStats } from './progress.ts';
import type { DiskRestorePlan, WorkItem } from './restore-plan.ts';
import { throwIfAborted } from './retry.ts';

export interface VerifyInput {
  readonly device: BlockDevice;
  readonly plan: DiskRestorePlan;
  readonly stats: DiskStats;
  readonly codec: ChunkCodec;
  readonly fetcher: ChunkFetcher;
  /** The resume buffer: verification holds its reads (and re-fetched chunks) within it too. */
  readonly budget: ByteBudget;
  readonly readBlockSize: number;
  /** Parallel reads (and re-fetches of sliced chunks). */
  readonly channels: number;
  readonly signal?: AbortSignalLike;
}

async function itemMatches(item: WorkItem, input: VerifyInput): Promise<boolean> {
  const { device } = input;
  if (item.kind === 'zero') {
    for (const piece of pieces(item.offset, item.length, input.readBlockSize)) {
      if (!isAllZero(await device.read(piece.offset, piece.length))) return false;
    }
    return true;
  }
  const written = await device.read(item.offset, item.length);
  if (item.chunk.from === 0 && item.length === item.chunk.chunkLength) return input.codec.chunkId(written) === item.chunk.chunkId;
  const { bytes } = await input.fetcher.plaintext(item.chunk);
  return bytesEqual(written, bytes.subarray(item.chunk.from, item.chunk.from + item.length));
}

function memoryOf(item: WorkItem, readBlockSize: number): number {
  if (item.kind === 'zero') return readBlockSize;
  const sliced = item.chunk.from !== 0 || item.length !== item.chunk.chunkLength;
  return item.length + (sliced ? item.chunk.chunkLength + item.chunk.storedLength : 0);
}

export async function verifyRestore(input: VerifyInput): Promise<void> {
  const items = input.plan.units.flatMap((u) => u.items);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (failure === undefined) {
      const item = items[next++];
      if (item === undefined) return;
      try {
        throwIfAborted(input.signal);
        const granted = await input.budget.acquire(memoryOf(item, input.readBlockSize));
        let matches: boolean;
        try {
          matches = await itemMatches(item, input);
        } finally {
          input.budget.release(granted);
        }
        if (!matches) {
          const region = input.stats.regions[item.region]!;
          region.verified = false;
          const length = String(item.length);
          throw new RecoveryError('restore.verify-mismatch',
            `${input.device.path}: the ${length} bytes at offset ${item.offset} (${region.region.label}) read back differ from the backup`,
            { data: { targetDisk: input.device.path, offset: String(item.offset), length, region: region.region.label } });
        }
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, input.channels) }, worker));
  if (failure !== undefined) throw failure.error;
  for (const region of input.stats.regions) region.verified ??= true;
}
