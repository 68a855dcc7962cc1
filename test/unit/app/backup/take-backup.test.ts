import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MemoryBackupServer } from '../../../../src/adapters/memory/memory-backup-server.ts';
import { MemoryDisk } from '../../../../src/adapters/memory/memory-disk.ts';
import { NodeSetKeys } from '../../../../src/adapters/node/set-keys.ts';
import type { BackupNotice, BackupProgress } from '../../../../src/app/backup/observer.ts';
import { DEFAULT_BACKUP_OPTIONS } from '../../../../src/app/backup/options.ts';
import { takeBackup, type BackupRequest } from '../../../../src/app/backup/take-backup.ts';
import { MAX_CHUNK_OVERHEAD } from '../../../../src/core/backup/chunk-format.ts';
import { validateManifest, manifestToJson, type BackupManifest } from '../../../../src/core/backup/manifest.ts';
import { WEEKDAYS } from '../../../../src/core/backup/rate-window.ts';
import { RecoveryError } from '../../../../src/core/errors.ts';
import type { BackupJobOptions } from '../../../../src/core/protocol/jobs.ts';
import type { ChunkStat } from '../../../../src/ports/chunk-store.ts';
import type { Clock } from '../../../../src/ports/clock.ts';
import { MemoryBackupServerWithStats } from '../../../helpers/make-backup.ts';
import { noise } from '../../../helpers/noise.ts';

const KiB = 1024;
const MiB = 1024 * KiB;
/** Wednesday 7 January 2026, 12:00 UTC. */
const WEDNESDAY_NOON = Date.UTC(2026, 0, 7, 12);
/** Saturday 10 January 2026, 12:00 UTC. */
const SATURDAY_NOON = Date.UTC(2026, 0, 10, 12);

/** Time moves only when someone sleeps. */
class FakeClock implements Clock {
  readonly sleeps: number[] = [];
  constructor(public t = WEDNESDAY_NOON) {}
  now(): number {
    return this.t;
  }
  async sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    this.t += ms;
  }
  get slept(): number {
    return this.sleeps.reduce((a, b) => a + b, 0);
  }
}

/** A disk without a partition table: `dataBlocks` distinct 64 KiB blocks of noise, then zeros. */
function rawDisk(sizeBytes: number, dataBlocks: number): MemoryDisk {
  const bytes = new Uint8Array(sizeBytes);
  for (let i = 0; i < dataBlocks; i++) bytes.set(noise(64 * KiB, `block ${i}`), i * 64 * KiB);
  return MemoryDisk.fromBytes(bytes, { path: 'raw.img' });
}

async function registered<T extends MemoryBackupServer>(server: T): Promise<T> {
  await server.register({ machineId: 'm', hostname: 'h', inventory: { firmware: 'uefi', disks: [], nics: [] } });
  return server;
}

function request(disk: MemoryDisk, options: Partial<BackupJobOptions> = {}, extra: Partial<BackupRequest> = {}): BackupRequest {
  return {
    sources: [{ device: disk, number: 0 }],
    resource: 'unit',
    hostname: 'unit-host',
    firmware: 'uefi',
    options: { ...DEFAULT_BACKUP_OPTIONS, blockSize: 64 * KiB, ...options },
    now: () => new Date(WEDNESDAY_NOON),
    ...extra,
  };
}

const keys = new NodeSetKeys();
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

describe('takeBackup on a disk without a partition table', () => {
  it('images it whole: data chunks for data, one zero extent for the zeros, a repeated block stored once', async () => {
    const bytes = new Uint8Array(2 * MiB);
    bytes.set(noise(64 * KiB, 'a'), 0);
    bytes.set(noise(64 * KiB, 'b'), 64 * KiB);
    bytes.set(noise(64 * KiB, 'a'), 512 * KiB); // the same content as block 0
    const server = await registered(new MemoryBackupServerWithStats());
    const result = await takeBackup(server, keys, request(MemoryDisk.fromBytes(bytes)));

    const disk = result.manifest.disks[0]!;
    expect(disk).toMatchObject({ style: 'raw', identity: {}, tableSectors: [], layout: { partitions: [] } });
    expect(disk.extents.map((e) => [e.kind, e.diskOffset, e.length])).toEqual([
      ['data', 0n, 65536n],
      ['data', 65536n, 65536n],
      ['zero', 131072n, 393216n],
      ['data', 524288n, 65536n],
      ['zero', 589824n, 2n * 1048576n - 589824n],
    ]);
    const [first, , , repeat] = disk.extents;
    expect(first?.kind === 'data' && repeat?.kind === 'data' && first.chunkId === repeat.chunkId).toBe(true);
    expect(result).toMatchObject({ chunksTotal: 2, chunksUploaded: 2, bytesRead: 2n * 1048576n, zeroBytes: 2n * 1048576n - 3n * 65536n });
    expect(server.puts).toHaveLength(2);
    expect(validateManifest(JSON.parse(JSON.stringify(manifestToJson(result.manifest))))).toEqual(result.manifest);
  });

  it('reports its stages and ends with everything read', async () => {
    const seen: BackupProgress[] = [];
    const server = await registered(new MemoryBackupServerWithStats());
    await takeBackup(server, keys, request(rawDisk(MiB, 4)), { progress: (p) => seen.push(p) });
    expect([...new Set(seen.map((p) => p.stage))]).toEqual(['opening-set', 'surveying', 'transferring', 'committing', 'done']);
    const last = seen[seen.length - 1]!;
    expect(last.bytesRead).toBe(last.bytesTotal);
    expect(last.chunksUploaded).toBe(4);
    expect(last.bufferedBytes).toBe(0);
  });
});

