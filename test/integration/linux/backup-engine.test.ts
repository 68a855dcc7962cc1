/**
 * The backup engine on Windows-like fixture disks built with the real tools, through the strict
 * in-memory server. What a restore point holds is proven by a mini restore: every chunk is decoded
 * onto a blank image, which sgdisk/sfdisk, fsck.vfat, ntfscat and mcopy must then read as the source.
 */
import { Buffer } from 'node:buffer';
import { copyFile, open, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MemoryBackupServer } from '../../../src/adapters/memory/memory-backup-server.ts';
import { NodeSetKeys } from '../../../src/adapters/node/set-keys.ts';
import { systemClock } from '../../../src/adapters/node/system-clock.ts';
import type { BackupProgress } from '../../../src/app/backup/observer.ts';
import { encodeManifest, validateManifest, type BackupManifest, type ManifestDisk } from '../../../src/core/backup/manifest.ts';
import { usedBlockMap } from '../../../src/core/blockmap/detect.ts';
import { normalizeExtents, subtractExtents, type Extent } from '../../../src/core/blockmap/extents.ts';
import { RecoveryError } from '../../../src/core/errors.ts';
import { parseCommandArgs } from '../../../src/main/cli-kit.ts';
import { main } from '../../../src/main/cli.ts';
import { makeBackupCommand } from '../../../src/main/commands/backup.ts';
import { openDisk } from '../../../src/main/platform.ts';
import {
  extractPartition, fileBytes, imageRangeReader, makeGptUefiDisk, makeMbrBiosDisk, sha256, DEFAULT_GPT_FILES,
  type FixtureDisk, type KnownFile,
} from '../../helpers/fixture-disks.ts';
import { backupFixtureDisk, MemoryBackupServerWithStats } from '../../helpers/make-backup.ts';
import { mustRun, runTool, tempDir } from '../../helpers/run.ts';

const SECTOR = 512n;
let work: { path: string; cleanup: () => Promise<void> };
let gpt: FixtureDisk;
let mbr: FixtureDisk;

beforeAll(async () => {
  work = await tempDir('lifeline-backup-');
  gpt = await makeGptUefiDisk(work.path);
  mbr = await makeMbrBiosDisk(work.path);
}, 120_000);
afterAll(() => work.cleanup());

// ---------------------------------------------------------------- helpers

/** What the backup must hold, worked out from the fixture's own layout and the block maps. */
async function expectedCoverage(disk: FixtureDisk): Promise<Extent[]> {
  const size = disk.sizeBytes;
  const tables = disk.style === 'gpt'
    ? [{ start: 0n, length: 34n * SECTOR }, { start: size - 33n * SECTOR, length: 33n * SECTOR }]
    : [{ start: 0n, length: SECTOR }];
  const partitions = disk.partitions.map((p) => ({ start: p.offsetBytes, length: p.sizeBytes }));
  const gaps = subtractExtents([{ start: 0n, length: size }], partitions);
  const used: Extent[] = [];
  for (const p of disk.partitions) {
    if (p.filesystem === 'none') {
      used.push({ start: p.offsetBytes, length: p.sizeBytes });
      continue;
    }
    const reader = await imageRangeReader(disk.path, p.offsetBytes, p.sizeBytes);
    try {
      const map = await usedBlockMap(reader.read, p.sizeBytes);
      expect(map.filesystem).toBe(p.filesystem);
      used.push(...map.extents.map((e) => ({ start: p.offsetBytes + e.start, length: e.length })));
    } finally {
      await reader.close();
    }
  }
  return normalizeExtents([...tables, ...gaps, ...used]);
}

function coverageOf(disk: ManifestDisk): Extent[] {
  return normalizeExtents(disk.extents.map((e) => ({ start: e.diskOffset, length: e.length })));
}

