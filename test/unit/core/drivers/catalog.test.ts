/**
 * The driver catalog's manifest (decode/encode, add/remove, hardware-ID index) and the package
 * check, on the real virtio and Windows-driver-samples INFs placed in package file lists.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeCatalog, emptyCatalog, encodeCatalog, findPackages, indexByHardwareId, infsListing, withoutPackage, withPackage,
} from '../../../../src/core/drivers/catalog.ts';
import type { CatalogPackage, DriverCatalog } from '../../../../src/core/drivers/catalog.ts';
import { checkInf, classFolder, describePackage, packageName } from '../../../../src/core/drivers/package-check.ts';
import type { InfFile } from '../../../../src/core/drivers/package-check.ts';
import { RecoveryError } from '../../../../src/core/errors.ts';
import { LSI_U3, MINISPY, NETKVM, SAMPLEDISPLAY, TOASTPKG, VIOSCSI, VIOSTOR, infBytes } from './inf-fixtures.ts';

const inf = (path: string, fixture: string): InfFile => ({ path, bytes: infBytes(fixture) });
const files = (...paths: string[]) => paths.map((path) => ({ path, size: 100 }));

function describeOk(infs: InfFile[], paths: string[], sourceName = 'src'): CatalogPackage {
  const result = describePackage(infs, files(...paths), { sourceName });
  expect(result.problems).toEqual([]);
  if (result.package === undefined) throw new Error('no package');
  return result.package;
}

const viostor = () => describeOk([inf('viostor.inf', VIOSTOR)], ['viostor.inf', 'viostor.sys', 'viostor.cat']);
const netkvm = () => describeOk([inf('netkvm.inf', NETKVM)], ['netkvm.inf', 'netkvm.sys', 'netkvm.cat']);

function codeOf(fn: () => unknown): { code: string; data: Readonly<Record<string, unknown>> } {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(RecoveryError);
    return { code: (e as RecoveryError).code, data: (e as RecoveryError).data };
  }
  throw new Error('expected a RecoveryError');
}

describe('describePackage on real INFs', () => {
  it('makes a boot-critical SCSIAdapter entry for viostor with its two virtio-blk device lines', () => {
    const pkg = viostor();
    expect(pkg).toMatchObject({ id: 'viostor-0.0.0.1', name: 'viostor', version: '0.0.0.1', class: 'SCSIAdapter', path: 'SCSIAdapter/viostor-0.0.0.1', bootCritical: true });
    const [entry] = pkg.infs;
    expect(entry).toMatchObject({ file: 'viostor.inf', catalogFile: 'viostor.cat', driverDate: '2008-01-01', classGuid: '{4D36E97B-E325-11CE-BFC1-08002BE10318}' });
    expect(entry!.devices.map((d) => [d.hardwareId, d.compatibleIds, d.bootCritical])).toEqual([
      ['PCI\\VEN_1AF4&DEV_1001&SUBSYS_0002_INX_SUBSYS_VENDOR_ID&REV_00', ['PCI\\VEN_1AF4&DEV_1001'], true],
      ['PCI\\VEN_1AF4&DEV_1042&SUBSYS_1100_INX_SUBSYS_VENDOR_ID&REV_01', ['PCI\\VEN_1AF4&DEV_1042'], true],
    ]);
  });

  it('makes a Net entry for NetKVM that is not boot-critical (its service starts on demand)', () => {
    const pkg = netkvm();
    expect(pkg).toMatchObject({ id: 'netkvm-1.0.0.0', class: 'Net', path: 'Net/netkvm-1.0.0.0', bootCritical: false });
    expect(pkg.infs[0]!.devices.some((d) => d.hardwareId.startsWith('PCI\\VEN_1AF4&DEV_1000'))).toBe(true);
  });

  it('finds INFs, catalogs and sources in subfolders and ignores case like Windows', () => {
    const pkg = describeOk([inf('W10/AMD64/SampleDisplay.INF', SAMPLEDISPLAY)],
      ['W10/AMD64/SampleDisplay.INF', 'w10/amd64/sampledisplay.sys', 'W10/AMD64/SAMPLEDISPLAY.CAT']);
    expect(pkg).toMatchObject({ id: 'sampledisplay-0.03.15.0011', class: 'Display', bootCritical: false });
    expect(pkg.infs[0]!.catalogFile).toBe('W10/AMD64/SampleDisplay.cat');
  });

  it('reads the NTamd64.10.0...16299 models of toastpkg (custom class TOASTER)', () => {
    const pkg = describeOk([inf('toastpkg.inf', TOASTPKG)], ['toastpkg.inf', 'toastpkg.cat', 'toaster.sys']);
    expect(pkg.class).toBe('TOASTER');
    expect(pkg.infs[0]!.devices.length).toBeGreaterThan(0);
  });

  it('names a several-INF package after its source and takes the highest DriverVer', () => {
    const pkg = describeOk([inf('a/viostor.inf', VIOSTOR), inf('b/lsi_u3.inf', LSI_U3)],
      ['a/viostor.inf', 'a/viostor.sys', 'a/viostor.cat', 'b/lsi_u3.inf', 'b/lsi_u3.sys', 'b/lsi_u3.cat'], 'Storage Pack');
    expect(pkg).toMatchObject({ name: 'storage-pack', version: '5.09.10.04', id: 'storage-pack-5.09.10.04', class: 'SCSIAdapter' });
    expect(pkg.infs.map((f) => f.file)).toEqual(['a/viostor.inf', 'b/lsi_u3.inf']);
  });

  it('uses the --name it is given', () => {
    const result = describePackage([inf('viostor.inf', VIOSTOR)], files('viostor.inf', 'viostor.sys', 'viostor.cat'), { name: 'VirtIO Block', sourceName: 'x' });
    expect(result.package?.id).toBe('virtio-block-0.0.0.1');
  });

  it('refuses a missing .sys named in [SourceDisksFiles], saying where it was looked for', () => {
    const { problems, package: pkg } = describePackage([inf('amd64/viostor.inf', VIOSTOR)], files('amd64/viostor.inf', 'amd64/viostor.cat', 'viostor.sys'), { sourceName: 'x' });
    expect(pkg).toBeUndefined();
    expect(problems.map((p) => [p.code, p.data?.file, p.data?.expectedAt])).toEqual([['drivers.file-missing', 'viostor.sys', 'amd64/viostor.sys']]);
  });

  it('refuses a missing catalog file', () => {
    const { problems } = describePackage([inf('vioscsi.inf', VIOSCSI)], files('vioscsi.inf', 'vioscsi.sys'), { sourceName: 'x' });
    expect(problems.map((p) => [p.code, p.data?.file])).toEqual([['drivers.file-missing', 'vioscsi.cat']]);
  });

  it('refuses an INF without amd64 models (a non-PnP minifilter)', () => {
    const { problems } = describePackage([inf('minispy.inf', MINISPY)], files('minispy.inf', 'minispy.cat', 'minispy.sys', 'minispy.exe'), { sourceName: 'x' });
    expect(problems.map((p) => p.code)).toEqual(['drivers.inf-no-amd64']);
  });

  it('refuses an INF whose models are for x86 and arm64 only', () => {
    const x86Only = new TextDecoder().decode(infBytes(SAMPLEDISPLAY)).replace('Standard,NTamd64,NTarm,NTarm64', 'Standard,NTx86,NTarm64');
    const { problems } = describePackage([{ path: 'd.inf', bytes: new TextEncoder().encode(x86Only) }], files('d.inf', 'SampleDisplay.cat', 'SampleDisplay.sys'), { sourceName: 'x' });
    expect(problems.map((p) => p.code)).toEqual(['drivers.inf-no-amd64']);
  });

  it('refuses a file that is not an INF, a package without INF, and unsigned INFs', () => {
    expect(checkInf({ path: 'readme.inf', bytes: new TextEncoder().encode('hello\n') }, new Set()).problems.map((p) => p.code)).toEqual(['drivers.inf-invalid']);
    expect(describePackage([], files('x.sys'), { sourceName: 'x' }).problems.map((p) => p.code)).toEqual(['drivers.no-inf']);
    const unsigned = new TextDecoder().decode(infBytes(VIOSTOR)).replace('CatalogFile=viostor.cat', '');
    const { problems } = describePackage([{ path: 'v.inf', bytes: new TextEncoder().encode(unsigned) }], files('v.inf', 'viostor.sys'), { sourceName: 'x' });
    expect(problems.map((p) => p.code)).toEqual(['drivers.inf-unsigned']);
  });

  it('refuses INFs of different classes in one package', () => {
    const { problems } = describePackage([inf('s/viostor.inf', VIOSTOR), inf('n/netkvm.inf', NETKVM)],
      files('s/viostor.inf', 's/viostor.sys', 's/viostor.cat', 'n/netkvm.inf', 'n/netkvm.sys', 'n/netkvm.cat'), { sourceName: 'x' });
    expect(problems.map((p) => p.code)).toEqual(['drivers.mixed-classes']);
  });

  it('looks for sources in the SourceDisksNames path and subdir, .amd64 sections first', () => {
    const text = [
      '[Version]', 'Signature="$Windows NT$"', 'Class=Net', 'DriverVer=01/02/2023,2.0.0.0', 'CatalogFile.NTamd64=x64\\nic.cat', 'CatalogFile=nic.cat',
      '[SourceDisksNames]', '1 = "Disk",,,\\common', '[SourceDisksNames.amd64]', '2 = "Disk",,,\\x64',
      '[SourceDisksFiles]', 'nic.sys = 1', 'nic.dll = 1,sub', '[SourceDisksFiles.amd64]', 'nic.sys = 2',
      '[Manufacturer]', '%M%=Models,NTamd64', '[Models.NTamd64]', '%D%=Inst, PCI\\VEN_8086&DEV_100E',
      '[Strings]', 'M="Example"', 'D="Example NIC"',
    ].join('\r\n');
    const pkgFiles = ['drv/nic.inf', 'drv/x64/nic.cat', 'drv/x64/nic.sys', 'drv/common/sub/nic.dll'];
    const ok = describePackage([{ path: 'drv/nic.inf', bytes: new TextEncoder().encode(text) }], files(...pkgFiles), { sourceName: 'x' });
    expect(ok.problems).toEqual([]);
    expect(ok.package?.infs[0]?.catalogFile).toBe('drv/x64/nic.cat');
    const missing = describePackage([{ path: 'drv/nic.inf', bytes: new TextEncoder().encode(text) }], files('drv/nic.inf', 'drv/x64/nic.cat', 'drv/nic.sys', 'drv/common/sub/nic.dll'), { sourceName: 'x' });
    expect(missing.problems.map((p) => p.data?.expectedAt)).toEqual(['drv/x64/nic.sys']);
  });

  it('keeps class folders and names safe', () => {
    expect(classFolder('scsiadapter')).toBe('SCSIAdapter');
    expect(classFolder('net')).toBe('Net');
    expect(classFolder('../Evil')).toBe('Evil');
    expect(packageName('../Red Hat VirtIO!')).toBe('red-hat-virtio');
  });
});

describe('manifest encode/decode', () => {
  it('accepts the empty catalog and the committed drivers/manifest.json', () => {
    expect(decodeCatalog(encodeCatalog(emptyCatalog()))).toEqual(emptyCatalog());
    const committed = readFileSync(new URL('../../../../drivers/manifest.json', import.meta.url), 'utf8');
    expect(decodeCatalog(committed)).toEqual(emptyCatalog());
    expect(committed).toBe(encodeCatalog(emptyCatalog()));
  });

  it('round-trips real entries and writes the same bytes whatever order they were added in', () => {
    const a = withPackage(withPackage(emptyCatalog(), viostor()), netkvm());
    const b = withPackage(withPackage(emptyCatalog(), netkvm()), viostor());
    expect(encodeCatalog(a)).toBe(encodeCatalog(b));
    expect(decodeCatalog(encodeCatalog(a))).toEqual(a);
    expect(a.packages.map((p) => p.id)).toEqual(['netkvm-1.0.0.0', 'viostor-0.0.0.1']);
  });

  it('names the first bad field of a damaged manifest', () => {
    const good = JSON.parse(encodeCatalog(withPackage(emptyCatalog(), viostor()))) as { packages: Record<string, unknown>[] };
    const damage = (edit: (p: Record<string, unknown> & { infs: Record<string, unknown>[] }) => void) => {
      const copy = structuredClone(good) as { packages: (Record<string, unknown> & { infs: Record<string, unknown>[] })[] };
      edit(copy.packages[0]!);
      return codeOf(() => decodeCatalog(JSON.stringify(copy)));
    };
    expect(damage((p) => { p.bootCritical = 'yes'; })).toEqual({ code: 'drivers.manifest-invalid', data: { path: 'packages[0].bootCritical' } });
    expect(damage((p) => { p.path = '../../etc'; }).data.path).toBe('packages[0].path');
    expect(damage((p) => { p.id = 'other-1'; }).data.path).toBe('packages[0].id');
    expect(damage((p) => { (p.infs[0]!.devices as Record<string, unknown>[])[1]!.hardwareId = 7; }).data.path).toBe('packages[0].infs[0].devices[1].hardwareId');
    expect(damage((p) => { p.infs[0]!.catalogFile = 'gone.cat'; }).data.path).toBe('packages[0].infs[0].catalogFile');
    expect(codeOf(() => decodeCatalog('{"formatVersion":2,"packages":[]}')).data.path).toBe('formatVersion');
    expect(codeOf(() => decodeCatalog('not json')).code).toBe('drivers.manifest-invalid');
  });

  it('round-trips any well-formed catalog', () => {
    const segment = fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,8}$/);
    const device = fc.record({
      hardwareId: fc.string({ minLength: 1, maxLength: 30 }), compatibleIds: fc.array(fc.string({ minLength: 1, maxLength: 20 }), { maxLength: 3 }),
      description: fc.string({ maxLength: 20 }), bootCritical: fc.boolean(),
    });
    const pkg = fc.record({ name: segment, version: fc.stringMatching(/^\d{1,3}(\.\d{1,3}){0,3}$/), cls: segment, inf: segment, devices: fc.array(device, { maxLength: 4 }), boot: fc.boolean(), size: fc.nat() })
      .map(({ name, version, cls, inf: infName, devices, boot, size }): CatalogPackage => ({
        id: `${name}-${version}`, name, version, class: cls, path: `${cls}/${name}-${version}`, bootCritical: boot,
        infs: [{ file: `${infName}.inf`, class: cls, classGuid: null, provider: 'p', driverDate: null, driverVersion: version, catalogFile: `${infName}.cat`, bootCritical: boot, devices }],
        files: [{ path: `${infName}.inf`, size }, { path: `${infName}.cat`, size }],
      }));
    fc.assert(fc.property(fc.uniqueArray(pkg, { selector: (p) => p.id.toLowerCase(), maxLength: 4 }), (packages) => {
      fc.pre(new Set(packages.map((p) => p.path.toLowerCase())).size === packages.length);
      const catalog = packages.reduce<DriverCatalog>((c, p) => withPackage(c, p), emptyCatalog());
      const text = encodeCatalog(catalog);
      expect(decodeCatalog(text)).toEqual(catalog);
      expect(encodeCatalog(decodeCatalog(text))).toBe(text);
    }));
  });
});

describe('adding, finding, removing, indexing', () => {
  const catalog = withPackage(withPackage(emptyCatalog(), viostor()), netkvm());

  it('refuses the same package twice', () => {
    expect(codeOf(() => withPackage(catalog, viostor())).code).toBe('drivers.already-present');
  });

  it('finds a package by id, path or name, and removes exactly one', () => {
    expect(findPackages(catalog, 'VIOSTOR').map((p) => p.id)).toEqual(['viostor-0.0.0.1']);
    expect(findPackages(catalog, 'SCSIAdapter\\viostor-0.0.0.1\\').map((p) => p.id)).toEqual(['viostor-0.0.0.1']);
    const { catalog: rest, removed } = withoutPackage(catalog, 'netkvm');
    expect(removed.id).toBe('netkvm-1.0.0.0');
    expect(rest.packages.map((p) => p.id)).toEqual(['viostor-0.0.0.1']);
    expect(codeOf(() => withoutPackage(catalog, 'e1000')).code).toBe('drivers.not-found');
  });

  it('refuses to guess which version to remove', () => {
    const v2 = { ...viostor(), id: 'viostor-2.0.0.0', version: '2.0.0.0', path: 'SCSIAdapter/viostor-2.0.0.0' };
    const err = codeOf(() => withoutPackage(withPackage(catalog, v2), 'viostor'));
    expect(err).toEqual({ code: 'drivers.ambiguous', data: { ref: 'viostor', ids: ['viostor-0.0.0.1', 'viostor-2.0.0.0'] } });
  });

  it('indexes hardware and compatible IDs without case', () => {
    const index = indexByHardwareId(catalog);
    const hits = index.get('PCI\\VEN_1AF4&DEV_1001') ?? [];
    expect(hits.map((h) => [h.package.id, h.role, h.device.bootCritical])).toEqual([['viostor-0.0.0.1', 'compatible', true]]);
    const net = infsListing(catalog, ['pci\\ven_1af4&dev_1000&subsys_00011af4&rev_00']);
    expect(net.map((e) => e.package.id)).toEqual(['netkvm-1.0.0.0']);
    expect(infsListing(catalog, ['PCI\\VEN_8086&DEV_100E'])).toEqual([]);
  });
});