describe('takeBackup of several disks', () => {
  it('puts every source disk into one point under its own number, sharing chunks between them', async () => {
    const server = await registered(new MemoryBackupServerWithStats());
    const a = rawDisk(MiB, 2);
    const b = rawDisk(2 * MiB, 3); // its first two blocks equal a's
    const result = await takeBackup(server, keys, { ...request(a), sources: [{ device: a, number: 0 }, { device: b, number: 3 }] });
    expect(result.manifest.disks.map((d) => [d.number, d.geometry.sizeBytes])).toEqual([[0, 1048576n], [3, 2097152n]]);
    expect(result.chunksTotal).toBe(3);
    expect(server.puts).toHaveLength(3);
    expect(server.committedPoints()).toHaveLength(1);
  });
});

describe('takeBackup on a damaged NTFS partition', () => {
  it('copies the partition whole, warns, and still records the MBR identity', async () => {
    const bytes = new Uint8Array(4 * MiB);
    const view = new DataView(bytes.buffer);
    view.setUint32(440, 0x11223344, true);
    bytes[446 + 4] = 0x07;
    view.setUint32(446 + 8, 2048, true);
    view.setUint32(446 + 12, 4096, true);
    bytes[510] = 0x55;
    bytes[511] = 0xaa;
    // "NTFS    " at offset 3 makes it NTFS; the rest of the boot sector is nonsense.
    bytes.set(new TextEncoder().encode('NTFS    '), MiB + 3);
    bytes.fill(0xee, 3 * MiB - 512, 3 * MiB);
    const notices: BackupNotice[] = [];
    const server = await registered(new MemoryBackupServerWithStats());
    const result = await takeBackup(server, keys, request(MemoryDisk.fromBytes(bytes)), { notice: (n) => notices.push(n) });

    const disk = result.manifest.disks[0]!;
    expect(disk.style).toBe('mbr');
    expect(disk.identity).toEqual({ mbrSignature: 0x11223344 });
    expect(disk.tableSectors.map((t) => [t.lba, t.count])).toEqual([[0n, 1]]);
    expect(disk.layout.partitions).toMatchObject([{ number: 1, startLba: 2048n, sectorCount: 4096n, type: '0x07', filesystem: 'unknown' }]);
    expect(disk.layout.partitions[0]?.usedBytes).toBeUndefined();
    expect(notices.map((n) => n.code)).toContain('backup.blockmap-fallback');
    // Whole disk: gap, the whole partition, the tail.
    expect(result.bytesRead).toBe(4n * 1048576n + 512n);
  });
});

