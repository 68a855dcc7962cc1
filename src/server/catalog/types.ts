/** The catalog's records, as the repository returns them. Ids are UUID strings. */
import type { Schedule } from '../../core/schedule.ts';

export type Json = null | boolean | number | string | readonly Json[] | { readonly [key: string]: Json };
export type JsonObject = { readonly [key: string]: Json };

/** 'single': agents may omit the access key (they join the default tenant). 'multi': key required. */
export type TenancyMode = 'single' | 'multi';

export interface Tenant {
  readonly id: string;
  readonly name: string;
  readonly isDefault: boolean;
  readonly createdAt: Date;
}

export interface AccessKeyInfo {
  readonly id: string;
  readonly tenantId: string;
  readonly label: string;
  readonly createdAt: Date;
  readonly revokedAt: Date | null;
}

/** admin: bind/authorize targets, manage pools and keys. operator: create and run jobs. */
export type OperatorRole = 'admin' | 'operator';

export interface OperatorIdentity {
  readonly tokenId: string;
  readonly tenantId: string;
  readonly name: string;
  readonly role: OperatorRole;
}

export type Firmware = 'bios' | 'uefi';

export interface AgentRegistration {
  /** Stable machine identity (SMBIOS UUID); one agent per machine id and tenant. */
  readonly machineId: string;
  readonly hostname: string;
  readonly firmware: Firmware;
  /** Disks, NICs with MACs, SMBIOS… as the agent reports them. */
  readonly hardware: JsonObject;
}

export interface Agent extends AgentRegistration {
  readonly id: string;
  readonly tenantId: string;
  readonly registeredAt: Date;
  readonly lastHeartbeat: Date;
  /** Derived: last heartbeat no older than the catalog's offline threshold at the `now` asked for. */
  readonly online: boolean;
  readonly bound: boolean;
  readonly boundBy: string | null;
  readonly boundAt: Date | null;
}

export interface ResourceInput {
  readonly name: string;
  /** MBR signature, GPT disk GUID or serial: what identifies the disk across boots. */
  readonly diskIdentity: string;
  readonly sizeBytes: bigint;
  readonly sectorSize: 512 | 4096;
}

export interface Resource extends ResourceInput {
  readonly id: string;
  readonly tenantId: string;
  readonly agentId: string;
  readonly updatedAt: Date;
}

export interface LocalPoolConfig {
  /** Folder of the chunk store on the server. */
  readonly path: string;
}

export interface StoragePool {
  readonly id: string;
  readonly tenantId: string;
  readonly name: string;
  readonly kind: 'local';
  readonly config: LocalPoolConfig;
  readonly createdAt: Date;
}

/** Client-side encryption parameters; the catalog stores them, it never sees the key. */
export interface EncryptionParams {
  /** Base64. */
  readonly salt: string;
  /** The data key, wrapped by the key derived from the passphrase; base64. */
  readonly wrappedKey: string;
  /** KDF name and its parameters, e.g. { algorithm: 'scrypt', N: 32768, r: 8, p: 1 }. */
  readonly kdf: { readonly algorithm: string } & JsonObject;
}

/** Read/write block sizes of seed §4.6 / §5.6: 64 KiB … 2 MiB. */
export const BLOCK_SIZES = [65536, 131072, 262144, 524288, 1048576, 2097152] as const;
export type BlockSize = (typeof BLOCK_SIZES)[number];

export interface BackupSetInput {
  readonly name: string;
  readonly resourceId: string;
  readonly poolId: string;
  readonly encryption: EncryptionParams | null;
  /** Compression codec name, e.g. 'none' or 'lz4'. */
  readonly codec: string;
  readonly blockSize: BlockSize;
}

export interface BackupSet extends BackupSetInput {
  readonly id: string;
  readonly tenantId: string;
  readonly createdAt: Date;
}

export type RestorePointState = 'uploading' | 'committed' | 'deleting';

export interface RestorePoint {
  readonly id: string;
  readonly tenantId: string;
  readonly setId: string;
  /** 1, 2, 3… within the set, in the order uploads began. */
  readonly sequence: number;
  readonly state: RestorePointState;
  readonly startedAt: Date;
  readonly committedAt: Date | null;
  /** The manifest inline, or null when it is stored as a chunk (`manifestHash`). */
  readonly manifest: Json | null;
  readonly manifestHash: string | null;
  readonly stats: JsonObject;
}

/** What commits a point: the manifest inline or as a chunk (hex hash), never both. */
export type PointCommit =
  | { readonly manifest: JsonObject; readonly stats?: JsonObject }
  | { readonly manifestHash: string; readonly stats?: JsonObject };

export interface ChunkInfo {
  /** Lower-case hex. */
  readonly hash: string;
  readonly size: number;
}

export type JobKind = 'backup' | 'restore';

export interface BackupSpec {
  /** The sets this job writes, one per disk (resource) of the agent; empty until the machine's first run creates its (encrypted) set. */
  readonly setIds: readonly string[];
}

export interface RestoreSpec {
  readonly setId: string;
  readonly pointId: string;
  /** Source disk identity → target disk identity on the agent. */
  readonly diskMapping: readonly { readonly source: string; readonly target: string }[];
  /** Partition numbers to restore, or 'all'. */
  readonly partitions: 'all' | readonly number[];
  /** full: the source's whole table with its identity; partial: only the chosen partitions. */
  readonly rebuild: 'full' | 'partial';
}

export type JobInput =
  | { readonly kind: 'backup'; readonly spec: BackupSpec } & JobCommon
  | { readonly kind: 'restore'; readonly spec: RestoreSpec } & JobCommon;

interface JobCommon {
  readonly name: string;
  readonly agentId: string;
  readonly schedule: Schedule;
  /** Seed §4.6 / §5.6 options (compression, channels, rate limits, reconnect window, scripts…). */
  readonly options: JsonObject;
  readonly enabled?: boolean;
}

export type Job = JobInput & {
  readonly id: string;
  readonly tenantId: string;
  readonly enabled: boolean;
  /** When the scheduler starts it next; null when it never runs by itself. */
  readonly nextRunAt: Date | null;
  readonly createdAt: Date;
};

export type RunState = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'idle';
/** How a run may end. 'idle': a pre-condition did not hold, nothing was done (seed §4.6). */
export type FinalRunState = Extract<RunState, 'succeeded' | 'failed' | 'cancelled' | 'idle'>;

export interface JobRun {
  readonly id: string;
  readonly tenantId: string;
  readonly jobId: string;
  readonly trigger: 'schedule' | 'manual';
  readonly state: RunState;
  readonly queuedAt: Date;
  readonly startedAt: Date | null;
  readonly endedAt: Date | null;
  readonly progress: JsonObject;
  readonly report: JsonObject | null;
  readonly errorCode: string | null;
  readonly errorMessage: string | null;
}

export type EventLevel = 'debug' | 'info' | 'warning' | 'error';

export interface RunEventInput {
  readonly at: Date;
  readonly level: EventLevel;
  readonly message: string;
  readonly data?: JsonObject;
}

export interface RunEvent extends Required<RunEventInput> {
  /** Increasing; pass the last one seen as `afterId` to page. */
  readonly id: number;
  readonly runId: string;
}

export interface RunLogLine {
  readonly id: number;
  readonly at: Date;
  readonly text: string;
}

/** Half-open byte range [start, end) of a disk. */
export interface ByteRange {
  readonly start: bigint;
  readonly end: bigint;
}
