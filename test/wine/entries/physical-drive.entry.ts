/**
 * Runs under wine with a Windows node.exe (bundled by test/wine/harness.ts, `vitest` replaced by
 * mini-vitest): the shared BlockDevice contract against PhysicalDrive on image files, through the
 * real CreateFileW / ReadFile / WriteFile / FlushFileBuffers / VirtualAlloc of wine's kernel32,
 * plus the open-time refusals that need no disk. Writes a JSON report to the path in argv[2].
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import koffi from 'koffi';
import { isRecoveryError } from '../../../src/core/errors.ts';
import type { SectorSize } from '../../../src/core/units.ts';
import { ChildProcessRunner } from '../../../src/adapters/node/child-process-runner.ts';
import { Win32DiskInventory } from '../../../src/adapters/win32/disk-inventory.ts';
import { detectFirmware } from '../../../src/adapters/win32/firmware.ts';
import {
  FILE_SHARE_READ, FILE_SHARE_WRITE, GENERIC_READ, OPEN_EXISTING, Win32CallError, allocAligned, freeAligned, kernel32, readWideStrings, wideBuffer,
} from '../../../src/adapters/win32/kernel32.ts';
import { PhysicalDrive } from '../../../src/adapters/win32/physical-drive.ts';
import { IOCTL } from '../../../src/adapters/win32/structs.ts';
import { listVolumes } from '../../../src/adapters/win32/volumes.ts';
import { Win32BlockDeviceOpener } from '../../../src/adapters/win32/win32-opener.ts';
import { describeBlockDevice } from '../../contract/block-device.contract.ts';
import type { BlockDeviceSubject } from '../../contract/block-device.contract.ts';
import { describe, expect, it, runCollected } from '../mini-vitest.ts';

const DISK_BYTES = 8n * 1024n * 1024n;

function imageSubject(sector: SectorSize) {
  return async (): Promise<BlockDeviceSubject> => {
    const dir = mkdtempSync(join(tmpdir(), 'lifeline-wine-'));
    const image = join(dir, 'disk.img');
    // An all-zero image of DISK_BYTES, made with node's own fs (not the adapter).
    writeFileSync(image, '');
    truncateSync(image, Number(DISK_BYTES));
    return {
      opener: new Win32BlockDeviceOpener(),
      path: image,
      logicalSectorSize: sector,
      expected: { sizeBytes: DISK_BYTES, logicalSectorSize: sector, physicalSectorSize: sector },
      missingPath: join(dir, 'missing.img'),
      exists: async (path) => existsSync(path),
      backingSize: async () => BigInt(statSync(image).size),
      durableSha256: async () => createHash('sha256').update(readFileSync(image)).digest('hex'),
      cleanup: async () => rmSync(dir, { recursive: true, force: true }),
    };
  };
}

describeBlockDevice('PhysicalDrive on an image file, 512-byte sectors', imageSubject(512));
describeBlockDevice('PhysicalDrive on an image file, 4096-byte sectors', imageSubject(4096));

async function codeOf(promise: Promise<unknown>): Promise<string> {
  const outcome = await promise.then(() => 'resolved', (e: unknown) => e);
  return isRecoveryError(outcome) ? outcome.code : String(outcome);
}

const info: Record<string, unknown> = {};

describe('kernel32 through koffi (win32 specifics)', () => {
  it('refuses what is not a whole disk or an image file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lifeline-wine-'));
    try {
      mkdirSync(join(dir, 'folder'));
      expect(await codeOf(PhysicalDrive.open(join(dir, 'folder'), { writable: false }))).toBe('device.not-a-disk');
      expect(await codeOf(PhysicalDrive.open('\\\\.\\C:', { writable: false }))).toBe('device.not-a-disk');
      expect(await codeOf(PhysicalDrive.open('\\\\?\\Volume{00000000-0000-0000-0000-000000000000}', { writable: false }))).toBe('device.not-a-disk');
      expect(await codeOf(PhysicalDrive.open(join(dir, 'no', 'such', 'disk.img'), { writable: true }))).toBe('device.not-found');
      expect(existsSync(join(dir, 'no'))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('answers a missing \\\\.\\PhysicalDrive with device.not-found', async () => {
    info.physicalDrive99 = await codeOf(PhysicalDrive.open('\\\\.\\PhysicalDrive99', { writable: false }));
    expect(info.physicalDrive99).toBe('device.not-found');
  });

  it('gets page-aligned buffers from VirtualAlloc and can use them through koffi.view', () => {
    const k = kernel32();
    const buffer = allocAligned(k, 1 << 20);
    try {
      expect(Number(buffer.address % 4096n)).toBe(0);
      buffer.bytes.fill(0x5a);
      expect(koffi.decode(buffer.address, 'uint8_t')).toBe(0x5a);
    } finally {
      freeAligned(k, buffer);
    }
  });

  it('reports a disk IOCTL on a file handle as a Win32 error with its code', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lifeline-wine-'));
    const image = join(dir, 'disk.img');
    writeFileSync(image, new Uint8Array(4096));
    const device = await PhysicalDrive.open(image, { writable: false });
    try {
      const outcome = await device.ioctl(IOCTL.DISK_GET_LENGTH_INFO, null, 8).then(() => undefined, (e: unknown) => e);
      expect(outcome instanceof Win32CallError, String(outcome)).toBe(true);
      info.fileIoctlError = (outcome as Win32CallError).win32Error;
    } finally {
      await device.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('records which optional kernel32 exports exist', () => {
    info.getFirmwareType = kernel32().GetFirmwareType === undefined ? 'missing' : 'present';
    expect(['missing', 'present']).toContain(info.getFirmwareType);
  });

  it('enumerates volumes (FindFirstVolumeW, GetVolumePathNamesForVolumeNameW) and disks without failing', async () => {
    const volumes = listVolumes(kernel32());
    info.volumes = volumes.map((v) => ({ name: v.name, mountPoints: v.mountPoints, extents: v.extents.length }));
    for (const v of volumes) expect(v.name).toMatch(/^\\\\\?\\Volume\{[0-9a-f-]{36}\}\\$/i);
    const disks = await new Win32DiskInventory({ runner: new ChildProcessRunner() }).listDisks();
    info.disks = disks.map((d) => ({ number: d.number, path: d.path, size: String(d.geometry.sizeBytes), style: d.style, bus: d.busType }));
    expect(Array.isArray(disks)).toBe(true);
  });

  it('lists drive letters and resolves one to its volume (GetLogicalDriveStringsW, GetVolumeNameForVolumeMountPointW)', () => {
    const k = kernel32();
    const buffer = wideBuffer(512);
    const chars = k.GetLogicalDriveStringsW(256, buffer);
    expect(chars).toBeGreaterThan(0);
    const drives = readWideStrings(buffer);
    info.logicalDrives = drives;
    expect(drives).toContain('C:\\');
    const volume = wideBuffer(64);
    expect(k.GetVolumeNameForVolumeMountPointW('C:\\', volume, 64)).toBe(true);
    const name = readWideStrings(volume)[0];
    expect(listVolumes(k).find((v) => v.mountPoints.includes('C:\\'))?.name).toBe(name);
  });

  it('moves the file pointer with SetFilePointerEx (the positional calls never use it)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lifeline-wine-'));
    const image = join(dir, 'disk.img');
    writeFileSync(image, new Uint8Array(12288));
    const k = kernel32();
    const handle = k.CreateFileW(image, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE, null, OPEN_EXISTING, 0, 0);
    try {
      expect(handle).not.toBe(-1);
      const position = [0n];
      expect(k.SetFilePointerEx(handle, 0n, position, 2 /* FILE_END */)).toBe(true);
      expect(BigInt(position[0]!)).toBe(12288n);
    } finally {
      k.CloseHandle(handle);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('opens wine\'s \\\\.\\PhysicalDrive0 read-only, unbuffered, when wine offers one (recorded, not required)', async () => {
    const opened = await PhysicalDrive.open('\\\\.\\PhysicalDrive0', { writable: false }).then((d) => d, (e: unknown) => e);
    if (!(opened instanceof PhysicalDrive)) {
      info.physicalDrive0 = isRecoveryError(opened) ? opened.code : String(opened);
      return;
    }
    try {
      const sector = opened.geometry.logicalSectorSize;
      const first = await opened.read(0n, sector).then((b) => b.length, (e: unknown) => (isRecoveryError(e) ? e.code : String(e)));
      info.physicalDrive0 = { geometry: { ...opened.geometry, sizeBytes: String(opened.geometry.sizeBytes) }, readOnly: opened.readOnly, firstSectorRead: first };
      expect(opened.readOnly).toBe(true);
    } finally {
      await opened.close();
    }
  });

  it('falls back from GetFirmwareType to wpeutil + reg query, and says why when neither answers', async () => {
    const outcome = await detectFirmware({ runner: new ChildProcessRunner() }).then((r) => r, (e: unknown) => e);
    info.firmware = isRecoveryError(outcome) ? { code: outcome.code, notes: outcome.data.notes } : outcome;
    if (kernel32().GetFirmwareType === undefined) {
      // wine 8: no GetFirmwareType, no wpeutil, no PEFirmwareType value.
      expect(isRecoveryError(outcome) ? outcome.code : 'resolved').toBe('firmware.unknown');
      expect(String((outcome as { data: { notes: unknown } }).data.notes)).toContain('PEFirmwareType');
    }
  });
});

async function main(): Promise<void> {
  const out = process.argv[2];
  if (out === undefined) throw new Error('usage: node bundle.cjs <result.json>');
  const started = performance.now();
  const tests = await runCollected();
  const report = {
    node: process.version, platform: process.platform, arch: process.arch, koffi: (koffi as { version?: string }).version,
    ms: Math.round(performance.now() - started), tests, info,
  };
  writeFileSync(out, JSON.stringify(report, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2));
}

main().catch((e: unknown) => {
  const out = process.argv[2];
  if (out !== undefined) writeFileSync(out, JSON.stringify({ fatal: e instanceof Error ? `${e.message}\n${e.stack ?? ''}` : String(e) }));
  process.exitCode = 1;
});
