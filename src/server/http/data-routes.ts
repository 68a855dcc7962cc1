/**
 * Backup data: sets, restore points, chunks and manifests. Uploads follow the catalog's rules
 * (reserve the chunk, store the blob durably, record it, reference it from the upload's point), so
 * a prune running at the same time never removes what an unfinished backup still needs; a point
 * becomes visible only in its commit, after every chunk its manifest names is held.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { parseChunkBlob } from '../../core/backup/chunk-format.ts';
import { manifestToJson, referencedChunks, validateManifest } from '../../core/backup/manifest.ts';
import type { BackupManifest } from '../../core/backup/manifest.ts';
import { RecoveryError, isRecoveryError } from '../../core/errors.ts';
import { CHUNK_WRITE_MAX_IDS, chunkReadRequestSchema, commitRequestSchema, missingRequestSchema, openSetRequestSchema, parseWith, type SetView } from '../../core/protocol/schemas.ts';
import type { ChunkStat } from '../../ports/chunk-store.ts';
import { chunkDeleting } from '../catalog/chunks.ts';
import type { BackupSet, JsonObject } from '../catalog/types.ts';
import type { AgentSets } from './agent-sets.ts';
import type { AgentCaller, Authenticator, Caller } from './auth.ts';
import { LIMITS, declaredLength, isMediaType, readBody, readJson, tooLarge } from './body.ts';
import { ChunkReadAccess } from './chunk-access.ts';
import type { ApiDeps } from './deps.ts';
import { refuse } from './errors.ts';
import type { Route } from './router.ts';
import type { UploadTracker } from './upload-tracker.ts';
import { pointView, wrappedKeyOf } from './views.ts';

/** Blob files one batched upload writes at once. */
const STORE_PARALLEL = 8;
const REF_BATCH = 4096;

