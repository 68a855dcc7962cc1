/**
 * Block maps checked against the filesystems' own tools on images the tests build:
 * - NTFS: the exact used-cluster set of `ntfsclone --save-image` (which walks every inode's runs,
 *   independently of $Bitmap) and the free-cluster count of `ntfsinfo -m`;
 * - FAT: the exact cluster chains `mshowfat` reports for every file and directory, the data-area
 *   start and used/total cluster counts of `fsck.vfat -n -v`, the label and serial of `minfo`;
 * - fixture disks: layout as sgdisk/sfdisk see it, and a copy holding only the mapped extents still
 *   passes the tools' checks with every file intact.
 */
import { open, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usedBlockMap, type UsedBlockMap } from '../../../src/core/blockmap/detect.ts';
import { intersectExtents, normalizeExtents, subtractExtents, totalBytes, type Extent } from '../../../src/core/blockmap/extents.ts';
import {
  copyIntoFat, extractPartition, fileBytes, GPT_TYPES, imageRangeReader, makeFat32Image, makeGptUefiDisk,
  makeMbrBiosDisk, makeNtfsImage, RECOVERY_ATTRIBUTES, sha256, type FixtureDisk, type KnownFile,
} from '../../helpers/fixture-disks.ts';
import { mustRun, runTool, tempDir } from '../../helpers/run.ts';

let work: { path: string; cleanup: () => Promise<void> };
beforeAll(async () => {
  work = await tempDir('lifeline-blockmap-');
});
afterAll(async () => {
  await work.cleanup();
});

async function mapImage(path: string, offset = 0n, length?: bigint): Promise<UsedBlockMap> {
  const size = length ?? BigInt((await stat(path)).size);
  const reader = await imageRangeReader(path, offset, size);
  try {
    return await usedBlockMap(reader.read, size);
  } finally {
    await reader.close();
  }
}

function clusterRange(first: bigint, count: bigint, clusterSize: bigint, base = 0n): Extent {
  return { start: base + first * clusterSize, length: count * clusterSize };
}

// ---------------------------------------------------------------- ntfs-3g views

/** Used clusters as `ntfsclone --save-image` stores them: 0x00 + gap count, or 0x01 + cluster data. */
async function ntfscloneView(image: string): Promise<{ clusterSize: bigint; clusterCount: bigint; extents: Extent[] }> {
  const out = join(work.path, 'ntfsclone.out');
  await mustRun('ntfsclone', ['-q', '-s', '-O', out, image]);
  const d = await readFile(out);
  await rm(out);
  expect(d.subarray(0, 16).toString('latin1')).toBe('\0ntfsclone-image');
  expect(d[16]).toBe(10);
  const cs = d.readUInt32LE(18);
  const clusterCount = d.readBigInt64LE(30);
  const runs: Extent[] = [];
  let lcn = 0n;
  for (let p = d.readUInt32LE(46); p < d.length;) {
    const cmd = d[p++];
    if (cmd === 0) {
      lcn += d.readBigInt64LE(p);
      p += 8;
    } else if (cmd === 1) {
      runs.push(clusterRange(lcn, 1n, BigInt(cs)));
      lcn++;
      p += cs;
    } else {
      throw new Error(`unknown ntfsclone command ${cmd} at ${p - 1}`);
    }
  }
  return { clusterSize: BigInt(cs), clusterCount, extents: normalizeExtents(runs) };
}

async function ntfsinfoCounts(image: string): Promise<{ clusters: bigint; free: bigint }> {
  const text = await mustRun('ntfsinfo', ['-m', image]);
  return { clusters: BigInt(/Volume Size in Clusters: (\d+)/.exec(text)![1]!), free: BigInt(/Free Clusters: (\d+)/.exec(text)![1]!) };
}

async function ntfsclusterCounts(image: string): Promise<{ user: bigint; metadata: bigint }> {
  const text = await mustRun('ntfscluster', ['-i', image]);
  return { user: BigInt(/clusters of user data\s*:\s*(\d+)/.exec(text)![1]!), metadata: BigInt(/clusters of metadata\s*:\s*(\d+)/.exec(text)![1]!) };
}

