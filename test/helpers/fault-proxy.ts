/**
 * A loopback TCP proxy between an agent and a server that cuts connections on purpose: after a
 * seeded pseudo-random number of bytes has gone through, the connection carrying them is
 * destroyed (both sides), `cuts` times in all. It also counts the chunks asked for (one per
 * `GET /v1/chunks/<id>`, one per id of a `POST /v1/chunks/read`), so tests can tell how much a
 * resumed run fetched again.
 * Bounded: at most `maxConnections` open at once, every socket closed by `stop()`.
 */
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';

export interface FaultProxyOptions {
  /** The server's port on 127.0.0.1. */
  readonly targetPort: number;
  /** How many connections to cut in all (default 0: a plain counting proxy). */
  readonly cuts?: number;
  /** A cut comes after a random number of bytes (server to client) in [min, max) since the last one. */
  readonly cutAfterBytes?: { readonly min: number; readonly max: number };
  /** Seed of the random cut points (same seed, same points). */
  readonly seed?: number;
  readonly maxConnections?: number;
}

export interface FaultProxy {
  /** `http://127.0.0.1:<port>` of the proxy. */
  readonly url: string;
  readonly port: number;
  /** Connections cut so far. */
  readonly cutsDone: number;
  /** Chunks asked for so far: `GET /v1/chunks/<id>` requests plus the ids of chunk-read requests. */
  readonly chunkGets: number;
  /** Bytes passed server to client so far. */
  readonly bytesDown: number;
  /** Stops cutting (the connections carry on normally). */
  calm(): void;
  stop(): Promise<void>;
}

/** xorshift32: deterministic cut points for a seed. */
function random(seed: number): () => number {
  let x = seed >>> 0 || 0x9e3779b9;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x1_0000_0000;
  };
}

const CHUNK_GET = 'GET /v1/chunks/';
const CHUNK_READ = 'POST /v1/chunks/read ';

/**
 * Counts the chunks a client's request stream asks for: reads whole HTTP/1.1 requests (headers,
 * then Content-Length bytes of body) off the bytes as they come, whatever the packet boundaries.
 */
class ChunkRequestCounter {
  count = 0;
  private pending = Buffer.alloc(0);
  /** Body bytes still to pass over (a request whose body does not matter, such as an upload). */
  private skip = 0;

  feed(data: Buffer): void {
    const skipped = Math.min(this.skip, data.length);
    this.skip -= skipped;
    this.pending = Buffer.concat([this.pending, data.subarray(skipped)]);
    for (;;) {
      const headerEnd = this.pending.indexOf('\r\n\r\n');
      if (headerEnd < 0) return;
      const head = this.pending.subarray(0, headerEnd).toString('latin1');
      const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
      const end = headerEnd + 4 + length;
      if (head.startsWith(CHUNK_GET)) this.count++;
      if (!head.startsWith(CHUNK_READ)) {
        this.skip = Math.max(0, end - this.pending.length);
        this.pending = this.pending.subarray(Math.min(end, this.pending.length));
        continue;
      }
      if (this.pending.length < end) return;
      const body = JSON.parse(this.pending.subarray(headerEnd + 4, end).toString('utf8')) as { ids?: unknown[] };
      this.count += body.ids?.length ?? 0;
      this.pending = this.pending.subarray(end);
    }
  }
}

export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const next = random(options.seed ?? 1);
  const range = options.cutAfterBytes ?? { min: 256 * 1024, max: 2 * 1024 * 1024 };
  const pickCut = () => range.min + Math.floor(next() * (range.max - range.min));
  let cutsLeft = options.cuts ?? 0;
  let untilCut = pickCut();
  let cutsDone = 0;
  let chunkGets = 0;
  let bytesDown = 0;
  const sockets = new Set<Socket>();

  const server = createServer((client) => {
    const upstream = connect({ host: '127.0.0.1', port: options.targetPort });
    sockets.add(client);
    sockets.add(upstream);
    const closeBoth = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', closeBoth).on('close', closeBoth);
    upstream.on('error', closeBoth).on('close', closeBoth);
    const counter = new ChunkRequestCounter();
    client.on('data', (data: Buffer) => {
      const before = counter.count;
      counter.feed(data);
      chunkGets += counter.count - before;
      if (!upstream.write(data)) client.pause();
    });
    upstream.on('drain', () => client.resume());
    client.on('drain', () => upstream.resume());
    upstream.on('data', (data: Buffer) => {
      bytesDown += data.length;
      if (cutsLeft > 0) {
        untilCut -= data.length;
        if (untilCut <= 0) {
          // Forward only part of this packet, then cut: the client sees a truncated answer.
          cutsLeft--;
          cutsDone++;
          untilCut = pickCut();
          client.write(data.subarray(0, Math.floor(data.length / 2)), closeBoth);
          return;
        }
      }
      if (!client.write(data)) upstream.pause();
    });
  });
  server.maxConnections = options.maxConnections ?? 64;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    get cutsDone() { return cutsDone; },
    get chunkGets() { return chunkGets; },
    get bytesDown() { return bytesDown; },
    calm() { cutsLeft = 0; },
    async stop() {
      for (const s of sockets) s.destroy();
      sockets.clear();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
