/**
 * PhysicalDrive under wine: the shared BlockDevice contract (both sector sizes) and the win32
 * open-time refusals, run by a Windows node.exe through koffi's Windows addon against wine's
 * kernel32 (see harness.ts). Skips, with the reason printed, where wine or the npm registry is
 * unavailable. What wine cannot show (disk IOCTLs, volume locks) is in docs/windows-adapter.md.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestResult } from './mini-vitest.ts';
import { bundleEntry, prepareWine, runUnderWine } from './harness.ts';
import type { WineRun } from './harness.ts';

interface Report {
  readonly platform: string;
  readonly arch: string;
  readonly koffi: string;
  readonly tests: readonly TestResult[];
  readonly info: Record<string, unknown>;
  readonly fatal?: string;
}

const ENTRY = join(import.meta.dirname, 'entries', 'physical-drive.entry.ts');
/** Tests in the shared contract suite (test/contract/block-device.contract.ts). */
const CONTRACT_TESTS = 9;

let skipReason: string | undefined;
let run: WineRun<Report> | undefined;
let dir: string | undefined;

beforeAll(async () => {
  const prepared = await prepareWine();
  if (!prepared.ok) {
    skipReason = prepared.reason;
    console.warn(`wine tests skipped: ${prepared.reason}`);
    return;
  }
  dir = await mkdtemp(join(tmpdir(), 'lifeline-wine-'));
  const bundle = await bundleEntry(ENTRY, dir, prepared.toolchain);
  run = await runUnderWine<Report>(prepared.toolchain, bundle, dir);
  console.info(`wine (${prepared.toolchain.wineVersion}): toolchain ready in ${prepared.ms} ms, entry ran in ${run.ms} ms`);
}, 300_000);

afterAll(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

function report(skip: (note?: string) => never): Report {
  if (skipReason !== undefined) skip(skipReason);
  const r = run?.report;
  expect(r, `no report from the wine run (exit ${run?.exitCode}); log:\n${run?.log.slice(-4000)}`).toBeDefined();
  expect(r?.fatal, r?.fatal).toBeUndefined();
  return r!;
}

function failures(tests: readonly TestResult[]): string[] {
  return tests.filter((t) => t.status !== 'passed').map((t) => `${t.suite} › ${t.name}: ${t.status}\n${t.error ?? ''}`);
}

describe('PhysicalDrive under wine (Windows node.exe + koffi win32 addon)', () => {
  it('ran as a Windows x64 process with koffi loaded', ({ skip }) => {
    const r = report(skip);
    expect([r.platform, r.arch]).toEqual(['win32', 'x64']);
    expect(r.koffi).toMatch(/^\d+\.\d+\.\d+$/);
    expect(run?.exitCode).toBe(0);
  });

  it.for([512, 4096])('passes the BlockDevice contract on an image file with %i-byte sectors', (sector, { skip }) => {
    const r = report(skip);
    const suite = r.tests.filter((t) => t.suite.startsWith('BlockDevice contract') && t.suite.endsWith(`${sector}-byte sectors`));
    expect(suite.length).toBe(CONTRACT_TESTS);
    expect(failures(suite)).toEqual([]);
  });

  it('refuses non-disks, reports missing disks and Win32 errors, and aligns its buffers', ({ skip }) => {
    const r = report(skip);
    const specifics = r.tests.filter((t) => t.suite.startsWith('kernel32'));
    expect(specifics.length).toBeGreaterThan(0);
    expect(failures(specifics)).toEqual([]);
    expect(r.info.physicalDrive99).toBe('device.not-found');
    // DeviceIoControl(IOCTL_DISK_GET_LENGTH_INFO) on a file handle: wine answers ERROR_NOT_SUPPORTED (50).
    expect(typeof r.info.fileIoctlError).toBe('number');
  });

  it('enumerates volumes and disks through the real calls, and explains a firmware type it cannot find', ({ skip }) => {
    const r = report(skip);
    expect(Array.isArray(r.info.volumes) && Array.isArray(r.info.disks)).toBe(true);
    if (r.info.getFirmwareType === 'missing') expect((r.info.firmware as { code: string }).code).toBe('firmware.unknown');
    const seen = ['logicalDrives', 'volumes', 'disks', 'physicalDrive0', 'getFirmwareType'].map((k) => `${k} ${JSON.stringify(r.info[k])}`);
    console.info(`under wine: ${seen.join('; ')}`);
  });
});
