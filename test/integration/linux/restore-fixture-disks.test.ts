/**
 * The restore engine on Windows-like fixture disks built with the real tools and backed up by the
 * backup engine into the strict in-memory server, restored onto image files (and a loop device when
 * root), then checked with sgdisk -v, sfdisk --dump, fsck.vfat -n, ntfsfix -n, ntfscat and mcopy.
 */
import { createHash } from 'node:crypto';
import { open, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LinuxBlockDeviceOpener } from '../../../src/adapters/linux/linux-opener.ts';
import { attachLoop, detachLoop } from '../../../src/adapters/linux/loop-device.ts';
import { linuxAsrSession, linuxBootTool, linuxDriverTool } from '../../../src/adapters/linux/unsupported-tools.ts';
import { MemoryBackupServer } from '../../../src/adapters/memory/memory-backup-server.ts';
import { NodeSetKeys } from '../../../src/adapters/node/set-keys.ts';
import { systemClock } from '../../../src/adapters/node/system-clock.ts';
import { runRestoreJob } from '../../../src/app/restore/run-restore-job.ts';
import type { RestoreDeps } from '../../../src/app/restore/run-restore-job.ts';
import { RecoveryError } from '../../../src/core/errors.ts';
import type { AssignedRun, DiskMapping, RestoreOptions } from '../../../src/core/protocol/jobs.ts';
import type { Clock } from '../../../src/ports/clock.ts';
import { extractPartition, makeGptUefiDisk, makeMbrBiosDisk, type FixtureDisk, type FixturePartition } from '../../helpers/fixture-disks.ts';
import { backupFixtureDisk, type FixtureBackup } from '../../helpers/make-backup.ts';
import { isRoot, mustRun, runTool, tempDir } from '../../helpers/run.ts';
import { FakeClock, inventoryOf, restoreRun } from '../../unit/app/restore/restore-fixtures.ts';

let work: { path: string; cleanup: () => Promise<void> };
let gpt: FixtureDisk;
let mbr: FixtureDisk;
let server: MemoryBackupServer;
let gptBackup: FixtureBackup;
let mbrBackup: FixtureBackup;
let imageCounter = 0;

beforeAll(async () => {
  work = await tempDir('lifeline-restore-');
  // One after the other: the builders use fixed scratch names in their folder.
  gpt = await makeGptUefiDisk(work.path);
  mbr = await makeMbrBiosDisk(work.path);
  server = new MemoryBackupServer();
  gptBackup = await backupFixtureDisk(server, gpt.path, { firmware: 'uefi', blockSize: 64 * 1024 });
  mbrBackup = await backupFixtureDisk(server, mbr.path, { firmware: 'bios' });
}, 120_000);
afterAll(() => work.cleanup());

// ---------------------------------------------------------------- helpers

async function blankImage(sizeBytes: bigint): Promise<string> {
  const path = join(work.path, `target-${imageCounter++}.img`);
  await writeFile(path, '');
  await truncate(path, Number(sizeBytes));
  return path;
}

async function sha256Range(path: string, offset: bigint, length: bigint): Promise<string> {
  const handle = await open(path, 'r');
  try {
    const hash = createHash('sha256');
    const buffer = Buffer.alloc(1024 * 1024);
    for (let at = 0n; at < length;) {
      const n = Number(length - at < 1048576n ? length - at : 1048576n);
      const { bytesRead } = await handle.read(buffer, 0, n, Number(offset + at));
      hash.update(buffer.subarray(0, bytesRead));
      at += BigInt(n);
    }
    return hash.digest('hex');
  } finally {
    await handle.close();
  }
}

async function sha256File(path: string): Promise<string> {
  return (await mustRun('sha256sum', [path])).split(' ')[0]!;
}

function deps(targets: readonly { path: string; sizeBytes: bigint; protected?: boolean }[], firmware: 'uefi' | 'bios', clock: Clock = systemClock, over: Partial<RestoreDeps> = {}): RestoreDeps {
  return {
    server, keys: new NodeSetKeys(), disks: new LinuxBlockDeviceOpener(), clock, inventory: inventoryOf(targets, firmware),
    drivers: linuxDriverTool, boot: linuxBootTool, asr: linuxAsrSession, ...over,
  };
}

function assigned(backup: FixtureBackup, disks: DiskMapping[], options: Partial<RestoreOptions> = {}, passphrase?: string): AssignedRun {
  const run = restoreRun(backup, disks, { channels: 4, ...options }, passphrase);
  server.assign(run);
  return run;
}

