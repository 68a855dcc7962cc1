import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  encodeManifest, manifestToJson, referencedChunks, validateManifest,
  type BackupManifest, type JsonValue, type ManifestDisk, type ManifestExtent, type ManifestPartition, type TableSectorRun, type WrappedKey,
} from '../../../../src/core/backup/manifest.ts';
import { RecoveryError } from '../../../../src/core/errors.ts';

// ---------------------------------------------------------------- builders

// The tests poke at parsed JSON the way a corrupted file would: untyped on purpose.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Untyped = any;

const h = (c: string): string => c.repeat(64);

const wrappedKey: WrappedKey = {
  kdf: 'scrypt', n: 32768, r: 8, p: 1, salt: '0f'.repeat(16),
  cipher: 'aes-256-gcm', nonce: '01'.repeat(12), ciphertext: '02'.repeat(32), tag: '03'.repeat(16),
};

function sampleManifest(): BackupManifest {
  const gpt: ManifestDisk = {
    number: 0,
    style: 'gpt',
    identity: { gptDiskGuid: '5b1b4c9e-7e0a-4b6a-9a39-0d1f8c2e7a11' },
    geometry: { sizeBytes: 256n * 1024n * 1024n, logicalSectorSize: 512, physicalSectorSize: 4096 },
    tableSectors: [
      { lba: 0n, count: 34, chunks: [{ chunkId: h('a'), storedHash: h('b'), storedLength: 900, length: 34 * 512 }] },
      { lba: 524255n, count: 33, chunks: [{ chunkId: h('c'), storedHash: h('d'), storedLength: 800, length: 33 * 512 }] },
    ],
    layout: {
      partitions: [
        { number: 1, startLba: 2048n, sectorCount: 204800n, type: 'c12a7328-f81f-11d2-ba4b-00a0c93ec93b', typeName: 'EFI System', name: 'EFI system partition', bootable: false, uniqueGuid: '11111111-2222-4333-8444-555555555555', attributes: 0x8000000000000001n, filesystem: 'fat32', usedBytes: 1048576n },
        { number: 2, startLba: 206848n, sectorCount: 1000n, type: 'ebd0a0a2-b9e5-4433-87c0-68b6b72699c7', name: 'data', bootable: false, filesystem: 'ntfs' },
      ],
      extra: { firstUsableLba: '34', entries: 128, nested: [true, null, 1.5, { a: 'b' }] },
    },
    extents: [
      { kind: 'data', diskOffset: 1048576n, length: 262144n, chunkId: h('e'), storedHash: h('f'), storedLength: 70000 },
      { kind: 'zero', diskOffset: 1310720n, length: 1048576n },
      { kind: 'data', diskOffset: 2359296n, length: 262144n, chunkId: h('e'), storedHash: h('f'), storedLength: 70000 },
      { kind: 'data', diskOffset: 2621440n, length: 4096n, chunkId: h('1'), storedHash: h('2'), storedLength: 4096 + 48 },
    ],
  };
  const mbr: ManifestDisk = {
    number: 1,
    style: 'mbr',
    identity: { mbrSignature: 0xdeadbeef },
    geometry: { sizeBytes: 32n * 1024n * 1024n, logicalSectorSize: 4096, physicalSectorSize: 4096 },
    tableSectors: [{ lba: 0n, count: 1, chunks: [{ chunkId: h('3'), storedHash: h('4'), storedLength: 100, length: 4096 }] }],
    layout: { partitions: [{ number: 1, startLba: 256n, sectorCount: 7936n, type: '0x07', name: '', bootable: true, filesystem: 'ntfs', usedBytes: 0n }] },
    extents: [],
  };
  return {
    formatVersion: 1,
    setId: 'set-7f3a',
    pointSequence: 3,
    createdAt: '2026-11-23T11:20:00.000Z',
    source: { hostname: 'WIN-SRV01', firmware: 'uefi' },
    options: { codec: 'lz4', blockSize: 262144, encrypted: true, onlyUsedBlocks: true },
    encryption: { cipher: 'aes-256-gcm', dataKey: wrappedKey },
    disks: [gpt, mbr],
  };
}

