/**
 * The BackupServer port over the server's HTTP API (docs/protocol.md), with undici. One keep-alive
 * pool per client, wide enough for the restore's parallel chunk fetches; self-signed servers are
 * trusted by pinning the certificate's SHA-256 fingerprint instead of a CA chain.
 *
 * Errors: the server's `{ error: { code, message, data } }` becomes a RecoveryError with that code
 * (retryable for 5xx and `server.busy`); a refused or timed-out connection is `network.unreachable`,
 * a connection lost mid-request `network.reset`, both retryable. Nothing is retried here (port rule).
 */
import { RecoveryError } from '../../core/errors.ts';
import { manifestToJson, validateManifest } from '../../core/backup/manifest.ts';
import type { BackupManifest } from '../../core/backup/manifest.ts';
import type { AgentIdentity, AssignedRun, ResumeJournal, RunEvent, RunOutcome, RunProgress } from '../../core/protocol/jobs.ts';
import {
  assignedRunSchema, backupSetInfoSchema, CHUNK_READ_MAX_BYTES, chunkStatSchema, chunkStatsAnswerSchema, heartbeatAnswerSchema, missingAnswerSchema,
  pointBeganSchema, registrationAnswerSchema, resumeJournalSchema, parseWith,
} from '../../core/protocol/schemas.ts';
import type { AgentActivity, BackupServer, BackupSetInfo, ChunkUpload, OpenSetRequest, Registration } from '../../ports/backup-server.ts';
import type { ChunkStat } from '../../ports/chunk-store.ts';
import { HttpTransport, type BodySink } from './http-transport.ts';

export interface ConnectOptions {
  /** http://host:50305 or https://host:60305 (a path prefix is kept). */
  readonly url: string;
  /** The tenant's access key; needed for `register` in multi-tenant mode. */
  readonly accessKey?: string;
  /** SHA-256 of the server's certificate (hex, colons optional): trust exactly that certificate. */
  readonly fingerprint?: string;
  /** Longest wait for a response's headers and between body bytes; default 60 s. */
  readonly timeoutMs?: number;
  /** Most connections kept open to the server (parallel chunk fetches); default 64. */
  readonly connections?: number;
}

/** The port plus the means to release the connection pool. */
export interface HttpBackupServer extends BackupServer {
  /** The agent id after `register`. */
  readonly agentId: string | undefined;
  close(): Promise<void>;
}

export function connectBackupServer(options: ConnectOptions): HttpBackupServer {
  return new HttpBackupServerClient(new HttpTransport(options), options.accessKey);
}

class HttpBackupServerClient implements HttpBackupServer {
  private credential: string | undefined;
  agentId: string | undefined;

  constructor(
    private readonly http: HttpTransport,
    private readonly accessKey: string | undefined,
  ) {}

  async register(identity: AgentIdentity): Promise<Registration> {
    const answer = parseWith(registrationAnswerSchema, await this.http.json('POST', '/v1/agents/register', { body: identity, auth: this.accessKey === undefined || this.accessKey === '' ? undefined : `AccessKey ${this.accessKey}` }));
    this.credential = `Agent ${answer.agentId}.${answer.secret}`;
    this.agentId = answer.agentId;
    return { agentId: answer.agentId, bound: answer.bound };
  }

  async heartbeat(activity: AgentActivity, runId?: string): Promise<{ readonly bound: boolean }> {
    const body = runId === undefined ? { state: activity } : { state: activity, runId };
    const answer = parseWith(heartbeatAnswerSchema, await this.json('POST', '/v1/agents/heartbeat', body, 'heartbeat'));
    return { bound: answer.bound };
  }

  async nextRun(): Promise<AssignedRun | undefined> {
    const answer = await this.json('GET', '/v1/agents/next-run', undefined, 'nextRun');
    if (answer === undefined) return undefined;
    return parseWith(assignedRunSchema, (answer as { run?: unknown }).run) as AssignedRun;
  }

  async reportProgress(runId: string, progress: RunProgress): Promise<void> {
    await this.json('POST', `/v1/runs/${seg(runId)}/progress`, progress, 'reportProgress');
  }

