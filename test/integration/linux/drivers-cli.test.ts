/**
 * `lifeline drivers add|list|match|remove` on package folders and tar archives made from the real
 * virtio INFs (with stand-in .sys/.cat files), archives made by GNU tar as well as by tar-stream,
 * and hostile archives: each refusal must leave the catalog exactly as it was and write nothing
 * anywhere else.
 */
import { copyFile, lstat, mkdir, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';
import type { Header } from 'tar-stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../../../src/main/cli.ts';
import { mustRun, tempDir } from '../../helpers/run.ts';

const FIXTURES = new URL('../../fixtures/inf/', import.meta.url).pathname;
const VIOSTOR = 'kvm-guest-drivers-windows__viostor__viostor.inx';
const VIOSCSI = 'kvm-guest-drivers-windows__vioscsi__vioscsi.inx';
const NETKVM = 'kvm-guest-drivers-windows__NetKVM__netkvm.inf';

/** Hardware IDs QEMU's legacy virtio-blk reports, most specific first. */
const VIRTIO_BLK = ['PCI\\VEN_1AF4&DEV_1001&SUBSYS_00021AF4&REV_00', 'PCI\\VEN_1AF4&DEV_1001&SUBSYS_00021AF4', 'PCI\\VEN_1AF4&DEV_1001'];

async function lifeline(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (t) => { out += `${t}\n`; }, err: (t) => { err += `${t}\n`; } });
  return { code, out, err };
}

/** Every path under `dir` (relative, sorted), so a test can see that nothing appeared or vanished. */
async function tree(dir: string, prefix = ''): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const out: string[] = [];
  for (const name of names.sort()) {
    const rel = prefix + name;
    out.push(rel);
    if ((await lstat(join(dir, name))).isDirectory()) out.push(...await tree(join(dir, name), `${rel}/`));
  }
  return out;
}

let dir: { path: string; cleanup: () => Promise<void> };
let catalog: string;

/** A package folder: the fixture INF as <name>.inf plus stand-in <name>.sys and <name>.cat. */
async function packageFolder(fixture: string, name: string, where = join(dir.path, 'src', name)): Promise<string> {
  await mkdir(where, { recursive: true });
  await copyFile(join(FIXTURES, fixture), join(where, `${name}.inf`));
  await writeFile(join(where, `${name}.sys`), `MZ stand-in driver ${name}\n`);
  await writeFile(join(where, `${name}.cat`), `stand-in catalog ${name}\n`);
  return where;
}

interface TarEntry { header: Header | (Partial<Header> & { name: string }); body?: string | Uint8Array }

async function tarBytes(entries: readonly TarEntry[]): Promise<Uint8Array> {
  const p = pack();
  const chunks: Uint8Array[] = [];
  const done = (async () => { for await (const c of p) chunks.push(c as Uint8Array); })();
  for (const e of entries) {
    await new Promise<void>((resolve, reject) => p.entry(e.header, e.body ?? '', (err) => (err ? reject(err) : resolve())));
  }
  p.finalize();
  await done;
  return new Uint8Array(Buffer.concat(chunks));
}

async function viostorEntries(prefix = ''): Promise<TarEntry[]> {
  return [
    { header: { name: `${prefix}viostor.inf` }, body: await readFile(join(FIXTURES, VIOSTOR)) },
    { header: { name: `${prefix}viostor.sys` }, body: 'MZ stand-in\n' },
    { header: { name: `${prefix}viostor.cat` }, body: 'catalog\n' },
  ];
}

async function writeTar(name: string, entries: readonly TarEntry[]): Promise<string> {
  const path = join(dir.path, name);
  await writeFile(path, await tarBytes(entries));
  return path;
}

/**
 * Sets the size field of the first tar header (octal at 124, 12 bytes) and fixes its checksum, so
 * the archive declares a huge file without holding one.
 */