/** Deep-copy of the sample's JSON with `edit` applied. */
function editedJson(edit: (json: Untyped) => void): unknown {
  const json = JSON.parse(encodeManifest(sampleManifest()));
  edit(json);
  return json;
}

function failure(json: unknown): { code: string; path: unknown } {
  try {
    validateManifest(json);
  } catch (e) {
    if (e instanceof RecoveryError) return { code: e.code, path: e.data.path };
    throw e;
  }
  return { code: 'valid', path: undefined };
}

// ---------------------------------------------------------------- arbitrary valid manifests

const hex64 = fc.stringMatching(/^[0-9a-f]{64}$/);
const guid = fc.uuid().map((u) => u.toLowerCase());
const big = (min: bigint, max: bigint) => fc.bigInt({ min, max });

function diskArbitrary(number: number): fc.Arbitrary<ManifestDisk> {
  return fc.record({
    style: fc.constantFrom('mbr' as const, 'gpt' as const, 'raw' as const),
    signature: fc.integer({ min: 0, max: 0xffffffff }),
    diskGuid: guid,
    ss: fc.constantFrom(512 as const, 4096 as const),
    physicalShift: fc.integer({ min: 0, max: 3 }),
    sectors: big(64n, 1n << 34n),
    pool: fc.array(fc.record({ chunkId: hex64, storedHash: hex64, sectors: fc.integer({ min: 1, max: 16 }), stored: fc.integer({ min: 16, max: 2000 }) }), { minLength: 1, maxLength: 5 }),
    runs: fc.array(fc.record({ gap: fc.integer({ min: 0, max: 100 }), picks: fc.array(fc.nat(), { minLength: 1, maxLength: 3 }) }), { maxLength: 3 }),
    extents: fc.array(fc.record({ gap: big(0n, 4096n), zero: fc.boolean(), zeroSectors: big(1n, 1n << 20n), pick: fc.nat() }), { maxLength: 12 }),
    partitions: fc.array(fc.record({
      start: big(0n, 1n << 30n), count: big(1n, 1n << 30n), gpt: fc.boolean(), mbrType: fc.integer({ min: 0, max: 255 }), typeGuid: guid,
      name: fc.string({ maxLength: 36 }).filter((s) => !/[\u0000-\u001f\u007f]/.test(s)), bootable: fc.boolean(),
      uniqueGuid: fc.option(guid, { nil: undefined }), attributes: fc.option(big(0n, (1n << 64n) - 1n), { nil: undefined }),
      filesystem: fc.constantFrom('ntfs', 'fat32', 'unknown', 'refs'), used: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: undefined }),
      logical: fc.option(fc.boolean(), { nil: undefined }),
    }), { maxLength: 4 }),
    // Through JSON text once: -0 has no JSON spelling and comes back as 0.
    extra: fc.option(fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.parse(JSON.stringify(v)) as JsonValue), { nil: undefined }),
  }).map((a): ManifestDisk => {
    const ss = BigInt(a.ss);
    const sizeBytes = a.sectors * ss;
    const pool = a.pool.map((c) => ({ chunkId: c.chunkId, storedHash: c.storedHash, length: c.sectors * a.ss, storedLength: Math.min(c.stored, c.sectors * a.ss + 48) }));
    const chunkAt = (i: number) => pool[i % pool.length]!;
    const tableSectors: TableSectorRun[] = [];
    let lba = 0n;
    for (const run of a.runs) {
      const chunks = run.picks.map(chunkAt);
      const count = chunks.reduce((s, c) => s + c.length, 0) / a.ss;
      const start = lba + BigInt(run.gap);
      if ((start + BigInt(count)) * ss > sizeBytes) break;
      tableSectors.push({ lba: start, count, chunks });
      lba = start + BigInt(count);
    }
    const extents: ManifestExtent[] = [];
    let offset = 0n;
    for (const e of a.extents) {
      const diskOffset = offset + e.gap * ss;
      const c = chunkAt(e.pick);
      const extent: ManifestExtent = e.zero
        ? { kind: 'zero', diskOffset, length: e.zeroSectors * ss }
        : { kind: 'data', diskOffset, length: BigInt(c.length), chunkId: c.chunkId, storedHash: c.storedHash, storedLength: c.storedLength };
      if (diskOffset + extent.length > sizeBytes) break;
      extents.push(extent);
      offset = diskOffset + extent.length;
    }
    const partitions: ManifestPartition[] = a.partitions
      .filter((p) => p.start + p.count <= a.sectors)
      .map((p, i) => {
        const part: ManifestPartition = {
          number: i + 1, startLba: p.start, sectorCount: p.count,
          type: p.gpt ? p.typeGuid : `0x${p.mbrType.toString(16).padStart(2, '0')}`,
          name: p.name, bootable: p.bootable, filesystem: p.filesystem,
        };
        return {
          ...part,
          ...(p.logical === undefined ? {} : { logical: p.logical }),
          ...(p.uniqueGuid === undefined ? {} : { uniqueGuid: p.uniqueGuid }),
          ...(p.attributes === undefined ? {} : { attributes: p.attributes }),
          ...(p.used === undefined ? {} : { usedBytes: BigInt(Math.floor(p.used * Number(p.count * ss))) }),
        };
      });
    return {
      number,
      style: a.style,
      identity: a.style === 'mbr' ? { mbrSignature: a.signature } : a.style === 'gpt' ? { gptDiskGuid: a.diskGuid } : {},
      geometry: { sizeBytes, logicalSectorSize: a.ss, physicalSectorSize: Math.max(a.ss, 512 << a.physicalShift) },
      tableSectors,
      layout: a.extra === undefined ? { partitions } : { partitions, extra: a.extra },
      extents,
    };
  });
}

