import { describe, expect, it } from 'vitest';
import { RecoveryError } from '../../../../src/core/errors.ts';
import {
  ASR_WRITER_ID, asrView, componentKey, isSystemStateComponent, parseAsrMetadata, parseWriterMetadata, VSS_CF,
} from '../../../../src/core/vss/writer-metadata.ts';
import { ASR_INSTANCE, ASR_METADATA_XML, SQL_WRITER_XML, TASK_SCHEDULER_XML, VOL } from './samples.ts';

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(RecoveryError);
    return (e as RecoveryError).code;
  }
  throw new Error('did not throw');
}

describe('parseWriterMetadata', () => {
  it('reads identity, restore method and a file-group component', () => {
    const w = parseWriterMetadata(TASK_SCHEDULER_XML);
    expect(w.version).toBe('1.2');
    expect(w.backupSchema).toBe(0);
    expect(w.identity).toEqual({
      writerId: 'd61d61c8-d73a-4eee-8cdd-f6f9786b7124', instanceId: '1e2d3c4b-0000-4a5b-8c7d-000000000001', instanceName: '',
      friendlyName: 'Task Scheduler Writer', usage: 'BOOTABLE_SYSTEM_STATE', dataSource: 'OTHER',
    });
    expect(w.restoreMethod).toMatchObject({ method: 'restore-at-reboot-if-cannot-replace', methodText: 'REPLACE_AT_REBOOT_IF_CANNOT_REPLACE', writerRestore: 'never', rebootRequired: false });
    expect(w.components).toEqual([{
      type: 'filegroup', logicalPath: '', name: 'TasksStore', caption: 'Tasks Store', restoreMetadata: false, notifyOnBackupComplete: false,
      selectable: false, selectableForRestore: false, flags: 0,
      files: [{ path: '%WinDir%\\System32\\Tasks', filespec: '*', recursive: true }, { path: '%WinDir%\\Tasks', filespec: '*', recursive: true }],
    }]);
    expect(isSystemStateComponent(w, w.components[0]!)).toBe(true);
  });

  it('reads database components, the schema mask, the service and alternate location mappings', () => {
    const w = parseWriterMetadata(SQL_WRITER_XML);
    expect(w.backupSchema).toBe(881);
    expect(w.identity).toMatchObject({ instanceName: 'Microsoft SQL Server 2017:SQLWriter', usage: 'USER_DATA' });
    expect(w.restoreMethod).toMatchObject({
      method: 'stop-restore-start', service: 'MSSQLSERVER', writerRestore: 'if-replace-fails',
      alternateLocationMappings: [{ path: 'C:\\Data', filespec: '*.mdf', recursive: false, alternatePath: 'D:\\Restore' }],
    });
    const db = w.components[0]!;
    expect(db).toMatchObject({ type: 'database', logicalPath: 'SQL01', name: 'sales', caption: 'Sales & Orders', notifyOnBackupComplete: true, selectable: true, flags: VSS_CF.BACKUP_RECOVERY });
    expect(db.files.map((f) => f.filespec)).toEqual(['sales.mdf', 'sales_log.ldf']);
    expect(componentKey(db)).toBe('\\SQL01\\sales');
    expect(isSystemStateComponent(w, db)).toBe(false);
  });

  it('does not count a non-selectable component flagged VSS_CF_NOT_SYSTEM_STATE as system state', () => {
    const xml = TASK_SCHEDULER_XML.replace('componentFlags="0"', 'componentFlags="4"');
    const w = parseWriterMetadata(xml);
    expect(isSystemStateComponent(w, w.components[0]!)).toBe(false);
  });

  it('accepts the document wrapped in another element', () => {
    expect(parseWriterMetadata(`<root>${TASK_SCHEDULER_XML}</root>`).identity.friendlyName).toBe('Task Scheduler Writer');
  });

  it.each([
    ['no IDENTIFICATION', TASK_SCHEDULER_XML.replace(/<IDENTIFICATION[^>]*\/>/, '')],
    ['a bad writerId', TASK_SCHEDULER_XML.replace('d61d61c8-d73a-4eee-8cdd-f6f9786b7124', 'not-a-guid')],
    ['a bad yes/no', TASK_SCHEDULER_XML.replace('selectable="no"', 'selectable="maybe"')],
    ['a bad componentFlags', TASK_SCHEDULER_XML.replace('componentFlags="0"', 'componentFlags="-1"')],
    ['a component twice', TASK_SCHEDULER_XML.replace(/(<FILE_GROUP[\s\S]*<\/FILE_GROUP>)/, '$1$1')],
    ['another root', '<BACKUP_COMPONENTS/>'],
    ['a nameless component', TASK_SCHEDULER_XML.replace('componentName="TasksStore"', '')],
  ])('refuses a document with %s', (_what, xml) => {
    expect(code(() => parseWriterMetadata(xml))).toBe('vss.metadata-invalid');
  });

  it('reports malformed XML as such', () => {
    expect(code(() => parseWriterMetadata('<WRITER_METADATA>'))).toBe('vss.xml-malformed');
  });
});

describe('ASR writer metadata', () => {
  const asr = parseAsrMetadata(ASR_METADATA_XML);

  it('identifies the ASR writer and its "ASR" component', () => {
    expect(asr.writer.identity.writerId).toBe(ASR_WRITER_ID);
    expect(asr.writer.identity.instanceId).toBe(ASR_INSTANCE);
    expect(asr.asrComponent).toMatchObject({ name: 'ASR', logicalPath: '', selectable: false });
  });

  it('sorts disks by number from "Disks\\harddisk<n>"', () => {
    expect(asr.disks.map((d) => [d.number, componentKey(d.component)])).toEqual([
      [0, '\\Disks\\harddisk0'], [1, '\\Disks\\harddisk1'], [2, '\\Disks\\harddisk2'],
    ]);
  });

  it('marks the non-selectable volumes critical and gives their GUID paths', () => {
    expect(asr.volumes.map((v) => [v.guid, v.critical])).toEqual([
      [VOL.esp, true], [VOL.c, true], [VOL.winre, true], [VOL.d, false], [VOL.e, false],
    ]);
    expect(asr.volumes[1]!.path).toBe(`\\\\?\\Volume{${VOL.c}}\\`);
  });

  it('finds the BCD component with its file list', () => {
    expect(asr.bcd).toMatchObject({ name: 'BCD', logicalPath: 'BCD', selectable: true });
    expect(asr.bcd?.files).toEqual([{ path: `\\\\?\\Volume{${VOL.esp}}\\EFI\\Microsoft\\Boot`, filespec: '*.*', recursive: true }]);
    expect(asr.other).toEqual([]);
  });

  it('keeps components under unknown logical paths instead of dropping them', () => {
    const xml = ASR_METADATA_XML.replace('</BACKUP_LOCATIONS>', '<FILE_GROUP logicalPath="Extras" componentName="thing" selectable="yes"/></BACKUP_LOCATIONS>');
    expect(parseAsrMetadata(xml).other.map(componentKey)).toEqual(['\\Extras\\thing']);
  });

  it('refuses another writer\'s metadata as ASR metadata', () => {
    expect(code(() => asrView(parseWriterMetadata(TASK_SCHEDULER_XML)))).toBe('vss.not-asr-writer');
  });
});
