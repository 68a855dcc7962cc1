/**
 * The backup agent's VSS requester with ASR semantics (seed 001, "Overview of Backup Phase Tasks").
 * Order of calls on the IVssBackupComponents object:
 *
 *    1 CreateVssBackupComponentsInternal (runtime.createBackupComponents); QueryInterface Ex3
 *    2 InitializeForBackup(NULL)             3 SetContext(VSS_CTX_BACKUP)
 *    4 SetBackupState(selectComponents, bootableSystemState, VSS_BT_FULL | VSS_BT_COPY, no partial files)
 *    5 GatherWriterMetadata + wait, writer status check
 *    6 GetWriterMetadata for every writer → IVssExamineWriterMetadata::SaveAsXML (the ASR writer's is kept)
 *    7 request.select(ASR metadata) → AddComponent for each chosen ASR component
 *    8 StartSnapshotSet                      9 AddToSnapshotSet per volume
 *   10 PrepareForBackup + wait, writer status check
 *   11 DoSnapshotSet + wait, writer status check
 *   12 GetSnapshotProperties per snapshot (the device object the copy reads)
 *   13 request.copy(…)                      — the data copy, given to the requester
 *   14 SetBackupSucceeded per component    15 BackupComplete + wait, writer status check
 *   16 SaveAsXML of the Backup Components Document
 *   17 cleanup, on every path: AbortBackup (on failure), DeleteSnapshots (when a
 *      snapshot set was started), FreeWriterMetadata, Release of every interface pointer.
 *
 * Errors name the phase: vss.phase-failed (a call or async operation failed; data.method, data.hresult),
 * vss.writer-failed (a writer the backup depends on reported a failed state; data.writer, data.state),
 * or the selection's own codes (vss.critical-disk-excluded, …). data.cleanup lists cleanup calls that
 * failed too, so they are never hidden behind the first error.
 */
import { RecoveryError } from '../../../core/errors.ts';
import { parseBackupComponents, verifyBackupComponents } from '../../../core/vss/backup-components.ts';
import { planBackupSchema, type BackupKind, type BackupSchemaPlan } from '../../../core/vss/backup-schema.ts';
import type { CriticalSelection } from '../../../core/vss/critical-selection.ts';
import { failed, formatHresult, VSS_E_OBJECT_NOT_FOUND } from '../../../core/vss/hresult.ts';
import { recordRestoreMethods, type WriterRestoreRecord } from '../../../core/vss/restore-methods.ts';
import {
  ASR_WRITER_ID, asrView, componentKey, parseWriterMetadata, type AsrMetadata, type WriterMetadata,
} from '../../../core/vss/writer-metadata.ts';
import { judgeWriterStatus, writerFailureError } from '../../../core/vss/writer-status.ts';
import {
  BackupComponentsObject, releaseObject, waitAsync, type ComponentCall, type SnapshotDevice, type VssRuntime, type WaitOptions,
} from './backup-components-object.ts';
import { VSS_CTX_BACKUP } from './vtable.ts';

export type { SnapshotDevice, VssRuntime } from './backup-components-object.ts';

export type VssPhase =
  | 'create' | 'initialize-for-backup' | 'set-context' | 'set-backup-state' | 'gather-writer-metadata'
  | 'get-writer-metadata' | 'select-components' | 'add-component' | 'start-snapshot-set' | 'add-to-snapshot-set'
  | 'prepare-for-backup' | 'do-snapshot-set' | 'get-snapshot-properties' | 'copy-data' | 'set-backup-succeeded'
  | 'backup-complete' | 'save-backup-components';

export interface CopyInput {
  readonly snapshots: readonly SnapshotDevice[];
  /** Volumes to read live (the EFI system partition cannot be shadow-copied). */
  readonly liveVolumes: readonly string[];
  readonly selection: CriticalSelection;
  readonly asr: AsrMetadata;
}

export interface VssBackupRequest {
  readonly kind: BackupKind;
  /** Chooses components and volumes once the ASR writer's metadata is known (selectCriticalComponents). */
  readonly select: (asr: AsrMetadata, writers: readonly WriterMetadata[]) => CriticalSelection;
  /** Copies the data; resolves when every volume was read, rejects to abort the backup. */
  readonly copy: (input: CopyInput) => Promise<void>;
  /** Writers besides ASR whose failure fails the backup (others only warn). */
  readonly requiredWriterIds?: readonly string[];
  readonly pollMs?: number;
  readonly timeoutMs?: number;
  readonly onPhase?: (phase: VssPhase) => void;
}