/** Checks our map of an NTFS image against ntfsclone's cluster set and ntfsinfo's free count. */
async function crossCheckNtfs(image: string): Promise<UsedBlockMap> {
  const map = await mapImage(image);
  expect(map.filesystem).toBe('ntfs');
  const clone = await ntfscloneView(image);
  expect(BigInt(map.clusterSize)).toBe(clone.clusterSize);
  const inVolume: Extent[] = [{ start: 0n, length: clone.clusterCount * clone.clusterSize }];
  expect(intersectExtents(map.extents, inVolume)).toEqual(intersectExtents(clone.extents, inVolume));
  const counts = await ntfsinfoCounts(image);
  expect(counts.clusters).toBe(clone.clusterCount);
  expect(totalBytes(intersectExtents(map.extents, inVolume)) / clone.clusterSize).toBe(counts.clusters - counts.free);
  // Past the last cluster: exactly the tail up to and including the backup boot sector (the image's last sector).
  const size = map.partitionBytes;
  expect(subtractExtents(map.extents, inVolume)).toEqual([{ start: clone.clusterCount * clone.clusterSize, length: size - clone.clusterCount * clone.clusterSize }]);
  const bytes = await readFile(image);
  const sector = bytes.readUInt16LE(0x0b);
  expect(bytes.subarray(Number(size) - sector, Number(size)).equals(bytes.subarray(0, sector))).toBe(true);
  return map;
}

describe('NTFS block map against ntfs-3g', () => {
  it('matches ntfsclone and ntfsinfo on a fresh volume, then after writes and truncations, growing by the data written', async () => {
    const image = (await makeNtfsImage(work.path, { sizeMiB: 32, label: 'Cross' })).path;
    const fresh = await crossCheckNtfs(image);
    expect(fresh.label).toBe('Cross');
    const freshCounts = await ntfsclusterCounts(image);

    // Ten files, then every other one truncated to nothing and two larger files written into the holes.
    const sizes = [40_000, 150_001, 300_000, 8_191, 1_000_000, 64_000, 512_000, 20_000, 700_000, 90_000];
    for (const [i, size] of sizes.entries()) {
      await writeFile(join(work.path, 'src'), fileBytes({ path: `f${i}`, size }));
      await mustRun('ntfscp', ['-q', image, join(work.path, 'src'), `/f${i}.bin`]);
    }
    const inodes = (await mustRun('ntfsls', ['-i', image])).trim().split('\n').map((l) => l.trim().split(/\s+/));
    const filled = await crossCheckNtfs(image);
    const clusterSize = BigInt(filled.clusterSize);
    const dataClusters = sizes.reduce((sum, s) => sum + (BigInt(s) + clusterSize - 1n) / clusterSize, 0n);
    const filledCounts = await ntfsclusterCounts(image);
    expect(filledCounts.user - freshCounts.user).toBe(dataClusters);
    // Growth = the files' clusters (rounded up per file) + what ntfs-3g added to its own metadata ($MFT records, indexes).
    const growth = (filled.usedBytes - fresh.usedBytes) / clusterSize;
    expect(growth).toBe(dataClusters + (filledCounts.metadata - freshCounts.metadata));

    for (const [inode, name] of inodes) {
      if (/^f[02468]\.bin$/.test(name ?? '')) await mustRun('ntfstruncate', [image, inode!, '0']);
    }
    const holes = await crossCheckNtfs(image);
    expect(holes.usedBytes).toBeLessThan(filled.usedBytes);
    for (const name of ['g1.bin', 'g2.bin']) {
      await writeFile(join(work.path, 'src'), fileBytes({ path: name, size: 600_000 }));
      await mustRun('ntfscp', ['-q', image, join(work.path, 'src'), `/${name}`]);
    }
    const refilled = await crossCheckNtfs(image);
    expect(refilled.extents.length).toBeGreaterThan(fresh.extents.length);
  });

  it.each([
    ['4096-byte sectors', { sectorSize: 4096 as const }],
    ['64 KiB clusters', { clusterSize: 65536 }],
    ['128 KiB clusters (negative exponent)', { clusterSize: 131072 }],
  ])('matches ntfsclone and ntfsinfo with %s', async (_what, options: { sectorSize?: 4096; clusterSize?: number }) => {
    const image = await makeNtfsImage(work.path, {
      sizeMiB: 48, name: 'geometry.img', ...options,
      files: [{ path: 'a.bin', size: 333_333 }, { path: 'b.bin', size: 2_000_000 }],
    });
    const map = await crossCheckNtfs(image.path);
    if (options.clusterSize !== undefined) expect(map.clusterSize).toBe(options.clusterSize);
  });
});

