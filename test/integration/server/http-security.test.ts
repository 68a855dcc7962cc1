/**
 * What the server refuses, and that it keeps serving afterwards: missing and wrong credentials,
 * roles, tenant isolation, and hostile bytes (malformed JSON, wrong types, oversized, truncated and
 * aborted bodies, garbage instead of HTTP). Raw sockets where a client library would not misbehave.
 */
import { request } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectBackupServer } from '../../../src/adapters/node/http-backup-server.ts';
import { DEFAULT_RESTORE_OPTIONS } from '../../../src/core/protocol/jobs.ts';
import { agentIdentity, startTestServer, testBlock, uploadPoint, type TestServer } from '../../helpers/test-server.ts';
import { codeOf } from '../../helpers/error-code.ts';


interface RawAnswer {
  readonly status: number;
  readonly code: string | undefined;
  readonly body: Record<string, unknown>;
}

/** One request with full control of headers and body. */
function raw(url: string, method: string, path: string, options: { headers?: Record<string, string>; body?: string | Uint8Array } = {}): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { method, headers: options.headers ?? {} }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (p: Buffer) => parts.push(p));
      res.on('end', () => {
        const text = Buffer.concat(parts).toString('utf8');
        const body = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
        resolve({ status: res.statusCode ?? 0, code: (body['error'] as { code?: string } | undefined)?.code, body });
      });
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Writes `bytes` on a fresh connection; resolves with whatever comes back before the server closes (or `waitMs`). */
function rawSocket(url: string, bytes: string | Uint8Array, options: { end?: 'close' | 'destroy' | 'keep'; waitMs?: number } = {}): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    let received = '';
    const done = (): void => {
      socket.destroy();
      resolve(received);
    };
    socket.on('data', (d: Buffer) => (received += d.toString('latin1')));
    socket.on('error', done);
    socket.on('close', done);
    socket.write(bytes, () => {
      if (options.end === 'destroy') done();
      else if (options.end === 'close') socket.end();
    });
    setTimeout(done, options.waitMs ?? 2000);
  });
}

let s: TestServer;
let accessKey: string;
let agentAuth: string;

async function serverStillServes(): Promise<void> {
  expect((await raw(s.url, 'GET', '/v1/health')).status).toBe(200);
  const client = connectBackupServer({ url: s.url, accessKey });
  try {
    expect((await client.register(agentIdentity())).agentId).toMatch(/^[0-9a-f-]{36}$/);
  } finally {
    await client.close();
  }
}

