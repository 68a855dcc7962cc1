/**
 * The catalog against both engines it supports: PGlite in a temp folder and a real PostgreSQL
 * server started for the run. One suite, `describeCatalog`, runs unchanged on each. Then a
 * kill -9 durability test of the embedded engine. One database per engine for the whole file
 * (PGlite's first start takes seconds); every test makes its own tenants, so tests stay apart.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRecoveryError } from '../../../src/core/errors.ts';
import type { Schedule } from '../../../src/core/schedule.ts';
import { Catalog } from '../../../src/server/catalog/catalog.ts';
import { migrate } from '../../../src/server/catalog/migrations.ts';
import { describeLocation, openDatabase } from '../../../src/server/catalog/open-database.ts';
import { PgliteDatabase } from '../../../src/server/catalog/pglite-database.ts';
import { roleAllows } from '../../../src/server/catalog/roles.ts';
import type { SqlDatabase } from '../../../src/server/catalog/sql-database.ts';
import type { ByteRange, JobInput } from '../../../src/server/catalog/types.ts';
import { startPostgres, type PostgresServer } from '../../helpers/postgres.ts';
import { tempDir } from '../../helpers/run.ts';
import { codeOf } from '../../helpers/error-code.ts';

/** The RecoveryError code a promise rejects with. */

const hashOf = (text: string): string => createHash('sha256').update(text).digest('hex');
const T0 = new Date('2025-06-01T00:00:00Z');
const MINUTE = 60_000;

type MakeDb = () => Promise<{ db: SqlDatabase; cleanup: () => Promise<void> }>;

