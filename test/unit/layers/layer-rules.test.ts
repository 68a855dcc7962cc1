// The layer map of docs/architecture.md is only worth something if lint really refuses a wrong
// import: lint sample sources as if they lived in each layer.
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const eslint = new ESLint({ cwd: process.cwd() });

async function restrictedImports(filePath: string, source: string): Promise<string[]> {
  const [result] = await eslint.lintText(source, { filePath });
  return (result?.messages ?? [])
    .filter((m) => m.ruleId?.endsWith('no-restricted-imports'))
    .map((m) => m.message);
}

describe('layer rules', () => {
  it.each([
    ['src/core/partition/sample.ts', "import { readFile } from 'node:fs/promises';\nexport const f = readFile;\n"],
    ['src/core/partition/sample.ts', "import type { BlockDevice } from '../../ports/block-device.ts';\nexport type D = BlockDevice;\n"],
    ['src/ports/sample.ts', "import { request } from 'undici';\nexport const r = request;\n"],
    ['src/app/sample.ts', "import { x } from '../adapters/linux/image-file.ts';\nexport const y = x;\n"],
    ['src/tui/state/sample.ts', "import blessed from 'blessed';\nexport const b = blessed;\n"],
    ['src/adapters/linux/sample.ts', "import { x } from '../win32/thing.ts';\nexport const y = x;\n"],
    ['src/adapters/node/sample.ts', "import koffi from 'koffi';\nexport const k = koffi;\n"],
    ['src/server/sample.ts', "import koffi from 'koffi';\nexport const k = koffi;\n"],
  ])('refuses the wrong import in %s', async (filePath, source) => {
    expect(await restrictedImports(filePath, source)).not.toEqual([]);
  });

  it.each([
    ['src/core/partition/sample.ts', "import { RecoveryError } from '../errors.ts';\nexport const e = RecoveryError;\n"],
    ['src/app/sample.ts', "import type { BlockDevice } from '../ports/block-device.ts';\nexport type D = BlockDevice;\n"],
    ['src/adapters/linux/sample.ts', "import { open } from 'node:fs/promises';\nexport const o = open;\n"],
    ['src/adapters/win32/sample.ts', "import koffi from 'koffi';\nexport const k = koffi;\n"],
  ])('allows the right import in %s', async (filePath, source) => {
    expect(await restrictedImports(filePath, source)).toEqual([]);
  });
});
