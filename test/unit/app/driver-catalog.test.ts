/**
 * The order of the catalog use cases over a recording store: nothing is installed for a refused
 * package, a failed manifest write takes the copied folder away again, and removal rewrites the
 * manifest before it deletes files.
 */
import { describe, expect, it } from 'vitest';
import { addDriverPackage, matchCatalogDrivers, removeDriverPackage } from '../../../src/app/driver-catalog.ts';
import { decodeCatalog } from '../../../src/core/drivers/catalog.ts';
import type { PackageEntry } from '../../../src/core/drivers/package-entries.ts';
import type { DriverCatalogStore, DriverPackageSource } from '../../../src/ports/driver-catalog.ts';
import { infBytes, NETKVM, VIOSTOR } from '../core/drivers/inf-fixtures.ts';

class RecordingStore implements DriverCatalogStore {
  readonly location = 'mem';
  readonly calls: string[] = [];
  manifest: string | undefined;
  readonly files = new Map<string, Uint8Array>();
  failWrite = false;

  async readManifest() { return this.manifest; }
  async writeManifest(text: string) {
    this.calls.push('writeManifest');
    if (this.failWrite) throw new Error('disk full');
    this.manifest = text;
  }
  async installPackage(path: string, source: DriverPackageSource) {
    this.calls.push(`install ${path}`);
    await source.extractTo(path);
    for (const [name, bytes] of (source as MemorySource).contents) this.files.set(`${path}/${name}`, bytes);
  }
  async removePackage(path: string) {
    this.calls.push(`remove ${path}`);
    for (const key of [...this.files.keys()]) if (key.startsWith(`${path}/`)) this.files.delete(key);
  }
  async readFile(path: string) {
    const bytes = this.files.get(path);
    if (bytes === undefined) throw new Error(`no ${path}`);
    return bytes;
  }
}

class MemorySource implements DriverPackageSource {
  constructor(readonly name: string, readonly contents: ReadonlyMap<string, Uint8Array>) {}
  async scan(admit: (entry: PackageEntry) => string) {
    const infs = [];
    for (const [path, bytes] of this.contents) {
      const normalized = admit({ path, type: 'file', size: bytes.length });
      if (normalized.endsWith('.inf')) infs.push({ path: normalized, bytes });
    }
    return infs;
  }
  async extractTo() {}
}

const text = (s: string) => new TextEncoder().encode(s);
const viostor = () => new MemorySource('viostor', new Map([['viostor.inf', infBytes(VIOSTOR)], ['viostor.sys', text('MZ')], ['viostor.cat', text('cat')]]));
const netkvm = () => new MemorySource('netkvm', new Map([['netkvm.inf', infBytes(NETKVM)], ['netkvm.sys', text('MZ')], ['netkvm.cat', text('cat')]]));

describe('addDriverPackage', () => {
  it('installs, then writes the manifest', async () => {
    const store = new RecordingStore();
    const pkg = await addDriverPackage(store, viostor());
    expect(store.calls).toEqual(['install SCSIAdapter/viostor-0.0.0.1', 'writeManifest']);
    expect(decodeCatalog(store.manifest!).packages).toEqual([pkg]);
  });

  it('touches nothing for a package that fails its checks', async () => {
    const store = new RecordingStore();
    const broken = new MemorySource('v', new Map([['viostor.inf', infBytes(VIOSTOR)], ['viostor.cat', text('cat')]]));
    await expect(addDriverPackage(store, broken)).rejects.toMatchObject({ code: 'drivers.package-invalid' });
    expect(store.calls).toEqual([]);
  });

  it('takes the copied folder away when the manifest cannot be written', async () => {
    const store = new RecordingStore();
    store.failWrite = true;
    await expect(addDriverPackage(store, viostor())).rejects.toThrow('disk full');
    expect(store.calls).toEqual(['install SCSIAdapter/viostor-0.0.0.1', 'writeManifest', 'remove SCSIAdapter/viostor-0.0.0.1']);
    expect(store.files.size).toBe(0);
    expect(store.manifest).toBeUndefined();
  });

  it('refuses a broken manifest before looking at the package', async () => {
    const store = new RecordingStore();
    store.manifest = '{"formatVersion":1}';
    await expect(addDriverPackage(store, viostor())).rejects.toMatchObject({ code: 'drivers.manifest-invalid' });
    expect(store.calls).toEqual([]);
  });
});

describe('removeDriverPackage and matchCatalogDrivers', () => {
  it('rewrites the manifest before deleting the folder', async () => {
    const store = new RecordingStore();
    await addDriverPackage(store, viostor());
    await addDriverPackage(store, netkvm());
    store.calls.length = 0;
    const removed = await removeDriverPackage(store, 'viostor-0.0.0.1');
    expect(removed.path).toBe('SCSIAdapter/viostor-0.0.0.1');
    expect(store.calls).toEqual(['writeManifest', 'remove SCSIAdapter/viostor-0.0.0.1']);
    expect(decodeCatalog(store.manifest!).packages.map((p) => p.id)).toEqual(['netkvm-1.0.0.0']);
  });

  it('reads only the INFs the index points at and ranks them', async () => {
    const store = new RecordingStore();
    await addDriverPackage(store, viostor());
    await addDriverPackage(store, netkvm());
    const reads: string[] = [];
    const readFile = store.readFile.bind(store);
    store.readFile = async (path: string) => { reads.push(path); return readFile(path); };
    const matches = await matchCatalogDrivers(store, { hardwareIds: ['PCI\\VEN_1AF4&DEV_1001&SUBSYS_00021AF4&REV_00', 'PCI\\VEN_1AF4&DEV_1001'] });
    expect(reads).toEqual(['SCSIAdapter/viostor-0.0.0.1/viostor.inf']);
    expect(matches.map((m) => [m.package.id, m.rank, m.bootCritical])).toEqual([['viostor-0.0.0.1', 0x1001, true]]);
  });
});
