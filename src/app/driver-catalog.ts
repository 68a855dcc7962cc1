/**
 * Use cases of the driver catalog: add a package (folder or tar), list, match a device's IDs, remove.
 * Order of `addDriverPackage`, so a failure at any step leaves the catalog as it was:
 *   1. read the manifest (a broken one stops everything before the package is touched);
 *   2. scan the package: every entry through the gate (paths, links, sizes), INFs read;
 *   3. check every INF and build the catalog entry; refuse on the first problem list;
 *   4. copy the package into <class>/<name>-<version>/ (all or nothing);
 *   5. rewrite the manifest atomically; if that fails, take the copied folder away again.
 * `removeDriverPackage` rewrites the manifest first and deletes the folder second, so the manifest
 * never lists a package whose files are gone.
 */
import { RecoveryError } from '../core/errors.ts';
import { decodeCatalog, emptyCatalog, encodeCatalog, infsListing, withPackage, withoutPackage } from '../core/drivers/catalog.ts';
import type { CatalogInf, CatalogPackage, DriverCatalog } from '../core/drivers/catalog.ts';
import { rankDrivers } from '../core/drivers/match.ts';
import type { CandidateDriver, DriverMatch, PnpDeviceIds } from '../core/drivers/match.ts';
import { parseInf } from '../core/drivers/inf.ts';
import type { InfTarget } from '../core/drivers/inf.ts';
import { createEntryGate, DEFAULT_PACKAGE_LIMITS } from '../core/drivers/package-entries.ts';
import type { PackageLimits } from '../core/drivers/package-entries.ts';
import { describePackage } from '../core/drivers/package-check.ts';
import type { DriverCatalogStore, DriverPackageSource } from '../ports/driver-catalog.ts';

export async function loadCatalog(store: DriverCatalogStore): Promise<DriverCatalog> {
  const text = await store.readManifest();
  return text === undefined ? emptyCatalog() : decodeCatalog(text);
}

export interface AddOptions {
  readonly name?: string;
  readonly limits?: PackageLimits;
}

export async function addDriverPackage(store: DriverCatalogStore, source: DriverPackageSource, options: AddOptions = {}): Promise<CatalogPackage> {
  const catalog = await loadCatalog(store);
  const gate = createEntryGate(options.limits ?? DEFAULT_PACKAGE_LIMITS);
  const infs = await source.scan((entry) => gate.admit(entry));
  const { problems, package: pkg } = describePackage(infs, gate.files, { ...(options.name ? { name: options.name } : {}), sourceName: source.name });
  if (pkg === undefined) {
    throw new RecoveryError('drivers.package-invalid', `${source.name} is not a usable driver package:\n${problems.map((p) => `  - ${p.message}`).join('\n')}`, {
      data: { source: source.name, problems },
    });
  }
  const next = withPackage(catalog, pkg);
  await store.installPackage(pkg.path, source);
  try {
    await store.writeManifest(encodeCatalog(next));
  } catch (e) {
    await store.removePackage(pkg.path);
    throw e;
  }
  return pkg;
}

export async function removeDriverPackage(store: DriverCatalogStore, ref: string): Promise<CatalogPackage> {
  const { catalog, removed } = withoutPackage(await loadCatalog(store), ref);
  await store.writeManifest(encodeCatalog(catalog));
  await store.removePackage(removed.path);
  return removed;
}

export interface CatalogMatch extends DriverMatch {
  readonly package: CatalogPackage;
  readonly catalogInf: CatalogInf;
}

/**
 * Catalog drivers for one device, best first, ranked as Windows setup would (core/drivers/match.ts).
 * The index narrows the INFs to read; the INFs themselves are parsed again for the ranking, so
 * the answer never depends on what an older version of this program wrote into the manifest.
 */
export async function matchCatalogDrivers(store: DriverCatalogStore, ids: PnpDeviceIds, target: InfTarget = { arch: 'amd64' }): Promise<CatalogMatch[]> {
  const catalog = await loadCatalog(store);
  const listed = infsListing(catalog, [...ids.hardwareIds, ...(ids.compatibleIds ?? [])]);
  const bySource = new Map<string, { package: CatalogPackage; inf: CatalogInf }>();
  const candidates: CandidateDriver[] = [];
  for (const entry of listed) {
    const source = `${entry.package.path}/${entry.inf.file}`;
    bySource.set(source, entry);
    candidates.push({ source, inf: parseInf(await store.readFile(source)) });
  }
  return rankDrivers(ids, candidates, target).map((m) => {
    const entry = bySource.get(m.source);
    if (entry === undefined) throw new Error(`ranked an INF that was not a candidate: ${m.source}`);
    return { ...m, package: entry.package, catalogInf: entry.inf };
  });
}
