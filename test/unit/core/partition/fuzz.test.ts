/**
 * Property tests: the parsers survive random and mutated input (no exception, no endless loop, no
 * read outside the disk) and parse(encode(x)) returns x for generated tables.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeGpt, gptLayoutFor, gptTableFromHeader, parseGptEntries, parseGptHeader } from '../../../../src/core/partition/gpt.ts';
import { guidFromBytes } from '../../../../src/core/partition/guid.ts';
import { encodeMbr, makeMbrEntry, parseEbr, parseMbr } from '../../../../src/core/partition/mbr.ts';
import { MAX_LOGICAL_PARTITIONS, readPartitionTable } from '../../../../src/core/partition/read-table.ts';
import type { DiskGeometry, GptPartition, GptTable, MbrEntry, MbrTable } from '../../../../src/core/partition/types.ts';
import { planGptWrite, planMbrWrite } from '../../../../src/core/partition/write-plan.ts';
import { SparseDisk } from '../../../helpers/partition-images.ts';

const RUNS = 10_000;
const SIGNATURE = new TextEncoder().encode('EFI PART');

// ---------------------------------------------------------------- generators

/** Expands a 32-bit seed with xorshift32: far cheaper than drawing each byte through fast-check. */
function expand(seed: number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed | 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}
const bytes = (n: number) => fc.integer().map((seed) => expand(seed, n));
const someBytes = (max: number) => fc.tuple(fc.integer(), fc.nat({ max })).map(([seed, n]) => expand(seed, n));

/** Byte equality without the per-element cost of a deep toEqual on typed arrays. */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const guid = bytes(16).map((b) => guidFromBytes(b));
/** Non-zero UTF-16 code units, lone surrogates included: names are kept as code units. */
const gptName = fc.array(fc.integer({ min: 1, max: 0xffff }), { maxLength: 36 }).map((units) => String.fromCharCode(...units));

/** A single-bit flip somewhere in `length` bytes. */
const bitFlip = (length: number) => fc.record({ offset: fc.nat({ max: length - 1 }), bit: fc.nat({ max: 7 }) });
/** A byte overwritten with any value. */
const byteSet = (length: number) => fc.record({ offset: fc.nat({ max: length - 1 }), value: fc.nat({ max: 255 }) });

function flipped(source: Uint8Array, flips: readonly { offset: number; bit: number }[]): Uint8Array {
  const out = source.slice();
  for (const f of flips) out[f.offset] = out[f.offset]! ^ (1 << f.bit);
  return out;
}

function overwritten(source: Uint8Array, sets: readonly { offset: number; value: number }[]): Uint8Array {
  const out = source.slice();
  for (const s of sets) out[s.offset] = s.value;
  return out;
}

const mbrEntry = (number: number): fc.Arbitrary<MbrEntry> =>
  fc.record({
    number: fc.constant(number), status: fc.nat({ max: 255 }), type: fc.nat({ max: 255 }),
    startLba: u32.map(BigInt), sectorCount: u32.map(BigInt), chsStart: bytes(3), chsEnd: bytes(3),
  });

const mbrTable: fc.Arbitrary<MbrTable> = fc.record({
  style: fc.constant('mbr' as const),
  bootCode: bytes(440),
  diskSignature: u32,
  reserved: fc.nat({ max: 0xffff }),
  primary: fc.tuple(mbrEntry(1), mbrEntry(2), mbrEntry(3), mbrEntry(4)),
  logical: fc.constant([]),
  ebrLbas: fc.constant([]),
  bootSignatureValid: fc.constant(true),
});

const gptPartition = (number: number): fc.Arbitrary<GptPartition> =>
  fc.record({ number: fc.constant(number), typeGuid: guid, uniqueGuid: guid, firstLba: u64, lastLba: u64, attributes: u64, name: gptName })
    .filter((p) => p.typeGuid !== '00000000-0000-0000-0000-000000000000');

