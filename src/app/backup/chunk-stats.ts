/**
 * Which chunks the server already holds, with the stat of the blob it keeps. A manifest must record
 * the stored blob's hash and length, and for a chunk uploaded by an earlier backup only the server
 * knows them (an encrypted blob differs on every upload: random nonce). The BackupServer port's
 * `missingChunks` answers with ids only, so skipping held chunks needs a server that also offers
 * `statChunks` (the HTTP adapter does: POST /v1/chunks/stat); with any other server every distinct
 * chunk of a backup is uploaded once (the server keeps the first copy and `putChunk` returns its
 * stat), which is correct but does not dedup across backups.
 */
import type { BackupServer } from '../../ports/backup-server.ts';
import type { ChunkStat } from '../../ports/chunk-store.ts';

export interface ChunkStatQuery {
  /** Stats of the ids the server holds; ids it lacks are left out. At most 4096 ids per call. */
  statChunks(ids: readonly string[]): Promise<readonly ChunkStat[]>;
}

export const MAX_IDS_PER_QUERY = 4096;

export function chunkStatQueryOf(server: BackupServer): ChunkStatQuery | undefined {
  const statChunks = (server as BackupServer & Partial<ChunkStatQuery>).statChunks;
  return typeof statChunks === 'function' ? { statChunks: (ids) => statChunks.call(server, ids) } : undefined;
}
