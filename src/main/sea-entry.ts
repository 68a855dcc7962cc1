/**
 * Entry of lifeline.exe (iso-build bundles this file, not cli.ts). Order matters:
 *   1. unpack the embedded assets and set blessed's terminfo folder (sea-assets.ts);
 *   2. only then load the CLI, so blessed and the native addons are first required after step 1;
 *   3. run it with the process arguments.
 * `lifeline.exe --runtime-check` loads every embedded part (koffi calling kernel32, an lz4 round
 * trip, blessed's windows-ansi terminfo) and prints what it found as JSON: the build's smoke test.
 */
import { prepareSeaRuntime, loadNativeAddon } from './sea-assets.ts';

interface KoffiLike {
  load(library: string): { func(signature: string): (...args: unknown[]) => unknown };
  sizeof(type: string): number;
}
interface Lz4Like {
  compressSync(data: Buffer): Buffer;
  uncompressSync(data: Buffer): Buffer;
}
interface TputLike {
  readonly terminal: string;
  readonly colors: number;
  readonly error: Error | null;
}

async function runtimeCheck(): Promise<Record<string, unknown>> {
  const runtime = prepareSeaRuntime();
  const koffi = loadNativeAddon('koffi') as KoffiLike;
  const pid = process.platform === 'win32' ? koffi.load('kernel32.dll').func('uint32_t __stdcall GetCurrentProcessId()')() : undefined;
  const lz4 = loadNativeAddon('lz4-napi') as Lz4Like;
  const sample = Buffer.from('lifeline '.repeat(64));
  const packed = lz4.compressSync(sample);
  const blessed = (await import('blessed')).default as unknown as { tput(options: { terminal: string }): TputLike };
  const tput = blessed.tput({ terminal: 'windows-ansi' });
  const { version } = await import('./version.ts');
  return {
    version, node: process.version, platform: process.platform, arch: process.arch, assets: runtime?.dir ?? null,
    koffi: { pointerSize: koffi.sizeof('void *'), getCurrentProcessIdMatches: pid === process.pid },
    lz4: { compressed: packed.length < sample.length, roundTrip: lz4.uncompressSync(packed).equals(sample) },
    // On Windows no system terminfo exists: "Terminfo parse error." means blessed fell back to its own copy.
    blessed: { terminal: tput.terminal, colors: tput.colors, fallback: tput.error?.message ?? null },
  };
}

async function run(argv: readonly string[]): Promise<number> {
  prepareSeaRuntime();
  if (argv[0] === '--runtime-check') {
    process.stdout.write(`${JSON.stringify(await runtimeCheck(), null, 2)}\n`);
    return 0;
  }
  const { main } = await import('./cli.ts');
  return main(argv);
}

run(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (e: unknown) => {
    process.stderr.write(`lifeline: ${(e as Error).stack ?? String(e)}\n`);
    process.exitCode = 1;
  },
);