/** Any encodable table (LBAs unconstrained) with its disk; lastUsableLba is what the encoder derives. */
const gptCase: fc.Arbitrary<{ table: GptTable; geometry: DiskGeometry }> = fc
  .record({
    ss: fc.constantFrom(512 as const, 4096 as const),
    numberOfEntries: fc.integer({ min: 1, max: 64 }),
    sizeOfEntry: fc.constantFrom(128, 256),
    sectors: fc.bigInt({ min: 300n, max: 1n << 40n }),
    diskGuid: guid,
    firstUsableLba: u64,
    slots: fc.uniqueArray(fc.integer({ min: 1, max: 64 }), { maxLength: 8 }),
  })
  .chain((c) => {
    const slots = c.slots.filter((s) => s <= c.numberOfEntries);
    return fc.tuple(...slots.map(gptPartition)).map((partitions) => {
      const geometry: DiskGeometry = { sizeBytes: c.sectors * BigInt(c.ss), logicalSectorSize: c.ss, physicalSectorSize: c.ss };
      const layout = gptLayoutFor(geometry, c.numberOfEntries, c.sizeOfEntry);
      const table: GptTable = {
        style: 'gpt', sectorSize: c.ss, diskGuid: c.diskGuid, firstUsableLba: c.firstUsableLba, lastUsableLba: layout.maxLastUsableLba,
        numberOfEntries: c.numberOfEntries, sizeOfEntry: c.sizeOfEntry, partitions: [...partitions].sort((a, b) => a.number - b.number),
      };
      return { table, geometry };
    });
  });

/** A valid GPT disk (small array so the disk stays small) written by planGptWrite. */
const gptDiskCase = fc
  .record({
    ss: fc.constantFrom(512 as const, 4096 as const),
    numberOfEntries: fc.constantFrom(4, 8, 16),
    sectors: fc.bigInt({ min: 64n, max: 256n }),
    diskGuid: guid,
    parts: fc.array(fc.record({ uniqueGuid: guid, typeGuid: guid, length: fc.bigInt({ min: 1n, max: 8n }), name: gptName, attributes: u64 }), { maxLength: 4 }),
  })
  .filter((c) => c.parts.every((p) => p.typeGuid !== '00000000-0000-0000-0000-000000000000'))
  .map((c) => {
    const disk = new SparseDisk(c.sectors, c.ss);
    const layout = gptLayoutFor(disk.geometry, c.numberOfEntries, 128);
    const partitions = c.parts.map((p, i) => {
      const firstLba = layout.minFirstUsableLba + BigInt(i) * 8n;
      return { number: i + 1, typeGuid: p.typeGuid, uniqueGuid: p.uniqueGuid, firstLba, lastLba: firstLba + p.length - 1n, attributes: p.attributes, name: p.name };
    });
    const table: GptTable = {
      style: 'gpt', sectorSize: c.ss, diskGuid: c.diskGuid, firstUsableLba: layout.minFirstUsableLba, lastUsableLba: layout.maxLastUsableLba,
      numberOfEntries: c.numberOfEntries, sizeOfEntry: 128, partitions,
    };
    disk.apply(planGptWrite(table, disk.geometry));
    return { disk, table, layout };
  });

/** A valid MBR disk with an extended partition and up to 6 logical partitions. */
const mbrDiskCase = fc
  .record({ logicals: fc.array(fc.bigInt({ min: 1n, max: 60n }), { maxLength: 6 }), signature: u32, bootCode: bytes(440) })
  .map((c) => {
    const disk = new SparseDisk(512n);
    const table: MbrTable = {
      style: 'mbr', bootCode: c.bootCode, diskSignature: c.signature, reserved: 0,
      primary: [
        makeMbrEntry({ number: 1, type: 0x07, startLba: 8n, sectorCount: 56n, status: 0x80 }),
        makeMbrEntry({ number: 2, type: 0x0f, startLba: 64n, sectorCount: 448n }),
        makeMbrEntry({ number: 3, type: 0x00, startLba: 0n, sectorCount: 0n }),
        makeMbrEntry({ number: 4, type: 0x00, startLba: 0n, sectorCount: 0n }),
      ],
      logical: c.logicals.map((len, i) => makeMbrEntry({ number: 5 + i, type: 0x07, startLba: 64n + 64n * BigInt(i) + 2n, sectorCount: len })),
      ebrLbas: c.logicals.map((_, i) => 64n + 64n * BigInt(i)),
      bootSignatureValid: true,
    };
    disk.apply(planMbrWrite(table, disk.geometry));
    return { disk, table };
  });

