#!/usr/bin/env node
// Development entry: run the TypeScript sources through tsx. The Windows executable bundles
// src/main/cli.ts instead (iso-build/), so nothing here ships to WinPE.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/main/cli.ts');
process.exitCode = await main(process.argv.slice(2));
