/** bcdboot and bcdedit: exact argument arrays, validation, and how runs are judged. */
import { describe, expect, it } from 'vitest';
import { bcdbootCommand, runBcdboot } from '../../../../../src/adapters/win32/tools/bcdboot.ts';
import {
  bcdeditCreateLoaderCommand, bcdeditEnumCommand, bcdeditSetDeviceCommand, bcdIdentifier, runBcdeditCreateLoader, runBcdeditEnum, runBcdeditSetDevice,
} from '../../../../../src/adapters/win32/tools/bcdedit.ts';
import { toolOutput } from '../tool-fixtures.ts';
import { ScriptedRunner, exit, ok, rejectionOf } from '../fake-runner.ts';

describe('bcdboot', () => {
  it('builds the BIOS repair with the restored OS own bcdboot: C:\\Windows /s K: /f BIOS /l zh-cn', () => {
    expect(bcdbootCommand({ windowsDir: 'C:\\Windows', systemPartition: 'K:', firmware: 'BIOS', locale: 'zh-CN' })).toEqual({
      file: 'C:\\Windows\\System32\\bcdboot.exe',
      args: ['C:\\Windows', '/s', 'K:', '/f', 'BIOS', '/l', 'zh-cn'],
    });
  });

  it('builds a clean UEFI run with WinPE bcdboot', () => {
    expect(bcdbootCommand({ windowsDir: 'W:\\Windows\\', systemPartition: 's', firmware: 'UEFI', clean: true, useWinPeBcdboot: true })).toEqual({
      file: 'bcdboot.exe',
      args: ['W:\\Windows', '/s', 'S:', '/f', 'UEFI', '/c'],
    });
  });

  it('refuses a Windows folder off a drive letter, a bad letter or locale', () => {
    expect(() => bcdbootCommand({ windowsDir: '\\\\?\\Volume{x}\\Windows', systemPartition: 'K:', firmware: 'BIOS' })).toThrow(/drive letter/);
    expect(() => bcdbootCommand({ windowsDir: 'Windows', systemPartition: 'K:', firmware: 'BIOS' })).toThrow(/absolute path/);
    expect(() => bcdbootCommand({ windowsDir: 'C:\\Windows', systemPartition: 'K:\\', firmware: 'BIOS' })).toThrow(/drive letter/);
    expect(() => bcdbootCommand({ windowsDir: 'C:\\Windows', systemPartition: 'K:', firmware: 'BIOS', locale: 'zh cn' })).toThrow(/locale/);
  });

  it('fails with tool.bcdboot-failed and the tool message on a non-zero exit', async () => {
    const runner = new ScriptedRunner(() => exit(1, 'Failure when attempting to copy boot files.\r\n'));
    const error = await rejectionOf(runBcdboot(runner, { windowsDir: 'C:\\Windows', systemPartition: 'K:', firmware: 'BIOS' }));
    expect(error.code).toBe('tool.bcdboot-failed');
    expect(error.message).toBe('C:\\Windows\\System32\\bcdboot.exe C:\\Windows /s K: /f BIOS failed (exit 1): Failure when attempting to copy boot files.');
    await expect(runBcdboot(new ScriptedRunner(() => ok('Boot files successfully created.\r\n')), { windowsDir: 'C:\\Windows', systemPartition: 'K:', firmware: 'BIOS' }))
      .resolves.toBe('Boot files successfully created.\r\n');
  });
});

