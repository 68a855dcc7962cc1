/**
 * Chunks, the references restore points hold on them, and garbage collection that stays safe
 * while backups upload. The rules (README.md explains why each is needed):
 *
 *  Chunk states: pending (reserved, file being written) → live (file durable) → deleting (GC).
 *  1. Upload: `reserveChunk` BEFORE writing the file, `recordChunk` AFTER it is durable. A chunk
 *     in 'deleting' cannot be reserved (retryable error), so a file write never races its delete.
 *  2. Only live chunks are "known" (an agent may skip uploading them) and only live chunks can be
 *     referenced; `addChunkRefs` returns the others as missing, to be uploaded again.
 *  3. GC marks a chunk 'deleting' only when no point of any state (uploading ones included)
 *     references it AND it was last reserved or stored before min(now − grace, start of the
 *     oldest upload still in flight): an upload's chunks are kept until it adds its references.
 *     Stale pending chunks (a writer that died) go after `pendingTimeoutMs`.
 *  4. Marking and reference-adding lock the same chunk row, but the marking statement's view may
 *     miss a reference committed while it waited. So marked chunks are re-checked by later
 *     statements (after marking, and again under lock just before their files go): a marked
 *     chunk with a reference is revived, never deleted.
 *  5. Files are deleted while the catalog holds the marked rows locked, and the rows go in the
 *     same transaction: a concurrent reserve waits, then starts from scratch.
 */
import { RecoveryError } from '../../core/errors.ts';
import { lockPoint, notUploading } from './backup-sets.ts';
import type { SqlDatabase } from './sql-database.ts';
import type { ChunkInfo } from './types.ts';
import { invalid, isUuid, requireHashes, requireId } from './values.ts';

export async function knownChunks(db: SqlDatabase, tenantId: string, hashes: readonly string[]): Promise<Set<string>> {
  const wanted = requireHashes(hashes);
  if (!isUuid(tenantId) || wanted.length === 0) return new Set();
  const { rows } = await db.query<{ hash: string }>(
    `SELECT encode(hash, 'hex') AS hash FROM chunks
     WHERE tenant_id = $1 AND state = 'live' AND hash = ANY(ARRAY(SELECT decode(h, 'hex') FROM unnest($2::text[]) AS h))`,
    [tenantId, wanted],
  );
  return new Set(rows.map((r) => r.hash));
}

/** A chunk GC is removing cannot be stored now; retryable. */
export function chunkDeleting(hash: string): RecoveryError {
  return new RecoveryError('catalog.chunk-deleting', `Chunk ${hash} is being garbage-collected; upload it again shortly`, { data: { hash }, retryable: true });
}

/**
 * Step 1 of storing a chunk. 'write': write the file, then call `recordChunk`. 'exists': the chunk
 * is live already, nothing to write. Throws retryable `catalog.chunk-deleting` while GC removes it.
 */
export async function reserveChunk(db: SqlDatabase, tenantId: string, hash: string, size: number, now: Date): Promise<'write' | 'exists'> {
  const reservation = (await reserveChunks(db, tenantId, [{ hash, size }], now)).get(hash);
  if (reservation === 'deleting') throw chunkDeleting(hash);
  if (reservation === 'other-size') throw invalid(`Chunk ${hash} is recorded with another size than ${size}`, { hash, size });
  return reservation === 'exists' ? 'exists' : 'write';
}

/** Step 2 of storing a chunk: its file is durable, it becomes live (known, referenceable). */
export async function recordChunk(db: SqlDatabase, tenantId: string, hash: string, now: Date): Promise<void> {
  await recordChunks(db, tenantId, [hash], now);
}

/** How `reserveChunks` left each chunk: as `reserveChunk` would, or why it could not reserve it. */
export type ChunkReservation = 'write' | 'exists' | 'deleting' | 'other-size';

/**
 * `reserveChunk` for several chunks in one statement (a batched upload). Distinct hashes only;
 * nothing throws for one chunk: each gets its outcome, and the caller decides.
 */
