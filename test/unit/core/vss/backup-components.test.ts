import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RecoveryError } from '../../../../src/core/errors.ts';
import {
  componentOutcomes, encodeBackupComponents, parseBackupComponents, verifyBackupComponents,
  type BackupComponentsDocument, type BcComponent, type DocumentBackupType,
} from '../../../../src/core/vss/backup-components.ts';
import { parseXml } from '../../../../src/core/vss/xml.ts';
import { ASR_INSTANCE, BACKUP_COMPONENTS_XML, VOL } from './samples.ts';

const ASR = 'be000cbe-11fe-4426-9c58-531aa6355fc4';
const SQL = 'a65faa63-5ea8-4ebc-9dbd-a0c4db26912a';

describe('parseBackupComponents', () => {
  const doc = parseBackupComponents(BACKUP_COMPONENTS_XML);

  it('reads the document attributes', () => {
    expect(doc).toMatchObject({
      version: '1.2', bootableSystemStateBackup: true, selectComponents: true, backupType: 'full', partialFileSupport: false,
      snapshotSetId: '5d4c3b2a-1234-4abc-9def-0123456789ab',
    });
  });

  it('reads writers, components, succeeded flags, stamps and writer-private metadata', () => {
    expect(doc.writers.map((w) => [w.writerId, w.instanceId, w.backupSchema, w.components.length])).toEqual([
      [ASR, ASR_INSTANCE, 0, 3],
      [SQL, '2f3e4d5c-0000-4a5b-8c7d-000000000002', 881, 1],
    ]);
    expect(doc.writers[1]!.instanceName).toBe('Microsoft SQL Server 2017:SQLWriter');
    expect(doc.writers[1]!.components[0]).toMatchObject({
      logicalPath: 'SQL01', name: 'sales', type: 'database', backupSucceeded: true, backupStamp: 'CAAAAMQv3+t4udUB', previousBackupStamp: 'CAAAAAAA', backupMetadata: 'QkNBQQ==',
    });
    expect(componentOutcomes(doc).map((o) => [o.key, o.backupSucceeded])).toEqual([
      ['\\ASR', true], ['\\Disks\\harddisk0', true], [`\\Volumes\\Volume{${VOL.c}}`, true], ['\\SQL01\\sales', true],
    ]);
  });

  it('survives encode → parse unchanged, including the BACKUP_METADATA element', () => {
    const again = parseBackupComponents(encodeBackupComponents(doc));
    expect(again).toEqual(doc);
    const xml = encodeBackupComponents(doc);
    expect(xml.startsWith('<BACKUP_COMPONENTS xmlns="x-schema:#VssComponentMetadata" version="1.2" bootableSystemStateBackup="yes" selectComponents="yes" backupType="full"')).toBe(true);
    expect(xml).toContain('<BACKUP_METADATA xmlns="" metadata="QkNBQQ=="/>');
  });

  it('keeps unknown attributes and elements', () => {
    const xml = BACKUP_COMPONENTS_XML
      .replace('componentName="ASR" componentType="filegroup"', 'componentName="ASR" componentType="filegroup" restoreOptions="&quot;x&quot;"')
      .replace('</BACKUP_COMPONENTS>', '<SNAPSHOT_SET_DESCRIPTION snapshotSetId="1"/></BACKUP_COMPONENTS>');
    const parsed = parseBackupComponents(xml);
    expect(parsed.writers[0]!.components[0]!.extraAttributes).toEqual({ restoreOptions: '"x"' });
    expect(parsed.extraChildren.map((c) => c.name)).toEqual(['SNAPSHOT_SET_DESCRIPTION']);
    expect(parseBackupComponents(encodeBackupComponents(parsed))).toEqual(parsed);
  });

  it.each([
    ['another root', '<WRITER_METADATA/>'],
    ['a bad backupType', BACKUP_COMPONENTS_XML.replace('backupType="full"', 'backupType="weekly"')],
    ['a bad writerId', BACKUP_COMPONENTS_XML.replace(`writerId="${ASR}"`, 'writerId="x"')],
    ['a bad componentType', BACKUP_COMPONENTS_XML.replace('componentName="ASR" componentType="filegroup"', 'componentName="ASR" componentType="disk"')],
    ['a bad backupSucceeded', BACKUP_COMPONENTS_XML.replace('backupSucceeded="yes"', 'backupSucceeded="perhaps"')],
    ['a bad backupSchema', BACKUP_COMPONENTS_XML.replace('backupSchema="881"', 'backupSchema="-1"')],
  ])('refuses %s', (_what, xml) => {
    expect(() => parseBackupComponents(xml)).toThrow(RecoveryError);
    try {
      parseBackupComponents(xml);
    } catch (e) {
      expect((e as RecoveryError).code).toBe('vss.backup-components-invalid');
    }
  });
});

