/**
 * The driver catalog: `drivers/manifest.json` lists every driver package kept under `drivers/`,
 * each in `<class>/<name>-<version>/`, with the hardware IDs its INFs install on x64 Windows, so
 * the appliance (drvload into WinPE, dism into the restored Windows) and iso-build find the
 * package for a device without parsing every INF again. drivers/README.md documents the fields.
 *
 * `decodeCatalog` checks untrusted JSON field by field and names the first wrong one in
 * `data.path` ("packages[2].infs[0].devices[5].hardwareId"); `encodeCatalog` writes a stable form
 * (packages sorted by id, no timestamps), so the same packages give the same bytes.
 */
import { RecoveryError } from '../errors.ts';

export const CATALOG_FORMAT_VERSION = 1;

export interface CatalogDevice {
  /** As the INF writes it (IDs compare without case). */
  readonly hardwareId: string;
  readonly compatibleIds: readonly string[];
  readonly description: string;
  /** The device's function driver service starts at boot (StartType 0): Windows needs it to reach its disk. */
  readonly bootCritical: boolean;
}

export interface CatalogInf {
  /** Path of the INF inside the package folder, `/`-separated. */
  readonly file: string;
  /** [Version] Class, e.g. Net, SCSIAdapter, HDC. */
  readonly class: string;
  readonly classGuid: string | null;
  readonly provider: string | null;
  /** DriverVer date as yyyy-mm-dd. */
  readonly driverDate: string | null;
  readonly driverVersion: string;
  /** The INF's catalog (.cat), `/`-separated path inside the package. */
  readonly catalogFile: string;
  readonly bootCritical: boolean;
  /** Device lines of the models sections x64 Windows reads, one per hardware ID. */
  readonly devices: readonly CatalogDevice[];
}

export interface CatalogFile {
  readonly path: string;
  readonly size: number;
}

export interface CatalogPackage {
  /** `<name>-<version>`, unique in the catalog. */
  readonly id: string;
  readonly name: string;
  readonly version: string;
  readonly class: string;
  /** The package folder relative to the catalog root: `<class>/<id>`. */
  readonly path: string;
  /** True when any of its devices is boot-critical. */
  readonly bootCritical: boolean;
  readonly infs: readonly CatalogInf[];
  readonly files: readonly CatalogFile[];
}

export interface DriverCatalog {
  readonly formatVersion: typeof CATALOG_FORMAT_VERSION;
  readonly packages: readonly CatalogPackage[];
}

export const emptyCatalog = (): DriverCatalog => ({ formatVersion: CATALOG_FORMAT_VERSION, packages: [] });

function invalid(path: string, message: string): never {
  throw new RecoveryError('drivers.manifest-invalid', `driver manifest: ${path}: ${message}`, { data: { path } });
}

type Json = Record<string, unknown>;

function object(value: unknown, path: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) invalid(path, 'must be an object');
  return value as Json;
}

function array(value: unknown, path: string): unknown[] {
  if (!Array.isArray(value)) invalid(path, 'must be an array');
  return value;
}

function text(value: unknown, path: string): string {
  if (typeof value !== 'string' || value === '') invalid(path, 'must be a non-empty string');
  return value;
}

function textOrNull(value: unknown, path: string): string | null {
  return value === null ? null : text(value, path);
}

function flag(value: unknown, path: string): boolean {
  if (typeof value !== 'boolean') invalid(path, 'must be true or false');
  return value;
}

/** A relative `/`-separated path with no `..`, `.`, empty or `\` segments. */
function relativePath(value: unknown, path: string): string {
  const p = text(value, path);
  if (p.split('/').some((s) => s === '' || s === '.' || s === '..' || s.includes('\\') || s.includes(':'))) {
    invalid(path, `"${p}" is not a plain relative path`);
  }
  return p;
}

function decodeDevice(value: unknown, path: string): CatalogDevice {
  const d = object(value, path);
  return {
    hardwareId: text(d.hardwareId, `${path}.hardwareId`),
    compatibleIds: array(d.compatibleIds, `${path}.compatibleIds`).map((c, i) => text(c, `${path}.compatibleIds[${i}]`)),
    description: typeof d.description === 'string' ? d.description : invalid(`${path}.description`, 'must be a string'),
    bootCritical: flag(d.bootCritical, `${path}.bootCritical`),
  };
}

