/** Storage pools, backup sets and their restore points. */
import { RecoveryError } from '../../core/errors.ts';
import type { SqlDatabase, SqlQueryable } from './sql-database.ts';
import {
  BLOCK_SIZES,
  type BackupSet,
  type BackupSetInput,
  type EncryptionParams,
  type Json,
  type JsonObject,
  type LocalPoolConfig,
  type PointCommit,
  type RestorePoint,
  type RestorePointState,
  type StoragePool,
} from './types.ts';
import { invalid, isUuid, json, mapConstraintErrors, notFound, requireHash, requireId, requireObject, requireText } from './values.ts';

interface PoolRow {
  id: string;
  tenant_id: string;
  name: string;
  kind: 'local';
  config: LocalPoolConfig;
  created_at: Date;
}

const toPool = (r: PoolRow): StoragePool => ({ id: r.id, tenantId: r.tenant_id, name: r.name, kind: r.kind, config: r.config, createdAt: r.created_at });

export async function createPool(db: SqlDatabase, tenantId: string, input: { name: string; kind: 'local'; config: LocalPoolConfig }, now: Date): Promise<StoragePool> {
  if (input.kind !== 'local') throw invalid(`Pool kind must be 'local', not ${String(input.kind)}`);
  requireText(requireObject(input.config, 'config')['path'], 'config.path');
  const { rows } = await mapConstraintErrors(
    db.query<PoolRow>('INSERT INTO storage_pools (tenant_id, name, kind, config, created_at) VALUES ($1, $2, $3, $4::jsonb, $5) RETURNING *', [
      requireId(tenantId, 'tenant'),
      requireText(input.name, 'name'),
      input.kind,
      json(input.config),
      now,
    ]),
    { conflict: `A pool named ${input.name} exists`, missing: `No tenant ${tenantId}` },
  );
  return toPool(rows[0]!);
}

export async function listPools(db: SqlDatabase, tenantId: string): Promise<StoragePool[]> {
  if (!isUuid(tenantId)) return [];
  const { rows } = await db.query<PoolRow>('SELECT * FROM storage_pools WHERE tenant_id = $1 ORDER BY name', [tenantId]);
  return rows.map(toPool);
}

interface SetRow {
  id: string;
  tenant_id: string;
  name: string;
  resource_id: string;
  pool_id: string;
  encryption: EncryptionParams | null;
  codec: string;
  block_size: BackupSet['blockSize'];
  created_at: Date;
}

const toSet = (r: SetRow): BackupSet => ({
  id: r.id,
  tenantId: r.tenant_id,
  name: r.name,
  resourceId: r.resource_id,
  poolId: r.pool_id,
  encryption: r.encryption,
  codec: r.codec,
  blockSize: r.block_size,
  createdAt: r.created_at,
});

function verifyEncryption(e: EncryptionParams | null): void {
  if (e === null) return;
  const o = requireObject(e, 'encryption');
  requireText(o['salt'], 'encryption.salt');
  requireText(o['wrappedKey'], 'encryption.wrappedKey');
  requireText(requireObject(o['kdf'], 'encryption.kdf')['algorithm'], 'encryption.kdf.algorithm');
}

export async function createBackupSet(db: SqlDatabase, tenantId: string, input: BackupSetInput, now: Date): Promise<BackupSet> {
  if (!(BLOCK_SIZES as readonly number[]).includes(input.blockSize)) throw invalid(`blockSize must be one of ${BLOCK_SIZES.join(', ')}`);
  if (!/^[a-z0-9][a-z0-9._-]*$/.test(input.codec)) throw invalid(`Not a codec name: ${input.codec}`);
  verifyEncryption(input.encryption);
  const { rows } = await mapConstraintErrors(
    db.query<SetRow>(
      `INSERT INTO backup_sets (tenant_id, name, resource_id, pool_id, encryption, codec, block_size, created_at)
       VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8) RETURNING *`,
      [
        requireId(tenantId, 'tenant'),
        requireText(input.name, 'name'),
        requireId(input.resourceId, 'resource'),
        requireId(input.poolId, 'pool'),
        input.encryption === null ? null : json(input.encryption),
        input.codec,
        input.blockSize,
        now,
      ],
    ),
    { conflict: `A backup set named ${input.name} exists`, missing: 'No such resource or pool in this tenant' },
  );
  return toSet(rows[0]!);
}