/** The identity lines of `sfdisk --dump` (label, label-id, partitions), without the device names and size lines. */
async function sfdiskIdentity(path: string): Promise<string[]> {
  const dump = await mustRun('sfdisk', ['--dump', path]);
  return dump.split('\n')
    .filter((l) => /^(label|label-id|first-lba|sector-size):|:\s*start=/.test(l))
    .map((l) => l.replace(/^\S+?(\d+)\s*:/, 'p$1 :'));
}

/** Every known file of a partition read back with the real tools must hash as the fixture says. */
async function checkFiles(image: string, p: FixturePartition): Promise<void> {
  if (p.filesystem === 'fat32') {
    const part = await extractPartition(image, p, join(work.path, `check-${imageCounter++}.part`));
    const fsck = await runTool('fsck.vfat', ['-n', part]);
    expect(fsck.exitCode, fsck.stdout + fsck.stderr).toBe(0);
    for (const f of p.files) {
      const out = join(work.path, `file-${imageCounter++}`);
      await mustRun('mcopy', ['-n', '-i', `${image}@@${p.offsetBytes}`, `::/${f.path}`, out]);
      expect(await sha256File(out), f.path).toBe(f.sha256);
    }
  } else if (p.filesystem === 'ntfs') {
    const part = await extractPartition(image, p, join(work.path, `check-${imageCounter++}.part`));
    const fix = await runTool('ntfsfix', ['-n', part]);
    expect(fix.exitCode, fix.stdout + fix.stderr).toBe(0);
    for (const f of p.files) {
      const out = join(work.path, `file-${imageCounter++}`);
      await mustRun('sh', ['-c', 'ntfscat "$1" "$2" > "$3"', 'sh', part, `/${f.path}`, out]);
      expect(await sha256File(out), f.path).toBe(f.sha256);
    }
  }
}

function status(outcome: { steps: readonly { step: string; outcome: { status: string } }[] }): Record<string, string> {
  return Object.fromEntries(outcome.steps.map((s) => [s.step, s.outcome.status]));
}

// ---------------------------------------------------------------- restores

