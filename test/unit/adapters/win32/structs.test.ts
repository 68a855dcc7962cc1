/**
 * The koffi declarations against the x64 layouts of reference §2.5 (computed from mingw-w64
 * winioctl.h), and the CTL_CODE results against the control codes of §2.4. koffi lays structs out
 * with the platform C ABI, which on Linux x64 matches Windows x64 for these (no `long`, no bitfields).
 */
import koffi from 'koffi';
import { describe, expect, it } from 'vitest';
import * as S from '../../../../src/adapters/win32/structs.ts';

const size = (t: unknown) => koffi.sizeof(t as Parameters<typeof koffi.sizeof>[0]);
const at = (t: unknown, field: string) => koffi.offsetof(t as Parameters<typeof koffi.offsetof>[0], field);

describe('struct layouts (x64)', () => {
  it.each<[string, unknown, number, Record<string, number>]>([
    ['DISK_GEOMETRY', S.DISK_GEOMETRY, 24, { Cylinders: 0, MediaType: 8, TracksPerCylinder: 12, SectorsPerTrack: 16, BytesPerSector: 20 }],
    ['DISK_GEOMETRY_EX', S.DISK_GEOMETRY_EX, 40, { Geometry: 0, DiskSize: 24, Data: 32 }],
    ['GET_LENGTH_INFORMATION', S.GET_LENGTH_INFORMATION, 8, { Length: 0 }],
    ['GUID', S.GUID, 16, { Data1: 0, Data2: 4, Data3: 6, Data4: 8 }],
    ['PARTITION_INFORMATION_MBR', S.PARTITION_INFORMATION_MBR, 24, { PartitionType: 0, BootIndicator: 1, RecognizedPartition: 2, HiddenSectors: 4, PartitionId: 8 }],
    ['PARTITION_INFORMATION_GPT', S.PARTITION_INFORMATION_GPT, 112, { PartitionType: 0, PartitionId: 16, Attributes: 32, Name: 40 }],
    ['PARTITION_INFORMATION_EX', S.PARTITION_INFORMATION_EX, 144, {
      PartitionStyle: 0, StartingOffset: 8, PartitionLength: 16, PartitionNumber: 24, RewritePartition: 28, IsServicePartition: 29, u: 32,
    }],
    ['DRIVE_LAYOUT_INFORMATION_MBR', S.DRIVE_LAYOUT_INFORMATION_MBR, 8, { Signature: 0, CheckSum: 4 }],
    ['DRIVE_LAYOUT_INFORMATION_GPT', S.DRIVE_LAYOUT_INFORMATION_GPT, 40, { DiskId: 0, StartingUsableOffset: 16, UsableLength: 24, MaxPartitionCount: 32 }],
    ['DRIVE_LAYOUT_INFORMATION_EX', S.DRIVE_LAYOUT_INFORMATION_EX, 48 + 144, { PartitionStyle: 0, PartitionCount: 4, u: 8, PartitionEntry: 48 }],
    ['CREATE_DISK', S.CREATE_DISK, 24, { PartitionStyle: 0, u: 4 }],
    ['STORAGE_DEVICE_NUMBER', S.STORAGE_DEVICE_NUMBER, 12, { DeviceType: 0, DeviceNumber: 4, PartitionNumber: 8 }],
    ['DISK_EXTENT', S.DISK_EXTENT, 24, { DiskNumber: 0, StartingOffset: 8, ExtentLength: 16 }],
    ['VOLUME_DISK_EXTENTS', S.VOLUME_DISK_EXTENTS, 32, { NumberOfDiskExtents: 0, Extents: 8 }],
    ['STORAGE_PROPERTY_QUERY', S.STORAGE_PROPERTY_QUERY, 12, { PropertyId: 0, QueryType: 4, AdditionalParameters: 8 }],
    ['STORAGE_DEVICE_DESCRIPTOR', S.STORAGE_DEVICE_DESCRIPTOR, 40, {
      Version: 0, Size: 4, DeviceType: 8, DeviceTypeModifier: 9, RemovableMedia: 10, CommandQueueing: 11, VendorIdOffset: 12,
      ProductIdOffset: 16, ProductRevisionOffset: 20, SerialNumberOffset: 24, BusType: 28, RawPropertiesLength: 32, RawDeviceProperties: 36,
    }],
    ['STORAGE_ADAPTER_DESCRIPTOR', S.STORAGE_ADAPTER_DESCRIPTOR, 32, { BusType: 24, BusMajorVersion: 26 }],
    ['STORAGE_ACCESS_ALIGNMENT_DESCRIPTOR', S.STORAGE_ACCESS_ALIGNMENT_DESCRIPTOR, 28, {
      Version: 0, Size: 4, BytesPerCacheLine: 8, BytesOffsetForCacheAlignment: 12, BytesPerLogicalSector: 16, BytesPerPhysicalSector: 20, BytesOffsetForSectorAlignment: 24,
    }],
    ['OVERLAPPED', S.OVERLAPPED, 32, { Internal: 0, InternalHigh: 8, Offset: 16, OffsetHigh: 20, hEvent: 24 }],
  ])('%s is %i bytes with the reference offsets', (_name, type, bytes, offsets) => {
    expect(size(type)).toBe(bytes);
    for (const [field, offset] of Object.entries(offsets)) expect([field, at(type, field)]).toEqual([field, offset]);
  });

  it('places the union members where the reference says', () => {
    const createGpt = koffi.struct({ PartitionStyle: 'uint32_t', DiskId: S.GUID, MaxPartitionCount: 'uint32_t' });
    // CREATE_DISK: Gpt.DiskId at 4, Gpt.MaxPartitionCount at 20 — the flattened struct has the same layout.
    expect([at(createGpt, 'DiskId'), at(createGpt, 'MaxPartitionCount'), size(createGpt)]).toEqual([4, 20, 24]);
    const buffer = new Uint8Array(size(S.PARTITION_INFORMATION_EX));
    koffi.encode(buffer, S.PARTITION_INFORMATION_EX, {
      PartitionStyle: S.PARTITION_STYLE.GPT, StartingOffset: 1048576n, PartitionLength: 104857600n, PartitionNumber: 1, RewritePartition: 1, IsServicePartition: 0,
      u: { Gpt: { PartitionType: { Data1: 0xc12a7328, Data2: 0xf81f, Data3: 0x11d2, Data4: [0xba, 0x4b, 0, 0xa0, 0xc9, 0x3e, 0xc9, 0x3b] }, PartitionId: { Data1: 1, Data2: 2, Data3: 3, Data4: [4, 5, 6, 7, 8, 9, 10, 11] }, Attributes: 0x8000000000000001n, Name: 'EFI system partition' } },
    });
    const view = new DataView(buffer.buffer);
    // ESP type GUID in mixed-endian bytes at 32 (§1.6), attributes at 32 + 32, name (UTF-16LE) at 32 + 40.
    expect([...buffer.subarray(32, 48)]).toEqual([0x28, 0x73, 0x2a, 0xc1, 0x1f, 0xf8, 0xd2, 0x11, 0xba, 0x4b, 0x00, 0xa0, 0xc9, 0x3e, 0xc9, 0x3b]);
    expect(view.getBigUint64(64, true)).toBe(0x8000000000000001n);
    expect(view.getBigInt64(8, true)).toBe(1048576n);
    expect(String.fromCharCode(...new Uint16Array(buffer.buffer, 72, 3))).toBe('EFI');
    expect(buffer[28]).toBe(1);
  });

  it('sizes variable-length buffers', () => {
    expect([S.driveLayoutSize(1), S.driveLayoutSize(4), S.driveLayoutSize(128)]).toEqual([192, 624, 48 + 144 * 128]);
    expect([S.volumeDiskExtentsSize(1), S.volumeDiskExtentsSize(2)]).toEqual([32, 56]);
  });
});

