/**
 * The server's HTTP API end to end on loopback: a real server (embedded catalog, multi-tenant),
 * the agent adapter (`connectBackupServer`) and the operator client and CLI against it. One server
 * for the file (the embedded catalog's first start takes seconds); each test makes its own agents.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectBackupServer } from '../../../src/adapters/node/http-backup-server.ts';
import type { DataExtent } from '../../../src/core/backup/manifest.ts';
import { isRecoveryError } from '../../../src/core/errors.ts';
import { DEFAULT_RESTORE_OPTIONS, type RestoreJobSpec } from '../../../src/core/protocol/jobs.ts';
import { main } from '../../../src/main/cli.ts';
import { loadTlsMaterial } from '../../../src/server/tls.ts';
import { mustRun } from '../../helpers/run.ts';
import { agentIdentity, startTestServer, testBlock, uploadPoint, type TestServer } from '../../helpers/test-server.ts';
import { codeOf } from '../../helpers/error-code.ts';

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');


async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Runs `lifeline …` in this process; returns its exit code and output. */
async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (t) => (out += `${t}\n`), err: (t) => (err += `${t}\n`) });
  return { code, out, err };
}

function restoreSpec(setId: string, pointId: string): RestoreJobSpec {
  return { kind: 'restore', setId, pointId, disks: [{ sourceDisk: 0, targetDisk: '/dev/loop9', partitions: [], rebuild: 'full' }], options: DEFAULT_RESTORE_OPTIONS };
}

let s: TestServer;
let accessKey: string;

beforeAll(async () => {
  s = await startTestServer({ tenancy: 'multi', gcGraceMs: 0 });
  accessKey = (await s.admin.createAccessKey({ label: 'tests' })).key;
}, 60_000);

afterAll(async () => {
  await s?.stop();
});