// ---------------------------------------------------------------- MBR

describe('MBR parser under fuzzing', () => {
  it(`survives ${RUNS} random sectors and re-encodes each byte-for-byte`, () => {
    fc.assert(
      fc.property(bytes(512), fc.boolean(), (sector, withSignature) => {
        if (withSignature) sector.set([0x55, 0xaa], 510);
        const mbr = parseMbr(sector);
        expect(mbr.bootSignatureValid).toBe(withSignature || (sector[510] === 0x55 && sector[511] === 0xaa));
        const expected = sector.slice();
        expected.set([0x55, 0xaa], 510);
        expect(sameBytes(encodeMbr(mbr), expected)).toBe(true);
        const ebr = parseEbr(sector, 1000n, 900n, 5);
        if (ebr.logical !== undefined) expect(ebr.logical.startLba).toBeGreaterThanOrEqual(1000n);
      }),
      { numRuns: RUNS },
    );
  });

  it(`survives ${RUNS} mutated sectors of real tables`, () => {
    fc.assert(
      fc.property(mbrTable, fc.array(byteSet(512), { minLength: 1, maxLength: 8 }), (table, sets) => {
        const mutated = overwritten(encodeMbr(table), sets);
        const mbr = parseMbr(mutated);
        const changedTable = sets.some((s) => s.offset >= 446 && s.offset < 510);
        if (!changedTable) expect(mbr.primary).toEqual(table.primary);
        const expected = mutated.slice();
        expected.set([0x55, 0xaa], 510);
        expect(sameBytes(encodeMbr(mbr), expected)).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });

  it('parse(encode(x)) equals x for generated tables', () => {
    fc.assert(
      fc.property(mbrTable, (table) => {
        expect(parseMbr(encodeMbr(table))).toEqual(table);
      }),
      { numRuns: 1000 },
    );
  });
});

// ---------------------------------------------------------------- GPT header

describe('GPT header parser under fuzzing', () => {
  it(`survives ${RUNS} random sectors`, () => {
    fc.assert(
      fc.property(bytes(512), fc.boolean(), fc.option(someBytes(2048)), (sector, withSignature, array) => {
        if (withSignature) sector.set(SIGNATURE, 0);
        const header = parseGptHeader(sector, array ?? undefined);
        const signed = SIGNATURE.every((b, i) => sector[i] === b);
        expect(header === undefined).toBe(!signed);
        if (header !== undefined) {
          expect(header.myLba).toBeGreaterThanOrEqual(0n);
          if (header.headerSize < 92 || header.headerSize > 512) expect(header.headerCrcValid).toBe(false);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it(`detects every mutation of ${RUNS} encoded headers that touches the CRC-covered bytes`, () => {
    fc.assert(
      fc.property(gptCase, fc.array(bitFlip(512), { minLength: 1, maxLength: 4 }), ({ table, geometry }, flips) => {
        const enc = encodeGpt(table, geometry);
        const original = parseGptHeader(enc.primaryHeader, enc.entries)!;
        const mutated = flipped(enc.primaryHeader.subarray(0, 512), flips);
        const touched = mutated.subarray(0, 92).some((b, i) => b !== enc.primaryHeader[i]);
        const header = parseGptHeader(mutated, enc.entries);
        if (mutated.subarray(0, 8).some((b, i) => b !== SIGNATURE[i])) {
          expect(header).toBeUndefined();
        } else if (touched) {
          // ≤ 4 flipped bits: within CRC-32's Hamming distance for a 92-byte header.
          expect(header!.headerCrcValid).toBe(false);
        } else {
          expect(header).toEqual(original);
        }
      }),
      { numRuns: RUNS },
    );
  });
});

// ---------------------------------------------------------------- GPT entries

describe('GPT entry parser under fuzzing', () => {
  it(`survives ${RUNS} random arrays and header claims`, () => {
    fc.assert(
      fc.property(
        someBytes(4096),
        fc.oneof(u32, fc.integer({ min: 0, max: 64 })),
        fc.oneof(fc.constantFrom(0, 64, 127, 128, 130, 256, 512), u32),
        (array, numberOfEntries, sizeOfEntry) => {
          const parts = parseGptEntries(array, { numberOfEntries, sizeOfEntry });
          const slots = sizeOfEntry < 128 ? 0 : Math.min(numberOfEntries, Math.floor(array.length / sizeOfEntry));
          expect(parts.length).toBeLessThanOrEqual(slots);
          for (const p of parts) {
            expect(p.number).toBeGreaterThanOrEqual(1);
            expect(p.number).toBeLessThanOrEqual(slots);
            expect(p.name.length).toBeLessThanOrEqual(36);
          }
        },
      ),
      { numRuns: RUNS },
    );
  });

  it(`survives ${RUNS} mutated arrays and keeps untouched slots intact`, () => {
    fc.assert(
      fc.property(gptCase, fc.array(byteSet(64 * 256), { minLength: 1, maxLength: 8 }), ({ table, geometry }, sets) => {
        const { entries } = encodeGpt(table, geometry);
        const mutated = overwritten(entries, sets.filter((s) => s.offset < entries.length));
        const parts = parseGptEntries(mutated, table);
        const touchedSlots = new Set(sets.map((s) => Math.floor(s.offset / table.sizeOfEntry) + 1));
        const untouched = (p: GptPartition): boolean => !touchedSlots.has(p.number);
        expect(parts.filter(untouched)).toEqual(table.partitions.filter(untouched));
      }),
      { numRuns: RUNS },
    );
  });

  it('parse(encode(x)) equals x for generated tables', () => {
    fc.assert(
      fc.property(gptCase, ({ table, geometry }) => {
        const enc = encodeGpt(table, geometry);
        for (const sector of [enc.primaryHeader, enc.backupHeader]) {
          const header = parseGptHeader(sector, enc.entries)!;
          expect(header.headerCrcValid && header.entryArrayCrcValid).toBe(true);
          expect(gptTableFromHeader(header, parseGptEntries(enc.entries, header), geometry.logicalSectorSize)).toEqual(table);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

// ---------------------------------------------------------------- whole disks

/** Random table sectors on a small disk, biased toward the markers that send the reader deeper. */
const randomDisk = fc
  .record({
    ss: fc.constantFrom(512 as const, 512 as const, 4096 as const),
    sectors: fc.bigInt({ min: 1n, max: 160n }),
    lba0: bytes(512),
    lba1: bytes(512),
    last: bytes(512),
    more: fc.array(fc.record({ lba: fc.bigInt({ min: 0n, max: 159n }), data: bytes(512) }), { maxLength: 4 }),
    markers: fc.record({ aa55: fc.boolean(), ee: fc.boolean(), extended: fc.boolean(), gpt1: fc.boolean(), gptLast: fc.boolean() }),
  })
  .map((c) => {
    const disk = new SparseDisk(c.sectors, c.ss);
    const put = (lba: bigint, data: Uint8Array): void => {
      if (lba >= c.sectors) return;
      const sector = new Uint8Array(c.ss);
      sector.set(data);
      disk.setSector(lba, sector);
    };
    if (c.markers.aa55) c.lba0.set([0x55, 0xaa], 510);
    if (c.markers.ee) c.lba0[446 + 4] = 0xee;
    if (c.markers.extended) c.lba0[446 + 16 + 4] = 0x05;
    if (c.markers.gpt1) c.lba1.set(SIGNATURE, 0);
    if (c.markers.gptLast) c.last.set(SIGNATURE, 0);
    for (const m of c.more) put(m.lba, m.data);
    put(0n, c.lba0);
    put(1n, c.lba1);
    put(c.sectors - 1n, c.last);
    return disk;
  });

function checkResult(result: Awaited<ReturnType<typeof readPartitionTable>>, disk: SparseDisk): void {
  expect(['mbr', 'gpt', 'none']).toContain(result.style);
  for (const p of result.problems) expect(p.code).toMatch(/^(mbr|gpt)\.[a-z0-9-]+$/);
  for (const r of result.tableSectors) expect(r.lba + BigInt(r.count)).toBeLessThanOrEqual(disk.sectorCount);
  expect(disk.reads.length).toBeLessThanOrEqual(MAX_LOGICAL_PARTITIONS + 8);
}

describe('readPartitionTable under fuzzing', () => {
  it(`survives ${RUNS} small random disks without reading outside them`, async () => {
    await fc.assert(
      fc.asyncProperty(randomDisk, async (disk) => {
        // SparseDisk throws on any read outside the disk.
        checkResult(await readPartitionTable(disk.read, disk.geometry), disk);
      }),
      { numRuns: RUNS },
    );
  });

  it(`survives ${RUNS / 2} mutated GPT disks and ${RUNS / 2} mutated MBR disks`, async () => {
    const mutate = (disk: SparseDisk, lbas: readonly bigint[], sets: readonly { pick: number; offset: number; value: number }[]): void => {
      for (const s of sets) {
        const lba = lbas[s.pick % lbas.length]!;
        const sector = disk.sector(lba);
        sector[s.offset % sector.length] = s.value;
        disk.setSector(lba, sector);
      }
    };
    const sets = fc.array(fc.record({ pick: fc.nat(), offset: fc.nat(), value: fc.nat({ max: 255 }) }), { minLength: 1, maxLength: 8 });
    await fc.assert(
      fc.asyncProperty(gptDiskCase, sets, async ({ disk, layout }, s) => {
        const lbas = [0n, 1n, 2n, layout.backupEntriesLba, layout.backupHeaderLba];
        mutate(disk, lbas, s);
        checkResult(await readPartitionTable(disk.read, disk.geometry), disk);
      }),
      { numRuns: RUNS / 2 },
    );
    await fc.assert(
      fc.asyncProperty(mbrDiskCase, sets, async ({ disk, table }, s) => {
        mutate(disk, [0n, ...table.ebrLbas], s);
        checkResult(await readPartitionTable(disk.read, disk.geometry), disk);
      }),
      { numRuns: RUNS / 2 },
    );
  });

  it('recovers the exact table from the backup whatever happens to the primary copy', async () => {
    await fc.assert(
      fc.asyncProperty(gptDiskCase, fc.array(fc.record({ lba: fc.nat(), offset: fc.nat(), bit: fc.nat({ max: 7 }) }), { minLength: 1, maxLength: 6 }), async ({ disk, table, layout }, flips) => {
        for (const f of flips) disk.flip(1n + BigInt(f.lba) % (1n + layout.entrySectors), f.offset % disk.sectorSize, 1 << f.bit);
        const result = await readPartitionTable(disk.read, disk.geometry);
        expect(result.style).toBe('gpt');
        expect({ ...result.table, protectiveMbr: undefined }).toEqual({ ...table, protectiveMbr: undefined });
        expect(result.problems.filter((p) => p.severity === 'error')).toEqual([]);
      }),
      { numRuns: 2000 },
    );
  });

  it('reads back every generated MBR disk exactly, logical partitions included', async () => {
    await fc.assert(
      fc.asyncProperty(mbrDiskCase, async ({ disk, table }) => {
        const result = await readPartitionTable(disk.read, disk.geometry);
        expect(result.table).toEqual(table);
        expect(result.problems).toEqual([]);
      }),
      { numRuns: 500 },
    );
  });
});
