/**
 * The IOCTL answer decoders against buffers koffi.encode builds from the structs.ts declarations
 * (which structs.test.ts holds to the reference's x64 offsets): the decoders read the same bytes
 * Windows writes, without sharing code with the encoder side.
 */
import koffi from 'koffi';
import { describe, expect, it } from 'vitest';
import {
  busTypeName, decodeAccessAlignment, decodeDeviceDescriptor, decodeDeviceNumber, decodeDiskAttributes, decodeGeometryEx,
  decodeLengthInfo, decodeVolumeDiskExtents, descriptorSize, encodePropertyQuery,
} from '../../../../src/adapters/win32/ioctl-decode.ts';
import * as S from '../../../../src/adapters/win32/structs.ts';

type KoffiType = Parameters<typeof koffi.sizeof>[0];

function encoded(type: KoffiType, value: unknown, size = koffi.sizeof(type)): Uint8Array {
  const bytes = new Uint8Array(size);
  koffi.encode(bytes, type, value);
  return bytes;
}

describe('IOCTL answer decoders', () => {
  it('reads DISK_GEOMETRY_EX, GET_LENGTH_INFORMATION and the access-alignment descriptor', () => {
    const geometry = encoded(S.DISK_GEOMETRY_EX, {
      Geometry: { Cylinders: 15665n, MediaType: 12, TracksPerCylinder: 255, SectorsPerTrack: 63, BytesPerSector: 4096 },
      DiskSize: 128849018880n, Data: [0],
    });
    expect(decodeGeometryEx(geometry)).toEqual({ mediaType: 12, bytesPerSector: 4096, diskSize: 128849018880n });
    expect(decodeLengthInfo(encoded(S.GET_LENGTH_INFORMATION, { Length: 0x1d1c0beb000n }))).toBe(0x1d1c0beb000n);
    const alignment = encoded(S.STORAGE_ACCESS_ALIGNMENT_DESCRIPTOR, {
      Version: 28, Size: 28, BytesPerCacheLine: 64, BytesOffsetForCacheAlignment: 0, BytesPerLogicalSector: 512, BytesPerPhysicalSector: 4096, BytesOffsetForSectorAlignment: 0,
    });
    expect(decodeAccessAlignment(alignment)).toEqual({ logicalSectorSize: 512, physicalSectorSize: 4096 });
  });

  it('reads STORAGE_DEVICE_NUMBER and the offline/read-only disk attributes', () => {
    expect(decodeDeviceNumber(encoded(S.STORAGE_DEVICE_NUMBER, { DeviceType: 7, DeviceNumber: 3, PartitionNumber: 0 }))).toEqual({ deviceType: 7, deviceNumber: 3, partitionNumber: 0 });
    const attrs = (bits: bigint) => {
      const b = new Uint8Array(16);
      new DataView(b.buffer).setBigUint64(8, bits, true);
      return decodeDiskAttributes(b);
    };
    expect([attrs(0n), attrs(1n), attrs(2n), attrs(3n | (1n << 40n))]).toEqual([
      { offline: false, readOnly: false }, { offline: true, readOnly: false }, { offline: false, readOnly: true }, { offline: true, readOnly: true },
    ]);
  });

  it('reads STORAGE_DEVICE_DESCRIPTOR strings from the offsets into the same buffer', () => {
    const strings = 'ATA     \0Samsung SSD 870\0SVT0\0  S5Y2NX0R123456  \0';
    const bytes = encoded(S.STORAGE_DEVICE_DESCRIPTOR, {
      Version: 40, Size: 40 + strings.length, DeviceType: 0, DeviceTypeModifier: 0, RemovableMedia: 1, CommandQueueing: 1,
      VendorIdOffset: 40, ProductIdOffset: 49, ProductRevisionOffset: 65, SerialNumberOffset: 70, BusType: 0x0b, RawPropertiesLength: 0, RawDeviceProperties: [0],
    }, 40 + strings.length);
    bytes.set([...strings].map((c) => c.charCodeAt(0)), 40);
    expect(descriptorSize(bytes.subarray(0, 8))).toBe(40 + strings.length);
    expect(decodeDeviceDescriptor(bytes)).toEqual({ busType: 'SATA', removable: true, vendor: 'ATA', product: 'Samsung SSD 870', revision: 'SVT0', serial: 'S5Y2NX0R123456' });
    // Absent strings (offset 0) and offsets past the end read as empty.
    const bare = encoded(S.STORAGE_DEVICE_DESCRIPTOR, {
      Version: 40, Size: 40, DeviceType: 0, DeviceTypeModifier: 0, RemovableMedia: 0, CommandQueueing: 0,
      VendorIdOffset: 0, ProductIdOffset: 4000, ProductRevisionOffset: 0, SerialNumberOffset: 0, BusType: 0x11, RawPropertiesLength: 0, RawDeviceProperties: [0],
    });
    expect(decodeDeviceDescriptor(bare)).toMatchObject({ busType: 'NVMe', vendor: '', product: '', serial: '' });
    expect([busTypeName(1), busTypeName(0x0a), busTypeName(0), busTypeName(0x7f)]).toEqual(['SCSI', 'SAS', 'Unknown', 'Bus 0x7f']);
  });

  it('reads VOLUME_DISK_EXTENTS with several extents and refuses a short answer', () => {
    const bytes = new Uint8Array(S.volumeDiskExtentsSize(2));
    new DataView(bytes.buffer).setUint32(0, 2, true);
    koffi.encode(bytes, 8, S.DISK_EXTENT, { DiskNumber: 0, StartingOffset: 1048576n, ExtentLength: 104857600n });
    koffi.encode(bytes, 8 + koffi.sizeof(S.DISK_EXTENT), S.DISK_EXTENT, { DiskNumber: 2, StartingOffset: 0x40000000000n, ExtentLength: 512n });
    expect(decodeVolumeDiskExtents(bytes)).toEqual([
      { diskNumber: 0, offsetBytes: 1048576n, lengthBytes: 104857600n },
      { diskNumber: 2, offsetBytes: 0x40000000000n, lengthBytes: 512n },
    ]);
    expect(() => decodeVolumeDiskExtents(bytes.subarray(0, 40))).toThrow(/VOLUME_DISK_EXTENTS needs 56 bytes/);
    expect(() => decodeGeometryEx(new Uint8Array(24))).toThrow(/DISK_GEOMETRY_EX/);
  });

  it('builds STORAGE_PROPERTY_QUERY as koffi lays it out', () => {
    const query = koffi.decode(encodePropertyQuery(6), S.STORAGE_PROPERTY_QUERY) as { PropertyId: number; QueryType: number; AdditionalParameters: ArrayLike<number> };
    expect([query.PropertyId, query.QueryType, [...Array.from(query.AdditionalParameters)]]).toEqual([6, 0, [0]]);
    expect(encodePropertyQuery(0).length).toBe(koffi.sizeof(S.STORAGE_PROPERTY_QUERY));
  });
});
