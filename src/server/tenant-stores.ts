/**
 * One chunk store per tenant, `<data>/chunks/<tenantId>/`: chunk ids are keyed per tenant, and a
 * separate folder means one tenant's upload can never stand in for a blob another tenant needs.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ChunkStore } from '../ports/chunk-store.ts';
import { LocalFolderStore } from './chunk-store/local-folder-store.ts';

export class TenantStores {
  private readonly open = new Map<string, Promise<LocalFolderStore>>();

  constructor(private readonly root: string) {}

  storeOf(tenantId: string): Promise<ChunkStore> {
    return this.local(tenantId);
  }

  private local(tenantId: string): Promise<LocalFolderStore> {
    let store = this.open.get(tenantId);
    if (store === undefined) {
      store = LocalFolderStore.open(join(this.root, tenantId));
      store.catch(() => this.open.delete(tenantId));
      this.open.set(tenantId, store);
    }
    return store;
  }

  /** Removes blobs half-written by a crashed server (README of the chunk store: sweep at start). */
  async sweepTemp(olderThanMs: number): Promise<number> {
    const names = await readdir(this.root).catch(() => [] as string[]);
    let removed = 0;
    for (const name of names.filter((n) => /^[0-9a-f-]{36}$/.test(n))) {
      removed += await (await this.local(name)).sweepTemp(olderThanMs);
    }
    return removed;
  }
}