const manifestArbitrary: fc.Arbitrary<BackupManifest> = fc.record({
  setId: fc.stringMatching(/^[A-Za-z0-9._:-]{1,40}$/),
  pointSequence: fc.integer({ min: 1, max: 1_000_000 }),
  created: fc.integer({ min: 0, max: 4102444800000 }),
  hostname: fc.string({ minLength: 1, maxLength: 63 }).filter((s) => !/[\u0000-\u001f\u007f]/.test(s)),
  firmware: fc.constantFrom('bios' as const, 'uefi' as const),
  codec: fc.constantFrom('lz4' as const, 'none' as const),
  blockSize: fc.constantFrom(65536, 131072, 262144, 524288, 1048576, 2097152),
  encrypted: fc.boolean(),
  onlyUsedBlocks: fc.boolean(),
  diskCount: fc.integer({ min: 0, max: 3 }),
}).chain((a) => fc.tuple(...Array.from({ length: a.diskCount }, (_, i) => diskArbitrary(i))).map((disks): BackupManifest => {
  const base = {
    formatVersion: 1 as const, setId: a.setId, pointSequence: a.pointSequence, createdAt: new Date(a.created).toISOString(),
    source: { hostname: a.hostname, firmware: a.firmware },
    options: { codec: a.codec, blockSize: a.blockSize, encrypted: a.encrypted, onlyUsedBlocks: a.onlyUsedBlocks },
    disks,
  };
  return a.encrypted ? { ...base, encryption: { cipher: 'aes-256-gcm', dataKey: wrappedKey } } : base;
}));

// ---------------------------------------------------------------- JSON paths for mutation

type Seg = string | number;

