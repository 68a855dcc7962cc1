/**
 * What wine cannot show, run on real Windows or WinPE against a scratch VHD (see
 * docs/windows-adapter.md, "Disk layer: manual checks"): the BlockDevice contract on
 * \\.\PhysicalDriveN with unbuffered I/O, the Vista+ write refusal and the lock/dismount recipe,
 * CREATE_DISK + SET_DRIVE_LAYOUT_EX for GPT and for MBR with logical partitions (read back with our
 * codecs and through IOCTL_DISK_GET_DRIVE_LAYOUT_EX), the inventory and GetFirmwareType.
 *
 *   set LIFELINE_SCRATCH_DISK=<N of an attached 8 MiB fixed VHD>
 *   npx vitest run test/unit/adapters/win32/physical-drive-windows.test.ts
 *
 * DESTROYS the contents of disk N (and leaves the MBR layout of the last disk test on it). It refuses
 * to run unless disk N is a file-backed virtual disk of at most 64 MiB. Skipped everywhere else.
 */
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ChildProcessRunner } from '../../../../src/adapters/node/child-process-runner.ts';
import { Win32DiskInventory } from '../../../../src/adapters/win32/disk-inventory.ts';
import { detectFirmware } from '../../../../src/adapters/win32/firmware.ts';
import { applyPartitionTable } from '../../../../src/adapters/win32/layout-apply.ts';
import { PhysicalDrive } from '../../../../src/adapters/win32/physical-drive.ts';
import { diskpartScript, runDiskpart } from '../../../../src/adapters/win32/tools/diskpart.ts';
import { Win32BlockDeviceOpener } from '../../../../src/adapters/win32/win32-opener.ts';
import { makeMbrEntry } from '../../../../src/core/partition/mbr.ts';
import type { GptTable, MbrTable } from '../../../../src/core/partition/types.ts';
import { describeBlockDevice, firstDifference, randomBytes } from '../../../contract/block-device.contract.ts';
import type { BlockDeviceSubject } from '../../../contract/block-device.contract.ts';

const SCRATCH = process.env.LIFELINE_SCRATCH_DISK;
const skip = process.platform !== 'win32' ? 'Windows only' : SCRATCH === undefined ? 'set LIFELINE_SCRATCH_DISK=<N> (an attached 8 MiB fixed VHD)' : undefined;
const number = Number(SCRATCH ?? -1);
const PATH = `\\\\.\\PhysicalDrive${number}`;
const MAX_SCRATCH_BYTES = 64n * 1024n * 1024n;
const runner = new ChildProcessRunner();

let guard: Promise<bigint> | undefined;

/** The disk's size, after making sure it is a small VHD and wiping its partitions (diskpart clean). */
function scratchDisk(): Promise<bigint> {
  guard ??= (async () => {
    const disk = (await new Win32DiskInventory({ runner }).listDisks()).find((d) => d.number === number);
    if (disk === undefined || disk.busType !== 'FileBackedVirtual' || disk.geometry.sizeBytes > MAX_SCRATCH_BYTES || disk.holdsBootMedia) {
      throw new Error(`refusing to write disk ${number}: it is not a small file-backed VHD (${JSON.stringify(disk, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))})`);
    }
    return disk.geometry.sizeBytes;
  })();
  return guard;
}

async function clean(): Promise<void> {
  await runDiskpart(runner, diskpartScript([{ op: 'select-disk', disk: number }, { op: 'clean' }]));
}

/** Reads or zeroes the whole disk through node's own handle (not the adapter). */
function wholeDisk(size: bigint, zero: boolean): Uint8Array {
  const fd = openSync(PATH, zero ? 'r+' : 'r');
  try {
    const out = new Uint8Array(Number(size));
    const chunk = 1024 * 1024;
    for (let at = 0; at < out.length; at += chunk) {
      const piece = out.subarray(at, Math.min(out.length, at + chunk));
      if (zero) writeSync(fd, piece, 0, piece.length, at);
      else readSync(fd, piece, 0, piece.length, at);
    }
    return out;
  } finally {
    closeSync(fd);
  }
}

async function subject(): Promise<BlockDeviceSubject> {
  const size = await scratchDisk();
  await clean();
  wholeDisk(size, true);
  return {
    opener: new Win32BlockDeviceOpener(),
    path: PATH,
    // A .vhd reports 512-byte logical and physical sectors.
    expected: { sizeBytes: size, logicalSectorSize: 512, physicalSectorSize: 512 },
    missingPath: '\\\\.\\PhysicalDrive63',
    exists: async (p) => {
      try {
        closeSync(openSync(p, 'r'));
        return true;
      } catch {
        return false;
      }
    },
    backingSize: async () => size,
    durableSha256: async () => createHash('sha256').update(wholeDisk(size, false)).digest('hex'),
    cleanup: async () => undefined,
  };
}

describeBlockDevice(`PhysicalDrive on ${PATH} (real Windows)`, subject, skip === undefined ? {} : { skip });