export async function reserveChunks(db: SqlDatabase, tenantId: string, chunks: readonly { readonly hash: string; readonly size: number }[], now: Date): Promise<Map<string, ChunkReservation>> {
  const hashes = requireHashes(chunks.map((c) => c.hash));
  if (hashes.length !== chunks.length) throw invalid('reserveChunks takes each hash once');
  for (const c of chunks) if (!Number.isInteger(c.size) || c.size < 0) throw invalid(`Chunk size must be a non-negative integer, not ${c.size}`);
  const out = new Map<string, ChunkReservation>(hashes.map((h) => [h, 'deleting']));
  if (hashes.length === 0) return out;
  const { rows } = await db.query<{ hash: string; state: 'pending' | 'live'; size: number }>(
    `INSERT INTO chunks (tenant_id, hash, size, state, created_at, touched_at)
     SELECT $1, decode(t.h, 'hex'), t.s::integer, 'pending', $4, $4 FROM unnest($2::text[], $3::text[]) AS t(h, s)
     ON CONFLICT (tenant_id, hash) DO UPDATE SET touched_at = greatest(chunks.touched_at, excluded.touched_at) WHERE chunks.state <> 'deleting'
     RETURNING encode(hash, 'hex') AS hash, state, size`,
    [requireId(tenantId, 'tenant'), hashes, chunks.map((c) => String(c.size)), now],
  );
  const sizes = new Map(chunks.map((c) => [c.hash, c.size]));
  // A hash left out of RETURNING is one GC is deleting (the conflict's WHERE kept it unchanged).
  for (const row of rows) out.set(row.hash, row.size !== sizes.get(row.hash) ? 'other-size' : row.state === 'live' ? 'exists' : 'write');
  return out;
}

/** `recordChunk` for several chunks in one statement; throws unless every one was reserved. */
export async function recordChunks(db: SqlDatabase, tenantId: string, hashes: readonly string[], now: Date): Promise<void> {
  const wanted = [...new Set(requireHashes(hashes))];
  if (wanted.length === 0) return;
  const { rows } = await db.query<{ hash: string }>(
    `UPDATE chunks SET state = 'live', touched_at = greatest(touched_at, $3)
     WHERE tenant_id = $1 AND hash = ANY(ARRAY(SELECT decode(h, 'hex') FROM unnest($2::text[]) AS h)) AND state IN ('pending', 'live')
     RETURNING encode(hash, 'hex') AS hash`,
    [requireId(tenantId, 'tenant'), wanted, now],
  );
  if (rows.length !== wanted.length) {
    const recorded = new Set(rows.map((r) => r.hash));
    const lost = wanted.filter((h) => !recorded.has(h));
    throw new RecoveryError('catalog.chunk-not-reserved', `${lost.length} chunks were not reserved (or GC took them), the first ${lost[0]}; reserve and write them again`, {
      data: { hashes: lost.slice(0, 20), count: lost.length },
      retryable: true,
    });
  }
}

/**
 * Adds references from an uploading point to live chunks (idempotent). Returns the hashes that
 * are not live: the agent must upload them, then add them again.
 */
export async function addChunkRefs(db: SqlDatabase, tenantId: string, pointId: string, hashes: readonly string[]): Promise<{ missing: string[] }> {
  const wanted = requireHashes(hashes);
  return db.transaction(async (tx) => {
    const state = await lockPoint(tx, tenantId, pointId, 'SHARE');
    if (state !== 'uploading') throw notUploading(pointId, state);
    if (wanted.length === 0) return { missing: [] };
    // FOR SHARE: GC's marking UPDATE of these rows waits for this transaction (rule 4).
    const { rows } = await tx.query<{ hash: string }>(
      `SELECT encode(hash, 'hex') AS hash FROM chunks
       WHERE tenant_id = $1 AND state = 'live' AND hash = ANY(ARRAY(SELECT decode(h, 'hex') FROM unnest($2::text[]) AS h))
       FOR SHARE`,
      [tenantId, wanted],
    );
    const live = rows.map((r) => r.hash);
    if (live.length > 0) {
      await tx.query(
        `INSERT INTO chunk_refs (tenant_id, point_id, hash) SELECT $1, $2, decode(h, 'hex') FROM unnest($3::text[]) AS h ON CONFLICT DO NOTHING`,
        [tenantId, pointId, live],
      );
    }
    const liveSet = new Set(live);
    return { missing: wanted.filter((h) => !liveSet.has(h)) };
  });
}

export interface GcOptions {
  readonly now: Date;
  /** Chunks touched within this long are kept even with no upload in flight. */
  readonly graceMs: number;
  /** Pending chunks older than this are considered abandoned by their writer. */
  readonly pendingTimeoutMs: number;
  /** Most chunks marked per call. */
  readonly limit: number;
}

/**
 * Marks unreferenced, old-enough chunks 'deleting' and returns every chunk now safe to delete
 * (including ones a crashed earlier run had marked). Call `forgetChunks` with them next.
 */
