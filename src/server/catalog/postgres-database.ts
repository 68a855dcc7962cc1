/** A PostgreSQL server through a `pg` connection pool: for catalogs that outgrow one machine. */
import pg from 'pg';
import type { SqlDatabase, SqlQueryable, SqlResult, SqlValue } from './sql-database.ts';

const INT8 = 20;

/** int8 as bigint (pg's default is a string); everything else as pg parses it. */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8 ? (text: string) => BigInt(text) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

export interface PostgresOptions {
  /** Pool size; default 10. */
  readonly maxConnections?: number;
  /** Errors of idle connections (server restart, network cut). The pool drops such clients itself. */
  readonly onIdleError?: (error: Error) => void;
}

export class PostgresDatabase implements SqlDatabase {
  readonly engine = 'postgres';

  private constructor(private readonly pool: pg.Pool) {}

  /** Connects to `url` (postgres://user:password@host:port/database) and checks it answers. */
  static async connect(url: string, options: PostgresOptions = {}): Promise<PostgresDatabase> {
    const pool = new pg.Pool({ connectionString: url, max: options.maxConnections ?? 10, types });
    // Without a listener an idle client's error would crash the process.
    pool.on('error', options.onIdleError ?? (() => {}));
    try {
      await pool.query('SELECT 1');
    } catch (e) {
      await pool.end();
      throw e;
    }
    return new PostgresDatabase(pool);
  }

  query<Row = Record<string, unknown>>(sql: string, params: readonly SqlValue[] = []): Promise<SqlResult<Row>> {
    return run<Row>(this.pool, sql, params);
  }

  async transaction<T>(fn: (tx: SqlQueryable) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken: unknown;
    try {
      await client.query('BEGIN');
      const result = await fn({ query: (sql, params = []) => run(client, sql, params) });
      await client.query('COMMIT');
      return result;
    } catch (e) {
      await client.query('ROLLBACK').catch((rollbackError: unknown) => {
        broken = rollbackError;
      });
      throw e;
    } finally {
      // A client whose ROLLBACK failed is in an unknown state: destroy it instead of reusing it.
      client.release(broken instanceof Error ? broken : undefined);
    }
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}

async function run<Row>(target: pg.Pool | pg.PoolClient, sql: string, params: readonly SqlValue[]): Promise<SqlResult<Row>> {
  const result = await target.query(sql, [...params]);
  return { rows: result.rows as Row[], rowCount: result.rowCount ?? 0 };
}