/** Decodes every chunk of the point onto a blank image of the source's size (a restore without the engine). */
async function reassemble(server: MemoryBackupServer, manifest: BackupManifest, target: string, passphrase?: string): Promise<void> {
  const keys = new NodeSetKeys();
  const dataKey = manifest.encryption && passphrase !== undefined ? await keys.unwrapDataKey(manifest.encryption.dataKey, passphrase) : undefined;
  const codec = keys.codecFor({ tenantChunkKey: server.tenantChunkKey, compression: manifest.options.codec, ...(dataKey ? { dataKey } : {}) });
  const decode = (ref: { chunkId: string; storedHash: string }): Uint8Array => {
    const blob = server.chunks.get(ref.chunkId);
    if (!blob) throw new Error(`the server lacks chunk ${ref.chunkId}`);
    return codec.decode(blob, { id: ref.chunkId, storedHash: ref.storedHash });
  };
  const disk = manifest.disks[0]!;
  await writeFile(target, '');
  await truncate(target, Number(disk.geometry.sizeBytes));
  const out = await open(target, 'r+');
  try {
    for (const e of disk.extents) {
      if (e.kind === 'zero') continue;
      const plain = decode(e);
      expect(plain.length).toBe(Number(e.length));
      await out.write(plain, 0, plain.length, Number(e.diskOffset));
    }
    // The raw table runs must agree with what the extents put at those sectors.
    for (const run of disk.tableSectors) {
      const raw = Buffer.concat(run.chunks.map((c) => decode(c)));
      const written = Buffer.alloc(raw.length);
      await out.read(written, 0, written.length, Number(run.lba * SECTOR));
      expect(written.equals(raw)).toBe(true);
    }
  } finally {
    await out.close();
  }
}

/** Every covered byte of the copy equals the source's. */
async function expectSameBytes(source: string, copy: string, extents: readonly Extent[]): Promise<void> {
  const a = await open(source, 'r');
  const b = await open(copy, 'r');
  try {
    for (const e of extents) {
      for (let at = e.start; at < e.start + e.length; at += 4n * 1024n * 1024n) {
        const n = Number(e.start + e.length - at < 4n * 1024n * 1024n ? e.start + e.length - at : 4n * 1024n * 1024n);
        const x = Buffer.alloc(n);
        const y = Buffer.alloc(n);
        await a.read(x, 0, n, Number(at));
        await b.read(y, 0, n, Number(at));
        if (!x.equals(y)) expect.fail(`bytes differ in [${at}, ${at + BigInt(n)})`);
      }
    }
  } finally {
    await a.close();
    await b.close();
  }
}

/** Reads every known file back with ntfscat (NTFS) or mcopy (FAT) and checks the filesystems. */
async function expectFiles(disk: FixtureDisk, image: string, files: ReadonlyMap<number, readonly KnownFile[]> = new Map()): Promise<void> {
  for (const p of disk.partitions) {
    if (p.filesystem === 'none') continue;
    const part = await extractPartition(image, p, join(work.path, `readback-part${p.number}.img`));
    const out = join(work.path, 'readback-file');
    const got: KnownFile[] = [];
    for (const f of files.get(p.number) ?? p.files) {
      if (p.filesystem === 'ntfs') {
        expect((await runTool('sh', ['-c', 'ntfscat "$1" "$2" > "$3"', 'sh', part, `/${f.path}`, out])).exitCode).toBe(0);
      } else {
        await mustRun('mcopy', ['-n', '-o', '-i', part, `::/${f.path}`, out]);
      }
      const bytes = await readFile(out);
      got.push({ path: f.path, size: bytes.length, sha256: sha256(bytes) });
    }
    expect(got).toEqual(files.get(p.number) ?? p.files);
    if (p.filesystem === 'fat32') expect((await runTool('fsck.vfat', ['-n', part])).exitCode).toBe(0);
    else expect((await runTool('ntfsfix', ['--no-action', part])).exitCode).toBe(0);
    await rm(part);
    await rm(out, { force: true });
  }
}

async function expectTableClean(disk: FixtureDisk, image: string): Promise<void> {
  if (disk.style === 'gpt') {
    const verify = await mustRun('sgdisk', ['-v', image]);
    expect(verify).toContain('No problems found');
  } else {
    expect((await runTool('sfdisk', ['--verify', image])).exitCode).toBe(0);
  }
  const table = (JSON.parse(await mustRun('sfdisk', ['--json', image])) as { partitiontable: { partitions: { start: number; size: number }[] } }).partitiontable;
  expect(table.partitions.map((p) => [BigInt(p.start), BigInt(p.size)])).toEqual(disk.partitions.map((p) => [p.startLba, p.sectorCount]));
}

