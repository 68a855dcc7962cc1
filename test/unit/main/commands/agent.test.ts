/**
 * `lifeline agent --headless --role backup` and snapshots: which snapshotter a backup run gets (the
 * choice `lifeline backup` makes, platform.ts: VSS for Windows disks, the no-snapshot adapter with
 * its reason otherwise, `--no-snapshot`), the VSS backup type from the job's options (copy unless
 * full), and the firmware the agent registers when none is given (detected; on Windows through
 * GetFirmwareType, tested through the detection's seams). Disks and server are in memory, the
 * snapshotter is the memory fake, so this runs anywhere.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryBackupServer } from '../../../../src/adapters/memory/memory-backup-server.ts';
import { MemoryDisk, MemoryDiskOpener } from '../../../../src/adapters/memory/memory-disk.ts';
import { MemorySnapshotter } from '../../../../src/adapters/memory/memory-snapshotter.ts';
import { NoSnapshot } from '../../../../src/adapters/node/no-snapshot.ts';
import { DEFAULT_BACKUP_OPTIONS } from '../../../../src/app/backup/options.ts';
import type { AssignedRun, BackupJobOptions, HardwareInventory } from '../../../../src/core/protocol/jobs.ts';
import { parseCommandArgs, UsageError } from '../../../../src/main/cli-kit.ts';
import { agentCommand, defaultAgentDeps } from '../../../../src/main/commands/agent.ts';
import { hostFirmware, type SnapshotChoice } from '../../../../src/main/platform.ts';
import type { VolumeSnapshotter } from '../../../../src/ports/volume-snapshot.ts';
import { tempDir } from '../../../helpers/run.ts';
import { FakeKernel32 } from '../../adapters/win32/fake-kernel32.ts';
import { exit, ok, ScriptedRunner } from '../../adapters/win32/fake-runner.ts';
import { makeSourceDisk, YieldingClock } from '../../app/restore/restore-fixtures.ts';

const DRIVE0 = '\\\\.\\PhysicalDrive0';
let work: { path: string; cleanup: () => Promise<void> };
let image: string;
let counter = 0;

beforeAll(async () => {
  work = await tempDir('lifeline-agent-cmd-');
  // A regular file: the agent's choice sees an image file, the memory opener serves its bytes.
  image = join(work.path, 'disk.img');
  await writeFile(image, new Uint8Array(4096));
});
afterAll(async () => {
  await work?.cleanup();
});

function backupRun(sources: string[], options: Partial<BackupJobOptions> = {}, firmware?: 'bios' | 'uefi'): AssignedRun {
  counter++;
  return {
    runId: `run-${counter}`, jobId: `job-${counter}`, jobName: 'nightly',
    spec: { kind: 'backup', resource: 'srv', sources, encrypted: false, ...(firmware ? { firmware } : {}), options: { ...DEFAULT_BACKUP_OPTIONS, ...options } },
  };
}

interface Harness {
  readonly server: MemoryBackupServer;
  readonly choices: SnapshotChoice[];
  readonly snapshotters: VolumeSnapshotter[];
  run(...argv: string[]): Promise<{ code: number; out: string; err: string }>;
}

async function harness(platform: string, firmware: () => Promise<HardwareInventory['firmware']> = async () => 'uefi'): Promise<Harness> {
  const server = new MemoryBackupServer();
  const disks = [await makeSourceDisk(DRIVE0), await makeSourceDisk(image)];
  const choices: SnapshotChoice[] = [];
  const snapshotters: VolumeSnapshotter[] = [];
  const command = agentCommand({
    ...defaultAgentDeps,
    connect: () => server,
    disks: new MemoryDiskOpener(disks),
    clock: new YieldingClock(),
    hostname: () => 'WIN-SRV01',
    hostFirmware: firmware,
    machineId: async () => 'srv-0001',
    nics: () => [],
    onStop: undefined,
    platform,
    snapshotter: async (choice) => {
      choices.push(choice);
      const s = choice.kind === 'vss'
        ? new MemorySnapshotter({ frozen: new Map([['0:2', MemoryDisk.fromBytes(new Uint8Array(6 * 1024 * 1024).fill(0x5a), { path: 'shadow' })]]) })
        : new NoSnapshot(choice.reason);
      snapshotters.push(s);
      return s;
    },
  });
  return {
    server, choices, snapshotters,
    run: async (...argv) => {
      let out = '';
      let err = '';
      const code = await command.run(parseCommandArgs(command, ['--headless', '--server', 'backup.example', '--once', ...argv]), {
        out: (t) => { out += `${t}\n`; },
        err: (t) => { err += `${t}\n`; },
      });
      return { code, out, err };
    },
  };
}

function outcomeOf(h: Harness, run: AssignedRun) {
  const outcome = h.server.runs.get(run.runId)?.outcome;
  if (outcome === undefined) throw new Error(`run ${run.runId} did not finish`);
  return outcome;
}

const snapshotStep = (h: Harness, run: AssignedRun) => outcomeOf(h, run).steps.find((s) => s.step === 'snapshot')?.outcome;

describe('lifeline agent --role backup: the snapshotter of a backup run', () => {
  it('on Windows takes a VSS copy backup of the job\'s disks by default', async () => {
    const h = await harness('win32');
    const run = backupRun([DRIVE0]);
    h.server.assign(run);
    const { code, err } = await h.run('--role', 'backup', '--disk', DRIVE0);
    expect(code, err).toBe(0);
    expect(h.choices).toEqual([{ kind: 'vss' }]);
    expect((h.snapshotters[0] as MemorySnapshotter).requests[0]?.kind).toBe('copy');
    expect((h.snapshotters[0] as MemorySnapshotter).events).toEqual(['snapshot', 'copy', 'complete', 'cleanup']);
    expect(h.server.committedPoints()[0]?.manifest.vss).toMatchObject({ method: 'vss', kind: 'copy', snapshots: [{ disk: 0, partition: 2 }] });
    expect(snapshotStep(h, run)).toMatchObject({ status: 'done', detail: expect.stringContaining('(copy backup)') });
  });

  it('takes a full backup when the job\'s options say so', async () => {
    const h = await harness('win32');
    const run = backupRun([DRIVE0], { backupKind: 'full' });
    h.server.assign(run);
    expect((await h.run('--role', 'backup', '--disk', DRIVE0)).code).toBe(0);
    expect((h.snapshotters[0] as MemorySnapshotter).requests[0]?.kind).toBe('full');
    expect(h.server.committedPoints()[0]?.manifest.vss).toMatchObject({ method: 'vss', kind: 'full' });
  });

  it('--no-snapshot reads live and the point records that it was asked to', async () => {
    const h = await harness('win32');
    const run = backupRun([DRIVE0], { backupKind: 'full' });
    h.server.assign(run);
    expect((await h.run('--role', 'backup', '--disk', DRIVE0, '--no-snapshot')).code).toBe(0);
    expect(h.choices).toEqual([{ kind: 'none', reason: 'opted-out' }]);
    expect(h.server.committedPoints()[0]?.manifest.vss).toMatchObject({ method: 'none', reason: 'opted-out' });
    expect(snapshotStep(h, run)).toMatchObject({ status: 'skipped', why: expect.stringContaining('opted-out') });
  });

  it('reads image files as they are, and every source live on Linux', async () => {
    const win = await harness('win32');
    win.server.assign(backupRun([image]));
    expect((await win.run('--role', 'backup', '--disk', image)).code).toBe(0);
    expect(win.choices).toEqual([{ kind: 'none', reason: 'not-volumes' }]);

    const linux = await harness('linux');
    linux.server.assign(backupRun([DRIVE0]));
    expect((await linux.run('--role', 'backup', '--disk', DRIVE0)).code).toBe(0);
    expect(linux.choices).toEqual([{ kind: 'none', reason: 'unsupported-platform' }]);
    expect(linux.server.committedPoints()[0]?.manifest.vss).toMatchObject({ method: 'none', reason: 'unsupported-platform' });
  });

  it('chooses per run from the job\'s sources: a disk and an image file together fail the pre-checks, nothing read', async () => {
    const h = await harness('win32');
    const run = backupRun([DRIVE0, image]);
    h.server.assign(run);
    const { code, out } = await h.run('--role', 'backup', '--disk', DRIVE0, '--disk', image);
    expect(code).toBe(1);
    expect(JSON.parse(out.trim()).error.code).toBe('snapshot.mixed-sources');
    expect(outcomeOf(h, run).steps.find((s) => s.step === 'prechecks')?.outcome).toMatchObject({ status: 'failed', code: 'snapshot.mixed-sources' });
    expect(h.choices).toEqual([]);
    expect(h.server.committedPoints()).toEqual([]);
  });

  it('refuses --no-snapshot for a restore agent', async () => {
    const h = await harness('win32');
    await expect(h.run('--disk', DRIVE0, '--no-snapshot')).rejects.toBeInstanceOf(UsageError);
  });
});

describe('lifeline agent: the firmware it registers', () => {
  it('is the detected one when neither --firmware nor the settings say; an unknown one fails a job without a firmware', async () => {
    const uefi = await harness('win32', async () => 'uefi');
    uefi.server.assign(backupRun([DRIVE0]));
    expect((await uefi.run('--role', 'backup', '--disk', DRIVE0)).code).toBe(0);
    expect(uefi.server.identity?.inventory.firmware).toBe('uefi');
    expect(uefi.server.committedPoints()[0]?.manifest.source.firmware).toBe('uefi');

    let asked = 0;
    const given = await harness('win32', async () => { asked++; return 'uefi'; });
    given.server.assign(backupRun([DRIVE0]));
    expect((await given.run('--role', 'backup', '--disk', DRIVE0, '--firmware', 'bios')).code).toBe(0);
    expect(given.server.identity?.inventory.firmware).toBe('bios');
    expect(asked).toBe(0);

    const unknown = await harness('win32', async () => 'unknown');
    const run = backupRun([DRIVE0]);
    unknown.server.assign(run);
    const { code, out } = await unknown.run('--role', 'backup', '--disk', DRIVE0);
    expect(code).toBe(1);
    expect(JSON.parse(out.trim()).error.code).toBe('backup.firmware-unknown');
    const named = backupRun([DRIVE0], {}, 'bios');
    unknown.server.assign(named);
    expect((await unknown.run('--role', 'backup', '--disk', DRIVE0)).code).toBe(0);
  });

  it('on Windows comes from GetFirmwareType, else WinPE\'s PEFirmwareType, else is unknown', async () => {
    const fake = new FakeKernel32();
    fake.firmwareType = 2;
    const silent = new ScriptedRunner(() => exit(1, '', 'not run'));
    expect(await hostFirmware('win32', { kernel: () => fake.kernel, runner: silent })).toBe('uefi');
    expect(silent.calls).toEqual([]);

    const noApi = new FakeKernel32().withoutFirmwareApi();
    const reg = new ScriptedRunner((call) => (call.file === 'wpeutil.exe' ? ok('') : ok('\r\nHKEY_LOCAL_MACHINE\\System\\CurrentControlSet\\Control\r\n    PEFirmwareType    REG_DWORD    0x1\r\n\r\n')));
    expect(await hostFirmware('win32', { kernel: () => noApi.kernel, runner: reg })).toBe('bios');

    expect(await hostFirmware('win32', { kernel: () => noApi.kernel, runner: silent })).toBe('unknown');
  });
});
