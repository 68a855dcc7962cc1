/**
 * `--passphrase-file FILE`, as `lifeline backup` and `lifeline agent` read it: the passphrase is
 * the first line of FILE, which must not be empty. Each command says what applies without the flag.
 */
import { readFile } from 'node:fs/promises';
import { stringOption, UsageError } from '../cli-kit.ts';
import type { ParsedArgs } from '../cli-kit.ts';

/** The first line of --passphrase-file; undefined when the flag is not given. */
export async function passphraseFromFile(args: ParsedArgs): Promise<string | undefined> {
  const file = stringOption(args, 'passphrase-file');
  if (file === undefined) return undefined;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new UsageError(`--passphrase-file: cannot read ${file}: ${(e as Error).message}`);
  }
  const first = text.split(/\r?\n/)[0] ?? '';
  if (first === '') throw new UsageError(`--passphrase-file: the first line of ${file} is empty`);
  return first;
}
