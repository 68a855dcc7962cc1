/**
 * NTFS data runs ("mapping pairs"): where a non-resident attribute's clusters lie.
 *
 * Each run starts with a header byte: low nibble = size L of the length field, high nibble = size O
 * of the offset field, then L bytes of unsigned run length (clusters) and O bytes of signed LCN
 * delta from the previous run's LCN. O = 0 marks a sparse run (no clusters, reads as zeros).
 * A 0x00 header ends the list.
 */
import { RecoveryError } from '../errors.ts';
import { readExact, type ByteReader } from './reader.ts';

export interface DataRun {
  readonly vcn: bigint;
  /** null for a sparse run. */
  readonly lcn: bigint | null;
  readonly length: bigint;
}

function badRuns(message: string, data: Record<string, unknown> = {}): RecoveryError {
  return new RecoveryError('blockmap.ntfs-data-runs', `Bad NTFS data runs: ${message}`, { data });
}

function readLe(bytes: Uint8Array, at: number, size: number, signed: boolean): bigint {
  let value = 0n;
  for (let i = size - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[at + i]!);
  if (signed && size > 0 && (bytes[at + size - 1]! & 0x80) !== 0) value -= 1n << BigInt(8 * size);
  return value;
}

/**
 * Decodes `bytes` (the mapping pairs up to the attribute's end) starting at `lowestVcn`.
 * Checks that runs are well formed, end with 0x00, cover exactly lowestVcn..highestVcn and stay
 * inside the volume's `clusterCount` clusters.
 */
export function decodeDataRuns(bytes: Uint8Array, lowestVcn: bigint, highestVcn: bigint, clusterCount: bigint): DataRun[] {
  const runs: DataRun[] = [];
  let vcn = lowestVcn;
  let lcn = 0n;
  let at = 0;
  for (;;) {
    if (at >= bytes.length) throw badRuns('the list runs past the end of its attribute');
    const header = bytes[at]!;
    if (header === 0) break;
    const lengthSize = header & 0x0f;
    const offsetSize = header >> 4;
    if (lengthSize === 0 || lengthSize > 8 || offsetSize > 8) throw badRuns(`header byte 0x${header.toString(16)}`, { at });
    if (at + 1 + lengthSize + offsetSize > bytes.length) throw badRuns('a run is cut off by the end of its attribute', { at });
    const length = readLe(bytes, at + 1, lengthSize, true);
    if (length <= 0n) throw badRuns(`run length ${length}`, { at });
    if (offsetSize === 0) {
      runs.push({ vcn, lcn: null, length });
    } else {
      lcn += readLe(bytes, at + 1 + lengthSize, offsetSize, true);
      if (lcn < 0n || lcn + length > clusterCount) {
        throw badRuns('a run lies outside the volume', { lcn: lcn.toString(), length: length.toString(), clusterCount: clusterCount.toString() });
      }
      runs.push({ vcn, lcn, length });
    }
    vcn += length;
    at += 1 + lengthSize + offsetSize;
  }
  if (vcn !== highestVcn + 1n) {
    throw badRuns(`runs end at VCN ${vcn - 1n}, the attribute says ${highestVcn}`, { lowestVcn: lowestVcn.toString() });
  }
  return runs;
}

/** Index of the run holding `vcn`, or -1 (runs sorted by vcn, contiguous). */
function findRun(runs: readonly DataRun[], vcn: bigint): number {
  let lo = 0;
  let hi = runs.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const r = runs[mid]!;
    if (vcn < r.vcn) hi = mid - 1;
    else if (vcn >= r.vcn + r.length) lo = mid + 1;
    else return mid;
  }
  return -1;
}

/**
 * Reads bytes [offset, offset + length) of an attribute's data through its runs. Sparse runs read
 * as zeros; a byte no run maps is an error (the attribute claims more data than it has clusters).
 */
export async function readThroughRuns(
  read: ByteReader, runs: readonly DataRun[], clusterSize: number, offset: bigint, length: number,
): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  const cs = BigInt(clusterSize);
  let done = 0;
  let index = findRun(runs, offset / cs);
  while (done < length) {
    const run = runs[index];
    const pos = offset + BigInt(done);
    if (run === undefined || index < 0 || pos < run.vcn * cs) {
      throw badRuns(`byte ${pos} of the attribute is not mapped by any run`, { offset: pos.toString() });
    }
    const runEnd = (run.vcn + run.length) * cs;
    const take = Number(runEnd - pos < BigInt(length - done) ? runEnd - pos : BigInt(length - done));
    if (run.lcn !== null) {
      out.set(await readExact(read, run.lcn * cs + (pos - run.vcn * cs), take), done);
    }
    done += take;
    index++;
  }
  return out;
}
