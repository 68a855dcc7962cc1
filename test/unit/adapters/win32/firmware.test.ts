/**
 * Firmware detection: GetFirmwareType first, then `wpeutil UpdateBootInfo` + `reg query …
 * PEFirmwareType` (reference §3.1), with scripted kernel32 and reg/wpeutil runs.
 */
import { describe, expect, it } from 'vitest';
import { detectFirmware, firmwareFromRegistry, firmwareFromType } from '../../../../src/adapters/win32/firmware.ts';
import { RecoveryError } from '../../../../src/core/errors.ts';
import { parseRegQuery } from '../../../../src/adapters/win32/parse/reg-query.ts';
import { FakeKernel32 } from './fake-kernel32.ts';
import { ScriptedRunner, exit, ok, rejectionOf } from './fake-runner.ts';

const regAnswer = (hex: string) => ok(`\r\nHKEY_LOCAL_MACHINE\\System\\CurrentControlSet\\Control\r\n    PEFirmwareType    REG_DWORD    ${hex}\r\n\r\n`);
const NOT_FOUND = exit(1, '', 'ERROR: The system was unable to find the specified registry key or value.');

/** Answers wpeutil with success and reg query with `reg`. */
function tools(reg: ReturnType<typeof ok>) {
  return new ScriptedRunner((call) => (call.file === 'wpeutil.exe' ? ok('') : reg));
}

describe('detectFirmware', () => {
  it('believes GetFirmwareType when it answers BIOS or UEFI, without running any tool', async () => {
    for (const [type, firmware] of [[1, 'bios'], [2, 'uefi']] as const) {
      const fake = new FakeKernel32();
      fake.firmwareType = type;
      const runner = tools(regAnswer('0x1'));
      expect(await detectFirmware({ runner, kernel: () => fake.kernel })).toEqual({ firmware, source: 'GetFirmwareType' });
      expect(runner.calls).toEqual([]);
    }
  });

  it('falls back to wpeutil UpdateBootInfo then PEFirmwareType when kernel32 lacks the call or says unknown', async () => {
    const noApi = new FakeKernel32().withoutFirmwareApi();
    const runner = tools(regAnswer('0x2'));
    expect(await detectFirmware({ runner, kernel: () => noApi.kernel })).toEqual({ firmware: 'uefi', source: 'PEFirmwareType' });
    expect(runner.calls.map((c) => [c.file, ...c.args])).toEqual([
      ['wpeutil.exe', 'UpdateBootInfo'],
      ['reg.exe', 'query', 'HKLM\\System\\CurrentControlSet\\Control', '/v', 'PEFirmwareType'],
    ]);
    const unknown = new FakeKernel32();
    unknown.firmwareType = 0;
    expect(await detectFirmware({ runner: tools(regAnswer('0x1')), kernel: () => unknown.kernel, updateBootInfo: false })).toEqual({ firmware: 'bios', source: 'PEFirmwareType' });
  });

  it('still reads the registry when kernel32 cannot load or wpeutil fails', async () => {
    const runner = new ScriptedRunner((call) => (call.file === 'wpeutil.exe' ? exit(1, 'wpeutil failed') : regAnswer('0x1')));
    const noKernel = () => {
      throw new RecoveryError('win32.unavailable', 'kernel32.dll cannot be loaded here (linux)');
    };
    expect(await detectFirmware({ runner, kernel: noKernel })).toEqual({ firmware: 'bios', source: 'PEFirmwareType' });
  });

  it('rejects with firmware.unknown and every reason when no source tells', async () => {
    const fake = new FakeKernel32().withoutFirmwareApi();
    const error = await rejectionOf(detectFirmware({ runner: tools(NOT_FOUND), kernel: () => fake.kernel }));
    expect(error.code).toBe('firmware.unknown');
    expect(error.data.notes).toEqual(['kernel32 has no GetFirmwareType', 'PEFirmwareType is not set']);
    const odd = await rejectionOf(detectFirmware({ runner: tools(regAnswer('0x3')), kernel: () => fake.kernel }));
    expect(odd.data.notes).toEqual(['kernel32 has no GetFirmwareType', 'PEFirmwareType is 0x3']);
  });

  it('maps FIRMWARE_TYPE and registry values', () => {
    expect([0, 1, 2, 3].map(firmwareFromType)).toEqual([undefined, 'bios', 'uefi', undefined]);
    const value = (text: string) => parseRegQuery(`HKEY_LOCAL_MACHINE\\X\r\n    PEFirmwareType    REG_DWORD    ${text}\r\n`).keys[0]!.values[0];
    expect([firmwareFromRegistry(value('0x2')), firmwareFromRegistry(value('junk')), firmwareFromRegistry(undefined)]).toEqual(['uefi', undefined, undefined]);
  });
});