function describeCatalog(engine: string, makeDb: MakeDb): void {
  describe(`catalog on ${engine}`, () => {
    let catalog: Catalog;
    let db: SqlDatabase;
    let cleanup: () => Promise<void>;
    let now = T0;
    let serial = 0;
    const advance = (ms: number): Date => (now = new Date(now.getTime() + ms));
    const unique = (what: string): string => `${what}-${++serial}`;

    beforeAll(async () => {
      ({ db, cleanup } = await makeDb());
      catalog = await Catalog.open(db, { clock: () => now, agentOfflineAfterMs: MINUTE, gcGraceMs: 10 * MINUTE, gcPendingTimeoutMs: 60 * MINUTE });
    });
    afterAll(async () => {
      await catalog?.close();
      await cleanup?.();
    });

    /** A tenant with a bound machine, one disk, a pool and a backup set of that disk. */
    async function machine(tenantId?: string) {
      const tenant = tenantId ?? (await catalog.createTenant(unique('tenant'))).id;
      const agent = await catalog.registerAgent(tenant, { machineId: unique('smbios'), hostname: unique('host'), firmware: 'uefi', hardware: { nics: [] } });
      await catalog.bindAgent(tenant, agent.id, 'admin@test');
      const disk = await catalog.upsertResource(tenant, agent.id, { name: 'Disk 0', diskIdentity: unique('gpt'), sizeBytes: 64n << 30n, sectorSize: 512 });
      const pool = await catalog.createPool(tenant, { name: unique('pool'), kind: 'local', config: { path: '/srv/lifeline/pool' } });
      const set = await catalog.createBackupSet(tenant, { name: unique('set'), resourceId: disk.id, poolId: pool.id, encryption: null, codec: 'lz4', blockSize: 262144 });
      return { tenant, agent: agent.id, disk: disk.id, pool: pool.id, set: set.id };
    }

    /** Reserves, "writes" and records chunks, as the upload handler does. */
    async function storeChunks(tenant: string, hashes: readonly string[]): Promise<void> {
      for (const h of hashes) {
        if ((await catalog.reserveChunk(tenant, h, 1000)) === 'write') await catalog.recordChunk(tenant, h);
      }
    }

    /** A committed point referencing `hashes`. */
    async function committedPoint(tenant: string, set: string, hashes: readonly string[]): Promise<string> {
      const point = await catalog.beginRestorePoint(tenant, set);
      await storeChunks(tenant, hashes);
      expect((await catalog.addChunkRefs(tenant, point.id, hashes)).missing).toEqual([]);
      await catalog.commitRestorePoint(tenant, point.id, { manifest: { disks: [] } });
      return point.id;
    }

    function restoreJob(m: Awaited<ReturnType<typeof machine>>, point: string, schedule: Schedule = { kind: 'manual' }): JobInput {
      return {
        kind: 'restore',
        name: unique('restore'),
        agentId: m.agent,
        schedule,
        options: { driverUpdate: true, writeBlockSize: 262144 },
        spec: { setId: m.set, pointId: point, diskMapping: [{ source: 'gpt:src', target: 'gpt:dst' }], partitions: 'all', rebuild: 'full' },
      };
    }

    it('opens through the connection string and migrates idempotently', async () => {
      expect(db.engine).toBe(engine === 'PostgreSQL' ? 'postgres' : 'pglite');
      expect(await migrate(db)).toEqual([]);
      const { rows } = await db.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
      expect(rows.map((r) => r.version)).toEqual([1]);
      await db.query(`INSERT INTO schema_migrations (version, name) VALUES (999, 'from the future')`);
      try {
        expect(await codeOf(migrate(db))).toBe('catalog.schema-too-new');
      } finally {
        await db.query('DELETE FROM schema_migrations WHERE version = 999');
      }
    });

    it('maps int8 to bigint both ways, beyond 2^53', async () => {
      const big = (1n << 60n) + 7n;
      const { rows } = await db.query<{ v: bigint }>('SELECT $1::int8 + 1 AS v', [big]);
      expect(rows[0]!.v).toBe(big + 1n);
    });

    it('finds an agent’s tenant by access key; the key is optional only in single-tenant mode', async () => {
      const t = await catalog.createTenant(unique('acme'));
      const { key, info } = await catalog.createAccessKey(t.id, 'agents');
      expect(key).toMatch(/^llk_[A-Za-z0-9_-]{43}$/);
      const stored = await db.query('SELECT * FROM access_keys WHERE id = $1', [info.id]);
      expect(JSON.stringify(stored.rows, (_k, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v))).not.toContain(key);
      expect(Buffer.from(stored.rows[0]!['key_hash'] as Uint8Array).toString('hex')).toBe(hashOf(key));

      const defaultTenant = await catalog.defaultTenant();
      expect(await catalog.getTenancy()).toBe('single');
      expect((await catalog.findTenantByAccessKey(undefined))?.id).toBe(defaultTenant.id);
      expect((await catalog.findTenantByAccessKey(key))?.id).toBe(t.id);
      expect(await catalog.findTenantByAccessKey('llk_wrong')).toBeNull();
      await catalog.setTenancy('multi');
      try {
        expect(await catalog.findTenantByAccessKey(undefined)).toBeNull();
        expect(await catalog.findTenantByAccessKey('')).toBeNull();
        expect((await catalog.findTenantByAccessKey(key))?.id).toBe(t.id);
        await catalog.revokeAccessKey(t.id, info.id);
        expect(await catalog.findTenantByAccessKey(key)).toBeNull();
      } finally {
        await catalog.setTenancy('single');
      }
      expect((await catalog.listAccessKeys(t.id))[0]?.revokedAt).toEqual(now);
      expect(await codeOf(catalog.createTenant(t.name))).toBe('catalog.conflict');
    });

    it('authenticates operator tokens by hash, with their role; revoked tokens fail', async () => {
      const t = await catalog.createTenant(unique('ops'));
      const admin = await catalog.createOperatorToken(t.id, { name: 'alice', role: 'admin' });
      const operator = await catalog.createOperatorToken(t.id, { name: 'bob', role: 'operator' });
      expect(await catalog.authenticateToken(admin.token)).toEqual({ tokenId: admin.identity.tokenId, tenantId: t.id, name: 'alice', role: 'admin' });
      expect((await catalog.authenticateToken(operator.token))?.role).toBe('operator');
      expect(await catalog.authenticateToken(admin.token + 'x')).toBeNull();
      expect(await catalog.authenticateToken('')).toBeNull();
      await catalog.revokeOperatorToken(t.id, operator.identity.tokenId);
      expect(await catalog.authenticateToken(operator.token)).toBeNull();
      const { rows } = await db.query<{ last_used_at: Date }>('SELECT last_used_at FROM operator_tokens WHERE id = $1', [admin.identity.tokenId]);
      expect(rows[0]!.last_used_at).toEqual(now);

      expect(roleAllows('admin', 'agent.bind')).toBe(true);
      expect(roleAllows('admin', 'job.create')).toBe(true);
      expect(roleAllows('operator', 'job.create')).toBe(true);
      expect(roleAllows('operator', 'job.run')).toBe(true);
      for (const adminOnly of ['agent.bind', 'agent.unbind', 'pool.manage', 'key.manage', 'token.manage'] as const) {
        expect(roleAllows('operator', adminOnly), adminOnly).toBe(false);
      }
    });

    it('registers agents (again: same id, binding kept), derives online from heartbeat age, binds and unbinds', async () => {
      const t = (await catalog.createTenant(unique('fleet'))).id;
      const first = await catalog.registerAgent(t, { machineId: 'uuid-1', hostname: 'pe-1', firmware: 'bios', hardware: { disks: 1 } });
      expect(first).toMatchObject({ bound: false, online: true, registeredAt: now, lastHeartbeat: now });
      await catalog.bindAgent(t, first.id, 'alice');
      advance(5 * MINUTE);
      const again = await catalog.registerAgent(t, { machineId: 'uuid-1', hostname: 'pe-1b', firmware: 'uefi', hardware: { disks: 2 } });
      expect(again).toMatchObject({ id: first.id, hostname: 'pe-1b', firmware: 'uefi', hardware: { disks: 2 }, registeredAt: first.registeredAt, bound: true, boundBy: 'alice' });

      advance(MINUTE + 1);
      expect((await catalog.listAgents(t)).map((a) => a.online)).toEqual([false]);
      await catalog.heartbeat(t, first.id);
      expect((await catalog.listAgents(t))[0]?.online).toBe(true);
      expect((await catalog.listAgents(t, new Date(now.getTime() + MINUTE)))[0]?.online).toBe(true);
      expect((await catalog.listAgents(t, new Date(now.getTime() + MINUTE + 1)))[0]?.online).toBe(false);

      expect((await catalog.unbindAgent(t, first.id)).bound).toBe(false);
      const disk = await catalog.upsertResource(t, first.id, { name: 'Disk 0', diskIdentity: 'mbr:1234abcd', sizeBytes: 1n << 40n, sectorSize: 4096 });
      const grown = await catalog.upsertResource(t, first.id, { name: 'Disk 0', diskIdentity: 'mbr:1234abcd', sizeBytes: 2n << 40n, sectorSize: 4096 });
      expect(grown.id).toBe(disk.id);
      expect((await catalog.listResources(t, first.id)).map((r) => r.sizeBytes)).toEqual([2n << 40n]);
      expect(await codeOf(catalog.registerAgent(t, { machineId: 'x', hostname: 'x', firmware: 'efi' as 'uefi', hardware: {} }))).toBe('catalog.invalid');
    });

    it('keeps tenants apart: reads see only their own rows, writes with foreign ids are not found', async () => {
      const a = await machine();
      const point = await committedPoint(a.tenant, a.set, [hashOf('a1')]);
      const job = await catalog.createJob(a.tenant, restoreJob(a, point));
      const run = await catalog.startRun(a.tenant, job.id);
      await catalog.mergeJournal(a.tenant, job.id, 'disk0', [{ start: 0n, end: 512n }]);
      const b = (await catalog.createTenant(unique('other'))).id;

      expect(await catalog.listAgents(b)).toEqual([]);
      expect(await catalog.getAgent(b, a.agent)).toBeNull();
      expect(await catalog.listResources(b, a.agent)).toEqual([]);
      expect(await catalog.listPools(b)).toEqual([]);
      expect(await catalog.listBackupSets(b)).toEqual([]);
      expect(await catalog.getBackupSet(b, a.set)).toBeNull();
      expect(await catalog.listRestorePoints(b, a.set, { includeUncommitted: true })).toEqual([]);
      expect(await catalog.getRestorePoint(b, point)).toBeNull();
      expect(await catalog.listJobs(b)).toEqual([]);
      expect(await catalog.getJob(b, job.id)).toBeNull();
      expect(await catalog.getRun(b, run.id)).toBeNull();
      expect(await catalog.listRuns(b, job.id)).toEqual([]);
      expect((await catalog.getJournal(b, job.id)).size).toBe(0);
      expect(await catalog.knownChunks(b, [hashOf('a1')])).toEqual(new Set());
      expect(await catalog.agentMayReadSet(b, a.agent, a.set)).toBe(false);
      expect(await catalog.dueJobs(new Date('2100-01-01T00:00:00Z'), b)).toEqual([]);

      const bAgent = await catalog.registerAgent(b, { machineId: unique('m'), hostname: 'b', firmware: 'uefi', hardware: {} });
      await catalog.bindAgent(b, bAgent.id, 'bob');
      const notFound = [
        catalog.heartbeat(b, a.agent),
        catalog.bindAgent(b, a.agent, 'mallory'),
        catalog.upsertResource(b, a.agent, { name: 'x', diskIdentity: 'x', sizeBytes: 1n, sectorSize: 512 }),
        catalog.createBackupSet(b, { name: 'steal', resourceId: a.disk, poolId: a.pool, encryption: null, codec: 'none', blockSize: 65536 }),
        catalog.beginRestorePoint(b, a.set),
        catalog.addChunkRefs(b, point, [hashOf('a1')]),
        catalog.commitRestorePoint(b, point, { manifest: {} }),
        catalog.deletePoint(b, point),
        catalog.createJob(b, { ...restoreJob(a, point), agentId: bAgent.id }),
        catalog.createJob(b, restoreJob(a, point)),
        catalog.startRun(b, job.id),
        catalog.updateRunProgress(b, run.id, { done: 1 }),
        catalog.finishRun(b, run.id, { state: 'cancelled' }),
        catalog.appendRunEvent(b, run.id, { at: now, level: 'info', message: 'x' }),
        catalog.appendRunLog(b, run.id, 'x'),
        catalog.mergeJournal(b, job.id, 'disk0', [{ start: 0n, end: 1n }]),
        catalog.deleteJob(b, job.id),
        catalog.setJobEnabled(b, job.id, false),
        catalog.heartbeat(b, 'not-a-uuid'),
      ];
      expect(await Promise.all(notFound.map(codeOf))).toEqual(notFound.map(() => 'catalog.not-found'));
      // Nothing of A's changed.
      expect((await catalog.getRun(a.tenant, run.id))?.state).toBe('queued');
      expect((await catalog.getJournal(a.tenant, job.id)).get('disk0')).toEqual([{ start: 0n, end: 512n }]);
      expect((await catalog.getAgent(a.tenant, a.agent))?.boundBy).toBe('admin@test');
    });

    it('makes a restore point visible only when it commits, with every referenced chunk live', async () => {
      const m = await machine();
      const point = await catalog.beginRestorePoint(m.tenant, m.set);
      expect(point).toMatchObject({ state: 'uploading', sequence: 1, committedAt: null });
      expect(await catalog.listRestorePoints(m.tenant, m.set)).toEqual([]);
      expect((await catalog.listRestorePoints(m.tenant, m.set, { includeUncommitted: true })).map((p) => p.id)).toEqual([point.id]);
      expect(await codeOf(catalog.createJob(m.tenant, restoreJob(m, point.id)))).toBe('catalog.point-not-committed');

      const [h1, h2, h3] = [hashOf('p1'), hashOf('p2'), hashOf('p3')];
      await storeChunks(m.tenant, [h1, h2]);
      expect(await catalog.reserveChunk(m.tenant, h3, 1000)).toBe('write'); // reserved, file not yet durable
      expect(await catalog.knownChunks(m.tenant, [h1, h2, h3])).toEqual(new Set([h1, h2]));
      expect((await catalog.addChunkRefs(m.tenant, point.id, [h1, h2, h3, h1])).missing).toEqual([h3]);
      expect(await codeOf(catalog.commitRestorePoint(m.tenant, point.id, { manifestHash: h3 }))).toBe('catalog.missing-chunks');
      expect(await catalog.listRestorePoints(m.tenant, m.set)).toEqual([]);

      await catalog.recordChunk(m.tenant, h3);
      const committed = await catalog.commitRestorePoint(m.tenant, point.id, { manifestHash: h3, stats: { bytes: 3000 } });
      expect(committed).toMatchObject({ state: 'committed', committedAt: now, manifest: null, manifestHash: h3, stats: { bytes: 3000 } });
      expect((await catalog.listRestorePoints(m.tenant, m.set)).map((p) => p.id)).toEqual([point.id]);
      expect(await codeOf(catalog.commitRestorePoint(m.tenant, point.id, { manifest: {} }))).toBe('catalog.point-not-uploading');
      expect(await codeOf(catalog.addChunkRefs(m.tenant, point.id, [h1]))).toBe('catalog.point-not-uploading');
      const refs = await db.query<{ n: bigint }>('SELECT count(*) AS n FROM chunk_refs WHERE point_id = $1', [point.id]);
      expect(refs.rows[0]!.n).toBe(3n); // h1, h2 and the manifest chunk h3

      const concurrent = await Promise.all(Array.from({ length: 6 }, () => catalog.beginRestorePoint(m.tenant, m.set)));
      expect(concurrent.map((p) => p.sequence).sort((x, y) => x - y)).toEqual([2, 3, 4, 5, 6, 7]);
    });

    it('garbage collection keeps what committed points, uploading points and in-flight uploads need', async () => {
      const m = await machine();
      const [old, shared, fresh, orphan, pending] = ['old', 'shared', 'fresh', 'orphan', 'pending'].map(hashOf) as [string, string, string, string, string];
      const p1 = await committedPoint(m.tenant, m.set, [old, shared]);
      await storeChunks(m.tenant, [orphan]); // stored, never referenced
      advance(30 * MINUTE);
      const upload = await catalog.beginRestorePoint(m.tenant, m.set); // in flight from now on
      expect((await catalog.addChunkRefs(m.tenant, upload.id, [shared])).missing).toEqual([]);
      advance(MINUTE);
      await storeChunks(m.tenant, [fresh]); // stored by the upload, not referenced yet
      await catalog.reserveChunk(m.tenant, pending, 1000); // being written
      await catalog.deletePoint(m.tenant, p1);
      advance(30 * MINUTE);

      // old: unreferenced now, stored long before the upload began → garbage. orphan: the same.
      // shared: the uploading point references it. fresh: stored after the upload began.
      // pending: a writer is still at work (pending timeout not reached).
      const candidates = await catalog.collectGarbageCandidates(m.tenant);
      expect(candidates.map((c) => c.hash).sort()).toEqual([old, orphan].sort());
      expect(candidates.every((c) => c.size === 1000)).toBe(true);

      // Marked chunks are no longer known, cannot be referenced, and cannot be re-uploaded yet.
      expect(await catalog.knownChunks(m.tenant, [old, shared, fresh])).toEqual(new Set([shared, fresh]));
      expect((await catalog.addChunkRefs(m.tenant, upload.id, [old, fresh])).missing).toEqual([old]);
      const deleting = await catalog.reserveChunk(m.tenant, old, 1000).catch((e: unknown) => e);
      expect(isRecoveryError(deleting) && deleting.code === 'catalog.chunk-deleting' && deleting.retryable).toBe(true);

      const removed: string[] = [];
      const forgotten = await catalog.forgetChunks(m.tenant, [old, orphan, shared], async (chunks) => {
        removed.push(...chunks.map((c) => c.hash));
      });
      expect(forgotten.map((c) => c.hash).sort()).toEqual([old, orphan].sort());
      expect(removed.sort()).toEqual([old, orphan].sort());
      expect(await catalog.reserveChunk(m.tenant, old, 1000)).toBe('write'); // uploadable again

      // Later, no upload in flight: 'old' (re-reserved above, never stored: a dead writer) and the
      // unreferenced 'pending' go; the committed upload still references 'shared' and 'fresh'.
      await catalog.recordChunk(m.tenant, pending);
      await catalog.commitRestorePoint(m.tenant, upload.id, { manifest: { disks: [] } });
      advance(2 * 60 * MINUTE);
      const later = await catalog.collectGarbageCandidates(m.tenant);
      expect(later.map((c) => c.hash).sort()).toEqual([old, pending].sort());
    });

    it('reserves and records a batch of chunks in one statement each, with every chunk’s own outcome', async () => {
      const m = await machine();
      const [live, fresh, other, marked] = ['b-live', 'b-fresh', 'b-other', 'b-marked'].map(hashOf) as [string, string, string, string];
      await storeChunks(m.tenant, [marked]);
      advance(60 * MINUTE);
      expect((await catalog.collectGarbageCandidates(m.tenant)).map((c) => c.hash)).toContain(marked);
      await storeChunks(m.tenant, [live]);
      await catalog.reserveChunk(m.tenant, other, 1000); // a writer with 1000 bytes is at work

      const reserved = await catalog.reserveChunks(m.tenant, [
        { hash: live, size: 1000 }, { hash: fresh, size: 500 }, { hash: other, size: 999 }, { hash: marked, size: 1000 },
      ]);
      expect(Object.fromEntries(reserved)).toEqual({ [live]: 'exists', [fresh]: 'write', [other]: 'other-size', [marked]: 'deleting' });
      expect(await catalog.knownChunks(m.tenant, [fresh])).toEqual(new Set()); // pending until recorded

      await catalog.recordChunks(m.tenant, [fresh]);
      expect(await catalog.knownChunks(m.tenant, [live, fresh, marked])).toEqual(new Set([live, fresh]));
      // A chunk nobody reserved cannot be recorded: the batch names it and nothing of it changes.
      const never = hashOf('b-never');
      const lost = await catalog.recordChunks(m.tenant, [live, never]).catch((e: unknown) => e);
      expect(isRecoveryError(lost) && lost.code === 'catalog.chunk-not-reserved' && lost.retryable && lost.message.includes(never)).toBe(true);
      const twice = await catalog.reserveChunks(m.tenant, [{ hash: fresh, size: 500 }, { hash: fresh, size: 500 }]).catch((e: unknown) => e);
      expect(isRecoveryError(twice) && twice.code === 'catalog.invalid').toBe(true);
    });

    it('garbage collection revives a marked chunk whose reference its marking could not see, and never deletes its file', async () => {
      const m = await machine();
      const [hidden, garbage] = [hashOf('hidden'), hashOf('garbage')];
      await committedPoint(m.tenant, m.set, [hidden]);
      await storeChunks(m.tenant, [garbage]);
      advance(60 * MINUTE);
      // What a marking statement that raced a reference insert leaves behind.
      await db.query(`UPDATE chunks SET state = 'deleting' WHERE hash = decode($1, 'hex')`, [hidden]);
      const candidates = await catalog.collectGarbageCandidates(m.tenant);
      expect(candidates.map((c) => c.hash)).toEqual([garbage]);
      expect(await catalog.knownChunks(m.tenant, [hidden])).toEqual(new Set([hidden]));

      // Same race, but seen only at deletion time: the chunk is revived there, its file kept.
      await db.query(`UPDATE chunks SET state = 'deleting' WHERE hash = decode($1, 'hex')`, [hidden]);
      const removed: string[] = [];
      const forgotten = await catalog.forgetChunks(m.tenant, [hidden, garbage], async (chunks) => {
        removed.push(...chunks.map((c) => c.hash));
      });
      expect(removed).toEqual([garbage]);
      expect(forgotten.map((c) => c.hash)).toEqual([garbage]);
      expect(await catalog.knownChunks(m.tenant, [hidden, garbage])).toEqual(new Set([hidden]));
    });

    it('forgets nothing when deleting the files fails, and finishes on the next try', async () => {
      const m = await machine();
      const h = hashOf('stubborn');
      await storeChunks(m.tenant, [h]);
      advance(60 * MINUTE);
      expect((await catalog.collectGarbageCandidates(m.tenant)).map((c) => c.hash)).toEqual([h]);
      await expect(catalog.forgetChunks(m.tenant, [h], async () => Promise.reject(new Error('EIO')))).rejects.toThrow('EIO');
      expect((await catalog.collectGarbageCandidates(m.tenant)).map((c) => c.hash)).toEqual([h]);
      expect((await catalog.forgetChunks(m.tenant, [h], async () => {})).map((c) => c.hash)).toEqual([h]);
      expect(await catalog.collectGarbageCandidates(m.tenant)).toEqual([]);
    });

    it('never collects a referenced chunk while uploads and collectors run concurrently', async () => {
      const m = await machine();
      const hashes = Array.from({ length: 24 }, (_, i) => hashOf(`race-${i}`));
      await storeChunks(m.tenant, hashes);
      advance(60 * MINUTE); // all old and unreferenced: every one is a GC candidate unless referenced
      // Five are marked before the uploads start, so every engine exercises the re-upload path.
      const premarked = (await catalog.collectGarbageCandidates(m.tenant, { limit: 5 })).map((c) => c.hash);
      expect(premarked).toHaveLength(5);
      // Collect until nothing is left to collect: re-uploaded chunks are fresh, so this ends.
      const collector = async (): Promise<number> => {
        let removed = 0;
        for (let round = 0; round < 1000; round++) {
          const candidates = await catalog.collectGarbageCandidates(m.tenant, { limit: 5 });
          if (candidates.length === 0) return removed;
          removed += (await catalog.forgetChunks(m.tenant, candidates.map((c) => c.hash), async () => {})).length;
        }
        throw new Error('garbage collection did not settle');
      };
      const reuploaded = new Set<string>();
      const uploader = async (offset: number): Promise<void> => {
        const point = await catalog.beginRestorePoint(m.tenant, m.set);
        let missing = hashes.filter((_, i) => i % 3 === offset);
        for (let attempt = 0; missing.length > 0; attempt++) {
          if (attempt === 1000) throw new Error(`still missing ${missing.length} chunk(s)`);
          missing = (await catalog.addChunkRefs(m.tenant, point.id, missing)).missing;
          for (const h of missing) {
            // Upload again what GC took; while GC still deletes it, the catalog says retry.
            await storeChunks(m.tenant, [h]).then(
              () => reuploaded.add(h),
              (e: unknown) => {
                if (!(isRecoveryError(e) && e.retryable)) throw e;
              },
            );
          }
          if (missing.length > 0) await new Promise((resolve) => setTimeout(resolve, 2));
        }
        await catalog.commitRestorePoint(m.tenant, point.id, { manifest: { part: offset } });
      };
      const [removedA, removedB] = await Promise.all([collector(), collector(), uploader(0), uploader(1), uploader(2)]);
      console.info(`${engine}: GC removed ${removedA + removedB} chunk(s) during the uploads; ${reuploaded.size} uploaded again`);
      // A marked chunk can be neither referenced nor revived: it must have gone and come back.
      expect([...reuploaded]).toEqual(expect.arrayContaining(premarked));
      const { rows } = await db.query<{ hash: string; state: string }>(
        `SELECT encode(r.hash, 'hex') AS hash, c.state FROM chunk_refs r JOIN restore_points p ON p.id = r.point_id
         LEFT JOIN chunks c ON c.tenant_id = r.tenant_id AND c.hash = r.hash WHERE p.tenant_id = $1`,
        [m.tenant],
      );
      expect(rows).toHaveLength(hashes.length);
      expect(rows.filter((r) => r.state !== 'live')).toEqual([]);
    });

    it('deletes points in batches, refuses while a job names one, and finishes an interrupted deletion', async () => {
      const m = await machine();
      const hashes = Array.from({ length: 5 }, (_, i) => hashOf(`del-${i}`));
      const used = await committedPoint(m.tenant, m.set, hashes);
      const job = await catalog.createJob(m.tenant, restoreJob(m, used));
      expect(await codeOf(catalog.deletePoint(m.tenant, used))).toBe('catalog.point-in-use');
      await catalog.deleteJob(m.tenant, job.id);
      await catalog.deletePoint(m.tenant, used);
      expect(await catalog.getRestorePoint(m.tenant, used)).toBeNull();

      const interrupted = await committedPoint(m.tenant, m.set, hashes);
      await db.query(`UPDATE restore_points SET state = 'deleting' WHERE id = $1`, [interrupted]); // crash after step 1
      expect(await catalog.listRestorePoints(m.tenant, m.set)).toEqual([]);
      advance(60 * MINUTE);
      const candidates = await catalog.collectGarbageCandidates(m.tenant);
      expect(await catalog.getRestorePoint(m.tenant, interrupted)).toBeNull();
      expect(candidates.map((c) => c.hash).sort()).toEqual([...hashes].sort());
    });

    it('runs the seven schedules through dueJobs, startRun and the job’s next run', async () => {
      now = new Date('2025-06-01T08:00:00Z');
      const m = await machine();
      const point = await committedPoint(m.tenant, m.set, [hashOf('sched')]);
      const created = now;
      const nowJob = await catalog.createJob(m.tenant, restoreJob(m, point, { kind: 'now' }));
      const manual = await catalog.createJob(m.tenant, restoreJob(m, point, { kind: 'manual' }));
      const onceAt = new Date(created.getTime() + 90 * MINUTE);
      const once = await catalog.createJob(m.tenant, restoreJob(m, point, { kind: 'once', at: onceAt.toISOString() }));
      const daily = await catalog.createJob(m.tenant, {
        kind: 'backup',
        name: unique('nightly'),
        agentId: m.agent,
        schedule: { kind: 'daily', everyDays: 1, at: '02:00', startDate: '2025-01-01', utcOffsetMinutes: 480 },
        options: { compression: 'fast', channels: 1 },
        spec: { setIds: [m.set] },
      });
      expect(await codeOf(catalog.createJob(m.tenant, restoreJob(m, point, { kind: 'hourly', every: 1, unit: 'hours', from: '00:00', to: '23:59', startDate: '2025-01-01', utcOffsetMinutes: 0 })))).toBe('catalog.invalid');
      expect(await codeOf(catalog.createJob(m.tenant, restoreJob(m, point, { kind: 'daily' } as Schedule)))).toBe('schedule.invalid');

      const dueIds = async (at: Date): Promise<string[]> => (await catalog.dueJobs(at, m.tenant)).map((j) => j.id);
      expect(nowJob.nextRunAt).toEqual(created);
      expect(manual.nextRunAt).toBeNull();
      expect(daily.nextRunAt).toEqual(new Date('2025-06-01T18:00:00Z')); // 02:00 at UTC+8
      expect(await dueIds(created)).toEqual([nowJob.id]);

      const run = await catalog.startRun(m.tenant, nowJob.id, 'schedule');
      expect((await catalog.getJob(m.tenant, nowJob.id))?.nextRunAt).toBeNull();
      expect(await codeOf(catalog.startRun(m.tenant, nowJob.id))).toBe('catalog.job-busy');
      expect(await dueIds(new Date(created.getTime() + 100 * MINUTE))).toEqual([once.id]);

      // Missed runs of a recurring job are not replayed: three days late, it runs once.
      const late = new Date('2025-06-04T19:00:00Z');
      expect(await dueIds(late)).toEqual([once.id, daily.id]); // earliest due first
      now = late;
      await catalog.startRun(m.tenant, daily.id, 'schedule');
      expect((await catalog.getJob(m.tenant, daily.id))?.nextRunAt).toEqual(new Date('2025-06-05T18:00:00Z'));
      expect(await dueIds(late)).toEqual([once.id]);

      // Disabled jobs are not due; enabling a recurring job plans from now.
      await catalog.setJobEnabled(m.tenant, once.id, false);
      expect(await dueIds(late)).toEqual([]);
      expect(await codeOf(catalog.startRun(m.tenant, once.id))).toBe('catalog.job-disabled');
      await catalog.finishRun(m.tenant, run.id, { state: 'cancelled' });
      expect(await codeOf(catalog.deleteJob(m.tenant, daily.id))).toBe('catalog.job-busy');

      // The scheduler's cross-tenant view.
      const other = await machine();
      const otherPoint = await committedPoint(other.tenant, other.set, [hashOf('other')]);
      const otherJob = await catalog.createJob(other.tenant, restoreJob(other, otherPoint, { kind: 'now' }));
      const all = (await catalog.dueJobs(now)).map((j) => j.id);
      expect(all).toContain(otherJob.id);
      expect(await dueIds(now)).not.toContain(otherJob.id);
    });

    it('tracks a run from queued to ended, with progress, events and log', async () => {
      const m = await machine();
      const point = await committedPoint(m.tenant, m.set, [hashOf('run')]);
      const job = await catalog.createJob(m.tenant, restoreJob(m, point));
      const stranger = await machine(m.tenant);
      const queued = await catalog.startRun(m.tenant, job.id);
      expect(queued).toMatchObject({ state: 'queued', trigger: 'manual', startedAt: null });
      expect(await codeOf(catalog.updateRunProgress(m.tenant, queued.id, { bytes: 1 }))).toBe('catalog.run-not-active');
      expect(await catalog.claimRun(m.tenant, stranger.agent)).toBeNull();
      advance(1000);
      const claimed = await catalog.claimRun(m.tenant, m.agent);
      expect(claimed?.run).toMatchObject({ id: queued.id, state: 'running', startedAt: now });
      expect(claimed?.job.id).toBe(job.id);
      // An agent asks again only after it was interrupted (killed, rebooted): it gets the same run
      // back, with its first start time, to resume it.
      advance(1000);
      const reclaimed = await catalog.claimRun(m.tenant, m.agent);
      expect(reclaimed?.run).toMatchObject({ id: queued.id, state: 'running', startedAt: claimed?.run.startedAt });
      expect(await catalog.claimRun(m.tenant, stranger.agent)).toBeNull();

      expect((await catalog.updateRunProgress(m.tenant, queued.id, { bytesDone: 4096, bytesTotal: 8192 })).progress).toEqual({ bytesDone: 4096, bytesTotal: 8192 });
      const events = [];
      for (const message of ['checks passed', 'partition table written', 'volume 1 restored']) {
        events.push(await catalog.appendRunEvent(m.tenant, queued.id, { at: now, level: 'info', message, data: { step: message } }));
      }
      await catalog.appendRunLog(m.tenant, queued.id, 'bcdboot C:\\Windows /f UEFI\n');
      expect((await catalog.listRunEvents(m.tenant, queued.id)).map((e) => e.message)).toEqual(['checks passed', 'partition table written', 'volume 1 restored']);
      expect((await catalog.listRunEvents(m.tenant, queued.id, events[0]!.id)).map((e) => e.id)).toEqual([events[1]!.id, events[2]!.id]);
      expect((await catalog.readRunLog(m.tenant, queued.id)).map((l) => l.text)).toEqual(['bcdboot C:\\Windows /f UEFI\n']);

      expect(await codeOf(catalog.finishRun(m.tenant, queued.id, { state: 'failed' }))).toBe('catalog.invalid');
      const failed = await catalog.finishRun(m.tenant, queued.id, { state: 'failed', error: { code: 'restore.target-too-small', message: 'Disk 1 is 10 GiB short' }, report: { written: 0 } });
      expect(failed).toMatchObject({ state: 'failed', endedAt: now, errorCode: 'restore.target-too-small', report: { written: 0 } });
      expect(await catalog.finishRun(m.tenant, queued.id, { state: 'failed', error: { code: 'x', message: 'retried request' } })).toEqual(failed);
      expect(await codeOf(catalog.finishRun(m.tenant, queued.id, { state: 'succeeded' }))).toBe('catalog.run-not-active');
      expect((await catalog.listRuns(m.tenant, job.id)).map((r) => r.state)).toEqual(['failed']);
      expect((await catalog.startRun(m.tenant, job.id)).state).toBe('queued'); // a new run may start
    });

    it('lets an agent read a set only through a job assigned to it while it is bound', async () => {
      const m = await machine();
      const point = await committedPoint(m.tenant, m.set, [hashOf('read')]);
      const target = await catalog.registerAgent(m.tenant, { machineId: unique('target'), hostname: 'winpe', firmware: 'uefi', hardware: {} });
      const job = restoreJob({ ...m, agent: target.id }, point);
      expect(await codeOf(catalog.createJob(m.tenant, job))).toBe('catalog.agent-unbound');
      await catalog.bindAgent(m.tenant, target.id, 'alice');
      const created = await catalog.createJob(m.tenant, job);
      const other = await machine(m.tenant);

      expect(await catalog.agentMayReadSet(m.tenant, target.id, m.set)).toBe(true);
      expect(await catalog.agentMayReadSet(m.tenant, target.id, other.set)).toBe(false);
      expect(await catalog.agentMayReadSet(m.tenant, other.agent, m.set)).toBe(false);
      expect(await catalog.agentMayReadSet(m.tenant, target.id, 'nonsense')).toBe(false);
      await catalog.unbindAgent(m.tenant, target.id);
      expect(await catalog.agentMayReadSet(m.tenant, target.id, m.set)).toBe(false);
      await catalog.bindAgent(m.tenant, target.id, 'alice');
      await catalog.deleteJob(m.tenant, created.id);
      expect(await catalog.agentMayReadSet(m.tenant, target.id, m.set)).toBe(false);

      // A backup job: its agent may read the sets it writes; it may name only its own disks' sets.
      const backup: JobInput = { kind: 'backup', name: unique('b'), agentId: m.agent, schedule: { kind: 'manual' }, options: {}, spec: { setIds: [m.set] } };
      await catalog.createJob(m.tenant, backup);
      expect(await catalog.agentMayReadSet(m.tenant, m.agent, m.set)).toBe(true);
      expect(await codeOf(catalog.createJob(m.tenant, { ...backup, spec: { setIds: [other.set] } }))).toBe('catalog.not-found');

      // A backup job created before its set exists (an encrypted set the machine makes) names none
      // until addJobSet names the set, once; never another machine's set, never for a restore job.
      const waiting = await catalog.createJob(m.tenant, { ...backup, name: unique('first-encrypted'), spec: { setIds: [] } });
      expect(waiting.spec).toMatchObject({ setIds: [] });
      expect(await codeOf(catalog.addJobSet(m.tenant, waiting.id, other.set))).toBe('catalog.not-found');
      expect((await catalog.addJobSet(m.tenant, waiting.id, m.set)).spec).toMatchObject({ setIds: [m.set] });
      expect((await catalog.addJobSet(m.tenant, waiting.id, m.set)).spec).toMatchObject({ setIds: [m.set] });
      expect((await catalog.getJob(m.tenant, waiting.id))?.spec).toMatchObject({ setIds: [m.set] });
      expect(await codeOf(catalog.addJobSet(m.tenant, created.id, m.set))).toBe('catalog.not-found'); // deleted above
      const restoreAgain = await catalog.createJob(m.tenant, job);
      expect(await codeOf(catalog.addJobSet(m.tenant, restoreAgain.id, m.set))).toBe('catalog.invalid');
    });

    it('merges resume journal ranges per disk: touching and overlapping ranges join, repeats change nothing', async () => {
      const m = await machine();
      const point = await committedPoint(m.tenant, m.set, [hashOf('journal')]);
      const job = await catalog.createJob(m.tenant, restoreJob(m, point));
      const r = (start: bigint, end: bigint): ByteRange => ({ start, end });
      expect(await catalog.mergeJournal(m.tenant, job.id, 'disk0', [r(0n, 100n), r(200n, 300n)])).toEqual([r(0n, 100n), r(200n, 300n)]);
      expect(await catalog.mergeJournal(m.tenant, job.id, 'disk0', [r(100n, 200n)])).toEqual([r(0n, 300n)]);
      expect(await catalog.mergeJournal(m.tenant, job.id, 'disk0', [r(100n, 200n)])).toEqual([r(0n, 300n)]);
      expect(await catalog.mergeJournal(m.tenant, job.id, 'disk0', [r(250n, 400n), r(500n, 600n)])).toEqual([r(0n, 400n), r(500n, 600n)]);
      const far = 1n << 60n;
      await catalog.mergeJournal(m.tenant, job.id, 'disk1', [r(far, far + 4096n)]);
      expect(await catalog.getJournal(m.tenant, job.id)).toEqual(new Map([['disk0', [r(0n, 400n), r(500n, 600n)]], ['disk1', [r(far, far + 4096n)]]]));
      expect(await codeOf(catalog.mergeJournal(m.tenant, job.id, 'disk0', [r(10n, 10n)]))).toBe('catalog.invalid');
      expect(await codeOf(catalog.mergeJournal(m.tenant, job.id, 'disk0', [r(-1n, 10n)]))).toBe('catalog.invalid');

      // Concurrent writers (channels) each add one 1 MiB extent; the journal ends as one range.
      const MiB = 1n << 20n;
      await Promise.all(Array.from({ length: 16 }, (_, i) => catalog.mergeJournal(m.tenant, job.id, 'disk2', [r(BigInt(i) * MiB, BigInt(i + 1) * MiB)])));
      expect((await catalog.getJournal(m.tenant, job.id)).get('disk2')).toEqual([r(0n, 16n * MiB)]);

      await catalog.clearJournal(m.tenant, job.id);
      expect((await catalog.getJournal(m.tenant, job.id)).size).toBe(0);
    });
  });
}

