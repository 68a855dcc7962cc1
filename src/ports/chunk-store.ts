/**
 * Where stored chunk blobs live on the server: a local folder today, an S3-compatible object store
 * later. Keys are chunk ids (64 lower-case hex digits); values are opaque blobs the store does not
 * decrypt. Modelled on restic's backend contract.
 *
 * Implementations:
 * - MUST reject ids that are not 64 lower-case hex digits (store.invalid-id) before touching storage;
 * - MUST make `put` atomic: readers see either no blob or the whole blob, never a prefix, also after
 *   a crash of the writer (local: temp file + fsync + link/rename + directory fsync;
 *   S3: a single PutObject);
 * - MUST make `put` create-if-absent: when a blob for the id exists it is kept, not replaced, and
 *   `put` resolves with the stat of the blob that is stored (S3: `If-None-Match: *`, then HEAD on 412).
 *   Two writers of the same id may hold different blobs (other nonce, other compression), so callers
 *   MUST record the returned stat, not their own, in manifests;
 * - MUST give read-after-write: once `put` resolved, `has`, `stat`, `get` and `list` see the blob,
 *   and once `delete` resolved they do not;
 * - MUST make `put` durable by the time it resolves;
 * - MUST throw store.not-found from `get` for an absent id, and RecoveryErrors with code store.io
 *   (retryable when the backend says so) for backend failures;
 * - MUST NOT list or serve anything that is not a committed blob (temp files, partial uploads);
 * - SHOULD allow concurrent calls on any ids.
 */
export interface ChunkStat {
  readonly id: string;
  readonly storedLength: number;
  /** SHA-256 of the stored bytes, hex. */
  readonly storedHash: string;
}

export interface StoredBlobs {
  readonly bytes: Uint8Array;
  /** Each blob's length, in the order asked: blob i starts at the sum of the lengths before it. */
  readonly lengths: readonly number[];
}

export interface ChunkStore {
  /** The subset of `ids` that are stored. */
  has(ids: readonly string[]): Promise<Set<string>>;
  /** Stores `blob` under `id` unless a blob for `id` is already stored; resolves with what is stored. */
  put(id: string, blob: Uint8Array): Promise<ChunkStat>;
  get(id: string): Promise<Uint8Array>;
  /**
   * The blobs of `ids`, in that order, end to end in one buffer (a restore's batched read: one
   * allocation instead of one per blob plus a copy); 'too-large' when together they are more than
   * `maxBytes`, found before any blob is read. store.not-found names the first absent id.
   */
  getMany(ids: readonly string[], maxBytes: number): Promise<StoredBlobs | 'too-large'>;
  /** Undefined when absent. */
  stat(id: string): Promise<ChunkStat | undefined>;
  /** True when a blob was removed, false when there was none. */
  delete(id: string): Promise<boolean>;
  /** Every stored id, in no particular order. Blobs put or deleted while iterating may or may not appear. */
  list(): AsyncIterable<string>;
}
