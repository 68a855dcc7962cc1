/**
 * Typed calls on one IVssBackupComponents object (and the IVssAsync / IVssExamineWriterMetadata
 * objects it hands out). Each method makes the COM call(s), frees what VSS allocated for us (BSTRs,
 * snapshot properties, sub-objects) and throws vss.call-failed on a failed HRESULT. Ordering and
 * cleanup policy live in requester.ts.
 */
import koffi from 'koffi';
import { RecoveryError } from '../../../core/errors.ts';
import { failed, VSS_S_ASYNC_CANCELLED, VSS_S_ASYNC_FINISHED, VSS_S_ASYNC_PENDING } from '../../../core/vss/hresult.ts';
import type { WriterStatus } from '../../../core/vss/writer-status.ts';
import {
  callFailed, comCall, guidBuffer, guidFromBuffer, guidStruct, outPointer, outValue, readBstr, GUID_NULL, type ComPtr,
} from './com.ts';
import { ASYNC_SLOT, IID_IVSS_BACKUP_COMPONENTS_EX3, METADATA_SLOT, PROTO, SLOT, VSS_CT, VSS_OBJECT_SNAPSHOT_SET, VSS_SNAPSHOT_PROP } from './vtable.ts';

/** What the requester needs from the platform besides the object itself (vssapi.dll, oleaut32, a timer). */
export interface VssRuntime {
  /** CreateVssBackupComponentsInternal: a new IVssBackupComponents (throws on failure). */
  createBackupComponents(): ComPtr;
  /** SysFreeString */
  freeBstr(bstr: ComPtr): void;
  /** VssFreeSnapshotProperties: frees the strings GetSnapshotProperties put in `prop`. */
  freeSnapshotProperties(prop: Uint8Array): void;
  /** Lets the event loop run between status polls. */
  sleep(ms: number): Promise<void>;
}

export interface WaitOptions {
  /** Milliseconds per IVssAsync::Wait before QueryStatus is asked again. */
  readonly pollMs: number;
  /** Give up (Cancel) after this many milliseconds of polling. */
  readonly timeoutMs: number;
}

export interface SnapshotDevice {
  /** \\?\Volume{…}\ of the original volume. */
  readonly volume: string;
  readonly snapshotId: string;
  /** \\?\GLOBALROOT\Device\HarddiskVolumeShadowCopyN: open this to read the frozen volume. */
  readonly device: string;
}

export interface ComponentCall {
  readonly instanceId: string;
  readonly writerId: string;
  readonly type: 'filegroup' | 'database';
  readonly logicalPath: string;
  readonly name: string;
}

const INFINITE_CAP = 0xffffffff;

function check(method: string, hr: number): void {
  if (failed(hr)) throw callFailed(method, hr);
}

/** Releases a sub-object; a null pointer is fine. */
export function releaseObject(obj: ComPtr): void {
  if (obj !== 0n) comCall(obj, SLOT.Release, PROTO.Release);
}

/**
 * Waits for an IVssAsync to finish: Wait(pollMs), QueryStatus, repeat while VSS_S_ASYNC_PENDING.
 * Always releases the async object. Throws vss.call-failed with the operation's result when it
 * failed or was cancelled, and vss.async-timeout (after Cancel) when it ran past timeoutMs.
 */
export async function waitAsync(asyncObj: ComPtr, method: string, runtime: VssRuntime, options: WaitOptions): Promise<void> {
  try {
    const polls = Math.max(1, Math.ceil(options.timeoutMs / options.pollMs));
    for (let i = 0; i < polls; i++) {
      const waited = comCall(asyncObj, ASYNC_SLOT.Wait, PROTO.AsyncWait, Math.min(options.pollMs, INFINITE_CAP - 1));
      check(`${method} (IVssAsync::Wait)`, waited);
      const status = new Int32Array(1);
      check(`${method} (IVssAsync::QueryStatus)`, comCall(asyncObj, ASYNC_SLOT.QueryStatus, PROTO.AsyncQueryStatus, status, null));
      const hr = status[0] ?? 0;
      if (hr === VSS_S_ASYNC_PENDING) {
        await runtime.sleep(0);
        continue;
      }
      if (hr === VSS_S_ASYNC_CANCELLED || failed(hr)) throw callFailed(method, hr);
      if (hr !== VSS_S_ASYNC_FINISHED && hr !== 0) throw callFailed(method, hr);
      return;
    }
    comCall(asyncObj, ASYNC_SLOT.Cancel, PROTO.AsyncCancel);
    throw new RecoveryError('vss.async-timeout', `${method} did not finish within ${options.timeoutMs} ms; cancelled`, {
      data: { method, timeoutMs: options.timeoutMs }, retryable: true,
    });
  } finally {
    releaseObject(asyncObj);
  }
}

