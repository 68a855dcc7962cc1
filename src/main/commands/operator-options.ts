/**
 * What every operator command shares: where the server is and who is asking (flags, else the
 * LIFELINE_SERVER / LIFELINE_TOKEN / LIFELINE_FINGERPRINT environment), `--json`, and tables.
 */
import { connectOperator, type OperatorClient } from '../../adapters/node/http-operator-client.ts';
import { UsageError, booleanOption, stringOption, toJson } from '../cli-kit.ts';
import type { CommandIo, OptionSpec, ParsedArgs } from '../cli-kit.ts';

export const connectionOptions: Readonly<Record<string, OptionSpec>> = {
  server: { type: 'string', valueName: 'URL', description: 'The server, e.g. http://backup:50305 (else LIFELINE_SERVER).' },
  token: { type: 'string', valueName: 'TOKEN', description: 'Operator token (else LIFELINE_TOKEN).' },
  fingerprint: { type: 'string', valueName: 'SHA256', description: "Pin the server's self-signed certificate (else LIFELINE_FINGERPRINT)." },
  json: { type: 'boolean', description: 'Print JSON for scripts.' },
};

export type Env = Readonly<Record<string, string | undefined>>;

export function operatorClient(args: ParsedArgs, env: Env = process.env): OperatorClient {
  const url = stringOption(args, 'server') ?? env['LIFELINE_SERVER'];
  const token = stringOption(args, 'token') ?? env['LIFELINE_TOKEN'];
  const fingerprint = stringOption(args, 'fingerprint') ?? env['LIFELINE_FINGERPRINT'];
  if (url === undefined || url === '') throw new UsageError('give the server with --server URL or LIFELINE_SERVER');
  if (token === undefined || token === '') throw new UsageError('give an operator token with --token or LIFELINE_TOKEN');
  return connectOperator({ url, token, ...(fingerprint ? { fingerprint } : {}) });
}

/** Runs `work` with a client and closes it afterwards. */
export async function withClient<T>(args: ParsedArgs, work: (client: OperatorClient) => Promise<T>): Promise<T> {
  const client = operatorClient(args);
  try {
    return await work(client);
  } finally {
    await client.close();
  }
}

/** `--json` prints `value`, else `render(value)`. */
export function print<T>(args: ParsedArgs, io: CommandIo, value: T, render: (value: T) => string): void {
  io.out(booleanOption(args, 'json') ? toJson(value) : render(value));
}

export function onePositional(args: ParsedArgs, what: string): string {
  if (args.positionals.length !== 1) throw new UsageError(`give exactly one ${what}`);
  return args.positionals[0] as string;
}

/** Left-aligned columns under a header row. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const all = [header, ...rows];
  const widths = header.map((_, col) => Math.max(...all.map((r) => (r[col] ?? '').length)));
  return all.map((r) => r.map((cell, col) => cell.padEnd(widths[col] ?? 0)).join('  ').trimEnd()).join('\n');
}

export function orDash(value: string | null | undefined): string {
  return value === null || value === undefined || value === '' ? '-' : value;
}