  async appendEvents(runId: string, events: readonly RunEvent[]): Promise<void> {
    await this.json('POST', `/v1/runs/${seg(runId)}/events`, { events }, 'appendEvents');
  }

  async getJournal(runId: string): Promise<ResumeJournal> {
    return parseWith(resumeJournalSchema, await this.json('GET', `/v1/runs/${seg(runId)}/journal`, undefined, 'getJournal'));
  }

  async mergeJournal(runId: string, update: ResumeJournal): Promise<void> {
    await this.json('POST', `/v1/runs/${seg(runId)}/journal`, update, 'mergeJournal');
  }

  async finishRun(runId: string, outcome: RunOutcome): Promise<void> {
    await this.json('POST', `/v1/runs/${seg(runId)}/finish`, outcome, 'finishRun');
  }

  async openSet(request: OpenSetRequest): Promise<BackupSetInfo> {
    return toSetInfo(await this.json('POST', '/v1/sets', request, 'openSet'));
  }

  async getSet(setId: string): Promise<BackupSetInfo> {
    return toSetInfo(await this.json('GET', `/v1/sets/${seg(setId)}`, undefined, 'getSet'));
  }

  async beginPoint(setId: string): Promise<{ readonly pointId: string; readonly sequence: number }> {
    return parseWith(pointBeganSchema, await this.json('POST', `/v1/sets/${seg(setId)}/points`, {}, 'beginPoint'));
  }

  async missingChunks(ids: readonly string[]): Promise<string[]> {
    return [...parseWith(missingAnswerSchema, await this.json('POST', '/v1/chunks/missing', { ids }, 'missingChunks')).missing];
  }

  async statChunks(ids: readonly string[]): Promise<ChunkStat[]> {
    return [...parseWith(chunkStatsAnswerSchema, await this.json('POST', '/v1/chunks/stat', { ids }, 'statChunks')).chunks];
  }

  async putChunk(id: string, blob: Uint8Array, storedHash: string): Promise<ChunkStat> {
    const answer = await this.http.request('PUT', `/v1/chunks/${seg(id)}`, {
      auth: this.agentAuth('putChunk'),
      binary: blob,
      headers: { 'x-lifeline-stored-sha256': storedHash },
    });
    return parseWith(chunkStatSchema, answer.json());
  }

  async putChunks(items: readonly ChunkUpload[]): Promise<ChunkStat[]> {
    const answer = await this.http.request('POST', '/v1/chunks/write', {
      auth: this.agentAuth('putChunks'),
      binary: Buffer.concat(items.map((i) => i.blob)),
      headers: {
        'x-lifeline-chunk-ids': items.map((i) => i.id).join(','),
        'x-lifeline-chunk-lengths': items.map((i) => i.blob.length).join(','),
        'x-lifeline-stored-sha256': items.map((i) => i.storedHash).join(','),
      },
    });
    const { chunks } = parseWith(chunkStatsAnswerSchema, answer.json());
    if (chunks.length !== items.length || chunks.some((c, i) => c.id !== items[i]!.id)) {
      throw new RecoveryError('protocol.bad-answer', `the server answered a batched upload of ${items.length} chunks with ${chunks.length} stats, or in another order`);
    }
    return [...chunks];
  }

  async commitPoint(pointId: string, manifest: BackupManifest): Promise<void> {
    await this.json('POST', `/v1/points/${seg(pointId)}/commit`, { manifest: manifestToJson(manifest) }, 'commitPoint');
  }

  async getManifest(pointId: string): Promise<BackupManifest> {
    const json = await this.json('GET', `/v1/points/${seg(pointId)}/manifest`, undefined, 'getManifest');
    try {
      return validateManifest(json);
    } catch (e) {
      throw new RecoveryError('protocol.bad-answer', `the server sent an invalid manifest for point ${pointId}`, { cause: e, data: { pointId } });
    }
  }

  async getChunk(id: string): Promise<Uint8Array> {
    const answer = await this.http.request('GET', `/v1/chunks/${seg(id)}`, { auth: this.agentAuth('getChunk') });
    return answer.bytes;
  }

