/**
 * BcdBootTool over a scripted runner: exact commands and order for UEFI and BIOS restores, the
 * missing-system-partition recipe and its fallback, the BCD fix-up, and every failure path.
 * bcdedit answers with the captured store enumerations in test/fixtures/tools/.
 */
import { describe, expect, it } from 'vitest';
import { BcdBootTool } from '../../../../../src/adapters/win32/finish/bcd-boot-tool.ts';
import type { DiskRoom } from '../../../../../src/adapters/win32/finish/bcd-boot-tool.ts';
import type { RunResult } from '../../../../../src/ports/process-runner.ts';
import { exit, ok, ScriptedRunner } from '../fake-runner.ts';
import type { RecordedCall } from '../fake-runner.ts';
import { crlf, toolOutput } from '../tool-fixtures.ts';
import { line, lister, mounted, system, volume } from './finish-fakes.ts';

const ESP = 'c12a7328-f81f-11d2-ba4b-00a0c93ec93b';
/** A BIOS store whose {bootmgr} and {current} loader all name partition=C:. */
const BIOS_STORE = toolOutput('bcdedit__enum__bios-bootmgr-two-loaders-doc-heading-artefacts.txt');
/** The same store with {bootmgr} on `letter` (the first `partition=C:` is the boot manager's device). */
const storeWithBootmgrOn = (letter: string) => BIOS_STORE.replace('partition=C:', `partition=${letter}`);

interface Setup {
  readonly answers?: (call: RecordedCall, enumCount: number) => RunResult | undefined;
  readonly files?: readonly string[];
  readonly room?: DiskRoom;
}

function harness(views: Parameters<typeof lister>, setup: Setup = {}) {
  const lines: string[] = [];
  let enums = 0;
  const runner = new ScriptedRunner((call) => {
    lines.push(line(call));
    if (call.args.includes('/enum')) enums++;
    const answer = setup.answers?.(call, enums);
    if (answer !== undefined) return answer;
    if (call.file === 'diskpart.exe') return ok('DiskPart successfully assigned the drive letter or mount point.\r\n');
    if (call.file.endsWith('bcdboot.exe')) return ok('Boot files successfully created.\r\n');
    return ok(crlf(BIOS_STORE));
  });
  const files = new Set(setup.files ?? []);
  const tool = new BcdBootTool({
    runner, volumes: lister(...views), fileExists: (p) => files.has(p),
    diskRoom: async () => setup.room ?? { largestGapBytes: 0n, freePrimarySlots: 0 },
  });
  return { tool, lines };
}

