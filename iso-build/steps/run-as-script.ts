/** Runs a build tool's `cli` when its file is the script node was started with (not when imported by tests). */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export function runIfMain(moduleUrl: string, name: string, cli: (argv: string[]) => Promise<number>): void {
  if (process.argv[1] === undefined || resolve(process.argv[1]) !== fileURLToPath(moduleUrl)) return;
  cli(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (e: unknown) => {
    process.stderr.write(`${name}: ${(e as Error).message}\n`);
    process.exitCode = 1;
  });
}