describe('bcdedit', () => {
  it('enumerates an offline store verbosely', () => {
    expect(bcdeditEnumCommand('S:\\EFI\\Microsoft\\Boot\\BCD')).toEqual({ file: 'bcdedit.exe', args: ['/store', 'S:\\EFI\\Microsoft\\Boot\\BCD', '/enum', 'all', '/v'] });
    expect(bcdeditEnumCommand('K:\\Boot\\BCD', { what: '{DEFAULT}', verbose: false }).args).toEqual(['/store', 'K:\\Boot\\BCD', '/enum', '{default}']);
  });

  it('points {bootmgr} and {default} at partitions by letter, device path or locate', () => {
    expect(bcdeditSetDeviceCommand('K:\\Boot\\BCD', '{bootmgr}', 'device', { letter: 'K' }).args)
      .toEqual(['/store', 'K:\\Boot\\BCD', '/set', '{bootmgr}', 'device', 'partition=K:']);
    expect(bcdeditSetDeviceCommand('K:\\Boot\\BCD', '{default}', 'osdevice', { letter: 'c:' }).args)
      .toEqual(['/store', 'K:\\Boot\\BCD', '/set', '{default}', 'osdevice', 'partition=C:']);
    const seedStore = '\\\\?\\Globalroot\\Device\\Harddisk0\\Partition1\\Boot\\BCD';
    expect(bcdeditSetDeviceCommand(seedStore, '{default}', 'device', { devicePath: '\\Device\\Harddisk0\\Partition2' }).args)
      .toEqual(['/store', seedStore, '/set', '{default}', 'device', 'partition=\\Device\\Harddisk0\\Partition2']);
    expect(bcdeditSetDeviceCommand('K:\\Boot\\BCD', 'A4F89C62-2142-11E6-80B6-00155DA04110', 'device', { locate: true }).args)
      .toEqual(['/store', 'K:\\Boot\\BCD', '/set', '{a4f89c62-2142-11e6-80b6-00155da04110}', 'device', 'locate']);
  });

  it('refuses unknown identifiers, malformed device paths and relative stores', () => {
    expect(() => bcdIdentifier('{nonsense}')).toThrow(/GUID/);
    expect(() => bcdeditSetDeviceCommand('K:\\Boot\\BCD', '{default}', 'device', { devicePath: '\\Device\\Harddisk0\\Partition1 extra' })).toThrow(/HarddiskN/);
    expect(() => bcdeditEnumCommand('Boot\\BCD')).toThrow(/absolute path/);
  });

  it('creates a loader and returns its GUID from the output', async () => {
    expect(bcdeditCreateLoaderCommand('c:\\BCD', 'winpe boot image').args).toEqual(['/store', 'c:\\BCD', '/create', '/d', 'winpe boot image', '/application', 'osloader']);
    const guid = await runBcdeditCreateLoader(new ScriptedRunner(() => ok(toolOutput('bcdedit__create__osloader-success-guid.txt'))), 'c:\\BCD', 'winpe boot image');
    expect(guid).toBe('{a4f89c62-2142-11e6-80b6-00155da04110}');
    const error = await rejectionOf(runBcdeditCreateLoader(new ScriptedRunner(() => ok('')), 'c:\\BCD', 'x'));
    expect(error.message).toContain('bcdedit did not report the new entry');
  });

  it('parses /enum output of a run and fails with tool.bcdedit-failed', async () => {
    const entries = await runBcdeditEnum(new ScriptedRunner(() => ok(toolOutput('bcdedit__store-enum-all__bios-pxe-ramdisk-store.txt'))), 'C:\\BCD');
    expect(entries.map((e) => e.identifier)).toEqual(['{bootmgr}', '{a4f89c62-2142-11e6-80b6-00155da04110}', '{ramdiskoptions}']);
    const runner = new ScriptedRunner(() => exit(1, 'The boot configuration data store could not be opened.\r\nThe system cannot find the file specified.\r\n'));
    const error = await rejectionOf(runBcdeditSetDevice(runner, 'K:\\Boot\\BCD', '{bootmgr}', 'device', { letter: 'K' }));
    expect(error.code).toBe('tool.bcdedit-failed');
    expect(error.data).toMatchObject({
      command: ['bcdedit.exe', '/store', 'K:\\Boot\\BCD', '/set', '{bootmgr}', 'device', 'partition=K:'],
      exitCode: 1,
      outputTail: 'The boot configuration data store could not be opened.\r\nThe system cannot find the file specified.',
    });
  });
});
