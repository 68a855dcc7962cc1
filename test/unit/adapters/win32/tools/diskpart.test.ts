/** diskpart script builders (exact text) and the runner's file handling and failure judgement. */
import { existsSync, readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { biosSystemPartitionScript, diskpartLine, diskpartScript, runDiskpart } from '../../../../../src/adapters/win32/tools/diskpart.ts';
import type { DiskpartCommand } from '../../../../../src/adapters/win32/tools/diskpart.ts';
import { tempDir } from '../../../../helpers/run.ts';
import { ScriptedRunner, exit, ok, rejectionOf } from '../fake-runner.ts';

describe('diskpartLine', () => {
  it.each<[string, DiskpartCommand]>([
    ['select disk 0', { op: 'select-disk', disk: 0 }],
    ['select partition 2', { op: 'select-partition', partition: 2 }],
    ['select volume 3', { op: 'select-volume', volume: 3 }],
    ['select volume C', { op: 'select-volume', volume: 'c:' }],
    ['clean', { op: 'clean' }],
    ['convert gpt', { op: 'convert', style: 'gpt' }],
    ['convert mbr', { op: 'convert', style: 'mbr' }],
    ['create partition primary size=350 id=07', { op: 'create-partition', kind: 'primary', sizeMb: 350, id: 0x07 }],
    ['create partition primary offset=1024 id=27', { op: 'create-partition', kind: 'primary', offsetKb: 1024, id: 0x27 }],
    ['create partition primary id=de94bba4-06d1-4d40-a16a-bfd50179d6ac', { op: 'create-partition', kind: 'primary', id: 'DE94BBA4-06D1-4D40-A16A-BFD50179D6AC' }],
    ['create partition efi size=260', { op: 'create-partition', kind: 'efi', sizeMb: 260 }],
    ['create partition msr size=16', { op: 'create-partition', kind: 'msr', sizeMb: 16 }],
    ['create partition primary', { op: 'create-partition', kind: 'primary' }],
    ['format fs=ntfs quick label="System Reserved"', { op: 'format', fs: 'ntfs', quick: true, label: 'System Reserved' }],
    ['format fs=fat32 quick label="System"', { op: 'format', fs: 'fat32', quick: true, label: 'System' }],
    ['format fs=ntfs', { op: 'format', fs: 'ntfs', quick: false }],
    ['assign letter=K', { op: 'assign-letter', letter: 'k' }],
    ['assign letter=W', { op: 'assign-letter', letter: 'W:' }],
    ['active', { op: 'active' }],
    ['set id=27', { op: 'set-id', id: 0x27 }],
    ['gpt attributes=0x8000000000000001', { op: 'gpt-attributes', attributes: 0x8000000000000001n }],
    ['uniqueid disk id=5E27161A', { op: 'uniqueid-disk', id: 0x5e27161a }],
    ['uniqueid disk id=a1b2c3d4-0000-4000-8000-00112233aabb', { op: 'uniqueid-disk', id: '{A1B2C3D4-0000-4000-8000-00112233AABB}' }],
    ['list disk', { op: 'list', what: 'disk' }],
    ['list partition', { op: 'list', what: 'partition' }],
    ['list volume', { op: 'list', what: 'volume' }],
    ['detail disk', { op: 'detail', what: 'disk' }],
    ['rescan', { op: 'rescan' }],
  ])('builds %s', (line, command) => {
    expect(diskpartLine(command)).toBe(line);
  });

  it.each<[DiskpartCommand, RegExp]>([
    [{ op: 'select-disk', disk: -1 }, /disk/],
    [{ op: 'select-disk', disk: 1.5 }, /whole number/],
    [{ op: 'create-partition', kind: 'primary', sizeMb: 0 }, /size/],
    [{ op: 'create-partition', kind: 'primary', id: 0x42 }, /LDM/],
    [{ op: 'create-partition', kind: 'primary', id: 0 }, /id/],
    [{ op: 'create-partition', kind: 'primary', id: 'not-a-guid' }, /GUID/],
    [{ op: 'create-partition', kind: 'efi', id: 0x07 }, /takes no id/],
    [{ op: 'format', fs: 'ntfs', quick: true, label: 'a"b' }, /double quote/],
    [{ op: 'format', fs: 'ntfs', quick: true, label: 'line\r\nclean' }, /ASCII/],
    [{ op: 'format', fs: 'fat32', quick: true, label: 'TWELVE CHARS' }, /longer than 11/],
    [{ op: 'format', fs: 'ntfs', quick: true, label: 'Système' }, /ASCII/],
    [{ op: 'assign-letter', letter: 'KK' }, /drive letter/],
    [{ op: 'assign-letter', letter: '1' }, /drive letter/],
    [{ op: 'gpt-attributes', attributes: 1n << 64n }, /64-bit/],
  ])('refuses case %# (%s)', (command, reason) => {
    let error: unknown;
    try {
      diskpartLine(command);
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: 'tool.invalid-argument' });
    expect((error as Error).message).toMatch(reason);
  });
});

