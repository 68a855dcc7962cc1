/**
 * Child process of the kill -9 durability test. Opens the PGlite catalog in argv[2], prepares one
 * backup set, then begins restore points forever; each begin is a transaction of two statements
 * (bump the set's sequence counter, insert the point). After each commit it prints
 * "ack <sequence>", so the parent knows which commits were acknowledged when it kills us.
 */
import { Catalog } from '../../src/server/catalog/catalog.ts';
import { PgliteDatabase } from '../../src/server/catalog/pglite-database.ts';

const dataDir = process.argv[2];
if (dataDir === undefined) throw new Error('usage: catalog-commit-loop.ts <data-dir>');

const catalog = await Catalog.open(await PgliteDatabase.open(dataDir));
const tenant = await catalog.defaultTenant();
const agent = await catalog.registerAgent(tenant.id, { machineId: 'crash-test', hostname: 'crash', firmware: 'uefi', hardware: {} });
const disk = await catalog.upsertResource(tenant.id, agent.id, { name: 'disk0', diskIdentity: 'gpt:crash', sizeBytes: 1n << 30n, sectorSize: 512 });
const pool = await catalog.createPool(tenant.id, { name: 'crash-pool', kind: 'local', config: { path: '/srv/lifeline' } });
const set = await catalog.createBackupSet(tenant.id, { name: 'crash-set', resourceId: disk.id, poolId: pool.id, encryption: null, codec: 'lz4', blockSize: 262144 });
process.stdout.write(`set ${set.id}\n`);
for (;;) {
  const point = await catalog.beginRestorePoint(tenant.id, set.id);
  process.stdout.write(`ack ${point.sequence}\n`);
}