describe('the agent flow', () => {
  it('register → admin binds → restore job "now" → nextRun → reports visible to operators and `job logs`', async () => {
    const blocks = [testBlock(1), testBlock(2), testBlock(3)];
    const source = await s.agent({ accessKey, identity: { hostname: 'source-pc' } });
    const point = await uploadPoint(source.client, 'source-pc', blocks);

    const target = await s.agent({ accessKey, bound: false, identity: { hostname: 'target-pc' } });
    expect(await target.client.heartbeat('idle')).toEqual({ bound: false });
    expect(await codeOf(target.client.nextRun())).toBe('agent.not-bound');
    const listed = (await s.admin.listTargets()).find((t) => t.agentId === target.agentId);
    expect(listed).toMatchObject({ hostname: 'target-pc', online: true, bound: false, firmware: 'uefi' });
    expect(listed?.inventory?.nics[0]?.mac).toBe('52:54:00:12:34:56');

    const operatorToken = (await s.admin.createToken({ name: 'olga', role: 'operator' })).token;
    const operator = s.operator(operatorToken);
    expect(await codeOf(operator.bind(target.agentId))).toBe('auth.forbidden');
    expect((await s.admin.bind(target.agentId)).bound).toBe(true);
    expect(await target.client.heartbeat('idle')).toEqual({ bound: true });

    const spec = restoreSpec(point.setId, point.pointId);
    const job = await operator.createJob({ name: 'restore target-pc', agentId: target.agentId, schedule: { kind: 'now' }, spec });
    expect(job.spec).toEqual(spec);
    const run = await eventually(() => target.client.nextRun());
    expect(run).toMatchObject({ jobId: job.jobId, jobName: 'restore target-pc', spec });
    // Asking again means the agent lost its work (killed, rebooted): it gets the same run back.
    expect(await target.client.nextRun()).toMatchObject({ runId: run?.runId });

    // The restore reads exactly what the backup wrote.
    const set = await target.client.getSet(point.setId);
    expect(set.tenantChunkKey).toBe((await source.client.getSet(point.setId)).tenantChunkKey);
    expect(await target.client.getManifest(point.pointId)).toEqual(point.manifest);
    for (const [i, extent] of point.manifest.disks[0]!.extents.entries()) {
      if (extent.kind !== 'data') continue;
      const blob = await target.client.getChunk(extent.chunkId);
      expect(sha256(point.codec.decode(blob, { id: extent.chunkId, storedHash: extent.storedHash }))).toBe(sha256(blocks[i] as Uint8Array));
    }

    await target.client.heartbeat('running', run.runId);
    await target.client.reportProgress(run.runId, {
      stage: 'writing', bytesDone: '65536', bytesTotal: '196608', disks: [{ targetDisk: '/dev/loop9', bytesDone: '65536', bytesTotal: '196608' }],
      networkBytesPerSecond: 1000, diskBytesPerSecond: 2000, etaSeconds: 3,
    });
    await target.client.appendEvents(run.runId, [
      { time: new Date().toISOString(), level: 'info', message: 'partition table written' },
      { time: new Date().toISOString(), level: 'warning', message: 'slow disk', data: { mbps: 3 } },
    ]);
    await target.client.mergeJournal(run.runId, { disks: { '/dev/loop9': [{ start: '0', length: '65536' }] }, marks: ['table written'] });
    await target.client.mergeJournal(run.runId, { disks: { '/dev/loop9': [{ start: '32768', length: '65536' }, { start: '131072', length: '512' }] }, marks: ['table written'] });
    expect(await target.client.getJournal(run.runId)).toEqual({
      disks: { '/dev/loop9': [{ start: '0', length: '98304' }, { start: '131072', length: '512' }] },
      marks: ['table written'],
    });

    const mid = await operator.getRun(run.runId);
    expect(mid).toMatchObject({ state: 'running', progress: { stage: 'writing', bytesDone: '65536' } });
    expect((await cli(['job', 'show', job.jobId, '--server', s.url, '--token', operatorToken])).out).toMatch(/running\s+schedule.*writing 33\.3%/);

    await target.client.finishRun(run.runId, {
      state: 'succeeded',
      steps: [{ step: 'checks', outcome: { status: 'done' } }, { step: 'drivers', outcome: { status: 'skipped', why: 'same hardware' } }],
      report: { restoredBytes: '196608' },
    });
    const done = await operator.getRun(run.runId);
    expect(done).toMatchObject({ state: 'succeeded', report: { restoredBytes: '196608' }, error: null });
    expect(done.steps.map((st) => st.outcome.status)).toEqual(['done', 'skipped']);
    // A finished restore's journal is cleared: the next run starts over.
    expect((await operator.logs(run.runId)).entries.map((e) => e.message)).toEqual(['partition table written', 'slow disk']);

    const logs = await cli(['job', 'logs', job.jobId, '--follow', '--server', s.url, '--token', operatorToken]);
    expect(logs.code).toBe(0);
    expect(logs.out).toMatch(/INFO\s+partition table written/);
    expect(logs.out).toMatch(/WARNING\s+slow disk \{"mbps":3\}/);
    expect(logs.out).toMatch(/run succeeded/);
    expect(await cli(['job', 'wait', job.jobId, '--server', s.url, '--token', operatorToken])).toMatchObject({ code: 0 });
    expect((await cli(['target', 'list', '--server', s.url, '--token', operatorToken])).out).toMatch(/target-pc\s+uefi\s+yes\s+yes/);
    // Finishing twice the same way is harmless; differently is refused.
    await target.client.finishRun(run.runId, { state: 'succeeded', steps: [] });
    expect(await codeOf(target.client.finishRun(run.runId, { state: 'failed', steps: [], error: { code: 'x', message: 'late' } }))).toBe('conflict');
  });

  it('`job restore` builds the job from flags; started by hand, cancelled, and `job wait` reports it', async () => {
    const source = await s.agent({ accessKey });
    await uploadPoint(source.client, 'manual-src', [testBlock(6)]);
    const point = await uploadPoint(source.client, 'manual-src', [testBlock(7)]);
    const target = await s.agent({ accessKey, identity: { hostname: 'manual-pc' } });
    const as = ['--server', s.url, '--token', s.adminToken];
    const created = await cli(['job', 'restore', '--json', ...as, '--target', target.agentId, '--set', point.setId, '--point', 'latest',
      '--disk', '0=/dev/loop9', '--rebuild', 'partial', '--schedule', 'manual', '--channels', '8', '--write-block-size', '1M',
      '--transfer-limit', '10 MiB/s', '--transfer-limit', '2 MiB/s mon-fri 08:00-18:00', '--no-verify', '--post-script', 'echo done',
      '--utc-offset=-300', '--name', 'by hand']);
    expect(created.err).toBe('');
    const job = JSON.parse(created.out) as { jobId: string; nextRunAt: string | null; spec: RestoreJobSpec };
    expect(job.nextRunAt).toBeNull();
    expect(job.spec).toEqual({
      kind: 'restore', setId: point.setId, pointId: point.pointId,
      disks: [{ sourceDisk: 0, targetDisk: '/dev/loop9', partitions: [], rebuild: 'partial' }],
      options: {
        ...DEFAULT_RESTORE_OPTIONS, channels: 8, writeBlockSize: 1024 * 1024, verify: false, postScript: 'echo done', utcOffsetMinutes: -300,
        transferLimit: { defaultBytesPerSecond: 10 * 1024 * 1024, windows: [{ days: [1, 2, 3, 4, 5], startMinute: 480, endMinute: 1080, bytesPerSecond: 2 * 1024 * 1024 }] },
      },
    });
    const refused = await cli(['job', 'restore', ...as, '--target', target.agentId, '--set', point.setId, '--disk', '7=/dev/loop9']);
    expect(refused).toMatchObject({ code: 1, err: expect.stringMatching(/error \[request\.malformed\]: the restore point has no disk 7/) });

    await new Promise((r) => setTimeout(r, 400)); // two scheduler ticks: a manual job is never due
    expect(await target.client.nextRun()).toBeUndefined();
    expect((await cli(['job', 'start', job.jobId, ...as])).code).toBe(0);
    expect(await codeOf(s.admin.startJob(job.jobId))).toBe('conflict');
    const run = await eventually(() => target.client.nextRun());
    expect((await cli(['job', 'cancel', job.jobId, ...as])).out).toMatch(/Cancelled run/);
    expect(await codeOf(target.client.reportProgress(run.runId, { stage: 'x', bytesDone: '0', bytesTotal: '0', disks: [], networkBytesPerSecond: 0, diskBytesPerSecond: 0 }))).toBe('conflict');
    const waited = await cli(['job', 'wait', job.jobId, '--json', ...as]);
    expect(waited.code).toBe(3);
    expect(JSON.parse(waited.out)).toMatchObject({ runId: run.runId, state: 'cancelled' });
    expect((await cli(['job', 'list', ...as])).out).toMatch(new RegExp(`${job.jobId}\\s+by hand\\s+restore`));
    expect((await cli(['target', 'show', target.agentId, ...as])).out).toMatch(/\/dev\/loop9\s+64\.0 MiB\s+512\/512/);
  });

  it('`key` and `token` commands manage credentials; a new key registers machines', async () => {
    const as = ['--server', s.url, '--token', s.adminToken];
    const key = await cli(['key', 'create', '--label', 'cli', '--json', ...as]);
    const created = JSON.parse(key.out) as { keyId: string; key: string };
    expect((await connectBackupServer({ url: s.url, accessKey: created.key }).register(agentIdentity())).bound).toBe(false);
    expect((await cli(['key', 'list', ...as])).out).toMatch(new RegExp(`${created.keyId}\\s+cli\\s+\\S+\\s+-`));
    expect((await cli(['key', 'revoke', created.keyId, ...as])).code).toBe(0);
    expect(await codeOf(connectBackupServer({ url: s.url, accessKey: created.key }).register(agentIdentity()))).toBe('auth.bad-access-key');
    const token = await cli(['token', 'create', '--name', 'carol', '--role', 'operator', ...as]);
    const carol = /\n {2}(llt_\S+)/.exec(token.out)?.[1] as string;
    expect(await s.operator(carol).listJobs()).toBeInstanceOf(Array);
    expect(await cli(['target', 'bind', '00000000-0000-4000-8000-000000000000', '--server', s.url, '--token', carol])).toMatchObject({ code: 1, err: expect.stringMatching(/\[auth\.forbidden\]/) });
    expect(await cli(['target', 'list', '--server', s.url])).toMatchObject({ code: 2, err: expect.stringMatching(/LIFELINE_TOKEN/) });
  });

  it('an agent reads only the sets, manifests and chunks its jobs reference (403 otherwise)', async () => {
    const source = await s.agent({ accessKey });
    const point = await uploadPoint(source.client, 'private-src', [testBlock(11)]);
    const stranger = await s.agent({ accessKey });
    const chunk = point.chunkIds[0] as string;
    expect(await codeOf(stranger.client.getChunk(chunk))).toBe('auth.forbidden');
    expect(await codeOf(stranger.client.getSet(point.setId))).toBe('auth.forbidden');
    expect(await codeOf(stranger.client.getManifest(point.pointId))).toBe('auth.forbidden');
    expect(await codeOf(stranger.client.beginPoint(point.setId))).toBe('auth.forbidden');
    // The owner wrote the set, but reading chunks back needs a job too.
    expect(await codeOf(source.client.getChunk(chunk))).toBe('auth.forbidden');

    await s.admin.createJob({ name: 'now allowed', agentId: stranger.agentId, schedule: { kind: 'manual' }, spec: restoreSpec(point.setId, point.pointId) });
    expect((await stranger.client.getChunk(chunk)).length).toBeGreaterThan(0);
    // Unbinding withdraws it again.
    await s.admin.unbind(stranger.agentId);
    expect(await codeOf(stranger.client.getChunk(chunk))).toBe('agent.not-bound');
  });

  it('serves TLS with the pinned self-signed certificate and refuses a wrong pin', async () => {
    for (const fingerprint of [s.fingerprint, s.fingerprint.replace(/:/g, '').toLowerCase()]) {
      const pinned = connectBackupServer({ url: s.tlsUrl, fingerprint, accessKey });
      try {
        expect((await pinned.register(agentIdentity())).bound).toBe(false);
        expect(await pinned.heartbeat('idle')).toEqual({ bound: false });
      } finally {
        await pinned.close();
      }
    }
    const wrong = connectBackupServer({ url: s.tlsUrl, fingerprint: 'AB'.repeat(32), accessKey });
    const unpinned = connectBackupServer({ url: s.tlsUrl, accessKey });
    try {
      expect(await codeOf(wrong.register(agentIdentity()))).toBe('tls.fingerprint-mismatch');
      expect(await codeOf(unpinned.register(agentIdentity()))).toBe('tls.untrusted');
    } finally {
      await wrong.close();
      await unpinned.close();
    }
    expect(await s.admin.health()).toMatchObject({ status: 'ok', protocol: 1, multiTenant: true, tlsFingerprint: s.fingerprint });

    // The printed fingerprint is the certificate's, as openssl computes it; --cert/--key load the same pair.
    const certFile = join(s.dataDir, 'tls', 'server.crt');
    expect((await mustRun('openssl', ['x509', '-noout', '-fingerprint', '-sha256', '-in', certFile])).trim()).toBe(`sha256 Fingerprint=${s.fingerprint}`);
    const given = await loadTlsMaterial(s.dataDir, { certFile, keyFile: join(s.dataDir, 'tls', 'server.key') });
    expect(given).toMatchObject({ fingerprint256: s.fingerprint, created: false });
  });

  it('maps a dead server to a retryable network.unreachable', async () => {
    const dead = connectBackupServer({ url: 'http://127.0.0.1:9', timeoutMs: 2000 });
    try {
      const error = await dead.register(agentIdentity()).catch((e: unknown) => e);
      expect(isRecoveryError(error) && error.code === 'network.unreachable' && error.retryable).toBe(true);
    } finally {
      await dead.close();
    }
  });
});

