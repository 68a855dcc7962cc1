/**
 * The wire shapes of docs/protocol.md as zod schemas: the server validates every request body with
 * them before acting, and the clients validate every answer. Each schema matches its TypeScript
 * type in jobs.ts, manifest.ts or the ports field for field; the `_SchemaMatchesType` checks at the
 * end fail to compile when the two drift apart. Manifests are checked by `validateManifest`.
 */
import { z } from 'zod';
import { RecoveryError } from '../errors.ts';
import { checkScryptParams, checkSealedKey, BLOCK_SIZES } from '../backup/manifest.ts';
import type { WrappedKey } from '../backup/manifest.ts';
import type { RateSchedule } from '../backup/rate-window.ts';
import { verifySchedule } from '../schedule.ts';
import type { Schedule } from '../schedule.ts';
import type {
  AgentIdentity, AssignedRun, BackupJobOptions, BackupJobSpec, DiskMapping, HardwareInventory, RestoreJobSpec, RestoreOptions,
  ResumeJournal, RunEvent, RunOutcome, RunProgress, StepReport,
} from './jobs.ts';

// ---------------------------------------------------------------- building blocks

const KIB = 1024;
const MIB = 1024 * KIB;

/** A non-negative integer that may exceed 2^53, as decimal text (byte offsets, sizes). */
export const decimalSchema = z.string().regex(/^(0|[1-9]\d{0,19})$/, 'a non-negative whole number as decimal text');
export const uuidSchema = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, 'an id (UUID)');
export const chunkIdSchema = z.string().regex(/^[0-9a-f]{64}$/, 'a chunk id: 64 lower-case hex digits');
const sha256Schema = z.string().regex(/^[0-9a-f]{64}$/, 'a SHA-256: 64 lower-case hex digits');
const isoTimeSchema = z.string().max(40).refine((s) => /^\d{4}-\d\d-\d\dT/.test(s) && !Number.isNaN(Date.parse(s)), 'an ISO 8601 time');
const text = (max: number) => z.string().max(max);
const name = (max: number) => z.string().min(1).max(max);
const int = (min: number, max: number) => z.number().int().min(min).max(max);
const jsonObjectSchema = z.record(z.string(), z.unknown());
const firmwareSchema = z.enum(['bios', 'uefi']);
const weekdaySchema = z.literal([0, 1, 2, 3, 4, 5, 6]);
const blockSizeSchema = z.number().refine((n) => BLOCK_SIZES.includes(n), `one of ${BLOCK_SIZES.join(', ')} bytes`);
const scriptSchema = text(8 * KIB);
const utcOffsetSchema = int(-840, 840);

export const rateScheduleSchema = z.object({
  windows: z.array(z.object({
    days: z.array(weekdaySchema).max(7),
    startMinute: int(0, 1439),
    endMinute: int(1, 1440),
    bytesPerSecond: z.number().positive().max(1e12),
  })).max(64),
  defaultBytesPerSecond: z.number().positive().max(1e12).optional(),
});

export const scheduleSchema = z.unknown().superRefine((value, ctx) => {
  for (const problem of verifySchedule(value)) ctx.addIssue({ code: 'custom', message: problem });
}).transform((value) => value as Schedule);

export const wrappedKeySchema = z.object({
  cipher: z.literal('aes-256-gcm'),
  nonce: z.string(),
  ciphertext: z.string(),
  tag: z.string(),
  kdf: z.literal('scrypt'),
  n: z.number(),
  r: z.number(),
  p: z.number(),
  salt: z.string(),
}).superRefine((k, ctx) => {
  const problem = checkSealedKey(k) ?? checkScryptParams(k);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
});

// ---------------------------------------------------------------- jobs (jobs.ts)