// ---------------------------------------------------------------- dosfstools / mtools views

async function fsckView(image: string): Promise<{ used: number; total: number; dataStart: bigint; clusterSize: bigint }> {
  const text = await mustRun('fsck.vfat', ['-n', '-v', image]);
  const counts = /(\d+)\/(\d+) clusters/.exec(text)!;
  return {
    used: Number(counts[1]), total: Number(counts[2]),
    dataStart: BigInt(/Data area starts at byte (\d+)/.exec(text)![1]!),
    clusterSize: BigInt(/(\d+) bytes per cluster/.exec(text)![1]!),
  };
}

/** Every cluster chain mtools reports: the root (FAT32) and each file and directory. */
async function mshowfatClusters(image: string): Promise<bigint[]> {
  // mdir exits 1 with "File not found" on an empty root directory.
  const listing = await runTool('mdir', ['-i', image, '-/', '-b', '::/']);
  if (listing.exitCode !== 0) expect(listing.stderr).toMatch(/not found/);
  const paths = listing.stdout.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  const clusters: bigint[] = [];
  for (const path of ['::/', ...paths.map((p) => p.replace(/\/$/, ''))]) {
    const out = await mustRun('mshowfat', ['-i', image, path]);
    for (const m of out.matchAll(/<(\d+)(?:-(\d+))?>/g)) {
      for (let c = BigInt(m[1]!); c <= BigInt(m[2] ?? m[1]!); c++) clusters.push(c);
    }
  }
  return clusters;
}

async function crossCheckFat(image: string, kind: 'fat12' | 'fat16' | 'fat32'): Promise<UsedBlockMap> {
  const map = await mapImage(image);
  expect(map.filesystem).toBe(kind);
  const fsck = await fsckView(image);
  expect(BigInt(map.clusterSize)).toBe(fsck.clusterSize);
  const chains = await mshowfatClusters(image);
  const expected = normalizeExtents([{ start: 0n, length: fsck.dataStart }, ...chains.map((c) => clusterRange(c - 2n, 1n, fsck.clusterSize, fsck.dataStart))]);
  expect(map.extents).toEqual(expected);
  expect((map.usedBytes - fsck.dataStart) / fsck.clusterSize).toBe(BigInt(fsck.used));
  return map;
}

describe('FAT block map against dosfstools and mtools', () => {
  it.each([
    ['fat12' as const, 4, ['-F', '12']],
    ['fat16' as const, 24, ['-F', '16', '-s', '2']],
    ['fat32' as const, 36, ['-F', '32', '-s', '1']],
  ])('%s: matches mshowfat chains and fsck.vfat counts, before and after deleting and rewriting files', async (kind, sizeMiB, mkfsArgs) => {
    const image = join(work.path, `${kind}.img`);
    await writeFile(image, '');
    await truncate(image, sizeMiB * 1024 * 1024);
    await mustRun('mkfs.vfat', [...mkfsArgs, '-n', 'CROSS', '-i', 'a1b2c3d4', image]);
    const fresh = await crossCheckFat(image, kind);

    const files = await copyIntoFat(work.path, image, [
      { path: 'EFI/Microsoft/Boot/bootmgfw.efi', size: 150_000 },
      { path: 'EFI/Boot/bootx64.efi', size: 70_000 },
      { path: 'one.bin', size: 33_000 }, { path: 'two.bin', size: 200_000 }, { path: 'three.bin', size: 5 },
      { path: 'empty.txt', data: '' },
    ]);
    const filled = await crossCheckFat(image, kind);
    const cs = BigInt(filled.clusterSize);
    const fileClusters = files.reduce((sum, f) => sum + (BigInt(f.size) + cs - 1n) / cs, 0n);
    // 4 directories (EFI, EFI/Microsoft, EFI/Microsoft/Boot, EFI/Boot) of one cluster each.
    expect((filled.usedBytes - fresh.usedBytes) / cs).toBe(fileClusters + 4n);

    await mustRun('mdel', ['-i', image, '::/one.bin', '::/three.bin']);
    await copyIntoFat(work.path, image, [{ path: 'four.bin', size: 120_000 }]);
    await crossCheckFat(image, kind);

    const info = await mustRun('minfo', ['-i', image]);
    expect(filled.serial).toBe(/serial number: (\w{4})(\w{4})/.exec(info)!.slice(1, 3).join('-'));
    expect(filled.label).toBe(/disk label="(.*?) *"/.exec(info)![1]);
  });
});

