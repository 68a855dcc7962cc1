/** `lifeline` — one entry, many subcommands. Finds the command, parses its options, runs it. */
import { isRecoveryError } from '../core/errors.ts';
import { helpText, parseCommandArgs, UsageError } from './cli-kit.ts';
import type { Command, CommandIo } from './cli-kit.ts';
import { commandEntries } from './commands/index.ts';
import type { CommandEntry } from './commands/index.ts';
import { version } from './version.ts';

const defaultIo: CommandIo = {
  out: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
  err: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
};

/** The command list for people; loads the commands it lists, for their summaries. */
async function overview(prefix: readonly string[]): Promise<string> {
  const entries = commandEntries.filter((c) => prefix.every((word, i) => c.path[i] === word));
  const matching = await Promise.all(entries.map((e) => e.load()));
  const width = Math.max(...matching.map((c) => c.path.join(' ').length)) + 2;
  const lines = [
    `lifeline ${version} — bare-metal recovery for Windows`,
    '',
    `Usage: lifeline ${prefix.length ? `${prefix.join(' ')} ` : ''}<command> [options]`,
    '',
    'Commands:',
    ...matching.map((c) => `  ${c.path.join(' ').padEnd(width)}${c.summary}`),
    '',
    "Run 'lifeline <command> --help' for a command's options.",
  ];
  return lines.join('\n');
}

/** Longest command path that prefixes argv. */
function findCommand(argv: readonly string[]): { entry: CommandEntry; rest: readonly string[] } | undefined {
  let best: CommandEntry | undefined;
  for (const entry of commandEntries) {
    if (entry.path.every((word, i) => argv[i] === word) && (!best || entry.path.length > best.path.length)) best = entry;
  }
  return best ? { entry: best, rest: argv.slice(best.path.length) } : undefined;
}

export async function main(argv: readonly string[], io: CommandIo = defaultIo): Promise<number> {
  if (argv[0] === '--version' || argv[0] === '-V') {
    io.out(version);
    return 0;
  }
  const found = findCommand(argv);
  if (!found) {
    const words = argv.filter((a) => !a.startsWith('-'));
    const prefix = words.slice(0, 1).filter((w) => commandEntries.some((c) => c.path[0] === w));
    const asksHelp = argv.length === 0 || argv.includes('--help') || argv.includes('-h');
    if (asksHelp || prefix.length > 0) {
      const wanted = argv.length > prefix.length && !asksHelp ? `Unknown command: lifeline ${argv.join(' ')}\n\n` : '';
      (wanted ? io.err : io.out)(wanted + (await overview(prefix)));
      return wanted ? 2 : 0;
    }
    io.err(`Unknown command: ${argv.join(' ')}\n\n${await overview([])}`);
    return 2;
  }
  const { entry, rest } = found;
  let command: Command | undefined;
  try {
    command = await entry.load();
    const args = parseCommandArgs(command, rest);
    if (args.values.help === true) {
      io.out(helpText(command));
      return 0;
    }
    return await command.run(args, io);
  } catch (e) {
    if (e instanceof UsageError && command !== undefined) {
      io.err(`lifeline ${command.path.join(' ')}: ${e.message}\n\n${helpText(command)}`);
      return 2;
    }
    if (isRecoveryError(e)) {
      io.err(`error [${e.code}]: ${e.message}`);
      return 1;
    }
    io.err(`error: ${(e as Error).stack ?? String(e)}`);
    return 1;
  }
}
