/** bcdedit /enum parser on published output, documentation artefacts included. */
import { describe, expect, it } from 'vitest';
import { bcdField, parseBcdeditCreated, parseBcdeditEnum } from '../../../../../src/adapters/win32/parse/bcdedit.ts';
import { crlf, toolOutput } from '../tool-fixtures.ts';

describe('parseBcdeditEnum', () => {
  it('reads a BIOS boot manager and two loaders despite ## headings and a missing underline', () => {
    const entries = parseBcdeditEnum(toolOutput('bcdedit__enum__bios-bootmgr-two-loaders-doc-heading-artefacts.txt'));
    expect(entries.map((e) => [e.type, e.identifier])).toEqual([
      ['Windows Boot Manager', '{bootmgr}'],
      ['Windows Boot Loader', '{current}'],
      ['Windows Boot Loader', '{00001111-aaaa-2222-bbbb-3333cccc4444}'],
    ]);
    const [mgr, current, debug] = entries;
    expect(bcdField(mgr!, 'device')).toBe('partition=C:');
    expect(bcdField(mgr!, 'timeout')).toBe('30');
    expect(mgr!.order).toEqual(['identifier', 'device', 'description', 'locale', 'inherit', 'isolatedcontext', 'default', 'resumeobject', 'displayorder', 'toolsdisplayorder', 'timeout']);
    expect(bcdField(current!, 'path')).toBe('\\Windows\\system32\\winload.exe');
    expect(bcdField(current!, 'description')).toBe('Microsoft Windows');
    expect(bcdField(current!, 'osdevice')).toBe('partition=C:');
    expect(bcdField(debug!, 'debug')).toBe('Yes');
    expect(bcdField(debug!, 'description')).toBe('Debugger Boot');
  });

  it('reads a UEFI loader, keeping a 23-character element name and a malformed GUID as printed', () => {
    const [entry, ...rest] = parseBcdeditEnum(crlf(toolOutput('bcdedit__enum-default__uefi-winload-efi-server.txt')));
    expect(rest).toEqual([]);
    expect(entry!.type).toBe('Windows Boot Loader');
    expect(entry!.identifier).toBe('{current}');
    expect(bcdField(entry!, 'path')).toBe('\\Windows\\system32\\winload.efi');
    expect(bcdField(entry!, 'allowedinmemorysettings')).toBe('0x15000075');
    expect(bcdField(entry!, 'recoverysequence')).toBe('{c23c4005d-12ae-11eb-9399-ac9840c152e7}');
    expect(entry!.order).toHaveLength(21);
  });

  it('collects a list value continued on indented lines', () => {
    const [entry] = parseBcdeditEnum(toolOutput('bcdedit__enum-globalsettings__multivalue-inherit.txt'));
    expect(entry!.fields['inherit']).toEqual(['{dbgsettings}', '{emssettings}', '{badmemory}']);
  });

  it('reads /v output with raw GUIDs and a device path', () => {
    const [entry] = parseBcdeditEnum(toolOutput('bcdedit__enum-v__bootmgr-raw-guids.txt'));
    expect(entry!.identifier).toBe('{9dea862c-5cdd-4e70-acc1-f32b344d4795}');
    expect(bcdField(entry!, 'device')).toBe('partition=\\Device\\HarddiskVolume1');
  });

  it('reads an offline PXE store: ramdisk devices and a third entry type', () => {
    const entries = parseBcdeditEnum(toolOutput('bcdedit__store-enum-all__bios-pxe-ramdisk-store.txt'));
    expect(entries.map((e) => [e.type, e.identifier])).toEqual([
      ['Windows Boot Manager', '{bootmgr}'],
      ['Windows Boot Loader', '{a4f89c62-2142-11e6-80b6-00155da04110}'],
      ['Setup Ramdisk Options', '{ramdiskoptions}'],
    ]);
    expect(bcdField(entries[1]!, 'device')).toBe('ramdisk=[boot]\\Boot\\boot.wim,{ramdiskoptions}');
    expect(bcdField(entries[1]!, 'winpe')).toBe('Yes');
    expect(bcdField(entries[2]!, 'ramdisksdipath')).toBe('\\Boot\\boot.sdi');
  });

  it('reads a heading-less block and drops the closing status line', () => {
    const entries = parseBcdeditEnum(toolOutput('bcdedit__dbgsettings__net-debug.txt'));
    expect(entries).toHaveLength(1);
    expect(entries[0]!.type).toBeUndefined();
    expect(entries[0]!.identifier).toBeUndefined();
    expect(bcdField(entries[0]!, 'hostip')).toBe('198.51.100.1');
    expect(bcdField(entries[0]!, 'port')).toBe('50001');
  });
});

describe('parseBcdeditCreated', () => {
  it('reads the GUID of a created entry', () => {
    expect(parseBcdeditCreated(toolOutput('bcdedit__create__osloader-success-guid.txt'))).toBe('{a4f89c62-2142-11e6-80b6-00155da04110}');
    expect(parseBcdeditCreated('The store import operation has failed.')).toBeUndefined();
  });
});
