/** `lifeline server`: run the backup server on embedded defaults until SIGINT or SIGTERM. */
import { resolve } from 'node:path';
import { DEFAULT_PORT, DEFAULT_TLS_PORT, startServer, type RunningServer } from '../../server/server.ts';
import { UsageError, booleanOption, integerOption, stringOption } from '../cli-kit.ts';
import type { Command, CommandIo, ParsedArgs } from '../cli-kit.ts';
import { version } from '../version.ts';

export const server: Command = {
  path: ['server'],
  summary: 'Run the backup server (HTTP API, catalog, chunk store, scheduler).',
  options: {
    data: { type: 'string', valueName: 'DIR', description: 'Data folder: catalog, chunks, TLS certificate (default ./lifeline-data).' },
    port: { type: 'string', valueName: 'N', description: `Plain HTTP port (default ${DEFAULT_PORT}; 0 picks a free one).` },
    'tls-port': { type: 'string', valueName: 'N', description: `TLS port (default ${DEFAULT_TLS_PORT}; 0 picks a free one).` },
    'no-tls': { type: 'boolean', description: 'Serve plain HTTP only.' },
    listen: { type: 'string', valueName: 'ADDR', description: 'Address to listen on (default 0.0.0.0, every IPv4 interface).' },
    cert: { type: 'string', valueName: 'FILE', description: 'PEM certificate to serve instead of the self-signed one (with --key).' },
    key: { type: 'string', valueName: 'FILE', description: 'PEM private key of --cert.' },
    database: { type: 'string', valueName: 'URL', description: 'postgres://user:pass@host/db for a PostgreSQL catalog (default: embedded, in the data folder).' },
    'multi-tenant': { type: 'boolean', description: 'Require an access key from every agent (kept for later starts).' },
    'single-tenant': { type: 'boolean', description: 'Let agents without an access key join the default tenant (kept for later starts).' },
  },
  details: [
    'On its first start the server makes a self-signed TLS certificate and an admin token, and prints both:',
    'clients pin the certificate by its SHA-256 fingerprint; the token is shown only once.',
  ].join('\n'),
  async run(args, io) {
    const running = await startServer(serverOptions(args, io));
    printBanner(running, args, io);
    await new Promise<void>((done) => {
      process.once('SIGINT', done);
      process.once('SIGTERM', done);
    });
    io.out('stopping…');
    await running.stop();
    io.out('stopped');
    return 0;
  },
};

function serverOptions(args: ParsedArgs, io: CommandIo): Parameters<typeof startServer>[0] {
  const cert = stringOption(args, 'cert');
  const key = stringOption(args, 'key');
  if ((cert === undefined) !== (key === undefined)) throw new UsageError('--cert and --key go together');
  if (booleanOption(args, 'multi-tenant') && booleanOption(args, 'single-tenant')) throw new UsageError('--multi-tenant or --single-tenant, not both');
  const database = stringOption(args, 'database');
  const listen = stringOption(args, 'listen');
  const port = integerOption(args, 'port', { min: 0, max: 65535 });
  const tlsPort = integerOption(args, 'tls-port', { min: 0, max: 65535 });
  const tenancy = booleanOption(args, 'multi-tenant') ? 'multi' : booleanOption(args, 'single-tenant') ? 'single' : undefined;
  return {
    dataDir: resolve(stringOption(args, 'data') ?? 'lifeline-data'),
    version,
    log: (line) => io.out(`${new Date().toISOString()} ${line}`),
    ...(database !== undefined ? { database } : {}),
    ...(listen !== undefined ? { listen } : {}),
    ...(port !== undefined ? { port } : {}),
    tlsPort: booleanOption(args, 'no-tls') ? null : (tlsPort ?? DEFAULT_TLS_PORT),
    ...(cert !== undefined && key !== undefined ? { tls: { certFile: cert, keyFile: key } } : {}),
    ...(tenancy !== undefined ? { tenancy } : {}),
  };
}

function printBanner(running: RunningServer, args: ParsedArgs, io: CommandIo): void {
  const host = running.listen.includes(':') ? `[${running.listen}]` : running.listen;
  const lines = [`Lifeline server ${version}`, `HTTP  listening on ${host}:${running.httpPort}`];
  if (running.httpsPort !== undefined) lines.push(`HTTPS listening on ${host}:${running.httpsPort}`);
  if (running.tlsFingerprint !== undefined) {
    lines.push(`TLS certificate SHA-256 fingerprint: ${running.tlsFingerprint}${running.tlsCreated ? ' (new self-signed certificate)' : ''}`);
  }
  if (running.adminToken !== undefined) {
    lines.push(
      '',
      'First start: an admin token was created. It is shown only this once; keep it safe:',
      `  ${running.adminToken}`,
      `  (e.g. export LIFELINE_TOKEN=${running.adminToken})`,
      '',
    );
  }
  if (booleanOption(args, 'no-tls')) lines.push('TLS is off: tokens and access keys travel in clear text.');
  io.out(lines.join('\n'));
}
