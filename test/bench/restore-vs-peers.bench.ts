/**
 * Restore against its peers, in one run on one machine: an NTFS partition filled with real files
 * (a tar of /usr/share and /usr/lib copied in with ntfscp, plus random bytes) is backed up over
 * HTTP into a real server, then restored by `lifeline agent --headless --once` as a child process.
 * Baselines on the same partition bytes: `dd` (bs=1M, conv=fsync) and `partclone.ntfs -r` from a
 * partclone image (then sync). Sources on the target's disk, or in RAM (sourceDir). Page cache
 * dropped before every timed run when root. MB/s = 10^6 partition bytes per second for every row,
 * so they say how fast the partition reaches its state.
 * The agent runs as the appliance runs it: the one-file bundle the exe is made from (here with the
 * native modules from node_modules), under plain `node`; one more restore through the TypeScript
 * loader (`bin/lifeline.mjs`, development only) shows what that loader costs in memory.
 * Peak RSS is the agent process's VmHWM. Scale: the same 1 GiB of files on an 8 GiB and a 64 GiB
 * sparse NTFS disk; a restore's time should follow the used bytes, not the disk size.
 *
 * Needs partclone (Debian package `partclone`); without it that row says so.
 */
import { spawn } from 'node:child_process';
import { mkdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DiskMapping } from '../../src/core/protocol/jobs.ts';
import { DEFAULT_RESTORE_OPTIONS } from '../../src/core/protocol/jobs.ts';
import type { RunView } from '../../src/core/protocol/schemas.ts';
import { bundleApp } from '../../iso-build/steps/bundle.ts';
import { version } from '../../src/main/version.ts';
import { backupFixtureDisk, type FixtureBackup } from '../helpers/make-backup.ts';
import { isRoot, mustRun, runTool, tempDir } from '../helpers/run.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const CLI = join(ROOT, 'bin/lifeline.mjs');
const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const PART_START = MiB;
const REPEATS = 3;

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function dropCaches(): Promise<void> {
  if (!isRoot) return;
  await mustRun('sh', ['-c', 'sync; echo 3 > /proc/sys/vm/drop_caches']);
}

async function blank(path: string, bytes: number): Promise<void> {
  await writeFile(path, '');
  await truncate(path, bytes);
}

async function timed(run: () => Promise<unknown>): Promise<number> {
  await dropCaches();
  const started = performance.now();
  await run();
  return (performance.now() - started) / 1000;
}

/**
 * Where every tool reads from: the server's chunk store, dd's partition and partclone's image.
 * On the target's disk by default (every tool pays for reading its source from the disk it
 * writes, as in all earlier runs of this benchmark); `LIFELINE_BENCH_SOURCES=ram` puts them in
 * RAM (tmpfs), so each tool's disk time is writing the target alone, as in a restore from a
 * server or share on another machine.
 */
async function sourceDir(diskDir: string): Promise<{ path: string; kind: 'ram' | 'disk'; cleanup: () => Promise<void> }> {
  if (process.env.LIFELINE_BENCH_SOURCES === 'ram') {
    if (!(await stat('/dev/shm').catch(() => undefined))?.isDirectory()) throw new Error('LIFELINE_BENCH_SOURCES=ram needs a tmpfs at /dev/shm');
    return { ...(await tempDir('lifeline-bench-', '/dev/shm')), kind: 'ram' };
  }
  const path = join(diskDir, 'sources');
  await mkdir(path);
  return { path, kind: 'disk', cleanup: async () => undefined };
}

/** ~`bytes` of real files as tar pieces of 128 MiB (ntfscp copies files, not folders). */
export async function dataPieces(dir: string, bytes: number): Promise<string[]> {
  await mustRun('sh', ['-c', `tar -C /usr -cf - share lib 2>/dev/null | head -c ${bytes} | split -b 128M - "$1/piece."`, 'sh', dir]);
  return (await mustRun('sh', ['-c', 'ls "$1"/piece.*', 'sh', dir])).trim().split('\n');
}

interface NtfsDisk {
  readonly disk: string;
  /** The NTFS partition alone, the baselines' source. */
  readonly partition: string;
  readonly diskBytes: number;
  readonly partitionBytes: number;
}

