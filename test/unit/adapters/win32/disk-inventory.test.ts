/**
 * Win32DiskInventory over a scripted kernel32 (fake-kernel32.ts): a WinPE-like machine with a GPT
 * system disk, the USB stick WinPE booted from and an offline, write-protected NVMe disk; and the
 * boot-media evidence rules on their own.
 */
import { describe, expect, it } from 'vitest';
import { Win32DiskInventory, bootMediaDisks, driveRootOf } from '../../../../src/adapters/win32/disk-inventory.ts';
import { driveLayoutFor, encodeDriveLayout } from '../../../../src/adapters/win32/layout-writer.ts';
import type { VolumeInfo } from '../../../../src/adapters/win32/volumes.ts';
import { makeMbrEntry } from '../../../../src/core/partition/mbr.ts';
import type { GptTable, MbrTable } from '../../../../src/core/partition/types.ts';
import { FakeKernel32 } from './fake-kernel32.ts';
import { ScriptedRunner, exit, ok } from './fake-runner.ts';

const MiB = 1024 * 1024;
const GPT: GptTable = {
  style: 'gpt', sectorSize: 512, diskGuid: '5d1e2f30-4a5b-4c6d-8e7f-901a2b3c4d5e', firstUsableLba: 34n, lastUsableLba: 131038n, numberOfEntries: 128, sizeOfEntry: 128,
  partitions: [
    { number: 1, typeGuid: 'c12a7328-f81f-11d2-ba4b-00a0c93ec93b', uniqueGuid: '0c1d2e3f-0001-4a4b-8c8d-000000000001', firstLba: 2048n, lastLba: 22527n, attributes: 0n, name: 'EFI system partition' },
    { number: 2, typeGuid: 'ebd0a0a2-b9e5-4433-87c0-68b6b72699c7', uniqueGuid: '0c1d2e3f-0002-4a4b-8c8d-000000000002', firstLba: 22528n, lastLba: 129023n, attributes: 0n, name: 'Basic data partition' },
  ],
};
const STICK: MbrTable = {
  style: 'mbr', bootCode: new Uint8Array(440), diskSignature: 0x0badcafe, reserved: 0, logical: [], ebrLbas: [], bootSignatureValid: true,
  primary: [makeMbrEntry({ number: 1, type: 0x0c, startLba: 2048n, sectorCount: 63488n, status: 0x80 }), ...[2, 3, 4].map((n) => makeMbrEntry({ number: n, type: 0, startLba: 0n, sectorCount: 0n }))],
};
const C_VOLUME = '\\\\?\\Volume{11111111-0000-0000-0000-000000000001}\\';
const E_VOLUME = '\\\\?\\Volume{11111111-0000-0000-0000-000000000002}\\';
const X_VOLUME = '\\\\?\\Volume{11111111-0000-0000-0000-000000000003}\\';

function machine() {
  const fake = new FakeKernel32();
  fake.addDisk({ number: 0, bytes: new Uint8Array(64 * MiB), logicalSectorSize: 512, physicalSectorSize: 4096, vendor: 'ATA', product: 'Samsung SSD 870', serial: 'S5Y2NX0R123456', busType: 0x0b, layout: encodeDriveLayout(driveLayoutFor(GPT, 512)) });
  fake.addDisk({ number: 1, bytes: new Uint8Array(32 * MiB), logicalSectorSize: 512, vendor: 'SanDisk', product: 'Cruzer Blade', serial: '4C530001', busType: 0x07, removable: true, layout: encodeDriveLayout(driveLayoutFor(STICK, 512)) });
  fake.addDisk({ number: 3, bytes: new Uint8Array(16 * MiB), logicalSectorSize: 4096, product: 'NVMe QEMU', busType: 0x11, offline: true, writeProtected: true });
  fake.volumes.push(
    { name: C_VOLUME, mountPoints: ['C:\\'], extents: [{ diskNumber: 0, offsetBytes: 22528n * 512n, lengthBytes: 106496n * 512n }] },
    { name: E_VOLUME, mountPoints: ['E:\\', 'C:\\mnt\\stick\\'], extents: [{ diskNumber: 1, offsetBytes: 2048n * 512n, lengthBytes: 63488n * 512n }] },
    { name: X_VOLUME, mountPoints: ['X:\\'], extents: [] },
  );
  return fake;
}

