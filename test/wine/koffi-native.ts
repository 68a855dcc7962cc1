/**
 * Stands in for the `koffi` package inside wine bundles: loads the Windows addon (koffi.node from
 * @koromix/koffi-win32-x64) placed next to the bundle. The addon itself is the full koffi API;
 * the package's JS only adds a loader and deprecation shims.
 */
import { dirname, join } from 'node:path';

const addon = { exports: {} as Record<string, unknown> };
process.dlopen(addon, join(dirname(process.argv[1] ?? '.'), 'koffi.node'));

export default addon.exports;
