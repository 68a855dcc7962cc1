/**
 * `npm run bench`: runs every benchmark in test/bench/*.bench.ts and prints its figures. Benchmarks
 * measure their own baseline in the same run (memcpy, dd, …) because these machines are noisy:
 * compare the ratios, not the absolute numbers. Not part of `npm test`.
 *
 * A bench module exports one or more async functions named bench*; each returns a JSON-able result.
 * Pass names to run a subset: `npm run bench -- restore`.
 */
import { readdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const wanted = process.argv.slice(2);

function printResult(name: string, result: unknown): void {
  console.log(`\n== ${name}`);
  const rows = (result as { rows?: unknown }).rows;
  if (Array.isArray(rows) && rows.length > 0 && typeof rows[0] === 'object') {
    const { rows: _rows, ...rest } = result as Record<string, unknown>;
    if (Object.keys(rest).length > 0) console.log(JSON.stringify(rest, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)));
    console.table(rows);
  } else {
    console.log(JSON.stringify(result, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2));
  }
}

const files = (await readdir(here)).filter((f) => f.endsWith('.bench.ts')).sort();
let ran = 0;
for (const file of files) {
  const name = basename(file, '.bench.ts');
  if (wanted.length > 0 && !wanted.includes(name)) continue;
  const module = (await import(pathToFileURL(join(here, file)).href)) as Record<string, unknown>;
  for (const [exportName, fn] of Object.entries(module)) {
    if (!exportName.startsWith('bench') || typeof fn !== 'function') continue;
    const started = Date.now();
    const result: unknown = await (fn as () => Promise<unknown>)();
    printResult(`${name}: ${exportName} (${((Date.now() - started) / 1000).toFixed(1)} s)`, result);
    ran++;
  }
}
if (ran === 0) {
  console.error(`no benchmark matched ${wanted.join(' ') || '(all)'}; available: ${files.map((f) => basename(f, '.bench.ts')).join(', ')}`);
  process.exitCode = 1;
}