describeCatalog('PGlite', async () => {
  const dir = await tempDir('lifeline-catalog-');
  const db = await openDatabase(join(dir.path, 'catalog'));
  return { db, cleanup: dir.cleanup };
});

let postgres: PostgresServer | null = null;
let skipped = '';
const started = await startPostgres();
if ('server' in started) postgres = started.server;
else {
  skipped = started.skipped;
  console.warn(`Skipping the catalog suite on PostgreSQL: ${skipped}`);
}
describe.skipIf(postgres === null)('PostgreSQL server', () => {
  afterAll(async () => postgres?.stop());
  describeCatalog('PostgreSQL', async () => ({ db: await openDatabase(postgres!.url), cleanup: async () => {} }));
});

describe('the embedded engine', () => {
  it('names no password when it describes a connection string', () => {
    expect(describeLocation('postgres://lifeline:s3cret@db.example:5432/catalog')).toBe('postgres://lifeline:***@db.example:5432/catalog');
    expect(describeLocation('/var/lib/lifeline/catalog')).toBe('/var/lib/lifeline/catalog');
  });

  it('is locked while another process uses it, keeps every acknowledged commit across kill -9, and reopens cleanly', async () => {
    const dir = await tempDir('lifeline-crash-');
    const dataDir = join(dir.path, 'catalog');
    try {
      const script = fileURLToPath(new URL('../../helpers/catalog-commit-loop.ts', import.meta.url));
      const child = spawn(process.execPath, ['--import', 'tsx', script, dataDir], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let output = '';
      let setId = '';
      let lastAck = 0;
      const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
      const firstAck = new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (data: Buffer) => {
          output += data.toString('utf8');
          // Only complete lines count: a torn last line was not acknowledged.
          for (const line of output.split('\n').slice(0, -1)) {
            const ack = /^ack (\d+)$/.exec(line);
            if (ack !== null) lastAck = Math.max(lastAck, Number(ack[1]));
            const set = /^set (\S+)$/.exec(line);
            if (set !== null) setId = set[1]!;
          }
          if (lastAck > 0) resolve();
        });
        void exited.then(() => reject(new Error(`child exited early:\n${output}`)));
      });
      await firstAck;
      // PGlite has no lock of its own; ours keeps a second process out while the child lives.
      expect(await codeOf(PgliteDatabase.open(dataDir))).toBe('catalog.locked');
      const delay = 100 + Math.floor(Math.random() * 900);
      await new Promise((resolve) => setTimeout(resolve, delay));
      child.kill('SIGKILL');
      expect(await exited).toBe('SIGKILL');
      console.info(`kill -9 after ${delay} ms; last acknowledged restore point: ${lastAck}`);

      // The stale lock of the dead child is taken over; PostgreSQL replays its WAL.
      const catalog = await Catalog.open(await PgliteDatabase.open(dataDir));
      try {
        const tenant = await catalog.defaultTenant();
        const points = await catalog.listRestorePoints(tenant.id, setId, { includeUncommitted: true });
        const sequences = points.map((p) => p.sequence);
        const last = sequences.length;
        expect(sequences).toEqual(Array.from({ length: last }, (_, i) => i + 1));
        expect(last === lastAck || last === lastAck + 1).toBe(true); // +1: committed, killed before printing
        // Both statements of each transaction or neither: the counter matches the points.
        const { rows } = await catalog.db.query<{ next_sequence: number }>('SELECT next_sequence FROM backup_sets WHERE id = $1', [setId]);
        expect(rows[0]!.next_sequence).toBe(last + 1);
        expect((await catalog.beginRestorePoint(tenant.id, setId)).sequence).toBe(last + 1);
      } finally {
        await catalog.close();
      }
    } finally {
      await dir.cleanup();
    }
  });
});
