/** `lifeline drivers add|list|match|remove`: the driver catalog (drivers/ and its manifest.json). */
import { stat } from 'node:fs/promises';
import { FolderCatalogStore } from '../../adapters/node/driver-catalog-store.ts';
import { FolderPackageSource, TarPackageSource } from '../../adapters/node/driver-package-source.ts';
import { addDriverPackage, loadCatalog, matchCatalogDrivers, removeDriverPackage } from '../../app/driver-catalog.ts';
import type { CatalogMatch } from '../../app/driver-catalog.ts';
import type { CatalogPackage, DriverCatalog } from '../../core/drivers/catalog.ts';
import { DEFAULT_PACKAGE_LIMITS } from '../../core/drivers/package-entries.ts';
import { RecoveryError } from '../../core/errors.ts';
import { booleanOption, integerOption, stringOption, toJson, UsageError } from '../cli-kit.ts';
import type { Command, OptionSpec, ParsedArgs } from '../cli-kit.ts';

const catalogOption: OptionSpec = { type: 'string', valueName: 'DIR', description: 'The catalog folder (holds manifest.json). Default: ./drivers.' };
const jsonOption: OptionSpec = { type: 'boolean', description: 'Print JSON for scripts.' };

const storeOf = (args: ParsedArgs) => new FolderCatalogStore(stringOption(args, 'catalog') ?? 'drivers');

const MiB = 1024 * 1024;

function limitsOf(args: ParsedArgs) {
  const d = DEFAULT_PACKAGE_LIMITS;
  return {
    ...d,
    maxFileBytes: (integerOption(args, 'max-file-mib', { min: 1, max: 4096 }) ?? d.maxFileBytes / MiB) * MiB,
    maxTotalBytes: (integerOption(args, 'max-total-mib', { min: 1, max: 16384 }) ?? d.maxTotalBytes / MiB) * MiB,
    maxEntries: integerOption(args, 'max-entries', { min: 1, max: 1_000_000 }) ?? d.maxEntries,
  };
}

async function sourceOf(path: string) {
  const info = await stat(path).catch(() => undefined);
  if (info === undefined) throw new RecoveryError('drivers.source-not-found', `${path} does not exist`, { data: { source: path } });
  return info.isDirectory() ? new FolderPackageSource(path) : new TarPackageSource(path);
}

const deviceCount = (p: CatalogPackage) => p.infs.reduce((n, f) => n + f.devices.length, 0);
const count = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;

export const driversAdd: Command = {
  path: ['drivers', 'add'],
  summary: 'Check a driver package (folder or .tar/.tar.gz) and copy it into the catalog.',
  positionals: '<folder|package.tar>',
  options: {
    catalog: catalogOption,
    name: { type: 'string', valueName: 'NAME', description: 'Package name (default: the INF name, or the folder/archive name when it has several INFs).' },
    'max-file-mib': { type: 'string', valueName: 'N', description: `Refuse a package with a file larger than N MiB. Default ${DEFAULT_PACKAGE_LIMITS.maxFileBytes / MiB}.` },
    'max-total-mib': { type: 'string', valueName: 'N', description: `Refuse a package larger than N MiB in all. Default ${DEFAULT_PACKAGE_LIMITS.maxTotalBytes / MiB}.` },
    'max-entries': { type: 'string', valueName: 'N', description: `Refuse a package with more than N files and folders. Default ${DEFAULT_PACKAGE_LIMITS.maxEntries}.` },
    json: jsonOption,
  },
  details: [
    'Every INF must parse, list devices for amd64 in [Manufacturer], and come with its CatalogFile and',
    'every [SourceDisksFiles] file. Archives are refused, with nothing extracted, when an entry leaves',
    'the package (.., absolute paths), is a link or a device, or a size or count limit is passed.',
  ].join('\n'),
  async run(args, io) {
    if (args.positionals.length !== 1) throw new UsageError('give exactly one package folder or tar archive');
    const store = storeOf(args);
    const name = stringOption(args, 'name');
    const pkg = await addDriverPackage(store, await sourceOf(args.positionals[0] as string), { ...(name ? { name } : {}), limits: limitsOf(args) });
    if (booleanOption(args, 'json')) {
      io.out(toJson(pkg));
    } else {
      io.out(`Added ${pkg.id} (${pkg.class}${pkg.bootCritical ? ', boot-critical' : ''}) to ${store.location}/${pkg.path}: ` +
        `${count(pkg.infs.length, 'INF')}, ${count(deviceCount(pkg), 'hardware ID')}, ${count(pkg.files.length, 'file')}.`);
    }
    return 0;
  },
};

function table(rows: readonly (readonly string[])[]): string[] {
  const widths = rows[0]?.map((_, col) => Math.max(...rows.map((r) => (r[col] ?? '').length))) ?? [];
  return rows.map((r) => r.map((cell, col) => cell.padEnd(widths[col] ?? 0)).join('  ').trimEnd());
}

