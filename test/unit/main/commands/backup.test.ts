/**
 * `lifeline backup` and snapshots: which snapshotter the command asks for on which platform and
 * sources, `--backup-kind` / `--no-snapshot`, and what ends up in the restore point and the output.
 * The disks are in memory and the snapshotter is the memory fake, so this runs anywhere.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MemoryDisk } from '../../../../src/adapters/memory/memory-disk.ts';
import { MemorySnapshotter } from '../../../../src/adapters/memory/memory-snapshotter.ts';
import { NoSnapshot } from '../../../../src/adapters/node/no-snapshot.ts';
import { makeBackupCommand } from '../../../../src/main/commands/backup.ts';
import { parseCommandArgs, UsageError } from '../../../../src/main/cli-kit.ts';
import { chooseSnapshot, type SnapshotChoice } from '../../../../src/main/platform.ts';
import type { Clock } from '../../../../src/ports/clock.ts';
import type { VolumeSnapshotter } from '../../../../src/ports/volume-snapshot.ts';
import { MemoryBackupServerWithStats } from '../../../helpers/make-backup.ts';
import { tempDir } from '../../../helpers/run.ts';

const MiB = 1024 * 1024;
const clock: Clock = { now: () => Date.UTC(2026, 0, 7, 12), sleep: async () => undefined };

/** One MBR partition at 1 MiB whose frozen copy differs from the live bytes. */
function disk(path: string): MemoryDisk {
  const bytes = new Uint8Array(4 * MiB);
  const view = new DataView(bytes.buffer);
  bytes[446 + 4] = 0x07;
  view.setUint32(446 + 8, 2048, true);
  view.setUint32(446 + 12, 2048, true);
  bytes[510] = 0x55;
  bytes[511] = 0xaa;
  bytes.fill(0x11, MiB, 2 * MiB);
  return MemoryDisk.fromBytes(bytes, { path });
}

function harness(platform: string, hostFirmware: () => Promise<'bios' | 'uefi' | 'unknown'> = async () => 'uefi') {
  const server = new MemoryBackupServerWithStats();
  const choices: SnapshotChoice[] = [];
  let snapshotter: VolumeSnapshotter | undefined;
  const command = makeBackupCommand({
    connect: () => server,
    openDisk: async (path) => disk(path),
    clock,
    env: {},
    hostname: () => 'WIN-SRV01',
    hostFirmware,
    platform,
    snapshotter: async (choice) => {
      choices.push(choice);
      snapshotter = choice.kind === 'vss'
        ? new MemorySnapshotter({ frozen: new Map([['0:1', MemoryDisk.fromBytes(new Uint8Array(MiB).fill(0x22), { path: 'shadow' })]]) })
        : new NoSnapshot(choice.reason);
      return snapshotter;
    },
  });
  const run = async (...argv: string[]) => {
    let out = '';
    let err = '';
    const code = await command.run(parseCommandArgs(command, ['--server', 'http://backup:50305', '--resource', 'srv', '--block-size', '64KiB', ...argv]), {
      out: (t) => { out += `${t}\n`; },
      err: (t) => { err += `${t}\n`; },
    });
    return { code, out, err };
  };
  return { server, choices, run, snapshotter: () => snapshotter };
}

describe('chooseSnapshot', () => {
  it.each<[string, boolean, ('image' | 'device')[], SnapshotChoice]>([
    ['win32', false, ['device', 'device'], { kind: 'vss' }],
    ['win32', true, ['device'], { kind: 'none', reason: 'opted-out' }],
    ['win32', false, ['image'], { kind: 'none', reason: 'not-volumes' }],
    ['linux', false, ['device'], { kind: 'none', reason: 'unsupported-platform' }],
    ['linux', false, ['image'], { kind: 'none', reason: 'not-volumes' }],
    ['linux', true, ['device'], { kind: 'none', reason: 'opted-out' }],
  ])('%s, --no-snapshot %s, %j → %j', (platform, noSnapshot, kinds, expected) => {
    expect(chooseSnapshot(platform, noSnapshot, kinds)).toEqual(expected);
  });

  it('refuses a mix of disks and image files on Windows unless --no-snapshot', () => {
    expect(() => chooseSnapshot('win32', false, ['device', 'image'])).toThrow(expect.objectContaining({ code: 'snapshot.mixed-sources' }));
    expect(chooseSnapshot('win32', true, ['device', 'image'])).toEqual({ kind: 'none', reason: 'opted-out' });
  });
});

