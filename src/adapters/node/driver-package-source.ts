/**
 * Driver packages as they arrive: a folder, or a tar (optionally gzip-compressed). Both are read
 * twice: `scan` walks every entry through the caller's gate and keeps only the INFs' bytes;
 * `extractTo` walks again and writes, refusing anything `scan` did not admit (a file swapped in
 * between the two walks). Nothing is followed: links are reported as links, never opened.
 */
import { constants, createReadStream } from 'node:fs';
import { copyFile, lstat, mkdir, open, readdir, readFile, readlink, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { extract } from 'tar-stream';
import type { Header } from 'tar-stream';
import { RecoveryError } from '../../core/errors.ts';
import { isInfPath } from '../../core/drivers/package-entries.ts';
import type { PackageEntry, PackageEntryType } from '../../core/drivers/package-entries.ts';
import type { InfFile } from '../../core/drivers/package-check.ts';
import type { DriverPackageSource } from '../../ports/driver-catalog.ts';

type Admitted = Map<string, { type: PackageEntryType; size: number }>;

function changed(path: string): never {
  throw new RecoveryError('drivers.package-changed', `"${path}" changed between checking and copying the package; add it again`, { data: { entry: path } });
}

/** Rejects a second walk that meets an entry the first walk did not admit, or meets it changed. */
function expectAdmitted(admitted: Admitted | undefined, path: string, type: PackageEntryType, size: number): void {
  const known = admitted?.get(path);
  if (known === undefined || known.type !== type || (type === 'file' && known.size !== size)) changed(path);
}

export class FolderPackageSource implements DriverPackageSource {
  readonly name: string;
  private admitted: Admitted | undefined;

  constructor(private readonly root: string) {
    this.name = basename(root);
  }

  private async *walk(relative: string[] = []): AsyncGenerator<PackageEntry & { absolute: string }> {
    const dir = join(this.root, ...relative);
    const names = (await readdir(dir)).sort();
    for (const name of names) {
      const absolute = join(dir, name);
      const path = [...relative, name].join('/');
      const stat = await lstat(absolute);
      if (stat.isSymbolicLink()) {
        yield { path, type: 'symlink', size: 0, linkTarget: await readlink(absolute), absolute };
      } else if (stat.isDirectory()) {
        yield { path, type: 'directory', size: 0, absolute };
        yield* this.walk([...relative, name]);
      } else {
        yield { path, type: stat.isFile() ? 'file' : 'other', size: stat.isFile() ? stat.size : 0, absolute };
      }
    }
  }

  async scan(admit: (entry: PackageEntry) => string): Promise<InfFile[]> {
    const root = await stat(this.root).catch(() => undefined);
    if (root === undefined || !root.isDirectory()) {
      throw new RecoveryError('drivers.source-not-found', `${this.root} is not a folder`, { data: { source: this.root } });
    }
    const admitted: Admitted = new Map();
    const infs: InfFile[] = [];
    for await (const entry of this.walk()) {
      const path = admit(entry);
      admitted.set(path, { type: entry.type, size: entry.size });
      if (entry.type === 'file' && isInfPath(path)) infs.push({ path, bytes: new Uint8Array(await readFile(entry.absolute)) });
    }
    this.admitted = admitted;
    return infs;
  }

  async extractTo(destination: string): Promise<void> {
    await mkdir(destination);
    let seen = 0;
    for await (const entry of this.walk()) {
      const path = entry.path;
      expectAdmitted(this.admitted, path, entry.type, entry.size);
      seen += 1;
      const target = join(destination, ...path.split('/'));
      if (entry.type === 'directory') await mkdir(target, { recursive: true });
      else await copyFile(entry.absolute, target, constants.COPYFILE_EXCL);
    }
    if (seen !== this.admitted?.size) changed(this.root);
  }
}

function entryType(header: Header): PackageEntryType {
  switch (header.type) {
    case 'file': case 'contiguous-file': return 'file';
    case 'directory': return 'directory';
    case 'symlink': return 'symlink';
    case 'link': return 'hardlink';
    default: return 'other';
  }
}

const toEntry = (h: Header): PackageEntry => {
  const type = entryType(h);
  return { path: h.name, type, size: type === 'file' ? h.size : 0, ...(h.linkname ? { linkTarget: h.linkname } : {}) };
};

async function readAll(stream: AsyncIterable<unknown>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of stream) chunks.push(chunk as Uint8Array);
  return new Uint8Array(Buffer.concat(chunks));
}