describe('restore of fixture disks onto image files', () => {
  it('restores the GPT/UEFI disk onto a blank image of the same size, identical to the tools', async () => {
    const target = await blankImage(gpt.sizeBytes);
    const outcome = await runRestoreJob(assigned(gptBackup, [{ sourceDisk: 0, targetDisk: target, partitions: [], rebuild: 'full' }]), deps([{ path: target, sizeBytes: gpt.sizeBytes }], 'uefi'));
    expect(outcome.error).toBeUndefined();
    expect(status(outcome)).toMatchObject({ prechecks: 'done', partition: 'done', data: 'done', verify: 'done', drivers: 'skipped', boot: 'skipped', registry: 'skipped' });

    expect(await mustRun('sgdisk', ['-v', target])).toMatch(/No problems found/);
    expect(await sfdiskIdentity(target)).toEqual(await sfdiskIdentity(gpt.path));
    for (const p of gpt.partitions) await checkFiles(target, p);
    // Every partition holds the same bytes where the backup held them: the used blocks and the NTFS backup boot sector.
    for (const p of gpt.partitions.filter((x) => x.filesystem === 'ntfs')) {
      const last = p.offsetBytes + p.sizeBytes - 512n;
      expect(await sha256Range(target, last, 512n)).toBe(await sha256Range(gpt.path, last, 512n));
    }
  });

  it('restores the GPT disk onto a larger image: the backup header moves to the new end and sgdisk -v is clean', async () => {
    const size = gpt.sizeBytes + 32n * 1024n * 1024n;
    const target = await blankImage(size);
    const outcome = await runRestoreJob(assigned(gptBackup, [{ sourceDisk: 0, targetDisk: target, partitions: [], rebuild: 'full' }]), deps([{ path: target, sizeBytes: size }], 'uefi'));
    expect(outcome.state).toBe('succeeded');
    expect(await mustRun('sgdisk', ['-v', target])).toMatch(/No problems found/);
    const info = await mustRun('sgdisk', ['-p', target]);
    expect(info).toMatch(new RegExp(`Disk identifier \\(GUID\\): ${gpt.diskGuid}`, 'i'));
    expect(info).toMatch(new RegExp(`last usable sector is ${size / 512n - 34n}`));
    await checkFiles(target, gpt.partitions[2]!);
  });

  it('restores the MBR/BIOS disk with its signature, active flag and boot code', async () => {
    const target = await blankImage(mbr.sizeBytes);
    const outcome = await runRestoreJob(assigned(mbrBackup, [{ sourceDisk: 0, targetDisk: target, partitions: [], rebuild: 'full' }]), deps([{ path: target, sizeBytes: mbr.sizeBytes }], 'bios'));
    expect(outcome.error).toBeUndefined();
    expect(await sfdiskIdentity(target)).toEqual(await sfdiskIdentity(mbr.path));
    expect(await sha256Range(target, 0n, 512n)).toBe(await sha256Range(mbr.path, 0n, 512n));
    for (const p of mbr.partitions) await checkFiles(target, p);
  });

  it('restores only C: on a partial rebuild; every other byte of the target stays as it was', async () => {
    // The target carries the same layout with other contents (a machine whose C: died).
    const other = await makeGptUefiDisk(work.path, { name: 'other.img', files: { esp: [{ path: 'EFI/other.efi', size: 5000 }], windows: [{ path: 'old.txt', data: 'old' }], recovery: [{ path: 'other.wim', size: 9000 }] } });
    const c = gpt.partitions[2]!;
    const before = {
      head: await sha256Range(other.path, 0n, c.offsetBytes),
      tail: await sha256Range(other.path, c.offsetBytes + c.sizeBytes, other.sizeBytes - c.offsetBytes - c.sizeBytes),
    };
    const outcome = await runRestoreJob(
      assigned(gptBackup, [{ sourceDisk: 0, targetDisk: other.path, partitions: [3], rebuild: 'partial' }]),
      deps([{ path: other.path, sizeBytes: other.sizeBytes }], 'uefi'),
    );
    expect(outcome.error).toBeUndefined();
    expect(outcome.steps.find((s) => s.step === 'partition')?.outcome).toMatchObject({ status: 'skipped', why: expect.stringMatching(/layout intact/) });
    expect(await sha256Range(other.path, 0n, c.offsetBytes)).toBe(before.head);
    expect(await sha256Range(other.path, c.offsetBytes + c.sizeBytes, other.sizeBytes - c.offsetBytes - c.sizeBytes)).toBe(before.tail);
    await checkFiles(other.path, c);
    expect(await mustRun('sgdisk', ['-v', other.path])).toMatch(/No problems found/);
  });

  it.skipIf(!isRoot)('restores onto a loop device', async () => {
    const image = await blankImage(gpt.sizeBytes);
    const device = await attachLoop(image);
    try {
      const outcome = await runRestoreJob(assigned(gptBackup, [{ sourceDisk: 0, targetDisk: device, partitions: [], rebuild: 'full' }]), deps([{ path: device, sizeBytes: gpt.sizeBytes }], 'uefi'));
      expect(outcome.error).toBeUndefined();
      expect(await mustRun('sgdisk', ['-v', device])).toMatch(/No problems found/);
    } finally {
      await detachLoop(device);
    }
    expect(await sfdiskIdentity(image)).toEqual(await sfdiskIdentity(gpt.path));
    await checkFiles(image, gpt.partitions[2]!);
  });
});

