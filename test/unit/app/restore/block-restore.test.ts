/** The block pipeline under faults, limits and restarts (memory server, memory disks, virtual clock). */
import { describe, expect, it } from 'vitest';
import { MemoryDisk, MemoryDiskOpener } from '../../../../src/adapters/memory/memory-disk.ts';
import { BATCH_MAX_CHUNKS, BATCH_STORED_BYTES } from '../../../../src/app/restore/block-restore.ts';
import { runRestoreJob } from '../../../../src/app/restore/run-restore-job.ts';
import { RecoveryError } from '../../../../src/core/errors.ts';
import type { BlockDevice, BlockDeviceOpener } from '../../../../src/ports/block-device.ts';
import {
  backupMemoryDisk, depsFor, DISK_BYTES, FakeClock, fullDisk, makeSourceDisk, MiB, registeredServer, restoreRun, sha256,
} from './restore-fixtures.ts';

const lost = () => new RecoveryError('network.connection-lost', 'connection reset by peer', { retryable: true });

function totalFetches(server: { fetches: Map<string, number> }): number {
  return [...server.fetches.values()].reduce((a, b) => a + b, 0);
}

async function setup(options: { blockSize?: number } = {}) {
  const server = await registeredServer();
  const source = await makeSourceDisk();
  const backup = await backupMemoryDisk(server, source, options);
  const target = MemoryDisk.create(BigInt(DISK_BYTES), { path: 'target' });
  return { server, source, backup, target };
}

/** Records every write the pipeline makes and how many reads/writes overlap in time. */
class RecordingOpener implements BlockDeviceOpener {
  readonly writes: { offset: bigint; length: number }[] = [];
  constructor(private readonly inner: BlockDeviceOpener) {}
  async open(path: string, options: Parameters<BlockDeviceOpener['open']>[1]): Promise<BlockDevice> {
    const device = await this.inner.open(path, options);
    const writes = this.writes;
    return {
      path: device.path, geometry: device.geometry, readOnly: device.readOnly,
      read: (o, l) => device.read(o, l),
      write: async (o, d) => {
        writes.push({ offset: o, length: d.length });
        await device.write(o, d);
      },
      flush: () => device.flush(), close: () => device.close(),
    };
  }
}