describe('BcdBootTool, UEFI', () => {
  const restored = system('uefi', [
    volume(1, 1n, { type: ESP, filesystem: 'fat32', uniqueGuid: '11111111-1111-1111-1111-111111111111' }),
    volume(2, 101n, { type: 'e3c9e316-0b5c-4db8-817d-f92df00215ae', filesystem: 'unknown' }),
    volume(3, 117n, { type: 'ebd0a0a2-b9e5-4433-87c0-68b6b72699c7' }),
  ]);
  const before = [mounted('a', 1n), mounted('c', 117n, 'C')];
  const after = [mounted('a', 1n, 'Z'), mounted('c', 117n, 'C')];
  const uefiStore = (bootmgr: string, win: string) => BIOS_STORE.replace(/partition=C:/, `partition=${bootmgr}`).replace(/partition=C:/g, `partition=${win}`);

  it('letters the ESP, runs the OS\'s bcdboot /f UEFI, reads the store back and checks the files', async () => {
    const { tool, lines } = harness([before, after], {
      files: ['C:\\Windows\\System32\\config\\SYSTEM', 'Z:\\EFI\\Microsoft\\Boot\\bootmgfw.efi', 'Z:\\EFI\\Microsoft\\Boot\\BCD'],
      answers: (call) => (call.args.includes('/enum') ? ok(crlf(uefiStore('Z:', 'C:'))) : undefined),
    });
    const outcome = await tool.makeBootable(restored);
    expect(lines).toEqual([
      'diskpart /s [select disk 0 | select partition 1 | assign letter=Z | exit]',
      'C:\\Windows\\System32\\bcdboot.exe C:\\Windows /s Z: /f UEFI',
      'bcdedit.exe /store Z:\\EFI\\Microsoft\\Boot\\BCD /enum all /v',
    ]);
    expect(outcome.status).toBe('done');
    const detail = outcome.status === 'done' ? outcome.detail ?? '' : '';
    expect(detail).toContain('[pass] {bootmgr} device partition=Z:');
    expect(detail).toContain('[pass] {default} osdevice partition=C:');
    expect(detail).toContain('[pass] Z:\\EFI\\Microsoft\\Boot\\bootmgfw.efi present');
  });

  it('fails with boot.files-missing when bootmgfw.efi is not there after bcdboot', async () => {
    const { tool } = harness([after], {
      files: ['C:\\Windows\\System32\\config\\SYSTEM', 'Z:\\EFI\\Microsoft\\Boot\\BCD'],
      answers: (call) => (call.args.includes('/enum') ? ok(crlf(uefiStore('Z:', 'C:'))) : undefined),
    });
    const outcome = await tool.makeBootable(restored);
    expect(outcome).toMatchObject({ status: 'failed', code: 'boot.files-missing' });
    expect(outcome.status === 'failed' && outcome.message).toContain('[FAIL] Z:\\EFI\\Microsoft\\Boot\\bootmgfw.efi present');
  });

  it('fails with bcdboot\'s words and runs nothing after it', async () => {
    const { tool, lines } = harness([after], {
      files: ['C:\\Windows\\System32\\config\\SYSTEM'],
      answers: (call) => (call.file.endsWith('bcdboot.exe') ? exit(1, 'Failure when attempting to copy boot files.\r\n') : undefined),
    });
    const outcome = await tool.makeBootable(restored);
    expect(outcome).toMatchObject({ status: 'failed', code: 'tool.bcdboot-failed' });
    expect(outcome.status === 'failed' && outcome.message).toContain('Failure when attempting to copy boot files.');
    expect(lines).toEqual(['C:\\Windows\\System32\\bcdboot.exe C:\\Windows /s Z: /f UEFI']);
  });

  it('is skipped, running nothing, when no restored volume holds Windows', async () => {
    const { tool, lines } = harness([after], { files: [] });
    const outcome = await tool.makeBootable(restored);
    expect(outcome).toMatchObject({ status: 'skipped' });
    expect(outcome.status === 'skipped' && outcome.why).toContain('Z: (\\\\.\\PhysicalDrive0 partition 1), C: (\\\\.\\PhysicalDrive0 partition 3)');
    expect(lines).toEqual([]);
  });
});

