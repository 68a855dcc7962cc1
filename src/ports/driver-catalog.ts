/**
 * Where driver packages come from (a folder or a tar on a stick) and where the catalog keeps them
 * (drivers/ with its manifest.json). The use cases in src/app/driver-catalog.ts decide; these only
 * move bytes.
 */
import type { PackageEntry } from '../core/drivers/package-entries.ts';
import type { InfFile } from '../core/drivers/package-check.ts';

/**
 * A driver package to add. Implementations:
 * - `scan` MUST pass every entry to `admit` before reading that entry's content, and MUST stop at
 *   once (rejecting with the error `admit` threw) when `admit` throws, so a refused package is never
 *   read to its end;
 * - `scan` MUST NOT write anything anywhere;
 * - `scan` MUST return the bytes of every file whose path ends in `.inf` (any case), keyed by the
 *   path `admit` returned for it;
 * - `extractTo` MUST write exactly the files and folders `scan` admitted, under `destination`
 *   (a folder that does not exist yet), and MUST reject when the package changed since `scan`.
 */
export interface DriverPackageSource {
  /** The folder or archive name, for messages and as a fallback package name. */
  readonly name: string;
  scan(admit: (entry: PackageEntry) => string): Promise<InfFile[]>;
  extractTo(destination: string): Promise<void>;
}

/**
 * The catalog folder. Paths are `/`-separated and relative to it. Implementations:
 * - `readManifest` MUST resolve undefined when there is no manifest yet;
 * - `writeManifest` MUST replace the manifest atomically: a reader sees the old or the new text,
 *   never a mix, also after a crash;
 * - `installPackage` MUST either put the whole package at `path` or leave nothing there, and MUST
 *   reject (`drivers.already-present`) when `path` exists;
 * - `removePackage` MUST NOT fail when `path` is already gone.
 */
export interface DriverCatalogStore {
  /** Where the catalog is, for messages. */
  readonly location: string;
  readManifest(): Promise<string | undefined>;
  writeManifest(text: string): Promise<void>;
  installPackage(path: string, source: DriverPackageSource): Promise<void>;
  removePackage(path: string): Promise<void>;
  readFile(path: string): Promise<Uint8Array>;
}
