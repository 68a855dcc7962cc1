/**
 * The catalog schema, as numbered migrations. `migrate` applies the missing ones in order, all in
 * one transaction under an advisory lock, so two servers starting at once cannot both apply a
 * step, and a failed step leaves the schema as it was. Running it again is a no-op.
 *
 * Rules for new migrations: append, never edit an applied one; one statement per array entry
 * (the port runs single statements).
 *
 * Schema invariants the database enforces by itself:
 *  - every tenant-owned row carries `tenant_id`, and references between such rows are composite
 *    (tenant_id, id) foreign keys: a row can never point at another tenant's row;
 *  - a chunk reference needs its chunk row (ON DELETE RESTRICT), so forgetting a referenced chunk
 *    fails instead of corrupting a restore point;
 *  - at most one queued-or-running run per job (partial unique index);
 *  - a committed restore point has exactly one manifest form (JSON or chunk hash).
 */
import { RecoveryError } from '../../core/errors.ts';
import type { SqlDatabase } from './sql-database.ts';

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly statements: readonly string[];
}

/** Key of the transaction-level advisory lock that serializes migrations ("LLCATMIG"). */
const MIGRATION_LOCK = 0x4c4c_4341_544d_4947n;

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'catalog',
    statements: [
      `CREATE TABLE server_settings (key text PRIMARY KEY, value jsonb NOT NULL)`,
      `INSERT INTO server_settings (key, value) VALUES ('tenancy', '"single"')`,

      `CREATE TABLE tenants (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL UNIQUE CHECK (name <> ''),
        is_default boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now())`,
      `CREATE UNIQUE INDEX tenants_one_default ON tenants (is_default) WHERE is_default`,
      `INSERT INTO tenants (name, is_default) VALUES ('default', true)`,

      `CREATE TABLE access_keys (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants (id),
        label text NOT NULL,
        key_hash bytea NOT NULL UNIQUE,
        created_at timestamptz NOT NULL,
        revoked_at timestamptz)`,

      `CREATE TABLE operator_tokens (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants (id),
        name text NOT NULL,
        role text NOT NULL CHECK (role IN ('admin', 'operator')),
        token_hash bytea NOT NULL UNIQUE,
        created_at timestamptz NOT NULL,
        last_used_at timestamptz,
        revoked_at timestamptz)`,

      `CREATE TABLE agents (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants (id),
        machine_id text NOT NULL CHECK (machine_id <> ''),
        hostname text NOT NULL,
        firmware text NOT NULL CHECK (firmware IN ('bios', 'uefi')),
        hardware jsonb NOT NULL,
        registered_at timestamptz NOT NULL,
        last_heartbeat timestamptz NOT NULL,
        bound_by text,
        bound_at timestamptz,
        UNIQUE (tenant_id, machine_id),
        UNIQUE (tenant_id, id),
        CHECK ((bound_by IS NULL) = (bound_at IS NULL)))`,

      `CREATE TABLE resources (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL,
        agent_id uuid NOT NULL,
        name text NOT NULL,
        disk_identity text NOT NULL CHECK (disk_identity <> ''),
        size_bytes bigint NOT NULL CHECK (size_bytes > 0),
        sector_size integer NOT NULL CHECK (sector_size IN (512, 4096)),
        updated_at timestamptz NOT NULL,
        UNIQUE (tenant_id, agent_id, disk_identity),
        UNIQUE (tenant_id, id),
        FOREIGN KEY (tenant_id, agent_id) REFERENCES agents (tenant_id, id))`,

      `CREATE TABLE storage_pools (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL REFERENCES tenants (id),
        name text NOT NULL CHECK (name <> ''),
        kind text NOT NULL CHECK (kind IN ('local')),
        config jsonb NOT NULL,
        created_at timestamptz NOT NULL,
        UNIQUE (tenant_id, name),
        UNIQUE (tenant_id, id))`,

      `CREATE TABLE backup_sets (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL,
        name text NOT NULL CHECK (name <> ''),
        resource_id uuid NOT NULL,
        pool_id uuid NOT NULL,
        encryption jsonb,
        codec text NOT NULL,
        block_size integer NOT NULL CHECK (block_size IN (65536, 131072, 262144, 524288, 1048576, 2097152)),
        next_sequence integer NOT NULL DEFAULT 1,
        created_at timestamptz NOT NULL,
        UNIQUE (tenant_id, name),
        UNIQUE (tenant_id, id),
        FOREIGN KEY (tenant_id, resource_id) REFERENCES resources (tenant_id, id),
        FOREIGN KEY (tenant_id, pool_id) REFERENCES storage_pools (tenant_id, id))`,

      `CREATE TABLE restore_points (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL,
        set_id uuid NOT NULL,
        sequence integer NOT NULL,
        state text NOT NULL CHECK (state IN ('uploading', 'committed', 'deleting')),
        started_at timestamptz NOT NULL,
        committed_at timestamptz,
        manifest jsonb,
        manifest_hash bytea,
        stats jsonb NOT NULL DEFAULT '{}',
        UNIQUE (set_id, sequence),
        UNIQUE (tenant_id, id),
        FOREIGN KEY (tenant_id, set_id) REFERENCES backup_sets (tenant_id, id),
        CHECK (state <> 'committed' OR (committed_at IS NOT NULL AND (manifest IS NULL) <> (manifest_hash IS NULL))))`,
      `CREATE INDEX restore_points_in_flight ON restore_points (tenant_id, started_at) WHERE state = 'uploading'`,

      `CREATE TABLE chunks (
        tenant_id uuid NOT NULL REFERENCES tenants (id),
        hash bytea NOT NULL,
        size integer NOT NULL CHECK (size >= 0),
        state text NOT NULL CHECK (state IN ('pending', 'live', 'deleting')),
        created_at timestamptz NOT NULL,
        touched_at timestamptz NOT NULL,
        PRIMARY KEY (tenant_id, hash))`,

      `CREATE TABLE chunk_refs (
        tenant_id uuid NOT NULL,
        point_id uuid NOT NULL,
        hash bytea NOT NULL,
        PRIMARY KEY (point_id, hash),
        FOREIGN KEY (tenant_id, point_id) REFERENCES restore_points (tenant_id, id),
        FOREIGN KEY (tenant_id, hash) REFERENCES chunks (tenant_id, hash) ON DELETE RESTRICT)`,
      `CREATE INDEX chunk_refs_by_chunk ON chunk_refs (tenant_id, hash)`,

      `CREATE TABLE jobs (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL,
        name text NOT NULL CHECK (name <> ''),
        kind text NOT NULL CHECK (kind IN ('backup', 'restore')),
        agent_id uuid NOT NULL,
        schedule jsonb NOT NULL,
        options jsonb NOT NULL,
        spec jsonb NOT NULL,
        point_id uuid,
        enabled boolean NOT NULL,
        next_run_at timestamptz,
        created_at timestamptz NOT NULL,
        UNIQUE (tenant_id, id),
        FOREIGN KEY (tenant_id, agent_id) REFERENCES agents (tenant_id, id),
        FOREIGN KEY (tenant_id, point_id) REFERENCES restore_points (tenant_id, id),
        CHECK ((kind = 'restore') = (point_id IS NOT NULL)))`,
      `CREATE INDEX jobs_due ON jobs (next_run_at) WHERE enabled AND next_run_at IS NOT NULL`,

      `CREATE TABLE job_sets (
        tenant_id uuid NOT NULL,
        job_id uuid NOT NULL,
        set_id uuid NOT NULL,
        PRIMARY KEY (job_id, set_id),
        FOREIGN KEY (tenant_id, job_id) REFERENCES jobs (tenant_id, id) ON DELETE CASCADE,
        FOREIGN KEY (tenant_id, set_id) REFERENCES backup_sets (tenant_id, id))`,
      `CREATE INDEX job_sets_by_set ON job_sets (set_id)`,

      `CREATE TABLE job_runs (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL,
        job_id uuid NOT NULL,
        trigger text NOT NULL CHECK (trigger IN ('schedule', 'manual')),
        state text NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'cancelled', 'idle')),
        queued_at timestamptz NOT NULL,
        started_at timestamptz,
        ended_at timestamptz,
        progress jsonb NOT NULL DEFAULT '{}',
        report jsonb,
        error_code text,
        error_message text,
        UNIQUE (tenant_id, id),
        FOREIGN KEY (tenant_id, job_id) REFERENCES jobs (tenant_id, id) ON DELETE CASCADE)`,
      `CREATE UNIQUE INDEX job_runs_one_active ON job_runs (job_id) WHERE state IN ('queued', 'running')`,
      `CREATE INDEX job_runs_by_job ON job_runs (job_id, queued_at)`,

      `CREATE TABLE run_events (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        tenant_id uuid NOT NULL,
        run_id uuid NOT NULL,
        at timestamptz NOT NULL,
        level text NOT NULL CHECK (level IN ('debug', 'info', 'warning', 'error')),
        message text NOT NULL,
        data jsonb NOT NULL,
        FOREIGN KEY (tenant_id, run_id) REFERENCES job_runs (tenant_id, id) ON DELETE CASCADE)`,
      `CREATE INDEX run_events_by_run ON run_events (run_id, id)`,

      `CREATE TABLE run_logs (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        tenant_id uuid NOT NULL,
        run_id uuid NOT NULL,
        at timestamptz NOT NULL,
        text text NOT NULL,
        FOREIGN KEY (tenant_id, run_id) REFERENCES job_runs (tenant_id, id) ON DELETE CASCADE)`,
      `CREATE INDEX run_logs_by_run ON run_logs (run_id, id)`,

      `CREATE TABLE resume_journal (
        tenant_id uuid NOT NULL,
        job_id uuid NOT NULL,
        disk text NOT NULL,
        done int8multirange NOT NULL,
        run_id uuid,
        updated_at timestamptz NOT NULL,
        PRIMARY KEY (tenant_id, job_id, disk),
        FOREIGN KEY (tenant_id, job_id) REFERENCES jobs (tenant_id, id) ON DELETE CASCADE)`,
    ],
  },
];

/** Applies the migrations the database lacks; returns the versions applied now. */
export async function migrate(db: SqlDatabase, migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await tx.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const { rows } = await tx.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
    const applied = new Set(rows.map((r) => r.version));
    const known = new Set(migrations.map((m) => m.version));
    const unknown = [...applied].filter((v) => !known.has(v));
    if (unknown.length > 0) {
      throw new RecoveryError('catalog.schema-too-new', `The catalog has schema versions this server does not know (${unknown.join(', ')}); upgrade the server`, {
        data: { unknown },
      });
    }
    const done: number[] = [];
    for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
      if (applied.has(m.version)) continue;
      for (const statement of m.statements) await tx.query(statement);
      await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
      done.push(m.version);
    }
    return done;
  });
}