export function dataRoutes(deps: ApiDeps, auth: Authenticator, sets: AgentSets, uploads: UploadTracker): Route[] {
  const { catalog } = deps;
  const chunkAccess = new ChunkReadAccess(catalog.db, () => deps.clock().getTime());

  async function setOf(tenantId: string, setId: string): Promise<BackupSet> {
    const set = await catalog.getBackupSet(tenantId, setId);
    if (set === null) throw refuse.notFound('backup set', setId);
    return set;
  }

  /** Agents read the sets of their own resources and those their jobs name; operators their tenant's. */
  async function mayRead(caller: Caller, set: BackupSet): Promise<void> {
    if (caller.kind === 'operator') return;
    if ((await sets.owns(caller.tenantId, caller.agentId, set)) || (await catalog.agentMayReadSet(caller.tenantId, caller.agentId, set.id))) return;
    throw refuse.forbidden(`backup set ${set.id} is not referenced by a job of this agent`, { setId: set.id });
  }

  async function mayWrite(caller: AgentCaller, set: BackupSet): Promise<void> {
    if (!(await sets.owns(caller.tenantId, caller.agentId, set))) throw refuse.forbidden(`backup set ${set.id} belongs to another machine`, { setId: set.id });
  }

  async function setView(caller: Caller, set: BackupSet, withPoints: 'committed' | 'all' | 'none'): Promise<SetView> {
    const resource = (await sets.resourceIndex(caller.tenantId)).get(set.resourceId);
    const wrappedKey = wrappedKeyOf(set.encryption);
    const points = withPoints === 'none' ? undefined : await catalog.listRestorePoints(caller.tenantId, set.id, { includeUncommitted: withPoints === 'all' });
    return {
      setId: set.id, name: set.name, resource: resource?.name ?? set.name, codec: set.codec === 'lz4' ? 'lz4' : 'none', blockSize: set.blockSize,
      encrypted: wrappedKey !== undefined, createdAt: set.createdAt.toISOString(),
      ...(resource ? { agentId: resource.agentId } : {}),
      ...(wrappedKey ? { wrappedKey } : {}),
      ...(caller.kind === 'agent' ? { tenantChunkKey: deps.secrets.tenantChunkKey(caller.tenantId) } : {}),
      ...(points ? { points: points.map(pointView) } : {}),
    };
  }

  /** Chunk ids whose chunks are not held (live); the held ones get referenced by the agent's upload. */
  async function referenceOrMissing(caller: AgentCaller, ids: readonly string[]): Promise<string[]> {
    const pointId = await uploads.pointOf(caller.tenantId, caller.agentId);
    if (pointId !== undefined) {
      try {
        return (await catalog.addChunkRefs(caller.tenantId, pointId, ids)).missing;
      } catch (e) {
        if (!isRecoveryError(e) || e.code !== 'catalog.point-not-uploading') throw e;
        uploads.ended(caller.tenantId, caller.agentId, pointId);
      }
    }
    const known = await catalog.knownChunks(caller.tenantId, ids);
    return ids.filter((id) => !known.has(id));
  }

  /**
   * Stores uploaded blobs (`PUT` one, `POST /v1/chunks/write` several): the catalog's steps run
   * once for all of them (lookup, reserve, record, reference), the files are written eight at a
   * time. Stats in the order given, of the blobs the server keeps.
   */
  async function storeChunks(caller: AgentCaller, items: readonly { readonly id: string; readonly blob: Uint8Array }[]): Promise<ChunkStat[]> {
    const store = await deps.storeOf(caller.tenantId);
    const unique = [...new Map(items.map((i) => [i.id, i])).values()];
    const stats = new Map<string, ChunkStat>();
    const known = await catalog.knownChunks(caller.tenantId, unique.map((i) => i.id));
    for (const item of unique.filter((i) => known.has(i.id))) {
      const stat = await store.stat(item.id);
      if (stat !== undefined) stats.set(item.id, stat);
    }
    const toStore = unique.filter((i) => !stats.has(i.id));
    const reserved = await catalog.reserveChunks(caller.tenantId, toStore.map((i) => ({ hash: i.id, size: i.blob.length })));
    const written: string[] = [];
    for (let at = 0; at < toStore.length; at += STORE_PARALLEL) {
      await Promise.all(toStore.slice(at, at + STORE_PARALLEL).map(async ({ id, blob }) => {
        const reservation = reserved.get(id);
        if (reservation === 'deleting') throw chunkDeleting(id);
        // Another writer holds the id with a blob of another length: let it finish first.
        const stat = reservation === 'write' ? await store.put(id, blob) : reservation === 'exists' ? await store.stat(id) : undefined;
        if (stat === undefined) throw new RecoveryError('server.busy', `chunk ${id} is being stored by another upload`, { retryable: true });
        if (reservation === 'write') written.push(id);
        stats.set(id, stat);
      }));
    }
    await catalog.recordChunks(caller.tenantId, written);
    await referenceOrMissing(caller, unique.map((i) => i.id));
    return items.map((i) => stats.get(i.id)!);
  }

  async function commit(caller: AgentCaller, pointId: string, manifest: BackupManifest): Promise<void> {
    const ids = [...referencedChunks(manifest).keys()];
    const missing: string[] = [];
    for (let i = 0; i < ids.length; i += REF_BATCH) missing.push(...(await catalog.addChunkRefs(caller.tenantId, pointId, ids.slice(i, i + REF_BATCH))).missing);
    if (missing.length > 0) {
      throw new RecoveryError('manifest.missing-chunks', `the manifest names ${missing.length} chunks the server does not hold`, { data: { missing: missing.slice(0, 20), count: missing.length } });
    }
    await catalog.commitRestorePoint(caller.tenantId, pointId, { manifest: manifestToJson(manifest) as unknown as JsonObject, stats: statsOf(manifest, ids.length) });
  }

  return [
    {
      method: 'POST', path: '/v1/sets',
      async handle({ req }) {
        const caller = await auth.boundAgent(req);
        const request = parseWith(openSetRequestSchema, await readJson(req), 'request.malformed');
        const set = await sets.open(caller.tenantId, caller.agentId, request, diskBytesOf(caller));
        return { json: await setView(caller, set, 'none') };
      },
    },
    {
      method: 'GET', path: '/v1/sets/:setId',
      async handle({ req, url, params }) {
        const caller = await auth.any(req);
        const set = await setOf(caller.tenantId, params.setId as string);
        await mayRead(caller, set);
        return { json: await setView(caller, set, url.searchParams.get('points') === 'all' ? 'all' : 'committed') };
      },
    },
    {
      method: 'POST', path: '/v1/sets/:setId/points',
      async handle({ req, params }) {
        const caller = await auth.boundAgent(req);
        await readJson(req);
        const set = await setOf(caller.tenantId, params.setId as string);
        await mayWrite(caller, set);
        const point = await catalog.beginRestorePoint(caller.tenantId, set.id);
        uploads.begun(caller.tenantId, caller.agentId, point.id);
        return { status: 201, json: { pointId: point.id, sequence: point.sequence } };
      },
    },
    {
      method: 'POST', path: '/v1/chunks/missing',
      async handle({ req }) {
        const caller = await auth.boundAgentCached(req);
        const { ids } = parseWith(missingRequestSchema, await readJson(req), 'request.malformed');
        return { json: { missing: await referenceOrMissing(caller, [...new Set(ids)]) } };
      },
    },
    {
      method: 'POST', path: '/v1/chunks/stat',
      async handle({ req }) {
        const caller = await auth.boundAgentCached(req);
        const { ids } = parseWith(missingRequestSchema, await readJson(req), 'request.malformed');
        const unique = [...new Set(ids)];
        const missing = new Set(await referenceOrMissing(caller, unique));
        const store = await deps.storeOf(caller.tenantId);
        const chunks: ChunkStat[] = [];
        for (const id of unique.filter((i) => !missing.has(i))) {
          const stat = await store.stat(id);
          if (stat !== undefined) chunks.push(stat);
        }
        return { json: { chunks } };
      },
    },
    {
      method: 'PUT', path: '/v1/chunks/:chunkId',
      async handle({ req, params }) {
        const caller = await auth.boundAgentCached(req);
        const storedHash = checkChunkUpload(req);
        const blob = await readBody(req, LIMITS.chunk);
        const actual = createHash('sha256').update(blob).digest('hex');
        if (actual !== storedHash) {
          throw new RecoveryError('chunk.hash-mismatch', `the uploaded bytes of chunk ${params.chunkId} do not hash to X-Lifeline-Stored-Sha256`, { data: { expected: storedHash, actual } });
        }
        parseChunkBlob(blob); // not a chunk blob at all: refused before the catalog reserves anything
        const [stat] = await storeChunks(caller, [{ id: params.chunkId as string, blob }]);
        return { json: stat };
      },
    },
    {
      // Several chunks in one upload: a backup's per-chunk catalog and HTTP costs paid once per
      // batch. Blobs end to end; ids, lengths and stored hashes in headers, in the same order.
      method: 'POST', path: '/v1/chunks/write',
      async handle({ req }) {
        const caller = await auth.boundAgentCached(req);
        const declared = checkChunkWrite(req);
        const body = await readBody(req, LIMITS.chunkWrite);
        const total = declared.lengths.reduce((a, b) => a + b, 0);
        if (body.length !== total) throw refuse.malformed(`the body holds ${body.length} bytes, X-Lifeline-Chunk-Lengths add up to ${total}`);
        const items: { id: string; blob: Uint8Array }[] = [];
        let at = 0;
        for (const [i, id] of declared.ids.entries()) {
          const blob = body.subarray(at, at + declared.lengths[i]!);
          at += blob.length;
          const actual = createHash('sha256').update(blob).digest('hex');
          if (actual !== declared.hashes[i]) {
            throw new RecoveryError('chunk.hash-mismatch', `the uploaded bytes of chunk ${id} do not hash to its X-Lifeline-Stored-Sha256 entry`, { data: { id, expected: declared.hashes[i]!, actual } });
          }
          items.push({ id, blob });
        }
        // Every blob arrived as sent before any is judged: then, not a chunk blob at all is refused
        // before the catalog reserves anything.
        for (const { blob } of items) parseChunkBlob(blob);
        return { json: { chunks: await storeChunks(caller, items) } };
      },
    },
    {
      method: 'GET', path: '/v1/chunks/:chunkId',
      async handle({ req, params }) {
        const caller = await auth.boundAgentCached(req);
        const id = params.chunkId as string;
        if (!(await chunkAccess.mayRead(caller.tenantId, caller.agentId, id))) {
          throw refuse.forbidden(`chunk ${id} is not part of a set this agent's jobs reference`, { chunkId: id });
        }
        const blob = await (await deps.storeOf(caller.tenantId)).get(id);
        return { bytes: blob, headers: { 'content-type': 'application/octet-stream' } };
      },
    },
    {
      // Several chunks in one answer: a restore's per-request costs (HTTP, credentials, access
      // check, file open) paid once for many chunks. Blobs in the order asked, lengths in a header.
      method: 'POST', path: '/v1/chunks/read',
      async handle({ req }) {
        const caller = await auth.boundAgentCached(req);
        const { ids } = parseWith(chunkReadRequestSchema, await readJson(req), 'request.malformed');
        for (const id of ids) {
          if (!(await chunkAccess.mayRead(caller.tenantId, caller.agentId, id))) {
            throw refuse.forbidden(`chunk ${id} is not part of a set this agent's jobs reference`, { chunkId: id });
          }
        }
        const store = await deps.storeOf(caller.tenantId);
        const blobs = await store.getMany(ids, LIMITS.chunkRead);
        if (blobs === 'too-large') {
          throw new RecoveryError('request.too-large', `these chunks hold more than ${LIMITS.chunkRead} bytes: ask for fewer at a time`, { data: { limit: LIMITS.chunkRead, ids: ids.length } });
        }
        return {
          bytes: blobs.bytes,
          headers: { 'content-type': 'application/octet-stream', 'x-lifeline-chunk-lengths': blobs.lengths.join(',') },
        };
      },
    },
    {
      method: 'POST', path: '/v1/points/:pointId/commit',
      async handle({ req, params }) {
        const caller = await auth.boundAgent(req);
        const body = parseWith(commitRequestSchema, await readJson(req, LIMITS.manifest), 'request.malformed');
        const pointId = params.pointId as string;
        const point = await catalog.getRestorePoint(caller.tenantId, pointId);
        if (point === null) throw refuse.notFound('restore point', pointId);
        await mayWrite(caller, await setOf(caller.tenantId, point.setId));
        if (point.state !== 'uploading') throw refuse.conflict(`restore point ${pointId} is ${point.state}, not uploading`, { pointId, state: point.state });
        const manifest = validateManifest(body.manifest);
        if (manifest.setId !== point.setId) {
          throw new RecoveryError('manifest.invalid', `the manifest is of set ${manifest.setId}, the point of set ${point.setId}`, { data: { path: 'setId' } });
        }
        await commit(caller, pointId, manifest);
        uploads.ended(caller.tenantId, caller.agentId, pointId);
        deps.log(`restore point ${point.sequence} of set ${point.setId} committed (${pointId})`);
        return undefined;
      },
    },
    {
      method: 'GET', path: '/v1/points/:pointId/manifest',
      async handle({ req, params }) {
        const caller = await auth.any(req);
        const pointId = params.pointId as string;
        const point = await catalog.getRestorePoint(caller.tenantId, pointId);
        if (point === null || point.state !== 'committed' || point.manifest === null) throw refuse.notFound('committed restore point', pointId);
        await mayRead(caller, await setOf(caller.tenantId, point.setId));
        return { json: point.manifest };
      },
    },
  ];
}