export function renderCatalog(catalog: DriverCatalog, location: string): string {
  if (catalog.packages.length === 0) return `The driver catalog in ${location} is empty.`;
  const rows = [['ID', 'Class', 'Boot', 'INFs', 'IDs', 'Date', 'Provider']];
  for (const p of catalog.packages) {
    rows.push([p.id, p.class, p.bootCritical ? 'yes' : 'no', String(p.infs.length), String(deviceCount(p)),
      p.infs[0]?.driverDate ?? '-', p.infs[0]?.provider ?? '-']);
  }
  return [`Driver catalog ${location}: ${count(catalog.packages.length, 'package')}`, '', ...table(rows)].join('\n');
}

export const driversList: Command = {
  path: ['drivers', 'list'],
  summary: 'List the driver packages in the catalog.',
  options: { catalog: catalogOption, json: jsonOption },
  async run(args, io) {
    if (args.positionals.length > 0) throw new UsageError('drivers list takes no arguments');
    const store = storeOf(args);
    const catalog = await loadCatalog(store);
    io.out(booleanOption(args, 'json') ? toJson(catalog) : renderCatalog(catalog, store.location));
    return 0;
  },
};

function parseOs(text: string | undefined): { major: number; minor: number; build?: number } | undefined {
  if (text === undefined) return undefined;
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?$/.exec(text);
  if (m === null) throw new UsageError(`--os must look like 10.0 or 10.0.19045, got "${text}"`);
  return { major: Number(m[1]), minor: Number(m[2]), ...(m[3] === undefined ? {} : { build: Number(m[3]) }) };
}

const matchJson = (m: CatalogMatch) => ({
  package: m.package.id, packagePath: m.package.path, inf: m.catalogInf.file, class: m.catalogInf.class,
  rank: m.rank, matchedId: m.matchedId, deviceIdRole: m.deviceIdRole, deviceIdIndex: m.deviceIdIndex, infIdRole: m.infIdRole,
  specificity: m.specificity, description: m.device.description, modelsSection: m.device.modelsSection,
  bootCritical: m.bootCritical, reasons: m.reasons,
});

export function renderMatches(matches: readonly CatalogMatch[], ids: readonly string[]): string {
  if (matches.length === 0) return `No driver in the catalog matches ${ids.join(', ')}.`;
  const lines: string[] = [];
  matches.forEach((m, i) => {
    lines.push(`${i + 1}. ${m.package.id}  ${m.package.path}/${m.catalogInf.file}  rank 0x${m.rank.toString(16).padStart(4, '0')}` +
      `${m.bootCritical ? '  boot-critical' : ''}`, `   ${m.device.description}`);
    for (const reason of m.reasons) lines.push(`   - ${reason}`);
  });
  return lines.join('\n');
}

export const driversMatch: Command = {
  path: ['drivers', 'match'],
  summary: "Rank the catalog's drivers for a device, as Windows setup would.",
  positionals: '<hardware-id>…',
  options: {
    catalog: catalogOption,
    compatible: { type: 'string', valueName: 'ID', multiple: true, description: "One of the device's compatible IDs, most specific first." },
    os: { type: 'string', valueName: 'MAJOR.MINOR[.BUILD]', description: 'Windows version the driver is for (default: any).' },
    json: jsonOption,
  },
  details: "Give the device's hardware IDs most specific first, e.g. 'PCI\\VEN_1AF4&DEV_1001&SUBSYS_00021AF4&REV_00' 'PCI\\VEN_1AF4&DEV_1001'.\n" +
    'Exit status: 0 when a driver matches, 3 when none does.',
  async run(args, io) {
    if (args.positionals.length === 0) throw new UsageError('give at least one hardware ID');
    const compatible = args.values.compatible;
    const compatibleIds = Array.isArray(compatible) ? compatible : [];
    const os = parseOs(stringOption(args, 'os'));
    const matches = await matchCatalogDrivers(storeOf(args), { hardwareIds: args.positionals, compatibleIds }, { arch: 'amd64', ...(os ? { os } : {}) });
    io.out(booleanOption(args, 'json') ? toJson(matches.map(matchJson)) : renderMatches(matches, [...args.positionals, ...compatibleIds]));
    return matches.length > 0 ? 0 : 3;
  },
};

export const driversRemove: Command = {
  path: ['drivers', 'remove'],
  summary: 'Remove a driver package from the catalog (by id, or by name when one version is there).',
  positionals: '<name>',
  options: { catalog: catalogOption },
  async run(args, io) {
    if (args.positionals.length !== 1) throw new UsageError('give exactly one package name or id');
    const store = storeOf(args);
    const removed = await removeDriverPackage(store, args.positionals[0] as string);
    io.out(`Removed ${removed.id} (${store.location}/${removed.path}).`);
    return 0;
  },
};