function pathText(segs: readonly Seg[]): string {
  let out = '';
  for (const s of segs) {
    if (typeof s === 'number') out = `${out}[${s}]`;
    else if (!/^[A-Za-z_$][\w$]*$/.test(s)) out = `${out === '' ? '$' : out}[${JSON.stringify(s)}]`;
    else out = out === '' ? s : `${out}.${s}`;
  }
  return out === '' ? '$' : out;
}

function allPaths(v: unknown, segs: Seg[] = []): Seg[][] {
  const here = [segs];
  if (Array.isArray(v)) return here.concat(...v.map((x, i) => allPaths(x, [...segs, i])));
  if (typeof v === 'object' && v !== null) return here.concat(...Object.entries(v).map(([k, x]) => allPaths(x, [...segs, k])));
  return here;
}

function parentOf(root: unknown, segs: readonly Seg[]): Untyped {
  let node: Untyped = root;
  for (const s of segs.slice(0, -1)) node = node?.[s];
  return node;
}

/** Does the parent of `path` exist in `root`? ("disks[0].extents[2].chunkId" → disks[0].extents[2]) */
function parentExists(root: unknown, path: string): boolean {
  if (path === '$') return true;
  const segs: Seg[] = [];
  const rest = path.startsWith('$') ? path.slice(1) : path;
  for (const m of rest.matchAll(/\.?([A-Za-z_$][\w$]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]/g)) {
    segs.push(m[2] !== undefined ? Number(m[2]) : m[3] !== undefined ? (JSON.parse(m[3]) as string) : m[1]!);
  }
  const parent = segs.length === 1 ? root : parentOf(root, segs);
  return typeof parent === 'object' && parent !== null;
}

const valueOfOtherType = (v: unknown): unknown[] => {
  const all: unknown[] = ['text', 7, true, null, [], {}];
  const kind = (x: unknown) => (Array.isArray(x) ? 'array' : x === null ? 'null' : typeof x);
  return all.filter((x) => kind(x) !== kind(v));
};

// ---------------------------------------------------------------- tests

describe('manifest encode and validate', () => {
  it('round-trips the sample through JSON text', () => {
    const m = sampleManifest();
    const text = encodeManifest(m);
    expect(validateManifest(JSON.parse(text))).toEqual(m);
    expect(text).toContain('"attributes":"9223372036854775809"');
    expect(text).toContain('"sizeBytes":"268435456"');
  });

  it('round-trips arbitrary valid manifests (property)', () => {
    fc.assert(fc.property(manifestArbitrary, (m) => {
      expect(validateManifest(JSON.parse(encodeManifest(m)))).toEqual(m);
    }), { numRuns: 300 });
  });

  it('drops fields it does not know when encoding in-memory objects', () => {
    const m = sampleManifest();
    const partition = { ...m.disks[0]!.layout.partitions[0]!, dynamic: false, somethingElse: 1 } as ManifestPartition;
    const disk = { ...m.disks[0]!, layout: { partitions: [partition] } };
    const json = manifestToJson({ ...m, disks: [disk] }) as Untyped;
    expect(Object.keys(json.disks[0].layout.partitions[0])).not.toContain('dynamic');
    expect(validateManifest(json).disks[0]!.layout.partitions[0]).toEqual(m.disks[0]!.layout.partitions[0]);
  });

  it('refuses to encode an invalid manifest', () => {
    const m = sampleManifest();
    expect(() => encodeManifest({ ...m, pointSequence: 0 })).toThrow(expect.objectContaining({ code: 'manifest.invalid', data: { path: 'pointSequence' } }));
  });

  it('lists every referenced chunk once, with its stored hash and length', () => {
    const chunks = referencedChunks(sampleManifest());
    expect([...chunks.keys()].sort()).toEqual([h('1'), h('3'), h('a'), h('c'), h('e')].sort());
    expect(chunks.get(h('e'))).toEqual({ chunkId: h('e'), storedHash: h('f'), storedLength: 70000, length: 262144 });
  });
});

