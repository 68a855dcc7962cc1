/**
 * The Windows pieces the VSS snapshotter reads through, over the scripted kernel32
 * (fake-kernel32.ts): PhysicalDrive.openSnapshotVolume on a shadow copy device, and the machine
 * facts (volumes, filesystems, boot volume, fixed disks) gathered before VSS is asked anything.
 */
import { describe, expect, it } from 'vitest';
import { PhysicalDrive } from '../../../../../src/adapters/win32/physical-drive.ts';
import { gatherMachineFacts } from '../../../../../src/adapters/win32/vss/volume-facts.ts';
import { isRecoveryError } from '../../../../../src/core/errors.ts';
import type { DiskInfo } from '../../../../../src/ports/disk-inventory.ts';
import { FakeKernel32 } from '../fake-kernel32.ts';

const SHADOW = '\\\\?\\GLOBALROOT\\Device\\HarddiskVolumeShadowCopy12';
const MiB = 1024 * 1024;

function leakCheck(fake: FakeKernel32): void {
  expect(fake.openHandles(), 'handles left open').toEqual([]);
  expect(fake.frees, 'VirtualAlloc buffers not freed').toBe(fake.allocations);
}

async function code(promise: Promise<unknown>): Promise<string> {
  const outcome = await promise.then(() => undefined, (e: unknown) => e);
  expect(isRecoveryError(outcome), String(outcome)).toBe(true);
  return (outcome as { code: string }).code;
}

describe('PhysicalDrive.openSnapshotVolume', () => {
  it('opens a shadow copy read-only, sized by IOCTL_DISK_GET_LENGTH_INFO in the disk\'s sectors, and reads the frozen bytes', async () => {
    const fake = new FakeKernel32();
    const bytes = new Uint8Array(2 * MiB + 700);
    bytes.fill(0x5a, MiB, MiB + 4096);
    fake.shadows.set(SHADOW, bytes);
    const volume = await PhysicalDrive.openSnapshotVolume(SHADOW, 512, { kernel: fake.kernel });
    expect(volume.geometry).toEqual({ sizeBytes: BigInt(2 * MiB + 512), logicalSectorSize: 512, physicalSectorSize: 512 });
    expect(volume.readOnly).toBe(true);
    expect([...new Set(await volume.read(BigInt(MiB), 4096))]).toEqual([0x5a]);
    expect(await code(volume.write(0n, new Uint8Array(512)))).toBe('device.read-only');
    expect(fake.log).toContain(`CreateFileW ${SHADOW} r`);
    expect(fake.log.some((l) => l.startsWith('IOCTL 0x90083 '))).toBe(true); // FSCTL_ALLOW_EXTENDED_DASD_IO
    await volume.close();
    leakCheck(fake);
  });

  it('refuses other paths, and closes the handle when the device will not say its length', async () => {
    const fake = new FakeKernel32();
    expect(await code(PhysicalDrive.openSnapshotVolume('\\\\.\\PhysicalDrive0', 512, { kernel: fake.kernel }))).toBe('device.not-a-disk');
    expect(await code(PhysicalDrive.openSnapshotVolume('\\\\?\\Volume{aaaaaaaa-0000-0000-0000-000000000001}', 512, { kernel: fake.kernel }))).toBe('device.not-a-disk');
    expect(await code(PhysicalDrive.openSnapshotVolume(SHADOW, 512, { kernel: fake.kernel }))).toBe('device.not-found');
    fake.shadows.set(SHADOW, new Uint8Array(MiB));
    fake.shadowsWithoutLength.add(SHADOW);
    expect(await code(PhysicalDrive.openSnapshotVolume(SHADOW, 512, { kernel: fake.kernel }))).toBe('device.io-error');
    leakCheck(fake);
  });
});

describe('gatherMachineFacts', () => {
  it('lists volumes with filesystem and extents, finds the boot volume by %SystemRoot%, keeps fixed disks only', async () => {
    const fake = new FakeKernel32();
    fake.volumes.push(
      { name: '\\\\?\\Volume{AAAAAAAA-0000-4000-8000-000000000001}\\', mountPoints: [], filesystem: 'FAT32', extents: [{ diskNumber: 0, offsetBytes: 1048576n, lengthBytes: 104857600n }] },
      { name: '\\\\?\\Volume{aaaaaaaa-0000-4000-8000-000000000002}\\', mountPoints: ['C:\\'], filesystem: 'NTFS', extents: [{ diskNumber: 0, offsetBytes: 122683392n, lengthBytes: 1073741824n }] },
      { name: '\\\\?\\Volume{aaaaaaaa-0000-4000-8000-000000000003}\\', mountPoints: ['X:\\'], extents: [] },
    );
    const inventory = { listDisks: async () => [{ number: 0, removable: false }, { number: 1, removable: true }, { number: 2, removable: false }] as DiskInfo[] };
    const facts = await gatherMachineFacts({ kernel: fake.kernel, inventory, systemRoot: 'c:\\windows' });
    expect(facts).toEqual({
      volumes: [
        { guid: 'aaaaaaaa-0000-4000-8000-000000000001', name: '\\\\?\\Volume{AAAAAAAA-0000-4000-8000-000000000001}\\', mountPoints: [], filesystem: 'fat32', extents: [{ diskNumber: 0, offsetBytes: 1048576n, lengthBytes: 104857600n }] },
        { guid: 'aaaaaaaa-0000-4000-8000-000000000002', name: '\\\\?\\Volume{aaaaaaaa-0000-4000-8000-000000000002}\\', mountPoints: ['C:\\'], filesystem: 'ntfs', extents: [{ diskNumber: 0, offsetBytes: 122683392n, lengthBytes: 1073741824n }] },
        { guid: 'aaaaaaaa-0000-4000-8000-000000000003', name: '\\\\?\\Volume{aaaaaaaa-0000-4000-8000-000000000003}\\', mountPoints: ['X:\\'], filesystem: '', extents: [] },
      ],
      fixedDisks: [0, 2],
      bootVolumeGuid: 'aaaaaaaa-0000-4000-8000-000000000002',
    });
    leakCheck(fake);
  });
});