// ---------------------------------------------------------------- fixture disks

/** A copy of `disk` holding only each partition's mapped extents (plus the table sectors outside partitions). */
async function usedOnlyCopy(disk: FixtureDisk, maps: readonly UsedBlockMap[], target: string): Promise<void> {
  await writeFile(target, '');
  await truncate(target, Number(disk.sizeBytes));
  const source = await open(disk.path, 'r');
  const out = await open(target, 'r+');
  try {
    const partitions = disk.partitions.map((p) => ({ start: p.offsetBytes, length: p.sizeBytes }));
    const outside = subtractExtents([{ start: 0n, length: disk.sizeBytes }], partitions);
    const absolute = disk.partitions.flatMap((p, i) => maps[i]!.extents.map((e) => ({ start: p.offsetBytes + e.start, length: e.length })));
    for (const e of normalizeExtents([...outside, ...absolute])) {
      const buffer = new Uint8Array(Number(e.length));
      await source.read(buffer, 0, buffer.length, Number(e.start));
      await out.write(buffer, 0, buffer.length, Number(e.start));
    }
  } finally {
    await source.close();
    await out.close();
  }
}

/** Reads every known file of every partition back from `image` and compares sizes and hashes. */
async function expectFilesIntact(disk: FixtureDisk, image: string): Promise<void> {
  for (const p of disk.partitions) {
    if (p.filesystem === 'none') continue;
    const partImage = await extractPartition(image, p, join(work.path, `part${p.number}.img`));
    const got: KnownFile[] = [];
    for (const f of p.files) {
      const out = join(work.path, 'readback');
      if (p.filesystem === 'ntfs') {
        const text = await runTool('sh', ['-c', 'ntfscat "$1" "$2" > "$3"', 'sh', partImage, `/${f.path}`, out]);
        expect(text.exitCode).toBe(0);
      } else {
        await mustRun('mcopy', ['-n', '-o', '-i', partImage, `::/${f.path}`, out]);
      }
      const bytes = await readFile(out);
      got.push({ path: f.path, size: bytes.length, sha256: sha256(bytes) });
    }
    expect(got).toEqual(p.files);
    if (p.filesystem === 'fat32') expect((await runTool('fsck.vfat', ['-n', partImage])).exitCode).toBe(0);
    else await crossCheckNtfs(partImage);
    await rm(partImage);
  }
}

async function mapPartitions(disk: FixtureDisk): Promise<UsedBlockMap[]> {
  const maps: UsedBlockMap[] = [];
  for (const p of disk.partitions) maps.push(await mapImage(disk.path, p.offsetBytes, p.sizeBytes));
  return maps;
}

