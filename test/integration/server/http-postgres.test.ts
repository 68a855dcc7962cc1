/**
 * The server with its catalog on a PostgreSQL server (`--database postgres://…`) instead of the
 * embedded engine: the agent flow, uploads, commit, restore reads and prune, over HTTP. Skipped,
 * with the reason printed, where no PostgreSQL binaries are installed.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DEFAULT_RESTORE_OPTIONS } from '../../../src/core/protocol/jobs.ts';
import { startPostgresTestServer, testBlock, uploadPoint, type TestServer } from '../../helpers/test-server.ts';

let s: TestServer | undefined;
let skipped: string | undefined;

beforeAll(async () => {
  const started = await startPostgresTestServer({ gcGraceMs: 0 });
  if ('skipped' in started) {
    skipped = started.skipped;
    console.log(`PostgreSQL variant skipped: ${skipped}`);
  } else {
    s = started.server;
  }
}, 120_000);

afterAll(async () => {
  await s?.stop();
});

it('runs the agent flow with a PostgreSQL catalog', async (ctx) => {
  if (s === undefined) return ctx.skip();
  const source = await s.agent();
  const old = await uploadPoint(source.client, 'pg-source', [testBlock(1), testBlock(2)]);
  const point = await uploadPoint(source.client, 'pg-source', [testBlock(1), testBlock(3)]);
  expect(s.server.catalog.db.engine).toBe('postgres');

  const target = await s.agent({ bound: false });
  await s.admin.bind(target.agentId);
  await s.admin.createJob({
    name: 'pg restore', agentId: target.agentId, schedule: { kind: 'now' },
    spec: { kind: 'restore', setId: point.setId, pointId: point.pointId, disks: [{ sourceDisk: 0, targetDisk: 'disk.img', partitions: [], rebuild: 'full' }], options: DEFAULT_RESTORE_OPTIONS },
  });
  let run = await target.client.nextRun();
  for (let i = 0; run === undefined && i < 100; i++) {
    await new Promise((r) => setTimeout(r, 100));
    run = await target.client.nextRun();
  }
  expect(run?.spec).toMatchObject({ kind: 'restore', pointId: point.pointId });
  const extent = point.manifest.disks[0]!.extents[1]!;
  if (extent.kind !== 'data') throw new Error('data extent expected');
  const plain = point.codec.decode(await target.client.getChunk(extent.chunkId), { id: extent.chunkId, storedHash: extent.storedHash });
  expect(createHash('sha256').update(plain).digest('hex')).toBe(createHash('sha256').update(testBlock(3)).digest('hex'));
  await target.client.finishRun(run!.runId, { state: 'failed', steps: [{ step: 'checks', outcome: { status: 'failed', code: 'disk.too-small', message: 'target too small' } }], error: { code: 'disk.too-small', message: 'target too small' } });
  expect(await s.admin.getRun(run!.runId)).toMatchObject({ state: 'failed', error: { code: 'disk.too-small' } });

  const pruned = await s.admin.prune(point.setId, 1);
  expect(pruned).toMatchObject({ deletedPoints: [old.pointId], removedChunks: 1 });
  expect(await source.client.missingChunks([...old.chunkIds, ...point.chunkIds])).toEqual([old.chunkIds[1]]);
}, 60_000);
