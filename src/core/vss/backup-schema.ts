/**
 * Full and copy backups (seed 004, "Writer Backup Schema Support"). Lifeline images whole volumes,
 * so it offers the two schemas that back up every file regardless of its last backup date:
 *
 *   kind  VSS_BACKUP_TYPE  backup history                         basis for incremental/differential
 *   full  VSS_BT_FULL (1)  updated: writers may record it (log     yes: the document's backup stamps
 *                          truncation, VSS_BS_TIMESTAMPED stamps)  become the agent's history
 *   copy  VSS_BT_COPY (5)  not updated, by requester or writer     no: the agent's history is left as is
 *
 * A writer advertises what it supports with a VSS_BACKUP_SCHEMA mask (WRITER_METADATA@backupSchema,
 * IVssExamineWriterMetadata::GetBackupSchema); 0 means full backups only. A copy backup of a writer
 * whose mask lacks VSS_BS_COPY still runs, but that writer may treat it as full and move its own
 * history, so the plan says so.
 */
import type { BackupComponentsDocument } from './backup-components.ts';
import { componentKey, type WriterMetadata } from './writer-metadata.ts';

export type BackupKind = 'full' | 'copy';

/** VSS_BACKUP_TYPE (vss.h). */
export const VSS_BT = { UNDEFINED: 0, FULL: 1, INCREMENTAL: 2, DIFFERENTIAL: 3, LOG: 4, COPY: 5, OTHER: 6 } as const;

/** VSS_BACKUP_SCHEMA bits (vss.h). */
export const VSS_BS = {
  DIFFERENTIAL: 0x1,
  INCREMENTAL: 0x2,
  EXCLUSIVE_INCREMENTAL_DIFFERENTIAL: 0x4,
  LOG: 0x8,
  COPY: 0x10,
  TIMESTAMPED: 0x20,
  LAST_MODIFY: 0x40,
  LSN: 0x80,
  WRITER_SUPPORTS_NEW_TARGET: 0x100,
  WRITER_SUPPORTS_RESTORE_WITH_MOVE: 0x200,
  INDEPENDENT_SYSTEM_STATE: 0x400,
  ROLLFORWARD_RESTORE: 0x1000,
  RESTORE_RENAME: 0x2000,
  AUTHORITATIVE_RESTORE: 0x4000,
  WRITER_SUPPORTS_PARALLEL_RESTORES: 0x8000,
} as const;

/** Names of the bits set in a VSS_BACKUP_SCHEMA mask; ["FULL"] for 0, unknown bits as hex. */
export function describeBackupSchema(mask: number): string[] {
  if (mask === 0) return ['FULL'];
  const names = Object.entries(VSS_BS).filter(([, bit]) => (mask & bit) !== 0).map(([name]) => name);
  const known = Object.values(VSS_BS).reduce((a, b) => a | b, 0);
  const unknown = mask & ~known;
  if (unknown !== 0) names.push(`0x${(unknown >>> 0).toString(16)}`);
  return names;
}

export interface WriterSchemaNote {
  readonly writerId: string;
  readonly writerName: string;
  readonly backupSchema: number;
  readonly schemaNames: readonly string[];
  /** The writer advertises this kind (always true for full). */
  readonly supportsKind: boolean;
}

export interface BackupSchemaPlan {
  readonly kind: BackupKind;
  /** For SetBackupState(…, backupType, …). */
  readonly vssBackupType: typeof VSS_BT.FULL | typeof VSS_BT.COPY;
  /** The backupType the Backup Components Document will carry. */
  readonly documentBackupType: 'full' | 'copy';
  /** Writers and the agent update backup history. */
  readonly updatesHistory: boolean;
  /** A later incremental or differential may build on this backup. */
  readonly basisForIncremental: boolean;
  readonly writers: readonly WriterSchemaNote[];
  /** People-readable notes, e.g. writers that do not advertise VSS_BS_COPY on a copy backup. */
  readonly warnings: readonly string[];
}

/** What a full or copy backup means for VSS and for each gathered writer. */
export function planBackupSchema(kind: BackupKind, writers: readonly WriterMetadata[]): BackupSchemaPlan {
  const notes = writers.map((w): WriterSchemaNote => ({
    writerId: w.identity.writerId,
    writerName: w.identity.friendlyName,
    backupSchema: w.backupSchema,
    schemaNames: describeBackupSchema(w.backupSchema),
    supportsKind: kind === 'full' || (w.backupSchema & VSS_BS.COPY) !== 0,
  }));
  const warnings = notes
    .filter((n) => !n.supportsKind)
    .map((n) => `writer "${n.writerName}" (${n.writerId}) does not advertise VSS_BS_COPY; it may treat this copy backup as a full one`);
  return kind === 'full'
    ? { kind, vssBackupType: VSS_BT.FULL, documentBackupType: 'full', updatesHistory: true, basisForIncremental: true, writers: notes, warnings }
    : { kind, vssBackupType: VSS_BT.COPY, documentBackupType: 'copy', updatesHistory: false, basisForIncremental: false, writers: notes, warnings };
}

/** The agent's backup history: the last full backup's stamps, per writer and component. */
export interface BackupHistory {
  readonly lastFull?: {
    /** ISO 8601, given by the caller (core has no clock). */
    readonly at: string;
    readonly snapshotSetId?: string;
    /** `${writerId}${componentKey}` → backup stamp. */
    readonly stamps: Readonly<Record<string, string>>;
  };
}

/**
 * The history after a successful backup: a full backup replaces it with the stamps of its document
 * (components whose backup succeeded); a copy backup leaves it exactly as it was (seed 004).
 */
export function recordBackupHistory(history: BackupHistory, kind: BackupKind, doc: BackupComponentsDocument, at: string): BackupHistory {
  if (kind === 'copy') return history;
  const stamps: Record<string, string> = {};
  for (const w of doc.writers) {
    for (const c of w.components) {
      if (c.backupSucceeded === true && c.backupStamp !== undefined) stamps[`${w.writerId}${componentKey(c)}`] = c.backupStamp;
    }
  }
  return { lastFull: { at, ...(doc.snapshotSetId === undefined ? {} : { snapshotSetId: doc.snapshotSetId }), stamps } };
}
