/**
 * Whether a driver package is fit for the catalog, and its catalog entry. Every INF in it must:
 *  1. be an INF: a [Version] section with Signature "$Windows NT$" (or "$Chicago$"), a Class and
 *     a DriverVer with a version;
 *  2. install something on x64 Windows: a [Manufacturer] models section that 64-bit setup reads
 *     (NTamd64 or NT$ARCH$ decorations; inf.ts devicesFor) with at least one device line;
 *  3. bring its files: the CatalogFile (CatalogFile.NTamd64 wins over CatalogFile) and every
 *     [SourceDisksFiles] / [SourceDisksFiles.amd64] entry, found where setup looks for it:
 *     INF folder \ SourceDisksNames path of its disk \ its subdir \ name (names without case).
 * All INFs of one package must share a class: the package lives in drivers/<class>/.
 */
import { findInfSection, infValue } from './inf-syntax.ts';
import { decorationApplies, isBootCritical, parseInf } from './inf.ts';
import type { InfPackage } from './inf.ts';
import type { CatalogDevice, CatalogFile, CatalogInf, CatalogPackage } from './catalog.ts';
import type { Problem } from '../partition/types.ts';

const AMD64 = { arch: 'amd64' } as const;

export interface InfFile {
  /** Normalized `/`-separated path inside the package (package-entries.ts). */
  readonly path: string;
  readonly bytes: Uint8Array;
}

const problem = (code: string, inf: string, message: string, data: Record<string, unknown> = {}): Problem =>
  ({ code, severity: 'error', message: `${inf}: ${message}`, data: { inf, ...data } });

const dirOf = (path: string) => path.split('/').slice(0, -1);

/** Joins `base` segments with an INF-style relative path; undefined when it climbs out of the package. */
function joinInside(base: readonly string[], relative: string): string | undefined {
  const out = [...base];
  for (const part of relative.split(/[\\/]+/)) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length === 0) return undefined;
      out.pop();
    } else {
      out.push(part);
    }
  }
  return out.join('/');
}

/** The files an INF copies from its source media, with the path each is expected at. */
function sourceFiles(inf: InfPackage, infPath: string): { name: string; path: string | undefined }[] {
  const doc = inf.document;
  const diskPath = (id: string) => {
    for (const name of ['SourceDisksNames.amd64', 'SourceDisksNames']) {
      const line = findInfSection(doc, name)?.lines.find((l) => l.key?.trim() === id);
      if (line !== undefined) return line.fields[3]?.trim() ?? '';
    }
    return '';
  };
  const byName = new Map<string, { name: string; path: string | undefined }>();
  // The .amd64 section wins for a file both list, so read it first.
  for (const section of [findInfSection(doc, 'SourceDisksFiles.amd64'), findInfSection(doc, 'SourceDisksFiles')]) {
    for (const line of section?.lines ?? []) {
      const name = (line.key ?? line.fields[0] ?? '').trim();
      if (name === '' || byName.has(name.toLowerCase())) continue;
      const [diskId = '', subdir = ''] = line.key === undefined ? [] : line.fields.map((f) => f.trim());
      const path = joinInside(dirOf(infPath), `${diskPath(diskId)}/${subdir}/${name}`);
      byName.set(name.toLowerCase(), { name, path });
    }
  }
  return [...byName.values()];
}

function catalogFileOf(inf: InfPackage): string | undefined {
  const version = findInfSection(inf.document, 'Version');
  return [infValue(version, 'CatalogFile.NTamd64'), infValue(version, 'CatalogFile.NT'), infValue(version, 'CatalogFile')]
    .map((v) => v?.trim()).find((v) => v !== undefined && v !== '');
}

/** Device lines x64 setup may read (every applicable decoration), merged per hardware ID. */
function amd64Devices(inf: InfPackage): CatalogDevice[] {
  const byId = new Map<string, { hardwareId: string; compatibleIds: string[]; description: string; bootCritical: boolean }>();
  for (const device of inf.devices.filter((d) => decorationApplies(d.decoration, AMD64))) {
    const key = device.hardwareId.toUpperCase();
    const bootCritical = isBootCritical(inf, device, 'amd64');
    const known = byId.get(key);
    if (known === undefined) {
      byId.set(key, { hardwareId: device.hardwareId, compatibleIds: [...device.compatibleIds], description: device.description, bootCritical });
      continue;
    }
    known.bootCritical ||= bootCritical;
    for (const c of device.compatibleIds) if (!known.compatibleIds.some((k) => k.toUpperCase() === c.toUpperCase())) known.compatibleIds.push(c);
  }
  return [...byId.values()];
}