describe('fixture disks', () => {
  it('GPT/UEFI disk: layout as sgdisk and sfdisk see it; files survive a copy of only the mapped extents', async () => {
    const disk = await makeGptUefiDisk(work.path);
    const dump = JSON.parse(await mustRun('sfdisk', ['--json', disk.path])) as {
      partitiontable: { label: string; id: string; partitions: { start: number; size: number; type: string; uuid: string; name?: string }[] };
    };
    expect(dump.partitiontable.label).toBe('gpt');
    expect(dump.partitiontable.id.toLowerCase()).toBe(disk.diskGuid);
    expect(dump.partitiontable.partitions.map((p) => ({ start: BigInt(p.start), size: BigInt(p.size), type: p.type.toLowerCase(), uuid: p.uuid.toLowerCase() })))
      .toEqual(disk.partitions.map((p) => ({ start: p.startLba, size: p.sectorCount, type: p.type, uuid: p.uniqueGuid })));
    expect(disk.partitions.map((p) => p.type)).toEqual([GPT_TYPES.esp, GPT_TYPES.msr, GPT_TYPES.basicData, GPT_TYPES.recovery]);
    expect(/Attribute flags: ([0-9A-F]+)/i.exec(await mustRun('sgdisk', ['-i', '4', disk.path]))![1]).toBe(RECOVERY_ATTRIBUTES.toString(16));
    expect(disk.partitions[0]!.files.map((f) => f.path)).toContain('EFI/Microsoft/Boot/bootmgfw.efi');

    const maps = await mapPartitions(disk);
    expect(maps.map((m) => [m.filesystem, m.label])).toEqual([['fat32', 'SYSTEM'], ['unknown', undefined], ['ntfs', 'Windows'], ['ntfs', 'Recovery']]);
    expect(maps[1]!.usedBytes).toBe(disk.partitions[1]!.sizeBytes);
    // The Windows volume's map covers at least its files' bytes, and far less than the volume.
    const windowsData = disk.partitions[2]!.files.reduce((sum, f) => sum + BigInt(f.size), 0n);
    expect(maps[2]!.usedBytes).toBeGreaterThan(windowsData);
    expect(maps[2]!.usedBytes).toBeLessThan(disk.partitions[2]!.sizeBytes / 4n);

    const copy = join(work.path, 'gpt-used-only.img');
    await usedOnlyCopy(disk, maps, copy);
    expect((await runTool('sgdisk', ['-v', copy])).stdout).toMatch(/No problems found/);
    await expectFilesIntact(disk, copy);
    await rm(copy);
    await rm(disk.path);
  });

  it('MBR/BIOS disk: active System Reserved and Windows as sfdisk sees them; files survive a used-only copy', async () => {
    const disk = await makeMbrBiosDisk(work.path);
    const dump = JSON.parse(await mustRun('sfdisk', ['--json', disk.path])) as {
      partitiontable: { label: string; id: string; partitions: { start: number; size: number; type: string; bootable?: boolean }[] };
    };
    expect(dump.partitiontable.label).toBe('dos');
    expect(Number(dump.partitiontable.id)).toBe(disk.diskSignature);
    expect(dump.partitiontable.partitions.map((p) => ({ start: BigInt(p.start), size: BigInt(p.size), type: `0x${p.type.padStart(2, '0')}`, bootable: p.bootable === true })))
      .toEqual(disk.partitions.map((p) => ({ start: p.startLba, size: p.sectorCount, type: p.type, bootable: p.bootable })));

    const maps = await mapPartitions(disk);
    expect(maps.map((m) => [m.filesystem, m.label])).toEqual([['ntfs', 'System Reserved'], ['ntfs', 'Windows']]);
    // mkntfs recorded each partition's start as "hidden sectors", as Windows needs to boot from it.
    const bytes = await readFile(disk.path);
    for (const p of disk.partitions) expect(BigInt(bytes.readUInt32LE(Number(p.offsetBytes) + 0x1c))).toBe(p.startLba);

    const copy = join(work.path, 'mbr-used-only.img');
    await usedOnlyCopy(disk, maps, copy);
    await expectFilesIntact(disk, copy);
    await rm(copy);
    await rm(disk.path);
  });

  it('partition image builders: NTFS files must sit in the root (ntfscp makes no directories), FAT32 paths may nest', async () => {
    await expect(makeNtfsImage(work.path, { sizeMiB: 8, name: 'nested.img', files: [{ path: 'Windows/System32/x.dll', size: 10 }] }))
      .rejects.toThrow(/root directory/);
    const esp = await makeFat32Image(work.path, { sizeMiB: 34, name: 'esp-only.img', files: [{ path: 'EFI/Boot/bootx64.efi', size: 5000 }] });
    expect((await mapImage(esp.path)).filesystem).toBe('fat32');
  });
});