describe('option checks', () => {
  it.each([
    [{ blockSize: 100_000 }, 'blockSize', /block size 100000 bytes is not offered; choose one of 64 KiB, .*2 MiB/],
    [{ blockSize: 4 * MiB }, 'blockSize', /not offered/],
    [{ channels: 0 }, 'channels', /channels must be a whole number from 1 to 64, not 0/],
    [{ channels: 65 }, 'channels', /from 1 to 64, not 65/],
    [{ channels: 1.5 }, 'channels', /whole number/],
    [{ compression: 'zip' as 'fast' }, 'compression', /"fast" or "none"/],
    [{ reconnectWindowMinutes: 61 }, 'reconnectWindowMinutes', /1–60 minutes/],
    [{ transferLimit: { windows: [], defaultBytesPerSecond: -1 } }, 'rate', /positive/],
  ])('refuses %j before touching the server', async (options, option, message) => {
    const server = await registered(new MemoryBackupServerWithStats());
    const failure = takeBackup(server, keys, request(rawDisk(MiB, 1), options, { clock: new FakeClock() }));
    await expect(failure).rejects.toMatchObject({ code: 'backup.bad-option', data: { option } });
    await expect(failure).rejects.toThrow(message);
    expect(server.sets.size).toBe(0);
  });

  it('refuses an empty or ambiguous list of sources and rate limits without a clock', async () => {
    const server = await registered(new MemoryBackupServerWithStats());
    const disk = rawDisk(MiB, 1);
    await expect(takeBackup(server, keys, { ...request(disk), sources: [] })).rejects.toMatchObject({ code: 'backup.bad-request' });
    await expect(takeBackup(server, keys, { ...request(disk), sources: [{ device: disk, number: 1 }, { device: disk, number: 1 }] }))
      .rejects.toThrow('source disk number 1 is given twice');
    await expect(takeBackup(server, keys, request(disk, { readLimit: { windows: [], defaultBytesPerSecond: MiB } })))
      .rejects.toMatchObject({ code: 'backup.bad-option', data: { option: 'clock' } });
    expect(server.sets.size).toBe(0);
  });
});

describe('rate limits on a fake clock', () => {
  it('paces reads: total sleep = (bytes read − one block of burst) / rate', async () => {
    const clock = new FakeClock();
    const rate = MiB;
    const server = await registered(new MemoryBackupServerWithStats());
    const result = await takeBackup(server, keys, request(rawDisk(4 * MiB, 8), { readLimit: { windows: [], defaultBytesPerSecond: rate } }, { clock }));
    expect(result.bytesRead).toBe(4n * 1048576n);
    const expected = ((4 * MiB - 64 * KiB) / rate) * 1000; // 3937.5 ms
    expect(clock.sleeps).toHaveLength(63);
    expect(Math.abs(clock.slept - expected)).toBeLessThanOrEqual(clock.sleeps.length);
  });

  it('paces uploads: total sleep = (bytes sent − one block of burst) / rate', async () => {
    const clock = new FakeClock();
    const rate = 256 * KiB;
    const server = await registered(new MemoryBackupServerWithStats());
    const result = await takeBackup(server, keys, request(rawDisk(2 * MiB, 16), {
      compression: 'none', channels: 1, transferLimit: { windows: [], defaultBytesPerSecond: rate },
    }, { clock }));
    expect(result.chunksUploaded).toBe(16);
    const sent = Number(result.bytesUploaded);
    expect(sent).toBe(server.uploadedBytes);
    const expected = ((sent - 64 * KiB) / rate) * 1000;
    // One channel: the blocks go in groups of four (one batched put each), paced per group; each
    // blob is a block plus its header, so even the first group exceeds the one-block burst.
    expect(clock.sleeps).toHaveLength(4);
    expect(clock.sleeps.slice(1).every((ms) => ms === 1001 || ms === 1000)).toBe(true);
    expect(Math.abs(clock.slept - expected)).toBeLessThanOrEqual(clock.sleeps.length);
  });

  it('applies a window only when it is in force (weekdays 08:00–18:00)', async () => {
    const limit = { transferLimit: { windows: [{ days: WEEKDAYS, startMinute: 480, endMinute: 1080, bytesPerSecond: 256 * KiB }] } };
    const saturday = new FakeClock(SATURDAY_NOON);
    await takeBackup(await registered(new MemoryBackupServerWithStats()), keys, request(rawDisk(MiB, 8), limit, { clock: saturday }));
    expect(saturday.sleeps).toEqual([]);
    const wednesday = new FakeClock(WEDNESDAY_NOON);
    await takeBackup(await registered(new MemoryBackupServerWithStats()), keys, request(rawDisk(MiB, 8), limit, { clock: wednesday }));
    expect(wednesday.slept).toBeGreaterThan(1500);
  });
});

/** Puts that take a while, so a reader that ignored the bound would run far ahead. */
class SlowServer extends MemoryBackupServerWithStats {
  override async putChunk(id: string, blob: Uint8Array, storedHash: string): Promise<ChunkStat> {
    await new Promise((resolve) => setTimeout(resolve, 2));
    return super.putChunk(id, blob, storedHash);
  }
}

