/**
 * The Windows-like fixture disks the tests build with the real tools. They live in
 * src/adapters/linux/sample-disks.ts because the demo (`npm start`) and the benchmarks make the same
 * disks; this module keeps the tests' import path.
 */
export * from '../../src/adapters/linux/sample-disks.ts';
