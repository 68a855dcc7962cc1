/**
 * The small command framework behind `lifeline`: each subcommand declares its options once, and
 * gets parsing, `--help` and clear usage errors from here.
 */
import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';

export interface CommandIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
}

export type OptionSpec = {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  readonly multiple?: boolean;
  readonly description: string;
  readonly valueName?: string;
};

export interface Command {
  /** Words after `lifeline`, e.g. ['disk', 'show']. */
  readonly path: readonly string[];
  readonly summary: string;
  /** Positional arguments, for the usage line: "<image-or-device>". */
  readonly positionals?: string;
  readonly options: Readonly<Record<string, OptionSpec>>;
  readonly details?: string;
  run(args: ParsedArgs, io: CommandIo): Promise<number>;
}

export interface ParsedArgs {
  readonly values: Readonly<Record<string, string | boolean | string[] | undefined>>;
  readonly positionals: readonly string[];
}

/** A user mistake on the command line: printed with the usage, exit code 2. */
export class UsageError extends Error {}

export function parseCommandArgs(command: Command, argv: readonly string[]): ParsedArgs {
  const options: NonNullable<ParseArgsConfig['options']> = { help: { type: 'boolean', short: 'h' } };
  for (const [name, spec] of Object.entries(command.options)) {
    options[name] = { type: spec.type, ...(spec.short ? { short: spec.short } : {}), ...(spec.multiple ? { multiple: true } : {}) };
  }
  try {
    const parsed = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
    return { values: parsed.values as ParsedArgs['values'], positionals: parsed.positionals };
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

export function helpText(command: Command): string {
  const lines = [`Usage: lifeline ${command.path.join(' ')}${command.positionals ? ` ${command.positionals}` : ''} [options]`, '', command.summary];
  if (command.details) lines.push('', command.details);
  const entries = Object.entries(command.options);
  lines.push('', 'Options:');
  const rows = entries.map(([name, spec]) => {
    const flag = `${spec.short ? `-${spec.short}, ` : '    '}--${name}${spec.type === 'string' ? ` ${spec.valueName ?? 'VALUE'}` : ''}`;
    return [flag, spec.description + (spec.multiple ? ' (repeatable)' : '')] as const;
  });
  rows.push(['-h, --help', 'Show this help.']);
  const width = Math.max(...rows.map(([flag]) => flag.length)) + 2;
  for (const [flag, description] of rows) lines.push(`  ${flag.padEnd(width)}${description}`);
  return lines.join('\n');
}

export function stringOption(args: ParsedArgs, name: string): string | undefined {
  const value = args.values[name];
  return typeof value === 'string' ? value : undefined;
}

export function requiredString(args: ParsedArgs, name: string): string {
  const value = stringOption(args, name);
  if (value === undefined || value === '') throw new UsageError(`--${name} is required`);
  return value;
}

export function booleanOption(args: ParsedArgs, name: string): boolean {
  return args.values[name] === true;
}

/** Parses a whole number option within bounds, naming the option in the error. */
export function integerOption(args: ParsedArgs, name: string, bounds: { min: number; max: number }): number | undefined {
  const text = stringOption(args, name);
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text)) throw new UsageError(`--${name} must be a whole number, got "${text}"`);
  const value = Number(text);
  if (value < bounds.min || value > bounds.max) throw new UsageError(`--${name} must be between ${bounds.min} and ${bounds.max}, got ${value}`);
  return value;
}

/** JSON for scripts: bigints become numbers when exact, decimal strings otherwise; bytes become hex. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'bigint') return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= -BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
    if (v instanceof Uint8Array) return Array.from(v, (b) => b.toString(16).padStart(2, '0')).join('');
    return v;
  }, 2);
}
