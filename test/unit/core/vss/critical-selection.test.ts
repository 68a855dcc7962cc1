import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RecoveryError } from '../../../../src/core/errors.ts';
import { selectCriticalComponents, type CriticalSelectionInput, type LiveVolume } from '../../../../src/core/vss/critical-selection.ts';
import { componentKey, parseAsrMetadata } from '../../../../src/core/vss/writer-metadata.ts';
import { ASR_METADATA_XML, VOL } from './samples.ts';

const asr = parseAsrMetadata(ASR_METADATA_XML);
const path = (guid: string): string => `\\\\?\\Volume{${guid}}\\`;

const LIVE: readonly LiveVolume[] = [
  { guid: VOL.esp, roles: ['system'], disks: [0], filesystem: 'fat32', esp: true },
  { guid: VOL.c, roles: ['boot'], disks: [0], filesystem: 'ntfs', esp: false },
  { guid: VOL.winre, roles: ['winre'], disks: [0], filesystem: 'ntfs', esp: false },
  { guid: VOL.d, roles: [], disks: [1], filesystem: 'NTFS', esp: false },
  { guid: VOL.e, roles: [], disks: [2], filesystem: 'ntfs', esp: false },
];

const base: CriticalSelectionInput = { asr, volumes: LIVE, fixedDisks: [0, 1, 2] };

function failure(input: CriticalSelectionInput): RecoveryError {
  try {
    selectCriticalComponents(input);
  } catch (e) {
    expect(e).toBeInstanceOf(RecoveryError);
    return e as RecoveryError;
  }
  throw new Error('selection did not fail');
}

describe('selectCriticalComponents on a UEFI server', () => {
  it('takes boot, system and WinRE as critical, for ASR\'s reason and their own roles', () => {
    const s = selectCriticalComponents(base);
    expect(s.criticalVolumes).toEqual([
      { guid: VOL.esp, reasons: ['asr', 'system'] },
      { guid: VOL.c, reasons: ['asr', 'boot'] },
      { guid: VOL.winre, reasons: ['asr', 'winre'] },
    ]);
    expect(s.criticalDisks).toEqual([0]);
  });

  it('adds ASR, every disk, every volume and BCD in metadata order', () => {
    expect(selectCriticalComponents(base).components.map(componentKey)).toEqual([
      '\\ASR', '\\Disks\\harddisk0', '\\Disks\\harddisk1', '\\Disks\\harddisk2',
      `\\Volumes\\Volume{${VOL.esp}}`, `\\Volumes\\Volume{${VOL.c}}`, `\\Volumes\\Volume{${VOL.winre}}`,
      `\\Volumes\\Volume{${VOL.d}}`, `\\Volumes\\Volume{${VOL.e}}`, '\\BCD\\BCD',
    ]);
  });

  it('shadow-copies NTFS volumes and reads the ESP live', () => {
    const s = selectCriticalComponents(base);
    expect(s.snapshotVolumes).toEqual([path(VOL.c), path(VOL.winre), path(VOL.d), path(VOL.e)]);
    expect(s.liveVolumes).toEqual([path(VOL.esp)]);
    expect(s.imageDisks).toEqual([0, 1, 2]);
  });

  it('refuses to exclude the disk of a critical volume, naming disk and volume', () => {
    const e = failure({ ...base, excludedDisks: [0] });
    expect(e.code).toBe('vss.critical-disk-excluded');
    expect(e.data).toMatchObject({ disks: [0], volumes: [VOL.esp, VOL.c, VOL.winre] });
    expect(e.message).toContain('disk 0 cannot be excluded');
  });

  it('leaves out a non-critical disk the user excluded, with its volumes', () => {
    const s = selectCriticalComponents({ ...base, excludedDisks: [1] });
    expect(s.disks).toEqual([{ number: 0, decision: 'critical' }, { number: 1, decision: 'user-excluded' }, { number: 2, decision: 'included' }]);
    expect(s.components.map(componentKey)).not.toContain('\\Disks\\harddisk1');
    expect(s.components.map(componentKey)).not.toContain(`\\Volumes\\Volume{${VOL.d}}`);
    expect(s.snapshotVolumes).not.toContain(path(VOL.d));
    expect(s.imageDisks).toEqual([0, 2]);
  });

  it('keeps the local backup target\'s disk as an ASR component but neither images it nor lets a restore touch it', () => {
    const s = selectCriticalComponents({ ...base, backupTarget: { volumeGuid: VOL.e, disks: [2] } });
    expect(s.components.map(componentKey)).toContain('\\Disks\\harddisk2');
    expect(s.disks.find((d) => d.number === 2)?.decision).toBe('backup-target');
    expect(s.imageDisks).toEqual([0, 1]);
    expect(s.restoreExcludedDisks).toEqual([2]);
    expect(s.snapshotVolumes).not.toContain(path(VOL.e));
  });

  it('refuses a backup target on a critical volume', () => {
    const e = failure({ ...base, backupTarget: { volumeGuid: VOL.c, disks: [0] } });
    expect(e.code).toBe('vss.backup-target-critical');
  });

  it('skips a backup target volume that shares a critical disk, and warns', () => {
    const volumes = [...LIVE.slice(0, 4), { ...LIVE[4]!, disks: [0] }];
    const s = selectCriticalComponents({ ...base, volumes, backupTarget: { volumeGuid: VOL.e, disks: [0] } });
    expect(s.imageDisks).toEqual([0, 1, 2]);
    expect(s.skipVolumes).toEqual([path(VOL.e)]);
    expect(s.restoreExcludedDisks).toEqual([]);
    expect(s.snapshotVolumes).not.toContain(path(VOL.e));
    expect(s.warnings.join()).toContain('critical disk 0');
  });

  it('makes every disk holding an extent of a critical volume critical', () => {
    const spanned = LIVE.map((v) => (v.guid === VOL.c ? { ...v, disks: [0, 3] } : v));
    const s = selectCriticalComponents({ ...base, volumes: spanned, fixedDisks: [0, 1, 2, 3] });
    expect(s.criticalDisks).toEqual([0, 3]);
    expect(failure({ ...base, volumes: spanned, fixedDisks: [0, 1, 2, 3], excludedDisks: [3] }).code).toBe('vss.critical-disk-excluded');
  });

  it('counts volumes holding other writers\' system-state files as critical', () => {
    const s = selectCriticalComponents({ ...base, systemStateVolumes: [`{${VOL.d.toUpperCase()}}`] });
    expect(s.criticalVolumes.find((v) => v.guid === VOL.d)?.reasons).toEqual(['system-state']);
    expect(s.criticalDisks).toEqual([0, 1]);
  });

  it('takes a dynamic pack whole or refuses', () => {
    expect(failure({ ...base, excludedDisks: [2], dynamicPacks: [[1, 2]] }).code).toBe('vss.dynamic-pack-split');
    expect(selectCriticalComponents({ ...base, excludedDisks: [1, 2], dynamicPacks: [[1, 2]] }).imageDisks).toEqual([0]);
  });

  it('refuses a critical volume it cannot find on the machine', () => {
    const e = failure({ ...base, volumes: LIVE.filter((v) => v.guid !== VOL.winre) });
    expect(e.code).toBe('vss.critical-volume-not-found');
    expect(e.data['volume']).toBe(VOL.winre);
  });

  it('warns when BCD is not selectable, a disk is unknown to ASR, or the ASR component is missing', () => {
    const xml = ASR_METADATA_XML
      .replace('componentName="BCD" caption="This is the path to the boot BCD store and the boot managers...All the files in this directory need to be backed up..." restoreMetadata="no" notifyOnBackupComplete="no" selectable="yes"', 'componentName="BCD" selectable="no"')
      .replace(/<FILE_GROUP componentName="ASR"[^>]*\/>/, '');
    const s = selectCriticalComponents({ ...base, asr: parseAsrMetadata(xml), fixedDisks: [0, 1, 2, 4] });
    expect(s.components.map(componentKey)).not.toContain('\\BCD\\BCD');
    expect(s.components.map(componentKey)).not.toContain('\\ASR');
    expect(s.warnings).toEqual([
      'the ASR writer reported no "ASR" component',
      'disk 4 is not in the ASR writer\'s metadata',
      'the BCD component is not selectable (the system partition has no volume GUID name); the BCD files are imaged with the system volume',
    ]);
  });
});

