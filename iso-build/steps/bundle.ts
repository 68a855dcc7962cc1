/**
 * One CommonJS file for the SEA: src/main/sea-entry.ts (which runs src/main/cli.ts) and everything
 * it imports, for the embedded Node version. A SEA's `require` loads only built-in modules, so:
 *  - `koffi` and `lz4-napi` become stubs that load their Windows addon from the exe's assets
 *    (src/main/sea-assets.ts loadNativeAddon);
 *  - src/main/version.ts, which reads package.json next to the sources, becomes a constant;
 *  - blessed's `require('./widgets/' + file)` gets its `.js` (esbuild's glob map has the full
 *    names), and its `__dirname + '/../usr'` terminfo/font folder becomes the folder the assets
 *    were unpacked into (LIFELINE_BLESSED_USR), since the exe has no blessed folder beside it.
 * Each rewrite must find what it replaces, so a changed dependency fails the build, not the exe.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { build } from 'esbuild';
import type { Plugin } from 'esbuild';

export const NATIVE_MODULES = ['koffi', 'lz4-napi'] as const;

export interface BundleInput {
  readonly root: string;
  readonly outfile: string;
  readonly nodeVersion: string;
  readonly version: string;
  /**
   * Where the native modules come from: the exe's assets (the default, for the SEA), or the
   * installed packages (`require` from node_modules: the same bundle run by plain `node`, which
   * is how the benchmark measures the code that ships without the TypeScript loader).
   */
  readonly natives?: 'embedded' | 'installed';
}

/** Replaces `pattern` in `text`, failing when it is not there. */
function mustReplace(text: string, pattern: RegExp, replacement: string, what: string): string {
  if (!pattern.test(text)) throw new Error(`bundle: ${what} not found; the blessed fix no longer applies`);
  return text.replace(pattern, replacement);
}

function seaPlugin(input: BundleInput): Plugin {
  const seaAssets = join(input.root, 'src/main/sea-assets.ts');
  const usr = "(process.env.LIFELINE_BLESSED_USR || __dirname + '/../usr')";
  return {
    name: 'lifeline-sea',
    setup(b) {
      const natives = new RegExp(`^(${NATIVE_MODULES.join('|')})$`);
      b.onResolve({ filter: natives }, (args) => (input.natives === 'installed' ? { path: args.path, external: true } : { path: args.path, namespace: 'lifeline-native' }));
      b.onLoad({ filter: /.*/, namespace: 'lifeline-native' }, (args) => ({
        contents: `module.exports = require(${JSON.stringify(seaAssets)}).loadNativeAddon(${JSON.stringify(args.path)});\n`,
        resolveDir: input.root,
        loader: 'js',
      }));
      b.onLoad({ filter: /[\\/]src[\\/]main[\\/]version\.ts$/ }, () => ({
        contents: `/** Filled in by iso-build/steps/bundle.ts. */\nexport const version: string = ${JSON.stringify(input.version)};\n`,
        loader: 'ts',
      }));
      b.onLoad({ filter: /[\\/]blessed[\\/]lib[\\/]widget\.js$/ }, async (args) => ({
        contents: mustReplace(await readFile(args.path, 'utf8'), /require\('\.\/widgets\/' \+ file\)/, "require('./widgets/' + file + '.js')", 'widget.js require of ./widgets/'),
        loader: 'js',
      }));
      b.onLoad({ filter: /[\\/]blessed[\\/]lib[\\/]tput\.js$/ }, async (args) => ({
        contents: mustReplace(await readFile(args.path, 'utf8'), /__dirname \+ '\/\.\.\/usr\//g, `${usr} + '/`, "tput.js __dirname + '/../usr/'"),
        loader: 'js',
      }));
      b.onLoad({ filter: /[\\/]blessed[\\/]lib[\\/]widgets[\\/]bigtext\.js$/ }, async (args) => ({
        contents: mustReplace(await readFile(args.path, 'utf8'), /__dirname \+ '\/\.\.\/\.\.\/usr\//g, `(process.env.LIFELINE_BLESSED_USR || __dirname + '/../../usr') + '/`, "bigtext.js __dirname + '/../../usr/'"),
        loader: 'js',
      }));
    },
  };
}

export interface BundleResult {
  readonly outfile: string;
  readonly bytes: number;
  /** Source files in the bundle, relative to the repository. */
  readonly inputs: readonly string[];
  readonly warnings: readonly string[];
}

export async function bundleApp(input: BundleInput): Promise<BundleResult> {
  const result = await build({
    absWorkingDir: input.root,
    entryPoints: [join(input.root, 'src/main/sea-entry.ts')],
    outfile: input.outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: `node${input.nodeVersion}`,
    // blessed's terminal widget asks for these optional packages only when it is used.
    external: ['term.js', 'pty.js'],
    plugins: [seaPlugin(input)],
    metafile: true,
    logLevel: 'silent',
    charset: 'utf8',
  });
  const inputs = Object.keys(result.metafile.inputs).sort();
  const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
  return { outfile: input.outfile, bytes, inputs, warnings: result.warnings.map((w) => `${w.location?.file ?? ''}:${w.location?.line ?? ''} ${w.text}`) };
}
