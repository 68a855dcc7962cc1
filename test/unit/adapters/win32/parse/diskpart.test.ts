/** diskpart list/detail parsers on published en-US output, and failure detection. */
import { describe, expect, it } from 'vitest';
import { parseDetailDisk, parseDiskId } from '../../../../../src/adapters/win32/parse/diskpart-detail-disk.ts';
import { parseListDisk, parseListPartition, parseListVolume } from '../../../../../src/adapters/win32/parse/diskpart-list.ts';
import { diskpartErrors, diskpartOutcome } from '../../../../../src/adapters/win32/parse/diskpart-outcome.ts';
import { GiB, KiB, MiB } from '../../../../../src/core/units.ts';
import { crlf, toolOutput } from '../tool-fixtures.ts';

describe('parseListDisk', () => {
  it('reads one GPT disk', () => {
    expect(parseListDisk(toolOutput('diskpart__list-disk__single-gpt-disk.txt'))).toEqual([{
      number: 0, selected: false, status: 'Online', sizeText: '127 GB', sizeBytes: 127n * GiB,
      freeText: '0 B', freeBytes: 0n, dynamic: false, gpt: true,
    }]);
  });

  it('tells the GPT disk from the non-GPT USB disk', () => {
    const disks = parseListDisk(toolOutput('diskpart__list-disk__gpt-disk-plus-usb.txt'));
    expect(disks.map((d) => [d.number, d.sizeBytes, d.gpt])).toEqual([[0, 238n * GiB, true], [1, 28n * GiB, false]]);
  });

  it('copes with trailing spaces on a row and MB sizes', () => {
    const disks = parseListDisk(toolOutput('diskpart__list-disk__gpt-disk-plus-mbr-usb-trailing-spaces.txt'));
    expect(disks[1]).toEqual({
      number: 1, selected: false, status: 'Online', sizeText: '3822 MB', sizeBytes: 3822n * MiB,
      freeText: '0 B', freeBytes: 0n, dynamic: false, gpt: false,
    });
    expect(disks[0]!.gpt).toBe(true);
  });

  it('reads the console form: indented rows, CRLF, the * focus marker, No Media, a dynamic disk', () => {
    // The layout diskpart prints on a console (two-space indent; `*` in the indent marks the selected disk).
    const text = crlf([
      '',
      '  Disk ###  Status         Size     Free     Dyn  Gpt',
      '  --------  -------------  -------  -------  ---  ---',
      '  Disk 0    Online          931 GB  1024 KB   *',
      '* Disk 1    Online           60 GB    10 GB        *',
      '  Disk 2    No Media           0 B      0 B',
      '',
    ].join('\n'));
    expect(parseListDisk(text).map((d) => [d.number, d.selected, d.status, d.sizeBytes, d.freeBytes, d.dynamic, d.gpt])).toEqual([
      [0, false, 'Online', 931n * GiB, 1024n * KiB, true, false],
      [1, true, 'Online', 60n * GiB, 10n * GiB, false, true],
      [2, false, 'No Media', 0n, 0n, false, false],
    ]);
  });
});

describe('parseListPartition', () => {
  it('reads types, sizes and offsets', () => {
    const parts = parseListPartition(toolOutput('diskpart__list-partition__gpt-recovery-system-msr-primary.txt'));
    expect(parts.map((p) => [p.number, p.type, p.sizeBytes, p.offsetBytes])).toEqual([
      [1, 'Recovery', 300n * MiB, 1024n * KiB],
      [2, 'System', 100n * MiB, 451n * MiB],
      [3, 'Reserved', 16n * MiB, 551n * MiB],
      [4, 'Primary', 126n * GiB, 567n * MiB],
    ]);
    expect(parts[3]).toMatchObject({ sizeText: '126 GB', offsetText: '567 MB', selected: false });
  });
});

