/**
 * ChunkReadAccess's grants against a catalog stand-in that answers its three queries from a small
 * model (which points reference which chunks, which points the agent may read) and counts them:
 * a restore's chunks of one point cost one check and one load, a grant older than the TTL is checked
 * again and dropped once the point is no longer readable, and the memory bound is kept. The SQL
 * itself runs against the real catalog in the HTTP tests (test/integration/server/http-api.test.ts).
 */
import { describe, expect, it } from 'vitest';
import type { SqlQueryable, SqlResult, SqlValue } from '../../../src/server/catalog/sql-database.ts';
import { ChunkReadAccess } from '../../../src/server/http/chunk-access.ts';

const TENANT = 't';
const AGENT = 'a';

class CatalogModel implements SqlQueryable {
  /** point id → chunk ids it references (lower-case hex), in commit order. */
  readonly points = new Map<string, string[]>();
  readonly readable = new Set<string>();
  readonly calls = { granting: 0, recheck: 0, load: 0 };

  async query<Row>(sql: string, params: readonly SqlValue[] = []): Promise<SqlResult<Row>> {
    const rows = (r: unknown[]) => ({ rows: r as Row[], rowCount: r.length });
    if (sql.includes('ORDER BY p.committed_at DESC')) {
      this.calls.granting++;
      const chunk = String(params[2]).toLowerCase();
      const newest = [...this.points].reverse().find(([id, chunks]) => this.readable.has(id) && chunks.includes(chunk));
      return rows(newest === undefined ? [] : [{ id: newest[0] }]);
    }
    if (sql.includes('SELECT EXISTS')) {
      this.calls.recheck++;
      return rows([{ allowed: this.readable.has(String(params[2])) }]);
    }
    if (sql.includes('FROM chunk_refs WHERE tenant_id = $1 AND point_id = $2')) {
      this.calls.load++;
      return rows((this.points.get(String(params[1])) ?? []).slice(0, Number(params[2])).map((hash) => ({ hash })));
    }
    throw new Error(`unexpected query: ${sql}`);
  }
}

function ids(prefix: string, n: number): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}${i.toString(16).padStart(8, '0')}`);
}

function setup(limits = { ttlMs: 5000, maxChunkIds: 1000 }) {
  const db = new CatalogModel();
  let now = 0;
  const access = new ChunkReadAccess(db, () => now, limits);
  return { db, access, advance: (ms: number) => { now += ms; } };
}

describe('ChunkReadAccess', () => {
  it('answers the chunks of one point with one check and one load, whatever their number', async () => {
    const { db, access } = setup();
    const chunks = ids('aa', 200);
    db.points.set('p1', chunks);
    db.readable.add('p1');
    for (const c of chunks) expect(await access.mayRead(TENANT, AGENT, c)).toBe(true);
    expect(await access.mayRead(TENANT, AGENT, chunks[7]!.toUpperCase())).toBe(true);
    expect(db.calls).toEqual({ granting: 1, recheck: 0, load: 1 });
    expect(access.heldChunkIds).toBe(200);
  });

  it('refuses a chunk no readable point references, and asks the catalog each time (nothing cached for a refusal)', async () => {
    const { db, access } = setup();
    db.points.set('p1', ids('aa', 3));
    db.points.set('secret', ids('bb', 3));
    db.readable.add('p1');
    expect(await access.mayRead(TENANT, AGENT, 'bb00000001')).toBe(false);
    expect(await access.mayRead(TENANT, AGENT, 'bb00000001')).toBe(false);
    expect(db.calls.granting).toBe(2);
    expect(access.heldChunkIds).toBe(0);
  });

  it('does not lend one agent\'s grant to another agent or tenant', async () => {
    const { db, access } = setup();
    db.points.set('p1', ids('aa', 3));
    db.readable.add('p1');
    expect(await access.mayRead(TENANT, AGENT, 'aa00000000')).toBe(true);
    db.readable.clear(); // the model answers for "the other agent": nothing readable
    expect(await access.mayRead(TENANT, 'other-agent', 'aa00000000')).toBe(false);
    expect(await access.mayRead('other-tenant', AGENT, 'aa00000000')).toBe(false);
  });

  it('re-checks a grant older than the TTL and drops it once the point is no longer readable', async () => {
    const { db, access, advance } = setup();
    db.points.set('p1', ids('aa', 10));
    db.readable.add('p1');
    expect(await access.mayRead(TENANT, AGENT, 'aa00000000')).toBe(true);
    advance(4999);
    expect(await access.mayRead(TENANT, AGENT, 'aa00000001')).toBe(true);
    expect(db.calls.recheck).toBe(0);
    advance(1);
    expect(await access.mayRead(TENANT, AGENT, 'aa00000002')).toBe(true);
    expect(db.calls.recheck).toBe(1);
    expect(await access.mayRead(TENANT, AGENT, 'aa00000003')).toBe(true);
    expect(db.calls.recheck).toBe(1); // checked again just now

    db.readable.delete('p1'); // the job was deleted or the point pruned
    advance(5000);
    expect(await access.mayRead(TENANT, AGENT, 'aa00000004')).toBe(false);
    expect(access.heldChunkIds).toBe(0);
  });

  it('loads a point once when several channels ask for its first chunks at the same moment', async () => {
    const { db, access } = setup();
    db.points.set('p1', ids('aa', 50));
    db.readable.add('p1');
    const answers = await Promise.all(ids('aa', 8).map((c) => access.mayRead(TENANT, AGENT, c)));
    expect(answers.every(Boolean)).toBe(true);
    expect(db.calls.load).toBe(1);
  });

  it('keeps within the id bound: a point larger than it is checked chunk by chunk, older grants make room', async () => {
    const { db, access } = setup({ ttlMs: 5000, maxChunkIds: 100 });
    db.points.set('huge', ids('cc', 101));
    db.points.set('p1', ids('aa', 60));
    db.points.set('p2', ids('bb', 60));
    for (const p of db.points.keys()) db.readable.add(p);

    expect(await access.mayRead(TENANT, AGENT, 'cc00000000')).toBe(true);
    expect(await access.mayRead(TENANT, AGENT, 'cc00000001')).toBe(true);
    expect(access.heldChunkIds).toBe(0);
    expect(db.calls.granting).toBe(2);
    expect(db.calls.load).toBe(1); // found too large once, not loaded again for every chunk

    expect(await access.mayRead(TENANT, AGENT, 'aa00000000')).toBe(true);
    expect(access.heldChunkIds).toBe(60);
    expect(await access.mayRead(TENANT, AGENT, 'bb00000000')).toBe(true);
    expect(access.heldChunkIds).toBe(60); // p1's grant made room for p2's
    const before = db.calls.granting;
    expect(await access.mayRead(TENANT, AGENT, 'aa00000001')).toBe(true);
    expect(db.calls.granting).toBe(before + 1);
  });
});