export interface VssBackupResult {
  readonly asrMetadataXml: string;
  /** Every writer's metadata document, as SaveAsXML returned it. */
  readonly writerMetadataXml: readonly string[];
  readonly backupComponentsXml: string;
  readonly snapshotSetId: string;
  readonly snapshots: readonly SnapshotDevice[];
  readonly selection: CriticalSelection;
  readonly schema: BackupSchemaPlan;
  readonly restoreMethods: readonly WriterRestoreRecord[];
  readonly warnings: readonly string[];
}

const DEFAULT_WAIT: WaitOptions = { pollMs: 250, timeoutMs: 30 * 60_000 };
const PASS_THROUGH = new Set(['vss.writer-failed', 'vss.phase-failed']);

/** Re-raises `e` so it names the phase, with the cleanup problems attached. */
function phaseError(e: unknown, phase: VssPhase, cleanup: readonly string[]): RecoveryError {
  if (e instanceof RecoveryError && (PASS_THROUGH.has(e.code) || (e.code.startsWith('vss.') && !['vss.call-failed', 'vss.async-timeout'].includes(e.code)))) {
    return new RecoveryError(e.code, e.message, { data: { phase, ...e.data, cleanup }, cause: e.cause, retryable: e.retryable });
  }
  const reason = e instanceof Error ? e.message : String(e);
  const data = e instanceof RecoveryError ? e.data : {};
  return new RecoveryError('vss.phase-failed', `VSS backup failed at ${phase}: ${reason}`, {
    data: { phase, ...data, cleanup }, cause: e, retryable: e instanceof RecoveryError && e.retryable,
  });
}

class Session {
  obj: BackupComponentsObject | undefined;
  ex3 = 0n;
  metadataGathered = false;
  snapshotSetId: string | undefined;
  phase: VssPhase = 'create';
  readonly warnings: string[] = [];
  required: string[] = [];

  constructor(readonly runtime: VssRuntime, readonly request: VssBackupRequest, readonly wait: WaitOptions) {}

  enter(phase: VssPhase): BackupComponentsObject {
    this.phase = phase;
    this.request.onPhase?.(phase);
    if (this.obj === undefined) throw new RecoveryError('vss.null-pointer', 'no IVssBackupComponents object');
    return this.obj;
  }

  /** Waits for an async operation, then checks the writers; a failed operation names the failing writer if one is found. */
  async finish(asyncObj: bigint, method: string): Promise<void> {
    try {
      await waitAsync(asyncObj, method, this.runtime, this.wait);
    } catch (e) {
      const fatal = await this.statusAfterFailure();
      if (fatal !== undefined && fatal.length > 0) throw writerFailureError(this.phase, fatal, e);
      throw e;
    }
    await this.checkWriters();
  }

  async checkWriters(): Promise<void> {
    const obj = this.obj!;
    await waitAsync(obj.gatherWriterStatus(), 'GatherWriterStatus', this.runtime, this.wait);
    const judged = judgeWriterStatus(obj.writerStatuses(this.ex3), this.required);
    for (const w of judged.warnings) this.warnings.push(`after ${this.phase}: ${w.text}`);
    if (judged.fatal.length > 0) throw writerFailureError(this.phase, judged.fatal);
  }

  private async statusAfterFailure(): Promise<ReturnType<typeof judgeWriterStatus>['fatal'] | undefined> {
    try {
      const obj = this.obj!;
      await waitAsync(obj.gatherWriterStatus(), 'GatherWriterStatus', this.runtime, this.wait);
      return judgeWriterStatus(obj.writerStatuses(this.ex3), this.required).fatal;
    } catch {
      return undefined;
    }
  }

  /** Cleanup on every path; returns what failed (never throws). */
  cleanup(success: boolean): string[] {
    const problems: string[] = [];
    const attempt = (what: string, fn: () => number | void, ignore: readonly number[] = []): void => {
      try {
        const hr = fn();
        if (typeof hr === 'number' && failed(hr) && !ignore.includes(hr)) problems.push(`${what} returned ${formatHresult(hr)}`);
      } catch (e) {
        problems.push(`${what}: ${e instanceof Error ? e.message : String(e)}`);
      }
    };
    const obj = this.obj;
    if (obj !== undefined) {
      // AbortBackup is ignored when nothing is under way, so every failure calls it.
      if (!success) attempt('AbortBackup', () => obj.abortBackup());
      const setId = this.snapshotSetId;
      if (setId !== undefined) attempt('DeleteSnapshots', () => obj.deleteSnapshotSet(setId).hr, [VSS_E_OBJECT_NOT_FOUND]);
      if (this.metadataGathered) attempt('FreeWriterMetadata', () => obj.freeWriterMetadata());
      if (this.ex3 !== 0n) attempt('Release (IVssBackupComponentsEx3)', () => releaseObject(this.ex3));
      attempt('Release', () => void obj.release());
    }
    return problems;
  }
}

