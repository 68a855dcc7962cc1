/** reg.exe builders for offline hives, the ASR RestoreSession values, and the load/write/unload run. */
import { describe, expect, it } from 'vitest';
import {
  ASR_RESTORE_SESSION_KEY, asrRestoreSessionCommands, regAddCommand, regLoadCommand, regQueryCommand, regQueryValue, regUnloadCommand, writeAsrRestoreSession,
} from '../../../../../src/adapters/win32/tools/reg.ts';
import { toolOutput } from '../tool-fixtures.ts';
import { ScriptedRunner, exit, ok, rejectionOf } from '../fake-runner.ts';

const KEY = 'HKLM\\OFFSW\\Microsoft\\Windows NT\\CurrentVersion\\ASR\\RestoreSession';

describe('reg commands', () => {
  it('loads and unloads a hive under HKLM', () => {
    expect(regLoadCommand('HKLM\\OFFSW', 'E:\\Windows\\System32\\config\\SOFTWARE')).toEqual({
      file: 'reg.exe', args: ['load', 'HKLM\\OFFSW', 'E:\\Windows\\System32\\config\\SOFTWARE'],
    });
    expect(regUnloadCommand('HKLM\\OFFSW').args).toEqual(['unload', 'HKLM\\OFFSW']);
    expect(() => regLoadCommand('HKCU\\OFFSW', 'E:\\x')).toThrow(/HKLM/);
    expect(() => regLoadCommand('HKLM\\A\\B', 'E:\\x')).toThrow(/HKLM/);
  });

  it('adds each value type with /f', () => {
    expect(regAddCommand(KEY, 'LastInstance', { type: 'REG_SZ', value: '0b6f0a8e-5d4c-4a8e-9d7e-3f1a2b3c4d5e' }).args)
      .toEqual(['add', KEY, '/v', 'LastInstance', '/t', 'REG_SZ', '/d', '0b6f0a8e-5d4c-4a8e-9d7e-3f1a2b3c4d5e', '/f']);
    expect(regAddCommand(KEY, 'QuickFormat', { type: 'REG_DWORD', value: 1 }).args.slice(4)).toEqual(['/t', 'REG_DWORD', '/d', '1', '/f']);
    expect(regAddCommand(KEY, 'Q', { type: 'REG_QWORD', value: 2n ** 40n }).args.slice(6, 8)).toEqual(['/d', '1099511627776']);
    expect(regAddCommand(KEY, 'B', { type: 'REG_BINARY', value: new Uint8Array([0, 0xab, 0x10]) }).args.slice(6, 8)).toEqual(['/d', '00ab10']);
    expect(regAddCommand(KEY, 'M', { type: 'REG_MULTI_SZ', value: ['a', 'b c'] }).args.slice(6, 8)).toEqual(['/d', 'a\\0b c']);
    expect(regAddCommand(KEY, undefined, { type: 'REG_EXPAND_SZ', value: '%SystemRoot%\\x' }).args).toEqual(['add', KEY, '/ve', '/t', 'REG_EXPAND_SZ', '/d', '%SystemRoot%\\x', '/f']);
  });

  it('refuses data reg cannot carry and keys off the registry roots', () => {
    expect(() => regAddCommand(KEY, 'M', { type: 'REG_MULTI_SZ', value: ['a', ''] })).toThrow(/empty/);
    expect(() => regAddCommand(KEY, 'M', { type: 'REG_MULTI_SZ', value: ['a\\0b'] })).toThrow(/\\0/);
    expect(() => regAddCommand(KEY, 'S', { type: 'REG_SZ', value: 'a\nb' })).toThrow(/control character/);
    expect(() => regAddCommand(KEY, 'D', { type: 'REG_DWORD', value: 2 ** 32 })).toThrow(/whole number/);
    expect(() => regAddCommand('SOFTWARE\\X', 'D', { type: 'REG_DWORD', value: 1 })).toThrow(/HKLM/);
    expect(() => regAddCommand('HKLM\\X\\', 'D', { type: 'REG_DWORD', value: 1 })).toThrow(/HKLM/);
  });

  it('queries a value or a key recursively', () => {
    expect(regQueryCommand('HKLM\\OFFSYS\\Select', { value: 'Current' }).args).toEqual(['query', 'HKLM\\OFFSYS\\Select', '/v', 'Current']);
    expect(regQueryCommand('HKLM\\OFFSYS\\ControlSet001\\Services\\viostor', { recursive: true }).args).toEqual(['query', 'HKLM\\OFFSYS\\ControlSet001\\Services\\viostor', '/s']);
  });
});

