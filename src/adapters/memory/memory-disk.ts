/**
 * A disk in memory for tests and --simulate, as strict as \\.\PhysicalDriveN: misaligned or
 * out-of-range transfers are refused with the same codes as the real adapters. Storage is sparse
 * (64 KiB chunks made on first write), so a simulated 2 TB target costs only what is written.
 * Writes stay volatile until flush(): `durableSnapshot()` is what a power cut would leave, which
 * lets tests prove that code flushes before it reports success.
 */
import { checkBlockTransfer } from '../../core/block-transfer.ts';
import { RecoveryError } from '../../core/errors.ts';
import type { DiskGeometry } from '../../core/partition/types.ts';
import type { SectorSize } from '../../core/units.ts';
import type { BlockDevice, BlockDeviceOpener, OpenOptions } from '../../ports/block-device.ts';

const CHUNK = 64 * 1024;

/** The bytes shared by every handle of one disk: a durable layer and the writes not yet flushed. */
class SparseStore {
  private readonly durable = new Map<number, Uint8Array>();
  private readonly volatile = new Map<number, Uint8Array>();

  read(offset: number, length: number, durableOnly = false): Uint8Array {
    const out = new Uint8Array(length);
    this.forEachPiece(offset, length, (index, within, at, n) => {
      const chunk = (durableOnly ? undefined : this.volatile.get(index)) ?? this.durable.get(index);
      if (chunk !== undefined) out.set(chunk.subarray(within, within + n), at);
    });
    return out;
  }

  write(offset: number, data: Uint8Array): void {
    this.forEachPiece(offset, data.length, (index, within, at, n) => {
      let chunk = this.volatile.get(index);
      if (chunk === undefined) {
        chunk = this.durable.get(index)?.slice() ?? new Uint8Array(CHUNK);
        this.volatile.set(index, chunk);
      }
      chunk.set(data.subarray(at, at + n), within);
    });
  }

  flush(): void {
    for (const [index, chunk] of this.volatile) this.durable.set(index, chunk);
    this.volatile.clear();
  }

  /** Calls `visit(chunkIndex, offsetInChunk, offsetInTransfer, bytes)` for each chunk the range touches. */
  private forEachPiece(offset: number, length: number, visit: (index: number, within: number, at: number, n: number) => void): void {
    let at = 0;
    while (at < length) {
      const position = offset + at;
      const within = position % CHUNK;
      const n = Math.min(CHUNK - within, length - at);
      visit(Math.floor(position / CHUNK), within, at, n);
      at += n;
    }
  }
}

export interface MemoryDiskOptions {
  /** For messages and for MemoryDiskOpener. Default "memory". */
  readonly path?: string;
  readonly logicalSectorSize?: SectorSize;
  /** Default: the logical sector size. */
  readonly physicalSectorSize?: number;
  /** A write-protected disk: every handle is read-only and a writable open is refused. */
  readonly readOnly?: boolean;
}


export class MemoryDisk implements BlockDevice {
  private closed = false;

  private constructor(
    readonly path: string,
    readonly geometry: DiskGeometry,
    readonly readOnly: boolean,
    private readonly store: SparseStore,
    private readonly writeProtected: boolean,
  ) {}

  /** An all-zero disk of `sizeBytes` (a whole number of sectors). */
  static create(sizeBytes: bigint, options: MemoryDiskOptions = {}): MemoryDisk {
    const logicalSectorSize = options.logicalSectorSize ?? 512;
    if (sizeBytes < 0n || sizeBytes % BigInt(logicalSectorSize) !== 0n || sizeBytes > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new RangeError(`a memory disk needs a whole number of ${logicalSectorSize}-byte sectors, not ${sizeBytes} bytes`);
    }
    const geometry: DiskGeometry = { sizeBytes, logicalSectorSize, physicalSectorSize: options.physicalSectorSize ?? logicalSectorSize };
    const writeProtected = options.readOnly ?? false;
    return new MemoryDisk(options.path ?? 'memory', geometry, writeProtected, new SparseStore(), writeProtected);
  }

  /** A disk holding a copy of `bytes`, already durable (as if read from a real disk). */
  static fromBytes(bytes: Uint8Array, options: MemoryDiskOptions = {}): MemoryDisk {
    const disk = MemoryDisk.create(BigInt(bytes.length), options);
    disk.store.write(0, bytes);
    disk.store.flush();
    return disk;
  }

  /** Another handle on the same bytes, as opening the same path again would give. */
  reopen(options: Pick<OpenOptions, 'writable'>): MemoryDisk {
    if (options.writable && this.writeProtected) {
      throw new RecoveryError('device.read-only', `${this.path} is read-only`, { data: { path: this.path } });
    }
    return new MemoryDisk(this.path, this.geometry, !options.writable, this.store, this.writeProtected);
  }

  /** A copy of the whole disk as reads see it now, flushed or not. */
  snapshot(): Uint8Array {
    return this.store.read(0, Number(this.geometry.sizeBytes));
  }

  /** A copy of the whole disk as it would be after a power cut now: flushed writes only. */
  durableSnapshot(): Uint8Array {
    return this.store.read(0, Number(this.geometry.sizeBytes), true);
  }

  async read(offset: bigint, length: number): Promise<Uint8Array> {
    this.checkOpen();
    checkBlockTransfer(this.path, this.geometry, offset, length);
    return this.store.read(Number(offset), length);
  }

  async write(offset: bigint, data: Uint8Array): Promise<void> {
    this.checkOpen();
    if (this.readOnly) {
      throw new RecoveryError('device.read-only', `${this.path} was opened read-only`, { data: { path: this.path, offset } });
    }
    checkBlockTransfer(this.path, this.geometry, offset, data.length);
    this.store.write(Number(offset), data);
  }

  async flush(): Promise<void> {
    this.checkOpen();
    this.store.flush();
  }

  /** Like closing a file: unflushed writes stay volatile. */
  async close(): Promise<void> {
    this.closed = true;
  }

  private checkOpen(): void {
    if (this.closed) throw new RecoveryError('device.closed', `${this.path} is closed`, { data: { path: this.path } });
  }
}

/** Opens memory disks by path, like a machine's disk list: for --simulate and the contract suite. */
export class MemoryDiskOpener implements BlockDeviceOpener {
  private readonly disks = new Map<string, MemoryDisk>();

  constructor(disks: Iterable<MemoryDisk> = []) {
    for (const disk of disks) this.add(disk);
  }

  add(disk: MemoryDisk): void {
    this.disks.set(disk.path, disk);
  }

  has(path: string): boolean {
    return this.disks.has(path);
  }

  async open(path: string, options: OpenOptions): Promise<BlockDevice> {
    const disk = this.disks.get(path);
    if (disk === undefined) {
      throw new RecoveryError('device.not-found', `no disk at ${path}`, { data: { path } });
    }
    return disk.reopen(options);
  }
}
