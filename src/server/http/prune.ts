/**
 * `prune --keep N`: delete a set's older committed points and its abandoned uploads, then collect the
 * tenant's garbage. The
 * catalog decides which chunks are safe to delete (none that an upload in flight references or
 * may still reference); this only deletes the blobs it hands over, inside its transaction.
 */
import { isRecoveryError } from '../../core/errors.ts';
import type { PruneResult } from '../../core/protocol/schemas.ts';
import type { ChunkStore } from '../../ports/chunk-store.ts';
import type { Catalog } from '../catalog/catalog.ts';

const GC_BATCH = 10_000;

export async function pruneSet(catalog: Catalog, store: ChunkStore, tenantId: string, setId: string, keep: number): Promise<PruneResult> {
  const all = await catalog.listRestorePoints(tenantId, setId, { includeUncommitted: true });
  const points = all.filter((p) => p.state === 'committed');
  // An upload older than a committed point of its set was abandoned (its agent crashed, then backed up
  // again): it would pin garbage collection's cutoff for ever.
  const newest = points[points.length - 1]?.sequence ?? 0;
  const abandonedUploads: string[] = [];
  for (const p of all.filter((p) => p.state === 'uploading' && p.sequence < newest)) {
    await catalog.deletePoint(tenantId, p.id);
    abandonedUploads.push(p.id);
  }
  const doomed = points.slice(0, Math.max(0, points.length - keep));
  const deletedPoints: string[] = [];
  const keptPoints = points.slice(doomed.length).map((p) => p.id);
  for (const point of doomed) {
    try {
      await catalog.deletePoint(tenantId, point.id);
      deletedPoints.push(point.id);
    } catch (e) {
      // A restore job still names it: it stays until that job is deleted.
      if (!isRecoveryError(e) || e.code !== 'catalog.point-in-use') throw e;
      keptPoints.push(point.id);
    }
  }
  const { removedChunks, freedBytes } = await collectGarbage(catalog, store, tenantId);
  return { deletedPoints, keptPoints, abandonedUploads, removedChunks, freedBytes };
}

export async function collectGarbage(catalog: Catalog, store: ChunkStore, tenantId: string): Promise<{ removedChunks: number; freedBytes: number }> {
  let removedChunks = 0;
  let freedBytes = 0;
  for (;;) {
    const candidates = await catalog.collectGarbageCandidates(tenantId, { limit: GC_BATCH });
    if (candidates.length === 0) break;
    const removed = await catalog.forgetChunks(tenantId, candidates.map((c) => c.hash), async (chunks) => {
      for (const c of chunks) await store.delete(c.hash);
    });
    removedChunks += removed.length;
    freedBytes += removed.reduce((sum, c) => sum + c.size, 0);
    if (removed.length === 0 || candidates.length < GC_BATCH) break;
  }
  return { removedChunks, freedBytes };
}