/** Runs one VSS backup with ASR semantics; see the header for the order of calls. */
export async function runVssBackup(runtime: VssRuntime, request: VssBackupRequest): Promise<VssBackupResult> {
  const s = new Session(runtime, request, { pollMs: request.pollMs ?? DEFAULT_WAIT.pollMs, timeoutMs: request.timeoutMs ?? DEFAULT_WAIT.timeoutMs });
  try {
    request.onPhase?.('create');
    s.obj = new BackupComponentsObject(runtime.createBackupComponents(), runtime);
    s.ex3 = s.obj.queryEx3();
    s.enter('initialize-for-backup').initializeForBackup();
    s.enter('set-context').setContext(VSS_CTX_BACKUP);
    const schemaKind = planBackupSchema(request.kind, []);
    s.enter('set-backup-state').setBackupState(true, true, schemaKind.vssBackupType, false);

    s.required = [ASR_WRITER_ID, ...(request.requiredWriterIds ?? [])];
    const gather = s.enter('gather-writer-metadata').gatherWriterMetadata();
    s.metadataGathered = true;
    await s.finish(gather, 'GatherWriterMetadata');

    const documents = s.enter('get-writer-metadata').writerMetadata();
    const writers: WriterMetadata[] = [];
    let asrXml: string | undefined;
    for (const d of documents) {
      try {
        const w = parseWriterMetadata(d.xml);
        writers.push(w);
        if (w.identity.writerId === ASR_WRITER_ID) asrXml = d.xml;
      } catch (e) {
        if (d.xml.toLowerCase().includes(ASR_WRITER_ID)) throw e;
        s.warnings.push(`writer metadata of instance ${d.instanceId} was not read: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    const asrWriter = writers.find((w) => w.identity.writerId === ASR_WRITER_ID);
    if (asrWriter === undefined || asrXml === undefined) {
      throw new RecoveryError('vss.asr-writer-missing', 'the ASR writer (BE000CBE-11FE-4426-9C58-531AA6355FC4) did not report metadata; is this a server or client SKU with ASR?', {
        data: { writers: writers.map((w) => w.identity.friendlyName) },
      });
    }
    const asr = asrView(asrWriter);

    s.enter('select-components');
    const selection = request.select(asr, writers);
    const schema = planBackupSchema(request.kind, writers);
    s.warnings.push(...selection.warnings, ...schema.warnings);
    const calls: ComponentCall[] = selection.components.map((c) => {
      const writer = writers.find((w) => w.identity.writerId === c.writerId);
      if (writer === undefined) throw new RecoveryError('vss.component-unknown', `component ${componentKey(c)} belongs to writer ${c.writerId}, which did not report metadata`, { data: { writerId: c.writerId, component: componentKey(c) } });
      return { instanceId: writer.identity.instanceId, writerId: c.writerId, type: c.type, logicalPath: c.logicalPath, name: c.name };
    });
    s.required = [...new Set([...s.required, ...calls.map((c) => c.writerId)])];
    for (const c of calls) s.enter('add-component').addComponent(c);

    s.snapshotSetId = s.enter('start-snapshot-set').startSnapshotSet();
    const added = selection.snapshotVolumes.map((volume) => ({ volume, snapshotId: s.enter('add-to-snapshot-set').addToSnapshotSet(volume) }));

    await s.finish(s.enter('prepare-for-backup').prepareForBackup(), 'PrepareForBackup');
    await s.finish(s.enter('do-snapshot-set').doSnapshotSet(), 'DoSnapshotSet');
    const snapshots = added.map((a) => s.enter('get-snapshot-properties').snapshotDevice(a.volume, a.snapshotId));

    s.enter('copy-data');
    await request.copy({ snapshots, liveVolumes: selection.liveVolumes, selection, asr });

    for (const c of calls) s.enter('set-backup-succeeded').setBackupSucceeded(c, true);
    await s.finish(s.enter('backup-complete').backupComplete(), 'BackupComplete');
    const backupComponentsXml = s.enter('save-backup-components').saveAsXml();
    const problems = verifyBackupComponents(parseBackupComponents(backupComponentsXml), calls.map((c) => ({ writerId: c.writerId, key: componentKey(c) })));
    s.warnings.push(...problems.map((p) => `backup components document: ${p}`));

    const result: VssBackupResult = {
      asrMetadataXml: asrXml,
      writerMetadataXml: documents.map((d) => d.xml),
      backupComponentsXml,
      snapshotSetId: s.snapshotSetId,
      snapshots,
      selection,
      schema,
      restoreMethods: recordRestoreMethods(writers),
      warnings: s.warnings,
    };
    const cleanup = s.cleanup(true);
    return cleanup.length === 0 ? result : { ...result, warnings: [...result.warnings, ...cleanup.map((c) => `cleanup: ${c}`)] };
  } catch (e) {
    throw phaseError(e, s.phase, s.cleanup(false));
  }
}
