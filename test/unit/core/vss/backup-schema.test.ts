import { describe, expect, it } from 'vitest';
import { parseBackupComponents } from '../../../../src/core/vss/backup-components.ts';
import { describeBackupSchema, planBackupSchema, recordBackupHistory, VSS_BS, VSS_BT } from '../../../../src/core/vss/backup-schema.ts';
import { parseWriterMetadata } from '../../../../src/core/vss/writer-metadata.ts';
import { ASR_METADATA_XML, BACKUP_COMPONENTS_XML, SQL_WRITER_XML, TASK_SCHEDULER_XML } from './samples.ts';

const writers = [ASR_METADATA_XML, TASK_SCHEDULER_XML, SQL_WRITER_XML].map(parseWriterMetadata);

describe('describeBackupSchema', () => {
  it('names the bits of a SQL Server writer\'s mask (881)', () => {
    expect(describeBackupSchema(881)).toEqual(['DIFFERENTIAL', 'COPY', 'TIMESTAMPED', 'LAST_MODIFY', 'WRITER_SUPPORTS_NEW_TARGET', 'WRITER_SUPPORTS_RESTORE_WITH_MOVE']);
  });

  it('reads 0 as full only and keeps unknown bits visible', () => {
    expect(describeBackupSchema(0)).toEqual(['FULL']);
    expect(describeBackupSchema(VSS_BS.LOG | 0x800)).toEqual(['LOG', '0x800']);
  });
});

describe('planBackupSchema', () => {
  it('full: VSS_BT_FULL, history updated, a basis for later incrementals, no warnings', () => {
    const plan = planBackupSchema('full', writers);
    expect(plan).toMatchObject({ vssBackupType: VSS_BT.FULL, documentBackupType: 'full', updatesHistory: true, basisForIncremental: true, warnings: [] });
    expect(plan.writers.every((w) => w.supportsKind)).toBe(true);
  });

  it('copy: VSS_BT_COPY, no history, not a basis, and warns about writers without VSS_BS_COPY', () => {
    const plan = planBackupSchema('copy', writers);
    expect(plan).toMatchObject({ vssBackupType: 5, documentBackupType: 'copy', updatesHistory: false, basisForIncremental: false });
    expect(plan.writers.map((w) => [w.writerName, w.supportsKind])).toEqual([['ASR Writer', false], ['Task Scheduler Writer', false], ['SqlServerWriter', true]]);
    expect(plan.warnings).toEqual([
      'writer "ASR Writer" (be000cbe-11fe-4426-9c58-531aa6355fc4) does not advertise VSS_BS_COPY; it may treat this copy backup as a full one',
      'writer "Task Scheduler Writer" (d61d61c8-d73a-4eee-8cdd-f6f9786b7124) does not advertise VSS_BS_COPY; it may treat this copy backup as a full one',
    ]);
  });
});

describe('recordBackupHistory', () => {
  const doc = parseBackupComponents(BACKUP_COMPONENTS_XML);
  const earlier = { lastFull: { at: '2026-11-01T00:00:00.000Z', stamps: { old: 'x' } } };

  it('a full backup replaces the history with the stamps of its succeeded components', () => {
    expect(recordBackupHistory(earlier, 'full', doc, '2026-11-23T11:20:00.000Z')).toEqual({
      lastFull: {
        at: '2026-11-23T11:20:00.000Z',
        snapshotSetId: '5d4c3b2a-1234-4abc-9def-0123456789ab',
        stamps: { 'a65faa63-5ea8-4ebc-9dbd-a0c4db26912a\\SQL01\\sales': 'CAAAAMQv3+t4udUB' },
      },
    });
  });

  it('a failed component\'s stamp does not enter the history', () => {
    const failedDoc = parseBackupComponents(BACKUP_COMPONENTS_XML.replace('componentType="database" backupSucceeded="yes"', 'componentType="database" backupSucceeded="no"'));
    expect(recordBackupHistory({}, 'full', failedDoc, 't').lastFull?.stamps).toEqual({});
  });

  it('a copy backup leaves the history exactly as it was', () => {
    expect(recordBackupHistory(earlier, 'copy', doc, 'later')).toBe(earlier);
    expect(recordBackupHistory({}, 'copy', doc, 'later')).toEqual({});
  });
});
