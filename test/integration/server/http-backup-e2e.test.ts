/**
 * The backup and restore engines against the real server over HTTP: an encrypted backup of a
 * GPT/UEFI fixture disk (made with sgdisk, mkfs.vfat and mkntfs), then the same backup again, which
 * finds every chunk on the server and uploads nothing. A restore job's agent reads every data extent
 * back through `getChunk` and it matches the image byte for byte; then `lifeline agent --headless`
 * registers over TLS (pinned), is bound, takes a restore job and rebuilds a blank disk, which sgdisk
 * then reads as the source's table.
 */
import { createHash } from 'node:crypto';
import { open, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { LinuxBlockDeviceOpener } from '../../../src/adapters/linux/linux-opener.ts';
import { NodeSetKeys } from '../../../src/adapters/node/set-keys.ts';
import { parseCommandArgs } from '../../../src/main/cli-kit.ts';
import { agentCommand, defaultAgentDeps } from '../../../src/main/commands/agent.ts';
import { DEFAULT_RESTORE_OPTIONS } from '../../../src/core/protocol/jobs.ts';
import { makeGptUefiDisk } from '../../helpers/fixture-disks.ts';
import { backupFixtureDisk } from '../../helpers/make-backup.ts';
import { mustRun, tempDir } from '../../helpers/run.ts';
import { startTestServer, type TestServer } from '../../helpers/test-server.ts';

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

let s: TestServer;
let dir: { path: string; cleanup: () => Promise<void> };

beforeAll(async () => {
  [s, dir] = await Promise.all([startTestServer(), tempDir('lifeline-e2e-')]);
}, 60_000);

afterAll(async () => {
  await s?.stop();
  await dir?.cleanup();
});

it('backs up a fixture disk through HTTP; the re-run uploads nothing; the point reads back exactly', async () => {
  const disk = await makeGptUefiDisk(dir.path);
  const agent = await s.agent({ identity: { hostname: 'fixture-host' } });
  const passphrase = 'correct horse battery staple';

  const first = await backupFixtureDisk(agent.client, disk.path, { passphrase, resource: 'fixture-host' });
  expect(first.result.chunksUploaded).toBe(first.result.chunksTotal);
  expect(first.result.bytesUploaded).toBeGreaterThan(0n);
  const second = await backupFixtureDisk(agent.client, disk.path, { passphrase, resource: 'fixture-host' });
  expect(second.setId).toBe(first.setId);
  expect(second.result.chunksTotal).toBe(first.result.chunksTotal);
  expect(second.result.chunksUploaded).toBe(0);
  expect(second.result.bytesUploaded).toBe(0n);

  const set = await s.admin.getSet(first.setId);
  expect(set).toMatchObject({ resource: 'fixture-host', encrypted: true, codec: 'lz4' });
  expect(set.points?.map((p) => [p.pointId, p.sequence])).toEqual([[first.pointId, 1], [second.pointId, 2]]);
  expect(await s.admin.getManifest(second.pointId)).toEqual(second.manifest);

  await s.admin.createJob({
    name: 'read back', agentId: agent.agentId, schedule: { kind: 'manual' },
    spec: { kind: 'restore', setId: second.setId, pointId: second.pointId, disks: [{ sourceDisk: 0, targetDisk: 'disk.img', partitions: [3], rebuild: 'partial' }], options: DEFAULT_RESTORE_OPTIONS },
  });
  const info = await agent.client.getSet(second.setId);
  const keys = new NodeSetKeys();
  const dataKey = await keys.unwrapDataKey(info.wrappedKey!, passphrase);
  const codec = keys.codecFor({ tenantChunkKey: info.tenantChunkKey, dataKey, compression: 'lz4' });
  const image = await open(disk.path, 'r');
  try {
    let compared = 0n;
    for (const extent of second.manifest.disks[0]!.extents) {
      if (extent.kind !== 'data') continue;
      const plain = codec.decode(await agent.client.getChunk(extent.chunkId), { id: extent.chunkId, storedHash: extent.storedHash });
      const expected = new Uint8Array(Number(extent.length));
      await image.read(expected, 0, expected.length, Number(extent.diskOffset));
      // Hashes, not toEqual: deep equality of megabytes is slow.
      expect(sha256(plain)).toBe(sha256(expected));
      compared += extent.length;
    }
    expect(compared).toBeGreaterThan(4n * 1024n * 1024n);
  } finally {
    await image.close();
  }

  // The appliance agent restores the point onto a blank disk of the same size.
  const target = join(dir.path, 'target.img');
  await writeFile(target, '');
  await truncate(target, Number(disk.sizeBytes));
  const settings = join(dir.path, 'lifeline.json');
  const { hostname, port } = new URL(s.tlsUrl);
  await writeFile(settings, JSON.stringify({ version: 1, server: { address: hostname, port: Number(port), ssl: true }, disks: [target], firmware: 'uefi', once: true, pollSeconds: 1 }));
  const cmd = agentCommand({
    ...defaultAgentDeps, disks: new LinuxBlockDeviceOpener(), hostname: () => 'restore-vm', machineId: async () => 'restore-vm-0001', onStop: undefined,
  });
  const err: string[] = [];
  const out: string[] = [];
  const agentDone = cmd.run(parseCommandArgs(cmd, ['--headless', '--settings', settings, '--fingerprint', s.fingerprint]), {
    out: (t) => out.push(t), err: (t) => err.push(t),
  }).catch((e: unknown) => e);
  const registered = await waitFor(async () => (await s.admin.listTargets()).find((t) => t.hostname === 'restore-vm'));
  await s.admin.bind(registered.agentId);
  await s.admin.createJob({
    name: 'restore onto blank', agentId: registered.agentId, schedule: { kind: 'now' },
    spec: { kind: 'restore', setId: second.setId, pointId: second.pointId, passphrase, disks: [{ sourceDisk: 0, targetDisk: target, partitions: [], rebuild: 'full' }], options: DEFAULT_RESTORE_OPTIONS },
  });
  expect(await agentDone, err.join('\n')).toBe(0);
  expect(JSON.parse(out[0] as string)).toMatchObject({ state: 'succeeded', error: null });
  const dump = async (path: string) => (await mustRun('sgdisk', ['-p', path])).split('\n').filter((l) => /Disk identifier|^\s+\d+\s/.test(l));
  expect(await dump(target)).toEqual(await dump(disk.path));
  const runs = await s.admin.listRuns((await s.admin.listJobs()).find((j) => j.name === 'restore onto blank')!.jobId);
  expect(runs[0]).toMatchObject({ state: 'succeeded' });
  expect(runs[0]?.steps.length).toBeGreaterThan(0);
}, 180_000);

async function waitFor<T>(probe: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 300; i++) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('not in time');
}
