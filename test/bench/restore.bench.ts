/**
 * Restore throughput: a generated GPT image (one partition of mixed random, text-like and zero
 * blocks) is backed up into the in-memory server, then restored by the engine onto a blank image
 * file, verification included; `dd` of the source image onto another blank image (bs=1M,
 * conv=fsync) is measured in the same run as the baseline. MB/s = 10^6 image bytes per second, so
 * both rows say how fast the target reaches the source's state. Peak RSS is sampled during the
 * restore; the in-memory server's chunks live in the same process and are part of it (see
 * rssBeforeRestoreBytes).
 */
import { randomFillSync } from 'node:crypto';
import { open, rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LinuxBlockDeviceOpener } from '../../src/adapters/linux/linux-opener.ts';
import { linuxAsrSession, linuxBootTool, linuxDriverTool } from '../../src/adapters/linux/unsupported-tools.ts';
import { MemoryBackupServer } from '../../src/adapters/memory/memory-backup-server.ts';
import { NodeSetKeys } from '../../src/adapters/node/set-keys.ts';
import { systemClock } from '../../src/adapters/node/system-clock.ts';
import { runRestoreJob } from '../../src/app/restore/run-restore-job.ts';
import { DEFAULT_RESTORE_OPTIONS } from '../../src/core/protocol/jobs.ts';
import type { RestoreOptions } from '../../src/core/protocol/jobs.ts';
import { backupFixtureDisk } from '../helpers/make-backup.ts';
import { mustRun, tempDir } from '../helpers/run.ts';

const MiB = 1024 * 1024;

export interface RestoreBenchOptions {
  /** Image size (default 320 MiB). */
  readonly imageMiB?: number;
  readonly options?: Partial<RestoreOptions>;
}

export interface RestoreBenchResult {
  readonly imageBytes: number;
  /** Bytes the backup holds as data (the rest are zero extents). */
  readonly dataBytes: number;
  readonly restoreSeconds: number;
  readonly restoreMBps: number;
  readonly ddSeconds: number;
  readonly ddMBps: number;
  /** restoreMBps / ddMBps. */
  readonly ratioToDd: number;
  readonly peakRssBytes: number;
  readonly rssBeforeRestoreBytes: number;
  readonly options: Pick<RestoreOptions, 'writeBlockSize' | 'channels' | 'verify'>;
}

/** One partition over the whole image; blocks of 4 MiB cycle through random, text-like and zero. */
async function makeImage(path: string, bytes: number): Promise<number> {
  await writeFile(path, '');
  await truncate(path, bytes);
  await mustRun('sgdisk', ['-o', '-n', '1:2048:0', '-t', '1:ebd0a0a2-b9e5-4433-87c0-68b6b72699c7', path]);
  const handle = await open(path, 'r+');
  const random = Buffer.alloc(4 * MiB);
  const text = Buffer.alloc(4 * MiB, 'Lifeline restore benchmark: compressible, text-like bytes. ');
  let data = 0;
  try {
    for (let at = MiB, i = 0; at + random.length <= bytes - MiB; at += random.length, i++) {
      if (i % 3 === 2) continue;
      let block = text;
      if (i % 3 === 0) block = randomFillSync(random);
      // A counter every 64 KiB keeps text blocks from deduplicating into one chunk.
      else for (let o = 0; o < text.length; o += 65536) text.writeUInt32LE(i, o);
      await handle.write(block, 0, block.length, at);
      data += block.length;
    }
  } finally {
    await handle.close();
  }
  return data;
}

async function blank(path: string, bytes: number): Promise<void> {
  await writeFile(path, '');
  await truncate(path, bytes);
}

export async function benchRestore(options: RestoreBenchOptions = {}): Promise<RestoreBenchResult> {
  const bytes = (options.imageMiB ?? 320) * MiB;
  const work = await tempDir('lifeline-bench-restore-');
  try {
    const source = join(work.path, 'source.img');
    const dataBytes = await makeImage(source, bytes);
    const server = new MemoryBackupServer();
    const backup = await backupFixtureDisk(server, source, { firmware: 'uefi' });

    const ddTarget = join(work.path, 'dd.img');
    await blank(ddTarget, bytes);
    let started = performance.now();
    await mustRun('dd', [`if=${source}`, `of=${ddTarget}`, 'bs=1M', 'conv=notrunc,fsync', 'status=none']);
    const ddSeconds = (performance.now() - started) / 1000;
    await rm(ddTarget);

    const target = join(work.path, 'target.img');
    await blank(target, bytes);
    const restoreOptions: RestoreOptions = { ...DEFAULT_RESTORE_OPTIONS, ...options.options };
    const run = { runId: 'bench', jobId: 'bench', jobName: 'bench', spec: { kind: 'restore' as const, setId: backup.setId, pointId: backup.pointId, disks: [{ sourceDisk: 0, targetDisk: target, partitions: [], rebuild: 'full' as const }], options: restoreOptions } };
    server.assign(run);
    const rssBefore = process.memoryUsage().rss;
    let peak = rssBefore;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 25);
    started = performance.now();
    const outcome = await runRestoreJob(run, {
      server, keys: new NodeSetKeys(), disks: new LinuxBlockDeviceOpener(), clock: systemClock,
      inventory: { firmware: 'uefi', disks: [{ path: target, sizeBytes: String(bytes), logicalSectorSize: 512, physicalSectorSize: 512, protected: false }], nics: [] },
      drivers: linuxDriverTool, boot: linuxBootTool, asr: linuxAsrSession,
    });
    const restoreSeconds = (performance.now() - started) / 1000;
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage().rss);
    if (outcome.state !== 'succeeded') throw new Error(`the benchmark restore ended ${outcome.state}: ${outcome.error?.code} ${outcome.error?.message}`);
    const restoreMBps = bytes / 1e6 / restoreSeconds;
    const ddMBps = bytes / 1e6 / ddSeconds;
    return {
      imageBytes: bytes, dataBytes, restoreSeconds, restoreMBps, ddSeconds, ddMBps, ratioToDd: restoreMBps / ddMBps,
      peakRssBytes: peak, rssBeforeRestoreBytes: rssBefore,
      options: { writeBlockSize: restoreOptions.writeBlockSize, channels: restoreOptions.channels, verify: restoreOptions.verify },
    };
  } finally {
    await work.cleanup();
  }
}