export async function collectGarbageCandidates(db: SqlDatabase, tenantId: string, o: GcOptions): Promise<ChunkInfo[]> {
  requireId(tenantId, 'tenant');
  const { rows: oldest } = await db.query<{ started_at: Date | null }>(
    `SELECT min(started_at) AS started_at FROM restore_points WHERE tenant_id = $1 AND state = 'uploading'`,
    [tenantId],
  );
  const graceCutoff = o.now.getTime() - o.graceMs;
  const inFlight = oldest[0]?.started_at?.getTime() ?? Infinity;
  const cutoff = new Date(Math.min(graceCutoff, inFlight));
  const pendingCutoff = new Date(o.now.getTime() - o.pendingTimeoutMs);
  // Rule 3. The row conditions are repeated outside the sub-select so PostgreSQL re-checks them on
  // the newest row version when a concurrent reserve touched the row while we waited for it.
  await db.query(
    `UPDATE chunks SET state = 'deleting'
     WHERE tenant_id = $1
       AND ((state = 'live' AND touched_at < $2) OR (state = 'pending' AND touched_at < $3))
       AND NOT EXISTS (SELECT 1 FROM chunk_refs r WHERE r.tenant_id = chunks.tenant_id AND r.hash = chunks.hash)
       AND hash IN (
         SELECT c.hash FROM chunks c
         WHERE c.tenant_id = $1
           AND ((c.state = 'live' AND c.touched_at < $2) OR (c.state = 'pending' AND c.touched_at < $3))
           AND NOT EXISTS (SELECT 1 FROM chunk_refs r WHERE r.tenant_id = c.tenant_id AND r.hash = c.hash)
         LIMIT $4)`,
    [tenantId, cutoff, pendingCutoff, o.limit],
  );
  // Rule 4: a new statement outside the marking transaction sees every reference committed
  // before the marking did; such chunks live on.
  await db.query(
    `UPDATE chunks SET state = 'live'
     WHERE tenant_id = $1 AND state = 'deleting'
       AND EXISTS (SELECT 1 FROM chunk_refs r WHERE r.tenant_id = chunks.tenant_id AND r.hash = chunks.hash)`,
    [tenantId],
  );
  const { rows } = await db.query<ChunkInfo>(
    `SELECT encode(hash, 'hex') AS hash, size FROM chunks WHERE tenant_id = $1 AND state = 'deleting' ORDER BY hash LIMIT $2`,
    [tenantId, o.limit],
  );
  return rows;
}

/**
 * Deletes chunks GC marked: locks those still 'deleting' (skipping rows another collector holds),
 * lets `removeFiles` delete their files, then drops the rows — all in one transaction (rule 5).
 * Returns the chunks removed. If `removeFiles` throws, nothing is forgotten. `removeFiles` must
 * not call the catalog: the embedded engine has one connection, which this transaction holds.
 */
export async function forgetChunks(
  db: SqlDatabase,
  tenantId: string,
  hashes: readonly string[],
  removeFiles: (chunks: readonly ChunkInfo[]) => Promise<void>,
): Promise<ChunkInfo[]> {
  const wanted = requireHashes(hashes);
  requireId(tenantId, 'tenant');
  if (wanted.length === 0) return [];
  return db.transaction(async (tx) => {
    const { rows } = await tx.query<ChunkInfo>(
      `SELECT encode(hash, 'hex') AS hash, size FROM chunks
       WHERE tenant_id = $1 AND state = 'deleting' AND hash = ANY(ARRAY(SELECT decode(h, 'hex') FROM unnest($2::text[]) AS h))
       ORDER BY hash FOR UPDATE SKIP LOCKED`,
      [tenantId, wanted],
    );
    if (rows.length === 0) return [];
    // Rule 4 again, now that the rows are locked: another collector may have marked a chunk whose
    // reference its marking statement could not see yet. Such a chunk lives on.
    const { rows: revived } = await tx.query<{ hash: string }>(
      `UPDATE chunks SET state = 'live'
       WHERE tenant_id = $1 AND hash = ANY(ARRAY(SELECT decode(h, 'hex') FROM unnest($2::text[]) AS h))
         AND EXISTS (SELECT 1 FROM chunk_refs r WHERE r.tenant_id = chunks.tenant_id AND r.hash = chunks.hash)
       RETURNING encode(hash, 'hex') AS hash`,
      [tenantId, rows.map((r) => r.hash)],
    );
    const keep = new Set(revived.map((r) => r.hash));
    const doomed = rows.filter((r) => !keep.has(r.hash));
    if (doomed.length === 0) return [];
    await removeFiles(doomed);
    await tx.query(
      `DELETE FROM chunks WHERE tenant_id = $1 AND state = 'deleting' AND hash = ANY(ARRAY(SELECT decode(h, 'hex') FROM unnest($2::text[]) AS h))`,
      [tenantId, doomed.map((r) => r.hash)],
    );
    return doomed;
  });
}
