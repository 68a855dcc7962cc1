/**
 * Pure decoders of the DeviceIoControl answers the disk layer reads, at the x64 offsets of
 * reference §2.5 (the same layouts structs.ts declares to koffi; the unit tests build the inputs
 * with koffi.encode over those declarations). Little-endian throughout.
 *
 *  answer                              read here
 *  DISK_GEOMETRY_EX                    MediaType 8, BytesPerSector 20, DiskSize 24
 *  GET_LENGTH_INFORMATION              Length 0
 *  STORAGE_ACCESS_ALIGNMENT_DESCRIPTOR BytesPerLogicalSector 16, BytesPerPhysicalSector 20
 *  STORAGE_DEVICE_NUMBER               DeviceType 0, DeviceNumber 4, PartitionNumber 8
 *  GET_DISK_ATTRIBUTES                 Attributes 8 (u64: bit 0 offline, bit 1 read-only)
 *  STORAGE_DEVICE_DESCRIPTOR           RemovableMedia 10, Vendor/Product/Revision/Serial offsets 12/16/20/24, BusType 28
 *  VOLUME_DISK_EXTENTS                 NumberOfDiskExtents 0, Extents[] at 8, 24 bytes each
 */
import { RecoveryError } from '../../core/errors.ts';
import { STORAGE_BUS_TYPE } from './structs.ts';

function viewOf(bytes: Uint8Array, need: number, what: string): DataView {
  if (bytes.length < need) {
    throw new RecoveryError('win32.short-answer', `${what} needs ${need} bytes, the driver returned ${bytes.length}`, {
      data: { what, need, got: bytes.length },
    });
  }
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
}

export interface GeometryEx {
  readonly mediaType: number;
  readonly bytesPerSector: number;
  readonly diskSize: bigint;
}

export function decodeGeometryEx(bytes: Uint8Array): GeometryEx {
  const v = viewOf(bytes, 32, 'DISK_GEOMETRY_EX');
  return { mediaType: v.getUint32(8, true), bytesPerSector: v.getUint32(20, true), diskSize: v.getBigInt64(24, true) };
}

export function decodeLengthInfo(bytes: Uint8Array): bigint {
  return viewOf(bytes, 8, 'GET_LENGTH_INFORMATION').getBigInt64(0, true);
}

export interface AccessAlignment {
  readonly logicalSectorSize: number;
  readonly physicalSectorSize: number;
}

export function decodeAccessAlignment(bytes: Uint8Array): AccessAlignment {
  const v = viewOf(bytes, 24, 'STORAGE_ACCESS_ALIGNMENT_DESCRIPTOR');
  return { logicalSectorSize: v.getUint32(16, true), physicalSectorSize: v.getUint32(20, true) };
}

export interface DeviceNumber {
  readonly deviceType: number;
  readonly deviceNumber: number;
  readonly partitionNumber: number;
}

export function decodeDeviceNumber(bytes: Uint8Array): DeviceNumber {
  const v = viewOf(bytes, 12, 'STORAGE_DEVICE_NUMBER');
  return { deviceType: v.getUint32(0, true), deviceNumber: v.getUint32(4, true), partitionNumber: v.getUint32(8, true) };
}

export const DISK_ATTRIBUTE_OFFLINE = 1n;
export const DISK_ATTRIBUTE_READ_ONLY = 2n;

export function decodeDiskAttributes(bytes: Uint8Array): { readonly offline: boolean; readonly readOnly: boolean } {
  const attributes = viewOf(bytes, 16, 'GET_DISK_ATTRIBUTES').getBigUint64(8, true);
  return { offline: (attributes & DISK_ATTRIBUTE_OFFLINE) !== 0n, readOnly: (attributes & DISK_ATTRIBUTE_READ_ONLY) !== 0n };
}

export interface DeviceDescriptor {
  readonly busType: string;
  readonly removable: boolean;
  readonly vendor: string;
  readonly product: string;
  readonly revision: string;
  readonly serial: string;
}

/** The NUL-terminated ASCII string at `offset` of the same buffer; 0 or an offset past the end means absent. */
function descriptorString(bytes: Uint8Array, offset: number): string {
  if (offset === 0 || offset >= bytes.length) return '';
  let end = bytes.indexOf(0, offset);
  if (end < 0) end = bytes.length;
  return String.fromCharCode(...bytes.subarray(offset, end)).trim();
}

export function busTypeName(code: number): string {
  return STORAGE_BUS_TYPE[code] ?? (code === 0 ? 'Unknown' : `Bus 0x${code.toString(16)}`);
}

export function decodeDeviceDescriptor(bytes: Uint8Array): DeviceDescriptor {
  const v = viewOf(bytes, 32, 'STORAGE_DEVICE_DESCRIPTOR');
  return {
    busType: busTypeName(v.getUint32(28, true)),
    removable: v.getUint8(10) !== 0,
    vendor: descriptorString(bytes, v.getUint32(12, true)),
    product: descriptorString(bytes, v.getUint32(16, true)),
    revision: descriptorString(bytes, v.getUint32(20, true)),
    serial: descriptorString(bytes, v.getUint32(24, true)),
  };
}

/** The 8-byte {Version, Size} header every STORAGE_*_DESCRIPTOR starts with: Size is what to ask for. */
export function descriptorSize(bytes: Uint8Array): number {
  return viewOf(bytes, 8, 'STORAGE_DESCRIPTOR_HEADER').getUint32(4, true);
}

export const STORAGE_PROPERTY = { device: 0, adapter: 1, accessAlignment: 6 } as const;

/** STORAGE_PROPERTY_QUERY (12 bytes) for a standard query of `propertyId`. */
export function encodePropertyQuery(propertyId: number): Uint8Array {
  const bytes = new Uint8Array(12);
  new DataView(bytes.buffer).setUint32(0, propertyId, true);
  return bytes;
}

export interface DiskExtent {
  readonly diskNumber: number;
  readonly offsetBytes: bigint;
  readonly lengthBytes: bigint;
}

export function decodeVolumeDiskExtents(bytes: Uint8Array): DiskExtent[] {
  const v = viewOf(bytes, 8, 'VOLUME_DISK_EXTENTS');
  const count = v.getUint32(0, true);
  viewOf(bytes, 8 + 24 * count, 'VOLUME_DISK_EXTENTS');
  return Array.from({ length: count }, (_, i) => {
    const at = 8 + 24 * i;
    return { diskNumber: v.getUint32(at, true), offsetBytes: v.getBigInt64(at + 8, true), lengthBytes: v.getBigInt64(at + 16, true) };
  });
}
