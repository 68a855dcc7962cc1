/**
 * The catalog's view of a database: one SQL dialect (PostgreSQL), two engines — PGlite embedded
 * in this process, or a PostgreSQL server through `pg`. Catalog code is written against this port
 * only, so both engines run the same statements.
 *
 * Value mapping both adapters MUST provide, in both directions:
 *   int8 ↔ bigint · int4 ↔ number · bool ↔ boolean · text, uuid ↔ string · timestamptz ↔ Date
 *   jsonb → parsed value (pass JSON *text* and cast with `$n::jsonb`: `pg` turns JS arrays into
 *   PostgreSQL array literals) · bytea ↔ Uint8Array · text[] ↔ string[].
 */

export type SqlValue = string | number | bigint | boolean | Date | Uint8Array | null | readonly string[];

export interface SqlResult<Row> {
  readonly rows: Row[];
  /** Rows inserted, updated or deleted by the statement (0 for SELECT on some engines). */
  readonly rowCount: number;
}

export interface SqlQueryable {
  /** One statement with `$1`-style parameters. MUST NOT accept several statements at once. */
  query<Row = Record<string, unknown>>(sql: string, params?: readonly SqlValue[]): Promise<SqlResult<Row>>;
}

export interface SqlDatabase extends SqlQueryable {
  /** Which engine, for logs and diagnostics; the SQL is the same. */
  readonly engine: 'pglite' | 'postgres';
  /**
   * Runs `fn` in one transaction (READ COMMITTED): COMMIT when it resolves, ROLLBACK when it
   * throws (the error is rethrown). When the promise resolves, the commit MUST be durable against
   * a crash of this process. Statements inside MUST go through `tx`, never through the database.
   */
  transaction<T>(fn: (tx: SqlQueryable) => Promise<T>): Promise<T>;
  /** Waits for running statements, then releases the engine (and its lock). */
  close(): Promise<void>;
}

/** SQLSTATE of a database error (e.g. '23505' unique violation), from either engine. */
export function sqlState(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string' && /^[0-9A-Z]{5}$/.test(error.code)) {
    return error.code;
  }
  return undefined;
}

export const SQLSTATE = {
  uniqueViolation: '23505',
  foreignKeyViolation: '23503',
  checkViolation: '23514',
} as const;