describe.skipIf(skip !== undefined)(`Windows disk layer on ${PATH} (real Windows)`, () => {
  it('refuses a raw write into a mounted volume, and allows it once PhysicalDrive locked the volume', async () => {
    await scratchDisk();
    await runDiskpart(runner, diskpartScript([
      { op: 'select-disk', disk: number }, { op: 'clean' }, { op: 'convert', style: 'mbr' },
      { op: 'create-partition', kind: 'primary' }, { op: 'format', fs: 'fat', quick: true, label: 'LIFELINE' },
    ]));
    const inside = 1024n * 1024n; // diskpart's first partition starts at 1 MiB
    const fd = openSync(PATH, 'r+');
    let refused = false;
    try {
      writeSync(fd, new Uint8Array(512).fill(0x5a), 0, 512, Number(inside) + 64 * 1024);
    } catch {
      refused = true;
    } finally {
      closeSync(fd);
    }
    expect(refused, 'Windows let a raw write into a mounted volume through').toBe(true);
    const device = await PhysicalDrive.open(PATH, { writable: true });
    try {
      const data = randomBytes(4096, 77);
      await device.write(inside + 64n * 1024n, data);
      await device.flush();
      expect(firstDifference(await device.read(inside + 64n * 1024n, 4096), data)).toBe(-1);
    } finally {
      await device.close();
      await clean();
    }
  });

  it('writes a GPT with Windows\' IOCTLs and reads it back (our codecs and GET_DRIVE_LAYOUT_EX)', async () => {
    const size = await scratchDisk();
    const last = size / 512n - 1n;
    const table: GptTable = {
      style: 'gpt', sectorSize: 512, diskGuid: '5d1e2f30-4a5b-4c6d-8e7f-901a2b3c4d5e', firstUsableLba: 34n, lastUsableLba: last - 33n, numberOfEntries: 128, sizeOfEntry: 128,
      partitions: [
        { number: 1, typeGuid: 'c12a7328-f81f-11d2-ba4b-00a0c93ec93b', uniqueGuid: '0c1d2e3f-0001-4a4b-8c8d-000000000001', firstLba: 2048n, lastLba: 6143n, attributes: 0n, name: 'EFI system partition' },
        { number: 2, typeGuid: 'de94bba4-06d1-4d40-a16a-bfd50179d6ac', uniqueGuid: '0c1d2e3f-0002-4a4b-8c8d-000000000002', firstLba: 6144n, lastLba: 10239n, attributes: 0x8000000000000001n, name: 'Recovery' },
      ],
    };
    await clean();
    const device = await PhysicalDrive.open(PATH, { writable: true });
    try {
      const result = await applyPartitionTable(device, table);
      expect(result.steps).toEqual(['create-disk', 'set-drive-layout', 'update-properties', 'flush', 'read-back']);
      console.info(`GPT apply warnings: ${JSON.stringify(result.warnings)}`);
    } finally {
      await device.close();
    }
    const disk = (await new Win32DiskInventory().listDisks()).find((d) => d.number === number);
    expect([disk?.style, disk?.diskId, disk?.partitions.map((p) => p.uniqueGuid)]).toEqual(['gpt', table.diskGuid, table.partitions.map((p) => p.uniqueGuid)]);
  });

  it('writes an MBR with an extended partition and two logical ones the same way', async () => {
    await scratchDisk();
    const entry = (n: number, type: number, start: bigint, count: bigint, status = 0) => makeMbrEntry({ number: n, type, startLba: start, sectorCount: count, status });
    const table: MbrTable = {
      style: 'mbr', bootCode: new Uint8Array(440).fill(0x90), diskSignature: 0x4c1f3e2d, reserved: 0, bootSignatureValid: true,
      primary: [entry(1, 0x07, 2048n, 2048n, 0x80), entry(2, 0x0f, 4096n, 8192n), entry(3, 0, 0n, 0n), entry(4, 0, 0n, 0n)],
      logical: [entry(5, 0x07, 6144n, 2048n), entry(6, 0x0b, 10240n, 2048n)],
      ebrLbas: [4096n, 8192n],
    };
    await clean();
    const device = await PhysicalDrive.open(PATH, { writable: true });
    try {
      const result = await applyPartitionTable(device, table);
      expect(result.steps).toEqual(['create-disk', 'set-drive-layout', 'boot-code', 'update-properties', 'flush', 'read-back']);
    } finally {
      await device.close();
    }
    const disk = (await new Win32DiskInventory().listDisks()).find((d) => d.number === number);
    expect([disk?.style, disk?.diskId, disk?.partitions.map((p) => [p.number, p.startLba, p.logical])]).toEqual([
      'mbr', '4c1f3e2d', [[1, 2048n, false], [5, 6144n, true], [6, 10240n, true]],
    ]);
    // Left in place for the diskpart cross-check in docs/windows-adapter.md.
  });

  it('tells BIOS from UEFI through GetFirmwareType', async () => {
    const found = await detectFirmware({ runner, updateBootInfo: false });
    expect(found.source).toBe('GetFirmwareType');
    console.info(`firmware: ${found.firmware}`);
  });
});
