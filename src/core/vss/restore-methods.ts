/**
 * Each writer's restore method (VSS_RESTOREMETHOD_ENUM, vswriter.h), recorded with the restore point
 * so a later file-level restore knows what the writer asked for. The method applies to every file of
 * every component of that writer. What the requester must do for each value:
 *
 *   value  method                                 requester at restore
 *   0      undefined                              nothing safe: the writer erred; report it
 *   1      restore-if-not-there                   restore only if no version of the files is on disk
 *                                                 (or to the alternate location if one is mapped)
 *   2      restore-if-can-replace                 restore only if the files on disk can be overwritten
 *   3      stop-restore-start                     PreRestore; stop the service; restore; start it; PostRestore
 *   4      restore-to-alternate-location          restore to the alternate location mappings; none mapped
 *                                                 is a writer error to report
 *   5      restore-at-reboot                      copy to a temporary place; MoveFileEx
 *                                                 MOVEFILE_DELAY_UNTIL_REBOOT into place
 *   6      restore-at-reboot-if-cannot-replace    replace now if possible, otherwise as 5 for all files
 *   7      custom                                 the writer's own mechanism; metadata paths not used
 *   8      restore-stop-start                     PreRestore; restore; PostRestore; stop and restart the service
 *
 * The XML spells them RESTORE_IF_NONE_THERE, RESTORE_IF_CAN_BE_REPLACED, STOP_RESTART_SERVICE,
 * RESTORE_TO_ALTERNATE_LOCATION, REPLACE_AT_REBOOT, REPLACE_AT_REBOOT_IF_CANNOT_REPLACE, CUSTOM and
 * RESTORE_STOP_START; writerRestore is never / ifReplaceFails / always (VSS_WRITERRESTORE_ENUM).
 * A bare-metal restore from WinPE runs no writers (only ASR is there and VSS is not running), so
 * Lifeline writes whole volumes and these records matter to file-level restores on the running OS.
 */
import { RecoveryError } from '../errors.ts';
import type { WriterMetadata } from './writer-metadata.ts';

export type RestoreMethod =
  | 'undefined'
  | 'restore-if-not-there'
  | 'restore-if-can-replace'
  | 'stop-restore-start'
  | 'restore-to-alternate-location'
  | 'restore-at-reboot'
  | 'restore-at-reboot-if-cannot-replace'
  | 'custom'
  | 'restore-stop-start';

export type WriterRestore = 'undefined' | 'never' | 'if-replace-fails' | 'always';

/** VSS_RESTOREMETHOD_ENUM values. */
export const RESTORE_METHOD_VALUE: Readonly<Record<RestoreMethod, number>> = {
  'undefined': 0,
  'restore-if-not-there': 1,
  'restore-if-can-replace': 2,
  'stop-restore-start': 3,
  'restore-to-alternate-location': 4,
  'restore-at-reboot': 5,
  'restore-at-reboot-if-cannot-replace': 6,
  'custom': 7,
  'restore-stop-start': 8,
};

const FROM_XML: Readonly<Record<string, RestoreMethod>> = {
  RESTORE_IF_NONE_THERE: 'restore-if-not-there',
  RESTORE_IF_CAN_BE_REPLACED: 'restore-if-can-replace',
  STOP_RESTART_SERVICE: 'stop-restore-start',
  RESTORE_TO_ALTERNATE_LOCATION: 'restore-to-alternate-location',
  REPLACE_AT_REBOOT: 'restore-at-reboot',
  REPLACE_AT_REBOOT_IF_CANNOT_REPLACE: 'restore-at-reboot-if-cannot-replace',
  CUSTOM: 'custom',
  RESTORE_STOP_START: 'restore-stop-start',
};

/** Unknown or empty text reads as 'undefined' (which the record then reports as a writer error). */
export function restoreMethodFromXml(text: string): RestoreMethod {
  return FROM_XML[text.trim().toUpperCase()] ?? 'undefined';
}

export function writerRestoreFromXml(text: string): WriterRestore {
  switch (text.trim().toLowerCase()) {
    case 'never': return 'never';
    case 'always': return 'always';
    case 'ifreplacefails': return 'if-replace-fails';
    default: return 'undefined';
  }
}

export interface WriterRestoreRecord {
  readonly writerId: string;
  readonly instanceId: string;
  readonly writerName: string;
  readonly method: RestoreMethod;
  /** VSS_RESTOREMETHOD_ENUM value of `method`. */
  readonly methodValue: number;
  /** The service to stop and start (stop-restore-start, restore-stop-start). */
  readonly service: string;
  readonly userProcedure: string;
  readonly writerRestore: WriterRestore;
  readonly rebootRequired: boolean;
  readonly alternateLocationMappings: number;
  /** What the requester does at restore, in order. */
  readonly steps: readonly string[];
  /** Writer errors the requester must report (seed: undefined method, alternate location without mappings). */
  readonly problems: readonly string[];
}