describe('Win32DiskInventory (scripted kernel32)', () => {
  it('lists every disk with geometry, bus, identity, partitions, mount points and state', async () => {
    const fake = machine();
    const inventory = new Win32DiskInventory({ kernel: fake.kernel, fileExists: (p) => p === 'E:\\sources\\boot.wim', programPath: 'X:\\Windows\\System32\\lifeline.exe' });
    const disks = await inventory.listDisks();
    expect(disks.map((d) => ({ ...d, partitions: d.partitions.map((p) => [p.number, p.startLba, p.sectorCount, p.typeName, p.volume, p.mountPoints]) }))).toEqual([
      {
        number: 0, path: '\\\\.\\PhysicalDrive0', geometry: { sizeBytes: BigInt(64 * MiB), logicalSectorSize: 512, physicalSectorSize: 4096 },
        busType: 'SATA', model: 'ATA Samsung SSD 870', serial: 'S5Y2NX0R123456', removable: false, style: 'gpt', diskId: GPT.diskGuid,
        partitions: [[1, 2048n, 20480n, 'EFI System', undefined, []], [2, 22528n, 106496n, 'Basic data', C_VOLUME, ['C:\\']]],
        holdsBootMedia: false, readOnly: false, offline: false,
      },
      {
        number: 1, path: '\\\\.\\PhysicalDrive1', geometry: { sizeBytes: BigInt(32 * MiB), logicalSectorSize: 512, physicalSectorSize: 512 },
        busType: 'USB', model: 'SanDisk Cruzer Blade', serial: '4C530001', removable: true, style: 'mbr', diskId: '0badcafe',
        partitions: [[1, 2048n, 63488n, 'FAT32 (LBA)', E_VOLUME, ['E:\\', 'C:\\mnt\\stick\\']]],
        holdsBootMedia: true, bootMediaReason: 'E:\\sources\\boot.wim', readOnly: false, offline: false,
      },
      {
        number: 3, path: '\\\\.\\PhysicalDrive3', geometry: { sizeBytes: BigInt(16 * MiB), logicalSectorSize: 4096, physicalSectorSize: 4096 },
        busType: 'NVMe', model: 'NVMe QEMU', serial: '', removable: false, style: 'raw', partitions: [],
        holdsBootMedia: false, readOnly: true, offline: true,
      },
    ]);
    expect(fake.openHandles()).toEqual([]);
  });

  it('takes PEBootRamdiskSourceDrive from the registry as evidence', async () => {
    const runner = new ScriptedRunner((call) => (call.args.includes('PEBootRamdiskSourceDrive')
      ? ok('\r\nHKEY_LOCAL_MACHINE\\System\\CurrentControlSet\\Control\r\n    PEBootRamdiskSourceDrive    REG_SZ    E:\\\r\n\r\n')
      : exit(1, '', 'ERROR: The system was unable to find the specified registry key or value.')));
    const disks = await new Win32DiskInventory({ kernel: machine().kernel, runner, fileExists: () => false, programPath: 'X:\\lifeline.exe' }).listDisks();
    expect(disks.filter((d) => d.holdsBootMedia).map((d) => [d.number, d.bootMediaReason])).toEqual([[1, 'PEBootRamdiskSourceDrive is E:\\']]);
    expect(runner.calls.map((c) => [c.file, ...c.args])).toEqual([['reg.exe', 'query', 'HKLM\\System\\CurrentControlSet\\Control', '/v', 'PEBootRamdiskSourceDrive']]);
  });

  it('marks the disk the program runs from, and keeps listing when reg fails', async () => {
    const runner = new ScriptedRunner(() => exit(1, '', 'ERROR: Access is denied.'));
    const disks = await new Win32DiskInventory({ kernel: machine().kernel, runner, fileExists: () => false, programPath: 'c:\\lifeline\\lifeline.exe' }).listDisks();
    expect(disks.map((d) => [d.number, d.holdsBootMedia, d.bootMediaReason])).toEqual([[0, true, 'the program runs from C:\\'], [1, false, undefined], [3, false, undefined]]);
  });
});

describe('boot media evidence', () => {
  const volumes: VolumeInfo[] = [
    { name: 'a', mountPoints: ['F:\\'], extents: [{ diskNumber: 2, offsetBytes: 0n, lengthBytes: 1n }, { diskNumber: 5, offsetBytes: 0n, lengthBytes: 1n }] },
    { name: 'b', mountPoints: ['X:\\'], extents: [] },
  ];

  it('marks every disk under a spanned volume, matches mount points loosely, ignores volumes without extents', () => {
    expect([...bootMediaDisks(volumes, { bootWimAt: ['f:'] })]).toEqual([[2, 'f:\\sources\\boot.wim'], [5, 'f:\\sources\\boot.wim']]);
    expect([...bootMediaDisks(volumes, { bootWimAt: [], programDrive: 'X:\\' })]).toEqual([]);
    expect([...bootMediaDisks(volumes, { bootWimAt: [], ramdiskSource: 'Q:\\' })]).toEqual([]);
  });

  it('finds the drive root of a program path', () => {
    expect([driveRootOf('d:\\tools\\lifeline.exe'), driveRootOf('\\\\server\\share\\x.exe'), driveRootOf('lifeline.exe')]).toEqual(['D:\\', undefined, undefined]);
  });
});
