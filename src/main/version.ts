import { createRequire } from 'node:module';

/** The package version, also embedded in the Windows executable's bundle. */
export const version: string = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;