function declareSize(tar: Uint8Array, size: number): Uint8Array {
  const out = tar.slice();
  out.set(new TextEncoder().encode(`${size.toString(8).padStart(11, '0')}\0`), 124);
  out.fill(0x20, 148, 156);
  const sum = out.subarray(0, 512).reduce((a, b) => a + b, 0);
  out.set(new TextEncoder().encode(`${sum.toString(8).padStart(6, '0')}\0 `), 148);
  return out;
}

beforeAll(async () => {
  dir = await tempDir('lifeline-drivers-');
});
afterAll(() => dir.cleanup());
beforeEach(async () => {
  catalog = join(dir.path, `catalog-${Math.random().toString(36).slice(2)}`);
  await mkdir(catalog);
  await copyFile(new URL('../../../drivers/manifest.json', import.meta.url).pathname, join(catalog, 'manifest.json'));
});

interface ListJson { packages: { id: string; class: string; path: string; bootCritical: boolean; infs: { file: string; devices: { hardwareId: string }[] }[]; files: { path: string; size: number }[] }[] }

describe('drivers add, list, match, remove', () => {
  it('adds a virtio storage folder and a NetKVM tar, lists them and ranks drivers for a virtio-blk disk', async () => {
    const viostor = await packageFolder(VIOSTOR, 'viostor');
    const added = await lifeline('drivers', 'add', viostor, '--catalog', catalog);
    expect(added.err).toBe('');
    expect(added.code).toBe(0);
    expect(added.out).toContain('Added viostor-0.0.0.1 (SCSIAdapter, boot-critical)');
    const vioscsi = await packageFolder(VIOSCSI, 'vioscsi');
    expect((await lifeline('drivers', 'add', vioscsi, '--catalog', catalog)).code).toBe(0);

    const netkvm = await writeTar('netkvm.tar', [
      { header: { name: 'netkvm/', type: 'directory' } },
      { header: { name: 'netkvm/netkvm.inf' }, body: await readFile(join(FIXTURES, NETKVM)) },
      { header: { name: 'netkvm/netkvm.sys' }, body: 'MZ\n' },
      { header: { name: 'netkvm/netkvm.cat' }, body: 'cat\n' },
    ]);
    expect((await lifeline('drivers', 'add', netkvm, '--catalog', catalog)).code).toBe(0);

    expect(await tree(catalog)).toEqual([
      'Net', 'Net/netkvm-1.0.0.0', 'Net/netkvm-1.0.0.0/netkvm', 'Net/netkvm-1.0.0.0/netkvm/netkvm.cat',
      'Net/netkvm-1.0.0.0/netkvm/netkvm.inf', 'Net/netkvm-1.0.0.0/netkvm/netkvm.sys',
      'SCSIAdapter', 'SCSIAdapter/vioscsi-0.0.0.1', 'SCSIAdapter/vioscsi-0.0.0.1/vioscsi.cat', 'SCSIAdapter/vioscsi-0.0.0.1/vioscsi.inf',
      'SCSIAdapter/vioscsi-0.0.0.1/vioscsi.sys', 'SCSIAdapter/viostor-0.0.0.1', 'SCSIAdapter/viostor-0.0.0.1/viostor.cat',
      'SCSIAdapter/viostor-0.0.0.1/viostor.inf', 'SCSIAdapter/viostor-0.0.0.1/viostor.sys', 'manifest.json',
    ]);
    expect(await readFile(join(catalog, 'SCSIAdapter/viostor-0.0.0.1/viostor.inf'))).toEqual(await readFile(join(FIXTURES, VIOSTOR)));

    const list = await lifeline('drivers', 'list', '--catalog', catalog, '--json');
    const listed = JSON.parse(list.out) as ListJson;
    expect(listed.packages.map((p) => [p.id, p.class, p.path, p.bootCritical])).toEqual([
      ['netkvm-1.0.0.0', 'Net', 'Net/netkvm-1.0.0.0', false],
      ['vioscsi-0.0.0.1', 'SCSIAdapter', 'SCSIAdapter/vioscsi-0.0.0.1', true],
      ['viostor-0.0.0.1', 'SCSIAdapter', 'SCSIAdapter/viostor-0.0.0.1', true],
    ]);
    expect(listed.packages[0]!.files).toEqual([
      { path: 'netkvm/netkvm.cat', size: 4 }, { path: 'netkvm/netkvm.inf', size: (await readFile(join(FIXTURES, NETKVM))).length }, { path: 'netkvm/netkvm.sys', size: 3 },
    ]);
    expect((await lifeline('drivers', 'list', '--catalog', catalog)).out).toMatch(/^viostor-0\.0\.0\.1\s+SCSIAdapter\s+yes\s+1\s+2\s+2008-01-01/m);

    const match = await lifeline('drivers', 'match', ...VIRTIO_BLK, '--catalog', catalog, '--json');
    expect(match.code).toBe(0);
    const ranked = JSON.parse(match.out) as { package: string; inf: string; rank: number; matchedId: string; bootCritical: boolean; reasons: string[] }[];
    expect(ranked.map((m) => [m.package, m.inf, m.rank, m.matchedId, m.bootCritical])).toEqual([
      ['viostor-0.0.0.1', 'viostor.inf', 0x1002, 'PCI\\VEN_1AF4&DEV_1001', true],
    ]);
    expect(ranked[0]!.reasons.join('\n')).toContain('boot-critical');

    const net = await lifeline('drivers', 'match', 'PCI\\VEN_1AF4&DEV_1000&SUBSYS_00011AF4&REV_00', '--catalog', catalog);
    expect(net.out).toMatch(/^1\. netkvm-1\.0\.0\.0 {2}Net\/netkvm-1\.0\.0\.0\/netkvm\/netkvm\.inf {2}rank 0x0000$/m);
    const none = await lifeline('drivers', 'match', 'PCI\\VEN_8086&DEV_100E', '--catalog', catalog);
    expect(none.code).toBe(3);
    expect(none.out).toContain('No driver in the catalog matches');
  });

  it('removes a package by name: manifest first, then its folder', async () => {
    await lifeline('drivers', 'add', await packageFolder(VIOSTOR, 'viostor', join(dir.path, 'rm', 'viostor')), '--catalog', catalog);
    await lifeline('drivers', 'add', await packageFolder(NETKVM, 'netkvm', join(dir.path, 'rm', 'netkvm')), '--catalog', catalog);
    const removed = await lifeline('drivers', 'remove', 'viostor', '--catalog', catalog);
    expect(removed.code).toBe(0);
    expect(removed.out).toContain('Removed viostor-0.0.0.1');
    expect(await tree(catalog)).toEqual(['Net', 'Net/netkvm-1.0.0.0', 'Net/netkvm-1.0.0.0/netkvm.cat', 'Net/netkvm-1.0.0.0/netkvm.inf', 'Net/netkvm-1.0.0.0/netkvm.sys', 'manifest.json']);
    expect((JSON.parse((await lifeline('drivers', 'list', '--catalog', catalog, '--json')).out) as ListJson).packages.map((p) => p.id)).toEqual(['netkvm-1.0.0.0']);
    const again = await lifeline('drivers', 'remove', 'viostor', '--catalog', catalog);
    expect(again.code).toBe(1);
    expect(again.err).toContain('drivers.not-found');
  });

  it('adds a .tar.gz made by GNU tar, with a path longer than a ustar header holds', async () => {
    const deep = join(dir.path, 'gnu', 'virtio-win-0.1.262', 'viostor', 'w10', 'amd64', 'a-folder-name-long-enough-to-need-a-gnu-or-pax-long-name-record-in-the-archive');
    await packageFolder(VIOSTOR, 'viostor', deep);
    const archive = join(dir.path, 'virtio-storage.tar.gz');
    await mustRun('tar', ['-czf', archive, '-C', join(dir.path, 'gnu'), 'virtio-win-0.1.262']);
    const added = await lifeline('drivers', 'add', archive, '--catalog', catalog, '--json');
    expect(added.err).toBe('');
    const pkg = JSON.parse(added.out) as ListJson['packages'][number];
    expect(pkg.id).toBe('viostor-0.0.0.1');
    expect(pkg.infs[0]!.file).toBe('virtio-win-0.1.262/viostor/w10/amd64/a-folder-name-long-enough-to-need-a-gnu-or-pax-long-name-record-in-the-archive/viostor.inf');
    expect(await readFile(join(catalog, 'SCSIAdapter/viostor-0.0.0.1', pkg.infs[0]!.file))).toEqual(await readFile(join(FIXTURES, VIOSTOR)));
  });

  it('refuses an invalid package and the same package twice, copying nothing', async () => {
    const broken = await packageFolder(VIOSCSI, 'vioscsi', join(dir.path, 'broken', 'vioscsi'));
    await writeFile(join(broken, 'vioscsi.sys'), '');
    await copyFile(join(FIXTURES, VIOSCSI), join(broken, 'vioscsi.inf'));
    await rm(join(broken, 'vioscsi.cat'));
    const before = await tree(catalog);
    const bad = await lifeline('drivers', 'add', broken, '--catalog', catalog);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('drivers.package-invalid');
    expect(bad.err).toContain('vioscsi.inf: its catalog vioscsi.cat is not in the package');
    expect(await tree(catalog)).toEqual(before);

    const good = await packageFolder(VIOSTOR, 'viostor', join(dir.path, 'twice', 'viostor'));
    expect((await lifeline('drivers', 'add', good, '--catalog', catalog)).code).toBe(0);
    const afterFirst = await tree(catalog);
    const manifest = await readFile(join(catalog, 'manifest.json'), 'utf8');
    const twice = await lifeline('drivers', 'add', good, '--catalog', catalog);
    expect(twice.err).toContain('drivers.already-present');
    expect(await tree(catalog)).toEqual(afterFirst);
    expect(await readFile(join(catalog, 'manifest.json'), 'utf8')).toBe(manifest);
  });

  it('refuses a folder that holds a symbolic link', async () => {
    const folder = await packageFolder(VIOSTOR, 'viostor', join(dir.path, 'linked', 'viostor'));
    await symlink('/etc/passwd', join(folder, 'passwd.txt'));
    const r = await lifeline('drivers', 'add', folder, '--catalog', catalog);
    expect(r.code).toBe(1);
    expect(r.err).toContain('drivers.package-refused');
    expect(r.err).toContain('outside the package');
    expect(await tree(catalog)).toEqual(['manifest.json']);
  });
});

