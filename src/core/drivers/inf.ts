/**
 * What a driver INF says about itself, for choosing drivers to load (drvload) or inject (dism):
 *   [Version]       Class, ClassGuid, Provider, DriverVer (mm/dd/yyyy,w.x.y.z), CatalogFile
 *   [Manufacturer]  %Name% = models-section[, TargetOS decoration…]
 *   [models.deco]   %Description% = install-section, hardware-id[, compatible-id…]
 *   [install(.NTarch|.NT)?.Services]  AddService = name, flags, service-install-section
 *   [service-install-section]         StartType = 0 (boot) … 4 (disabled)
 * A TargetOS decoration is NT[arch][.major[.minor[.productType[.suiteMask[.build]]]]]; stampinf
 * replaces `$ARCH$` at build time, so NT$ARCH$ (INX templates) is read as "any architecture".
 * Syntax rules are in inf-syntax.ts.
 */
import { findInfSection, infLinesWithKey, infValue, parseInfDocument, parseInfNumber } from './inf-syntax.ts';
import type { InfDocument, ParseInfOptions } from './inf-syntax.ts';

export type InfArch = 'x86' | 'amd64' | 'arm' | 'arm64' | 'ia64';

export interface TargetOsDecoration {
  /** As written after the models-section name, e.g. `NTamd64.10.0...16299`. */
  readonly raw: string;
  /** 'any' for the `$ARCH$` placeholder; undefined for a plain `NT` (32-bit x86 only). */
  readonly arch: InfArch | 'any' | undefined;
  readonly major?: number;
  readonly minor?: number;
  readonly productType?: number;
  readonly suiteMask?: number;
  readonly build?: number;
}

export interface DriverVer {
  /** As written, mm/dd/yyyy. */
  readonly date: string;
  /** yyyy-mm-dd when `date` is a valid date. */
  readonly isoDate: string | undefined;
  readonly version: string | undefined;
}

export interface InfVersion {
  readonly signature: string | undefined;
  readonly class: string | undefined;
  readonly classGuid: string | undefined;
  readonly provider: string | undefined;
  readonly driverVer: DriverVer | undefined;
  readonly catalogFile: string | undefined;
}

export interface InfManufacturer {
  /** Display name with strings substituted. */
  readonly name: string;
  readonly modelsSection: string;
  /** Empty when the line lists no decoration (the undecorated section is then the only one). */
  readonly decorations: readonly TargetOsDecoration[];
}

export interface InfService {
  readonly name: string;
  /** AddService flags; 0x2 (SPSVCINST_ASSOCSERVICE) marks the device's function driver. */
  readonly flags: number;
  readonly installSection: string | undefined;
  /** 0 boot, 1 system, 2 auto, 3 demand, 4 disabled. */
  readonly startType: number | undefined;
  readonly serviceType: number | undefined;
  readonly loadOrderGroup: string | undefined;
  readonly serviceBinary: string | undefined;
}

export interface InfDevice {
  readonly manufacturer: string;
  /** The models section the line is in, as named in the file. */
  readonly modelsSection: string;
  /** The decoration of that section; undefined for the undecorated section. */
  readonly decoration: TargetOsDecoration | undefined;
  readonly description: string;
  readonly installSection: string;
  readonly hardwareId: string;
  readonly compatibleIds: readonly string[];
  readonly lineNumber: number;
}

export interface InfPackage {
  readonly document: InfDocument;
  readonly version: InfVersion;
  readonly manufacturers: readonly InfManufacturer[];
  /** Every device line of every models section the manufacturers name, for all decorations. */
  readonly devices: readonly InfDevice[];
}

/** The machine a driver is chosen for. */
export interface InfTarget {
  readonly arch: InfArch;
  /** Windows version of the OS the driver goes into; undefined accepts every OS-versioned section. */
  readonly os?: { readonly major: number; readonly minor: number; readonly build?: number };
}

const ARCHES: readonly InfArch[] = ['x86', 'amd64', 'arm', 'arm64', 'ia64'];