function chunkIds(m: BackupManifest): Set<string> {
  const ids = new Set<string>();
  for (const d of m.disks) {
    for (const e of d.extents) if (e.kind === 'data') ids.add(e.chunkId);
    for (const t of d.tableSectors) for (const c of t.chunks) ids.add(c.chunkId);
  }
  return ids;
}

function blobsContain(server: MemoryBackupServer, needle: Uint8Array): boolean {
  return [...server.chunks.values()].some((blob) => Buffer.from(blob.buffer, blob.byteOffset, blob.length).indexOf(needle) >= 0);
}

async function copyDisk(disk: FixtureDisk, name: string): Promise<FixtureDisk> {
  const path = join(work.path, name);
  await copyFile(disk.path, path);
  return { ...disk, path };
}

// ---------------------------------------------------------------- tests

describe('backup of a GPT/UEFI disk', () => {
  it('records identity, layout and firmware, and covers exactly table sectors, gaps and used blocks on a fixed grid', async () => {
    const server = new MemoryBackupServerWithStats();
    const { manifest, result } = await backupFixtureDisk(server, gpt.path, { resource: 'gpt-layout', firmware: 'uefi', blockSize: 128 * 1024 });
    expect(validateManifest(JSON.parse(encodeManifest(manifest)))).toEqual(manifest);
    expect(server.committedPoints().map((p) => p.pointId)).toEqual([result.pointId]);
    expect(manifest.source.firmware).toBe('uefi');
    expect(manifest.options).toEqual({ codec: 'lz4', blockSize: 128 * 1024, encrypted: false, onlyUsedBlocks: true });

    const disk = manifest.disks[0]!;
    expect(disk.style).toBe('gpt');
    expect(disk.identity).toEqual({ gptDiskGuid: gpt.diskGuid });
    expect(disk.geometry).toEqual({ sizeBytes: gpt.sizeBytes, logicalSectorSize: 512, physicalSectorSize: 512 });
    const lastLba = gpt.sizeBytes / SECTOR - 1n;
    expect(disk.tableSectors.map((t) => [t.lba, t.count])).toEqual([[0n, 34], [lastLba - 32n, 33]]);
    expect(disk.layout.partitions).toEqual(gpt.partitions.map((p) => expect.objectContaining({
      number: p.number, startLba: p.startLba, sectorCount: p.sectorCount, type: p.type, uniqueGuid: p.uniqueGuid,
      name: p.name, attributes: p.attributes, filesystem: p.filesystem === 'none' ? 'unknown' : p.filesystem,
    })));

    expect(coverageOf(disk)).toEqual(await expectedCoverage(gpt));
    for (const e of disk.extents) {
      if (e.kind === 'data') {
        // A data extent never crosses a grid line, so unchanged regions cut the same way every time.
        expect((e.diskOffset + e.length - 1n) / 131072n).toBe(e.diskOffset / 131072n);
      }
    }
    expect(result.bytesRead).toBe(coverageOf(disk).reduce((n, e) => n + e.length, 0n) + 67n * SECTOR);
    // The MSR and the space between partitions are zeros: recorded, never sent.
    expect(result.zeroBytes).toBeGreaterThanOrEqual(gpt.partitions[1]!.sizeBytes);
    expect(disk.extents.filter((e) => e.kind === 'zero').reduce((n, e) => n + e.length, 0n)).toBe(result.zeroBytes);
  });

  it('holds everything: the reassembled image passes sgdisk -v, fsck.vfat and ntfsfix, and every file reads back', async () => {
    const server = new MemoryBackupServerWithStats();
    const { manifest } = await backupFixtureDisk(server, gpt.path, { resource: 'gpt-restore' });
    const copy = join(work.path, 'gpt-reassembled.img');
    await reassemble(server, manifest, copy);
    await expectSameBytes(gpt.path, copy, coverageOf(manifest.disks[0]!));
    await expectTableClean(gpt, copy);
    await expectFiles(gpt, copy);
    await rm(copy);
  });
});

