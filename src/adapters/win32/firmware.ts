/**
 * BIOS or UEFI (reference §3.1): GetFirmwareType (kernel32, Windows 8 / WinPE 4 and later) first;
 * where it is missing or answers "unknown", the registry value WinPE keeps,
 * HKLM\System\CurrentControlSet\Control\PEFirmwareType (REG_DWORD 1 = BIOS, 2 = UEFI), read with
 * reg.exe after `wpeutil UpdateBootInfo` ("to make sure this value is present").
 */
import { RecoveryError } from '../../core/errors.ts';
import type { ProcessRunner } from '../../ports/process-runner.ts';
import type { RegValue } from './parse/reg-query.ts';
import { kernel32 } from './kernel32.ts';
import type { Kernel32 } from './kernel32.ts';
import { regQueryValue } from './tools/reg.ts';
import { runWpeutil } from './tools/wpeutil.ts';

export type FirmwareType = 'bios' | 'uefi';

export interface FirmwareDetection {
  readonly firmware: FirmwareType;
  readonly source: 'GetFirmwareType' | 'PEFirmwareType';
}

const CONTROL_KEY = 'HKLM\\System\\CurrentControlSet\\Control';

/** FIRMWARE_TYPE: 1 FirmwareTypeBios, 2 FirmwareTypeUefi; 0 Unknown and 3 Max say nothing. */
export function firmwareFromType(type: number): FirmwareType | undefined {
  return type === 1 ? 'bios' : type === 2 ? 'uefi' : undefined;
}

/** PEFirmwareType as reg prints it: REG_DWORD 0x1 / 0x2. */
export function firmwareFromRegistry(value: RegValue | undefined): FirmwareType | undefined {
  return value?.data.kind === 'number' ? firmwareFromType(value.data.value) : undefined;
}

export interface FirmwareDeps {
  readonly runner: ProcessRunner;
  /** The bindings; a function so that a machine without kernel32 (tests) still reaches the fallback. */
  readonly kernel?: () => Kernel32;
  /** Run `wpeutil UpdateBootInfo` before reading the registry (WinPE; default true). */
  readonly updateBootInfo?: boolean;
}

function fromApi(kernel: () => Kernel32): { firmware?: FirmwareType; note: string } {
  let k: Kernel32;
  try {
    k = kernel();
  } catch (e) {
    return { note: (e as Error).message };
  }
  if (k.GetFirmwareType === undefined) return { note: 'kernel32 has no GetFirmwareType' };
  const type = [0];
  if (!k.GetFirmwareType(type)) return { note: `GetFirmwareType failed: Win32 error ${k.GetLastError()}` };
  const firmware = firmwareFromType(type[0] ?? 0);
  return firmware === undefined ? { note: `GetFirmwareType answered ${type[0]}` } : { firmware, note: '' };
}

/** The firmware the machine booted with; rejects with `firmware.unknown` when neither source tells. */
export async function detectFirmware(deps: FirmwareDeps): Promise<FirmwareDetection> {
  const api = fromApi(deps.kernel ?? kernel32);
  if (api.firmware !== undefined) return { firmware: api.firmware, source: 'GetFirmwareType' };
  const notes = [api.note];
  if (deps.updateBootInfo ?? true) {
    try {
      await runWpeutil(deps.runner, { op: 'UpdateBootInfo' });
    } catch (e) {
      notes.push(`wpeutil UpdateBootInfo: ${(e as Error).message}`);
    }
  }
  try {
    const value = await regQueryValue(deps.runner, CONTROL_KEY, 'PEFirmwareType');
    const firmware = firmwareFromRegistry(value);
    if (firmware !== undefined) return { firmware, source: 'PEFirmwareType' };
    notes.push(value === undefined ? 'PEFirmwareType is not set' : `PEFirmwareType is ${value.text}`);
  } catch (e) {
    notes.push(`reg query PEFirmwareType: ${(e as Error).message}`);
  }
  throw new RecoveryError('firmware.unknown', `cannot tell BIOS from UEFI: ${notes.join('; ')}`, { data: { notes } });
}