describe('drivers add refuses hostile archives and extracts nothing', () => {
  const cases: { name: string; entries: () => Promise<TarEntry[]>; args?: string[]; reason: RegExp }[] = [
    { name: 'a ../ path after valid files', entries: async () => [...await viostorEntries(), { header: { name: '../escaped.sys' }, body: 'x' }], reason: /climbs out of the package/ },
    { name: 'a backslash traversal', entries: async () => [...await viostorEntries(), { header: { name: 'a\\..\\..\\escaped2.sys' }, body: 'x' }], reason: /climbs out/ },
    { name: 'an absolute path', entries: async () => [{ header: { name: `${dir.path}/absolute.sys` }, body: 'x' }, ...await viostorEntries()], reason: /is an absolute path/ },
    { name: 'a symlink escaping the package', entries: async () => [...await viostorEntries(), { header: { name: 'evil', type: 'symlink', linkname: '../../../../etc' } }, { header: { name: 'evil/cron.sys' }, body: 'x' }], reason: /link to "\.\.\/\.\.\/\.\.\/\.\.\/etc", outside the package/ },
    { name: 'a hard link to a system file', entries: async () => [...await viostorEntries(), { header: { name: 'shadow.sys', type: 'link', linkname: '/etc/shadow' } }], reason: /outside the package/ },
    { name: 'a device node', entries: async () => [...await viostorEntries(), { header: { name: 'sda', type: 'block-device', devmajor: 8, devminor: 0 } }], reason: /neither a file nor a folder/ },
    { name: 'names NTFS would merge', entries: async () => [...await viostorEntries(), { header: { name: 'VIOSTOR.SYS' }, body: 'x' }], reason: /appears twice/ },
    { name: 'too many entries', args: ['--max-entries', '3'], entries: async () => [...await viostorEntries(), { header: { name: 'readme.txt' }, body: 'x' }], reason: /more than 3 entries/ },
    {
      name: 'more bytes in all than allowed', args: ['--max-total-mib', '1'],
      entries: async () => [...await viostorEntries(), { header: { name: 'a.bin' }, body: new Uint8Array(600 * 1024) }, { header: { name: 'b.bin' }, body: new Uint8Array(600 * 1024) }],
      reason: /holds more than 1048576 bytes/,
    },
    { name: 'a file over the per-file limit', args: ['--max-file-mib', '1'], entries: async () => [...await viostorEntries(), { header: { name: 'big.bin' }, body: new Uint8Array(1024 * 1024 + 1) }], reason: /"big\.bin" is 1048577 bytes/ },
  ];

  for (const c of cases) {
    it(`refuses ${c.name}`, async () => {
      const archive = await writeTar(`hostile-${cases.indexOf(c)}.tar`, await c.entries());
      const before = await tree(catalog);
      const manifest = await readFile(join(catalog, 'manifest.json'), 'utf8');
      const outside = await tree(dir.path);
      const r = await lifeline('drivers', 'add', archive, '--catalog', catalog, ...(c.args ?? []));
      expect(r.code).toBe(1);
      expect(r.err).toContain('drivers.package-refused');
      expect(r.err).toMatch(c.reason);
      expect(await tree(catalog)).toEqual(before);
      expect(await readFile(join(catalog, 'manifest.json'), 'utf8')).toBe(manifest);
      expect(await tree(dir.path)).toEqual(outside);
    });
  }

  it('refuses a header that declares a 7 GiB file without reading past it', async () => {
    const tar = declareSize(await tarBytes([{ header: { name: 'huge.sys' }, body: 'x' }, ...await viostorEntries()]), 7 * 1024 ** 3);
    const archive = join(dir.path, 'huge.tar');
    await writeFile(archive, tar);
    const r = await lifeline('drivers', 'add', archive, '--catalog', catalog);
    expect(r.err).toMatch(/"huge\.sys" is 7516192768 bytes, more than the 134217728-byte limit per file/);
    expect(await tree(catalog)).toEqual(['manifest.json']);
  });

  it('refuses a gzip-compressed archive the same way', async () => {
    const archive = join(dir.path, 'hostile.tgz');
    await writeFile(archive, gzipSync(await tarBytes([...await viostorEntries(), { header: { name: '../../gz-escaped.sys' }, body: 'x' }])));
    const r = await lifeline('drivers', 'add', archive, '--catalog', catalog);
    expect(r.err).toContain('climbs out of the package');
    expect(await tree(catalog)).toEqual(['manifest.json']);
  });

  it('reports a file that is not a tar archive', async () => {
    const archive = join(dir.path, 'not-a.tar');
    await writeFile(archive, 'this is not a tar archive, just text that is long enough to fill a header block. '.repeat(10));
    const r = await lifeline('drivers', 'add', archive, '--catalog', catalog);
    expect(r.code).toBe(1);
    expect(r.err).toContain('drivers.archive-invalid');
    expect(await tree(catalog)).toEqual(['manifest.json']);
  });
});
