/**
 * Backup throughput through the real server: `lifeline backup` (a child process, so its peak RSS is
 * its own) images a generated Windows-like GPT disk whose NTFS "Windows" partition holds random and
 * text-like files, into `lifeline server` on loopback. The baseline of the same run is `dd` reading
 * the whole image (bs=1M) to /dev/null. Then an unchanged second backup shows what dedup sends.
 * MB/s = 10^6 bytes per second; "used" rows count the bytes the backup had to read.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeGptUefiDisk } from '../../src/adapters/linux/sample-disks.ts';
import { connectBackupServer } from '../../src/adapters/node/http-backup-server.ts';
import { connectOperator } from '../../src/adapters/node/http-operator-client.ts';
import { startServer } from '../../src/server/server.ts';
import { mustRun, tempDir } from '../helpers/run.ts';

const MiB = 1024 * 1024;

interface ChildResult { readonly ms: number; readonly peakRssBytes: number; readonly stdout: string }

/** Runs a command, sampling its VmHWM (peak resident set) until it exits. */
async function runMeasured(file: string, args: readonly string[]): Promise<ChildResult> {
  const started = performance.now();
  const child = spawn(file, [...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  let peak = 0;
  const sample = async (): Promise<void> => {
    try {
      const status = await readFile(`/proc/${child.pid}/status`, 'utf8');
      const kib = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
      peak = Math.max(peak, kib * 1024);
    } catch { /* exited */ }
  };
  const timer = setInterval(() => { void sample(); }, 50);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearInterval(timer);
  if (code !== 0) throw new Error(`${file} ${args.join(' ')} exited ${String(code)}: ${stderr.slice(-2000)}`);
  return { ms: performance.now() - started, peakRssBytes: peak, stdout };
}

export async function benchBackup(options: { readonly windowsMiB?: number } = {}): Promise<Record<string, unknown>> {
  const windowsMiB = options.windowsMiB ?? 768;
  const dir = await tempDir('lifeline-bench-backup-');
  const server = await startServer({ dataDir: join(dir.path, 'server'), listen: '127.0.0.1', port: 0, tlsPort: null, version: 'bench', durability: 'process' });
  try {
    const fileMiB = Math.floor((windowsMiB * 0.6) / 4);
    const files = [
      ...[0, 1].map((i) => ({ path: `random${i}.bin`, size: fileMiB * MiB, seed: `r${i}` })),
      ...[0, 1].map((i) => ({ path: `text${i}.log`, data: 'lifeline backup benchmark line, compressible text\r\n'.repeat(Math.floor((fileMiB * MiB) / 52)) })),
    ];
    const disk = await makeGptUefiDisk(dir.path, { sizesMiB: { windows: windowsMiB }, files: { windows: files } });

    // The CLI registers as lifeline-backup:<hostname>; an administrator binds that machine first.
    const hostname = 'BENCH-SOURCE';
    const pre = connectBackupServer({ url: server.httpUrl });
    const { agentId } = await pre.register({ machineId: `lifeline-backup:${hostname}`, hostname, inventory: { firmware: 'uefi', disks: [], nics: [] } });
    await pre.close();
    const admin = connectOperator({ url: server.httpUrl, token: server.adminToken as string });
    await admin.bind(agentId);
    await admin.close();

    const ddStart = performance.now();
    await mustRun('dd', [`if=${disk.path}`, 'of=/dev/null', 'bs=1M', 'status=none']);
    const ddMs = performance.now() - ddStart;

    const args = ['bin/lifeline.mjs', 'backup', '--server', server.httpUrl, '--source', disk.path, '--resource', hostname, '--hostname', hostname, '--firmware', 'uefi', '--channels', '2', '--json'];
    const first = await runMeasured(process.execPath, args);
    const second = await runMeasured(process.execPath, args);
    const r1 = JSON.parse(first.stdout) as Record<string, unknown>;
    const r2 = JSON.parse(second.stdout) as Record<string, unknown>;
    const imageBytes = Number(disk.sizeBytes);
    const readBytes = Number(r1['bytesRead']);
    const mbps = (bytes: number, ms: number) => Math.round((bytes / 1e6 / (ms / 1000)) * 10) / 10;
    return {
      imageBytes,
      rows: [
        { what: 'dd if=image of=/dev/null bs=1M (baseline)', seconds: ddMs / 1000, imageMBps: mbps(imageBytes, ddMs) },
        { what: 'lifeline backup, first (lz4, 2 channels)', seconds: first.ms / 1000, imageMBps: mbps(imageBytes, first.ms), usedMBps: mbps(readBytes, first.ms), uploadedBytes: Number(r1['bytesUploaded']), peakRssMiB: Math.round(first.peakRssBytes / MiB) },
        { what: 'lifeline backup, unchanged second', seconds: second.ms / 1000, imageMBps: mbps(imageBytes, second.ms), usedMBps: mbps(readBytes, second.ms), uploadedBytes: Number(r2['bytesUploaded']), peakRssMiB: Math.round(second.peakRssBytes / MiB) },
      ],
      ratioFirstVsDd: Math.round((ddMs / first.ms) * 100) / 100,
      bytesReadByBackup: readBytes,
      note: 'seconds include starting Node and tsx (about 1 s); dd reads every byte, the backup only used blocks, table sectors and gaps',
    };
  } finally {
    await server.stop();
    await dir.cleanup();
  }
}