describe('manifest validation names the wrong field', () => {
  const cases: [string, (j: Untyped) => void, string, string?][] = [
    ['root not an object', () => undefined, '$'],
    ['newer format', (j) => { j.formatVersion = 2; }, 'formatVersion', 'manifest.unsupported-version'],
    ['missing set id', (j) => { delete j.setId; }, 'setId'],
    ['impossible hour', (j) => { j.createdAt = '2026-02-28T25:00:00Z'; }, 'createdAt'],
    ['impossible day', (j) => { j.createdAt = '2026-02-30T10:00:00Z'; }, 'createdAt'],
    ['unknown firmware', (j) => { j.source.firmware = 'efi'; }, 'source.firmware'],
    ['block size not offered', (j) => { j.options.blockSize = 300000; }, 'options.blockSize'],
    ['encrypted without key', (j) => { delete j.encryption; }, 'encryption'],
    ['key beside a plain set', (j) => { j.options.encrypted = false; }, 'encryption'],
    ['weak scrypt', (j) => { j.encryption.dataKey.n = 1000; }, 'encryption.dataKey'],
    ['unknown field', (j) => { j.disks[0].colour = 'red'; }, 'disks[0].colour'],
    ['unknown field with an odd name', (j) => { j.source['a.b'] = 1; }, 'source["a.b"]'],
    ['duplicate disk number', (j) => { j.disks[1].number = 0; }, 'disks[1].number'],
    ['GPT disk without GUID', (j) => { delete j.disks[0].identity.gptDiskGuid; }, 'disks[0].identity.gptDiskGuid'],
    ['MBR disk with a GUID', (j) => { j.disks[1].identity.gptDiskGuid = '5b1b4c9e-7e0a-4b6a-9a39-0d1f8c2e7a11'; }, 'disks[1].identity.gptDiskGuid'],
    ['size as a number', (j) => { j.disks[0].geometry.sizeBytes = 268435456; }, 'disks[0].geometry.sizeBytes'],
    ['odd sector size', (j) => { j.disks[0].geometry.logicalSectorSize = 520; }, 'disks[0].geometry.logicalSectorSize'],
    ['table run past the end', (j) => { j.disks[0].tableSectors[1].lba = '524256'; }, 'disks[0].tableSectors[1].count'],
    ['table run bytes mismatch', (j) => { j.disks[0].tableSectors[0].count = 33; }, 'disks[0].tableSectors[0].chunks'],
    ['upper-case chunk id', (j) => { j.disks[0].extents[3].chunkId = 'A'.repeat(64); }, 'disks[0].extents[3].chunkId'],
    ['short stored hash', (j) => { j.disks[0].extents[0].storedHash = 'ab'; }, 'disks[0].extents[0].storedHash'],
    ['stored length too large', (j) => { j.disks[0].extents[3].storedLength = 4096 + 49; }, 'disks[0].extents[3].storedLength'],
    ['unaligned extent', (j) => { j.disks[0].extents[1].diskOffset = '1310721'; }, 'disks[0].extents[1].diskOffset'],
    ['overlapping extent', (j) => { j.disks[0].extents[2].diskOffset = '2097152'; }, 'disks[0].extents[2].diskOffset'],
    ['extent out of order', (j) => { j.disks[0].extents[3].diskOffset = '0'; }, 'disks[0].extents[3].diskOffset'],
    ['extent past the end', (j) => { j.disks[0].extents[3].diskOffset = '268431360'; j.disks[0].extents[3].length = '8192'; }, 'disks[0].extents[3].length'],
    ['zero extent with a chunk', (j) => { j.disks[0].extents[1].chunkId = 'a'.repeat(64); }, 'disks[0].extents[1].chunkId'],
    ['unknown extent kind', (j) => { j.disks[0].extents[1].kind = 'hole'; }, 'disks[0].extents[1].kind'],
    ['same chunk, other stored hash', (j) => { j.disks[0].extents[2].storedHash = '9'.repeat(64); }, 'disks[0].extents[2].storedHash'],
    ['same chunk, other length', (j) => { j.disks[1].tableSectors[0].chunks[0].chunkId = 'a'.repeat(64); j.disks[1].tableSectors[0].chunks[0].storedHash = 'b'.repeat(64); j.disks[1].tableSectors[0].chunks[0].storedLength = 900; }, 'disks[1].tableSectors[0].chunks[0].length'],
    ['partition past the end', (j) => { j.disks[1].layout.partitions[0].sectorCount = '7937'; }, 'disks[1].layout.partitions[0].sectorCount'],
    ['partition type neither', (j) => { j.disks[1].layout.partitions[0].type = 'NTFS'; }, 'disks[1].layout.partitions[0].type'],
    ['used over size', (j) => { j.disks[0].layout.partitions[1].usedBytes = '512001'; }, 'disks[0].layout.partitions[1].usedBytes'],
    ['duplicate partition number', (j) => { j.disks[0].layout.partitions[1].number = 1; }, 'disks[0].layout.partitions[1].number'],
    ['control character in a name', (j) => { j.disks[0].layout.partitions[1].name = 'a\u0000b'; }, 'disks[0].layout.partitions[1].name'],
    ['non-finite number in extra', (j) => { j.disks[0].layout.extra.nested[2] = Infinity; }, 'disks[0].layout.extra.nested[2]'],
    ['sparse array', (j) => { j.disks = [j.disks[0], , j.disks[1]]; }, 'disks[1]'],
  ];

  it.each(cases)('%s', (_name, edit, path, code = 'manifest.invalid') => {
    const json = _name === 'root not an object' ? 'not a manifest' : editedJson(edit);
    expect(failure(json)).toEqual({ code, path });
  });

  it('puts the field path in the message too', () => {
    try {
      validateManifest(editedJson((j) => { j.disks[0].extents[1].kind = 'hole'; }));
      expect.unreachable();
    } catch (e) {
      expect((e as Error).message).toContain('disks[0].extents[1].kind');
    }
  });
});

