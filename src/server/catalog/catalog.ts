/**
 * The backup server's catalog: one typed, async repository over the SQL port. Every read takes
 * the tenant id and returns only that tenant's rows (unknown or foreign ids read as absent and
 * write as `catalog.not-found`). The one cross-tenant read is `dueJobs` without a tenant, for the
 * scheduler. Time comes from the injected clock; methods about "now" also take it explicitly.
 * The work is done by the functions of the neighbouring modules; this class wires them.
 */
import * as agents from './agents.ts';
import * as sets from './backup-sets.ts';
import * as chunks from './chunks.ts';
import * as jobs from './jobs.ts';
import * as journal from './journal.ts';
import { migrate } from './migrations.ts';
import * as runs from './runs.ts';
import type { SqlDatabase } from './sql-database.ts';
import * as tenants from './tenants.ts';
import type {
  AgentRegistration,
  BackupSetInput,
  ByteRange,
  ChunkInfo,
  JobInput,
  JsonObject,
  LocalPoolConfig,
  OperatorRole,
  PointCommit,
  ResourceInput,
  RunEventInput,
  TenancyMode,
} from './types.ts';

export interface CatalogOptions {
  readonly clock?: () => Date;
  /** An agent is offline when its last heartbeat is older than this. Default 90 s. */
  readonly agentOfflineAfterMs?: number;
  /** GC keeps chunks stored or reserved within this long. Default 1 h. */
  readonly gcGraceMs?: number;
  /** GC treats chunks reserved but never stored for this long as abandoned. Default 24 h. */
  readonly gcPendingTimeoutMs?: number;
}

export class Catalog {
  private readonly clock: () => Date;
  private readonly offlineAfterMs: number;
  private readonly gcGraceMs: number;
  private readonly gcPendingTimeoutMs: number;

  private constructor(
    readonly db: SqlDatabase,
    options: CatalogOptions,
  ) {
    this.clock = options.clock ?? (() => new Date());
    this.offlineAfterMs = options.agentOfflineAfterMs ?? 90_000;
    this.gcGraceMs = options.gcGraceMs ?? 3_600_000;
    this.gcPendingTimeoutMs = options.gcPendingTimeoutMs ?? 86_400_000;
  }

  /** Brings the schema up to date (idempotent), then serves. */
  static async open(db: SqlDatabase, options: CatalogOptions = {}): Promise<Catalog> {
    await migrate(db);
    return new Catalog(db, options);
  }

  close(): Promise<void> {
    return this.db.close();
  }

  private agentClock(now = this.clock()): agents.AgentClock {
    return { now, offlineAfterMs: this.offlineAfterMs };
  }

  // Tenants, keys, tokens -----------------------------------------------------------------------
  getTenancy = (): Promise<TenancyMode> => tenants.getTenancy(this.db);
  setTenancy = (mode: TenancyMode) => tenants.setTenancy(this.db, mode);
  createTenant = (name: string) => tenants.createTenant(this.db, name, this.clock());
  getTenant = (tenantId: string) => tenants.getTenant(this.db, tenantId);
  defaultTenant = () => tenants.defaultTenant(this.db);
  createAccessKey = (tenantId: string, label = '') => tenants.createAccessKey(this.db, tenantId, label, this.clock());
  listAccessKeys = (tenantId: string) => tenants.listAccessKeys(this.db, tenantId);
  revokeAccessKey = (tenantId: string, keyId: string) => tenants.revokeAccessKey(this.db, tenantId, keyId, this.clock());
  findTenantByAccessKey = (key: string | undefined) => tenants.findTenantByAccessKey(this.db, key);
  createOperatorToken = (tenantId: string, who: { name: string; role: OperatorRole }) => tenants.createOperatorToken(this.db, tenantId, who, this.clock());
  authenticateToken = (token: string) => tenants.authenticateToken(this.db, token, this.clock());
  revokeOperatorToken = (tenantId: string, tokenId: string) => tenants.revokeOperatorToken(this.db, tenantId, tokenId, this.clock());

  // Agents and their disks ----------------------------------------------------------------------
  registerAgent = (tenantId: string, reg: AgentRegistration) => agents.registerAgent(this.db, tenantId, reg, this.agentClock());
  heartbeat = (tenantId: string, agentId: string) => agents.heartbeat(this.db, tenantId, agentId, this.clock());
  getAgent = (tenantId: string, agentId: string, now?: Date) => agents.getAgent(this.db, tenantId, agentId, this.agentClock(now));
  /** Agents with `online` computed at `now` (default: the clock). */
  listAgents = (tenantId: string, now?: Date) => agents.listAgents(this.db, tenantId, this.agentClock(now));
  bindAgent = (tenantId: string, agentId: string, by: string) => agents.bindAgent(this.db, tenantId, agentId, by, this.agentClock());
  unbindAgent = (tenantId: string, agentId: string) => agents.unbindAgent(this.db, tenantId, agentId, this.agentClock());
  upsertResource = (tenantId: string, agentId: string, input: ResourceInput) => agents.upsertResource(this.db, tenantId, agentId, input, this.clock());
  listResources = (tenantId: string, agentId: string) => agents.listResources(this.db, tenantId, agentId);