export class BackupComponentsObject {
  constructor(readonly ptr: ComPtr, private readonly runtime: VssRuntime) {}

  private call(method: keyof typeof SLOT & keyof typeof PROTO, ...args: unknown[]): void {
    check(method, comCall(this.ptr, SLOT[method], PROTO[method], ...args));
  }

  private startAsync(method: 'GatherWriterMetadata' | 'PrepareForBackup' | 'GatherWriterStatus' | 'DoSnapshotSet' | 'BackupComplete'): ComPtr {
    const out = outPointer();
    this.call(method, out);
    return outValue(out);
  }

  /** IVssBackupComponentsEx3 on the same object (AddRef'd), or 0n when the system has no Ex3 (before Windows 7). */
  queryEx3(): ComPtr {
    const out = outPointer();
    const hr = comCall(this.ptr, SLOT.QueryInterface, PROTO.QueryInterface, guidBuffer(IID_IVSS_BACKUP_COMPONENTS_EX3), out);
    return failed(hr) ? 0n : outValue(out);
  }

  initializeForBackup(): void { this.call('InitializeForBackup', null); }
  setContext(context: number): void { this.call('SetContext', context); }

  setBackupState(selectComponents: boolean, bootableSystemState: boolean, backupType: number, partialFileSupport: boolean): void {
    this.call('SetBackupState', selectComponents, bootableSystemState, backupType, partialFileSupport);
  }

  gatherWriterMetadata(): ComPtr { return this.startAsync('GatherWriterMetadata'); }
  prepareForBackup(): ComPtr { return this.startAsync('PrepareForBackup'); }
  gatherWriterStatus(): ComPtr { return this.startAsync('GatherWriterStatus'); }
  doSnapshotSet(): ComPtr { return this.startAsync('DoSnapshotSet'); }
  backupComplete(): ComPtr { return this.startAsync('BackupComplete'); }

  /** Every gathered writer's metadata document (SaveAsXML), with its instance id. */
  writerMetadata(): { readonly instanceId: string; readonly xml: string }[] {
    const count = new Uint32Array(1);
    this.call('GetWriterMetadataCount', count);
    const result: { instanceId: string; xml: string }[] = [];
    for (let i = 0; i < (count[0] ?? 0); i++) {
      const instance = new Uint8Array(16);
      const metadata = outPointer();
      this.call('GetWriterMetadata', i, instance, metadata);
      const obj = outValue(metadata);
      try {
        const bstr = outPointer();
        check('IVssExamineWriterMetadata::SaveAsXML', comCall(obj, METADATA_SLOT.SaveAsXML, PROTO.MetadataSaveAsXML, bstr));
        try {
          result.push({ instanceId: guidFromBuffer(instance), xml: readBstr(outValue(bstr)) });
        } finally {
          this.runtime.freeBstr(outValue(bstr));
        }
      } finally {
        releaseObject(obj);
      }
    }
    return result;
  }

  freeWriterMetadata(): number { return comCall(this.ptr, SLOT.FreeWriterMetadata, PROTO.FreeWriterMetadata); }

  addComponent(c: ComponentCall): void {
    this.call('AddComponent', guidStruct(c.instanceId), guidStruct(c.writerId), VSS_CT[c.type], c.logicalPath === '' ? null : c.logicalPath, c.name);
  }

  setBackupSucceeded(c: ComponentCall, succeeded: boolean): void {
    this.call('SetBackupSucceeded', guidStruct(c.instanceId), guidStruct(c.writerId), VSS_CT[c.type], c.logicalPath === '' ? null : c.logicalPath, c.name, succeeded);
  }

