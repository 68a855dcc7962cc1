/**
 * The driver catalog as a folder: manifest.json plus one folder per package at <class>/<id>/.
 * Packages are unpacked into a `.staging-*` folder inside the catalog and renamed into place, so a
 * package folder is complete or absent; the manifest is written to a temp file, flushed and renamed
 * over the old one. Folders whose names start with a dot are never part of the catalog.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, rmdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { RecoveryError } from '../../core/errors.ts';
import type { DriverCatalogStore, DriverPackageSource } from '../../ports/driver-catalog.ts';

export const MANIFEST_FILE = 'manifest.json';

const exists = (path: string) => stat(path).then(() => true, () => false);

export class FolderCatalogStore implements DriverCatalogStore {
  constructor(readonly location: string) {}

  private resolve(path: string): string {
    const parts = path.split('/');
    if (parts.some((p) => p === '' || p === '.' || p === '..') || parts[0]?.startsWith('.')) {
      throw new RecoveryError('drivers.manifest-invalid', `"${path}" is not a path inside the catalog`, { data: { path } });
    }
    return join(this.location, ...parts);
  }

  async readManifest(): Promise<string | undefined> {
    try {
      return await readFile(join(this.location, MANIFEST_FILE), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }

  async writeManifest(text: string): Promise<void> {
    await mkdir(this.location, { recursive: true });
    const target = join(this.location, MANIFEST_FILE);
    const temp = `${target}.${randomUUID()}.tmp`;
    const file = await open(temp, 'wx');
    try {
      await file.writeFile(text, 'utf8');
      await file.sync();
    } finally {
      await file.close();
    }
    try {
      await rename(temp, target);
    } catch (e) {
      await rm(temp, { force: true });
      throw e;
    }
    // The rename is durable once the folder is flushed; some filesystems cannot fsync a folder.
    const dir = await open(this.location, 'r');
    await dir.sync().catch(() => undefined).finally(() => dir.close());
  }

  async installPackage(path: string, source: DriverPackageSource): Promise<void> {
    const target = this.resolve(path);
    if (await exists(target)) {
      throw new RecoveryError('drivers.already-present', `${target} already exists; remove it first`, { data: { path } });
    }
    await mkdir(this.location, { recursive: true });
    const staging = join(this.location, `.staging-${randomUUID()}`);
    try {
      await source.extractTo(staging);
      await mkdir(dirname(target), { recursive: true });
      await rename(staging, target);
    } catch (e) {
      await rm(staging, { recursive: true, force: true });
      throw e;
    }
  }

  async removePackage(path: string): Promise<void> {
    const target = this.resolve(path);
    await rm(target, { recursive: true, force: true });
    // Drop the class folder when this was its last package.
    await rmdir(dirname(target)).catch(() => undefined);
  }

  async readFile(path: string): Promise<Uint8Array> {
    return new Uint8Array(await readFile(this.resolve(path)));
  }
}