  async getChunks(ids: readonly string[]): Promise<Uint8Array[]> {
    return this.http.requestInto('POST', '/v1/chunks/read', { body: { ids }, auth: this.agentAuth('getChunks') },
      (headers) => new ChunkReadSplitter(headers['x-lifeline-chunk-lengths'], ids.length));
  }

  async close(): Promise<void> {
    await this.http.close();
  }

  private async json(method: 'GET' | 'POST', path: string, body: unknown, call: string): Promise<unknown> {
    return this.http.json(method, path, { body, auth: this.agentAuth(call) });
  }

  private agentAuth(call: string): string {
    if (this.credential === undefined) throw new RecoveryError('auth.missing', `${call} before register: the agent has no credentials yet`);
    return this.credential;
  }
}

function toSetInfo(json: unknown): BackupSetInfo {
  const s = parseWith(backupSetInfoSchema, json);
  if (s.tenantChunkKey === undefined) throw new RecoveryError('protocol.bad-answer', `the server sent set ${s.setId} without its chunk key`);
  return {
    setId: s.setId, resource: s.resource, codec: s.codec, blockSize: s.blockSize, tenantChunkKey: s.tenantChunkKey,
    ...(s.wrappedKey ? { wrappedKey: s.wrappedKey } : {}),
  };
}

/**
 * Cuts a chunk-read answer into its blobs as the body arrives, each copied once into an array of
 * its own length (so each can be freed on its own). The lengths header is checked before the
 * first byte, the total at the end; nothing is returned from an answer that does not add up.
 */
export class ChunkReadSplitter implements BodySink<Uint8Array[]> {
  private readonly lengths: number[];
  private readonly blobs: Uint8Array[] = [];
  private current = 0;
  private filled = 0;

  constructor(private readonly lengthsHeader: string | undefined, private readonly expected: number) {
    if (lengthsHeader === undefined) throw this.bad('has no X-Lifeline-Chunk-Lengths header', 0);
    this.lengths = lengthsHeader.split(',').map((t) => (/^\d{1,10}$/.test(t.trim()) ? Number(t) : Number.NaN));
    if (this.lengths.length !== expected || this.lengths.some((n) => Number.isNaN(n))) throw this.bad(`lists ${this.lengths.length} lengths for ${expected} chunks`, 0);
    if (this.lengths.reduce((a, b) => a + b, 0) > CHUNK_READ_MAX_BYTES) throw this.bad(`announces more than ${CHUNK_READ_MAX_BYTES} bytes`, 0);
    this.open();
  }

  write(piece: Uint8Array): void {
    let at = 0;
    while (at < piece.length) {
      const blob = this.blobs[this.current];
      if (blob === undefined) throw this.bad('holds more bytes than its lengths add up to', this.received() + piece.length - at);
      const n = Math.min(blob.length - this.filled, piece.length - at);
      blob.set(piece.subarray(at, at + n), this.filled);
      this.filled += n;
      at += n;
      if (this.filled === blob.length) {
        this.current++;
        this.open();
      }
    }
  }

  end(): Uint8Array[] {
    if (this.current < this.lengths.length) throw this.bad('holds fewer bytes than its lengths add up to', this.received());
    return this.blobs;
  }

  /** Makes the next blob's array, skipping empty blobs. */
  private open(): void {
    this.filled = 0;
    while (this.current < this.lengths.length && this.blobs.length === this.current) {
      this.blobs.push(new Uint8Array(this.lengths[this.current]!));
      if (this.lengths[this.current] !== 0) return;
      this.current++;
    }
  }

  private received(): number {
    return this.lengths.slice(0, this.current).reduce((a, b) => a + b, 0) + this.filled;
  }

  private bad(why: string, bytes: number): RecoveryError {
    return new RecoveryError('protocol.bad-answer', `the server's chunk-read answer ${why}`, { data: { lengths: this.lengthsHeader ?? null, bytes, expected: this.expected } });
  }
}

function seg(value: string): string {
  return encodeURIComponent(value);
}