describe('manifest fuzzing', () => {
  const sampleJson = JSON.parse(encodeManifest(sampleManifest()));
  const paths = allPaths(sampleJson).filter((p) => p.length > 0);

  it('reports a changed field type at exactly that field', () => {
    const leaves = paths.filter((p) => !p.includes('extra') && typeof parentOf(sampleJson, p)?.[p[p.length - 1]!] !== 'object');
    fc.assert(fc.property(fc.constantFrom(...leaves), fc.nat(), (segs, pick) => {
      const json = structuredClone(sampleJson);
      const parent = parentOf(json, segs);
      const key = segs[segs.length - 1]!;
      const others = valueOfOtherType(parent[key]);
      parent[key] = others[pick % others.length];
      expect(failure(json)).toEqual({ code: 'manifest.invalid', path: pathText(segs) });
    }), { numRuns: 500 });
  });

  it('never crashes on mutated manifests: valid, or a RecoveryError whose path exists', () => {
    const mutation = fc.oneof(
      fc.record({ op: fc.constant('replace' as const), value: fc.jsonValue({ maxDepth: 2 }) }),
      fc.record({ op: fc.constant('delete' as const) }),
      fc.record({ op: fc.constant('add' as const), key: fc.string({ maxLength: 12 }), value: fc.jsonValue({ maxDepth: 1 }) }),
    );
    let rejected = 0;
    fc.assert(fc.property(fc.constantFrom(...paths), mutation, (segs, m) => {
      const json = structuredClone(sampleJson);
      const parent = parentOf(json, segs);
      const key = segs[segs.length - 1]!;
      if (m.op === 'replace') parent[key] = m.value;
      else if (m.op === 'delete' && Array.isArray(parent)) parent.splice(key as number, 1);
      else if (m.op === 'delete') delete parent[key];
      else if (typeof parent[key] === 'object' && parent[key] !== null && !Array.isArray(parent[key])) parent[key][m.key] = m.value;
      let error: unknown;
      try {
        validateManifest(json);
      } catch (e) {
        error = e;
      }
      if (error === undefined) return;
      rejected++;
      expect(error).toBeInstanceOf(RecoveryError);
      const { code, data } = error as RecoveryError;
      expect(['manifest.invalid', 'manifest.unsupported-version']).toContain(code);
      expect(typeof data.path).toBe('string');
      expect(parentExists(json, data.path as string)).toBe(true);
    }), { numRuns: 1000 });
    // Most mutations break something; a validator that accepted everything would fail here.
    expect(rejected).toBeGreaterThan(500);
  });

  it('never crashes on arbitrary values', () => {
    fc.assert(fc.property(fc.anything({ withNullPrototype: true, withBigInt: true, withMap: true, withDate: true, withSparseArray: true }), (v) => {
      const result = failure(v);
      expect(result.code).toBe('manifest.invalid');
      expect(typeof result.path).toBe('string');
    }), { numRuns: 500 });
  });
});

