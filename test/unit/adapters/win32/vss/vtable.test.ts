/**
 * The requester's slot numbers against the interface order written down independently in
 * fake-vss.ts (winapi-rs's copy of vsbackup.h), and VSS_SNAPSHOT_PROP against its x64 layout:
 * two 16-byte GUIDs, a LONG, six 8-aligned pointers, a GUID, a LONG, a LONGLONG and an enum.
 */
import koffi from 'koffi';
import { describe, expect, it } from 'vitest';
import { guidFromStruct, guidStruct, readBstr } from '../../../../../src/adapters/win32/vss/com.ts';
import { ASYNC_SLOT, METADATA_SLOT, PROTO, SLOT, VSS_SNAPSHOT_PROP } from '../../../../../src/adapters/win32/vss/vtable.ts';
import { BACKUP_COMPONENTS_METHODS } from './fake-vss.ts';

describe('vtable slots', () => {
  it.each(Object.entries(SLOT))('%s is slot %i of IVssBackupComponents(Ex3)', (name, slot) => {
    expect(BACKUP_COMPONENTS_METHODS.indexOf(name as (typeof BACKUP_COMPONENTS_METHODS)[number])).toBe(slot);
  });

  it('has 64 slots up to IVssBackupComponentsEx3::GetSessionId, and the async and metadata slots of vss.h / vsbackup.h', () => {
    expect(BACKUP_COMPONENTS_METHODS).toHaveLength(64);
    expect(ASYNC_SLOT).toEqual({ Cancel: 3, Wait: 4, QueryStatus: 5 });
    expect(METADATA_SLOT).toEqual({ SaveAsXML: 12 });
  });

  it('declares `this` plus the SDK parameters for each method it calls', () => {
    const args = (p: Parameters<typeof koffi.type>[0]) => (koffi.type(p).proto?.arguments ?? []).map((a) => (a as unknown as { type: { name: string } }).type.name);
    expect(args(PROTO.AddComponent)).toEqual(['void *', 'GUID', 'GUID', 'int32_t', 'char16_t *', 'char16_t *']);
    expect(args(PROTO.SetBackupState)).toEqual(['void *', 'bool', 'bool', 'int32_t', 'bool']);
    expect(args(PROTO.SetBackupSucceeded)).toEqual(['void *', 'GUID', 'GUID', 'int32_t', 'char16_t *', 'char16_t *', 'bool']);
    expect(args(PROTO.DeleteSnapshots)).toEqual(['void *', 'GUID', 'int32_t', 'int32_t', 'void *', 'void *']);
    expect(args(PROTO.GetWriterStatusEx)).toHaveLength(9);
  });
});

describe('VSS_SNAPSHOT_PROP', () => {
  it('is 128 bytes with the x64 offsets', () => {
    expect(koffi.sizeof(VSS_SNAPSHOT_PROP)).toBe(128);
    const offsets = Object.fromEntries(Object.keys(koffi.type(VSS_SNAPSHOT_PROP).members ?? {}).map((m) => [m, koffi.offsetof(VSS_SNAPSHOT_PROP, m)]));
    expect(offsets).toEqual({
      m_SnapshotId: 0, m_SnapshotSetId: 16, m_lSnapshotsCount: 32, m_pwszSnapshotDeviceObject: 40, m_pwszOriginalVolumeName: 48,
      m_pwszOriginatingMachine: 56, m_pwszServiceMachine: 64, m_pwszExposedName: 72, m_pwszExposedPath: 80, m_ProviderId: 88,
      m_lSnapshotAttributes: 104, m_tsCreationTimestamp: 112, m_eStatus: 120,
    });
  });
});

describe('COM value helpers', () => {
  it('turns GUID text into the struct koffi passes by value and back', () => {
    const g = guidStruct('{BE000CBE-11FE-4426-9C58-531AA6355FC4}');
    expect(g).toEqual({ Data1: 0xbe000cbe, Data2: 0x11fe, Data3: 0x4426, Data4: [0x9c, 0x58, 0x53, 0x1a, 0xa6, 0x35, 0x5f, 0xc4] });
    expect(guidFromStruct(g)).toBe('be000cbe-11fe-4426-9c58-531aa6355fc4');
  });

  it('reads a BSTR by its length prefix, embedded NULs included', () => {
    const text = 'a\u0000b中';
    const mem = koffi.alloc('uint8_t', 4 + text.length * 2 + 2);
    const at = koffi.address(mem);
    koffi.encode(at, 0, 'uint32_t', text.length * 2);
    koffi.encode(at, 4, 'char16_t', text, text.length + 1);
    expect(readBstr(at + 4n)).toBe(text);
    expect(readBstr(0n)).toBe('');
  });
});
