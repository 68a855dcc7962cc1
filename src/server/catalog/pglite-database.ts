/**
 * The embedded engine: PGlite (PostgreSQL compiled to WASM) persisted in a folder.
 *
 * Durability, read from PGlite 0.5's sources and checked with strace (see docs/database.md):
 *  - PGlite starts PostgreSQL with `-F` (fsync off), and its Node file system (Emscripten NODEFS)
 *    has no fsync operation at all; fdatasync is a no-op too. Its writes are plain write(2)
 *    calls, so a commit survives a crash of this process (the kernel keeps the pages) but not a
 *    power cut. We start PostgreSQL without `-F`, with `wal_sync_method=fsync` (the one method that
 *    reaches NODEFS), and give NODEFS an fsync that calls fsync(2): a commit is then on disk when
 *    the transaction returns, as with a PostgreSQL server.
 *  - PGlite takes no lock on its folder: two processes opening it would corrupt it. We keep a
 *    lock file with our pid beside the data; a lock left by a dead process is taken over.
 */
import { PGlite, type PGliteInterface, type Transaction } from '@electric-sql/pglite';
import { NodeFS } from '@electric-sql/pglite/nodefs';
import { fsyncSync } from 'node:fs';
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { RecoveryError } from '../../core/errors.ts';
import type { SqlDatabase, SqlQueryable, SqlResult, SqlValue } from './sql-database.ts';

const INT8 = 20;
const parsers = { [INT8]: (text: string) => BigInt(text) };

export interface PgliteOptions {
  /**
   * 'fsync' (default): commits reach the disk. 'process': commits survive a crash of this
   * process but not of the machine (PGlite's own default; faster, for tests and --simulate).
   */
  readonly durability?: 'fsync' | 'process';
}

export class PgliteDatabase implements SqlDatabase {
  readonly engine = 'pglite';

  private constructor(
    private readonly pg: PGliteInterface,
    private readonly unlock: () => Promise<void>,
  ) {}

  /** Opens (creating on first use) the database in `dataDir`. */
  static async open(dataDir: string, options: PgliteOptions = {}): Promise<PgliteDatabase> {
    const dir = resolve(dataDir);
    await mkdir(dir, { recursive: true });
    const unlock = await lockFolder(`${dir}.lock`);
    try {
      const durable = (options.durability ?? 'fsync') === 'fsync';
      const pg = await PGlite.create({
        fs: durable ? new SyncedNodeFS(dir) : new NodeFS(dir),
        parsers,
        startParams: durable
          ? [...PGlite.defaultStartParams.filter((p) => p !== '-F'), '-c', 'wal_sync_method=fsync']
          : PGlite.defaultStartParams,
      });
      return new PgliteDatabase(pg, unlock);
    } catch (e) {
      await unlock();
      throw e;
    }
  }

  /** A throw-away database in memory (tests, --simulate). */
  static async inMemory(): Promise<PgliteDatabase> {
    return new PgliteDatabase(await PGlite.create({ parsers }), async () => {});
  }

  query<Row = Record<string, unknown>>(sql: string, params: readonly SqlValue[] = []): Promise<SqlResult<Row>> {
    return run<Row>(this.pg, sql, params);
  }

  transaction<T>(fn: (tx: SqlQueryable) => Promise<T>): Promise<T> {
    return this.pg.transaction((tx) => fn({ query: (sql, params = []) => run(tx, sql, params) }));
  }

  async close(): Promise<void> {
    try {
      await this.pg.close();
    } finally {
      await this.unlock();
    }
  }
}

async function run<Row>(target: PGliteInterface | Transaction, sql: string, params: readonly SqlValue[]): Promise<SqlResult<Row>> {
  const result = await target.query<Row>(sql, [...params]);
  return { rows: result.rows, rowCount: result.affectedRows ?? 0 };
}

interface NodefsStream {
  readonly nfd?: number;
  readonly node: { readonly mode: number };
}

/** NODEFS with a real fsync: PostgreSQL's fsync(2) calls reach the disk. */
class SyncedNodeFS extends NodeFS {
  override async init(pg: PGlite, opts: Parameters<NodeFS['init']>[1]): ReturnType<NodeFS['init']> {
    const { emscriptenOpts } = await super.init(pg, opts);
    const installFsync = (mod: { NODEFS: unknown }): void => {
      const nodefs = mod.NODEFS as { stream_ops?: Record<string, unknown> };
      if (typeof nodefs.stream_ops !== 'object') {
        throw new RecoveryError('catalog.pglite-unsupported', 'This PGlite build has no NODEFS stream operations to make durable');
      }
      nodefs.stream_ops['fsync'] = (stream: NodefsStream): number => {
        if (stream.nfd === undefined) return 0;
        try {
          fsyncSync(stream.nfd);
        } catch (e) {
          // Directories cannot be fsynced on every platform; PostgreSQL ignores that too.
          if (!isDirectory(stream.node.mode)) throw e;
        }
        return 0;
      };
    };
    return { emscriptenOpts: { ...emscriptenOpts, preRun: [...(emscriptenOpts.preRun ?? []), installFsync] } };
  }
}

function isDirectory(mode: number): boolean {
  return (mode & 0o170000) === 0o040000;
}

/** Creates `path` holding our pid; takes over a lock whose process is gone. Returns the release. */
async function lockFolder(path: string): Promise<() => Promise<void>> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const file = await open(path, 'wx');
      await file.writeFile(`${process.pid}\n`);
      await file.close();
      return () => rm(path, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10);
      if (Number.isInteger(pid) && isAlive(pid)) {
        throw new RecoveryError('catalog.locked', `The catalog folder is in use by process ${pid}`, { data: { lockFile: path, pid } });
      }
      await rm(path, { force: true });
    }
  }
  throw new RecoveryError('catalog.locked', 'Another process took the catalog lock while we reclaimed a stale one', { data: { lockFile: path } });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