describe('backup of an MBR/BIOS disk', () => {
  it('records the signature and the active flag, covers what it must, and reassembles into a working disk', async () => {
    const server = new MemoryBackupServerWithStats();
    const { manifest } = await backupFixtureDisk(server, mbr.path, { resource: 'mbr', firmware: 'bios', compression: 'none' });
    const disk = manifest.disks[0]!;
    expect(manifest.source.firmware).toBe('bios');
    expect(disk.style).toBe('mbr');
    expect(disk.identity).toEqual({ mbrSignature: mbr.diskSignature });
    expect(disk.tableSectors.map((t) => [t.lba, t.count])).toEqual([[0n, 1]]);
    expect(disk.layout.partitions.map((p) => [p.number, p.startLba, p.sectorCount, p.type, p.bootable, p.filesystem]))
      .toEqual(mbr.partitions.map((p) => [p.number, p.startLba, p.sectorCount, '0x07', p.bootable, 'ntfs']));
    expect(coverageOf(disk)).toEqual(await expectedCoverage(mbr));
    // NTFS keeps its backup boot sector in the partition's last sector, outside every cluster.
    for (const p of mbr.partitions) {
      const lastSector = { start: p.offsetBytes + p.sizeBytes - SECTOR, length: SECTOR };
      expect(subtractExtents([lastSector], coverageOf(disk))).toEqual([]);
    }

    const copy = join(work.path, 'mbr-reassembled.img');
    await reassemble(server, manifest, copy);
    await expectSameBytes(mbr.path, copy, coverageOf(disk));
    await expectTableClean(mbr, copy);
    await expectFiles(mbr, copy);
    await rm(copy);
  });
});

describe('dedup', () => {
  it('a second backup of the unchanged disk uploads nothing; a changed file uploads only the chunks that changed', async () => {
    const server = new MemoryBackupServerWithStats();
    const disk = await copyDisk(gpt, 'gpt-dedup.img');
    const first = await backupFixtureDisk(server, disk.path, { resource: 'dedup' });
    expect(first.result.chunksUploaded).toBe(first.result.chunksTotal);
    const putsAfterFirst = server.puts.length;
    const bytesAfterFirst = server.uploadedBytes;

    const second = await backupFixtureDisk(server, disk.path, { resource: 'dedup' });
    expect(second.result.chunksUploaded).toBe(0);
    expect(second.result.bytesUploaded).toBe(0n);
    expect(server.puts.length).toBe(putsAfterFirst);
    expect(server.uploadedBytes).toBe(bytesAfterFirst);
    expect(second.result.sequence).toBe(first.result.sequence + 1);
    expect(second.manifest.disks).toEqual(first.manifest.disks);

    // Overwrite one boot file on the ESP (FAT, reachable at its byte offset with mtools' @@).
    const esp = disk.partitions[0]!;
    const bcd = DEFAULT_GPT_FILES.esp[1]!;
    const newBcd = fileBytes({ path: bcd.path, size: bcd.size, seed: 'changed BCD' });
    const hostFile = join(work.path, 'new-bcd');
    await writeFile(hostFile, newBcd);
    await mustRun('mcopy', ['-o', '-i', `${disk.path}@@${esp.offsetBytes}`, hostFile, `::/${bcd.path}`]);

    const third = await backupFixtureDisk(server, disk.path, { resource: 'dedup' });
    const uploaded = server.puts.slice(putsAfterFirst);
    const changed = [...chunkIds(third.manifest)].filter((id) => !chunkIds(second.manifest).has(id));
    expect(new Set(uploaded)).toEqual(new Set(changed));
    expect(uploaded).toHaveLength(new Set(uploaded).size);
    // 24 KiB of file data plus the FAT and directory entries: a handful of 256 KiB chunks, not the disk.
    expect(uploaded.length).toBeGreaterThan(0);
    expect(uploaded.length).toBeLessThanOrEqual(4);

    const copy = join(work.path, 'dedup-reassembled.img');
    await reassemble(server, third.manifest, copy);
    const files = new Map([[1, esp.files.map((f) => (f.path === bcd.path ? { path: f.path, size: newBcd.length, sha256: sha256(newBcd) } : f))]]);
    await expectFiles({ ...disk, partitions: [esp] }, copy, files);
    await rm(copy);
  });
});