/** A GPT disk image with one NTFS partition from 1 MiB to the end, holding `files`; no mounting. */
export async function ntfsDisk(dir: string, name: string, diskBytes: number, files: readonly string[]): Promise<NtfsDisk> {
  const disk = join(dir, `${name}.img`);
  await blank(disk, diskBytes);
  await mustRun('sgdisk', ['-o', '-n', '1:2048:0', '-t', '1:0700', disk]);
  const table = JSON.parse(await mustRun('sfdisk', ['--json', disk])) as { partitiontable: { partitions: { start: number; size: number }[] } };
  const p = table.partitiontable.partitions[0]!;
  const partitionBytes = p.size * 512;
  const partition = join(dir, `${name}.part`);
  await blank(partition, partitionBytes);
  await mustRun('mkntfs', ['-Q', '-F', '-q', '-s', '512', '-p', String(p.start), '-H', '255', '-S', '63', '-L', 'DATA', partition]);
  for (const [i, f] of files.entries()) await mustRun('ntfscp', [partition, f, `file-${i}.bin`]);
  await mustRun('dd', [`if=${partition}`, `of=${disk}`, 'bs=1M', `seek=${PART_START / MiB}`, 'conv=notrunc,sparse', 'status=none']);
  return { disk, partition, diskBytes, partitionBytes };
}

interface RestoreRun {
  readonly dataSeconds: number;
  readonly runSeconds: number;
  readonly peakRssBytes: number;
}

function seconds(from: string | null | undefined, to: string | null | undefined): number {
  if (!from || !to) throw new Error('the run has no start or end time');
  return (Date.parse(to) - Date.parse(from)) / 1000;
}

/** One restore by a fresh agent process onto a blank image; the run's own step times. */
/**
 * The agent's entry as shipped: the exe's bundle, natives required from node_modules (so it lives
 * under node_modules/.cache, where `require` finds them).
 */
export async function bundledAgent(): Promise<string> {
  const outfile = join(ROOT, 'node_modules/.cache/lifeline-bench/lifeline.cjs');
  await bundleApp({ root: ROOT, outfile, nodeVersion: process.versions.node, version, natives: 'installed' });
  return outfile;
}