describe('control codes', () => {
  it('computes CTL_CODE as dev<<16 | access<<14 | func<<2 | method', () => {
    expect(S.ctlCode(0x2d, 0x500, 0, 0)).toBe(0x002d1400);
    expect(S.ctlCode(0xffff, 0xfff, 3, 3)).toBe(0xffffffff);
  });

  it.each<[string, number, number]>([
    ['IOCTL_DISK_GET_DRIVE_GEOMETRY_EX', S.IOCTL.DISK_GET_DRIVE_GEOMETRY_EX, 0x000700a0],
    ['IOCTL_DISK_GET_LENGTH_INFO', S.IOCTL.DISK_GET_LENGTH_INFO, 0x0007405c],
    ['IOCTL_DISK_GET_DRIVE_LAYOUT_EX', S.IOCTL.DISK_GET_DRIVE_LAYOUT_EX, 0x00070050],
    ['IOCTL_DISK_SET_DRIVE_LAYOUT_EX', S.IOCTL.DISK_SET_DRIVE_LAYOUT_EX, 0x0007c054],
    ['IOCTL_DISK_CREATE_DISK', S.IOCTL.DISK_CREATE_DISK, 0x0007c058],
    ['IOCTL_DISK_DELETE_DRIVE_LAYOUT', S.IOCTL.DISK_DELETE_DRIVE_LAYOUT, 0x0007c100],
    ['IOCTL_DISK_UPDATE_PROPERTIES', S.IOCTL.DISK_UPDATE_PROPERTIES, 0x00070140],
    ['IOCTL_DISK_GET_PARTITION_INFO_EX', S.IOCTL.DISK_GET_PARTITION_INFO_EX, 0x00070048],
    ['IOCTL_DISK_SET_PARTITION_INFO_EX', S.IOCTL.DISK_SET_PARTITION_INFO_EX, 0x0007c04c],
    ['IOCTL_DISK_IS_WRITABLE', S.IOCTL.DISK_IS_WRITABLE, 0x00070024],
    ['IOCTL_DISK_GET_DISK_ATTRIBUTES', S.IOCTL.DISK_GET_DISK_ATTRIBUTES, 0x000700f0],
    ['IOCTL_DISK_SET_DISK_ATTRIBUTES', S.IOCTL.DISK_SET_DISK_ATTRIBUTES, 0x0007c0f4],
    ['IOCTL_STORAGE_GET_DEVICE_NUMBER', S.IOCTL.STORAGE_GET_DEVICE_NUMBER, 0x002d1080],
    ['IOCTL_STORAGE_QUERY_PROPERTY', S.IOCTL.STORAGE_QUERY_PROPERTY, 0x002d1400],
    ['IOCTL_STORAGE_READ_CAPACITY', S.IOCTL.STORAGE_READ_CAPACITY, 0x002d5140],
    ['IOCTL_VOLUME_GET_VOLUME_DISK_EXTENTS', S.IOCTL.VOLUME_GET_VOLUME_DISK_EXTENTS, 0x00560000],
    ['IOCTL_VOLUME_OFFLINE', S.IOCTL.VOLUME_OFFLINE, 0x0056c00c],
    ['IOCTL_VOLUME_ONLINE', S.IOCTL.VOLUME_ONLINE, 0x0056c008],
    ['FSCTL_LOCK_VOLUME', S.FSCTL.LOCK_VOLUME, 0x00090018],
    ['FSCTL_UNLOCK_VOLUME', S.FSCTL.UNLOCK_VOLUME, 0x0009001c],
    ['FSCTL_DISMOUNT_VOLUME', S.FSCTL.DISMOUNT_VOLUME, 0x00090020],
    ['FSCTL_IS_VOLUME_MOUNTED', S.FSCTL.IS_VOLUME_MOUNTED, 0x00090028],
    ['FSCTL_ALLOW_EXTENDED_DASD_IO', S.FSCTL.ALLOW_EXTENDED_DASD_IO, 0x00090083],
    ['FSCTL_GET_NTFS_VOLUME_DATA', S.FSCTL.GET_NTFS_VOLUME_DATA, 0x00090064],
    ['FSCTL_GET_VOLUME_BITMAP', S.FSCTL.GET_VOLUME_BITMAP, 0x0009006f],
    ['FSCTL_GET_RETRIEVAL_POINTERS', S.FSCTL.GET_RETRIEVAL_POINTERS, 0x00090073],
  ])('%s = reference value', (_name, computed, reference) => {
    expect(computed).toBe(reference);
  });

  it('has no two codes alike', () => {
    const all = [...Object.values(S.IOCTL), ...Object.values(S.FSCTL)];
    expect(new Set(all).size).toBe(all.length);
  });
});