/** Checks one INF against the package's file list (lower-case paths); the catalog entry when it passes. */
export function checkInf(file: InfFile, present: ReadonlySet<string>): { problems: Problem[]; inf: CatalogInf | undefined } {
  const problems: Problem[] = [];
  const inf = parseInf(file.bytes);
  const v = inf.version;
  if (findInfSection(inf.document, 'Version') === undefined || !/^\$(windows nt|chicago)\$$/i.test(v.signature?.trim() ?? '')) {
    return { problems: [problem('drivers.inf-invalid', file.path, 'not a driver INF: no [Version] section with Signature = "$Windows NT$"')], inf: undefined };
  }
  if (v.class === undefined || v.class.trim() === '') problems.push(problem('drivers.inf-invalid', file.path, '[Version] has no Class'));
  const version = v.driverVer?.version;
  if (version === undefined || !/^\d+(\.\d+){0,3}$/.test(version)) {
    problems.push(problem('drivers.inf-invalid', file.path, '[Version] has no DriverVer = mm/dd/yyyy,w.x.y.z'));
  }
  const devices = amd64Devices(inf);
  if (devices.length === 0) {
    problems.push(problem('drivers.inf-no-amd64', file.path, 'no [Manufacturer] models section for amd64 (NTamd64 or NT$ARCH$) lists a device', {
      decorations: inf.manufacturers.flatMap((m) => m.decorations.map((d) => d.raw)),
    }));
  }
  const catalogName = catalogFileOf(inf);
  const catalogPath = catalogName === undefined ? undefined : joinInside(dirOf(file.path), catalogName);
  if (catalogName === undefined) {
    problems.push(problem('drivers.inf-unsigned', file.path, '[Version] names no CatalogFile: x64 Windows loads only signed drivers'));
  } else if (catalogPath === undefined || !present.has(catalogPath.toLowerCase())) {
    problems.push(problem('drivers.file-missing', file.path, `its catalog ${catalogName} is not in the package`, { file: catalogName }));
  }
  for (const source of sourceFiles(inf, file.path)) {
    if (source.path === undefined || !present.has(source.path.toLowerCase())) {
      problems.push(problem('drivers.file-missing', file.path, `[SourceDisksFiles] lists ${source.name}, which is not in the package${source.path ? ` (expected at ${source.path})` : ''}`, {
        file: source.name, expectedAt: source.path,
      }));
    }
  }
  if (problems.length > 0 || catalogPath === undefined || version === undefined || v.class === undefined) return { problems, inf: undefined };
  return {
    problems,
    inf: {
      file: file.path, class: v.class.trim(), classGuid: v.classGuid?.trim() || null, provider: v.provider?.trim() || null,
      driverDate: v.driverVer?.isoDate ?? null, driverVersion: version, catalogFile: catalogPath,
      bootCritical: devices.some((d) => d.bootCritical), devices,
    },
  };
}

/** Class folder names: the usual spelling of the classes this catalog is for, else the INF's own (safe characters only). */
const KNOWN_CLASSES = ['Net', 'SCSIAdapter', 'HDC', 'System', 'USB', 'Display', 'Media', 'Ports', 'Keyboard', 'Mouse', 'HIDClass', 'Bluetooth', 'Image', 'Volume', 'DiskDrive'];

export function classFolder(cls: string): string {
  return KNOWN_CLASSES.find((k) => k.toLowerCase() === cls.toLowerCase()) ?? (cls.replace(/[^A-Za-z0-9_-]/g, '') || 'Unknown');
}

/** Lower case, `[a-z0-9._-]` only, no leading dot: safe as a folder name on every system. */
export function packageName(raw: string): string {
  return raw.toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[.-]+|[.-]+$/g, '');
}

function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

export interface DescribeOptions {
  /** Wins over the name taken from the package. */
  readonly name?: string;
  /** The folder or archive name, used when the package has several INFs. */
  readonly sourceName: string;
}

/**
 * The catalog entry for a package, or every problem that keeps it out. Name: the option, else the
 * stem of its only INF, else the source's name; version: the highest DriverVer among its INFs.
 */
export function describePackage(infs: readonly InfFile[], files: readonly CatalogFile[], options: DescribeOptions): { problems: Problem[]; package: CatalogPackage | undefined } {
  if (infs.length === 0) {
    return { problems: [{ code: 'drivers.no-inf', severity: 'error', message: 'the package holds no .inf file' }], package: undefined };
  }
  const present = new Set(files.map((f) => f.path.toLowerCase()));
  const checked = [...infs].sort((a, b) => (a.path < b.path ? -1 : 1)).map((f) => checkInf(f, present));
  const problems = checked.flatMap((c) => c.problems);
  const entries = checked.map((c) => c.inf).filter((i): i is CatalogInf => i !== undefined);
  const classes = [...new Set(entries.map((i) => classFolder(i.class)))];
  if (classes.length > 1) {
    problems.push({ code: 'drivers.mixed-classes', severity: 'error', message: `the INFs install different classes (${classes.join(', ')}); add each class as its own package`, data: { classes } });
  }
  const only = infs.length === 1 ? infs[0]?.path.split('/').at(-1)?.replace(/\.inf$/i, '') : undefined;
  const name = packageName(options.name ?? only ?? options.sourceName);
  if (name === '') problems.push({ code: 'drivers.bad-name', severity: 'error', message: 'the package needs a name: pass --name' });
  const [cls] = classes;
  if (problems.length > 0 || entries.length !== infs.length || cls === undefined) return { problems, package: undefined };
  const version = entries.map((e) => e.driverVersion).sort(compareVersions).at(-1) ?? '0';
  const id = `${name}-${version}`;
  return {
    problems,
    package: {
      id, name, version, class: cls, path: `${cls}/${id}`, bootCritical: entries.some((e) => e.bootCritical),
      infs: entries, files: [...files].sort((a, b) => (a.path < b.path ? -1 : 1)),
    },
  };
}