describe('BcdBootTool, BIOS', () => {
  const sysReserved = volume(1, 1n, { bootable: true, name: 'System Reserved' });
  const windows = volume(2, 351n);
  const views = [mounted('k', 1n, 'K'), mounted('c', 351n, 'C')];
  const biosFiles = ['C:\\Windows\\System32\\config\\SYSTEM', 'K:\\bootmgr', 'K:\\Boot\\BCD'];

  it('uses the active partition and re-points a wrong {bootmgr} device with bcdedit /set', async () => {
    const { tool, lines } = harness([views], {
      files: biosFiles,
      answers: (call, enums) => (call.args.includes('/enum') ? ok(crlf(enums === 1 ? BIOS_STORE : storeWithBootmgrOn('K:'))) : undefined),
    });
    const outcome = await tool.makeBootable(system('bios', [sysReserved, windows]));
    expect(lines).toEqual([
      'C:\\Windows\\System32\\bcdboot.exe C:\\Windows /s K: /f BIOS',
      'bcdedit.exe /store K:\\Boot\\BCD /enum all /v',
      'bcdedit.exe /store K:\\Boot\\BCD /set {bootmgr} device partition=K:',
      'bcdedit.exe /store K:\\Boot\\BCD /enum all /v',
    ]);
    expect(outcome.status).toBe('done');
    expect(outcome.status === 'done' && outcome.detail).toContain('fixed {bootmgr} device: was partition=C:, set to partition=K:');
    expect(outcome.status === 'done' && outcome.detail).toContain('[pass] K:\\bootmgr present');
  });

  it('fails with boot.bcd-mismatch when the store still points elsewhere after the fix', async () => {
    const { tool, lines } = harness([views], { files: biosFiles });
    const outcome = await tool.makeBootable(system('bios', [sysReserved, windows]));
    expect(outcome).toMatchObject({ status: 'failed', code: 'boot.bcd-mismatch' });
    expect(outcome.status === 'failed' && outcome.message).toContain('[FAIL] {bootmgr} device partition=K: (is partition=C:)');
    expect(lines).toHaveLength(4);
  });

  it('fails with bcdedit\'s words when /set fails', async () => {
    const { tool } = harness([views], {
      files: biosFiles,
      answers: (call) => (call.args.includes('/set') ? exit(1, 'An error occurred while attempting to reference the specified entry.\r\nThe system cannot find the file specified.\r\n') : undefined),
    });
    const outcome = await tool.makeBootable(system('bios', [sysReserved, windows]));
    expect(outcome).toMatchObject({ status: 'failed', code: 'tool.bcdedit-failed' });
    expect(outcome.status === 'failed' && outcome.message).toContain('The system cannot find the file specified.');
  });

  it('creates the seed\'s 350 MB active system partition when none was restored and there is room', async () => {
    const { tool, lines } = harness([[mounted('c', 351n, 'C')]], {
      files: biosFiles, room: { largestGapBytes: 400n * 1024n * 1024n, freePrimarySlots: 3 },
      answers: (call, enums) => (call.args.includes('/enum') ? ok(crlf(enums === 1 ? storeWithBootmgrOn('K:') : storeWithBootmgrOn('K:'))) : undefined),
    });
    const outcome = await tool.makeBootable(system('bios', [windows]));
    expect(lines).toEqual([
      'diskpart /s [select disk 0 | create partition primary size=350 id=07 | format fs=ntfs quick label="System Reserved" | assign letter=K | active | exit]',
      'C:\\Windows\\System32\\bcdboot.exe C:\\Windows /s K: /f BIOS',
      'bcdedit.exe /store K:\\Boot\\BCD /enum all /v',
    ]);
    expect(outcome.status).toBe('done');
  });

  it('marks the Windows volume active and uses it as system partition when there is no room', async () => {
    const { tool, lines } = harness([[mounted('c', 351n, 'C')]], {
      files: ['C:\\Windows\\System32\\config\\SYSTEM', 'C:\\bootmgr', 'C:\\Boot\\BCD'], room: { largestGapBytes: 200n * 1024n * 1024n, freePrimarySlots: 3 },
    });
    const outcome = await tool.makeBootable(system('bios', [windows]));
    expect(lines).toEqual([
      'diskpart /s [select disk 0 | select partition 2 | active | exit]',
      'C:\\Windows\\System32\\bcdboot.exe C:\\Windows /s C: /f BIOS',
      'bcdedit.exe /store C:\\Boot\\BCD /enum all /v',
    ]);
    expect(outcome.status).toBe('done');
    expect(outcome.status === 'done' && outcome.detail).toContain('the Windows volume C: was marked active');
  });

  it('fails with diskpart\'s words when the recipe fails, before bcdboot', async () => {
    const { tool, lines } = harness([[mounted('c', 351n, 'C')]], {
      files: biosFiles, room: { largestGapBytes: 400n * 1024n * 1024n, freePrimarySlots: 1 },
      answers: (call) => (call.file === 'diskpart.exe' ? exit(4, 'Virtual Disk Service error:\r\nThere is not enough usable space for this operation.\r\n') : undefined),
    });
    const outcome = await tool.makeBootable(system('bios', [windows]));
    expect(outcome).toMatchObject({ status: 'failed', code: 'tool.diskpart-failed' });
    expect(outcome.status === 'failed' && outcome.message).toContain('There is not enough usable space for this operation.');
    expect(lines).toHaveLength(1);
  });
});
