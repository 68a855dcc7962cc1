/**
 * `lifeline disk show|blocks` on Windows-like disks built with the real tools, checked against
 * sfdisk's and ntfs-3g's view of the same images.
 */
import { copyFile, open } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../../src/main/cli.ts';
import { makeGptUefiDisk, makeMbrBiosDisk } from '../../helpers/fixture-disks.ts';
import type { FixtureDisk } from '../../helpers/fixture-disks.ts';
import { mustRun, tempDir } from '../../helpers/run.ts';

async function lifeline(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (t) => { out += `${t}\n`; }, err: (t) => { err += `${t}\n`; } });
  return { code, out, err };
}

interface SfdiskJson { partitiontable: { label: string; id: string; partitions: { node: string; start: number; size: number; type: string; uuid?: string; name?: string; bootable?: boolean }[] } }

let dir: { path: string; cleanup: () => Promise<void> };
let gpt: FixtureDisk;
let mbr: FixtureDisk;
beforeAll(async () => {
  dir = await tempDir('lifeline-cli-');
  gpt = await makeGptUefiDisk(dir.path);
  mbr = await makeMbrBiosDisk(dir.path);
}, 120_000);
afterAll(() => dir.cleanup());

describe('lifeline disk show', () => {
  it('reports the GPT layout sfdisk reads, with identity, as JSON', async () => {
    const { code, out } = await lifeline('disk', 'show', gpt.path, '--json');
    expect(code).toBe(0);
    const ours = JSON.parse(out) as { style: string; identity: string; partitions: { number: number; startLba: number; sectorCount: number; type: string; uniqueGuid: string; name: string }[]; problems: unknown[] };
    const theirs = (JSON.parse(await mustRun('sfdisk', ['--json', gpt.path])) as SfdiskJson).partitiontable;
    expect(ours.style).toBe('gpt');
    expect(ours.identity).toBe(theirs.id.toLowerCase());
    expect(ours.problems).toEqual([]);
    expect(ours.partitions.map((p) => [p.startLba, p.sectorCount, p.type, p.uniqueGuid, p.name]))
      .toEqual(theirs.partitions.map((p) => [p.start, p.size, p.type.toLowerCase(), p.uuid?.toLowerCase(), p.name]));
  });

  it('reports the MBR layout sfdisk reads, with the signature and the active flag', async () => {
    const { code, out } = await lifeline('disk', 'show', mbr.path);
    expect(code).toBe(0);
    const theirs = (JSON.parse(await mustRun('sfdisk', ['--json', mbr.path])) as SfdiskJson).partitiontable;
    expect(out).toContain(`Disk signature: ${theirs.id}`);
    for (const p of theirs.partitions) {
      expect(out).toMatch(new RegExp(`\\b${p.start}\\s+${p.start + p.size - 1}\\s+${p.size}\\b`));
    }
    expect(out).toMatch(/^1 .*active$/m);
    expect(out).toContain('No problems found.');
  });

  it('exits 3 and names every problem on a damaged GPT, reading the backup copy', async () => {
    const damaged = join(dir.path, 'damaged.img');
    await copyFile(gpt.path, damaged);
    const file = await open(damaged, 'r+');
    await file.write(Uint8Array.of(0xff), 0, 1, 512 + 16); // inside the primary header CRC field
    await file.write(Uint8Array.of(0xff), 0, 1, 1024 + 200); // inside the primary entry array
    await file.close();
    const { code, out } = await lifeline('disk', 'show', damaged);
    expect(out).toContain('read from the BACKUP copy');
    expect(out).toMatch(/gpt\.[a-z-]*crc/);
    // The table is still usable from the backup: warnings, not errors, so the exit status is 0.
    expect(out).toContain('gpt.using-backup');
    expect(code).toBe(0);
    const { out: json } = await lifeline('disk', 'show', damaged, '--json');
    const report = JSON.parse(json) as { tableSource: string; partitions: unknown[]; problems: { code: string }[] };
    expect(report.tableSource).toBe('backup');
    expect(report.partitions).toHaveLength(4);
    expect(report.problems.map((p) => p.code)).toContain('gpt.using-backup');
  });

  it('exits 3 when neither GPT copy is usable', async () => {
    const ruined = join(dir.path, 'ruined.img');
    await copyFile(gpt.path, ruined);
    const file = await open(ruined, 'r+');
    const { size } = await file.stat();
    await file.write(Uint8Array.of(0xff), 0, 1, 512 + 16);
    await file.write(Uint8Array.of(0xff), 0, 1, size - 512 + 16);
    await file.close();
    const { code, out } = await lifeline('disk', 'show', ruined);
    expect(code).toBe(3);
    expect(out).toMatch(/ERROR/);
  });

  it('gives a usage error for a missing argument and a clear error for a missing file', async () => {
    expect((await lifeline('disk', 'show')).code).toBe(2);
    const missing = await lifeline('disk', 'show', join(dir.path, 'nope.img'));
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('device.not-found');
  });
});