// ---------------------------------------------------------------- the vss record

const ASR_WRITER = 'be000cbe-11fe-4426-9c58-531aa6355fc4';

function vssManifest(): BackupManifest {
  const m = sampleManifest();
  return {
    ...m,
    vss: {
      method: 'vss',
      kind: 'copy',
      snapshotSetId: '0e5b2c3a-1d4f-4a6b-8c7d-9e0f1a2b3c4d',
      takenAt: '2026-11-23T11:19:58.250Z',
      snapshots: [
        { disk: 0, partition: 2, volume: '\\\\?\\Volume{4a2b1c3d-0002-4e5f-8a9b-0c1d2e3f4a5b}\\', snapshotId: 'aaaaaaaa-0000-4000-8000-000000000001' },
        { disk: 1, partition: 1, volume: '\\\\?\\Volume{4a2b1c3d-0004-4e5f-8a9b-0c1d2e3f4a5b}\\', snapshotId: 'aaaaaaaa-0000-4000-8000-000000000002' },
      ],
      liveReads: [{ disk: 0, partition: 1, reason: 'esp' }],
      // The second ASR piece is the same chunk as a disk extent: one id, one plaintext, wherever it is named.
      asrMetadata: { length: 262144 + 1000, chunks: [{ chunkId: h('e'), storedHash: h('f'), storedLength: 70000, length: 262144 }, { chunkId: h('5'), storedHash: h('6'), storedLength: 700, length: 1000 }] },
      backupComponents: { length: 3000, chunks: [{ chunkId: h('7'), storedHash: h('8'), storedLength: 900, length: 3000 }] },
      restoreMethods: [{
        writerId: ASR_WRITER, instanceId: '7c0e9f1a-5b2d-4c3e-9f80-112233445566', writerName: 'ASR Writer', method: 'restore-if-can-replace', methodValue: 2,
        service: '', userProcedure: '', writerRestore: 'never', rebootRequired: false, alternateLocationMappings: 0,
        steps: ['restore the files only if every file on disk can be overwritten (else to the alternate location, if mapped)'], problems: [],
      }],
      warnings: ['writer "System Writer" (e8132975-6f93-4464-a53e-1050253ae220) does not advertise VSS_BS_COPY; it may treat this copy backup as a full one'],
    },
  };
}