  // Pools, sets, restore points -----------------------------------------------------------------
  createPool = (tenantId: string, input: { name: string; kind: 'local'; config: LocalPoolConfig }) => sets.createPool(this.db, tenantId, input, this.clock());
  listPools = (tenantId: string) => sets.listPools(this.db, tenantId);
  createBackupSet = (tenantId: string, input: BackupSetInput) => sets.createBackupSet(this.db, tenantId, input, this.clock());
  getBackupSet = (tenantId: string, setId: string) => sets.getBackupSet(this.db, tenantId, setId);
  listBackupSets = (tenantId: string) => sets.listBackupSets(this.db, tenantId);
  beginRestorePoint = (tenantId: string, setId: string) => sets.beginRestorePoint(this.db, tenantId, setId, this.clock());
  commitRestorePoint = (tenantId: string, pointId: string, commit: PointCommit) => sets.commitRestorePoint(this.db, tenantId, pointId, commit, this.clock());
  getRestorePoint = (tenantId: string, pointId: string) => sets.getRestorePoint(this.db, tenantId, pointId);
  listRestorePoints = (tenantId: string, setId: string, options: { includeUncommitted?: boolean } = {}) =>
    sets.listRestorePoints(this.db, tenantId, setId, options.includeUncommitted ?? false);
  deletePoint = (tenantId: string, pointId: string) => sets.deletePoint(this.db, tenantId, pointId);

  // Chunks and garbage collection (rules in chunks.ts) ------------------------------------------
  knownChunks = (tenantId: string, hashes: readonly string[]) => chunks.knownChunks(this.db, tenantId, hashes);
  reserveChunk = (tenantId: string, hash: string, size: number) => chunks.reserveChunk(this.db, tenantId, hash, size, this.clock());
  recordChunk = (tenantId: string, hash: string) => chunks.recordChunk(this.db, tenantId, hash, this.clock());
  reserveChunks = (tenantId: string, batch: readonly { readonly hash: string; readonly size: number }[]) => chunks.reserveChunks(this.db, tenantId, batch, this.clock());
  recordChunks = (tenantId: string, hashes: readonly string[]) => chunks.recordChunks(this.db, tenantId, hashes, this.clock());
  addChunkRefs = (tenantId: string, pointId: string, hashes: readonly string[]) => chunks.addChunkRefs(this.db, tenantId, pointId, hashes);

  /** Finishes interrupted point deletions, then marks and returns the chunks safe to delete. */
  async collectGarbageCandidates(tenantId: string, options: { limit?: number; now?: Date } = {}): Promise<ChunkInfo[]> {
    await sets.finishDeletions(this.db, tenantId);
    return chunks.collectGarbageCandidates(this.db, tenantId, {
      now: options.now ?? this.clock(),
      graceMs: this.gcGraceMs,
      pendingTimeoutMs: this.gcPendingTimeoutMs,
      limit: options.limit ?? 10_000,
    });
  }

  forgetChunks = (tenantId: string, hashes: readonly string[], removeFiles: (chunks: readonly ChunkInfo[]) => Promise<void>) =>
    chunks.forgetChunks(this.db, tenantId, hashes, removeFiles);

  // Jobs, runs, events, journal -----------------------------------------------------------------
  createJob = (tenantId: string, input: JobInput) => jobs.createJob(this.db, tenantId, input, this.clock());
  getJob = (tenantId: string, jobId: string) => jobs.getJob(this.db, tenantId, jobId);
  listJobs = (tenantId: string) => jobs.listJobs(this.db, tenantId);
  setJobEnabled = (tenantId: string, jobId: string, enabled: boolean) => jobs.setJobEnabled(this.db, tenantId, jobId, enabled, this.clock());
  deleteJob = (tenantId: string, jobId: string) => jobs.deleteJob(this.db, tenantId, jobId);
  /** Names a set a backup job writes, once the set exists (a job created before its encrypted set). */
  addJobSet = (tenantId: string, jobId: string, setId: string) => jobs.addJobSet(this.db, tenantId, jobId, setId);
  /** Jobs due at `now` with no run in progress; all tenants unless one is given (the scheduler). */
  dueJobs = (now: Date, tenantId?: string) => jobs.dueJobs(this.db, now, tenantId);
  agentMayReadSet = (tenantId: string, agentId: string, setId: string) => jobs.agentMayReadSet(this.db, tenantId, agentId, setId);
  startRun = (tenantId: string, jobId: string, trigger: 'schedule' | 'manual' = 'manual') => runs.startRun(this.db, tenantId, jobId, trigger, this.clock());
  claimRun = (tenantId: string, agentId: string) => runs.claimRun(this.db, tenantId, agentId, this.clock());
  getRun = (tenantId: string, runId: string) => runs.getRun(this.db, tenantId, runId);
  listRuns = (tenantId: string, jobId: string) => runs.listRuns(this.db, tenantId, jobId);
  updateRunProgress = (tenantId: string, runId: string, progress: JsonObject) => runs.updateRunProgress(this.db, tenantId, runId, progress);
  finishRun = (tenantId: string, runId: string, end: runs.RunEnd) => runs.finishRun(this.db, tenantId, runId, end, this.clock());
  appendRunEvent = (tenantId: string, runId: string, event: RunEventInput) => runs.appendRunEvent(this.db, tenantId, runId, event);
  listRunEvents = (tenantId: string, runId: string, afterId?: number) => runs.listRunEvents(this.db, tenantId, runId, afterId);
  appendRunLog = (tenantId: string, runId: string, text: string) => runs.appendRunLog(this.db, tenantId, runId, text, this.clock());
  readRunLog = (tenantId: string, runId: string, afterId?: number) => runs.readRunLog(this.db, tenantId, runId, afterId);
  getJournal = (tenantId: string, jobId: string) => journal.getJournal(this.db, tenantId, jobId);
  mergeJournal = (tenantId: string, jobId: string, disk: string, ranges: readonly ByteRange[], runId?: string) =>
    journal.mergeJournal(this.db, tenantId, jobId, disk, ranges, runId === undefined ? { now: this.clock() } : { runId, now: this.clock() });
  clearJournal = (tenantId: string, jobId: string) => journal.clearJournal(this.db, tenantId, jobId);
}