export const restoreOptionsSchema = z.object({
  driverAutoUpdate: z.boolean(),
  writeBlockSize: blockSizeSchema,
  channels: int(1, 64),
  reconnectWindowMinutes: int(1, 60),
  resumeBufferBytes: int(MIB, 1024 * MIB),
  transferLimit: rateScheduleSchema.optional(),
  writeLimit: rateScheduleSchema.optional(),
  verify: z.boolean(),
  precondition: scriptSchema.optional(),
  preScript: scriptSchema.optional(),
  postScript: scriptSchema.optional(),
  asrRestoreSession: z.boolean(),
  utcOffsetMinutes: utcOffsetSchema,
});

export const diskMappingSchema = z.object({
  sourceDisk: int(0, 1024),
  targetDisk: name(1024),
  partitions: z.array(int(1, 65535)).max(256),
  rebuild: z.enum(['full', 'partial']),
});

export const restoreJobSpecSchema = z.object({
  kind: z.literal('restore'),
  setId: uuidSchema,
  pointId: uuidSchema,
  disks: z.array(diskMappingSchema).min(1).max(64),
  passphrase: text(1024).optional(),
  options: restoreOptionsSchema,
});

export const backupJobOptionsSchema = z.object({
  compression: z.enum(['fast', 'none']),
  channels: int(1, 64),
  blockSize: blockSizeSchema,
  onlyUsedBlocks: z.boolean(),
  reconnectWindowMinutes: int(1, 60),
  resumeBufferBytes: int(MIB, 1024 * MIB),
  transferLimit: rateScheduleSchema.optional(),
  readLimit: rateScheduleSchema.optional(),
  precondition: scriptSchema.optional(),
  preScript: scriptSchema.optional(),
  postScript: scriptSchema.optional(),
  utcOffsetMinutes: utcOffsetSchema,
  backupKind: z.enum(['copy', 'full']).optional(),
});

export const backupJobSpecSchema = z.object({
  kind: z.literal('backup'),
  resource: name(255),
  sources: z.array(name(1024)).min(1).max(64),
  firmware: firmwareSchema.optional(),
  encrypted: z.boolean(),
  options: backupJobOptionsSchema,
});

export const jobSpecSchema = z.discriminatedUnion('kind', [restoreJobSpecSchema, backupJobSpecSchema]);

export const assignedRunSchema = z.object({
  runId: uuidSchema,
  jobId: uuidSchema,
  jobName: name(255),
  spec: jobSpecSchema,
});

const runStateSchema = z.enum(['queued', 'running', 'succeeded', 'failed', 'cancelled', 'idle']);
const finalRunStateSchema = z.enum(['succeeded', 'failed', 'cancelled', 'idle']);

export const runProgressSchema = z.object({
  stage: name(200),
  bytesDone: decimalSchema,
  bytesTotal: decimalSchema,
  disks: z.array(z.object({ targetDisk: name(1024), bytesDone: decimalSchema, bytesTotal: decimalSchema })).max(64),
  networkBytesPerSecond: z.number().min(0),
  diskBytesPerSecond: z.number().min(0),
  etaSeconds: z.number().min(0).optional(),
});

export const runEventSchema = z.object({
  time: isoTimeSchema,
  level: z.enum(['debug', 'info', 'warning', 'error']),
  message: name(16 * KIB),
  data: jsonObjectSchema.optional(),
});

export const runEventsSchema = z.object({ events: z.array(runEventSchema).max(1000) });

export const resumeJournalSchema = z.object({
  disks: z.record(name(1024), z.array(z.object({ start: decimalSchema, length: decimalSchema })).max(100_000)),
  marks: z.array(name(200)).max(1000),
});

const stepOutcomeSchema = z.discriminatedUnion('status', [
  z.object({ status: z.literal('done'), detail: text(4 * KIB).optional() }),
  z.object({ status: z.literal('skipped'), why: text(4 * KIB) }),
  z.object({ status: z.literal('failed'), code: name(100), message: text(16 * KIB) }),
]);