describe('backup data', () => {
  it('a restore point is listed only once committed, and commits only when every chunk is held', async () => {
    const agent = await s.agent({ accessKey });
    const blocks = [testBlock(21), testBlock(22)];
    const point = await uploadPoint(agent.client, 'visibility', blocks, { commit: false });
    expect((await s.admin.getSet(point.setId)).points).toEqual([]);
    expect((await s.admin.getSet(point.setId, { allPoints: true })).points?.map((p) => p.state)).toEqual(['uploading']);
    expect(await codeOf(s.admin.getManifest(point.pointId))).toBe('not-found');
    expect(await codeOf(s.admin.createJob({ name: 'too early', agentId: agent.agentId, schedule: { kind: 'now' }, spec: restoreSpec(point.setId, point.pointId) }))).toBe('conflict');
    expect((await cli(['set', 'show', point.setId, '--server', s.url, '--token', s.adminToken])).out).toMatch(/No restore points\./);

    const missing = structuredClone(point.manifest);
    const extent = missing.disks[0]!.extents[0]!;
    if (extent.kind === 'data') (extent as { chunkId: string }).chunkId = 'ab'.repeat(32);
    const refused = await agent.client.commitPoint(point.pointId, missing).catch((e: unknown) => e);
    expect(isRecoveryError(refused) && refused.code).toBe('manifest.missing-chunks');
    expect(isRecoveryError(refused) && refused.data['missing']).toEqual(['ab'.repeat(32)]);
    expect(await codeOf(agent.client.commitPoint(point.pointId, { ...point.manifest, setId: '00000000-0000-4000-8000-000000000000' }))).toBe('manifest.invalid');
    expect((await s.admin.getSet(point.setId)).points).toEqual([]);

    await agent.client.commitPoint(point.pointId, point.manifest);
    const points = (await s.admin.getSet(point.setId)).points ?? [];
    expect(points.map((p) => [p.pointId, p.state, p.stats['chunks']])).toEqual([[point.pointId, 'committed', 2]]);
    expect(await s.admin.getManifest(point.pointId)).toEqual(point.manifest);
    expect(await codeOf(agent.client.commitPoint(point.pointId, point.manifest))).toBe('conflict');
  });

  it('stores a chunk once: puts are idempotent, missingChunks and statChunks see it', async () => {
    const agent = await s.agent({ accessKey });
    const set = await agent.client.openSet({ resource: 'dedup', codec: 'lz4', blockSize: 65536 });
    expect((await agent.client.openSet({ resource: 'dedup', codec: 'none', blockSize: 131072 })).setId).toBe(set.setId);
    const point = await uploadPoint(agent.client, 'dedup', [testBlock(31)], { commit: false });
    const id = point.chunkIds[0] as string;
    const again = point.codec.encode(testBlock(31)); // another blob of the same plaintext
    const stat = await agent.client.putChunk(again.id, again.blob, again.storedHash);
    const first = point.manifest.disks[0]!.extents[0] as DataExtent;
    expect(stat).toEqual({ id, storedHash: first.storedHash, storedLength: first.storedLength });
    expect(await agent.client.missingChunks([id, 'cd'.repeat(32)])).toEqual(['cd'.repeat(32)]);
    expect(await agent.client.statChunks([id, 'cd'.repeat(32)])).toEqual([stat]);
    expect(await codeOf(agent.client.putChunk(again.id, again.blob, 'ef'.repeat(32)))).toBe('chunk.hash-mismatch');
  });

  it('stores several chunks in one request: stats in the order given, refusals before anything is stored', async () => {
    const agent = await s.agent({ accessKey });
    const held = await uploadPoint(agent.client, 'batch-write', [testBlock(51)], { commit: false });
    const [a, b, c] = [52, 53, 54].map((n) => held.codec.encode(testBlock(n)));
    const again = held.codec.encode(testBlock(51)); // already stored, as another blob
    const items = [a!, again, b!, a!].map((e) => ({ id: e.id, blob: e.blob, storedHash: e.storedHash }));
    const stats = await agent.client.putChunks(items);
    const first = held.manifest.disks[0]!.extents[0] as DataExtent;
    expect(stats).toEqual([
      { id: a!.id, storedHash: a!.storedHash, storedLength: a!.storedLength },
      { id: again.id, storedHash: first.storedHash, storedLength: first.storedLength }, // the blob the server kept
      { id: b!.id, storedHash: b!.storedHash, storedLength: b!.storedLength },
      { id: a!.id, storedHash: a!.storedHash, storedLength: a!.storedLength },
    ]);
    for (const e of [a!, b!]) {
      const [file] = (await mustRun('find', [join(s.dataDir, 'chunks'), '-name', e.id])).trim().split('\n');
      expect((await mustRun('sha256sum', [file!])).split(' ')[0]).toBe(e.storedHash);
    }
    expect(await agent.client.missingChunks([a!.id, b!.id, c!.id])).toEqual([c!.id]);

    // A wrong hash for the second blob refuses the batch, naming it; the first is not stored either.
    const d = held.codec.encode(testBlock(55));
    const wrong = await agent.client.putChunks([
      { id: c!.id, blob: c!.blob, storedHash: c!.storedHash }, { id: d.id, blob: d.blob, storedHash: 'ef'.repeat(32) },
    ]).catch((e: unknown) => e);
    expect(isRecoveryError(wrong) && wrong.code).toBe('chunk.hash-mismatch');
    expect(isRecoveryError(wrong) && wrong.data['id']).toBe(d.id);
    expect(await agent.client.missingChunks([c!.id, d.id])).toEqual([c!.id, d.id]);

  });

  it('reads several chunks in one request, in the order asked, all or nothing', async () => {
    const source = await s.agent({ accessKey });
    const point = await uploadPoint(source.client, 'batch-read', [testBlock(41), testBlock(42), testBlock(43)]);
    const other = await uploadPoint(source.client, 'batch-other', [testBlock(44)]);
    const reader = await s.agent({ accessKey });
    await s.admin.createJob({ name: 'batch reader', agentId: reader.agentId, schedule: { kind: 'manual' }, spec: restoreSpec(point.setId, point.pointId) });
    const ids = [...point.chunkIds].reverse() as string[];
    const blobs = await reader.client.getChunks(ids);
    expect(blobs.map((b) => sha256(b))).toEqual(await Promise.all(ids.map(async (id) => sha256(await reader.client.getChunk(id)))));
    expect(blobs.map((b, i) => point.codec.decode(b, { id: ids[i]! }))).toEqual([testBlock(43), testBlock(42), testBlock(41)]);

    // One chunk outside the agent's jobs refuses the whole request, naming it.
    const stray = other.chunkIds[0] as string;
    const refused = await reader.client.getChunks([ids[0]!, stray]).catch((e: unknown) => e);
    expect(isRecoveryError(refused) && refused.code).toBe('auth.forbidden');
    expect(isRecoveryError(refused) && JSON.stringify(refused.data)).toContain(stray);
    expect(await codeOf(reader.client.getChunks(Array.from({ length: 65 }, () => ids[0]!)))).toBe('request.malformed');
    expect(await codeOf(reader.client.getChunks([]))).toBe('request.malformed');
    expect(await codeOf(reader.client.getChunks(['not-an-id']))).toBe('request.malformed');
  });

  it('prune deletes old points and their chunks, but keeps chunks an unfinished backup references', async () => {
    // A tenant of its own: garbage collection is per tenant.
    const tenant = await s.admin.createTenant(`prune-${Date.now()}`);
    const key = (await s.admin.createAccessKey({ tenantId: tenant.tenantId })).key;
    const tenantAdminToken = (await s.admin.createToken({ name: 'prune-admin', role: 'admin', tenantId: tenant.tenantId })).token;
    const tenantAdmin = s.operator(tenantAdminToken);
    const agent = await s.agent({ accessKey: key, bound: false });
    await tenantAdmin.bind(agent.agentId);
    const shared = testBlock(41);
    const old = await uploadPoint(agent.client, 'pruned', [shared, testBlock(42)]);
    const newer = await uploadPoint(agent.client, 'pruned', [testBlock(43)]);
    // A backup in flight learns that `shared` is held (so it will not upload it) and uploads one new chunk.
    const set = await agent.client.openSet({ resource: 'pruned', codec: 'lz4', blockSize: 65536 });
    const inFlight = await agent.client.beginPoint(set.setId);
    const sharedId = old.chunkIds[0] as string;
    expect(await agent.client.missingChunks([sharedId])).toEqual([]);
    const fresh = old.codec.encode(testBlock(44));
    const freshStat = await agent.client.putChunk(fresh.id, fresh.blob, fresh.storedHash);

    const pruned = await cli(['set', 'prune', set.setId, '--keep', '1', '--json', '--server', s.url, '--token', tenantAdminToken]);
    expect(pruned.code).toBe(0);
    const result = JSON.parse(pruned.out) as { deletedPoints: string[]; keptPoints: string[]; removedChunks: number };
    expect(result.deletedPoints).toEqual([old.pointId]);
    expect(result.keptPoints).toEqual([newer.pointId]);
    expect(result.removedChunks).toBe(1); // old's second chunk only
    expect(await agent.client.missingChunks([...old.chunkIds, fresh.id])).toEqual([old.chunkIds[1]]);

    const oldExtent = old.manifest.disks[0]!.extents[0]!;
    if (oldExtent.kind !== 'data') throw new Error('data extent expected');
    const manifest = { ...old.manifest, pointSequence: inFlight.sequence, disks: [{ ...old.manifest.disks[0]!, extents: [
      oldExtent,
      { kind: 'data' as const, diskOffset: 65536n, length: 65536n, chunkId: fresh.id, storedHash: freshStat.storedHash, storedLength: freshStat.storedLength },
    ] }] };
    await agent.client.commitPoint(inFlight.pointId, manifest);
    expect((await tenantAdmin.getSet(set.setId)).points?.map((p) => p.sequence)).toEqual([newer.sequence, inFlight.sequence]);
    const tenantOperator = s.operator((await tenantAdmin.createToken({ name: 'op', role: 'operator' })).token);
    expect(await codeOf(tenantOperator.prune(set.setId, 1))).toBe('auth.forbidden');
  });
});