async function drain(stream: AsyncIterable<unknown>): Promise<void> {
  for await (const _chunk of stream) { /* skip the body */ }
}

export class TarPackageSource implements DriverPackageSource {
  readonly name: string;
  private admitted: Admitted | undefined;

  constructor(private readonly archive: string) {
    this.name = basename(archive).replace(/\.(tar|tar\.gz|tgz)$/i, '');
  }

  /** Calls `visit` for every entry in order; the body stream must be consumed before it returns. */
  private async walk(visit: (header: Header, body: AsyncIterable<unknown>) => Promise<void>): Promise<void> {
    const file = await open(this.archive, 'r').catch((e: NodeJS.ErrnoException) => {
      throw new RecoveryError('drivers.source-not-found', `cannot open ${this.archive}: ${e.code ?? e.message}`, { data: { source: this.archive } });
    });
    const magic = new Uint8Array(2);
    await file.read(magic, 0, 2, 0);
    await file.close();
    const input = createReadStream(this.archive);
    const tar = extract();
    const gzipped = magic[0] === 0x1f && magic[1] === 0x8b;
    const piping = (gzipped ? pipeline(input, createGunzip(), tar) : pipeline(input, tar)).then(() => undefined, (e: unknown) => e);
    try {
      for await (const entry of tar) await visit(entry.header, entry);
    } catch (e) {
      input.destroy();
      await piping;
      if (e instanceof RecoveryError) throw e;
      throw new RecoveryError('drivers.archive-invalid', `${this.archive} is not a readable tar archive: ${(e as Error).message}`, { data: { source: this.archive }, cause: e });
    }
    const failure = await piping;
    if (failure !== undefined) {
      throw new RecoveryError('drivers.archive-invalid', `${this.archive} is not a readable tar archive: ${(failure as Error).message}`, { data: { source: this.archive }, cause: failure });
    }
  }

  async scan(admit: (entry: PackageEntry) => string): Promise<InfFile[]> {
    const admitted: Admitted = new Map();
    const infs: InfFile[] = [];
    await this.walk(async (header, body) => {
      const entry = toEntry(header);
      const path = admit(entry);
      admitted.set(path, { type: entry.type, size: entry.size });
      if (entry.type === 'file' && isInfPath(path)) infs.push({ path, bytes: await readAll(body) });
      else await drain(body);
    });
    this.admitted = admitted;
    return infs;
  }

  async extractTo(destination: string): Promise<void> {
    await mkdir(destination);
    let seen = 0;
    await this.walk(async (header, body) => {
      const entry = toEntry(header);
      const path = entry.path.split(/[\\/]+/).filter((s) => s !== '' && s !== '.').join('/');
      expectAdmitted(this.admitted, path, entry.type, entry.size);
      seen += 1;
      if (path === '') return drain(body);
      const target = join(destination, ...path.split('/'));
      if (entry.type === 'directory') {
        await mkdir(target, { recursive: true });
        return drain(body);
      }
      await mkdir(join(target, '..'), { recursive: true });
      const out = await open(target, 'wx');
      try {
        for await (const chunk of body) {
          const bytes = chunk as Uint8Array;
          for (let done = 0; done < bytes.length;) done += (await out.write(bytes, done)).bytesWritten;
        }
      } finally {
        await out.close();
      }
    });
    if (seen !== this.admitted?.size) changed(this.archive);
  }
}