export async function getBackupSet(db: SqlDatabase, tenantId: string, setId: string): Promise<BackupSet | null> {
  if (!isUuid(tenantId) || !isUuid(setId)) return null;
  const { rows } = await db.query<SetRow>('SELECT * FROM backup_sets WHERE tenant_id = $1 AND id = $2', [tenantId, setId]);
  return rows[0] === undefined ? null : toSet(rows[0]);
}

export async function listBackupSets(db: SqlDatabase, tenantId: string): Promise<BackupSet[]> {
  if (!isUuid(tenantId)) return [];
  const { rows } = await db.query<SetRow>('SELECT * FROM backup_sets WHERE tenant_id = $1 ORDER BY name', [tenantId]);
  return rows.map(toSet);
}

interface PointRow {
  id: string;
  tenant_id: string;
  set_id: string;
  sequence: number;
  state: RestorePointState;
  started_at: Date;
  committed_at: Date | null;
  manifest: Json | null;
  manifest_hash: string | null;
  stats: JsonObject;
}

const POINT_COLUMNS = `id, tenant_id, set_id, sequence, state, started_at, committed_at, manifest, encode(manifest_hash, 'hex') AS manifest_hash, stats`;

const toPoint = (r: PointRow): RestorePoint => ({
  id: r.id,
  tenantId: r.tenant_id,
  setId: r.set_id,
  sequence: r.sequence,
  state: r.state,
  startedAt: r.started_at,
  committedAt: r.committed_at,
  manifest: r.manifest,
  manifestHash: r.manifest_hash,
  stats: r.stats,
});

/** Starts an upload: a point in 'uploading' state, invisible to restores until committed. */
export async function beginRestorePoint(db: SqlDatabase, tenantId: string, setId: string, now: Date): Promise<RestorePoint> {
  requireId(tenantId, 'tenant');
  requireId(setId, 'backup set');
  return db.transaction(async (tx) => {
    // The row lock on the set also orders concurrent begins: sequences never collide.
    const { rows: seq } = await tx.query<{ sequence: number }>(
      'UPDATE backup_sets SET next_sequence = next_sequence + 1 WHERE tenant_id = $1 AND id = $2 RETURNING next_sequence - 1 AS sequence',
      [tenantId, setId],
    );
    if (seq[0] === undefined) throw notFound('backup set', setId);
    const { rows } = await tx.query<PointRow>(
      `INSERT INTO restore_points (tenant_id, set_id, sequence, state, started_at) VALUES ($1, $2, $3, 'uploading', $4) RETURNING ${POINT_COLUMNS}`,
      [tenantId, setId, seq[0].sequence, now],
    );
    return toPoint(rows[0]!);
  });
}

/** The point's state, row-locked for the rest of the transaction. */
export async function lockPoint(tx: SqlQueryable, tenantId: string, pointId: string, mode: 'SHARE' | 'UPDATE'): Promise<RestorePointState> {
  const { rows } = await tx.query<{ state: RestorePointState }>(
    `SELECT state FROM restore_points WHERE tenant_id = $1 AND id = $2 FOR ${mode}`,
    [requireId(tenantId, 'tenant'), requireId(pointId, 'restore point')],
  );
  if (rows[0] === undefined) throw notFound('restore point', pointId);
  return rows[0].state;
}

export function notUploading(pointId: string, state: RestorePointState): RecoveryError {
  return new RecoveryError('catalog.point-not-uploading', `Restore point ${pointId} is ${state}, not uploading`, { data: { pointId, state } });
}

/**
 * Makes the point visible, atomically: every chunk it references must be live, and the manifest
 * (inline or as a chunk, which is then referenced too) is stored in the same transaction.
 */