beforeAll(async () => {
  s = await startTestServer({ tenancy: 'multi' });
  accessKey = (await s.admin.createAccessKey({ label: 'security' })).key;
  const answer = await raw(s.url, 'POST', '/v1/agents/register', {
    headers: { authorization: `AccessKey ${accessKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(agentIdentity()),
  });
  agentAuth = `Agent ${String(answer.body['agentId'])}.${String(answer.body['secret'])}`;
  await s.admin.bind(String(answer.body['agentId']));
}, 60_000);

afterAll(async () => {
  await s?.stop();
});

describe('credentials', () => {
  it('refuses operators without a token, with an unknown one, and with the wrong scheme', async () => {
    expect(await raw(s.url, 'GET', '/v1/targets')).toMatchObject({ status: 401, code: 'auth.missing' });
    expect(await raw(s.url, 'GET', '/v1/targets', { headers: { authorization: 'Bearer llt_nonsense' } })).toMatchObject({ status: 401, code: 'auth.bad-token' });
    expect(await raw(s.url, 'GET', '/v1/targets', { headers: { authorization: agentAuth } })).toMatchObject({ status: 401, code: 'auth.missing' });
    expect(await raw(s.url, 'GET', '/v1/targets', { headers: { authorization: 'Basic dXNlcjpwYXNz' } })).toMatchObject({ status: 401, code: 'auth.missing' });
    expect(await codeOf(s.operator('llt_wrong').listJobs())).toBe('auth.bad-token');
  });

  it('requires a valid, unrevoked access key to register on a multi-tenant server', async () => {
    expect(await codeOf(connectBackupServer({ url: s.url }).register(agentIdentity()))).toBe('auth.missing');
    expect(await codeOf(connectBackupServer({ url: s.url, accessKey: 'llk_guess' }).register(agentIdentity()))).toBe('auth.bad-access-key');
    const key = await s.admin.createAccessKey({ label: 'short-lived' });
    expect((await connectBackupServer({ url: s.url, accessKey: key.key }).register(agentIdentity())).bound).toBe(false);
    await s.admin.revokeAccessKey(key.keyId);
    expect(await codeOf(connectBackupServer({ url: s.url, accessKey: key.key }).register(agentIdentity()))).toBe('auth.bad-access-key');
    expect((await s.admin.listAccessKeys()).find((k) => k.keyId === key.keyId)?.revokedAt).not.toBeNull();
  });

  it('refuses agent calls before registration, and old secrets after registering again', async () => {
    expect(await codeOf(connectBackupServer({ url: s.url }).heartbeat('idle'))).toBe('auth.missing');
    const identity = agentIdentity();
    const register = () => raw(s.url, 'POST', '/v1/agents/register', {
      headers: { authorization: `AccessKey ${accessKey}`, 'content-type': 'application/json' }, body: JSON.stringify(identity),
    });
    const first = (await register()).body;
    await s.admin.bind(String(first['agentId']));
    const second = (await register()).body;
    expect(second).toMatchObject({ agentId: first['agentId'], bound: true });
    const heartbeat = (secret: unknown) => raw(s.url, 'POST', '/v1/agents/heartbeat', {
      headers: { authorization: `Agent ${String(first['agentId'])}.${String(secret)}`, 'content-type': 'application/json' }, body: '{"state":"idle"}',
    });
    expect(await heartbeat(first['secret'])).toMatchObject({ status: 401, code: 'auth.bad-token' });
    expect(await heartbeat(second['secret'])).toMatchObject({ status: 200, body: { bound: true } });
    expect(await heartbeat('x')).toMatchObject({ status: 401, code: 'auth.bad-token' });
  });
});

describe('roles', () => {
  it('an operator creates and runs jobs but cannot bind, manage keys and tokens, or prune; an admin can', async () => {
    const operator = s.operator((await s.admin.createToken({ name: 'otto', role: 'operator' })).token);
    const agent = await s.agent({ accessKey, bound: false });
    expect(await codeOf(operator.bind(agent.agentId))).toBe('auth.forbidden');
    expect(await codeOf(operator.createAccessKey())).toBe('auth.forbidden');
    expect(await codeOf(operator.createToken({ name: 'me too', role: 'admin' }))).toBe('auth.forbidden');
    expect(await codeOf(operator.createTenant('mine'))).toBe('auth.forbidden');
    expect((await s.admin.bind(agent.agentId)).bound).toBe(true);

    const point = await uploadPoint(agent.client, 'roles', [testBlock(1)]);
    expect(await codeOf(operator.prune(point.setId, 1))).toBe('auth.forbidden');
    const job = await operator.createJob({
      name: 'by an operator', agentId: agent.agentId, schedule: { kind: 'manual' },
      spec: { kind: 'restore', setId: point.setId, pointId: point.pointId, disks: [{ sourceDisk: 0, targetDisk: 'disk.img', partitions: [], rebuild: 'full' }], options: DEFAULT_RESTORE_OPTIONS },
    });
    expect((await operator.startJob(job.jobId)).state).toBe('queued');
    expect((await s.admin.prune(point.setId, 1)).deletedPoints).toEqual([]);
  });
});

describe('tenants', () => {
  it('a tenant sees only its own things: the other tenant\'s ids are "not found"', async () => {
    const agent = await s.agent({ accessKey });
    const point = await uploadPoint(agent.client, 'tenant-one', [testBlock(2)]);
    const job = await s.admin.createJob({
      name: 'tenant one job', agentId: agent.agentId, schedule: { kind: 'manual' },
      spec: { kind: 'restore', setId: point.setId, pointId: point.pointId, disks: [{ sourceDisk: 0, targetDisk: 'disk.img', partitions: [], rebuild: 'full' }], options: DEFAULT_RESTORE_OPTIONS },
    });
    const run = await s.admin.startJob(job.jobId);

    const two = await s.admin.createTenant(`two-${Date.now()}`);
    const twoAdmin = s.operator((await s.admin.createToken({ name: 'boss of two', role: 'admin', tenantId: two.tenantId })).token);
    const twoKey = (await twoAdmin.createAccessKey()).key;
    const twoAgent = await s.agent({ accessKey: twoKey, bound: false });
    await twoAdmin.bind(twoAgent.agentId);

    expect((await twoAdmin.listTargets()).map((t) => t.agentId)).toEqual([twoAgent.agentId]);
    expect(await twoAdmin.listSets()).toEqual([]);
    expect(await twoAdmin.listJobs()).toEqual([]);
    const otherTenantKey = await s.admin.createAccessKey();
    const attempts: (() => Promise<unknown>)[] = [
      () => twoAdmin.getTarget(agent.agentId), () => twoAdmin.bind(agent.agentId), () => twoAdmin.getSet(point.setId),
      () => twoAdmin.getManifest(point.pointId), () => twoAdmin.getJob(job.jobId), () => twoAdmin.startJob(job.jobId),
      () => twoAdmin.getRun(run.runId), () => twoAdmin.logs(run.runId), () => twoAdmin.prune(point.setId, 1),
      () => twoAdmin.createAccessKey({ tenantId: otherTenantKey.tenantId }), () => twoAdmin.revokeAccessKey(otherTenantKey.keyId),
      () => twoAgent.client.getSet(point.setId), () => twoAgent.client.getManifest(point.pointId), () => twoAgent.client.beginPoint(point.setId),
    ];
    for (const attempt of attempts) expect(await codeOf(attempt())).toBe('not-found');
    // Another tenant's chunk ids are unknown to this tenant, and never readable.
    expect(await twoAgent.client.missingChunks(point.chunkIds)).toEqual([...point.chunkIds]);
    expect(await codeOf(twoAgent.client.getChunk(point.chunkIds[0] as string))).toBe('auth.forbidden');
    expect(await codeOf(twoAdmin.createJob({
      name: 'steal', agentId: twoAgent.agentId, schedule: { kind: 'now' },
      spec: { kind: 'restore', setId: point.setId, pointId: point.pointId, disks: [{ sourceDisk: 0, targetDisk: 'disk.img', partitions: [], rebuild: 'full' }], options: DEFAULT_RESTORE_OPTIONS },
    }))).toBe('not-found');
    expect(await codeOf(twoAdmin.createTenant('three'))).toBe('auth.forbidden');
  });
});

describe('hostile input', () => {
  const json = { 'content-type': 'application/json' };

  it('answers malformed and wrongly typed JSON with 400 and the field, and keeps serving', async () => {
    const headers = { ...json, authorization: agentAuth };
    expect(await raw(s.url, 'POST', '/v1/agents/heartbeat', { headers, body: '{"state": "idle"' })).toMatchObject({ status: 400, code: 'request.malformed' });
    expect(await raw(s.url, 'POST', '/v1/agents/heartbeat', { headers, body: Uint8Array.of(0x7b, 0xff, 0xfe, 0x7d) })).toMatchObject({ status: 400, code: 'request.malformed' });
    const wrongType = await raw(s.url, 'POST', '/v1/agents/heartbeat', { headers, body: '{"state": 5}' });
    expect(wrongType).toMatchObject({ status: 400, code: 'request.malformed', body: { error: { data: { path: 'state' } } } });
    const deep = await raw(s.url, 'POST', '/v1/chunks/missing', { headers, body: JSON.stringify({ ids: ['ab'.repeat(32), 'nope'] }) });
    expect(deep).toMatchObject({ status: 400, body: { error: { data: { path: 'ids[1]' } } } });
    expect(await raw(s.url, 'POST', '/v1/agents/heartbeat', { headers, body: '[]' })).toMatchObject({ status: 400 });
    expect(await raw(s.url, 'POST', '/v1/agents/heartbeat', { headers: { authorization: agentAuth, 'content-type': 'text/plain' }, body: '{}' })).toMatchObject({ status: 415, code: 'request.unsupported-media-type' });
    const badSchedule = await raw(s.url, 'POST', '/v1/jobs', { headers: { ...json, authorization: `Bearer ${s.adminToken}` }, body: JSON.stringify({ name: 'x', agentId: '00000000-0000-4000-8000-000000000000', schedule: { kind: 'daily' }, spec: {} }) });
    expect(badSchedule).toMatchObject({ status: 400, code: 'request.malformed' });
    expect(await raw(s.url, 'GET', '/v1/jobs/not-a-uuid', { headers: { authorization: `Bearer ${s.adminToken}` } })).toMatchObject({ status: 400, code: 'request.bad-parameter' });
    expect(await raw(s.url, 'GET', '/v1/nothing-here')).toMatchObject({ status: 404, code: 'not-found' });
    expect(await raw(s.url, 'DELETE', '/v1/health')).toMatchObject({ status: 405, code: 'request.method-not-allowed' });
    await serverStillServes();
  });

  it('refuses oversized bodies with 413 before reading them', async () => {
    const declared = await rawSocket(s.url, [
      'POST /v1/agents/register HTTP/1.1', 'Host: x', 'Content-Type: application/json', `Authorization: AccessKey ${accessKey}`,
      `Content-Length: ${64 * 1024 * 1024}`, '', '{"machineId":',
    ].join('\r\n'), { end: 'keep' });
    expect(declared).toMatch(/^HTTP\/1\.1 413/);
    expect(declared).toMatch(/"request\.too-large"/);
    const big = `{"machineId":"${'x'.repeat(1024 * 1024 + 100)}"}`;
    const chunked = await rawSocket(s.url, [
      'POST /v1/agents/register HTTP/1.1', 'Host: x', 'Content-Type: application/json', `Authorization: AccessKey ${accessKey}`,
      'Transfer-Encoding: chunked', '', `${big.length.toString(16)}`, big, '0', '', '',
    ].join('\r\n'), { end: 'keep' });
    expect(chunked).toMatch(/^HTTP\/1\.1 413/);
    const chunkTooBig = await rawSocket(s.url, [
      `PUT /v1/chunks/${'ab'.repeat(32)} HTTP/1.1`, 'Host: x', 'Content-Type: application/octet-stream', `Authorization: ${agentAuth}`,
      `X-Lifeline-Stored-Sha256: ${'ab'.repeat(32)}`, `Content-Length: ${9 * 1024 * 1024}`, '', '',
    ].join('\r\n'), { end: 'keep' });
    expect(chunkTooBig).toMatch(/^HTTP\/1\.1 413/);
    expect(chunkTooBig).toMatch(/"limit":8388672/);
    await serverStillServes();
  });

  it('survives truncated, aborted and slow bodies, and bytes that are not HTTP', async () => {
    const head = (length: number, path = '/v1/agents/heartbeat', type = 'application/json') => [
      `POST ${path} HTTP/1.1`, 'Host: x', `Content-Type: ${type}`, `Authorization: ${agentAuth}`, `Content-Length: ${length}`, '', '',
    ].join('\r\n');
    await rawSocket(s.url, `${head(1000)}{"state":`, { end: 'close', waitMs: 500 });
    await rawSocket(s.url, `${head(1000)}{"state":`, { end: 'destroy' });
    const id = 'cd'.repeat(32);
    const upload = `PUT /v1/chunks/${id} HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nAuthorization: ${agentAuth}\r\nX-Lifeline-Stored-Sha256: ${'ab'.repeat(32)}\r\nContent-Length: ${1024 * 1024}\r\n\r\n`;
    await rawSocket(s.url, Buffer.concat([Buffer.from(upload), Buffer.alloc(100 * 1024, 7)]), { end: 'destroy' });
    expect(await rawSocket(s.url, 'GARBAGE \x00\x01\x02 NOT HTTP\r\n\r\n', { waitMs: 1000 })).toMatch(/^HTTP\/1\.1 400[^]*"code":"request\.malformed"/);
    expect(await rawSocket(s.url, `GET /v1/health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`, { waitMs: 1000 })).toMatch(/^HTTP\/1\.1 431[^]*"code":"request\.headers-too-large"/);
    // Nothing half-uploaded became a chunk.
    const client = connectBackupServer({ url: s.url, accessKey });
    await client.register(agentIdentity());
    await s.admin.bind(client.agentId as string);
    expect(await client.missingChunks([id])).toEqual([id]);
    await client.close();
    await serverStillServes();
  });

  it('checks chunk uploads before the body: type, length, stored hash, blob format', async () => {
    const id = 'ef'.repeat(32);
    const base = { authorization: agentAuth, 'content-type': 'application/octet-stream', 'x-lifeline-stored-sha256': 'ab'.repeat(32) };
    expect(await raw(s.url, 'PUT', `/v1/chunks/${id}`, { headers: { ...base, 'content-type': 'application/json' }, body: '{}' })).toMatchObject({ status: 415 });
    expect(await raw(s.url, 'PUT', `/v1/chunks/${id}`, { headers: { ...base, 'transfer-encoding': 'chunked' }, body: 'abc' })).toMatchObject({ status: 411, code: 'request.length-required' });
    expect(await raw(s.url, 'PUT', `/v1/chunks/${id}`, { headers: { ...base, 'x-lifeline-stored-sha256': 'short' }, body: 'abc' })).toMatchObject({ status: 400, code: 'request.bad-parameter' });
    expect(await raw(s.url, 'PUT', `/v1/chunks/${id}`, { headers: base, body: 'abc' })).toMatchObject({ status: 422, code: 'chunk.hash-mismatch' });
    const notAChunk = new TextEncoder().encode('these bytes are not a chunk blob');
    const { createHash } = await import('node:crypto');
    const hash = createHash('sha256').update(notAChunk).digest('hex');
    expect(await raw(s.url, 'PUT', `/v1/chunks/${id}`, { headers: { ...base, 'x-lifeline-stored-sha256': hash }, body: notAChunk })).toMatchObject({ status: 422, code: 'chunk.invalid' });
    expect(await raw(s.url, 'PUT', '/v1/chunks/ABC', { headers: base, body: 'abc' })).toMatchObject({ status: 400, code: 'request.bad-parameter' });
    await serverStillServes();
  });

  it('checks batched chunk uploads: the headers must describe the body, blob by blob', async () => {
    const { createHash } = await import('node:crypto');
    const sha = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');
    const [one, two] = ['first blob bytes', 'second blob'];
    const ids = ['ab'.repeat(32), 'cd'.repeat(32)];
    const base = {
      authorization: agentAuth, 'content-type': 'application/octet-stream',
      'x-lifeline-chunk-ids': ids.join(','), 'x-lifeline-chunk-lengths': `${one.length},${two.length}`, 'x-lifeline-stored-sha256': `${sha(one)},${sha(two)}`,
    };
    const body = one + two;
    const post = (headers: Record<string, string>, b: string = body) => raw(s.url, 'POST', '/v1/chunks/write', { headers, body: b });
    expect(await post({ ...base, 'content-type': 'application/json' })).toMatchObject({ status: 415 });
    expect(await post({ ...base, 'transfer-encoding': 'chunked' })).toMatchObject({ status: 411, code: 'request.length-required' });
    expect(await post({ ...base, 'x-lifeline-chunk-lengths': String(one.length) })).toMatchObject({ status: 400, code: 'request.bad-parameter' });
    expect(await post({ ...base, 'x-lifeline-chunk-ids': `${ids[0]},ABC` })).toMatchObject({ status: 400, code: 'request.bad-parameter' });
    expect(await post({ ...base, 'x-lifeline-stored-sha256': sha(one) })).toMatchObject({ status: 400, code: 'request.bad-parameter' });
    const many = Array.from({ length: 65 }, () => ids[0]).join(',');
    expect(await post({ ...base, 'x-lifeline-chunk-ids': many })).toMatchObject({ status: 400, code: 'request.bad-parameter' });
    expect(await post({ ...base, 'x-lifeline-chunk-lengths': `${one.length},${two.length - 1}` })).toMatchObject({ status: 400, code: 'request.malformed' });
    // Each blob's hash is checked, then its format: the second blob's hash is wrong, and when
    // right, neither is a chunk blob.
    expect(await post({ ...base, 'x-lifeline-stored-sha256': `${sha(one)},${sha('other')}` })).toMatchObject({ status: 422, code: 'chunk.hash-mismatch' });
    expect(await post(base)).toMatchObject({ status: 422, code: 'chunk.invalid' });
    await serverStillServes();
  });
});
