/** What the HTTP layer needs from the server around it (server.ts wires it). */
import type { ChunkStore } from '../../ports/chunk-store.ts';
import type { Catalog } from '../catalog/catalog.ts';
import type { ServerSecrets } from '../server-secrets.ts';

export interface ApiDeps {
  readonly catalog: Catalog;
  readonly secrets: ServerSecrets;
  /** The tenant's chunk store (opened on first use). */
  readonly storeOf: (tenantId: string) => Promise<ChunkStore>;
  /** Ask the scheduler to look for due jobs now (a job with schedule "now" was created). */
  readonly wakeScheduler: () => void;
  readonly clock: () => Date;
  readonly log: (line: string) => void;
  readonly version: string;
  /** "AB:CD:…" of the TLS certificate, shown by /v1/health. */
  readonly tlsFingerprint?: string;
  /** How often agents should poll (heartbeat answer). */
  readonly pollMs: number;
}
