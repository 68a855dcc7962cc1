/** The restore engine end to end in memory: MemoryBackupServer, the real chunk codec, MemoryDisk targets. */
import { describe, expect, it } from 'vitest';
import { MemoryDisk } from '../../../../src/adapters/memory/memory-disk.ts';
import { runRestoreJob } from '../../../../src/app/restore/run-restore-job.ts';
import { readPartitionTable } from '../../../../src/core/partition/read-table.ts';
import {
  backupMemoryDisk, depsFor, DISK_BYTES, DISK_GUID, durableRange, FakeClock, fullDisk, inventoryOf, makeSourceDisk, MiB,
  registeredServer, restoreRun, sha256,
} from './restore-fixtures.ts';

async function tableOf(disk: MemoryDisk) {
  return readPartitionTable((lba, count) => disk.read(lba * 512n, count * 512), disk.geometry);
}

describe('runRestoreJob onto memory disks', () => {
  it('puts a disk back byte for byte onto a blank disk of the same size, with honest steps', async () => {
    const server = await registeredServer();
    const source = await makeSourceDisk();
    const backup = await backupMemoryDisk(server, source);
    const target = MemoryDisk.create(BigInt(DISK_BYTES), { path: 'target' });
    const run = restoreRun(backup, [fullDisk('target')]);
    server.assign(run);
    const outcome = await runRestoreJob(run, depsFor(server, [target], new FakeClock()));

    expect(outcome.error).toBeUndefined();
    expect(outcome.state).toBe('succeeded');
    // Durable: what a power cut right now would leave.
    expect(sha256(target.durableSnapshot())).toBe(sha256(source.snapshot()));
    const status = Object.fromEntries(outcome.steps.map((s) => [s.step, s.outcome.status]));
    expect(status).toEqual({
      precondition: 'skipped', prechecks: 'done', 'pre-script': 'skipped', partition: 'done', data: 'done', verify: 'done',
      drivers: 'skipped', boot: 'skipped', registry: 'skipped', 'post-script': 'skipped',
    });
    const drivers = outcome.steps.find((s) => s.step === 'drivers')!.outcome;
    expect(drivers.status === 'skipped' && drivers.why).toMatch(/needs Windows \(dism/);
    const record = server.runs.get(run.runId)!;
    expect(record.outcome).toEqual(outcome);
    expect(record.progress.length).toBeGreaterThan(0);
    expect(record.events.some((e) => e.message.startsWith('partition: done'))).toBe(true);
    const disk = (outcome.report!.disks as Record<string, unknown>[])[0]!;
    expect(disk.verified).toBe(true);
    expect((disk.partitions as unknown[]).length).toBe(3);
    expect(record.journal.disks.target).toBeDefined();
  });

  it('moves the GPT backup copy to the end of a larger target and leaves the old end untouched', async () => {
    const server = await registeredServer();
    const source = await makeSourceDisk();
    const backup = await backupMemoryDisk(server, source);
    const target = MemoryDisk.create(BigInt(24 * MiB), { path: 'big' });
    const run = restoreRun(backup, [fullDisk('big')]);
    server.assign(run);
    const outcome = await runRestoreJob(run, depsFor(server, [target], new FakeClock()));
    expect(outcome.state).toBe('succeeded');

    const read = await tableOf(target);
    expect(read.problems.filter((p) => p.severity === 'error')).toEqual([]);
    expect(read.gpt?.backupHeader?.myLba).toBe(BigInt(24 * MiB) / 512n - 1n);
    expect(read.table?.style === 'gpt' && read.table.diskGuid).toBe(DISK_GUID);
    // The source's backup GPT (its last 33 sectors) is not copied into the middle of the target.
    const oldTail = durableRange(target, DISK_BYTES - 33 * 512, 33 * 512);
    expect(oldTail.every((b) => b === 0)).toBe(true);
    // Every partition and the gap came back.
    for (const [offset, length] of [[20 * 1024, 2048], [MiB, 13 * MiB]] as const) {
      expect(sha256(durableRange(target, offset, length))).toBe(sha256(durableRange(source, offset, length)));
    }
  });

  it('restores only the selected partition on a partial rebuild and leaves the others byte for byte', async () => {
    const server = await registeredServer();
    const source = await makeSourceDisk();
    const backup = await backupMemoryDisk(server, source);
    // The target already carries the layout, with other contents in every partition.
    const target = MemoryDisk.fromBytes(source.snapshot(), { path: 'target' });
    await target.write(BigInt(MiB), new Uint8Array(3 * MiB).fill(0x11));
    await target.write(BigInt(4 * MiB), new Uint8Array(6 * MiB).fill(0x22));
    await target.write(BigInt(10 * MiB), new Uint8Array(4 * MiB).fill(0x33));
    await target.flush();
    const before = target.snapshot();
    const run = restoreRun(backup, [{ sourceDisk: 0, targetDisk: 'target', partitions: [2], rebuild: 'partial' }]);
    server.assign(run);
    const outcome = await runRestoreJob(run, depsFor(server, [target], new FakeClock()));
    expect(outcome.state).toBe('succeeded');
    expect(outcome.steps.find((s) => s.step === 'partition')?.outcome.status).toBe('skipped');

    const after = target.durableSnapshot();
    expect(sha256(after.subarray(4 * MiB, 10 * MiB))).toBe(sha256(source.snapshot().subarray(4 * MiB, 10 * MiB)));
    expect(sha256(after.subarray(0, 4 * MiB))).toBe(sha256(before.subarray(0, 4 * MiB)));
    expect(sha256(after.subarray(10 * MiB))).toBe(sha256(before.subarray(10 * MiB)));
  });

  it('opens an encrypted set with the job passphrase and refuses a wrong one before writing', async () => {
    const server = await registeredServer();
    const source = await makeSourceDisk();
    const backup = await backupMemoryDisk(server, source, { passphrase: 'correct horse' });
    const good = MemoryDisk.create(BigInt(DISK_BYTES), { path: 'good' });
    const okRun = restoreRun(backup, [fullDisk('good')], {}, 'correct horse');
    server.assign(okRun);
    expect((await runRestoreJob(okRun, depsFor(server, [good], new FakeClock()))).state).toBe('succeeded');
    expect(sha256(good.durableSnapshot())).toBe(sha256(source.snapshot()));

    const bad = MemoryDisk.create(BigInt(DISK_BYTES), { path: 'bad' });
    const badRun = restoreRun(backup, [fullDisk('bad')], {}, 'wrong horse');
    server.assign(badRun);
    const outcome = await runRestoreJob(badRun, depsFor(server, [bad], new FakeClock()));
    expect(outcome.state).toBe('failed');
    expect(outcome.error?.code).toBe('crypto.wrong-passphrase');
    expect(bad.snapshot().every((b) => b === 0)).toBe(true);
  });

  it.each([
    ['firmware mismatch', 'restore.firmware-mismatch', { firmware: 'bios' as const }],
    ['target too small', 'layout.target-too-small', { size: 12 * MiB }],
    ['protected target', 'restore.target-protected', { protected: true }],
    ['sector size mismatch', 'restore.sector-size-mismatch', { sectorSize: 4096 }],
  ])('refuses a %s with 0 bytes written', async (_name, code, o: { firmware?: 'bios'; size?: number; protected?: boolean; sectorSize?: number }) => {
    const server = await registeredServer();
    const backup = await backupMemoryDisk(server, await makeSourceDisk());
    const target = MemoryDisk.create(BigInt(o.size ?? DISK_BYTES), { path: 'target' });
    await target.write(0n, new Uint8Array(MiB).fill(0x5a));
    await target.flush();
    const before = sha256(target.snapshot());
    const run = restoreRun(backup, [fullDisk('target')]);
    server.assign(run);
    const inventory = inventoryOf([{ path: 'target', sizeBytes: target.geometry.sizeBytes, protected: o.protected ?? false, sectorSize: o.sectorSize ?? 512 }], o.firmware ?? 'uefi');
    const outcome = await runRestoreJob(run, depsFor(server, [target], new FakeClock(), { inventory }));
    expect(outcome.state).toBe('failed');
    expect(outcome.error?.code).toBe(code);
    expect(sha256(target.snapshot())).toBe(before);
    expect(outcome.steps.find((s) => s.step === 'prechecks')?.outcome.status).toBe('failed');
    expect(outcome.steps.filter((s) => s.outcome.status === 'done')).toEqual([]);
    expect(outcome.report?.bytesWritten).toBe('0');
  });

  it('refuses options out of range before reading anything', async () => {
    const server = await registeredServer();
    const backup = await backupMemoryDisk(server, await makeSourceDisk());
    const target = MemoryDisk.create(BigInt(DISK_BYTES), { path: 'target' });
    const run = restoreRun(backup, [fullDisk('target')], { writeBlockSize: 100_000 });
    server.assign(run);
    const outcome = await runRestoreJob(run, depsFor(server, [target], new FakeClock()));
    expect(outcome.error).toMatchObject({ code: 'restore.bad-option', data: { option: 'writeBlockSize' } });
    expect(server.fetches.size).toBe(0);
  });

  it('sends the run back to idle when the precondition does not hold, touching nothing', async () => {
    const server = await registeredServer();
    const backup = await backupMemoryDisk(server, await makeSourceDisk());
    const target = MemoryDisk.create(BigInt(DISK_BYTES), { path: 'target' });
    const run = restoreRun(backup, [fullDisk('target')], { precondition: 'test -e /ready' });
    server.assign(run);
    const ran: string[] = [];
    const scripts = { run: async (line: string) => (ran.push(line), { exitCode: 1, output: 'not ready' }) };
    const outcome = await runRestoreJob(run, depsFor(server, [target], new FakeClock(), { scripts }));
    expect(ran).toEqual(['test -e /ready']);
    expect(outcome.state).toBe('idle');
    expect(server.fetches.size).toBe(0);
    expect(target.snapshot().every((b) => b === 0)).toBe(true);
    expect(outcome.steps.filter((s) => s.step !== 'precondition').every((s) => s.outcome.status === 'skipped')).toBe(true);
  });

  it('fails the run when the pre-script fails, before any table is written', async () => {
    const server = await registeredServer();
    const backup = await backupMemoryDisk(server, await makeSourceDisk());
    const target = MemoryDisk.create(BigInt(DISK_BYTES), { path: 'target' });
    const run = restoreRun(backup, [fullDisk('target')], { preScript: 'stop-services' });
    server.assign(run);
    const scripts = { run: async () => ({ exitCode: 3, output: 'service busy' }) };
    const outcome = await runRestoreJob(run, depsFor(server, [target], new FakeClock(), { scripts }));
    expect(outcome.state).toBe('failed');
    expect(outcome.error?.code).toBe('script.failed');
    expect(outcome.error?.message).toMatch(/code 3: service busy/);
    expect(target.snapshot().every((b) => b === 0)).toBe(true);
    const partition = outcome.steps.find((s) => s.step === 'partition')!.outcome;
    expect(partition.status === 'skipped' && partition.why).toMatch(/stopped at "pre-script"/);
  });

  it('reports a step a port says failed as failed, and the run with it', async () => {
    const server = await registeredServer();
    const backup = await backupMemoryDisk(server, await makeSourceDisk());
    const target = MemoryDisk.create(BigInt(DISK_BYTES), { path: 'target' });
    const run = restoreRun(backup, [fullDisk('target')]);
    server.assign(run);
    const boot = { makeBootable: async () => ({ status: 'failed' as const, code: 'boot.bcdboot-failed', message: 'bcdboot exited 1' }) };
    const outcome = await runRestoreJob(run, depsFor(server, [target], new FakeClock(), { boot }));
    expect(outcome.state).toBe('failed');
    expect(outcome.error?.code).toBe('boot.bcdboot-failed');
    expect(outcome.steps.find((s) => s.step === 'data')?.outcome.status).toBe('done');
    expect(outcome.steps.find((s) => s.step === 'registry')?.outcome.status).toBe('skipped');
  });

  it('is not fooled by a non-RecoveryError thrown by a port', async () => {
    const server = await registeredServer();
    const backup = await backupMemoryDisk(server, await makeSourceDisk());
    const target = MemoryDisk.create(BigInt(DISK_BYTES), { path: 'target' });
    const run = restoreRun(backup, [fullDisk('target')]);
    server.assign(run);
    const drivers = { injectDrivers: async () => { throw new TypeError('boom'); } };
    const outcome = await runRestoreJob(run, depsFor(server, [target], new FakeClock(), { drivers }));
    expect(outcome.state).toBe('failed');
    expect(outcome.error?.code).toBe('restore.internal');
    expect(outcome.steps.find((s) => s.step === 'drivers')?.outcome).toEqual({ status: 'failed', code: 'restore.internal', message: 'boom' });
  });
});
