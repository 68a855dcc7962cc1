/**
 * `lifeline demo` (what `npm start` runs): a server on the embedded defaults with a backup of a
 * generated Windows-like disk, and the appliance with a blank image as its only disk. The operator
 * side binds the appliance and queues the restore as soon as it registers, so pressing Start is all
 * a newcomer does; afterwards the restored image is checked with sgdisk and ntfs-3g.
 */
import { mkdir, rm, truncate, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ImageFileDevice } from '../../adapters/linux/image-file.ts';
import { makeGptUefiDisk, type FixtureDisk } from '../../adapters/linux/sample-disks.ts';
import { connectBackupServer } from '../../adapters/node/http-backup-server.ts';
import { connectOperator, type OperatorClient } from '../../adapters/node/http-operator-client.ts';
import { NodeSetKeys } from '../../adapters/node/set-keys.ts';
import { systemClock } from '../../adapters/node/system-clock.ts';
import { DEFAULT_BACKUP_OPTIONS } from '../../app/backup/options.ts';
import { takeBackup } from '../../app/backup/take-backup.ts';
import { DEFAULT_RESTORE_OPTIONS } from '../../core/protocol/jobs.ts';
import { startServer } from '../../server/server.ts';
import { booleanOption, integerOption, stringOption } from '../cli-kit.ts';
import type { Command, CommandIo } from '../cli-kit.ts';
import { ensureDemoTools } from '../demo/demo-tools.ts';
import { verifyRestoredSample } from '../demo/verify-sample.ts';
import { version } from '../version.ts';

const TARGET_MACHINE = 'lifeline-demo-target';

/** Backs the sample disk up as the machine it came from would. */
async function backUpSample(url: string, admin: OperatorClient, sample: FixtureDisk): Promise<void> {
  const client = connectBackupServer({ url });
  const device = await ImageFileDevice.open(sample.path, { writable: false });
  try {
    const { agentId } = await client.register({ machineId: 'lifeline-demo-source', hostname: 'WIN-SAMPLE', inventory: { firmware: 'uefi', disks: [], nics: [] } });
    await admin.bind(agentId);
    await takeBackup(client, new NodeSetKeys(), {
      sources: [{ device, number: 0 }], resource: 'WIN-SAMPLE', hostname: 'WIN-SAMPLE', firmware: 'uefi', options: DEFAULT_BACKUP_OPTIONS, clock: systemClock,
    });
  } finally {
    await device.close();
    await client.close();
  }
}

/** The operator's part: bind the appliance when it shows up and queue the restore of the sample. */
async function queueRestoreWhenOnline(admin: OperatorClient, target: string, stop: { stopped: boolean }): Promise<string | undefined> {
  const [set] = await admin.listSets();
  const point = set === undefined ? undefined : (await admin.getSet(set.setId)).points?.find((p) => p.state === 'committed');
  if (set === undefined || point === undefined) throw new Error('the sample backup has no committed restore point');
  while (!stop.stopped) {
    const machine = (await admin.listTargets()).find((t) => t.machineId === TARGET_MACHINE);
    if (machine !== undefined) {
      if (!machine.bound) await admin.bind(machine.agentId);
      const job = await admin.createJob({
        name: 'Demo: restore WIN-SAMPLE', agentId: machine.agentId, schedule: { kind: 'now' },
        spec: { kind: 'restore', setId: set.setId, pointId: point.pointId, disks: [{ sourceDisk: 0, targetDisk: target, partitions: [], rebuild: 'full' }], options: DEFAULT_RESTORE_OPTIONS },
      });
      return job.jobId;
    }
    await systemClock.sleep(500);
  }
  return undefined;
}