describe('diskpartScript', () => {
  it('writes one command per CRLF line, no blank lines, ending with exit', () => {
    expect(diskpartScript([{ op: 'select-disk', disk: 1 }, { op: 'list', what: 'partition' }])).toBe('select disk 1\r\nlist partition\r\nexit\r\n');
  });

  it('builds the BIOS system-partition recipe', () => {
    expect(biosSystemPartitionScript({ disk: 0 })).toBe([
      'select disk 0',
      'create partition primary size=350 id=07',
      'format fs=ntfs quick label="System Reserved"',
      'assign letter=K',
      'active',
      'exit',
      '',
    ].join('\r\n'));
    expect(biosSystemPartitionScript({ disk: 2, sizeMb: 500, letter: 's', label: 'Boot' }).split('\r\n').slice(0, 4))
      .toEqual(['select disk 2', 'create partition primary size=500 id=07', 'format fs=ntfs quick label="Boot"', 'assign letter=S']);
  });
});

describe('runDiskpart', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  beforeEach(async () => {
    dir = await tempDir('lifeline-diskpart-test-');
  });
  afterEach(async () => {
    await dir.cleanup();
  });

  const script = biosSystemPartitionScript({ disk: 0 });

  it('runs diskpart /s on a temp file holding the script, then removes it', async () => {
    let seen = '';
    let scriptPath = '';
    const runner = new ScriptedRunner(({ args }) => {
      scriptPath = args[1]!;
      seen = readFileSync(scriptPath, 'utf8');
      return ok('\r\nDiskPart successfully assigned the drive letter or mount point.\r\n');
    });
    const run = await runDiskpart(runner, script, { tempDir: dir.path });
    expect(runner.calls).toHaveLength(1);
    expect(runner.calls[0]!.file).toBe('diskpart.exe');
    expect(runner.calls[0]!.args[0]).toBe('/s');
    expect(runner.calls[0]!.options?.timeoutMs).toBe(600_000);
    expect(seen).toBe(script);
    expect(scriptPath.startsWith(dir.path)).toBe(true);
    expect(existsSync(scriptPath)).toBe(false);
    expect(run).toMatchObject({ ok: true, exitCode: 0, errors: [] });
  });

  it('fails on a VDS error printed with exit code 0, with the script and errors in data', async () => {
    const runner = new ScriptedRunner(() => ok('Virtual Disk Service error:\r\nThere is not enough usable space for this operation.\r\n'));
    const error = await rejectionOf(runDiskpart(runner, script, { tempDir: dir.path }));
    expect(error.code).toBe('tool.diskpart-failed');
    expect(error.message).toContain('Virtual Disk Service error: There is not enough usable space for this operation.');
    expect(error.data).toMatchObject({
      exitCode: 0,
      errors: ['Virtual Disk Service error: There is not enough usable space for this operation.'],
      script: ['select disk 0', 'create partition primary size=350 id=07', 'format fs=ntfs quick label="System Reserved"', 'assign letter=K', 'active', 'exit'],
    });
    expect(error.data['command']).toEqual(['diskpart.exe', '/s', expect.stringMatching(/script\.txt$/)]);
  });

  it('fails on a non-zero exit and explains the code; the temp file is removed either way', async () => {
    let scriptPath = '';
    const runner = new ScriptedRunner(({ args }) => {
      scriptPath = args[1]!;
      return exit(5, '\r\nThere is no disk selected to set the active partition.\r\n');
    });
    const error = await rejectionOf(runDiskpart(runner, script, { tempDir: dir.path }));
    expect(error.data).toMatchObject({ exitCode: 5, exitMeaning: 'a command syntax error, or an object was not selected or not usable' });
    expect(error.data['outputTail']).toBe('\r\nThere is no disk selected to set the active partition.');
    expect(existsSync(scriptPath)).toBe(false);
  });
});
