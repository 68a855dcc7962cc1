/**
 * A real Lifeline server for tests: in this process, on loopback, on free ports (HTTP and TLS), with
 * a temp data folder and the embedded catalog (or a PostgreSQL one from `startPostgres`). Comes with
 * an admin operator client and helpers to register and bind agents.
 */
import { randomUUID } from 'node:crypto';
import { connectBackupServer, type HttpBackupServer } from '../../src/adapters/node/http-backup-server.ts';
import { connectOperator, type OperatorClient } from '../../src/adapters/node/http-operator-client.ts';
import { NodeSetKeys } from '../../src/adapters/node/set-keys.ts';
import type { BackupManifest, DataExtent } from '../../src/core/backup/manifest.ts';
import type { ChunkCodec } from '../../src/ports/chunk-codec.ts';
import type { AgentIdentity } from '../../src/core/protocol/jobs.ts';
import { startServer, type RunningServer, type ServerOptions } from '../../src/server/server.ts';
import { startPostgres } from './postgres.ts';
import { tempDir } from './run.ts';

export interface TestServer {
  readonly url: string;
  readonly tlsUrl: string;
  readonly fingerprint: string;
  readonly adminToken: string;
  readonly dataDir: string;
  readonly server: RunningServer;
  /** An operator client holding the first admin token. */
  readonly admin: OperatorClient;
  /** Server log lines, for assertions and for debugging a failure. */
  readonly log: string[];
  /** A registered agent (bound by the admin unless `bound: false`). */
  agent(options?: { bound?: boolean; accessKey?: string; identity?: Partial<AgentIdentity> }): Promise<TestAgent>;
  operator(token: string): OperatorClient;
  stop(): Promise<void>;
}

export interface TestAgent {
  readonly client: HttpBackupServer;
  readonly agentId: string;
  readonly identity: AgentIdentity;
}

export type TestServerOptions = Partial<Omit<ServerOptions, 'dataDir' | 'version'>> & {
  /** Folder the server's data folder is made in (default: the system's temp folder). */
  readonly parentDir?: string;
};

export function agentIdentity(overrides: Partial<AgentIdentity> = {}): AgentIdentity {
  return {
    machineId: `machine-${randomUUID()}`,
    hostname: 'test-host',
    inventory: {
      firmware: 'uefi',
      disks: [{ path: '/dev/loop9', sizeBytes: String(64 * 1024 * 1024), logicalSectorSize: 512, physicalSectorSize: 512, protected: false }],
      nics: [{ name: 'eth0', mac: '52:54:00:12:34:56', addresses: ['10.0.0.5'], up: true }],
    },
    ...overrides,
  };
}

export async function startTestServer({ parentDir, ...options }: TestServerOptions = {}): Promise<TestServer> {
  const dir = await tempDir('lifeline-server-', parentDir);
  const log: string[] = [];
  let server: RunningServer;
  try {
    server = await startServer({
      dataDir: dir.path, listen: '127.0.0.1', port: 0, tlsPort: 0, version: 'test', durability: 'process',
      schedulerIntervalMs: 200, log: (line) => log.push(line), ...options,
    });
  } catch (e) {
    await dir.cleanup();
    throw e;
  }
  if (server.adminToken === undefined || server.httpsUrl === undefined || server.tlsFingerprint === undefined) {
    throw new Error('a fresh test server must have an admin token and a TLS listener');
  }
  const adminToken = server.adminToken;
  const clients: { close(): Promise<void> }[] = [];
  const operator = (token: string): OperatorClient => {
    const client = connectOperator({ url: server.httpUrl, token });
    clients.push(client);
    return client;
  };
  const admin = operator(adminToken);
  return {
    url: server.httpUrl, tlsUrl: server.httpsUrl, fingerprint: server.tlsFingerprint, adminToken, dataDir: dir.path, server, admin, log,
    operator,
    async agent(agentOptions = {}) {
      const client = connectBackupServer({ url: server.httpUrl, ...(agentOptions.accessKey ? { accessKey: agentOptions.accessKey } : {}) });
      clients.push(client);
      const identity = agentIdentity(agentOptions.identity);
      const { agentId } = await client.register(identity);
      if (agentOptions.bound !== false) await admin.bind(agentId);
      return { client, agentId, identity };
    },
    async stop() {
      await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
      await server.stop();
      await dir.cleanup();
    },
  };
}

/** The same against a throw-away PostgreSQL server, or why that cannot run here. */
export async function startPostgresTestServer(options: TestServerOptions = {}): Promise<{ server: TestServer } | { skipped: string }> {
  const pg = await startPostgres();
  if ('skipped' in pg) return pg;
  try {
    const server = await startTestServer({ ...options, database: pg.server.url });
    return { server: { ...server, stop: async () => { await server.stop(); await pg.server.stop(); } } };
  } catch (e) {
    await pg.server.stop();
    throw e;
  }
}

export interface UploadedPoint {
  readonly setId: string;
  readonly pointId: string;
  readonly sequence: number;
  readonly manifest: BackupManifest;
  readonly chunkIds: readonly string[];
  readonly codec: ChunkCodec;
}

export const TEST_BLOCK = 64 * 1024;

/** A block of pseudo-random bytes (`seed` picks which): distinct seeds give distinct chunks. */
export function testBlock(seed: number): Uint8Array {
  const block = new Uint8Array(TEST_BLOCK);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < block.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    block[i] = i % 4 === 0 ? x & 0xff : 0; // compressible, but not all zero
  }
  return block;
}

/**
 * Opens the agent's set of `resource`, begins a point, uploads `blocks` as one raw disk and commits
 * its manifest (unless `commit: false`): a restore point as a backup would leave it.
 */
export async function uploadPoint(client: HttpBackupServer, resource: string, blocks: readonly Uint8Array[], options: { commit?: boolean } = {}): Promise<UploadedPoint> {
  const set = await client.openSet({ resource, codec: 'lz4', blockSize: TEST_BLOCK });
  const codec = new NodeSetKeys().codecFor({ tenantChunkKey: set.tenantChunkKey, compression: 'lz4' });
  const { pointId, sequence } = await client.beginPoint(set.setId);
  const extents: DataExtent[] = [];
  for (const [i, block] of blocks.entries()) {
    const encoded = codec.encode(block);
    const stat = await client.putChunk(encoded.id, encoded.blob, encoded.storedHash);
    extents.push({ kind: 'data', diskOffset: BigInt(i * TEST_BLOCK), length: BigInt(block.length), chunkId: stat.id, storedHash: stat.storedHash, storedLength: stat.storedLength });
  }
  const manifest = rawDiskManifest(set.setId, sequence, extents);
  if (options.commit !== false) await client.commitPoint(pointId, manifest);
  return { setId: set.setId, pointId, sequence, manifest, chunkIds: extents.map((e) => e.chunkId), codec };
}

export function rawDiskManifest(setId: string, sequence: number, extents: readonly DataExtent[]): BackupManifest {
  const end = extents.reduce((max, e) => (e.diskOffset + e.length > max ? e.diskOffset + e.length : max), BigInt(TEST_BLOCK));
  return {
    formatVersion: 1, setId, pointSequence: sequence, createdAt: new Date().toISOString(),
    source: { hostname: 'test-host', firmware: 'uefi' },
    options: { codec: 'lz4', blockSize: TEST_BLOCK, encrypted: false, onlyUsedBlocks: false },
    disks: [{
      number: 0, style: 'raw', identity: {},
      geometry: { sizeBytes: end, logicalSectorSize: 512, physicalSectorSize: 512 },
      tableSectors: [], layout: { partitions: [] }, extents,
    }],
  };
}