function decodeInf(value: unknown, path: string): CatalogInf {
  const f = object(value, path);
  return {
    file: relativePath(f.file, `${path}.file`),
    class: text(f.class, `${path}.class`),
    classGuid: textOrNull(f.classGuid, `${path}.classGuid`),
    provider: textOrNull(f.provider, `${path}.provider`),
    driverDate: textOrNull(f.driverDate, `${path}.driverDate`),
    driverVersion: text(f.driverVersion, `${path}.driverVersion`),
    catalogFile: relativePath(f.catalogFile, `${path}.catalogFile`),
    bootCritical: flag(f.bootCritical, `${path}.bootCritical`),
    devices: array(f.devices, `${path}.devices`).map((d, i) => decodeDevice(d, `${path}.devices[${i}]`)),
  };
}

function decodePackage(value: unknown, path: string): CatalogPackage {
  const p = object(value, path);
  const pkg: CatalogPackage = {
    id: text(p.id, `${path}.id`),
    name: text(p.name, `${path}.name`),
    version: text(p.version, `${path}.version`),
    class: text(p.class, `${path}.class`),
    path: relativePath(p.path, `${path}.path`),
    bootCritical: flag(p.bootCritical, `${path}.bootCritical`),
    infs: array(p.infs, `${path}.infs`).map((f, i) => decodeInf(f, `${path}.infs[${i}]`)),
    files: array(p.files, `${path}.files`).map((f, i) => {
      const file = object(f, `${path}.files[${i}]`);
      const size = file.size;
      if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) invalid(`${path}.files[${i}].size`, 'must be a whole number of bytes');
      return { path: relativePath(file.path, `${path}.files[${i}].path`), size };
    }),
  };
  if (pkg.id !== `${pkg.name}-${pkg.version}`) invalid(`${path}.id`, `must be "${pkg.name}-${pkg.version}" (name-version)`);
  if (pkg.path !== `${pkg.class}/${pkg.id}`) invalid(`${path}.path`, `must be "${pkg.class}/${pkg.id}" (class/id)`);
  if (pkg.infs.length === 0) invalid(`${path}.infs`, 'must list at least one INF');
  const files = new Set(pkg.files.map((f) => f.path.toLowerCase()));
  pkg.infs.forEach((inf, i) => {
    if (!files.has(inf.file.toLowerCase())) invalid(`${path}.infs[${i}].file`, `"${inf.file}" is not in the package's files`);
    if (!files.has(inf.catalogFile.toLowerCase())) invalid(`${path}.infs[${i}].catalogFile`, `"${inf.catalogFile}" is not in the package's files`);
  });
  return pkg;
}

/** Parses and checks manifest.json text. Throws `drivers.manifest-invalid` naming the first bad field. */
export function decodeCatalog(json: string): DriverCatalog {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (e) {
    throw new RecoveryError('drivers.manifest-invalid', `driver manifest is not JSON: ${(e as Error).message}`, { data: { path: '' } });
  }
  const root = object(value, '(root)');
  if (root.formatVersion !== CATALOG_FORMAT_VERSION) invalid('formatVersion', `must be ${CATALOG_FORMAT_VERSION}`);
  const packages = array(root.packages, 'packages').map((p, i) => decodePackage(p, `packages[${i}]`));
  const ids = new Set<string>();
  const paths = new Set<string>();
  packages.forEach((p, i) => {
    if (ids.has(p.id.toLowerCase())) invalid(`packages[${i}].id`, `"${p.id}" appears twice`);
    if (paths.has(p.path.toLowerCase())) invalid(`packages[${i}].path`, `"${p.path}" appears twice`);
    ids.add(p.id.toLowerCase());
    paths.add(p.path.toLowerCase());
  });
  return { formatVersion: CATALOG_FORMAT_VERSION, packages };
}

