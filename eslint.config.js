// Layer rules of docs/architecture.md, enforced at error level: imports point downward only.
import tseslint from 'typescript-eslint';

const runtimePackages = ['undici', 'koffi', 'blessed', 'systeminformation', 'tar-stream'];
const nodeBuiltins = ['node:*', 'fs', 'path', 'os', 'child_process', 'crypto', 'zlib', 'net', 'http', 'https', 'stream', 'buffer', 'util'];

/** Forbid import paths matching the given globs for files under `files`. */
function layer(files, forbidden, message) {
  return {
    files,
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', {
        patterns: [{ group: forbidden, message, allowTypeImports: false }],
      }],
    },
  };
}

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'build/**', 'coverage/**', '.data/**', 'lifeline-data/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-syntax': ['error', { selector: 'TSEnumDeclaration', message: 'Use a union of string literals instead of enum.' }],
    },
  },
  layer(['src/core/**'],
    ['**/ports/**', '**/app/**', '**/adapters/**', '**/tui/**', '**/main/**', '**/server/**', ...nodeBuiltins, ...runtimePackages],
    'core is pure: it imports only core.'),
  layer(['src/ports/**'],
    ['**/app/**', '**/adapters/**', '**/tui/**', '**/main/**', '**/server/**', ...nodeBuiltins, ...runtimePackages],
    'ports import only core.'),
  layer(['src/app/**'],
    ['**/adapters/**', '**/tui/**', '**/main/**', '**/server/**', ...nodeBuiltins, ...runtimePackages],
    'app imports only core and ports.'),
  layer(['src/tui/state/**'],
    ['**/adapters/**', '**/main/**', '**/server/**', '**/views/**', ...nodeBuiltins, ...runtimePackages],
    'tui/state is pure: core, app types only.'),
  layer(['src/tui/views/**', 'src/tui/*.ts'],
    ['**/adapters/**', '**/main/**', '**/server/**', 'koffi', 'undici'],
    'tui views use app and ports, never adapters.'),
  layer(['src/adapters/node/**'],
    ['**/app/**', '**/tui/**', '**/main/**', '**/server/**', '**/adapters/linux/**', '**/adapters/win32/**', '**/adapters/memory/**', '../linux/**', '../win32/**', '../memory/**', 'koffi', 'blessed'],
    'adapters/node is shared by the other adapters and imports none of them.'),
  layer(['src/adapters/linux/**'],
    ['**/app/**', '**/tui/**', '**/main/**', '**/server/**', '**/adapters/win32/**', '**/adapters/memory/**', '../win32/**', '../memory/**', 'koffi', 'blessed'],
    'adapters/linux may use core, ports and adapters/node only.'),
  layer(['src/adapters/memory/**'],
    ['**/app/**', '**/tui/**', '**/main/**', '**/server/**', '**/adapters/win32/**', '**/adapters/linux/**', '../win32/**', '../linux/**', 'koffi', 'blessed'],
    'adapters/memory may use core, ports and adapters/node only.'),
  layer(['src/adapters/win32/**'],
    ['**/app/**', '**/tui/**', '**/main/**', '**/server/**', '**/adapters/linux/**', '**/adapters/memory/**', '../linux/**', '../memory/**', 'blessed'],
    'adapters/win32 may use core, ports, adapters/node and koffi only.'),
  layer(['src/server/**'],
    ['**/tui/**', '**/main/**', '**/adapters/win32/**', 'koffi', 'blessed'],
    'the server never touches the appliance UI or Windows disks.'),
  {
    // koffi is the Windows adapter's alone.
    files: ['src/**'],
    ignores: ['src/adapters/win32/**'],
    rules: { 'no-restricted-imports': ['error', { paths: [{ name: 'koffi', message: 'Only src/adapters/win32 imports koffi.' }] }] },
  },
);