describe('selectCriticalComponents invariants', () => {
  it('never leaves a critical disk out and never both snapshots and live-reads a volume', () => {
    const volumeArb = fc.record({
      roles: fc.subarray(['boot', 'system', 'winre'] as const),
      disks: fc.uniqueArray(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 3 }),
      filesystem: fc.constantFrom('ntfs', 'refs', 'fat32', 'raw'),
      esp: fc.boolean(),
    });
    fc.assert(fc.property(
      fc.array(volumeArb, { minLength: 1, maxLength: 5 }),
      fc.uniqueArray(fc.integer({ min: 0, max: 5 }), { maxLength: 3 }),
      (vols, excluded) => {
        const volumes: LiveVolume[] = vols.map((v, i) => ({ ...v, guid: `4a2b1c3d-00${String(10 + i)}-4e5f-8a9b-0c1d2e3f4a5b` }));
        const input: CriticalSelectionInput = { asr, volumes: [...volumes, ...LIVE.slice(0, 3)], fixedDisks: [0, 1, 2, 3, 4, 5], excludedDisks: excluded };
        let s;
        try {
          s = selectCriticalComponents(input);
        } catch (e) {
          expect((e as RecoveryError).code).toBe('vss.critical-disk-excluded');
          return;
        }
        for (const d of s.criticalDisks) expect(s.imageDisks).toContain(d);
        for (const d of excluded) expect(s.imageDisks).not.toContain(d);
        for (const v of s.snapshotVolumes) expect(s.liveVolumes).not.toContain(v);
        for (const cv of s.criticalVolumes) {
          const live = input.volumes.find((v) => v.guid === cv.guid)!;
          for (const d of live.disks) expect(s.criticalDisks).toContain(d);
        }
      },
    ), { numRuns: 300 });
  });
});
