/**
 * Which chunks the server already holds, with the stat of the blob it keeps (BackupServer.statChunks).
 * A manifest must record the stored blob's hash and length, and for a chunk uploaded by an earlier
 * backup only the server knows them (an encrypted blob differs on every upload: random nonce).
 */
import type { BackupServer } from '../../ports/backup-server.ts';

export type ChunkStatQuery = Pick<BackupServer, 'statChunks'>;

export const MAX_IDS_PER_QUERY = 4096;