export const stepReportSchema = z.object({
  step: name(200),
  outcome: stepOutcomeSchema,
  startedAt: isoTimeSchema.optional(),
  endedAt: isoTimeSchema.optional(),
});

const errorInfoSchema = z.object({ code: name(100), message: text(16 * KIB), data: jsonObjectSchema.optional() });

export const runOutcomeSchema = z.object({
  state: finalRunStateSchema,
  steps: z.array(stepReportSchema).max(200),
  report: jsonObjectSchema.optional(),
  error: errorInfoSchema.optional(),
}).superRefine((o, ctx) => {
  // "Never done for what did not run": a failed run says why; a succeeded one has no error.
  if (o.state === 'failed' && o.error === undefined) ctx.addIssue({ code: 'custom', path: ['error'], message: 'a failed run needs its error' });
  if (o.state === 'succeeded' && o.error !== undefined) ctx.addIssue({ code: 'custom', path: ['error'], message: 'a succeeded run has no error' });
});

export const hardwareInventorySchema = z.object({
  firmware: z.enum(['bios', 'uefi', 'unknown']),
  smbiosUuid: text(64).optional(),
  manufacturer: text(200).optional(),
  model: text(200).optional(),
  memoryBytes: z.number().int().min(0).optional(),
  disks: z.array(z.object({
    path: name(1024),
    sizeBytes: decimalSchema,
    logicalSectorSize: int(512, 65536),
    physicalSectorSize: int(512, 65536),
    busType: text(64).optional(),
    model: text(200).optional(),
    serial: text(200).optional(),
    protected: z.boolean(),
  })).max(128),
  nics: z.array(z.object({
    name: text(256),
    mac: text(64),
    addresses: z.array(text(64)).max(64),
    up: z.boolean(),
  })).max(64),
  hardwareIds: z.array(text(512)).max(4096).optional(),
});

export const agentIdentitySchema = z.object({
  machineId: name(128),
  hostname: name(255),
  inventory: hardwareInventorySchema,
});

// ---------------------------------------------------------------- agent endpoints

export const registrationAnswerSchema = z.object({ agentId: uuidSchema, secret: name(200), bound: z.boolean() });
export const heartbeatRequestSchema = z.object({ state: z.enum(['idle', 'running']), runId: uuidSchema.optional() });
export const heartbeatAnswerSchema = z.object({ bound: z.boolean(), nextPollMs: z.number().int().min(0) });

export const openSetRequestSchema = z.object({
  resource: name(255),
  codec: z.enum(['lz4', 'none']),
  blockSize: blockSizeSchema,
  wrappedKey: wrappedKeySchema.optional(),
});

export const pointViewSchema = z.object({
  pointId: uuidSchema,
  sequence: z.number().int(),
  state: z.enum(['uploading', 'committed', 'deleting']),
  startedAt: z.string(),
  committedAt: z.string().nullable(),
  stats: jsonObjectSchema,
});

/** A set as the API shows it; `tenantChunkKey` only to agents, `points` only where listed. */
export const backupSetInfoSchema = z.object({
  setId: uuidSchema,
  resource: name(255),
  codec: z.enum(['lz4', 'none']),
  blockSize: z.number().int(),
  wrappedKey: wrappedKeySchema.optional(),
  tenantChunkKey: z.string().regex(/^[0-9a-f]{64}$/).optional(),
  name: z.string().optional(),
  agentId: z.string().optional(),
  encrypted: z.boolean().optional(),
  createdAt: z.string().optional(),
  points: z.array(pointViewSchema).optional(),
});