describe('ASR RestoreSession', () => {
  it('writes LastInstance (UuidToString form), RestoredVolumes and QuickFormat under the mounted SOFTWARE hive', () => {
    const commands = asrRestoreSessionCommands('HKLM\\OFFSW', {
      lastInstance: '{0B6F0A8E-5D4C-4A8E-9D7E-3F1A2B3C4D5E}',
      restoredVolumes: ['\\\\?\\Volume{78618c8f-aefd-11da-a898-806e6f6e6963}\\', '\\\\?\\Volume{1C7F1B9F-6E5D-4B9F-8E8F-4A2B3C4D5E6F}'],
      quickFormat: true,
    });
    expect(ASR_RESTORE_SESSION_KEY).toBe('Microsoft\\Windows NT\\CurrentVersion\\ASR\\RestoreSession');
    expect(commands.map((c) => c.args)).toEqual([
      ['add', KEY, '/v', 'LastInstance', '/t', 'REG_SZ', '/d', '0b6f0a8e-5d4c-4a8e-9d7e-3f1a2b3c4d5e', '/f'],
      ['add', KEY, '/v', 'RestoredVolumes', '/t', 'REG_MULTI_SZ', '/d',
        '\\\\?\\Volume{78618c8f-aefd-11da-a898-806e6f6e6963}\\0\\\\?\\Volume{1c7f1b9f-6e5d-4b9f-8e8f-4a2b3c4d5e6f}', '/f'],
      ['add', KEY, '/v', 'QuickFormat', '/t', 'REG_DWORD', '/d', '1', '/f'],
    ]);
  });

  it('writes only LastInstance when the volumes were intact', () => {
    expect(asrRestoreSessionCommands('HKLM\\OFFSW', { lastInstance: '0b6f0a8e-5d4c-4a8e-9d7e-3f1a2b3c4d5e' })).toHaveLength(1);
    expect(() => asrRestoreSessionCommands('HKLM\\OFFSW', { lastInstance: 'not-a-guid' })).toThrow(/GUID/);
    expect(() => asrRestoreSessionCommands('HKLM\\OFFSW', { lastInstance: '0b6f0a8e-5d4c-4a8e-9d7e-3f1a2b3c4d5e', restoredVolumes: ['C:\\'] })).toThrow(/Volume/);
  });

  it('loads, writes and unloads in that order', async () => {
    const runner = new ScriptedRunner(() => ok('The operation completed successfully.\r\n'));
    await writeAsrRestoreSession(runner, 'E:\\Windows\\System32\\config\\SOFTWARE', { lastInstance: '0b6f0a8e-5d4c-4a8e-9d7e-3f1a2b3c4d5e', quickFormat: false });
    expect(runner.calls.map((c) => [c.file, c.args[0], c.args[3] ?? ''])).toEqual([
      ['reg.exe', 'load', ''], ['reg.exe', 'add', 'LastInstance'], ['reg.exe', 'add', 'QuickFormat'], ['reg.exe', 'unload', ''],
    ]);
    expect(runner.calls[0]!.args).toEqual(['load', 'HKLM\\LIFELINE_SOFTWARE', 'E:\\Windows\\System32\\config\\SOFTWARE']);
  });

  it('still unloads the hive when a write fails, and reports the write failure', async () => {
    const runner = new ScriptedRunner(({ args }) => (args[0] === 'add' ? exit(1, 'ERROR: Access is denied.\r\n') : ok('The operation completed successfully.\r\n')));
    const error = await rejectionOf(writeAsrRestoreSession(runner, 'E:\\Windows\\System32\\config\\SOFTWARE', { lastInstance: '0b6f0a8e-5d4c-4a8e-9d7e-3f1a2b3c4d5e' }));
    expect(error.code).toBe('tool.reg-failed');
    expect(error.message).toContain('ERROR: Access is denied.');
    expect(runner.calls.map((c) => c.args[0])).toEqual(['load', 'add', 'unload']);
  });
});

describe('regQueryValue', () => {
  it('returns the value, undefined when it does not exist, and fails on other errors', async () => {
    const value = await regQueryValue(new ScriptedRunner(() => ok(toolOutput('reg__query__setup-state-imagestate-value.txt'))),
      'HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Setup\\State', 'ImageState');
    expect(value?.data).toEqual({ kind: 'string', value: 'IMAGE_STATE_SPECIALIZE_RESEAL_TO_OOBE' });
    const missing = await regQueryValue(new ScriptedRunner(() => exit(1, toolOutput('reg__query__value-not-found-error.txt'))), 'HKLM\\SYSTEM\\CurrentControlSet\\Control\\WHEA', 'BadPages');
    expect(missing).toBeUndefined();
    const error = await rejectionOf(regQueryValue(new ScriptedRunner(() => exit(1, '', 'ERROR: Access is denied.\r\n')), 'HKLM\\SAM\\SAM', 'X'));
    expect(error).toMatchObject({ code: 'tool.reg-failed', message: expect.stringContaining('Access is denied.') });
  });
});