describe('verifyBackupComponents', () => {
  it('finds nothing wrong with a complete document', () => {
    const doc = parseBackupComponents(BACKUP_COMPONENTS_XML);
    expect(verifyBackupComponents(doc, [{ writerId: ASR.toUpperCase(), key: '\\ASR' }, { writerId: SQL, key: '\\SQL01\\sales' }])).toEqual([]);
  });

  it('names components not marked succeeded and expected components that are missing', () => {
    const doc = parseBackupComponents(BACKUP_COMPONENTS_XML.replace('componentName="harddisk0" componentType="filegroup" backupSucceeded="yes"', 'componentName="harddisk0" componentType="filegroup" backupSucceeded="no"')
      .replace(' componentName="ASR" componentType="filegroup" backupSucceeded="yes"', ' componentName="ASR" componentType="filegroup"'));
    expect(verifyBackupComponents(doc, [{ writerId: ASR, key: '\\BCD\\BCD' }])).toEqual([
      `${ASR} \\ASR: backupSucceeded is unset`,
      `${ASR} \\Disks\\harddisk0: backupSucceeded is no`,
      `${ASR} \\BCD\\BCD: not in the document`,
    ]);
  });
});

const text = fc.string({ unit: fc.constantFrom('a', 'B', '1', ' ', '&', '<', '"', "'", '\\', '{', '}', 'é'), minLength: 1, maxLength: 10 });
const guid = fc.uuid().map((u) => u.toLowerCase());
const component: fc.Arbitrary<BcComponent> = fc.record({
  logicalPath: fc.oneof(fc.constant(''), text),
  name: text,
  type: fc.constantFrom('filegroup' as const, 'database' as const),
  backupSucceeded: fc.option(fc.boolean(), { nil: undefined }),
  backupStamp: fc.option(text, { nil: undefined }),
  previousBackupStamp: fc.option(text, { nil: undefined }),
  backupOptions: fc.option(text, { nil: undefined }),
  backupMetadata: fc.option(text, { nil: undefined }),
  extraAttributes: fc.constant({}),
  extraChildren: fc.constant([]),
}, { requiredKeys: ['logicalPath', 'name', 'type', 'extraAttributes', 'extraChildren'] });

const documentArb: fc.Arbitrary<BackupComponentsDocument> = fc.record({
  version: fc.constant('1.2'),
  bootableSystemStateBackup: fc.boolean(),
  selectComponents: fc.boolean(),
  backupType: fc.constantFrom<DocumentBackupType>('full', 'copy', 'incremental', 'differential', 'log', 'other'),
  partialFileSupport: fc.boolean(),
  snapshotSetId: guid,
  writers: fc.array(fc.record({ writerId: guid, instanceId: guid, backupSchema: fc.nat(0xffff), components: fc.array(component, { maxLength: 4 }) }), { maxLength: 4 }),
  extraChildren: fc.constant([]),
});

describe('encodeBackupComponents', () => {
  it('round-trips any document, and the XML it writes is well formed', () => {
    fc.assert(fc.property(documentArb, (doc) => {
      const xml = encodeBackupComponents(doc);
      expect(parseXml(xml).name).toBe('BACKUP_COMPONENTS');
      const clean = JSON.parse(JSON.stringify(doc)) as BackupComponentsDocument;
      expect(parseBackupComponents(xml)).toEqual(clean);
    }), { numRuns: 200 });
  });
});