describe('lifeline backup with snapshots', () => {
  it('on Windows takes a VSS copy backup of disks by default and says so', async () => {
    const h = harness('win32');
    const { code, out } = await h.run('--source', '\\\\.\\PhysicalDrive0');
    expect(code).toBe(0);
    expect(h.choices).toEqual([{ kind: 'vss' }]);
    const [point] = h.server.committedPoints();
    expect(point?.manifest.vss).toMatchObject({ method: 'vss', kind: 'copy', snapshots: [{ disk: 0, partition: 1 }], liveReads: [] });
    expect(out).toContain('VSS copy backup, snapshot set');
    expect((h.snapshotter() as MemorySnapshotter).events).toEqual(['snapshot', 'copy', 'complete', 'cleanup']);
  });

  it('--backup-kind full asks the snapshotter for a full backup; --json reports the snapshot', async () => {
    const h = harness('win32');
    const { out } = await h.run('--source', '\\\\.\\PhysicalDrive0', '--backup-kind', 'full', '--json');
    expect((h.snapshotter() as MemorySnapshotter).requests[0]?.kind).toBe('full');
    expect(JSON.parse(out)).toMatchObject({ snapshot: { method: 'vss', kind: 'full', snapshots: [{ disk: 0, partition: 1 }] } });
  });

  it('--no-snapshot reads live and records that it was asked to', async () => {
    const h = harness('win32');
    const { code, out, err } = await h.run('--source', '\\\\.\\PhysicalDrive0', '--no-snapshot', '--backup-kind', 'full');
    expect(code).toBe(0);
    expect(h.choices).toEqual([{ kind: 'none', reason: 'opted-out' }]);
    expect(h.server.committedPoints()[0]?.manifest.vss).toMatchObject({ method: 'none', reason: 'opted-out' });
    expect(err).toContain('--backup-kind full has no effect');
    expect(err).toContain('warning [backup.no-snapshot]');
    expect(out).toContain('No snapshot (opted-out)');
  });

  it('on Linux records that the platform has no VSS', async () => {
    const h = harness('linux');
    await h.run('--source', '/dev/sdz', '--firmware', 'bios');
    expect(h.choices).toEqual([{ kind: 'none', reason: 'unsupported-platform' }]);
    expect(h.server.committedPoints()[0]?.manifest.vss).toMatchObject({ method: 'none', reason: 'unsupported-platform' });
  });

  it('refuses a disk and an image file together on Windows as a usage error, before any snapshot', async () => {
    const dir = await tempDir('lifeline-backup-cmd-');
    try {
      const image = join(dir.path, 'disk.img');
      await writeFile(image, new Uint8Array(4096));
      const h = harness('win32');
      await expect(h.run('--source', '\\\\.\\PhysicalDrive0', '--source', image, '--firmware', 'uefi')).rejects.toBeInstanceOf(UsageError);
      expect(h.choices).toEqual([]);
      await h.run('--source', '\\\\.\\PhysicalDrive0', '--source', image, '--firmware', 'uefi', '--no-snapshot');
      expect(h.choices).toEqual([{ kind: 'none', reason: 'opted-out' }]);
    } finally {
      await dir.cleanup();
    }
  });

  it('asks for --firmware when this machine\'s cannot be detected', async () => {
    const h = harness('win32', async () => 'unknown');
    await expect(h.run('--source', '\\\\.\\PhysicalDrive0')).rejects.toThrow('give --firmware bios|uefi');
    expect(h.choices).toEqual([]);
  });

  it('refuses an unknown --backup-kind before connecting', async () => {
    const h = harness('win32');
    await expect(h.run('--source', '\\\\.\\PhysicalDrive0', '--backup-kind', 'incremental')).rejects.toThrow('--backup-kind must be copy or full, not "incremental"');
    expect(h.choices).toEqual([]);
  });
});
