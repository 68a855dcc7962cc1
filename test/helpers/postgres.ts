/**
 * A throw-away PostgreSQL server for tests: initdb in a temp folder, listening on 127.0.0.1 on
 * a free port, trust authentication, stopped and deleted afterwards. PostgreSQL refuses to run
 * as root, so as root it runs as the `postgres` user (runuser) in a folder chowned to it.
 * Binaries: $PG_BIN, else the newest /usr/lib/postgresql/<version>/bin, else initdb on PATH.
 */
import { access, chown, readdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { isRoot, mustRun, runTool, tempDir } from './run.ts';

export interface PostgresServer {
  /** postgres://postgres@127.0.0.1:<port>/postgres */
  readonly url: string;
  readonly version: string;
  stop(): Promise<void>;
}

/** The server, or why it cannot run here (print it and skip). */
export type PostgresStart = { readonly server: PostgresServer } | { readonly skipped: string };

export async function startPostgres(): Promise<PostgresStart> {
  const bin = await findBinaries();
  if (bin === null) return { skipped: 'PostgreSQL server binaries (initdb, pg_ctl) not found; set PG_BIN or install postgresql' };
  let owner: { uid: number; gid: number } | null = null;
  if (isRoot) {
    owner = await userIds('postgres');
    if (owner === null) return { skipped: 'running as root and there is no "postgres" user to run the server as' };
  }
  const dir = await tempDir('lifeline-pg-');
  const as = (file: string, args: string[]): [string, string[]] => (owner === null ? [file, args] : ['runuser', ['-u', 'postgres', '--', file, ...args]]);
  try {
    if (owner !== null) await chown(dir.path, owner.uid, owner.gid);
    const data = join(dir.path, 'data');
    await mustRun(...as(join(bin, 'initdb'), ['-D', data, '--auth=trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale=C']));
    const port = await freePort();
    const serverOptions = `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir.path}`;
    await mustRun(...as(join(bin, 'pg_ctl'), ['-D', data, '-o', serverOptions, '-l', join(dir.path, 'server.log'), '-w', '-t', '60', 'start']));
    const version = (await mustRun(join(bin, 'postgres'), ['--version'])).trim();
    const stop = async (): Promise<void> => {
      await runTool(...as(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']));
      await dir.cleanup();
    };
    return { server: { url: `postgres://postgres@127.0.0.1:${port}/postgres`, version, stop } };
  } catch (e) {
    await dir.cleanup();
    throw e;
  }
}

async function findBinaries(): Promise<string | null> {
  const candidates: string[] = [];
  if (process.env['PG_BIN'] !== undefined) candidates.push(process.env['PG_BIN']);
  const root = '/usr/lib/postgresql';
  const versions = await readdir(root).catch(() => [] as string[]);
  versions.sort((a, b) => Number(b) - Number(a));
  candidates.push(...versions.map((v) => join(root, v, 'bin')));
  for (const dir of candidates) {
    if ((await exists(join(dir, 'initdb'))) && (await exists(join(dir, 'pg_ctl')))) return dir;
  }
  const which = await runTool('sh', ['-c', 'command -v initdb']);
  const onPath = which.stdout.trim();
  return which.exitCode === 0 && onPath !== '' ? join(onPath, '..') : null;
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

async function userIds(name: string): Promise<{ uid: number; gid: number } | null> {
  const uid = await runTool('id', ['-u', name]);
  const gid = await runTool('id', ['-g', name]);
  if (uid.exitCode !== 0 || gid.exitCode !== 0) return null;
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/** A port the kernel just handed out; free again when this returns. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
