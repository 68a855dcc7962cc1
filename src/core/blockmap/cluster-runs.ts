/**
 * Runs of allocated clusters, built chunk by chunk (an NTFS $Bitmap or a FAT read in pieces) so a
 * multi-terabyte volume's allocation data never sits in memory whole.
 */

export interface ClusterRun {
  readonly first: bigint;
  readonly count: bigint;
}

/** Accumulates allocated-cluster runs across chunks, merging runs that touch at chunk borders. */
export class ClusterRunCollector {
  readonly runs: ClusterRun[] = [];
  private openStart = -1n;
  private openEnd = -1n;

  add(first: bigint, count: bigint): void {
    if (this.openEnd === first) {
      this.openEnd = first + count;
      return;
    }
    this.flush();
    this.openStart = first;
    this.openEnd = first + count;
  }

  finish(): ClusterRun[] {
    this.flush();
    return this.runs;
  }

  private flush(): void {
    if (this.openStart >= 0n) this.runs.push({ first: this.openStart, count: this.openEnd - this.openStart });
    this.openStart = -1n;
  }
}

/**
 * NTFS $Bitmap: bit n set = cluster n allocated, least significant bit first.
 * Feeds the set bits among the first `bitCount` bits of `bits` to `collector`, bit 0 being
 * cluster `firstCluster`. Whole 0x00/0xFF bytes are skipped a byte at a time.
 */
export function collectSetBits(bits: Uint8Array, bitCount: number, firstCluster: bigint, collector: ClusterRunCollector): void {
  let runStart = -1;
  let bit = 0;
  while (bit < bitCount) {
    const byte = bits[bit >>> 3]!;
    if ((bit & 7) === 0 && bit + 8 <= bitCount && (byte === 0x00 || byte === 0xff)) {
      if (byte === 0xff && runStart < 0) runStart = bit;
      if (byte === 0x00 && runStart >= 0) {
        collector.add(firstCluster + BigInt(runStart), BigInt(bit - runStart));
        runStart = -1;
      }
      bit += 8;
      continue;
    }
    const set = ((byte >>> (bit & 7)) & 1) === 1;
    if (set && runStart < 0) runStart = bit;
    if (!set && runStart >= 0) {
      collector.add(firstCluster + BigInt(runStart), BigInt(bit - runStart));
      runStart = -1;
    }
    bit++;
  }
  if (runStart >= 0) collector.add(firstCluster + BigInt(runStart), BigInt(bitCount - runStart));
}