async function runDemo(io: CommandIo, o: { dir: string; port: number; headless: boolean }): Promise<number> {
  if (!ensureDemoTools(io.out)) return 1;
  await rm(o.dir, { recursive: true, force: true });
  await mkdir(join(o.dir, 'disks'), { recursive: true });
  const logLines: string[] = [];
  const server = await startServer({
    dataDir: join(o.dir, 'server'), listen: '127.0.0.1', port: o.port, tlsPort: null, version, log: (line) => logLines.push(line),
  });
  const stop = { stopped: false };
  const admin = connectOperator({ url: server.httpUrl, token: server.adminToken as string });
  try {
    io.out(`Server: ${server.httpUrl} (data in ${join(o.dir, 'server')})`);
    io.out('Building a Windows-like GPT disk (EFI system, MSR, Windows, Recovery) with sgdisk, mkntfs and mkfs.vfat …');
    const sample = await makeGptUefiDisk(join(o.dir, 'disks'));
    await backUpSample(server.httpUrl, admin, sample);
    io.out(`Backed up ${sample.path} to the server.`);
    const target = join(o.dir, 'disks', 'blank-target.img');
    await writeFile(target, '');
    await truncate(target, Number(sample.sizeBytes));
    const settingsFile = join(o.dir, 'appliance-settings.json');
    await writeFile(settingsFile, `${JSON.stringify({ version: 1, disks: [target], firmware: 'uefi', machineId: TARGET_MACHINE, hostname: 'DEMO-TARGET', pollSeconds: 1 }, null, 2)}\n`);
    const stateDir = join(o.dir, 'appliance-state');
    await mkdir(stateDir, { recursive: true });
    await writeFile(join(stateDir, 'appliance.json'), `${JSON.stringify({ server: { address: '127.0.0.1', port: server.httpPort, ssl: false, accessKey: '', pinnedFingerprint: null } }, null, 2)}\n`);
    const queued = queueRestoreWhenOnline(admin, target, stop);
    queued.catch(() => undefined);

    // main() is imported late: it lists this command too.
    const { main } = await import('../cli.ts');
    let exitCode: number;
    if (o.headless) {
      exitCode = await main(['agent', '--headless', '--server', `127.0.0.1:${server.httpPort}`, '--settings', settingsFile, '--once'], io);
    } else {
      io.out('\nThe appliance starts now, with the blank image as its disk and the server already filled in.\n'
        + 'Press Space on "Start" (Tab moves between controls), watch the Restore tab, then Ctrl+C to leave.');
      await systemClock.sleep(2500);
      exitCode = await main(['appliance', '--settings', settingsFile, '--state', stateDir], io);
    }
    stop.stopped = true;
    const jobId = await queued;
    const runs = jobId === undefined ? [] : await admin.listRuns(jobId);
    const state = runs[0]?.state ?? 'not started';
    io.out(`\nRestore job: ${state}`);
    if (state !== 'succeeded') return exitCode === 0 ? 1 : exitCode;
    const verdict = await verifyRestoredSample(sample, target);
    io.out(verdict.lines.join('\n'));
    return verdict.ok ? 0 : 1;
  } finally {
    stop.stopped = true;
    await admin.close().catch(() => undefined);
    await server.stop();
  }
}

export const demo: Command = {
  path: ['demo'],
  summary: 'Try it: a server with a sample Windows-like backup, restored by the appliance onto a blank image.',
  options: {
    dir: { type: 'string', valueName: 'DIR', description: 'Work folder, emptied first (default ./lifeline-demo).' },
    port: { type: 'string', valueName: 'PORT', description: 'Server port on 127.0.0.1 (default 50305; 0 picks a free one).' },
    headless: { type: 'boolean', description: 'Run the appliance without screens (lifeline agent --headless --once).' },
  },
  details: 'Needs the Debian packages fdisk gdisk ntfs-3g dosfstools mtools; as root the demo installs missing ones with apt-get.',
  async run(args, io) {
    const port = integerOption(args, 'port', { min: 0, max: 65535 }) ?? 50305;
    const dir = resolve(stringOption(args, 'dir') ?? 'lifeline-demo');
    return runDemo(io, { dir, port, headless: booleanOption(args, 'headless') });
  },
};