describe('interrupted backup', () => {
  it('commits no point when an upload fails midway; the re-run uploads only what is missing and commits', async () => {
    const server = new MemoryBackupServerWithStats();
    let armed = false;
    const observer = {
      progress: (p: BackupProgress) => {
        if (!armed && p.chunksUploaded >= 5) {
          armed = true;
          server.failNext('putChunk', new RecoveryError('network.reset', 'the connection was reset'));
        }
      },
    };
    await expect(backupFixtureDisk(server, gpt.path, { resource: 'interrupted', observer })).rejects.toMatchObject({ code: 'network.reset' });
    expect(armed).toBe(true);
    expect(server.committedPoints()).toEqual([]);
    const held = new Set(server.chunks.keys());
    expect(held.size).toBeGreaterThanOrEqual(5);
    const putsBefore = server.puts.length;

    const rerun = await backupFixtureDisk(server, gpt.path, { resource: 'interrupted' });
    const uploadedNow = server.puts.slice(putsBefore);
    expect(uploadedNow.filter((id) => held.has(id))).toEqual([]);
    expect(rerun.result.chunksUploaded).toBe(rerun.result.chunksTotal - held.size);
    expect(server.committedPoints().map((p) => p.pointId)).toEqual([rerun.pointId]);

    const copy = join(work.path, 'rerun-reassembled.img');
    await reassemble(server, rerun.manifest, copy);
    await expectSameBytes(gpt.path, copy, coverageOf(rerun.manifest.disks[0]!));
    await rm(copy);
  });
});

describe('encrypted backup', () => {
  it('stores no plaintext, restores with the passphrase, dedups, and refuses a wrong or missing passphrase before uploading', async () => {
    // A 64-byte piece of ntoskrnl.exe as the fixture writes it.
    const needle = fileBytes({ path: 'ntoskrnl.exe', size: 1536 * 1024 }).subarray(4096, 4096 + 64);
    expect(DEFAULT_GPT_FILES.windows.map((f) => f.path)).toContain('ntoskrnl.exe');

    // Control: the same disk stored plainly does contain the file's bytes.
    const plain = new MemoryBackupServerWithStats();
    await backupFixtureDisk(plain, gpt.path, { resource: 'plain', compression: 'none' });
    expect(blobsContain(plain, needle)).toBe(true);

    const server = new MemoryBackupServerWithStats();
    const first = await backupFixtureDisk(server, gpt.path, { resource: 'secret', passphrase: 'correct horse battery staple' });
    expect(first.manifest.options.encrypted).toBe(true);
    expect(first.manifest.encryption?.cipher).toBe('aes-256-gcm');
    expect(blobsContain(server, needle)).toBe(false);
    expect(blobsContain(server, new TextEncoder().encode('Lifeline fixture: the Windows volume.'))).toBe(false);

    const copy = join(work.path, 'encrypted-reassembled.img');
    await reassemble(server, first.manifest, copy, 'correct horse battery staple');
    await expectFiles({ ...gpt, partitions: [gpt.partitions[2]!] }, copy);
    await rm(copy);

    const again = await backupFixtureDisk(server, gpt.path, { resource: 'secret', passphrase: 'correct horse battery staple' });
    expect(again.result.chunksUploaded).toBe(0);

    const bytes = server.uploadedBytes;
    const puts = server.puts.length;
    await expect(backupFixtureDisk(server, gpt.path, { resource: 'secret', passphrase: 'wrong' })).rejects.toMatchObject({ code: 'crypto.wrong-passphrase' });
    await expect(backupFixtureDisk(server, gpt.path, { resource: 'secret' })).rejects.toMatchObject({ code: 'crypto.passphrase-required' });
    expect(server.uploadedBytes).toBe(bytes);
    expect(server.puts.length).toBe(puts);
    expect(server.committedPoints()).toHaveLength(2);
  });
});