export function parseTargetOsDecoration(raw: string): TargetOsDecoration | undefined {
  const [platform = '', major, minor, productType, suiteMask, build] = raw.trim().split('.');
  const m = /^nt(.*)$/i.exec(platform);
  if (m === null) return undefined;
  const archText = m[1]!.toLowerCase();
  const arch = archText === '' ? undefined : archText === '$arch$' ? 'any' : ARCHES.find((a) => a === archText);
  if (archText !== '' && arch === undefined) return undefined;
  const num = (t: string | undefined) => (t === undefined || t === '' ? undefined : parseInfNumber(t));
  return {
    raw: raw.trim(), arch,
    major: num(major), minor: num(minor), productType: num(productType), suiteMask: num(suiteMask), build: num(build),
  };
}

function parseDriverVer(fields: readonly string[] | undefined): DriverVer | undefined {
  const date = fields?.[0]?.trim();
  if (date === undefined || date === '') return undefined;
  const m = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(date);
  const month = Number(m?.[1]);
  const day = Number(m?.[2]);
  const valid = m !== null && month >= 1 && month <= 12 && day >= 1 && day <= 31;
  const isoDate = valid ? `${m[3]}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}` : undefined;
  const version = fields?.[1]?.trim();
  return { date, isoDate, version: version === '' ? undefined : version };
}

function readVersion(doc: InfDocument): InfVersion {
  const v = findInfSection(doc, 'Version');
  return {
    signature: infValue(v, 'Signature'),
    class: infValue(v, 'Class'),
    classGuid: infValue(v, 'ClassGuid'),
    provider: infValue(v, 'Provider'),
    driverVer: parseDriverVer(infLinesWithKey(v, 'DriverVer')[0]?.fields),
    catalogFile: infValue(v, 'CatalogFile'),
  };
}

function readManufacturers(doc: InfDocument): InfManufacturer[] {
  const out: InfManufacturer[] = [];
  for (const line of findInfSection(doc, 'Manufacturer')?.lines ?? []) {
    // `%Name% = models[,decorations]`, or the old `%Name%` alone, whose models section is `Name`.
    const modelsSection = line.key === undefined
      ? (line.rawFields[0] ?? '').trim().replace(/^%(.*)%$/, '$1')
      : line.fields[0]?.trim() ?? '';
    if (modelsSection === '') continue;
    const decorations = line.key === undefined ? [] : line.fields.slice(1)
      .map((f) => parseTargetOsDecoration(f))
      .filter((d): d is TargetOsDecoration => d !== undefined);
    out.push({ name: line.key ?? line.fields[0]?.trim() ?? modelsSection, modelsSection, decorations });
  }
  return out;
}

function readDevices(doc: InfDocument, manufacturers: readonly InfManufacturer[]): InfDevice[] {
  const out: InfDevice[] = [];
  const seen = new Set<string>();
  for (const mfr of manufacturers) {
    const variants = [undefined, ...mfr.decorations];
    for (const decoration of variants) {
      const name = decoration === undefined ? mfr.modelsSection : `${mfr.modelsSection}.${decoration.raw}`;
      const section = findInfSection(doc, name);
      if (section === undefined || seen.has(section.name.toLowerCase())) continue;
      seen.add(section.name.toLowerCase());
      for (const line of section.lines) {
        const [install = '', hardwareId = '', ...compatible] = line.fields.map((f) => f.trim());
        if (line.key === undefined || install === '' || hardwareId === '') continue;
        out.push({
          manufacturer: mfr.name, modelsSection: section.name, decoration,
          description: line.key, installSection: install, hardwareId,
          compatibleIds: compatible.filter((c) => c !== ''), lineNumber: line.lineNumber,
        });
      }
    }
  }
  return out;
}

export function parseInf(input: Uint8Array | string, options: ParseInfOptions = {}): InfPackage {
  const document = parseInfDocument(input, options);
  const manufacturers = readManufacturers(document);
  return { document, version: readVersion(document), manufacturers, devices: readDevices(document, manufacturers) };
}

