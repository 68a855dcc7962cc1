/**
 * Chooses the engine from one connection string, so a server's configuration names its catalog
 * in one setting:
 *   postgres://… or postgresql://…  → PostgreSQL server (pg)
 *   memory:                        → PGlite in memory (tests, --simulate)
 *   pglite:<folder> or <folder>    → PGlite persisted in that folder (the default)
 */
import { PgliteDatabase, type PgliteOptions } from './pglite-database.ts';
import { PostgresDatabase, type PostgresOptions } from './postgres-database.ts';
import type { SqlDatabase } from './sql-database.ts';

export type OpenDatabaseOptions = PgliteOptions & PostgresOptions;

export function openDatabase(location: string, options: OpenDatabaseOptions = {}): Promise<SqlDatabase> {
  if (/^postgres(ql)?:\/\//i.test(location)) return PostgresDatabase.connect(location, options);
  if (location === 'memory:') return PgliteDatabase.inMemory();
  return PgliteDatabase.open(location.startsWith('pglite:') ? location.slice('pglite:'.length) : location, options);
}

/** The location without its password, for logs. */
export function describeLocation(location: string): string {
  return location.replace(/^(postgres(?:ql)?:\/\/[^:/@]*):[^@]*@/i, '$1:***@');
}