describe('refusals and faults on fixture disks', () => {
  // 64 MiB targets: too small for the GPT fixture, which the firmware and protection checks come before.
  it.each([
    ['a BIOS <-> UEFI cross restore', 'restore.firmware-mismatch', { firmware: 'bios' as const }],
    ['a target that is too small', 'layout.target-too-small', {}],
    ['a protected target', 'restore.target-protected', { protected: true }],
  ])('refuses %s with 0 bytes written', async (_name, code, o: { firmware?: 'bios'; protected?: boolean }) => {
    // A target with something on it: a pattern at its start, middle and end.
    const size = 64n * 1024n * 1024n;
    const target = await blankImage(size);
    const handle = await open(target, 'r+');
    for (const at of [0n, size / 2n, size - 1048576n]) await handle.write(new Uint8Array(1048576).fill(0xa5), 0, 1048576, Number(at));
    await handle.close();
    const before = await sha256File(target);
    const outcome = await runRestoreJob(
      assigned(gptBackup, [{ sourceDisk: 0, targetDisk: target, partitions: [], rebuild: 'full' }]),
      deps([{ path: target, sizeBytes: size, protected: o.protected ?? false }], o.firmware ?? 'uefi'),
    );
    expect(outcome.state).toBe('failed');
    expect(outcome.error?.code).toBe(code);
    expect(await sha256File(target)).toBe(before);
  });

  it('refuses a wrong passphrase with 0 bytes written, and restores with the right one', async () => {
    const encrypted = await backupFixtureDisk(server, mbr.path, { firmware: 'bios', passphrase: 'swordfish', resource: 'mbr-encrypted' });
    const target = await blankImage(mbr.sizeBytes);
    const before = await sha256File(target);
    const bad = await runRestoreJob(assigned(encrypted, [{ sourceDisk: 0, targetDisk: target, partitions: [], rebuild: 'full' }], {}, 'sword fish'), deps([{ path: target, sizeBytes: mbr.sizeBytes }], 'bios'));
    expect(bad.error?.code).toBe('crypto.wrong-passphrase');
    expect(await sha256File(target)).toBe(before);
    const good = await runRestoreJob(assigned(encrypted, [{ sourceDisk: 0, targetDisk: target, partitions: [], rebuild: 'full' }], {}, 'swordfish'), deps([{ path: target, sizeBytes: mbr.sizeBytes }], 'bios'));
    expect(good.error).toBeUndefined();
    await checkFiles(target, mbr.partitions[1]!);
  });

  it('retries chunk fetches through a short network cut and completes', async () => {
    const target = await blankImage(gpt.sizeBytes);
    for (let i = 0; i < 4; i++) server.failNext('getChunk', new RecoveryError('network.reset', 'connection reset', { retryable: true }));
    const clock = new FakeClock();
    const outcome = await runRestoreJob(assigned(gptBackup, [{ sourceDisk: 0, targetDisk: target, partitions: [], rebuild: 'full' }]), deps([{ path: target, sizeBytes: gpt.sizeBytes }], 'uefi', clock));
    expect(outcome.error).toBeUndefined();
    expect(clock.sleeps.slice(0, 4)).toEqual([1000, 2000, 4000, 8000]);
    expect(await mustRun('sgdisk', ['-v', target])).toMatch(/No problems found/);
  });

  it('resumes after the agent was killed mid-restore, fetching fewer chunks, and the result verifies', async () => {
    const target = await blankImage(gpt.sizeBytes);
    const run = assigned(gptBackup, [{ sourceDisk: 0, targetDisk: target, partitions: [], rebuild: 'full' }], { channels: 2 });
    const total = () => [...server.fetches.values()].reduce((a, b) => a + b, 0);
    const start = total();
    const kill = new AbortController();
    const getChunk = server.getChunk.bind(server);
    let n = 0;
    server.getChunk = async (id) => {
      if (++n === 40) kill.abort(new Error('killed'));
      return getChunk(id);
    };
    try {
      const first = await runRestoreJob(run, deps([{ path: target, sizeBytes: gpt.sizeBytes }], 'uefi'), kill.signal);
      expect(first.error?.code).toBe('restore.interrupted');
    } finally {
      server.getChunk = getChunk;
    }
    const afterFirst = total();
    const second = await runRestoreJob(run, deps([{ path: target, sizeBytes: gpt.sizeBytes }], 'uefi'));
    expect(second.error).toBeUndefined();
    const dataChunks = gptBackup.manifest.disks[0]!.extents.filter((e) => e.kind === 'data').length;
    expect(total() - afterFirst).toBeLessThan(dataChunks);
    expect(afterFirst - start).toBeGreaterThanOrEqual(40);
    expect(status(second)).toMatchObject({ data: 'done', verify: 'done' });
    expect(await mustRun('sgdisk', ['-v', target])).toMatch(/No problems found/);
    await checkFiles(target, gpt.partitions[2]!);
  });

  it('fails with chunk.hash-mismatch when a chunk is corrupted on the server, and does not report the disk good', async () => {
    const corrupt = await backupFixtureDisk(server, mbr.path, { firmware: 'bios', resource: 'mbr-corrupt', compression: 'none' });
    const victim = corrupt.manifest.disks[0]!.extents.find((e) => e.kind === 'data' && e.diskOffset > mbr.partitions[1]!.offsetBytes);
    if (victim?.kind !== 'data') throw new Error('the fixture has no data in C:');
    server.corruptChunk(victim.chunkId, 7);
    const target = await blankImage(mbr.sizeBytes);
    const outcome = await runRestoreJob(assigned(corrupt, [{ sourceDisk: 0, targetDisk: target, partitions: [], rebuild: 'full' }]), deps([{ path: target, sizeBytes: mbr.sizeBytes }], 'bios'));
    expect(outcome.state).toBe('failed');
    expect(outcome.error?.code).toBe('chunk.hash-mismatch');
    const disk = (outcome.report!.disks as Record<string, unknown>[])[0]!;
    expect(disk.verified).not.toBe(true);
    expect((disk.partitions as { complete: boolean }[]).some((p) => !p.complete)).toBe(true);
    expect(await sha256Range(target, victim.diskOffset, victim.length)).toBe(createHash('sha256').update(new Uint8Array(Number(victim.length))).digest('hex'));
  });
});
