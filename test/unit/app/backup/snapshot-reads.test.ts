/**
 * routeDisk / FrozenDiskReader: a read across partition boundaries is split between the live disk
 * and each partition's frozen volume and put back together in order; partitions the view reads live,
 * short volumes, overlapping (damaged) tables and a wrong sector size.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MemoryDisk } from '../../../../src/adapters/memory/memory-disk.ts';
import type { DiskTable } from '../../../../src/app/backup/disk-survey.ts';
import type { BackupNotice } from '../../../../src/app/backup/observer.ts';
import { routeDisk } from '../../../../src/app/backup/snapshot-reads.ts';
import type { PartitionSummary } from '../../../../src/core/partition/types.ts';
import type { FrozenVolume, SnapshotView } from '../../../../src/ports/volume-snapshot.ts';

const SECTOR = 512;

function summary(number: number, startLba: number, sectorCount: number): PartitionSummary {
  return { number, startLba: BigInt(startLba), sectorCount: BigInt(sectorCount), type: '0x07', typeName: 'NTFS', name: '', bootable: false } as PartitionSummary;
}

function table(summaries: PartitionSummary[]): DiskTable {
  return { style: 'mbr', identity: { mbrSignature: 1 }, table: {} as DiskTable['table'], tableSectors: [{ lba: 0n, count: 1 }], summaries, problems: [], notices: [] };
}

/** Bytes whose value says where they came from: live = 0x10 + sector % 16, frozen partition n = 0x80 + n. */
function liveDisk(sectors: number): MemoryDisk {
  const bytes = new Uint8Array(sectors * SECTOR);
  for (let s = 0; s < sectors; s++) bytes.fill(0x10 + (s % 16), s * SECTOR, (s + 1) * SECTOR);
  return MemoryDisk.fromBytes(bytes, { path: 'live' });
}

function frozen(partition: number, sectors: number, sectorSize: 512 | 4096 = 512): MemoryDisk {
  return MemoryDisk.fromBytes(new Uint8Array(sectors * sectorSize).fill(0x80 + partition), { path: `shadow-${partition}`, logicalSectorSize: sectorSize });
}

function view(volumes: ReadonlyMap<number, FrozenVolume>): SnapshotView {
  return {
    source: (_disk, partition) => {
      const v = volumes.get(partition);
      return v === undefined ? { from: 'live', reason: 'esp', message: 'never shadow-copied' } : { from: 'snapshot', volume: v };
    },
  };
}

describe('routeDisk', () => {
  it('splits a read across gap, frozen partitions and a live partition, in order', async () => {
    const live = liveDisk(400);
    // 63 is the classic unaligned start: the backup's 64 KiB grid cuts across it.
    const parts = [summary(1, 63, 100), summary(2, 163, 37), summary(3, 250, 100)];
    const notices: BackupNotice[] = [];
    const { reader, routes } = routeDisk(live, 0, table(parts), view(new Map([[1, frozen(1, 100)], [3, frozen(3, 100)]])), (n) => notices.push(n));
    expect(routes).toEqual([
      { disk: 0, partition: 1, from: 'snapshot' },
      { disk: 0, partition: 2, from: 'live', reason: 'esp' },
      { disk: 0, partition: 3, from: 'snapshot' },
    ]);
    expect(notices.map((n) => [n.code, n.data?.partition])).toEqual([['backup.read-live', 2]]);
    const data = await reader.read(0n, 400 * SECTOR);
    const bySector = Array.from({ length: 400 }, (_, s) => data[s * SECTOR]);
    const expected = Array.from({ length: 400 }, (_, s) => (s >= 63 && s < 163 ? 0x81 : s >= 250 && s < 350 ? 0x83 : 0x10 + (s % 16)));
    expect(bySector).toEqual(expected);
    expect(reader.bytesFromSnapshot).toBe(200n * 512n);
    expect(reader.bytesFromLive).toBe(200n * 512n);
  });

  it('gives any read exactly the bytes of the composed disk (property)', async () => {
    const live = liveDisk(400);
    const { reader } = routeDisk(live, 0, table([summary(1, 63, 100), summary(3, 250, 100)]), view(new Map([[1, frozen(1, 100)], [3, frozen(3, 100)]])), () => undefined);
    const whole = await reader.read(0n, 400 * SECTOR);
    await fc.assert(fc.asyncProperty(fc.integer({ min: 0, max: 399 }), fc.integer({ min: 1, max: 400 }), async (start, count) => {
      const n = Math.min(count, 400 - start);
      const part = await reader.read(BigInt(start * SECTOR), n * SECTOR);
      expect(Buffer.from(part).equals(Buffer.from(whole.subarray(start * SECTOR, (start + n) * SECTOR)))).toBe(true);
    }), { numRuns: 200 });
  });

  it('reads what a short frozen volume lacks from the live disk, and notices it', async () => {
    const notices: BackupNotice[] = [];
    const { reader } = routeDisk(liveDisk(200), 0, table([summary(1, 100, 50)]), view(new Map([[1, frozen(1, 49)]])), (n) => notices.push(n));
    const data = await reader.read(100n * 512n, 50 * 512);
    expect(data[48 * 512]).toBe(0x81);
    expect(data[49 * 512]).toBe(0x10 + (149 % 16));
    expect(notices.map((n) => n.code)).toEqual(['backup.snapshot-short']);
  });

  it('reads the later of two overlapping partitions live instead of mixing two snapshots', async () => {
    const notices: BackupNotice[] = [];
    const { routes } = routeDisk(liveDisk(200), 0, table([summary(1, 10, 100), summary(2, 50, 100)]), view(new Map([[1, frozen(1, 100)], [2, frozen(2, 100)]])), (n) => notices.push(n));
    expect(routes[1]).toEqual({ disk: 0, partition: 2, from: 'live', reason: 'overlapping-partition' });
    expect(notices.map((n) => n.level)).toEqual(['warning']);
  });

  it('refuses a frozen volume whose sector size is not the disk\'s', () => {
    expect(() => routeDisk(liveDisk(200), 0, table([summary(1, 8, 64)]), view(new Map([[1, frozen(1, 8, 4096)]])), () => undefined))
      .toThrow(expect.objectContaining({ code: 'snapshot.sector-size-mismatch' }));
  });
});
