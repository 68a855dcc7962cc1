/**
 * What a running backup tells whoever watches it (the CLI's progress line, an agent forwarding to
 * the server). Callbacks are synchronous and must not throw; a backup never waits for its observer.
 */
export type BackupStage = 'opening-set' | 'surveying' | 'transferring' | 'committing' | 'done';

export interface BackupProgress {
  readonly stage: BackupStage;
  /** Source disk being read (its manifest number), while transferring. */
  readonly disk?: number;
  /** Planned bytes read so far / in all, over every disk. */
  readonly bytesRead: bigint;
  readonly bytesTotal: bigint;
  /** Stored bytes sent to the server. */
  readonly bytesUploaded: bigint;
  /** All-zero bytes (recorded as zero extents, never sent). */
  readonly zeroBytes: bigint;
  readonly chunksTotal: number;
  readonly chunksUploaded: number;
  /** Plaintext and blob bytes held in memory right now (read, not yet uploaded or recorded). */
  readonly bufferedBytes: number;
}

export interface BackupNotice {
  readonly level: 'info' | 'warning';
  /** Stable, e.g. "backup.blockmap-fallback", "gpt.backup-header-crc". */
  readonly code: string;
  readonly message: string;
  readonly data?: Readonly<Record<string, unknown>>;
}

export interface BackupObserver {
  progress?(p: BackupProgress): void;
  notice?(n: BackupNotice): void;
}
