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
  assignedRunSchema, backupSetInfoSchema, chunkStatSchema, chunkStatsAnswerSchema, heartbeatAnswerSchema, missingAnswerSchema,
  pointBeganSchema, registrationAnswerSchema, resumeJournalSchema, parseWith,
} from '../../core/protocol/schemas.ts';
import type { AgentActivity, BackupServer, BackupSetInfo, OpenSetRequest, Registration } from '../../ports/backup-server.ts';
import type { ChunkStat } from '../../ports/chunk-store.ts';
import { HttpTransport } from './http-transport.ts';

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
    const answer = await this.http.request('POST', '/v1/chunks/read', { body: { ids }, auth: this.agentAuth('getChunks') });
    return splitChunkRead(answer.bytes, answer.headers['x-lifeline-chunk-lengths'], ids.length);
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

/** The blobs of a chunk-read answer, checked against the lengths header before any is trusted. */
export function splitChunkRead(bytes: Uint8Array, lengthsHeader: string | undefined, expected: number): Uint8Array[] {
  const bad = (why: string) => new RecoveryError('protocol.bad-answer', `the server's chunk-read answer ${why}`, { data: { lengths: lengthsHeader ?? null, bytes: bytes.length, expected } });
  if (lengthsHeader === undefined) throw bad('has no X-Lifeline-Chunk-Lengths header');
  const lengths = lengthsHeader.split(',').map((t) => (/^\d{1,10}$/.test(t.trim()) ? Number(t) : Number.NaN));
  if (lengths.length !== expected || lengths.some((n) => Number.isNaN(n))) throw bad(`lists ${lengths.length} lengths for ${expected} chunks`);
  if (lengths.reduce((a, b) => a + b, 0) !== bytes.length) throw bad('holds another number of bytes than its lengths add up to');
  const blobs: Uint8Array[] = [];
  let at = 0;
  for (const n of lengths) {
    blobs.push(bytes.subarray(at, at + n));
    at += n;
  }
  return blobs;
}

function seg(value: string): string {
  return encodeURIComponent(value);
}