describe('lifeline backup', () => {
  async function lifeline(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
    let out = '';
    let err = '';
    const code = await main(argv, { out: (t) => { out += `${t}\n`; }, err: (t) => { err += `${t}\n`; } });
    return { code, out, err };
  }

  it('--help lists the options', async () => {
    const { code, out } = await lifeline('backup', '--help');
    expect(code).toBe(0);
    for (const option of ['--server', '--access-key', '--source', '--resource', '--firmware', '--compression', '--channels', '--block-size', '--transfer-limit', '--read-limit', '--passphrase-file']) {
      expect(out).toContain(option);
    }
  });

  it.each([
    [['--resource', 'r', '--source', 'x.img'], '--server is required'],
    [['--server', 'http://127.0.0.1:9', '--source', 'x.img'], '--resource is required'],
    [['--server', 'http://127.0.0.1:9', '--resource', 'r'], '--source is required'],
    [['--server', 'http://127.0.0.1:9', '--resource', 'r', '--source', 'x.img', '--channels', '0'], '--channels must be between 1 and 64'],
    [['--server', 'http://127.0.0.1:9', '--resource', 'r', '--source', 'x.img', '--channels', '65'], '--channels must be between 1 and 64'],
    [['--server', 'http://127.0.0.1:9', '--resource', 'r', '--source', 'x.img', '--block-size', '100K'], '--block-size must be one of 64 KiB'],
    [['--server', 'http://127.0.0.1:9', '--resource', 'r', '--source', 'x.img', '--compression', 'zip'], '--compression must be fast or none'],
    [['--server', 'http://127.0.0.1:9', '--resource', 'r', '--source', 'x.img', '--transfer-limit', 'fast'], '--transfer-limit: "fast" is not a rate limit'],
    [['--server', 'http://127.0.0.1:9', '--resource', 'r', '--source', 'x.img', '--firmware', 'efi'], '--firmware must be bios or uefi'],
  ])('usage error: %j', async (argv, message) => {
    const { code, err } = await lifeline('backup', ...argv);
    expect(code).toBe(2);
    expect(err).toContain(message);
    expect(err).toContain('Usage: lifeline backup');
  });

  it('asks for --firmware when a source is an image file', async () => {
    const { code, err } = await lifeline('backup', '--server', 'http://127.0.0.1:9', '--resource', 'r', '--source', gpt.path);
    expect(code).toBe(2);
    expect(err).toContain('--firmware bios|uefi is required for image files');
  });

  it('backs up an image end to end and prints the result', async () => {
    const server = new MemoryBackupServerWithStats();
    const connected: unknown[] = [];
    const command = makeBackupCommand({
      connect: (options) => {
        connected.push(options);
        return server;
      },
      openDisk, clock: systemClock, env: { LIFELINE_PASSPHRASE: 'from the environment' },
      hostname: () => 'test-host', hostFirmware: () => 'bios',
    });
    let out = '';
    const io = { out: (t: string) => { out += `${t}\n`; }, err: () => undefined };
    const argv = ['--server', 'http://backup:50305', '--access-key', 'k', '--source', mbr.path, '--resource', 'cli', '--firmware', 'bios', '--block-size', '64KiB', '--channels', '8', '--json'];
    expect(await command.run(parseCommandArgs(command, argv), io)).toBe(0);
    expect(connected).toEqual([{ url: 'http://backup:50305', accessKey: 'k' }]);
    const printed = JSON.parse(out) as { sequence: number; encrypted: boolean; disks: { style: string; partitions: number }[] };
    expect(printed).toMatchObject({ sequence: 1, encrypted: true, disks: [{ style: 'mbr', partitions: 2 }] });
    const [point] = server.committedPoints();
    expect(point?.manifest.options).toEqual({ codec: 'lz4', blockSize: 65536, encrypted: true, onlyUsedBlocks: true });
    expect(point?.manifest.source).toEqual({ hostname: 'test-host', firmware: 'bios' });
  });
});
