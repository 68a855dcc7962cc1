import { describe, expect, it } from 'vitest';
import type { RecoveryError } from '../../../../src/core/errors.ts';
import {
  recordRestoreMethods, restoreMethodFromXml, RESTORE_METHOD_VALUE, validateRestoreRecords, writerRestoreFromXml,
} from '../../../../src/core/vss/restore-methods.ts';
import { parseWriterMetadata } from '../../../../src/core/vss/writer-metadata.ts';
import { ASR_METADATA_XML, SQL_WRITER_XML, TASK_SCHEDULER_XML } from './samples.ts';

describe('restore method values', () => {
  it.each([
    ['RESTORE_IF_NONE_THERE', 'restore-if-not-there', 1],
    ['RESTORE_IF_CAN_BE_REPLACED', 'restore-if-can-replace', 2],
    ['STOP_RESTART_SERVICE', 'stop-restore-start', 3],
    ['RESTORE_TO_ALTERNATE_LOCATION', 'restore-to-alternate-location', 4],
    ['REPLACE_AT_REBOOT', 'restore-at-reboot', 5],
    ['REPLACE_AT_REBOOT_IF_CANNOT_REPLACE', 'restore-at-reboot-if-cannot-replace', 6],
    ['CUSTOM', 'custom', 7],
    ['RESTORE_STOP_START', 'restore-stop-start', 8],
    ['', 'undefined', 0],
    ['SOMETHING_NEW', 'undefined', 0],
  ] as const)('%s is %s (VSS_RESTOREMETHOD_ENUM %i)', (xml, method, value) => {
    expect(restoreMethodFromXml(xml)).toBe(method);
    expect(RESTORE_METHOD_VALUE[method]).toBe(value);
  });

  it('reads writerRestore in any case', () => {
    expect(['never', 'ALWAYS', 'ifReplaceFails', 'x'].map(writerRestoreFromXml)).toEqual(['never', 'always', 'if-replace-fails', 'undefined']);
  });
});

function writerWith(method: string, extra = ''): string {
  return TASK_SCHEDULER_XML.replace(/<RESTORE_METHOD[^>]*\/>/, `<RESTORE_METHOD method="${method}" ${extra} writerRestore="never" rebootRequired="yes"/>`);
}

describe('recordRestoreMethods', () => {
  it('records one entry per writer, ordered by name, with the steps the requester owes', () => {
    const records = recordRestoreMethods([SQL_WRITER_XML, TASK_SCHEDULER_XML, ASR_METADATA_XML].map(parseWriterMetadata));
    expect(records.map((r) => [r.writerName, r.method, r.methodValue])).toEqual([
      ['ASR Writer', 'custom', 7],
      ['SqlServerWriter', 'stop-restore-start', 3],
      ['Task Scheduler Writer', 'restore-at-reboot-if-cannot-replace', 6],
    ]);
    const sql = records[1]!;
    expect(sql).toMatchObject({ service: 'MSSQLSERVER', writerRestore: 'if-replace-fails', alternateLocationMappings: 1, problems: [] });
    expect(sql.steps).toEqual([
      'send PreRestore and wait for all writers', 'stop service "MSSQLSERVER"', 'restore the files to their original location',
      'start service "MSSQLSERVER"', 'send PostRestore and wait for all writers',
    ]);
  });

  it('orders restore-stop-start differently from stop-restore-start', () => {
    const [r] = recordRestoreMethods([parseWriterMetadata(writerWith('RESTORE_STOP_START', 'service="Spooler"'))]);
    expect(r!.steps).toEqual([
      'send PreRestore and wait for all writers', 'restore the files to their original location',
      'send PostRestore and wait for all writers', 'stop service "Spooler"', 'start service "Spooler"',
    ]);
    expect(r!.rebootRequired).toBe(true);
  });

  it('reports the writer errors seed 002 says a requester must report', () => {
    const problems = (xml: string): readonly string[] => recordRestoreMethods([parseWriterMetadata(xml)])[0]!.problems;
    expect(problems(writerWith('RESTORE_TO_ALTERNATE_LOCATION'))).toEqual(['restore to alternate location without any alternate location mapping: a writer error to report']);
    expect(problems(writerWith('BOGUS'))).toEqual(['the writer\'s restore method "BOGUS" is undefined: a writer error to report']);
    expect(problems(writerWith('STOP_RESTART_SERVICE'))).toEqual(['the restore method stops a service but names none']);
    expect(problems(TASK_SCHEDULER_XML.replace(/<RESTORE_METHOD[^>]*\/>/, ''))).toEqual(['the writer declared no restore method']);
  });
});

describe('validateRestoreRecords', () => {
  const records = recordRestoreMethods([SQL_WRITER_XML, TASK_SCHEDULER_XML, ASR_METADATA_XML].map(parseWriterMetadata));

  it('accepts records read back from JSON', () => {
    expect(validateRestoreRecords(JSON.parse(JSON.stringify(records)))).toEqual(records);
  });

  it.each([
    ['not an array', {}, ''],
    ['a method value that does not match', (r: Record<string, unknown>) => ({ ...r, methodValue: 2 }), '[0].methodValue'],
    ['an unknown method', (r: Record<string, unknown>) => ({ ...r, method: 'teleport' }), '[0].method'],
    ['a missing name', (r: Record<string, unknown>) => ({ ...r, writerName: 3 }), '[0].writerName'],
    ['bad steps', (r: Record<string, unknown>) => ({ ...r, steps: [1] }), '[0].steps'],
  ])('refuses %s, naming the field', (_what, change, at) => {
    const value = typeof change === 'function' ? [change(JSON.parse(JSON.stringify(records[0])) as Record<string, unknown>)] : change;
    try {
      validateRestoreRecords(value);
      throw new Error('accepted');
    } catch (e) {
      expect((e as RecoveryError).code).toBe('vss.restore-record-invalid');
      expect((e as RecoveryError).data['path']).toBe(at);
    }
  });
});