export const pointBeganSchema = z.object({ pointId: uuidSchema, sequence: z.number().int().min(1) });
export const missingRequestSchema = z.object({ ids: z.array(chunkIdSchema).max(4096) });
/** Chunks read in one request (`POST /v1/chunks/read`): at most this many ids. */
export const CHUNK_READ_MAX_IDS = 64;
/** Stored bytes one chunk-read answer may carry. */
export const CHUNK_READ_MAX_BYTES = 16 * 1024 * 1024;
export const chunkReadRequestSchema = z.object({ ids: z.array(chunkIdSchema).min(1).max(CHUNK_READ_MAX_IDS) });
export const missingAnswerSchema = z.object({ missing: z.array(chunkIdSchema) });
/**
 * A batched chunk upload (`POST /v1/chunks/write`): at most this many blobs and this many bytes
 * in one request (each blob is at most a chunk's own limit).
 */
export const CHUNK_WRITE_MAX_IDS = 64;
export const CHUNK_WRITE_MAX_BYTES = 16 * 1024 * 1024;
export const chunkStatSchema = z.object({ id: chunkIdSchema, storedLength: z.number().int().min(0), storedHash: sha256Schema });
export const chunkStatsAnswerSchema = z.object({ chunks: z.array(chunkStatSchema) });
export const commitRequestSchema = z.object({ manifest: z.unknown() });

// ---------------------------------------------------------------- operator endpoints

export const createJobRequestSchema = z.object({
  name: name(200),
  agentId: uuidSchema,
  schedule: scheduleSchema,
  spec: jobSpecSchema,
  enabled: z.boolean().optional(),
});

export const pruneRequestSchema = z.object({ keep: int(1, 100_000) });
export const createTenantRequestSchema = z.object({ name: name(200) });
export const createAccessKeyRequestSchema = z.object({ label: text(200).optional(), tenantId: uuidSchema.optional() });
export const createTokenRequestSchema = z.object({ name: name(200), role: z.enum(['admin', 'operator']), tenantId: uuidSchema.optional() });

export const targetViewSchema = z.object({
  agentId: uuidSchema,
  machineId: z.string(),
  hostname: z.string(),
  firmware: z.enum(['bios', 'uefi', 'unknown']),
  online: z.boolean(),
  bound: z.boolean(),
  boundBy: z.string().nullable(),
  boundAt: z.string().nullable(),
  registeredAt: z.string(),
  lastHeartbeat: z.string(),
  inventory: hardwareInventorySchema.optional(),
});

export const jobViewSchema = z.object({
  jobId: uuidSchema,
  name: z.string(),
  kind: z.enum(['backup', 'restore']),
  agentId: uuidSchema,
  schedule: z.unknown(),
  enabled: z.boolean(),
  nextRunAt: z.string().nullable(),
  createdAt: z.string(),
  spec: jobSpecSchema,
});

export const runViewSchema = z.object({
  runId: uuidSchema,
  jobId: uuidSchema,
  trigger: z.enum(['schedule', 'manual']),
  state: runStateSchema,
  queuedAt: z.string(),
  startedAt: z.string().nullable(),
  endedAt: z.string().nullable(),
  progress: runProgressSchema.nullable(),
  steps: z.array(stepReportSchema),
  report: jsonObjectSchema.nullable(),
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
});

export const logEntrySchema = z.object({
  id: z.number().int(),
  time: z.string(),
  level: z.enum(['debug', 'info', 'warning', 'error']),
  message: z.string(),
  data: jsonObjectSchema.optional(),
});

export const logPageSchema = z.object({ entries: z.array(logEntrySchema), next: z.number().int(), final: z.boolean() });

export const pruneResultSchema = z.object({
  deletedPoints: z.array(uuidSchema),
  keptPoints: z.array(uuidSchema),
  abandonedUploads: z.array(uuidSchema),
  removedChunks: z.number().int(),
  freedBytes: z.number().int(),
});

export const accessKeyViewSchema = z.object({ keyId: uuidSchema, tenantId: uuidSchema, label: z.string(), createdAt: z.string(), revokedAt: z.string().nullable() });
export const accessKeyCreatedSchema = accessKeyViewSchema.extend({ key: z.string() });
export const tokenCreatedSchema = z.object({ token: z.string(), tokenId: uuidSchema, tenantId: uuidSchema, name: z.string(), role: z.enum(['admin', 'operator']) });
export const tenantViewSchema = z.object({ tenantId: uuidSchema, name: z.string(), isDefault: z.boolean() });

