/**
 * The server as an agent (the appliance, or a machine being backed up) sees it. One adapter speaks
 * HTTP (adapters/node, undici); a strict in-memory one (adapters/memory) serves tests and --simulate.
 *
 * Implementations:
 * - MUST turn the server's error answers into RecoveryErrors carrying the server's stable code and
 *   words (`auth.bad-access-key`, `agent.not-bound`, …), with `retryable` true only for transient
 *   failures (connection lost, 5xx, `server.busy`);
 * - MUST NOT retry on their own beyond one request: retry policy (reconnect window, backoff) belongs
 *   to the caller, which knows the job's options;
 * - `getChunk` MUST return the stored blob exactly as stored (the caller verifies its hash before
 *   decoding); `putChunk` MUST be idempotent and resolve with the stat of the blob the server keeps;
 * - `commitPoint` MUST make the point visible atomically, only when every referenced chunk is held;
 * - every call after `register` is made as that agent; calls before it fail with `auth.missing`.
 */
import type { BackupManifest, WrappedKey } from '../core/backup/manifest.ts';
import type { AgentIdentity, AssignedRun, ResumeJournal, RunEvent, RunOutcome, RunProgress } from '../core/protocol/jobs.ts';
import type { ChunkStat } from './chunk-store.ts';

export interface ChunkUpload {
  readonly id: string;
  readonly blob: Uint8Array;
  /** SHA-256 of `blob`, hex. */
  readonly storedHash: string;
}

export interface Registration {
  readonly agentId: string;
  readonly bound: boolean;
}

export type AgentActivity = 'idle' | 'running';

export interface OpenSetRequest {
  /** The resource (machine's disks) the set belongs to, e.g. the hostname. */
  readonly resource: string;
  readonly codec: 'lz4' | 'none';
  readonly blockSize: number;
  /** Present when the set is encrypted: the data key sealed by the passphrase. A set's key is fixed at creation. */
  readonly wrappedKey?: WrappedKey;
}

export interface BackupSetInfo {
  readonly setId: string;
  readonly resource: string;
  readonly codec: 'lz4' | 'none';
  readonly blockSize: number;
  readonly wrappedKey?: WrappedKey;
  /** The tenant's chunk-id key (hex), handed to authenticated agents only. */
  readonly tenantChunkKey: string;
}

export interface BackupServer {
  register(identity: AgentIdentity): Promise<Registration>;
  heartbeat(activity: AgentActivity, runId?: string): Promise<{ readonly bound: boolean }>;
  /** The next due run assigned to this agent, undefined when there is none. */
  nextRun(): Promise<AssignedRun | undefined>;

  reportProgress(runId: string, progress: RunProgress): Promise<void>;
  appendEvents(runId: string, events: readonly RunEvent[]): Promise<void>;
  getJournal(runId: string): Promise<ResumeJournal>;
  /** Adds finished ranges and marks; the server merges, so repeating an update is harmless. */
  mergeJournal(runId: string, update: ResumeJournal): Promise<void>;
  finishRun(runId: string, outcome: RunOutcome): Promise<void>;

  openSet(request: OpenSetRequest): Promise<BackupSetInfo>;
  getSet(setId: string): Promise<BackupSetInfo>;
  beginPoint(setId: string): Promise<{ readonly pointId: string; readonly sequence: number }>;
  missingChunks(ids: readonly string[]): Promise<string[]>;
  /**
   * The stat of each id the server holds (absent ids are left out), at most 4096 ids per call. A
   * manifest records the stored blob's hash and length, and for a chunk an earlier backup uploaded
   * only the server knows them (encrypted blobs differ on every upload), so dedup needs this.
   */
  statChunks(ids: readonly string[]): Promise<ChunkStat[]>;
  putChunk(id: string, blob: Uint8Array, storedHash: string): Promise<ChunkStat>;
  /**
   * `putChunk` of several blobs in one call (at most CHUNK_WRITE_MAX_IDS blobs and
   * CHUNK_WRITE_MAX_BYTES together): the stats in the order given. All or nothing as an answer:
   * on a failure some blobs may be stored already, and calling again with the same blobs is safe.
   */
  putChunks(items: readonly ChunkUpload[]): Promise<ChunkStat[]>;
  commitPoint(pointId: string, manifest: BackupManifest): Promise<void>;
  getManifest(pointId: string): Promise<BackupManifest>;
  getChunk(id: string): Promise<Uint8Array>;
  /**
   * Several stored blobs in one call, in the order asked (at most CHUNK_READ_MAX_IDS ids, at most
   * 16 MiB of stored bytes), each exactly as `getChunk` would return it. All or nothing: one id
   * that may not be read or is missing fails the call with that id's error.
   */
  getChunks(ids: readonly string[]): Promise<Uint8Array[]>;
}