/** Whether a decorated (or undecorated) models section is one Windows would read on `target`. */
export function decorationApplies(decoration: TargetOsDecoration | undefined, target: InfTarget): boolean {
  // 64-bit Windows reads only decorated sections; plain NT and undecorated ones are for x86.
  if (decoration === undefined || decoration.arch === undefined) return target.arch === 'x86';
  if (decoration.arch !== 'any' && decoration.arch !== target.arch) return false;
  if (target.os === undefined || decoration.major === undefined) return true;
  return compareOs(target.os, decoration) >= 0;
}

function compareOs(os: { major: number; minor: number; build?: number }, d: TargetOsDecoration): number {
  return (os.major - (d.major ?? 0)) || (os.minor - (d.minor ?? 0)) || ((os.build ?? Infinity) - (d.build ?? 0));
}

/** Orders decorations by how specific they are: OS version, then an exact architecture over `$ARCH$`. */
export function compareDecorations(a: TargetOsDecoration | undefined, b: TargetOsDecoration | undefined): number {
  const key = (d: TargetOsDecoration | undefined) => [d?.major ?? -1, d?.minor ?? -1, d?.build ?? -1, d?.arch === 'any' ? 0 : 1];
  const ka = key(a);
  const kb = key(b);
  for (let i = 0; i < ka.length; i++) if (ka[i] !== kb[i]) return ka[i]! - kb[i]!;
  return 0;
}

/**
 * The device lines Windows would consider on `target`: per manufacturer only the most specific
 * applicable models section (setup picks one decoration per manufacturer line).
 */
export function devicesFor(pkg: InfPackage, target: InfTarget): InfDevice[] {
  const chosen = new Set<string>();
  for (const mfr of pkg.manufacturers) {
    const best = mfr.decorations.filter((d) => decorationApplies(d, target)).sort(compareDecorations).at(-1);
    if (best !== undefined) chosen.add(`${mfr.modelsSection}.${best.raw}`.toLowerCase());
    else if (decorationApplies(undefined, target)) chosen.add(mfr.modelsSection.toLowerCase());
  }
  return pkg.devices.filter((d) => chosen.has(d.modelsSection.toLowerCase()));
}

/** The install section setup runs on `arch`: install.NTarch, install.NT$ARCH$, install.NT, install. */
export function resolveInstallSection(pkg: InfPackage, installSection: string, arch: InfArch): string | undefined {
  const names = [`${installSection}.NT${arch}`, `${installSection}.NT$ARCH$`, `${installSection}.NT`, installSection];
  return names.map((n) => findInfSection(pkg.document, n)?.name).find((n) => n !== undefined);
}

/** Services the install section adds (AddService lines of its .Services section). */
export function servicesFor(pkg: InfPackage, installSection: string, arch: InfArch): InfService[] {
  const resolved = resolveInstallSection(pkg, installSection, arch) ?? installSection;
  const services = findInfSection(pkg.document, `${resolved}.Services`);
  return infLinesWithKey(services, 'AddService').map((line) => {
    const [name = '', flags, install] = line.fields.map((f) => f.trim());
    const section = install === undefined || install === '' ? undefined : findInfSection(pkg.document, install);
    const value = (key: string) => infValue(section, key)?.trim();
    return {
      name, flags: parseInfNumber(flags) ?? 0, installSection: section?.name ?? install,
      startType: parseInfNumber(value('StartType')), serviceType: parseInfNumber(value('ServiceType')),
      loadOrderGroup: value('LoadOrderGroup'), serviceBinary: value('ServiceBinary'),
    };
  });
}

const SPSVCINST_ASSOCSERVICE = 0x2;
const SERVICE_BOOT_START = 0;

/** True when the device's function driver (the associated service) starts at boot: Windows needs it to reach its own disk. */
export function isBootCritical(pkg: InfPackage, device: InfDevice, arch: InfArch): boolean {
  return servicesFor(pkg, device.installSection, arch)
    .some((s) => (s.flags & SPSVCINST_ASSOCSERVICE) !== 0 && s.startType === SERVICE_BOOT_START);
}