describe('lifeline disk blocks', () => {
  it('counts the NTFS clusters ntfs-3g counts as in use', async () => {
    const windows = gpt.partitions.find((p) => p.role === 'windows');
    expect(windows).toBeDefined();
    const { code, out } = await lifeline('disk', 'blocks', gpt.path, '--partition', String(windows?.number), '--json');
    expect(code).toBe(0);
    const report = JSON.parse(out) as { map: { filesystem: string; clusterSize: number; usedBytes: number; extents: { start: number; length: number }[] } };
    expect(report.map.filesystem).toBe('ntfs');
    // ntfsinfo -m on the partition alone: clusters in use = total - free.
    const part = join(dir.path, 'windows.part');
    await mustRun('dd', [`if=${gpt.path}`, `of=${part}`, 'bs=512', `skip=${windows?.startLba}`, `count=${windows?.sectorCount}`, 'conv=sparse', 'status=none']);
    const info = await mustRun('ntfsinfo', ['-m', part]);
    const total = Number(/Volume Size in Clusters:\s*(\d+)/.exec(info)?.[1]);
    const free = Number(/Free Clusters:\s*(\d+)/.exec(info)?.[1]);
    expect(total).toBeGreaterThan(0);
    // Our map also keeps the backup boot sector in the partition's last sector (outside the bitmap).
    const bitmapBytes = report.map.extents.reduce((n, e) => n + e.length, 0);
    expect(bitmapBytes).toBe(report.map.usedBytes);
    const clusterBytes = (total - free) * report.map.clusterSize;
    expect(report.map.usedBytes - clusterBytes).toBeGreaterThanOrEqual(0);
    expect(report.map.usedBytes - clusterBytes).toBeLessThanOrEqual(report.map.clusterSize);
  });

  it('reads the ESP as FAT32 and an unknown filesystem as fully used', async () => {
    const esp = await lifeline('disk', 'blocks', gpt.path, '--partition', '1');
    expect(esp.out).toContain('Filesystem: fat32');
    const msr = await lifeline('disk', 'blocks', gpt.path, '--partition', '2');
    expect(msr.out).toContain('Filesystem: unknown');
    expect(msr.out).toContain('100%');
  });

  it('names the partitions that exist when asked for one that does not', async () => {
    const { code, err } = await lifeline('disk', 'blocks', mbr.path, '--partition', '7');
    expect(code).toBe(1);
    expect(err).toContain('disk.no-such-partition');
    expect(err).toContain('partitions: 1, 2');
  });
});

describe('lifeline --help', () => {
  it('lists the commands and each command has its own help', async () => {
    const top = await lifeline('--help');
    expect(top.code).toBe(0);
    expect(top.out).toContain('disk show');
    expect(top.out).toContain('disk blocks');
    const show = await lifeline('disk', 'show', '--help');
    expect(show.out).toContain('Usage: lifeline disk show <image-or-device>');
    const unknown = await lifeline('disk', 'frobnicate');
    expect(unknown.code).toBe(2);
  });
});