describe('block restore pipeline', () => {
  it('rides out a network cut inside the reconnect window, backing off 1, 2, 4 s', async () => {
    const { server, source, backup, target } = await setup();
    for (let i = 0; i < 3; i++) server.failNext('getChunk', lost());
    const clock = new FakeClock();
    const run = restoreRun(backup, [fullDisk('target')], { channels: 1 });
    server.assign(run);
    const outcome = await runRestoreJob(run, depsFor(server, [target], clock));
    expect(outcome.state).toBe('succeeded');
    expect(clock.sleeps.slice(0, 3)).toEqual([1000, 2000, 4000]);
    expect(sha256(target.durableSnapshot())).toBe(sha256(source.snapshot()));
    expect(server.runs.get(run.runId)!.events.filter((e) => e.level === 'warning' && e.message.includes('network.connection-lost'))).toHaveLength(3);
  });

  it('fails with restore.reconnect-window-exceeded when the network stays down past the window', async () => {
    const { server, backup, target } = await setup();
    // The link dies for good after the first 5 chunks (the table sectors and a few data chunks).
    let calls = 0;
    const getChunk = server.getChunk.bind(server);
    server.getChunk = async (id: string) => {
      if (++calls > 5) throw lost();
      return getChunk(id);
    };
    const clock = new FakeClock();
    const start = clock.now();
    const run = restoreRun(backup, [fullDisk('target')], { channels: 1, reconnectWindowMinutes: 1 });
    server.assign(run);
    const outcome = await runRestoreJob(run, depsFor(server, [target], clock));
    expect(outcome.state).toBe('failed');
    expect(outcome.error?.code).toBe('restore.reconnect-window-exceeded');
    expect(outcome.error?.data?.lastCode).toBe('network.connection-lost');
    expect(clock.now() - start).toBe(60_000);
    expect(outcome.steps.find((s) => s.step === 'data')?.outcome.status).toBe('failed');
    // The table was written before the data step; the report says what was written, and not that the disk is good.
    const disk = (outcome.report!.disks as Record<string, unknown>[])[0]!;
    expect(disk.verified).toBeNull();
    expect(disk.table).toMatch(/written and verified/);
  });

  it('fails at once on an error that is not retryable', async () => {
    const { server, backup, target } = await setup();
    server.failNext('getChunk', new RecoveryError('auth.forbidden', 'not your chunk'));
    const clock = new FakeClock();
    const run = restoreRun(backup, [fullDisk('target')], { channels: 1 });
    server.assign(run);
    const outcome = await runRestoreJob(run, depsFor(server, [target], clock));
    expect(outcome.error?.code).toBe('auth.forbidden');
    expect(clock.sleeps).toEqual([]);
  });

  it('fails the run with chunk.hash-mismatch on a corrupted chunk and never writes it', async () => {
    const { server, backup, target } = await setup();
    const victim = backup.manifest.disks[0]!.extents.find((e) => e.kind === 'data' && e.diskOffset === BigInt(4 * MiB))!;
    if (victim.kind !== 'data') throw new Error('fixture');
    server.corruptChunk(victim.chunkId, 100);
    const run = restoreRun(backup, [fullDisk('target')]);
    server.assign(run);
    const outcome = await runRestoreJob(run, depsFor(server, [target], new FakeClock()));
    expect(outcome.state).toBe('failed');
    expect(outcome.error?.code).toBe('chunk.hash-mismatch');
    expect(outcome.error?.data?.stage).toBe('stored');
    // Fetched twice (once more in case the link damaged it), written never.
    expect(server.fetches.get(victim.chunkId)).toBe(2);
    expect(target.snapshot().subarray(4 * MiB, 4 * MiB + 256 * 1024).every((b) => b === 0)).toBe(true);
    const partition = ((outcome.report!.disks as Record<string, unknown>[])[0]!.partitions as Record<string, unknown>[])[1]!;
    expect(partition).toMatchObject({ complete: false, verified: null });
  });

  it('resumes a killed run: fewer chunks fetched the second time, and the result verifies', async () => {
    const { server, source, backup, target } = await setup({ blockSize: 64 * 1024 });
    const fresh = await setup({ blockSize: 64 * 1024 });
    const freshRun = restoreRun(fresh.backup, [fullDisk('target')]);
    fresh.server.assign(freshRun);
    expect((await runRestoreJob(freshRun, depsFor(fresh.server, [fresh.target], new FakeClock()))).state).toBe('succeeded');
    const fullFetches = totalFetches(fresh.server);

    // Killed after 60 chunk fetches.
    const killer = new AbortController();
    let fetched = 0;
    const getChunk = server.getChunk.bind(server);
    server.getChunk = async (id: string) => {
      if (++fetched === 60) killer.abort(new Error('agent killed'));
      return getChunk(id);
    };
    const run = restoreRun(backup, [fullDisk('target')], { channels: 2 });
    server.assign(run);
    const first = await runRestoreJob(run, depsFor(server, [target], new FakeClock()), killer.signal);
    expect(first.state).toBe('failed');
    expect(first.error?.code).toBe('restore.interrupted');
    const firstFetches = totalFetches(server);
    expect(server.runs.get(run.runId)!.journal.marks).toContain('table-verified:target');

    // The same run, restarted on a fresh agent.
    const again = target.reopen({ writable: true });
    const second = await runRestoreJob(run, depsFor(server, [again], new FakeClock()));
    expect(second.error).toBeUndefined();
    expect(second.state).toBe('succeeded');
    const secondFetches = totalFetches(server) - firstFetches;
    expect(secondFetches).toBeLessThan(fullFetches);
    expect(second.steps.find((s) => s.step === 'partition')?.outcome).toMatchObject({ status: 'done', detail: expect.stringMatching(/earlier attempt/) });
    expect(sha256(target.durableSnapshot())).toBe(sha256(source.snapshot()));
    const resumed = BigInt((second.report!.disks as Record<string, string>[])[0]!.resumedBytes!);
    expect(resumed).toBeGreaterThan(0n);
  });

  it('re-checks the last MiBs of the journal and restores again what does not match', async () => {
    const { server, source, backup, target } = await setup({ blockSize: 64 * 1024 });
    // An earlier attempt "wrote" [1, 6) MiB; the last MiB of it did not survive.
    await target.write(BigInt(MiB), source.snapshot().subarray(MiB, 5 * MiB));
    await target.write(BigInt(5 * MiB), new Uint8Array(MiB).fill(0xee));
    await target.flush();
    const run = restoreRun(backup, [{ sourceDisk: 0, targetDisk: 'target', partitions: [], rebuild: 'full' }]);
    server.assign(run);
    await server.mergeJournal(run.runId, { disks: { target: [{ start: String(MiB), length: String(5 * MiB) }] }, marks: [] });
    const clock = new FakeClock();
    const outcome = await runRestoreJob(run, depsFor(server, [target], clock, { tuning: { journal: { everyBytes: 8 * MiB, everyMs: 2000, recheckBytes: 2 * MiB } } }));
    expect(outcome.error).toBeUndefined();
    expect(sha256(target.durableSnapshot())).toBe(sha256(source.snapshot()));
    // [1, 4) MiB was trusted: none of its chunks was fetched for writing.
    const trusted = backup.manifest.disks[0]!.extents.filter((e) => e.kind === 'data' && e.diskOffset >= BigInt(MiB) && e.diskOffset < BigInt(4 * MiB));
    expect(trusted.length).toBeGreaterThan(0);
    for (const e of trusted) if (e.kind === 'data') expect(server.fetches.get(e.chunkId) ?? 0).toBe(0);
  });

  it('keeps the bytes in flight within the resume buffer and the fetches within the channels', async () => {
    for (const [buffer, channels, maxParallel] of [[256 * 1024, 8, 1], [64 * MiB, 3, 3]] as const) {
      const { server, source, backup, target } = await setup();
      let inFlight = 0;
      let peak = 0;
      const getChunk = server.getChunk.bind(server);
      server.getChunk = async (id: string) => {
        peak = Math.max(peak, ++inFlight);
        await new Promise((r) => setImmediate(r));
        inFlight--;
        return getChunk(id);
      };
      const run = restoreRun(backup, [fullDisk('target')], { channels, resumeBufferBytes: buffer, writeBlockSize: 256 * 1024 });
      server.assign(run);
      const outcome = await runRestoreJob(run, depsFor(server, [target], new FakeClock()));
      expect(outcome.state).toBe('succeeded');
      expect(peak).toBe(maxParallel);
      expect(sha256(target.durableSnapshot())).toBe(sha256(source.snapshot()));
    }
  });

  it('fetches consecutive chunks in batches: fewer requests than chunks, each within the batch limits and its channel\'s share of the buffer', async () => {
    const { server, source, backup, target } = await setup({ blockSize: 64 * 1024 });
    const stored = new Map<string, number>();
    for (const d of backup.manifest.disks) for (const e of d.extents) if (e.kind === 'data') stored.set(e.chunkId, e.storedLength);
    const requests: string[][] = [];
    const getChunks = server.getChunks.bind(server);
    server.getChunks = async (ids: readonly string[]) => {
      requests.push([...ids]);
      return getChunks(ids);
    };
    const channels = 2;
    const buffer = 4 * MiB;
    const run = restoreRun(backup, [fullDisk('target')], { channels, resumeBufferBytes: buffer, writeBlockSize: 64 * 1024 });
    server.assign(run);
    expect((await runRestoreJob(run, depsFor(server, [target], new FakeClock()))).state).toBe('succeeded');
    expect(sha256(target.durableSnapshot())).toBe(sha256(source.snapshot()));
    const asked = requests.flat();
    expect(new Set(asked).size).toBe(asked.length); // no chunk asked for twice
    expect(requests.length).toBeLessThan(asked.length / 4);
    for (const ids of requests) {
      expect(ids.length).toBeLessThanOrEqual(BATCH_MAX_CHUNKS);
      expect(ids.reduce((sum, id) => sum + stored.get(id)!, 0)).toBeLessThanOrEqual(BATCH_STORED_BYTES);
      // Blob plus plaintext of each chunk: within a channel's share of the resume buffer.
      expect(ids.reduce((sum, id) => sum + stored.get(id)! + 64 * 1024, 0)).toBeLessThanOrEqual(buffer / channels);
    }
  });

  it('writes positionally in the write block size, sector-aligned', async () => {
    for (const writeBlockSize of [64 * 1024, MiB]) {
      const { server, backup, target } = await setup({ blockSize: 256 * 1024 });
      const opener = new RecordingOpener(new MemoryDiskOpener([target]));
      const run = restoreRun(backup, [fullDisk('target')], { writeBlockSize });
      server.assign(run);
      expect((await runRestoreJob(run, depsFor(server, [target], new FakeClock(), { disks: opener }))).state).toBe('succeeded');
      const data = opener.writes.filter((w) => w.offset >= BigInt(MiB) && w.offset < BigInt(14 * MiB));
      expect(data.length).toBeGreaterThan(0);
      expect(data.every((w) => w.length <= writeBlockSize && w.offset % 512n === 0n && w.length % 512 === 0)).toBe(true);
      // Contiguous data is gathered into full write blocks.
      expect(data.filter((w) => w.length === writeBlockSize).length).toBeGreaterThan(data.length / 2);
    }
  });

  it('never transfers zero extents, and writes zeros only where the target is not zero', async () => {
    const { server, source, backup, target } = await setup();
    // Garbage where the source has zeros (inside the ESP, [2, 4) MiB).
    await target.write(BigInt(2 * MiB) + 8192n, new Uint8Array(4096).fill(0x77));
    await target.flush();
    const opener = new RecordingOpener(new MemoryDiskOpener([target]));
    const run = restoreRun(backup, [fullDisk('target')]);
    server.assign(run);
    const outcome = await runRestoreJob(run, depsFor(server, [target], new FakeClock(), { disks: opener }));
    expect(outcome.state).toBe('succeeded');
    expect(sha256(target.durableSnapshot())).toBe(sha256(source.snapshot()));
    const zeroWrites = opener.writes.filter((w) => w.offset >= BigInt(2 * MiB) && w.offset < BigInt(4 * MiB));
    expect(zeroWrites).toEqual([{ offset: BigInt(2 * MiB), length: 256 * 1024 }]);
    const disk = (outcome.report!.disks as Record<string, string>[])[0]!;
    expect(BigInt(disk.alreadyZeroBytes!)).toBeGreaterThan(BigInt(4 * MiB));
    const stored = backup.manifest.disks[0]!.extents.reduce((s, e) => s + (e.kind === 'data' ? e.storedLength : 0), 0);
    expect(Number(disk.networkBytes)).toBe(stored);
  });

  it('holds the disk write rate and the transfer rate of the job to their limits', async () => {
    const limited = { windows: [], defaultBytesPerSecond: MiB };
    for (const which of ['writeLimit', 'transferLimit'] as const) {
      const { server, backup, target } = await setup();
      const clock = new FakeClock();
      const start = clock.now();
      const run = restoreRun(backup, [fullDisk('target')], { [which]: limited, verify: false });
      server.assign(run);
      const outcome = await runRestoreJob(run, depsFor(server, [target], clock));
      expect(outcome.state).toBe('succeeded');
      const disk = (outcome.report!.disks as Record<string, string>[])[0]!;
      const bytes = Number(which === 'writeLimit' ? disk.writtenBytes : disk.networkBytes);
      const burst = which === 'writeLimit' ? 256 * 1024 : MiB;
      const seconds = (clock.now() - start) / 1000;
      expect(seconds).toBeGreaterThanOrEqual((bytes - burst) / MiB - 0.01);
      expect(seconds).toBeLessThan(bytes / MiB + 1);
    }
  });
});