/** Checks a chunk upload's headers before its body is read; returns the declared stored hash. */
function checkChunkUpload(req: IncomingMessage): string {
  if (!isMediaType(req, 'application/octet-stream')) {
    throw new RecoveryError('request.unsupported-media-type', 'a chunk is uploaded as application/octet-stream', { data: { contentType: req.headers['content-type'] ?? null } });
  }
  const length = declaredLength(req);
  if (length === undefined) throw new RecoveryError('request.length-required', 'a chunk upload needs Content-Length');
  if (length > LIMITS.chunk) throw tooLarge(LIMITS.chunk);
  const storedHash = req.headers['x-lifeline-stored-sha256'];
  if (typeof storedHash !== 'string' || !/^[0-9a-f]{64}$/.test(storedHash)) {
    throw refuse.badParameter('X-Lifeline-Stored-Sha256 must be the SHA-256 of the body, 64 lower-case hex digits');
  }
  return storedHash;
}

/** The ids, lengths and stored hashes a batched upload declares, checked before its body is read. */
function checkChunkWrite(req: IncomingMessage): { ids: string[]; lengths: number[]; hashes: string[] } {
  if (!isMediaType(req, 'application/octet-stream')) {
    throw new RecoveryError('request.unsupported-media-type', 'chunks are uploaded as application/octet-stream', { data: { contentType: req.headers['content-type'] ?? null } });
  }
  const length = declaredLength(req);
  if (length === undefined) throw new RecoveryError('request.length-required', 'a chunk upload needs Content-Length');
  if (length > LIMITS.chunkWrite) throw tooLarge(LIMITS.chunkWrite);
  const list = (name: string, item: RegExp, what: string): string[] => {
    const header = req.headers[name];
    const items = typeof header === 'string' ? header.split(',').map((t) => t.trim()) : [];
    if (items.length === 0 || items.length > CHUNK_WRITE_MAX_IDS || !items.every((t) => item.test(t))) {
      throw refuse.badParameter(`${name} must list 1 to ${CHUNK_WRITE_MAX_IDS} ${what}, comma-separated`);
    }
    return items;
  };
  const ids = list('x-lifeline-chunk-ids', /^[0-9a-f]{64}$/, 'chunk ids');
  const lengths = list('x-lifeline-chunk-lengths', /^\d{1,10}$/, 'byte counts').map(Number);
  const hashes = list('x-lifeline-stored-sha256', /^[0-9a-f]{64}$/, 'SHA-256 digests of the blobs');
  if (lengths.length !== ids.length || hashes.length !== ids.length) {
    throw refuse.badParameter(`X-Lifeline-Chunk-Ids lists ${ids.length} chunks, X-Lifeline-Chunk-Lengths ${lengths.length}, X-Lifeline-Stored-Sha256 ${hashes.length}`);
  }
  if (lengths.some((n) => n > LIMITS.chunk)) throw tooLarge(LIMITS.chunk);
  return { ids, lengths, hashes };
}

function diskBytesOf(caller: AgentCaller): bigint {
  const disks = (caller.agent.hardware as { disks?: { sizeBytes?: unknown }[] }).disks ?? [];
  return disks.reduce((sum, d) => sum + (typeof d.sizeBytes === 'string' && /^\d+$/.test(d.sizeBytes) ? BigInt(d.sizeBytes) : 0n), 0n);
}

function statsOf(m: BackupManifest, chunks: number): JsonObject {
  let dataBytes = 0n;
  let storedBytes = 0;
  for (const d of m.disks) {
    for (const e of d.extents) {
      if (e.kind === 'data') {
        dataBytes += e.length;
        storedBytes += e.storedLength;
      }
    }
  }
  return { disks: m.disks.length, chunks, dataBytes: dataBytes.toString(), storedBytes, createdAt: m.createdAt };
}