export async function commitRestorePoint(db: SqlDatabase, tenantId: string, pointId: string, commit: PointCommit, now: Date): Promise<RestorePoint> {
  const manifestHash = 'manifestHash' in commit ? requireHash(commit.manifestHash) : null;
  const manifest = 'manifest' in commit ? json(requireObject(commit.manifest, 'manifest')) : null;
  const stats = json(commit.stats === undefined ? {} : requireObject(commit.stats, 'stats'));
  return db.transaction(async (tx) => {
    const state = await lockPoint(tx, tenantId, pointId, 'UPDATE');
    if (state !== 'uploading') throw notUploading(pointId, state);
    if (manifestHash !== null) {
      await tx.query(
        `INSERT INTO chunk_refs (tenant_id, point_id, hash)
         SELECT tenant_id, $2, hash FROM chunks WHERE tenant_id = $1 AND hash = decode($3, 'hex') AND state = 'live'
         ON CONFLICT DO NOTHING`,
        [tenantId, pointId, manifestHash],
      );
    }
    const { rows: notLive } = await tx.query<{ hash: string }>(
      `SELECT encode(r.hash, 'hex') AS hash FROM chunk_refs r JOIN chunks c ON c.tenant_id = r.tenant_id AND c.hash = r.hash
       WHERE r.point_id = $1 AND c.state <> 'live' LIMIT 100`,
      [pointId],
    );
    const missing = notLive.map((r) => r.hash);
    if (manifestHash !== null) {
      const { rows } = await tx.query(`SELECT 1 FROM chunk_refs WHERE point_id = $1 AND hash = decode($2, 'hex')`, [pointId, manifestHash]);
      if (rows.length === 0) missing.push(manifestHash);
    }
    if (missing.length > 0) {
      throw new RecoveryError('catalog.missing-chunks', `Restore point ${pointId} references ${missing.length} chunk(s) the store does not hold`, {
        data: { pointId, missing },
        retryable: true,
      });
    }
    const { rows } = await tx.query<PointRow>(
      `UPDATE restore_points SET state = 'committed', committed_at = $2, manifest = $3::jsonb, manifest_hash = decode($4, 'hex'), stats = $5::jsonb
       WHERE id = $1 RETURNING ${POINT_COLUMNS}`,
      [pointId, now, manifest, manifestHash, stats],
    );
    return toPoint(rows[0]!);
  });
}

export async function getRestorePoint(db: SqlDatabase, tenantId: string, pointId: string): Promise<RestorePoint | null> {
  if (!isUuid(tenantId) || !isUuid(pointId)) return null;
  const { rows } = await db.query<PointRow>(`SELECT ${POINT_COLUMNS} FROM restore_points WHERE tenant_id = $1 AND id = $2`, [tenantId, pointId]);
  return rows[0] === undefined ? null : toPoint(rows[0]);
}

/** Committed points of a set, oldest first; uploading and deleting ones only when asked. */
export async function listRestorePoints(db: SqlDatabase, tenantId: string, setId: string, includeUncommitted = false): Promise<RestorePoint[]> {
  if (!isUuid(tenantId) || !isUuid(setId)) return [];
  const { rows } = await db.query<PointRow>(
    `SELECT ${POINT_COLUMNS} FROM restore_points WHERE tenant_id = $1 AND set_id = $2 AND ($3 OR state = 'committed') ORDER BY sequence`,
    [tenantId, setId, includeUncommitted],
  );
  return rows.map(toPoint);
}

/**
 * Deletes a point (committed, or an abandoned upload). It turns 'deleting' at once (invisible,
 * no new references); its references then go in batches, so a point with millions of chunks
 * never holds one huge transaction. A crash mid-way leaves it 'deleting'; `finishDeletions`
 * (run by the garbage collector) completes it. Refused while a job names the point.
 */
export async function deletePoint(db: SqlDatabase, tenantId: string, pointId: string, batchSize = 10_000): Promise<void> {
  await db.transaction(async (tx) => {
    await lockPoint(tx, tenantId, pointId, 'UPDATE');
    const { rows: jobs } = await tx.query<{ id: string }>('SELECT id FROM jobs WHERE tenant_id = $1 AND point_id = $2', [tenantId, pointId]);
    if (jobs.length > 0) {
      throw new RecoveryError('catalog.point-in-use', `Restore point ${pointId} is used by ${jobs.length} job(s); delete them first`, {
        data: { pointId, jobIds: jobs.map((j) => j.id) },
      });
    }
    await tx.query(`UPDATE restore_points SET state = 'deleting' WHERE id = $1`, [pointId]);
  });
  await removeDeletingPoint(db, pointId, batchSize);
}

/** Completes deletions a crash interrupted; returns how many points it removed. */
export async function finishDeletions(db: SqlDatabase, tenantId: string, batchSize = 10_000): Promise<number> {
  const { rows } = await db.query<{ id: string }>(`SELECT id FROM restore_points WHERE tenant_id = $1 AND state = 'deleting'`, [tenantId]);
  for (const { id } of rows) await removeDeletingPoint(db, id, batchSize);
  return rows.length;
}

async function removeDeletingPoint(db: SqlDatabase, pointId: string, batchSize: number): Promise<void> {
  for (;;) {
    const { rowCount } = await db.query(
      'DELETE FROM chunk_refs WHERE point_id = $1 AND hash IN (SELECT hash FROM chunk_refs WHERE point_id = $1 LIMIT $2)',
      [pointId, batchSize],
    );
    if (rowCount < batchSize) break;
  }
  await db.query(`DELETE FROM restore_points WHERE id = $1 AND state = 'deleting'`, [pointId]);
}
