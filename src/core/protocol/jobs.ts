/**
 * What a job asks an agent to do, what the agent reports back, and the resume journal: the data
 * shared by the server, the appliance and the operator CLI (wire forms in docs/protocol.md).
 */
import type { RateSchedule } from '../backup/rate-window.ts';
import type { Firmware } from '../backup/manifest.ts';
import type { BackupKind } from '../vss/backup-schema.ts';

export type RebuildMode = 'full' | 'partial';

/** One source disk of the backup onto one of the agent's disks. */
export interface DiskMapping {
  /** ManifestDisk.number of the source disk. */
  readonly sourceDisk: number;
  /** The agent's disk as its inventory names it (\\.\PhysicalDrive1, /dev/loop3, disk.img). */
  readonly targetDisk: string;
  /** Source partition numbers to restore; empty = every partition. */
  readonly partitions: readonly number[];
  readonly rebuild: RebuildMode;
}

/** Restore options, seed 000 §5.6 tables 3 and 4. */
export interface RestoreOptions {
  /** Inject NIC and storage drivers the new hardware needs (virtio under KVM). */
  readonly driverAutoUpdate: boolean;
  /** Write block size, 64 KiB–2 MiB, default 256 KiB. */
  readonly writeBlockSize: number;
  /** Parallel HTTP connections for chunk fetches, 1–64. */
  readonly channels: number;
  /** How long network loss is retried before the job fails, 1–60 minutes. */
  readonly reconnectWindowMinutes: number;
  /** Bytes in flight between fetch and write (memory bound), default 10 MiB. */
  readonly resumeBufferBytes: number;
  readonly transferLimit?: RateSchedule;
  readonly writeLimit?: RateSchedule;
  /** Re-read what was written and compare with the backup's hashes (default on). */
  readonly verify: boolean;
  /** Command lines run on the agent; the precondition's failure sends the job back to idle. */
  readonly precondition?: string;
  readonly preScript?: string;
  readonly postScript?: string;
  /** Write ASR RestoreSession values into the restored system (seed 001). */
  readonly asrRestoreSession: boolean;
  /** Minutes east of UTC the rate windows are written in. */
  readonly utcOffsetMinutes: number;
}

export const DEFAULT_RESTORE_OPTIONS: RestoreOptions = {
  driverAutoUpdate: true,
  writeBlockSize: 256 * 1024,
  channels: 4,
  reconnectWindowMinutes: 10,
  resumeBufferBytes: 10 * 1024 * 1024,
  verify: true,
  asrRestoreSession: true,
  utcOffsetMinutes: 0,
};

export interface RestoreJobSpec {
  readonly kind: 'restore';
  readonly setId: string;
  readonly pointId: string;
  readonly disks: readonly DiskMapping[];
  /** Only when the operator typed it into the job; otherwise the appliance asks the technician. */
  readonly passphrase?: string;
  readonly options: RestoreOptions;
}

/** Backup options, seed 000 §4.6 tables 1 and 2. */
export interface BackupJobOptions {
  readonly compression: 'fast' | 'none';
  readonly channels: number;
  readonly blockSize: number;
  readonly onlyUsedBlocks: boolean;
  readonly reconnectWindowMinutes: number;
  readonly resumeBufferBytes: number;
  readonly transferLimit?: RateSchedule;
  readonly readLimit?: RateSchedule;
  readonly precondition?: string;
  readonly preScript?: string;
  readonly postScript?: string;
  readonly utcOffsetMinutes: number;
  /**
   * The VSS backup type where the agent takes a snapshot (Windows disks): copy (absent) leaves every
   * backup history as it is, full lets writers record the backup (docs/vss-agent.md).
   */
  readonly backupKind?: BackupKind;
}

export interface BackupJobSpec {
  readonly kind: 'backup';
  readonly resource: string;
  /** The agent's disks to image. */
  readonly sources: readonly string[];
  readonly firmware?: Firmware;
  readonly encrypted: boolean;
  readonly options: BackupJobOptions;
}

export type JobSpec = RestoreJobSpec | BackupJobSpec;

/** A run the server handed to an agent. */
export interface AssignedRun {
  readonly runId: string;
  readonly jobId: string;
  readonly jobName: string;
  readonly spec: JobSpec;
}

export type RunState = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'idle';

/** The outcome of one step of a job, as the report shows it: never "done" for what did not run. */
export type StepOutcome =
  | { readonly status: 'done'; readonly detail?: string }
  | { readonly status: 'skipped'; readonly why: string }
  | { readonly status: 'failed'; readonly code: string; readonly message: string };

export interface StepReport {
  readonly step: string;
  readonly outcome: StepOutcome;
  readonly startedAt?: string;
  readonly endedAt?: string;
}

export interface RunProgress {
  readonly stage: string;
  readonly bytesDone: string;
  readonly bytesTotal: string;
  /** Per target disk. */
  readonly disks: readonly { readonly targetDisk: string; readonly bytesDone: string; readonly bytesTotal: string }[];
  readonly networkBytesPerSecond: number;
  readonly diskBytesPerSecond: number;
  readonly etaSeconds?: number;
}

export interface RunEvent {
  /** ISO 8601 UTC. */
  readonly time: string;
  readonly level: 'debug' | 'info' | 'warning' | 'error';
  readonly message: string;
  readonly data?: Readonly<Record<string, unknown>>;
}

/** Byte ranges (decimal strings) finished per target disk; merged by the server. */
export interface ResumeJournal {
  readonly disks: Readonly<Record<string, readonly { readonly start: string; readonly length: string }[]>>;
  /** Free-form facts a resumed run needs (e.g. "table written"). */
  readonly marks: readonly string[];
}

export interface RunOutcome {
  readonly state: Exclude<RunState, 'queued' | 'running'>;
  readonly steps: readonly StepReport[];
  readonly report?: Readonly<Record<string, unknown>>;
  readonly error?: { readonly code: string; readonly message: string; readonly data?: Readonly<Record<string, unknown>> };
}

/** What an agent tells the server about its machine (DESIGN flow 2). */
export interface HardwareInventory {
  readonly firmware: Firmware | 'unknown';
  readonly smbiosUuid?: string;
  readonly manufacturer?: string;
  readonly model?: string;
  readonly memoryBytes?: number;
  readonly disks: readonly {
    readonly path: string;
    readonly sizeBytes: string;
    readonly logicalSectorSize: number;
    readonly physicalSectorSize: number;
    readonly busType?: string;
    readonly model?: string;
    readonly serial?: string;
    /** Holds the boot media or a local backup copy: never a restore target. */
    readonly protected: boolean;
  }[];
  readonly nics: readonly { readonly name: string; readonly mac: string; readonly addresses: readonly string[]; readonly up: boolean }[];
  /** PnP hardware IDs of devices (for driver matching). */
  readonly hardwareIds?: readonly string[];
}

export interface AgentIdentity {
  /** Stable per machine (SMBIOS UUID, else a generated id kept in the settings). */
  readonly machineId: string;
  readonly hostname: string;
  readonly inventory: HardwareInventory;
}
