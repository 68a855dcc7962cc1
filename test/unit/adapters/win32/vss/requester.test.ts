/**
 * The requester driven for real through koffi against a fake IVssBackupComponents in native memory
 * (fake-vss.ts): call order and arguments, every sub-object released and every BSTR freed, and a
 * failure injected at each phase to show the cleanup calls and an error that names phase and writer.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { runVssBackup, type CopyInput, type VssBackupRequest, type VssPhase } from '../../../../../src/adapters/win32/vss/requester.ts';
import { RecoveryError } from '../../../../../src/core/errors.ts';
import { parseBackupComponents } from '../../../../../src/core/vss/backup-components.ts';
import { selectCriticalComponents, type LiveVolume } from '../../../../../src/core/vss/critical-selection.ts';
import { ASR_INSTANCE, ASR_METADATA_XML, SQL_WRITER_XML, TASK_SCHEDULER_XML, VOL } from '../../../core/vss/samples.ts';
import { FakeVss, type FakeOptions, type FakeWriterStatus } from './fake-vss.ts';

const ASR = 'be000cbe-11fe-4426-9c58-531aa6355fc4';
const TASKS = 'd61d61c8-d73a-4eee-8cdd-f6f9786b7124';
const TASKS_INSTANCE = '1e2d3c4b-0000-4a5b-8c7d-000000000001';
const SQL_INSTANCE = '2f3e4d5c-0000-4a5b-8c7d-000000000002';
const GUID_NULL = '00000000-0000-0000-0000-000000000000';
const path = (guid: string): string => `\\\\?\\Volume{${guid}}\\`;

const WRITERS = [
  { instanceId: TASKS_INSTANCE, xml: TASK_SCHEDULER_XML },
  { instanceId: ASR_INSTANCE, xml: ASR_METADATA_XML },
  { instanceId: SQL_INSTANCE, xml: SQL_WRITER_XML },
];

const LIVE: readonly LiveVolume[] = [
  { guid: VOL.esp, roles: ['system'], disks: [0], filesystem: 'fat32', esp: true },
  { guid: VOL.c, roles: ['boot'], disks: [0], filesystem: 'ntfs', esp: false },
  { guid: VOL.winre, roles: ['winre'], disks: [0], filesystem: 'ntfs', esp: false },
  { guid: VOL.d, roles: [], disks: [1], filesystem: 'ntfs', esp: false },
  { guid: VOL.e, roles: [], disks: [2], filesystem: 'ntfs', esp: false },
];

let fake: FakeVss | undefined;
afterEach(() => {
  fake?.dispose();
  fake = undefined;
});

function setup(options: Partial<FakeOptions> = {}, request: Partial<VssBackupRequest> = {}) {
  fake = new FakeVss({ writers: WRITERS, ...options });
  const copies: CopyInput[] = [];
  const phases: VssPhase[] = [];
  const req: VssBackupRequest = {
    kind: 'full',
    select: (asr) => selectCriticalComponents({ asr, volumes: LIVE, fixedDisks: [0, 1, 2], backupTarget: { volumeGuid: VOL.e, disks: [2] } }),
    copy: async (input) => {
      copies.push(input);
    },
    pollMs: 50,
    onPhase: (p) => phases.push(p),
    ...request,
  };
  return { fake, copies, phases, run: () => runVssBackup(fake!.runtime, req) };
}

async function failure(run: () => Promise<unknown>): Promise<RecoveryError> {
  try {
    await run();
  } catch (e) {
    expect(e).toBeInstanceOf(RecoveryError);
    return e as RecoveryError;
  }
  throw new Error('the backup did not fail');
}

const STATUS = (n: number, ex = true) => ['GatherWriterStatus', 'GetWriterStatusCount', ...Array<string>(n).fill(ex ? 'GetWriterStatusEx' : 'GetWriterStatus'), 'FreeWriterStatus'];
const COMPONENTS = 10; // ASR, 3 disks, 5 volumes, BCD (see critical-selection.test.ts)
const SNAPSHOTS = 3; // C:, WinRE, D: (E: is the backup target, the ESP is read live)

function clean(f: FakeVss): void {
  expect(f.errors).toEqual([]);
  expect(f.leakedObjects()).toEqual([]);
  expect(f.leakedStrings()).toBe(0);
}

describe('runVssBackup — the whole sequence through koffi', () => {
  it('calls IVssBackupComponents in the ASR backup order', async () => {
    const { fake, run } = setup();
    await run();
    expect(fake.methods()).toEqual([
      'CreateVssBackupComponentsInternal', 'QueryInterface', 'InitializeForBackup', 'SetContext', 'SetBackupState',
      'GatherWriterMetadata', ...STATUS(3),
      'GetWriterMetadataCount', 'GetWriterMetadata', 'GetWriterMetadata', 'GetWriterMetadata',
      ...Array<string>(COMPONENTS).fill('AddComponent'),
      'StartSnapshotSet', ...Array<string>(SNAPSHOTS).fill('AddToSnapshotSet'),
      'PrepareForBackup', ...STATUS(3),
      'DoSnapshotSet', ...STATUS(3),
      ...Array<string>(SNAPSHOTS).fill('GetSnapshotProperties'),
      ...Array<string>(COMPONENTS).fill('SetBackupSucceeded'),
      'BackupComplete', ...STATUS(3),
      'SaveAsXML',
      'DeleteSnapshots', 'FreeWriterMetadata', 'Release', 'Release',
    ]);
    clean(fake);
  });

  it('passes the arguments VSS expects', async () => {
    const { fake, run } = setup();
    await run();
    expect(fake.argsOf('InitializeForBackup')).toEqual([[null]]);
    expect(fake.argsOf('SetContext')).toEqual([[0]]);
    expect(fake.argsOf('SetBackupState')).toEqual([[true, true, 1, false]]);
    const added = fake.argsOf('AddComponent');
    expect(added[0]).toEqual([ASR_INSTANCE, ASR, 2, null, 'ASR']);
    expect(added[1]).toEqual([ASR_INSTANCE, ASR, 2, 'Disks', 'harddisk0']);
    expect(added.map((a) => a[4])).toContain(`Volume{${VOL.c}}`);
    expect(added[COMPONENTS - 1]).toEqual([ASR_INSTANCE, ASR, 2, 'BCD', 'BCD']);
    expect(fake.argsOf('AddToSnapshotSet').map((a) => [a[0], a[1]])).toEqual([[path(VOL.c), GUID_NULL], [path(VOL.winre), GUID_NULL], [path(VOL.d), GUID_NULL]]);
    expect(fake.argsOf('SetBackupSucceeded').map((a) => a.slice(0, 5))).toEqual(added);
    expect(fake.argsOf('SetBackupSucceeded').every((a) => a[5] === true)).toBe(true);
    expect(fake.argsOf('DeleteSnapshots').map((a) => a.slice(0, 3))).toEqual([[fake.snapshotSetId, 2, 1]]);
    expect(fake.argsOf('GetWriterMetadata').map((a) => a[0])).toEqual([0, 1, 2]);
  });

  it('waits on each IVssAsync, reads each writer document, and releases every object', async () => {
    const { fake, run } = setup({ pendingPolls: 2 });
    await run();
    // 4 operations + 4 status gathers, each: (Wait, QueryStatus) × 3 polls, then Release.
    const perAsync = ['Wait', 'QueryStatus', 'Wait', 'QueryStatus', 'Wait', 'QueryStatus', 'Release'];
    expect(fake.methods('IVssAsync')).toEqual(Array.from({ length: 8 }, () => perAsync).flat());
    expect(fake.argsOf('Wait').every((a) => a[0] === 50)).toBe(true);
    expect(fake.methods('IVssExamineWriterMetadata')).toEqual(['SaveAsXML', 'Release', 'SaveAsXML', 'Release', 'SaveAsXML', 'Release']);
    clean(fake);
  });

  it('returns the documents, the snapshot devices and the restore methods, and hands the copy what to read', async () => {
    const { fake, copies, phases, run } = setup();
    const result = await run();
    expect(result.asrMetadataXml).toBe(ASR_METADATA_XML);
    expect(result.writerMetadataXml).toEqual(WRITERS.map((w) => w.xml));
    expect(result.snapshotSetId).toBe(fake.snapshotSetId);
    expect(result.snapshots).toEqual([
      { volume: path(VOL.c), snapshotId: 'aaaaaaaa-0000-4000-8000-000000000001', device: '\\\\?\\GLOBALROOT\\Device\\HarddiskVolumeShadowCopy01' },
      { volume: path(VOL.winre), snapshotId: 'aaaaaaaa-0000-4000-8000-000000000002', device: '\\\\?\\GLOBALROOT\\Device\\HarddiskVolumeShadowCopy02' },
      { volume: path(VOL.d), snapshotId: 'aaaaaaaa-0000-4000-8000-000000000003', device: '\\\\?\\GLOBALROOT\\Device\\HarddiskVolumeShadowCopy03' },
    ]);
    expect(copies).toHaveLength(1);
    expect(copies[0]!.snapshots).toEqual(result.snapshots);
    expect(copies[0]!.liveVolumes).toEqual([path(VOL.esp)]);
    const doc = parseBackupComponents(result.backupComponentsXml);
    expect(doc.writers[0]!.components.every((c) => c.backupSucceeded === true)).toBe(true);
    expect(result.restoreMethods.map((r) => [r.writerName, r.method])).toEqual([
      ['ASR Writer', 'custom'], ['SqlServerWriter', 'stop-restore-start'], ['Task Scheduler Writer', 'restore-at-reboot-if-cannot-replace'],
    ]);
    expect(result.schema).toMatchObject({ kind: 'full', vssBackupType: 1, updatesHistory: true });
    expect(result.warnings).toEqual([]);
    expect(phases[0]).toBe('create');
    expect(phases.at(-1)).toBe('save-backup-components');
  });

  it('asks for a copy backup with VSS_BT_COPY and says which writers may not honour it', async () => {
    const { fake, run } = setup({}, { kind: 'copy' });
    const result = await run();
    expect(fake.argsOf('SetBackupState')).toEqual([[true, true, 5, false]]);
    expect(result.schema).toMatchObject({ kind: 'copy', updatesHistory: false, basisForIncremental: false });
    expect(result.warnings.filter((w) => w.includes('VSS_BS_COPY'))).toHaveLength(2);
  });

  it('falls back to GetWriterStatus when IVssBackupComponentsEx3 is not there', async () => {
    const { fake, run } = setup({ ex3: false });
    await run();
    expect(fake.methods()).not.toContain('GetWriterStatusEx');
    expect(fake.methods().filter((m) => m === 'GetWriterStatus')).toHaveLength(12);
    expect(fake.methods().slice(-2)).toEqual(['FreeWriterMetadata', 'Release']);
    clean(fake);
  });

  it('only warns about a failed writer the backup does not depend on', async () => {
    const sqlFailed: FakeWriterStatus = { instanceId: SQL_INSTANCE, writerId: 'a65faa63-5ea8-4ebc-9dbd-a0c4db26912a', name: 'SqlServerWriter', state: 9, failure: 0x800423f2 | 0 };
    const { fake, run } = setup({ statuses: (after) => (after === 'DoSnapshotSet' ? [sqlFailed] : []) });
    const result = await run();
    expect(result.warnings).toEqual(['after do-snapshot-set: writer "SqlServerWriter" {a65faa63-5ea8-4ebc-9dbd-a0c4db26912a} is FAILED_AT_FREEZE, 0x800423f2 VSS_E_WRITERERROR_TIMEOUT']);
    clean(fake);
  });
});

// ---------------------------------------------------------------- failures

const E_FAIL = 0x80004005 | 0;
const VSS_E_BAD_STATE = 0x80042301 | 0;

const HR_TEXT = new Map<number, string>([
  [E_FAIL, '0x80004005 E_FAIL'],
  [VSS_E_BAD_STATE, '0x80042301 VSS_E_BAD_STATE'],
  [0x8004230c | 0, '0x8004230c VSS_E_VOLUME_NOT_SUPPORTED'],
  [0x8004231f | 0, '0x8004231f VSS_E_INSUFFICIENT_STORAGE'],
]);

interface Case {
  readonly phase: VssPhase;
  readonly inject: Partial<FakeOptions>;
  readonly snapshotSetStarted: boolean;
  readonly copied: boolean;
}

const CALL = (method: string, hr = VSS_E_BAD_STATE) => ({ failCall: { method, hr } });
const ASYNC = (method: string, hr = E_FAIL) => ({ failAsync: { method, hr } });

const CASES: Case[] = [
  { phase: 'initialize-for-backup', inject: CALL('InitializeForBackup'), snapshotSetStarted: false, copied: false },
  { phase: 'set-context', inject: CALL('SetContext'), snapshotSetStarted: false, copied: false },
  { phase: 'set-backup-state', inject: CALL('SetBackupState'), snapshotSetStarted: false, copied: false },
  { phase: 'gather-writer-metadata', inject: CALL('GatherWriterMetadata'), snapshotSetStarted: false, copied: false },
  { phase: 'gather-writer-metadata', inject: ASYNC('GatherWriterMetadata'), snapshotSetStarted: false, copied: false },
  { phase: 'get-writer-metadata', inject: CALL('GetWriterMetadata'), snapshotSetStarted: false, copied: false },
  { phase: 'add-component', inject: CALL('AddComponent'), snapshotSetStarted: false, copied: false },
  { phase: 'start-snapshot-set', inject: CALL('StartSnapshotSet'), snapshotSetStarted: false, copied: false },
  { phase: 'add-to-snapshot-set', inject: CALL('AddToSnapshotSet', 0x8004230c | 0), snapshotSetStarted: true, copied: false },
  { phase: 'prepare-for-backup', inject: CALL('PrepareForBackup'), snapshotSetStarted: true, copied: false },
  { phase: 'prepare-for-backup', inject: ASYNC('PrepareForBackup'), snapshotSetStarted: true, copied: false },
  { phase: 'do-snapshot-set', inject: CALL('DoSnapshotSet'), snapshotSetStarted: true, copied: false },
  { phase: 'do-snapshot-set', inject: ASYNC('DoSnapshotSet', 0x8004231f | 0), snapshotSetStarted: true, copied: false },
  { phase: 'get-snapshot-properties', inject: CALL('GetSnapshotProperties'), snapshotSetStarted: true, copied: false },
  { phase: 'set-backup-succeeded', inject: CALL('SetBackupSucceeded'), snapshotSetStarted: true, copied: true },
  { phase: 'backup-complete', inject: CALL('BackupComplete'), snapshotSetStarted: true, copied: true },
  { phase: 'backup-complete', inject: ASYNC('BackupComplete'), snapshotSetStarted: true, copied: true },
  { phase: 'save-backup-components', inject: CALL('SaveAsXML'), snapshotSetStarted: true, copied: true },
];

describe('runVssBackup — a failure at each phase', () => {
  it.each(CASES.map((c) => [`${c.phase} (${Object.keys(c.inject)[0]!})`, c] as const))('%s: cleans up and names the phase', async (_name, c) => {
    const { fake, copies, run } = setup(c.inject);
    const e = await failure(run);
    expect(e.code).toBe('vss.phase-failed');
    expect(e.data['phase']).toBe(c.phase);
    expect(e.message).toContain(`VSS backup failed at ${c.phase}`);
    const hr = c.inject.failCall?.hr ?? c.inject.failAsync?.hr ?? 0;
    expect(e.data['hresult']).toBe(HR_TEXT.get(hr));
    expect(e.message).toContain(HR_TEXT.get(hr));
    expect(e.data['cleanup']).toEqual([]);
    const methods = fake.methods();
    expect(methods).toContain('AbortBackup');
    expect(methods.includes('DeleteSnapshots')).toBe(c.snapshotSetStarted);
    expect(methods.slice(-2)).toEqual(['Release', 'Release']);
    expect(methods.includes('BackupComplete')).toBe(c.phase === 'backup-complete' || c.phase === 'save-backup-components');
    expect(copies.length).toBe(c.copied ? 1 : 0);
    clean(fake);
  });

  it.each([
    ['GatherWriterMetadata', 'gather-writer-metadata', 6, 'FAILED_AT_IDENTIFY'],
    ['PrepareForBackup', 'prepare-for-backup', 7, 'FAILED_AT_PREPARE_BACKUP'],
    ['DoSnapshotSet', 'do-snapshot-set', 9, 'FAILED_AT_FREEZE'],
    ['BackupComplete', 'backup-complete', 12, 'FAILED_AT_BACKUP_COMPLETE'],
  ] as const)('a failed ASR writer status after %s stops the backup, naming phase and writer', async (after, phase, state, stateName) => {
    const asrFailed: FakeWriterStatus = { instanceId: ASR_INSTANCE, writerId: ASR, name: 'ASR Writer', state, failure: 0x800423f4 | 0, applicationMessage: 'Disk 2 is not online' };
    const { fake, run } = setup({ statuses: (last) => (last === after ? [asrFailed] : []) });
    const e = await failure(run);
    expect(e.code).toBe('vss.writer-failed');
    expect(e.data).toMatchObject({ phase, writer: 'ASR Writer', writerId: ASR, state: stateName, failure: '0x800423f4 VSS_E_WRITERERROR_NONRETRYABLE' });
    expect(e.message).toBe(`VSS backup failed after ${phase}: writer "ASR Writer" {${ASR}} is ${stateName}, 0x800423f4 VSS_E_WRITERERROR_NONRETRYABLE, "Disk 2 is not online"`);
    expect(fake.methods()).toContain('AbortBackup');
    expect(fake.methods().includes('DeleteSnapshots')).toBe(after !== 'GatherWriterMetadata');
    expect(fake.methods().at(-1)).toBe('Release');
    clean(fake);
  });

  it('names the writer behind a failed async operation', async () => {
    const tasksFailed: FakeWriterStatus = { instanceId: TASKS_INSTANCE, writerId: TASKS, name: 'Task Scheduler Writer', state: 7, failure: 0x800423f3 | 0 };
    const { fake, run } = setup(
      { failAsync: { method: 'PrepareForBackup', hr: 0x800423f3 | 0 }, statuses: (last) => (last === 'PrepareForBackup' ? [tasksFailed] : []) },
      { requiredWriterIds: [TASKS] },
    );
    const e = await failure(run);
    expect(e.code).toBe('vss.writer-failed');
    expect(e.data).toMatchObject({ phase: 'prepare-for-backup', writer: 'Task Scheduler Writer' });
    expect(e.retryable).toBe(true);
    expect((e.cause as RecoveryError).data['hresult']).toBe('0x800423f3 VSS_E_WRITERERROR_RETRYABLE');
    clean(fake);
  });

  it('aborts when the data copy fails, before SetBackupSucceeded and BackupComplete', async () => {
    const { fake, run } = setup({}, { copy: () => Promise.reject(new Error('server unreachable')) });
    const e = await failure(run);
    expect(e.code).toBe('vss.phase-failed');
    expect(e.data['phase']).toBe('copy-data');
    expect(e.message).toBe('VSS backup failed at copy-data: server unreachable');
    expect(fake.methods()).not.toContain('SetBackupSucceeded');
    expect(fake.methods()).not.toContain('BackupComplete');
    expect(fake.methods().slice(-5)).toEqual(['AbortBackup', 'DeleteSnapshots', 'FreeWriterMetadata', 'Release', 'Release']);
    clean(fake);
  });

  it('keeps the selection\'s own error (a critical disk the user excluded) and still cleans up', async () => {
    const { fake, run } = setup({}, { select: (asr) => selectCriticalComponents({ asr, volumes: LIVE, fixedDisks: [0, 1, 2], excludedDisks: [0] }) });
    const e = await failure(run);
    expect(e.code).toBe('vss.critical-disk-excluded');
    expect(e.data).toMatchObject({ phase: 'select-components', disks: [0] });
    expect(fake.methods()).not.toContain('AddComponent');
    expect(fake.methods().slice(-4)).toEqual(['AbortBackup', 'FreeWriterMetadata', 'Release', 'Release']);
    clean(fake);
  });

  it('stops when the ASR writer reported nothing', async () => {
    const { fake, run } = setup({ writers: WRITERS.filter((w) => w.instanceId !== ASR_INSTANCE) });
    const e = await failure(run);
    expect(e.code).toBe('vss.asr-writer-missing');
    expect(e.data['writers']).toEqual(['Task Scheduler Writer', 'SqlServerWriter']);
    clean(fake);
  });

  it('lists cleanup calls that fail too, without hiding the first error', async () => {
    const { fake, run } = setup({ failCall: { method: 'AbortBackup', hr: VSS_E_BAD_STATE } }, { copy: () => Promise.reject(new Error('disk read error')) });
    const e = await failure(run);
    expect(e.data['phase']).toBe('copy-data');
    expect(e.data['cleanup']).toEqual(['AbortBackup returned 0x80042301 VSS_E_BAD_STATE']);
    expect(fake.methods().slice(-3)).toEqual(['FreeWriterMetadata', 'Release', 'Release']);
  });

  it('reports a failed creation as the create phase and calls nothing', async () => {
    fake = new FakeVss({ writers: WRITERS });
    const runtime = { ...fake.runtime, createBackupComponents: (): bigint => { throw new RecoveryError('vss.create-failed', 'CreateVssBackupComponents returned 0x80070005 E_ACCESSDENIED'); } };
    const e = await failure(() => runVssBackup(runtime, { kind: 'full', select: () => { throw new Error('unreachable'); }, copy: async () => {} }));
    expect(e.code).toBe('vss.create-failed');
    expect(e.data['phase']).toBe('create');
    expect(fake.calls).toEqual([]);
  });
});
