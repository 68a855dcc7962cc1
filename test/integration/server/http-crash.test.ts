/**
 * `kill -9` of a real `lifeline server` process while an agent uploads: on restart over the same
 * data folder the server comes up cleanly, the committed point is intact, the interrupted upload
 * left no restore point, and backups and restores work again.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { connectBackupServer } from '../../../src/adapters/node/http-backup-server.ts';
import { connectOperator } from '../../../src/adapters/node/http-operator-client.ts';
import { DEFAULT_RESTORE_OPTIONS } from '../../../src/core/protocol/jobs.ts';
import { main } from '../../../src/main/cli.ts';
import { tempDir } from '../../helpers/run.ts';
import { agentIdentity, testBlock, uploadPoint } from '../../helpers/test-server.ts';

const bin = join(fileURLToPath(new URL('../../../bin/lifeline.mjs', import.meta.url)));

interface Started {
  readonly child: ChildProcess;
  readonly url: string;
  readonly output: () => string;
}

/** Starts `lifeline server` and resolves once it listens. */
function startServerProcess(dataDir: string): Promise<Started> {
  const child = spawn(process.execPath, [bin, 'server', '--data', dataDir, '--listen', '127.0.0.1', '--port', '0', '--tls-port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${output}`)), 90_000);
    const onData = (d: Buffer): void => {
      output += d.toString();
      const m = /HTTP {2}listening on 127\.0\.0\.1:(\d+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: `http://127.0.0.1:${m[1]}`, output: () => output });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code}):\n${output}`));
    });
  });
}

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve({ code: child.exitCode, signal: child.signalCode });
    else child.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

it('survives kill -9 during an upload: no restore point from it, a clean restart on the same data', async () => {
  const dir = await tempDir('lifeline-crash-');
  cleanups.push(dir.cleanup);
  const dataDir = join(dir.path, 'data');

  const first = await startServerProcess(dataDir);
  cleanups.push(async () => void first.child.kill('SIGKILL'));
  const token = /shown only this once; keep it safe:\n {2}(llt_\S+)/.exec(first.output())?.[1];
  expect(token).toBeDefined();
  const identity = agentIdentity({ hostname: 'crash-pc' });
  let admin = connectOperator({ url: first.url, token: token as string });
  let agent = connectBackupServer({ url: first.url });
  const { agentId } = await agent.register(identity);
  await admin.bind(agentId);
  const kept = await uploadPoint(agent, 'crash-pc', [testBlock(1), testBlock(2)]);

  // An upload in progress: chunks keep coming until the server dies.
  const set = await agent.openSet({ resource: 'crash-pc', codec: 'lz4', blockSize: 65536 });
  const inFlight = await agent.beginPoint(set.setId);
  let uploaded = 0;
  const uploading = (async () => {
    for (let seed = 100; ; seed++) {
      const encoded = kept.codec.encode(testBlock(seed));
      await agent.putChunk(encoded.id, encoded.blob, encoded.storedHash);
      uploaded++;
    }
  })().catch((e: unknown) => e);
  while (uploaded < 3) await new Promise((r) => setTimeout(r, 20));
  first.child.kill('SIGKILL');
  expect(await exited(first.child)).toEqual({ code: null, signal: 'SIGKILL' });
  const cut = await uploading;
  expect(cut).toMatchObject({ code: expect.stringMatching(/^network\./), retryable: true });
  await agent.close();
  await admin.close();

  // A lost admin token is replaced on the stopped server's data folder (the dead server's lock is taken over).
  let offline = '';
  expect(await main(['token', 'create', '--data', dataDir, '--name', 'rescue', '--role', 'admin', '--json'], { out: (t) => (offline += t), err: (t) => (offline += t) })).toBe(0);
  const rescue = (JSON.parse(offline) as { token: string }).token;

  const second = await startServerProcess(dataDir);
  cleanups.push(async () => void second.child.kill('SIGKILL'));
  expect(second.output()).not.toMatch(/admin token/);
  admin = connectOperator({ url: second.url, token: token as string });
  agent = connectBackupServer({ url: second.url });
  cleanups.push(() => admin.close(), () => agent.close());
  expect((await agent.register(identity)).bound).toBe(true);

  const points = (await admin.getSet(set.setId)).points ?? [];
  expect(points.map((p) => p.pointId)).toEqual([kept.pointId]);
  expect((await admin.getSet(set.setId, { allPoints: true })).points?.find((p) => p.pointId === inFlight.pointId)?.state).toBe('uploading');
  await expect(admin.getManifest(inFlight.pointId)).rejects.toMatchObject({ code: 'not-found' });
  expect(await admin.getManifest(kept.pointId)).toEqual(kept.manifest);

  // Backups work again, and the kept point restores byte for byte.
  const next = await uploadPoint(agent, 'crash-pc', [testBlock(1), testBlock(3)]);
  expect((await admin.getSet(set.setId)).points?.map((p) => p.pointId)).toEqual([kept.pointId, next.pointId]);
  await admin.createJob({
    name: 'after the crash', agentId, schedule: { kind: 'manual' },
    spec: { kind: 'restore', setId: kept.setId, pointId: kept.pointId, disks: [{ sourceDisk: 0, targetDisk: 'disk.img', partitions: [], rebuild: 'full' }], options: DEFAULT_RESTORE_OPTIONS },
  });
  const extent = kept.manifest.disks[0]?.extents[1];
  if (extent?.kind !== 'data') throw new Error('data extent expected');
  const restored = kept.codec.decode(await agent.getChunk(extent.chunkId), { id: extent.chunkId, storedHash: extent.storedHash });
  expect(Buffer.compare(restored, testBlock(2))).toBe(0);

  // Prune removes the upload the crash abandoned, now that a later point is committed.
  expect(await admin.prune(set.setId, 2)).toMatchObject({ deletedPoints: [], abandonedUploads: [inFlight.pointId] });
  expect((await admin.getSet(set.setId, { allPoints: true })).points?.map((p) => p.pointId)).toEqual([kept.pointId, next.pointId]);

  const rescued = connectOperator({ url: second.url, token: rescue });
  cleanups.push(() => rescued.close());
  expect((await rescued.createToken({ name: 'after rescue', role: 'operator' })).role).toBe('operator');

  // A graceful stop on SIGTERM.
  second.child.kill('SIGTERM');
  expect(await exited(second.child)).toEqual({ code: 0, signal: null });
}, 180_000);