describe('the vss record', () => {
  it('round-trips a snapshot record, and a manifest without one keeps having none', () => {
    const m = vssManifest();
    expect(validateManifest(JSON.parse(encodeManifest(m)))).toEqual(m);
    const old = validateManifest(JSON.parse(encodeManifest(sampleManifest())));
    expect(old).toEqual(sampleManifest());
    expect('vss' in old).toBe(false);
    expect(Object.keys(manifestToJson(sampleManifest()))).not.toContain('vss');
  });

  it('reads a manifest written before the field existed (no vss key at all)', () => {
    const json = JSON.parse(encodeManifest(sampleManifest()));
    expect(Object.keys(json)).toEqual(['formatVersion', 'setId', 'pointSequence', 'createdAt', 'source', 'options', 'encryption', 'disks']);
    expect(validateManifest(json).vss).toBeUndefined();
  });

  it('round-trips a "no snapshot" record with its reason', () => {
    const m: BackupManifest = { ...sampleManifest(), vss: { method: 'none', reason: 'unsupported-platform', message: 'no VSS on this platform: the disks were read live' } };
    expect(validateManifest(JSON.parse(encodeManifest(m)))).toEqual(m);
  });

  it('counts the documents\' chunks as the point\'s chunks', () => {
    const chunks = referencedChunks(vssManifest());
    expect([...chunks.keys()].sort()).toEqual([h('1'), h('3'), h('5'), h('7'), h('a'), h('c'), h('e')].sort());
    expect(chunks.get(h('7'))).toEqual({ chunkId: h('7'), storedHash: h('8'), storedLength: 900, length: 3000 });
  });

  const edited = (edit: (j: Untyped) => void): unknown => {
    const json = JSON.parse(encodeManifest(vssManifest()));
    edit(json);
    return json;
  };

  it.each<[string, (j: Untyped) => void, string]>([
    ['unknown method', (j) => { j.vss.method = 'lvm'; }, 'vss.method'],
    ['unknown field', (j) => { j.vss.shadowDevice = 'x'; }, 'vss.shadowDevice'],
    ['unknown kind', (j) => { j.vss.kind = 'incremental'; }, 'vss.kind'],
    ['upper-case set id', (j) => { j.vss.snapshotSetId = j.vss.snapshotSetId.toUpperCase(); }, 'vss.snapshotSetId'],
    ['time not UTC', (j) => { j.vss.takenAt = '2026-11-23T11:19:58+01:00'; }, 'vss.takenAt'],
    ['disk not in the manifest', (j) => { j.vss.snapshots[0].disk = 7; }, 'vss.snapshots[0].disk'],
    ['partition not on the disk', (j) => { j.vss.snapshots[1].partition = 2; }, 'vss.snapshots[1].partition'],
    ['partition both frozen and live', (j) => { j.vss.liveReads[0].partition = 2; }, 'vss.liveReads[0].partition'],
    ['volume not a volume path', (j) => { j.vss.snapshots[0].volume = 'C:\\'; }, 'vss.snapshots[0].volume'],
    ['reason with spaces', (j) => { j.vss.liveReads[0].reason = 'EFI system'; }, 'vss.liveReads[0].reason'],
    ['document bytes mismatch', (j) => { j.vss.backupComponents.length = 3001; }, 'vss.backupComponents.chunks'],
    ['document too large', (j) => { j.vss.backupComponents.length = 64 * 1024 * 1024 + 1; }, 'vss.backupComponents.length'],
    ['document chunk disagrees with an extent', (j) => { j.vss.asrMetadata.chunks[0].storedLength = 70001; }, 'vss.asrMetadata.chunks[0].storedLength'],
    ['method value not the method\'s', (j) => { j.vss.restoreMethods[0].methodValue = 3; }, 'vss.restoreMethods[0].methodValue'],
    ['unknown restore method', (j) => { j.vss.restoreMethods[0].method = 'reboot'; }, 'vss.restoreMethods[0].method'],
    ['line break in a warning', (j) => { j.vss.warnings[0] = 'a\nb'; }, 'vss.warnings[0]'],
    ['none without a reason', (j) => { j.vss = { method: 'none', message: 'x' }; }, 'vss.reason'],
    ['none with snapshot fields', (j) => { j.vss = { method: 'none', reason: 'opted-out', message: 'x', kind: 'copy' }; }, 'vss.kind'],
  ])('%s', (_name, edit, path) => {
    expect(failure(edited(edit))).toEqual({ code: 'manifest.invalid', path });
  });
});