describe('memory', () => {
  it.each([1, 2, 4])('holds at most (4 + 4) × channels blocks: the queued batch and the groups in flight (channels %i)', async (channels) => {
    const blockSize = 64 * KiB;
    const server = await registered(new SlowServer());
    const result = await takeBackup(server, keys, request(rawDisk(8 * MiB, 128), { channels, compression: 'none' }));
    expect(result.chunksUploaded).toBe(128);
    expect(result.peakBufferedBytes).toBeGreaterThanOrEqual(channels * blockSize);
    expect(result.peakBufferedBytes).toBeLessThanOrEqual(8 * channels * blockSize + 4 * channels * MAX_CHUNK_OVERHEAD);
  });
});

describe('server failures', () => {
  it('retries a retryable failure after a backoff and finishes', async () => {
    const clock = new FakeClock();
    const notices: BackupNotice[] = [];
    const server = await registered(new MemoryBackupServerWithStats());
    server.failNext('putChunk', new RecoveryError('network.reset', 'connection reset', { retryable: true }));
    server.failNext('putChunk', new RecoveryError('server.busy', 'busy', { retryable: true }));
    const result = await takeBackup(server, keys, request(rawDisk(MiB, 4), {}, { clock }), { notice: (n) => notices.push(n) });
    expect(clock.sleeps).toEqual([1000, 2000]);
    expect(notices.filter((n) => n.code === 'backup.retrying')).toHaveLength(2);
    expect(server.committedPoints().map((p) => p.pointId)).toEqual([result.pointId]);
  });

  it('gives up when the reconnect window has passed, committing nothing', async () => {
    class DownServer extends MemoryBackupServerWithStats {
      override async putChunk(): Promise<ChunkStat> {
        throw new RecoveryError('network.unreachable', 'no route to host', { retryable: true });
      }
    }
    const clock = new FakeClock();
    const server = await registered(new DownServer());
    await expect(takeBackup(server, keys, request(rawDisk(MiB, 4), { reconnectWindowMinutes: 1 }, { clock }))).rejects.toMatchObject({ code: 'network.unreachable' });
    expect(clock.slept).toBe(60_000);
    expect(clock.sleeps).toEqual([1000, 2000, 4000, 8000, 16000, 29000]);
    expect(server.committedPoints()).toEqual([]);
  });

  it('does not retry a failure that is not retryable, nor without a clock', async () => {
    const server = await registered(new MemoryBackupServerWithStats());
    server.failNext('putChunk', new RecoveryError('chunk.hash-mismatch', 'bad upload'));
    const clock = new FakeClock();
    await expect(takeBackup(server, keys, request(rawDisk(MiB, 4), {}, { clock }))).rejects.toMatchObject({ code: 'chunk.hash-mismatch' });
    expect(clock.sleeps).toEqual([]);
    server.failNext('putChunk', new RecoveryError('server.busy', 'busy', { retryable: true }));
    await expect(takeBackup(server, keys, request(rawDisk(MiB, 4)))).rejects.toMatchObject({ code: 'server.busy' });
    expect(server.committedPoints()).toEqual([]);
  });

  it('treats a commit whose answer was lost as done once the server shows the point', async () => {
    class LostAnswer extends MemoryBackupServerWithStats {
      lost = false;
      override async commitPoint(pointId: string, manifest: BackupManifest): Promise<void> {
        await super.commitPoint(pointId, manifest);
        if (!this.lost) {
          this.lost = true;
          throw new RecoveryError('network.reset', 'connection reset before the answer', { retryable: true });
        }
      }
    }
    const server = await registered(new LostAnswer());
    const result = await takeBackup(server, keys, request(rawDisk(MiB, 2), {}, { clock: new FakeClock() }));
    expect(server.committedPoints().map((p) => p.pointId)).toEqual([result.pointId]);
  });
});

describe('dedup against the chunks the server holds', () => {
  it('uploads nothing the second time and records the stat of the blob the server kept', async () => {
    const server = await registered(new MemoryBackupServer());
    const disk = rawDisk(MiB, 4);
    const first = await takeBackup(server, keys, request(disk, {}, { passphrase: 'pass' }));
    const second = await takeBackup(server, keys, request(disk, {}, { passphrase: 'pass' }));
    expect(first.chunksUploaded).toBeGreaterThan(0);
    expect(second.chunksUploaded).toBe(0);
    expect(second.bytesUploaded).toBe(0n);
    // An encrypted blob differs on every upload (random nonce); the manifest names the kept one.
    for (const e of second.manifest.disks[0]!.extents) {
      if (e.kind !== 'data') continue;
      const kept = server.chunks.get(e.chunkId)!;
      expect(e.storedHash).toBe(sha(kept));
      expect(e.storedLength).toBe(kept.length);
    }
    expect(second.manifest.disks).toEqual(first.manifest.disks);
  });
});