function steps(method: RestoreMethod, service: string): string[] {
  const svc = service === '' ? 'the writer\'s service' : `service "${service}"`;
  switch (method) {
    case 'restore-if-not-there': return ['restore the files only where no version of them exists on disk (else to the alternate location, if mapped)'];
    case 'restore-if-can-replace': return ['restore the files only if every file on disk can be overwritten (else to the alternate location, if mapped)'];
    case 'stop-restore-start': return ['send PreRestore and wait for all writers', `stop ${svc}`, 'restore the files to their original location', `start ${svc}`, 'send PostRestore and wait for all writers'];
    case 'restore-to-alternate-location': return ['restore the files to the alternate location mappings'];
    case 'restore-at-reboot': return ['copy the files to a temporary location', 'MoveFileEx(MOVEFILE_DELAY_UNTIL_REBOOT) each into place', 'reboot'];
    case 'restore-at-reboot-if-cannot-replace': return ['replace the files now if every one can be replaced', 'otherwise copy all of them to a temporary location and MoveFileEx(MOVEFILE_DELAY_UNTIL_REBOOT) them into place'];
    case 'custom': return ['use the writer\'s own restore mechanism; the metadata paths are not used'];
    case 'restore-stop-start': return ['send PreRestore and wait for all writers', 'restore the files to their original location', 'send PostRestore and wait for all writers', `stop ${svc}`, `start ${svc}`];
    case 'undefined': return [];
  }
}

/** One record per writer (its restore method and what it asks of the requester), ordered by writer name. */
export function recordRestoreMethods(writers: readonly WriterMetadata[]): WriterRestoreRecord[] {
  return writers
    .map((w): WriterRestoreRecord => {
      const rm = w.restoreMethod;
      const method = rm?.method ?? 'undefined';
      const problems: string[] = [];
      if (rm === undefined) problems.push('the writer declared no restore method');
      else if (method === 'undefined') problems.push(`the writer's restore method "${rm.methodText}" is undefined: a writer error to report`);
      if (method === 'restore-to-alternate-location' && (rm?.alternateLocationMappings.length ?? 0) === 0) {
        problems.push('restore to alternate location without any alternate location mapping: a writer error to report');
      }
      if ((method === 'stop-restore-start' || method === 'restore-stop-start') && (rm?.service ?? '') === '') {
        problems.push('the restore method stops a service but names none');
      }
      return {
        writerId: w.identity.writerId,
        instanceId: w.identity.instanceId,
        writerName: w.identity.friendlyName,
        method,
        methodValue: RESTORE_METHOD_VALUE[method],
        service: rm?.service ?? '',
        userProcedure: rm?.userProcedure ?? '',
        writerRestore: rm?.writerRestore ?? 'undefined',
        rebootRequired: rm?.rebootRequired ?? false,
        alternateLocationMappings: rm?.alternateLocationMappings.length ?? 0,
        steps: steps(method, rm?.service ?? ''),
        problems,
      };
    })
    .sort((a, b) => a.writerName.localeCompare(b.writerName) || a.instanceId.localeCompare(b.instanceId));
}

const METHODS = Object.keys(RESTORE_METHOD_VALUE) as RestoreMethod[];
const WRITER_RESTORES: readonly WriterRestore[] = ['undefined', 'never', 'if-replace-fails', 'always'];

/**
 * Checks records read back from a stored restore point (untrusted JSON), naming the first bad field
 * in data.path; returns them typed.
 */
export function validateRestoreRecords(value: unknown): WriterRestoreRecord[] {
  const bad = (path: string, reason: string): RecoveryError =>
    new RecoveryError('vss.restore-record-invalid', `restore method record ${path}: ${reason}`, { data: { path, reason } });
  if (!Array.isArray(value)) throw bad('', 'not an array');
  return value.map((v: unknown, i): WriterRestoreRecord => {
    const at = `[${i}]`;
    if (typeof v !== 'object' || v === null) throw bad(at, 'not an object');
    const r = v as Record<string, unknown>;
    for (const k of ['writerId', 'instanceId', 'writerName', 'service', 'userProcedure'] as const) {
      if (typeof r[k] !== 'string') throw bad(`${at}.${k}`, 'not a string');
    }
    if (!METHODS.includes(r['method'] as RestoreMethod)) throw bad(`${at}.method`, 'not a restore method');
    if (r['methodValue'] !== RESTORE_METHOD_VALUE[r['method'] as RestoreMethod]) throw bad(`${at}.methodValue`, 'does not match method');
    if (!WRITER_RESTORES.includes(r['writerRestore'] as WriterRestore)) throw bad(`${at}.writerRestore`, 'not a writer-restore value');
    if (typeof r['rebootRequired'] !== 'boolean') throw bad(`${at}.rebootRequired`, 'not a boolean');
    if (!Number.isInteger(r['alternateLocationMappings']) || (r['alternateLocationMappings'] as number) < 0) throw bad(`${at}.alternateLocationMappings`, 'not a count');
    for (const k of ['steps', 'problems'] as const) {
      if (!Array.isArray(r[k]) || !(r[k] as unknown[]).every((s) => typeof s === 'string')) throw bad(`${at}.${k}`, 'not a list of strings');
    }
    return r as unknown as WriterRestoreRecord;
  });
}