export async function restoreByAgent(server: TestServer, backup: FixtureBackup, target: string, machineId: string, entry: string = CLI): Promise<RestoreRun> {
  const settings = `${target}.json`;
  await writeFile(settings, JSON.stringify({ version: 1, machineId, hostname: 'bench-vm', pollSeconds: 1 }));
  await dropCaches();
  const child = spawn(process.execPath, [entry, 'agent', '--headless', '--settings', settings, '--server', new URL(server.url).host, '--firmware', 'uefi', '--disk', target, '--once'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  // VmHWM is the process's own high-water mark: the last reading before it exits is the peak.
  let peakRssBytes = 0;
  const sampler = setInterval(() => {
    readFile(`/proc/${child.pid}/status`, 'utf8').then((s) => {
      const kb = Number(/VmHWM:\s+(\d+) kB/.exec(s)?.[1] ?? 0);
      peakRssBytes = Math.max(peakRssBytes, kb * 1024);
    }, () => undefined);
  }, 50);
  try {
    let agentId: string | undefined;
    for (let i = 0; agentId === undefined && i < 300; i++) {
      agentId = (await server.admin.listTargets()).find((t) => t.machineId === machineId)?.agentId;
      if (agentId === undefined) await new Promise((r) => setTimeout(r, 100));
    }
    if (agentId === undefined) throw new Error(`the agent did not register: ${err}`);
    await server.admin.bind(agentId);
    const disks: DiskMapping[] = [{ sourceDisk: 0, targetDisk: target, partitions: [], rebuild: 'full' }];
    const job = await server.admin.createJob({
      name: `bench ${machineId}`, agentId, schedule: { kind: 'now' },
      spec: { kind: 'restore', setId: backup.setId, pointId: backup.pointId, disks, options: DEFAULT_RESTORE_OPTIONS },
    });
    const code = await exited;
    const [run] = await server.admin.listRuns(job.jobId) as [RunView?];
    if (code !== 0 || run?.state !== 'succeeded') throw new Error(`the restore ended ${run?.state} (exit ${code}): ${err}`);
    const data = run.steps.find((s) => s.step === 'data');
    return { dataSeconds: seconds(data?.startedAt, data?.endedAt), runSeconds: seconds(run.startedAt, run.endedAt), peakRssBytes };
  } finally {
    clearInterval(sampler);
    child.kill('SIGKILL');
  }
}

const mbps = (bytes: number, s: number) => Math.round((bytes / 1e6 / s) * 10) / 10;

export async function benchRestoreVsPeers() {
  const work = await tempDir('lifeline-bench-peers-');
  const sources = await sourceDir(work.path);
  const server = await startTestServer({ parentDir: sources.path });
  try {
    const files = await dataPieces(sources.path, GiB);
    await mustRun('sh', ['-c', `head -c ${128 * MiB} /dev/urandom > "$1/random.bin"`, 'sh', sources.path]);
    const main = await ntfsDisk(sources.path, 'main', 1536 * MiB, [...files, join(sources.path, 'random.bin')]);
    const used = (await mustRun('ntfsinfo', ['-m', main.partition])).match(/Free Clusters:\s+(\d+)/);
    const backupMachine = await server.agent();
    const mainBackup = await backupFixtureDisk(backupMachine.client, main.disk, { firmware: 'uefi' });

    const havePartclone = (await runTool('sh', ['-c', 'command -v partclone.ntfs'])).exitCode === 0;
    const partcloneImage = join(sources.path, 'main.pc');
    if (havePartclone) await mustRun('partclone.ntfs', ['-c', '-q', '-s', main.partition, '-O', partcloneImage]);

    const agent = await bundledAgent();
    const dd: number[] = [];
    const partclone: number[] = [];
    const restores: RestoreRun[] = [];
    for (let i = 0; i < REPEATS; i++) {
      const ddTarget = join(work.path, 'dd-target.part');
      await blank(ddTarget, main.partitionBytes);
      dd.push(await timed(() => mustRun('dd', [`if=${main.partition}`, `of=${ddTarget}`, 'bs=1M', 'conv=notrunc,fsync', 'status=none'])));
      await rm(ddTarget);
      if (havePartclone) {
        const pcTarget = join(work.path, 'pc-target.part');
        await blank(pcTarget, main.partitionBytes);
        partclone.push(await timed(async () => {
          await mustRun('partclone.ntfs', ['-r', '-q', '-s', partcloneImage, '-O', pcTarget]);
          await mustRun('sync', ['-f', pcTarget]);
        }));
        await rm(pcTarget);
      }
      const target = join(work.path, `restore-${i}.img`);
      await blank(target, main.diskBytes);
      restores.push(await restoreByAgent(server, mainBackup, target, `bench-main-${i}`, agent));
      await rm(target);
    }
    const loaderTarget = join(work.path, 'restore-tsx.img');
    await blank(loaderTarget, main.diskBytes);
    const throughLoader = await restoreByAgent(server, mainBackup, loaderTarget, 'bench-main-tsx', CLI);
    await rm(loaderTarget);

    // Scale: the same files on a small and a large sparse disk.
    const scale: { diskGiB: number; dataSeconds: number; runSeconds: number; peakRssMiB: number }[] = [];
    for (const gib of [8, 64]) {
      const disk = await ntfsDisk(sources.path, `scale-${gib}`, gib * GiB, files);
      await rm(disk.partition);
      const backup = await backupFixtureDisk(backupMachine.client, disk.disk, { firmware: 'uefi', resource: `scale-${gib}` });
      await rm(disk.disk);
      const target = join(work.path, `scale-${gib}-target.img`);
      await blank(target, disk.diskBytes);
      const r = await restoreByAgent(server, backup, target, `bench-scale-${gib}`, agent);
      await rm(target);
      scale.push({ diskGiB: gib, dataSeconds: r.dataSeconds, runSeconds: r.runSeconds, peakRssMiB: Math.round(r.peakRssBytes / MiB) });
    }

    const bytes = main.partitionBytes;
    const restoreData = median(restores.map((r) => r.dataSeconds));
    const restoreRun = median(restores.map((r) => r.runSeconds));
    const ddS = median(dd);
    const pcS = havePartclone ? median(partclone) : Number.NaN;
    return {
      partitionBytes: bytes,
      ntfsFreeClusters: used?.[1] ?? 'unknown',
      backupReadBytes: mainBackup.result.bytesRead,
      backupUploadedBytes: mainBackup.result.bytesUploaded,
      sources: sources.kind,
      repeats: REPEATS,
      rows: [
        { what: 'lifeline restore, data step', medianSeconds: restoreData, MBps: mbps(bytes, restoreData) },
        { what: 'lifeline restore, whole run (verify included)', medianSeconds: restoreRun, MBps: mbps(bytes, restoreRun) },
        { what: 'dd bs=1M conv=fsync', medianSeconds: ddS, MBps: mbps(bytes, ddS) },
        { what: havePartclone ? 'partclone.ntfs -r + sync' : 'partclone.ntfs: not installed', medianSeconds: pcS, MBps: mbps(bytes, pcS) },
      ],
      ratioToDd: { dataStep: ddS / restoreData, wholeRun: ddS / restoreRun },
      ratioToPartclone: { dataStep: pcS / restoreData, wholeRun: pcS / restoreRun },
      peakRssMiB: Math.round(Math.max(...restores.map((r) => r.peakRssBytes), ...scale.map((r) => r.peakRssMiB * MiB)) / MiB),
      throughTypeScriptLoader: { dataSeconds: throughLoader.dataSeconds, peakRssMiB: Math.round(throughLoader.peakRssBytes / MiB) },
      scale,
      scaleRatio64to8: { dataStep: scale[1]!.dataSeconds / scale[0]!.dataSeconds, wholeRun: scale[1]!.runSeconds / scale[0]!.runSeconds },
    };
  } finally {
    await server.stop();
    await sources.cleanup();
    await work.cleanup();
  }
}