  /** After GatherWriterStatus finished: every writer's status (GetWriterStatusEx when `ex3` is given). */
  writerStatuses(ex3: ComPtr): WriterStatus[] {
    const count = new Uint32Array(1);
    this.call('GetWriterStatusCount', count);
    const statuses: WriterStatus[] = [];
    try {
      for (let i = 0; i < (count[0] ?? 0); i++) statuses.push(this.writerStatus(i, ex3));
    } finally {
      comCall(this.ptr, SLOT.FreeWriterStatus, PROTO.FreeWriterStatus);
    }
    return statuses;
  }

  private writerStatus(index: number, ex3: ComPtr): WriterStatus {
    const instance = new Uint8Array(16);
    const writer = new Uint8Array(16);
    const name = outPointer();
    const state = new Int32Array(1);
    const failure = new Int32Array(1);
    const appResult = new Int32Array(1);
    const appMessage = outPointer();
    try {
      if (ex3 !== 0n) {
        check('GetWriterStatusEx', comCall(ex3, SLOT.GetWriterStatusEx, PROTO.GetWriterStatusEx, index, instance, writer, name, state, failure, appResult, appMessage));
      } else {
        this.call('GetWriterStatus', index, instance, writer, name, state, failure);
      }
      const message = readBstr(outValue(appMessage));
      return {
        instanceId: guidFromBuffer(instance),
        writerId: guidFromBuffer(writer),
        name: readBstr(outValue(name)),
        state: state[0] ?? 0,
        failure: failure[0] ?? 0,
        ...(ex3 === 0n ? {} : { applicationResult: appResult[0] ?? 0, applicationMessage: message }),
      };
    } finally {
      if (outValue(name) !== 0n) this.runtime.freeBstr(outValue(name));
      if (outValue(appMessage) !== 0n) this.runtime.freeBstr(outValue(appMessage));
    }
  }

  startSnapshotSet(): string {
    const id = new Uint8Array(16);
    this.call('StartSnapshotSet', id);
    return guidFromBuffer(id);
  }

  addToSnapshotSet(volume: string): string {
    const id = new Uint8Array(16);
    this.call('AddToSnapshotSet', volume, guidStruct(GUID_NULL), id);
    return guidFromBuffer(id);
  }

  snapshotDevice(volume: string, snapshotId: string): SnapshotDevice {
    const prop = new Uint8Array(koffi.sizeof(VSS_SNAPSHOT_PROP));
    this.call('GetSnapshotProperties', guidStruct(snapshotId), prop);
    try {
      const p = koffi.decode(prop, VSS_SNAPSHOT_PROP) as { m_pwszSnapshotDeviceObject: string | null; m_pwszOriginalVolumeName: string | null };
      return { volume: p.m_pwszOriginalVolumeName ?? volume, snapshotId, device: p.m_pwszSnapshotDeviceObject ?? '' };
    } finally {
      this.runtime.freeSnapshotProperties(prop);
    }
  }

  saveAsXml(): string {
    const bstr = outPointer();
    this.call('SaveAsXML', bstr);
    try {
      return readBstr(outValue(bstr));
    } finally {
      this.runtime.freeBstr(outValue(bstr));
    }
  }

  /** Returns the HRESULTs instead of throwing: these run during cleanup. */
  abortBackup(): number { return comCall(this.ptr, SLOT.AbortBackup, PROTO.AbortBackup); }

  deleteSnapshotSet(snapshotSetId: string): { readonly hr: number; readonly deleted: number } {
    const deleted = new Int32Array(1);
    const nondeleted = new Uint8Array(16);
    const hr = comCall(this.ptr, SLOT.DeleteSnapshots, PROTO.DeleteSnapshots, guidStruct(snapshotSetId), VSS_OBJECT_SNAPSHOT_SET, 1, deleted, nondeleted);
    return { hr, deleted: deleted[0] ?? 0 };
  }

  release(): number { return comCall(this.ptr, SLOT.Release, PROTO.Release); }
}