export const healthSchema = z.object({
  status: z.literal('ok'),
  version: z.string(),
  protocol: z.literal(1),
  multiTenant: z.boolean(),
  tlsFingerprint: z.string().optional(),
});

export const errorBodySchema = z.object({
  error: z.object({ code: z.string(), message: z.string(), data: jsonObjectSchema.optional(), retryable: z.boolean().optional() }),
});

export type TargetView = z.output<typeof targetViewSchema>;
export type SetView = z.output<typeof backupSetInfoSchema>;
export type PointView = z.output<typeof pointViewSchema>;
export type JobView = z.output<typeof jobViewSchema>;
export type RunView = z.output<typeof runViewSchema>;
export type LogEntry = z.output<typeof logEntrySchema>;
export type LogPage = z.output<typeof logPageSchema>;
export type PruneResult = z.output<typeof pruneResultSchema>;
export type AccessKeyView = z.output<typeof accessKeyViewSchema>;
export type AccessKeyCreated = z.output<typeof accessKeyCreatedSchema>;
export type TokenCreated = z.output<typeof tokenCreatedSchema>;
export type TenantView = z.output<typeof tenantViewSchema>;
export type Health = z.output<typeof healthSchema>;
export type CreateJobRequest = z.output<typeof createJobRequestSchema>;

// ---------------------------------------------------------------- checking

/** "disks[0].targetDisk" from zod's path. */
export function issuePath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, key) => (typeof key === 'number' ? `${acc}[${key}]` : acc === '' ? String(key) : `${acc}.${String(key)}`), '');
}

/**
 * The value as the schema's type, or a RecoveryError naming the first wrong field in `data.path`:
 * `request.malformed` for what a client sent, `protocol.bad-answer` (the default) for what a server answered.
 */
export function parseWith<S extends z.ZodType>(schema: S, value: unknown, code = 'protocol.bad-answer'): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = issue ? issuePath(issue.path) : '';
  throw new RecoveryError(code, `${path === '' ? 'body' : path}: ${issue?.message ?? 'invalid'}`, { data: { path } });
}

// ---------------------------------------------------------------- schema ⇔ type

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Frozen<T> = T extends readonly (infer U)[] ? readonly Frozen<U>[] : T extends object ? { readonly [K in keyof T]: Frozen<T[K]> } : T;
type Matches<S extends z.ZodType, T> = Same<Frozen<z.output<S>>, Frozen<T>>;
type Assert<T extends true> = T;

export type _SchemaMatchesType = [
  Assert<Matches<typeof rateScheduleSchema, RateSchedule>>,
  Assert<Matches<typeof wrappedKeySchema, WrappedKey>>,
  Assert<Matches<typeof restoreOptionsSchema, RestoreOptions>>,
  Assert<Matches<typeof diskMappingSchema, DiskMapping>>,
  Assert<Matches<typeof restoreJobSpecSchema, RestoreJobSpec>>,
  Assert<Matches<typeof backupJobOptionsSchema, BackupJobOptions>>,
  Assert<Matches<typeof backupJobSpecSchema, BackupJobSpec>>,
  Assert<Matches<typeof assignedRunSchema, AssignedRun>>,
  Assert<Matches<typeof runProgressSchema, RunProgress>>,
  Assert<Matches<typeof runEventSchema, RunEvent>>,
  Assert<Matches<typeof resumeJournalSchema, ResumeJournal>>,
  Assert<Matches<typeof stepReportSchema, StepReport>>,
  Assert<Matches<typeof runOutcomeSchema, RunOutcome>>,
  Assert<Matches<typeof hardwareInventorySchema, HardwareInventory>>,
  Assert<Matches<typeof agentIdentitySchema, AgentIdentity>>,
];