describe('parseListVolume', () => {
  it('reads letters, file systems and Boot/System info', () => {
    expect(parseListVolume(toolOutput('diskpart__list-volume__uefi-system-volume-lettered.txt'))).toEqual([
      { number: 0, selected: false, letter: 'D:', label: '', fileSystem: 'NTFS', type: 'Partition', sizeText: '103 GB', sizeBytes: 103n * GiB, status: 'Healthy', info: '' },
      { number: 1, selected: false, letter: 'C:', label: '', fileSystem: 'NTFS', type: 'Partition', sizeText: '49 GB', sizeBytes: 49n * GiB, status: 'Healthy', info: 'Boot' },
      { number: 2, selected: false, letter: 'S:', label: '', fileSystem: 'FAT32', type: 'Partition', sizeText: '200 MB', sizeBytes: 200n * MiB, status: 'Healthy', info: 'System' },
    ]);
  });

  it('skips blank lines between rows and keeps labels with spaces', () => {
    const volumes = parseListVolume(toolOutput('diskpart__list-volume__winre-boot-system-doc-blank-lines.txt'));
    expect(volumes.map((v) => [v.number, v.letter, v.label, v.fileSystem, v.sizeBytes, v.info])).toEqual([
      [0, undefined, 'Windows RE', 'NTFS', 499n * MiB, ''],
      [1, 'C:', 'OSDisk', 'NTFS', 222n * GiB, 'Boot'],
      [2, undefined, 'SYSTEM', 'FAT32', 499n * MiB, 'System'],
    ]);
  });

  it('returns nothing for output without a table', () => {
    expect(parseListVolume('\nThere are no volumes.\n')).toEqual([]);
  });
});

describe('parseDetailDisk', () => {
  it('reads the model, MBR disk ID, bus type, flags and the volume table', () => {
    const detail = parseDetailDisk(toolOutput('diskpart__detail-disk__ata-boot-disk.txt'));
    expect(detail.model).toBe('HITACHI HTS722016K9SA00');
    expect(detail.diskId).toEqual({ style: 'mbr', signature: 0x5e27161a });
    expect(detail.busType).toBe('ATA');
    expect(detail.locationPath).toBe('PCIROOT(0)#PCI(0100)#ATA(C00T00L00)');
    expect(detail.bootDisk).toBe(true);
    expect(detail.readOnly).toBe(false);
    expect(detail.properties['PagefileDisk']).toBe('Yes');
    expect(detail.properties['LUN ID']).toBe('0');
    expect(Object.keys(detail.properties)).toHaveLength(12);
    expect(detail.volumes).toEqual([
      { number: 1, selected: false, letter: 'C:', label: '', fileSystem: 'NTFS', type: 'Partition', sizeText: '149 GB', sizeBytes: 149n * GiB, status: 'Healthy', info: 'System' },
    ]);
  });

  it('reads a GPT disk ID', () => {
    expect(parseDiskId('{A1B2C3D4-0000-4000-8000-00112233AABB}')).toEqual({ style: 'gpt', guid: 'a1b2c3d4-0000-4000-8000-00112233aabb' });
    expect(parseDiskId('00000000')).toEqual({ style: 'mbr', signature: 0 });
    expect(parseDiskId('xyz')).toBeUndefined();
  });
});

describe('diskpart failure detection', () => {
  // Wording of diskpart's en-US failure messages; the banner lines are what the parser keys on.
  const vdsError = 'Microsoft DiskPart version 10.0.19041.964\r\n\r\nDisk 0 is now the selected disk.\r\n\r\nVirtual Disk Service error:\r\nThe size of the extent is less than the minimum of 1MB.\r\n\r\n';
  const dpError = '\r\nDiskPart has encountered an error: The parameter is incorrect.\r\nSee the System Event Log for more information.\r\n';

  it('finds the VDS banner with its message on the next line', () => {
    expect(diskpartErrors(vdsError)).toEqual(['Virtual Disk Service error: The size of the extent is less than the minimum of 1MB.']);
  });

  it('counts failure text as failure even with exit code 0 (noerr)', () => {
    expect(diskpartOutcome({ exitCode: 0, stdout: dpError })).toEqual({
      ok: false, exitCode: 0, exitMeaning: 'no error', errors: ['DiskPart has encountered an error: The parameter is incorrect.'],
    });
  });

  it('explains the documented exit codes and accepts clean output', () => {
    expect(diskpartOutcome({ exitCode: 4, stdout: '' })).toMatchObject({ ok: false, exitMeaning: 'a service DiskPart uses (VDS) returned a failure' });
    expect(diskpartOutcome({ exitCode: 0, stdout: toolOutput('diskpart__list-disk__single-gpt-disk.txt') })).toEqual({ ok: true, exitCode: 0, exitMeaning: 'no error', errors: [] });
    expect(diskpartOutcome({ exitCode: 77, stdout: '' }).exitMeaning).toBeUndefined();
  });
});
