/**
 * `lifeline agent --headless` end to end on a Linux host: the command wired to a strict in-memory
 * server (in place of the HTTP adapter), image files as disks, real shell scripts; a fixture disk
 * backed up by the backup engine is restored by an assigned run, with --once semantics.
 */
import { readFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LinuxBlockDeviceOpener } from '../../../src/adapters/linux/linux-opener.ts';
import { MemoryBackupServer } from '../../../src/adapters/memory/memory-backup-server.ts';
import type { AgentConfig } from '../../../src/core/appliance-settings.ts';
import { parseCommandArgs, UsageError } from '../../../src/main/cli-kit.ts';
import type { Command } from '../../../src/main/cli-kit.ts';
import { agentCommand, defaultAgentDeps } from '../../../src/main/commands/agent.ts';
import { makeMbrBiosDisk, type FixtureDisk } from '../../helpers/fixture-disks.ts';
import { backupFixtureDisk, type FixtureBackup } from '../../helpers/make-backup.ts';
import { mustRun, tempDir } from '../../helpers/run.ts';
import { fullDisk, restoreRun, YieldingClock } from '../../unit/app/restore/restore-fixtures.ts';

let work: { path: string; cleanup: () => Promise<void> };
let mbr: FixtureDisk;
let server: MemoryBackupServer;
let backup: FixtureBackup;

beforeAll(async () => {
  work = await tempDir('lifeline-agent-');
  mbr = await makeMbrBiosDisk(work.path);
  server = new MemoryBackupServer();
  backup = await backupFixtureDisk(server, mbr.path, { firmware: 'bios' });
}, 120_000);
afterAll(() => work.cleanup());

async function blankImage(name: string): Promise<string> {
  const path = join(work.path, name);
  await writeFile(path, '');
  await truncate(path, Number(mbr.sizeBytes));
  return path;
}

function command(connected: AgentConfig[]): Command {
  return agentCommand({
    ...defaultAgentDeps,
    connect: (config) => {
      connected.push(config);
      return server;
    },
    disks: new LinuxBlockDeviceOpener(),
    clock: new YieldingClock(),
    hostname: () => 'restore-vm',
    hostFirmware: () => 'uefi',
    machineId: async () => 'vm-0001',
    nics: () => [{ name: 'eth0', mac: '52:54:00:12:34:56', addresses: ['10.0.0.9'], up: true }],
    onStop: undefined,
  });
}

async function runAgent(argv: string[], connected: AgentConfig[] = []): Promise<{ code: number; out: string[]; err: string[] }> {
  const cmd = command(connected);
  const out: string[] = [];
  const err: string[] = [];
  const code = await cmd.run(parseCommandArgs(cmd, argv), { out: (t) => out.push(t), err: (t) => err.push(t) });
  return { code, out, err };
}

describe('lifeline agent --headless', () => {
  it('registers the given disks only, runs the assigned restore with its scripts, and exits 0 with --once', async () => {
    const target = await blankImage('target.img');
    const marker = join(work.path, 'pre-script-ran');
    const run = restoreRun(backup, [fullDisk(target)], { preScript: `echo prepared > '${marker}'`, postScript: 'echo finished' });
    server.assign(run);
    const connected: AgentConfig[] = [];
    const { code, out, err } = await runAgent(
      ['--headless', '--server', 'backup.example', '--disk', target, '--protected-disk', mbr.path, '--firmware', 'bios', '--once'], connected);

    expect(code, err.join('\n')).toBe(0);
    expect(connected[0]?.url).toBe('http://backup.example:50305');
    expect(JSON.parse(out[0]!)).toMatchObject({ runId: run.runId, state: 'succeeded', error: null });
    expect(server.identity).toMatchObject({ machineId: 'vm-0001', hostname: 'restore-vm' });
    expect(server.identity?.inventory.firmware).toBe('bios');
    expect(server.identity?.inventory.disks.map((d) => [d.path, d.protected, d.sizeBytes])).toEqual([
      [target, false, String(mbr.sizeBytes)], [mbr.path, true, String(mbr.sizeBytes)],
    ]);
    expect((await readFile(marker, 'utf8')).trim()).toBe('prepared');
    const outcome = server.runs.get(run.runId)!.outcome!;
    expect(outcome.steps.find((s) => s.step === 'post-script')?.outcome).toEqual({ status: 'done', detail: 'exit code 0: finished' });
    expect(err.some((l) => l.includes('step verify: done'))).toBe(true);
    const dump = (path: string) => mustRun('sfdisk', ['--dump', path]).then((d) => d.split('\n').filter((l) => /label-id|start=/.test(l)).map((l) => l.replace(/^\S+?(\d+) :/, '$1 :')));
    expect(await dump(target)).toEqual(await dump(mbr.path));
  });

  it('takes its settings from a file and exits 3 when the job goes back to idle', async () => {
    const target = await blankImage('idle.img');
    const settings = join(work.path, 'lifeline.json');
    await writeFile(settings, JSON.stringify({ version: 1, server: { address: 'backup.example', ssl: true }, disks: [target], firmware: 'bios', once: true, pollSeconds: 2 }));
    const run = restoreRun(backup, [fullDisk(target)], { precondition: 'exit 1' });
    server.assign(run);
    const connected: AgentConfig[] = [];
    const { code } = await runAgent(['--headless', '--settings', settings], connected);
    expect(code).toBe(3);
    expect(connected[0]).toMatchObject({ url: 'https://backup.example:60305', pollSeconds: 2, disks: [target] });
    expect(server.runs.get(run.runId)?.outcome?.state).toBe('idle');
  });

  it('exits 1 when the restore fails, and refuses a protected target', async () => {
    const run = restoreRun(backup, [fullDisk(mbr.path)]);
    server.assign(run);
    const target = await blankImage('unused.img');
    const { code, out } = await runAgent(['--headless', '--server', 'backup.example', '--disk', target, '--protected-disk', mbr.path, '--firmware', 'bios', '--once']);
    expect(code).toBe(1);
    expect(JSON.parse(out[0]!).error.code).toBe('restore.target-protected');
  });

  it('refuses to start without --headless, without a server or without a disk', async () => {
    await expect(runAgent(['--server', 'x', '--disk', 'y'])).rejects.toBeInstanceOf(UsageError);
    await expect(runAgent(['--headless', '--disk', 'y'])).rejects.toMatchObject({ code: 'settings.no-server' });
    await expect(runAgent(['--headless', '--server', 'backup.example'])).rejects.toMatchObject({ code: 'settings.no-disks' });
    const bad = join(work.path, 'bad.json');
    await writeFile(bad, JSON.stringify({ version: 1, server: { address: 'backup.example', prot: 1 } }));
    await expect(runAgent(['--headless', '--settings', bad])).rejects.toMatchObject({ code: 'settings.invalid', data: { path: 'server.prot' } });
  });
});