const byId = (a: CatalogPackage, b: CatalogPackage) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** manifest.json text: packages by id, fields in a fixed order, newline at the end. */
export function encodeCatalog(catalog: DriverCatalog): string {
  const packages = [...catalog.packages].sort(byId).map((p) => ({
    id: p.id, name: p.name, version: p.version, class: p.class, path: p.path, bootCritical: p.bootCritical,
    infs: p.infs.map((f) => ({
      file: f.file, class: f.class, classGuid: f.classGuid, provider: f.provider, driverDate: f.driverDate,
      driverVersion: f.driverVersion, catalogFile: f.catalogFile, bootCritical: f.bootCritical,
      devices: f.devices.map((d) => ({ hardwareId: d.hardwareId, compatibleIds: d.compatibleIds, description: d.description, bootCritical: d.bootCritical })),
    })),
    files: p.files.map((f) => ({ path: f.path, size: f.size })),
  }));
  return `${JSON.stringify({ formatVersion: CATALOG_FORMAT_VERSION, packages }, null, 2)}\n`;
}

/** The catalog with `pkg` added; refuses a package whose id or folder is already there. */
export function withPackage(catalog: DriverCatalog, pkg: CatalogPackage): DriverCatalog {
  const clash = catalog.packages.find((p) => p.id.toLowerCase() === pkg.id.toLowerCase() || p.path.toLowerCase() === pkg.path.toLowerCase());
  if (clash !== undefined) {
    throw new RecoveryError('drivers.already-present', `${clash.id} is already in the catalog (${clash.path}); remove it first`, { data: { id: clash.id, path: clash.path } });
  }
  return { formatVersion: CATALOG_FORMAT_VERSION, packages: [...catalog.packages, pkg].sort(byId) };
}

/** Packages `ref` names: an id (`viostor-100.9.0.0`), a path (`SCSIAdapter/viostor-100.9.0.0`) or a name (`viostor`, every version). */
export function findPackages(catalog: DriverCatalog, ref: string): CatalogPackage[] {
  const r = ref.trim().replace(/\\/g, '/').replace(/\/+$/, '').toLowerCase();
  return catalog.packages.filter((p) => p.id.toLowerCase() === r || p.path.toLowerCase() === r || p.name.toLowerCase() === r);
}

/** The catalog without the one package `ref` names; refuses a ref that names none or several. */
export function withoutPackage(catalog: DriverCatalog, ref: string): { catalog: DriverCatalog; removed: CatalogPackage } {
  const found = findPackages(catalog, ref);
  if (found.length === 0) throw new RecoveryError('drivers.not-found', `no driver package "${ref}" in the catalog`, { data: { ref } });
  const [removed] = found;
  if (found.length > 1 || removed === undefined) {
    throw new RecoveryError('drivers.ambiguous', `"${ref}" names ${found.length} packages (${found.map((p) => p.id).join(', ')}); give the id`, {
      data: { ref, ids: found.map((p) => p.id) },
    });
  }
  return { catalog: { formatVersion: CATALOG_FORMAT_VERSION, packages: catalog.packages.filter((p) => p !== removed) }, removed };
}

export interface CatalogHit {
  readonly package: CatalogPackage;
  readonly inf: CatalogInf;
  readonly device: CatalogDevice;
  /** Whether the indexed ID is the device line's hardware ID or one of its compatible IDs. */
  readonly role: 'hardware' | 'compatible';
}

/** Upper-case hardware or compatible ID → every device line that lists it. */
export function indexByHardwareId(catalog: DriverCatalog): ReadonlyMap<string, readonly CatalogHit[]> {
  const index = new Map<string, CatalogHit[]>();
  const put = (id: string, hit: CatalogHit) => {
    const key = id.trim().toUpperCase();
    const list = index.get(key);
    if (list === undefined) index.set(key, [hit]);
    else list.push(hit);
  };
  for (const pkg of catalog.packages) {
    for (const inf of pkg.infs) {
      for (const device of inf.devices) {
        put(device.hardwareId, { package: pkg, inf, device, role: 'hardware' });
        for (const c of device.compatibleIds) put(c, { package: pkg, inf, device, role: 'compatible' });
      }
    }
  }
  return index;
}

/** The (package, INF) pairs that list any of `ids`, each once, in catalog order. */
export function infsListing(catalog: DriverCatalog, ids: readonly string[]): { package: CatalogPackage; inf: CatalogInf }[] {
  const index = indexByHardwareId(catalog);
  const wanted = new Set<CatalogInf>();
  for (const id of ids) for (const hit of index.get(id.trim().toUpperCase()) ?? []) wanted.add(hit.inf);
  return catalog.packages.flatMap((pkg) => pkg.infs.filter((inf) => wanted.has(inf)).map((inf) => ({ package: pkg, inf })));
}
