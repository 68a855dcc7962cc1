/**
 * A strict in-memory BackupServer for tests and --simulate: the same rules as the real server
 * (register first, points visible only after commit, commits refused while chunks are missing,
 * chunks readable only through sets the agent's runs reference), plus hooks to inject faults.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { RecoveryError } from '../../core/errors.ts';
import { referencedChunks, validateManifest, manifestToJson } from '../../core/backup/manifest.ts';
import type { BackupManifest } from '../../core/backup/manifest.ts';
import type { AgentIdentity, AssignedRun, ResumeJournal, RunEvent, RunOutcome, RunProgress } from '../../core/protocol/jobs.ts';
import type { AgentActivity, BackupServer, BackupSetInfo, ChunkUpload, OpenSetRequest, Registration } from '../../ports/backup-server.ts';
import type { ChunkStat } from '../../ports/chunk-store.ts';
import { CHUNK_WRITE_MAX_BYTES, CHUNK_WRITE_MAX_IDS } from '../../core/protocol/schemas.ts';

interface PointRecord { readonly setId: string; readonly sequence: number; manifest?: BackupManifest }

export interface RunRecord {
  readonly run: AssignedRun;
  state: 'queued' | 'running' | 'finished';
  readonly progress: RunProgress[];
  readonly events: RunEvent[];
  journal: ResumeJournal;
  outcome?: RunOutcome;
}

type Method = keyof BackupServer;

export class MemoryBackupServer implements BackupServer {
  readonly tenantChunkKey: string;
  bound: boolean;
  identity?: AgentIdentity;
  readonly chunks = new Map<string, Uint8Array>();
  readonly sets = new Map<string, BackupSetInfo>();
  readonly points = new Map<string, PointRecord>();
  readonly runs = new Map<string, RunRecord>();
  /** How many times each chunk was fetched (restore tests check what was transferred). */
  readonly fetches = new Map<string, number>();
  /** getChunks calls (each may carry many chunks; `fetches` counts chunks either way). */
  chunkReads = 0;
  /** Bytes received by putChunk, to check dedup. */
  uploadedBytes = 0;
  private readonly queue: string[] = [];
  private readonly faults = new Map<Method, RecoveryError[]>();

  constructor(options: { tenantChunkKey?: string; bound?: boolean } = {}) {
    this.tenantChunkKey = options.tenantChunkKey ?? randomBytes(32).toString('hex');
    this.bound = options.bound ?? true;
  }

  // ---------------------------------------------------------------- test hooks

  /** Queues a run for the agent, as an operator's job would. */
  assign(run: AssignedRun): RunRecord {
    const record: RunRecord = { run, state: 'queued', progress: [], events: [], journal: { disks: {}, marks: [] } };
    this.runs.set(run.runId, record);
    this.queue.push(run.runId);
    return record;
  }

  /** The next call of `method` fails with `error` (repeat to fail several calls). */
  failNext(method: Method, error: RecoveryError): void {
    const list = this.faults.get(method) ?? [];
    list.push(error);
    this.faults.set(method, list);
  }

  /** Flips one byte of a stored chunk, as disk rot or tampering on the server would. */
  corruptChunk(id: string, at = 0): void {
    const blob = this.chunks.get(id);
    if (!blob) throw new Error(`no chunk ${id}`);
    const copy = new Uint8Array(blob);
    copy[at % copy.length] = (copy[at % copy.length] ?? 0) ^ 0xff;
    this.chunks.set(id, copy);
  }

  committedPoints(setId?: string): { pointId: string; sequence: number; manifest: BackupManifest }[] {
    return [...this.points.entries()]
      .filter(([, p]) => p.manifest && (setId === undefined || p.setId === setId))
      .map(([pointId, p]) => ({ pointId, sequence: p.sequence, manifest: p.manifest as BackupManifest }));
  }

  // ---------------------------------------------------------------- BackupServer

  async register(identity: AgentIdentity): Promise<Registration> {
    this.fault('register');
    this.identity = identity;
    return { agentId: `agent-${identity.machineId}`, bound: this.bound };
  }

  async heartbeat(_activity: AgentActivity): Promise<{ bound: boolean }> {
    this.registered('heartbeat');
    return { bound: this.bound };
  }

  async nextRun(): Promise<AssignedRun | undefined> {
    this.registered('nextRun');
    if (!this.bound) throw new RecoveryError('agent.not-bound', 'this machine is not bound yet: an administrator must bind it on the server');
    // Like the real server: an agent asks only while idle, so a run of its still running was
    // interrupted and comes back first, to be resumed.
    const interrupted = [...this.runs.values()].find((r) => r.state === 'running');
    if (interrupted) return interrupted.run;
    const runId = this.queue.shift();
    if (runId === undefined) return undefined;
    const record = this.runs.get(runId) as RunRecord;
    record.state = 'running';
    return record.run;
  }

  async reportProgress(runId: string, progress: RunProgress): Promise<void> {
    this.runOf(runId, 'reportProgress').progress.push(progress);
  }

  async appendEvents(runId: string, events: readonly RunEvent[]): Promise<void> {
    this.runOf(runId, 'appendEvents').events.push(...events);
  }

  async getJournal(runId: string): Promise<ResumeJournal> {
    return structuredClone(this.runOf(runId, 'getJournal').journal);
  }

  async mergeJournal(runId: string, update: ResumeJournal): Promise<void> {
    const record = this.runOf(runId, 'mergeJournal');
    const disks: Record<string, { start: string; length: string }[]> = {};
    for (const key of new Set([...Object.keys(record.journal.disks), ...Object.keys(update.disks)])) {
      disks[key] = mergeRanges([...(record.journal.disks[key] ?? []), ...(update.disks[key] ?? [])]);
    }
    record.journal = { disks, marks: [...new Set([...record.journal.marks, ...update.marks])] };
  }

  async finishRun(runId: string, outcome: RunOutcome): Promise<void> {
    const record = this.runOf(runId, 'finishRun');
    record.outcome = outcome;
    record.state = 'finished';
  }

  async openSet(request: OpenSetRequest): Promise<BackupSetInfo> {
    this.registered('openSet');
    const existing = [...this.sets.values()].find((s) => s.resource === request.resource);
    if (existing) return existing;
    const set: BackupSetInfo = {
      setId: randomUUID(), resource: request.resource, codec: request.codec, blockSize: request.blockSize,
      tenantChunkKey: this.tenantChunkKey, ...(request.wrappedKey ? { wrappedKey: request.wrappedKey } : {}),
    };
    this.sets.set(set.setId, set);
    return set;
  }

  async getSet(setId: string): Promise<BackupSetInfo> {
    this.registered('getSet');
    const set = this.sets.get(setId);
    if (!set) throw new RecoveryError('not-found', `no backup set ${setId}`);
    return set;
  }

  async beginPoint(setId: string): Promise<{ pointId: string; sequence: number }> {
    await this.getSet(setId);
    const sequence = Math.max(0, ...[...this.points.values()].filter((p) => p.setId === setId).map((p) => p.sequence)) + 1;
    const pointId = randomUUID();
    this.points.set(pointId, { setId, sequence });
    return { pointId, sequence };
  }

  async missingChunks(ids: readonly string[]): Promise<string[]> {
    this.registered('missingChunks');
    return ids.filter((id) => !this.chunks.has(id));
  }

  async statChunks(ids: readonly string[]): Promise<ChunkStat[]> {
    this.registered('statChunks');
    return ids.filter((id) => this.chunks.has(id)).map((id) => statOf(id, this.chunks.get(id) as Uint8Array));
  }

  async putChunk(id: string, blob: Uint8Array, storedHash: string): Promise<ChunkStat> {
    this.registered('putChunk');
    const actual = createHash('sha256').update(blob).digest('hex');
    if (actual !== storedHash) throw new RecoveryError('chunk.hash-mismatch', `uploaded chunk ${id} does not match its stored hash`);
    this.uploadedBytes += blob.length;
    if (!this.chunks.has(id)) this.chunks.set(id, new Uint8Array(blob));
    return statOf(id, this.chunks.get(id) as Uint8Array);
  }

  /** One putChunk per blob, so a test's putChunk override or queued failure applies to batches too. */
  async putChunks(items: readonly ChunkUpload[]): Promise<ChunkStat[]> {
    this.registered('putChunks');
    if (items.length === 0 || items.length > CHUNK_WRITE_MAX_IDS || items.reduce((n, i) => n + i.blob.length, 0) > CHUNK_WRITE_MAX_BYTES) {
      throw new RecoveryError('request.too-large', `a batched upload holds 1 to ${CHUNK_WRITE_MAX_IDS} blobs of at most ${CHUNK_WRITE_MAX_BYTES} bytes together`);
    }
    const stats: ChunkStat[] = [];
    for (const item of items) stats.push(await this.putChunk(item.id, item.blob, item.storedHash));
    return stats;
  }

  async commitPoint(pointId: string, manifest: BackupManifest): Promise<void> {
    this.registered('commitPoint');
    const point = this.points.get(pointId);
    if (!point) throw new RecoveryError('not-found', `no restore point ${pointId}`);
    if (point.manifest) throw new RecoveryError('conflict', `restore point ${pointId} is already committed`);
    const checked = validateManifest(JSON.parse(JSON.stringify(manifestToJson(manifest))));
    const missing = [...referencedChunks(checked).keys()].filter((id) => !this.chunks.has(id));
    if (missing.length > 0) {
      throw new RecoveryError('manifest.missing-chunks', `the manifest names ${missing.length} chunks the server does not hold`, { data: { missing: missing.slice(0, 20) } });
    }
    point.manifest = checked;
  }

  async getManifest(pointId: string): Promise<BackupManifest> {
    this.registered('getManifest');
    const point = this.points.get(pointId);
    if (!point?.manifest) throw new RecoveryError('not-found', `no committed restore point ${pointId}`);
    return point.manifest;
  }

  async getChunk(id: string): Promise<Uint8Array> {
    this.registered('getChunk');
    if (!this.readableChunks().has(id)) {
      throw new RecoveryError('auth.forbidden', `chunk ${id} is not part of a set this agent's jobs reference`);
    }
    const blob = this.chunks.get(id);
    if (!blob) throw new RecoveryError('not-found', `no chunk ${id}`);
    this.fetches.set(id, (this.fetches.get(id) ?? 0) + 1);
    return new Uint8Array(blob);
  }

  async getChunks(ids: readonly string[]): Promise<Uint8Array[]> {
    this.registered('getChunks');
    this.chunkReads++;
    const blobs: Uint8Array[] = [];
    for (const id of ids) blobs.push(await this.getChunk(id));
    return blobs;
  }

  // ---------------------------------------------------------------- rules

  private readableChunks(): Set<string> {
    const setIds = new Set<string>();
    for (const { run } of this.runs.values()) if (run.spec.kind === 'restore') setIds.add(run.spec.setId);
    const ids = new Set<string>();
    for (const p of this.points.values()) {
      if (p.manifest && setIds.has(p.setId)) for (const id of referencedChunks(p.manifest).keys()) ids.add(id);
    }
    return ids;
  }

  private registered(method: Method): void {
    this.fault(method);
    if (!this.identity) throw new RecoveryError('auth.missing', `${method} before register`);
  }

  private runOf(runId: string, method: Method): RunRecord {
    this.registered(method);
    const record = this.runs.get(runId);
    if (!record) throw new RecoveryError('not-found', `no run ${runId}`);
    return record;
  }

  private fault(method: Method): void {
    const error = this.faults.get(method)?.shift();
    if (error) throw error;
  }
}

function statOf(id: string, blob: Uint8Array): ChunkStat {
  return { id, storedLength: blob.length, storedHash: createHash('sha256').update(blob).digest('hex') };
}

function mergeRanges(ranges: readonly { start: string; length: string }[]): { start: string; length: string }[] {
  const sorted = ranges.map((r) => ({ start: BigInt(r.start), end: BigInt(r.start) + BigInt(r.length) })).sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  const merged: { start: bigint; end: bigint }[] = [];
  for (const r of sorted) {
    const last = merged[merged.length - 1];
    if (last && r.start <= last.end) last.end = r.end > last.end ? r.end : last.end;
    else merged.push({ ...r });
  }
  return merged.map((r) => ({ start: r.start.toString(), length: (r.end - r.start).toString() }));
}
