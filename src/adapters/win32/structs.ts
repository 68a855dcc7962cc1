/**
 * x64 layouts of the winioctl.h structures the disk code exchanges with DeviceIoControl, declared
 * with koffi (reference §2.5, computed from mingw-w64 headers), and the IOCTL/FSCTL codes (§2.4)
 * computed with CTL_CODE. This module is where these koffi type names are registered: koffi
 * refuses a second type with the same name, so other win32 modules import the types from here.
 *
 *  struct                              size  notes
 *  DISK_GEOMETRY                       24    BytesPerSector at 20
 *  DISK_GEOMETRY_EX                    40+   DiskSize at 24, Data[] at 32
 *  PARTITION_INFORMATION_EX            144   union {Mbr, Gpt} at 32; offsets/lengths in bytes
 *  DRIVE_LAYOUT_INFORMATION_EX         48 + 144·n   PartitionEntry[] at 48; MBR counts are multiples of 4
 *  CREATE_DISK                         24    union at 4: Mbr.Signature / Gpt.DiskId + MaxPartitionCount
 *  VOLUME_DISK_EXTENTS                 8 + 24·n
 */
import koffi from 'koffi';

/** winioctl.h CTL_CODE: device type, access, function and transfer method packed into 32 bits. */
export function ctlCode(deviceType: number, fn: number, method: number, access: number): number {
  return ((deviceType << 16) | (access << 14) | (fn << 2) | method) >>> 0;
}

export const METHOD_BUFFERED = 0;
export const METHOD_NEITHER = 3;
export const FILE_ANY_ACCESS = 0;
export const FILE_READ_ACCESS = 1;
export const FILE_WRITE_ACCESS = 2;
const RW = FILE_READ_ACCESS | FILE_WRITE_ACCESS;

const DISK = 0x07; // IOCTL_DISK_BASE = FILE_DEVICE_DISK
const STORAGE = 0x2d; // IOCTL_STORAGE_BASE = FILE_DEVICE_MASS_STORAGE
const VOLUME = 0x56; // IOCTL_VOLUME_BASE = 'V'
const FILE_SYSTEM = 0x09; // FILE_DEVICE_FILE_SYSTEM

export const IOCTL = {
  DISK_GET_DRIVE_GEOMETRY_EX: ctlCode(DISK, 0x28, METHOD_BUFFERED, FILE_ANY_ACCESS),
  DISK_GET_LENGTH_INFO: ctlCode(DISK, 0x17, METHOD_BUFFERED, FILE_READ_ACCESS),
  DISK_GET_DRIVE_LAYOUT_EX: ctlCode(DISK, 0x14, METHOD_BUFFERED, FILE_ANY_ACCESS),
  DISK_SET_DRIVE_LAYOUT_EX: ctlCode(DISK, 0x15, METHOD_BUFFERED, RW),
  DISK_CREATE_DISK: ctlCode(DISK, 0x16, METHOD_BUFFERED, RW),
  DISK_DELETE_DRIVE_LAYOUT: ctlCode(DISK, 0x40, METHOD_BUFFERED, RW),
  DISK_UPDATE_PROPERTIES: ctlCode(DISK, 0x50, METHOD_BUFFERED, FILE_ANY_ACCESS),
  DISK_GET_PARTITION_INFO_EX: ctlCode(DISK, 0x12, METHOD_BUFFERED, FILE_ANY_ACCESS),
  DISK_SET_PARTITION_INFO_EX: ctlCode(DISK, 0x13, METHOD_BUFFERED, RW),
  DISK_IS_WRITABLE: ctlCode(DISK, 0x09, METHOD_BUFFERED, FILE_ANY_ACCESS),
  DISK_GET_DISK_ATTRIBUTES: ctlCode(DISK, 0x3c, METHOD_BUFFERED, FILE_ANY_ACCESS),
  DISK_SET_DISK_ATTRIBUTES: ctlCode(DISK, 0x3d, METHOD_BUFFERED, RW),
  STORAGE_GET_DEVICE_NUMBER: ctlCode(STORAGE, 0x420, METHOD_BUFFERED, FILE_ANY_ACCESS),
  STORAGE_QUERY_PROPERTY: ctlCode(STORAGE, 0x500, METHOD_BUFFERED, FILE_ANY_ACCESS),
  STORAGE_READ_CAPACITY: ctlCode(STORAGE, 0x450, METHOD_BUFFERED, FILE_READ_ACCESS),
  VOLUME_GET_VOLUME_DISK_EXTENTS: ctlCode(VOLUME, 0, METHOD_BUFFERED, FILE_ANY_ACCESS),
  VOLUME_ONLINE: ctlCode(VOLUME, 2, METHOD_BUFFERED, RW),
  VOLUME_OFFLINE: ctlCode(VOLUME, 3, METHOD_BUFFERED, RW),
} as const;

export const FSCTL = {
  LOCK_VOLUME: ctlCode(FILE_SYSTEM, 6, METHOD_BUFFERED, FILE_ANY_ACCESS),
  UNLOCK_VOLUME: ctlCode(FILE_SYSTEM, 7, METHOD_BUFFERED, FILE_ANY_ACCESS),
  DISMOUNT_VOLUME: ctlCode(FILE_SYSTEM, 8, METHOD_BUFFERED, FILE_ANY_ACCESS),
  IS_VOLUME_MOUNTED: ctlCode(FILE_SYSTEM, 10, METHOD_BUFFERED, FILE_ANY_ACCESS),
  GET_NTFS_VOLUME_DATA: ctlCode(FILE_SYSTEM, 25, METHOD_BUFFERED, FILE_ANY_ACCESS),
  GET_VOLUME_BITMAP: ctlCode(FILE_SYSTEM, 27, METHOD_NEITHER, FILE_ANY_ACCESS),
  GET_RETRIEVAL_POINTERS: ctlCode(FILE_SYSTEM, 28, METHOD_NEITHER, FILE_ANY_ACCESS),
  ALLOW_EXTENDED_DASD_IO: ctlCode(FILE_SYSTEM, 32, METHOD_NEITHER, FILE_ANY_ACCESS),
} as const;

export const PARTITION_STYLE = { MBR: 0, GPT: 1, RAW: 2 } as const;

/** STORAGE_BUS_TYPE. There is no VirtIO value: viostor reports SCSI (1), vioscsi SAS (0x0A). */
export const STORAGE_BUS_TYPE: Readonly<Record<number, string>> = {
  0x01: 'SCSI', 0x02: 'ATAPI', 0x03: 'ATA', 0x04: '1394', 0x05: 'SSA', 0x06: 'Fibre', 0x07: 'USB', 0x08: 'RAID',
  0x09: 'iSCSI', 0x0a: 'SAS', 0x0b: 'SATA', 0x0c: 'SD', 0x0d: 'MMC', 0x0e: 'Virtual', 0x0f: 'FileBackedVirtual',
  0x10: 'Spaces', 0x11: 'NVMe', 0x12: 'SCM', 0x13: 'UFS',
};

export const GUID = koffi.struct('GUID', {
  Data1: 'uint32_t', Data2: 'uint16_t', Data3: 'uint16_t', Data4: koffi.array('uint8_t', 8),
});

export const DISK_GEOMETRY = koffi.struct('DISK_GEOMETRY', {
  Cylinders: 'int64_t', MediaType: 'uint32_t', TracksPerCylinder: 'uint32_t', SectorsPerTrack: 'uint32_t', BytesPerSector: 'uint32_t',
});

/** Data[] (partition and detection information) follows at 32; ask for more than sizeof. */
export const DISK_GEOMETRY_EX = koffi.struct('DISK_GEOMETRY_EX', {
  Geometry: DISK_GEOMETRY, DiskSize: 'int64_t', Data: koffi.array('uint8_t', 1),
});

export const GET_LENGTH_INFORMATION = koffi.struct('GET_LENGTH_INFORMATION', { Length: 'int64_t' });

export const PARTITION_INFORMATION_MBR = koffi.struct('PARTITION_INFORMATION_MBR', {
  PartitionType: 'uint8_t', BootIndicator: 'uint8_t', RecognizedPartition: 'uint8_t', HiddenSectors: 'uint32_t', PartitionId: GUID,
});

export const PARTITION_INFORMATION_GPT = koffi.struct('PARTITION_INFORMATION_GPT', {
  PartitionType: GUID, PartitionId: GUID, Attributes: 'uint64_t', Name: koffi.array('char16_t', 36),
});

export const PARTITION_INFORMATION_EX = koffi.struct('PARTITION_INFORMATION_EX', {
  PartitionStyle: 'uint32_t', StartingOffset: 'int64_t', PartitionLength: 'int64_t', PartitionNumber: 'uint32_t',
  RewritePartition: 'uint8_t', IsServicePartition: 'uint8_t',
  u: koffi.union('PARTITION_INFORMATION_EX_UNION', { Mbr: PARTITION_INFORMATION_MBR, Gpt: PARTITION_INFORMATION_GPT }),
});

/** CheckSum is in current SDKs (mingw 10 omits it); the union is 40 bytes either way. */
export const DRIVE_LAYOUT_INFORMATION_MBR = koffi.struct('DRIVE_LAYOUT_INFORMATION_MBR', { Signature: 'uint32_t', CheckSum: 'uint32_t' });

export const DRIVE_LAYOUT_INFORMATION_GPT = koffi.struct('DRIVE_LAYOUT_INFORMATION_GPT', {
  DiskId: GUID, StartingUsableOffset: 'int64_t', UsableLength: 'int64_t', MaxPartitionCount: 'uint32_t',
});

/** Declared with one entry; the real buffer is driveLayoutSize(count) bytes. */
export const DRIVE_LAYOUT_INFORMATION_EX = koffi.struct('DRIVE_LAYOUT_INFORMATION_EX', {
  PartitionStyle: 'uint32_t', PartitionCount: 'uint32_t',
  u: koffi.union('DRIVE_LAYOUT_INFORMATION_EX_UNION', { Mbr: DRIVE_LAYOUT_INFORMATION_MBR, Gpt: DRIVE_LAYOUT_INFORMATION_GPT }),
  PartitionEntry: koffi.array(PARTITION_INFORMATION_EX, 1),
});

export const CREATE_DISK = koffi.struct('CREATE_DISK', {
  PartitionStyle: 'uint32_t',
  u: koffi.union('CREATE_DISK_UNION', {
    Mbr: koffi.struct('CREATE_DISK_MBR', { Signature: 'uint32_t' }),
    Gpt: koffi.struct('CREATE_DISK_GPT', { DiskId: GUID, MaxPartitionCount: 'uint32_t' }),
  }),
});

export const STORAGE_DEVICE_NUMBER = koffi.struct('STORAGE_DEVICE_NUMBER', {
  DeviceType: 'uint32_t', DeviceNumber: 'uint32_t', PartitionNumber: 'uint32_t',
});

export const DISK_EXTENT = koffi.struct('DISK_EXTENT', { DiskNumber: 'uint32_t', StartingOffset: 'int64_t', ExtentLength: 'int64_t' });

/** Declared with one extent; with more, the call fails with ERROR_MORE_DATA and needs 8 + 24·n bytes. */
export const VOLUME_DISK_EXTENTS = koffi.struct('VOLUME_DISK_EXTENTS', {
  NumberOfDiskExtents: 'uint32_t', Extents: koffi.array(DISK_EXTENT, 1),
});

/** PropertyId 0 StorageDeviceProperty, 1 StorageAdapterProperty, 6 StorageAccessAlignmentProperty; QueryType 0 standard. */
export const STORAGE_PROPERTY_QUERY = koffi.struct('STORAGE_PROPERTY_QUERY', {
  PropertyId: 'uint32_t', QueryType: 'uint32_t', AdditionalParameters: koffi.array('uint8_t', 1),
});

/** The *Offset fields point into the same buffer (ASCII, NUL-terminated; 0 = absent). */
export const STORAGE_DEVICE_DESCRIPTOR = koffi.struct('STORAGE_DEVICE_DESCRIPTOR', {
  Version: 'uint32_t', Size: 'uint32_t', DeviceType: 'uint8_t', DeviceTypeModifier: 'uint8_t', RemovableMedia: 'uint8_t',
  CommandQueueing: 'uint8_t', VendorIdOffset: 'uint32_t', ProductIdOffset: 'uint32_t', ProductRevisionOffset: 'uint32_t',
  SerialNumberOffset: 'uint32_t', BusType: 'uint32_t', RawPropertiesLength: 'uint32_t', RawDeviceProperties: koffi.array('uint8_t', 1),
});

export const STORAGE_ADAPTER_DESCRIPTOR = koffi.struct('STORAGE_ADAPTER_DESCRIPTOR', {
  Version: 'uint32_t', Size: 'uint32_t', MaximumTransferLength: 'uint32_t', MaximumPhysicalPages: 'uint32_t', AlignmentMask: 'uint32_t',
  AdapterUsesPio: 'uint8_t', AdapterScansDown: 'uint8_t', CommandQueueing: 'uint8_t', AcceleratedTransfer: 'uint8_t',
  BusType: 'uint8_t', BusMajorVersion: 'uint16_t', BusMinorVersion: 'uint16_t', SrbType: 'uint8_t', AddressType: 'uint8_t',
});

export const STORAGE_ACCESS_ALIGNMENT_DESCRIPTOR = koffi.struct('STORAGE_ACCESS_ALIGNMENT_DESCRIPTOR', {
  Version: 'uint32_t', Size: 'uint32_t', BytesPerCacheLine: 'uint32_t', BytesOffsetForCacheAlignment: 'uint32_t',
  BytesPerLogicalSector: 'uint32_t', BytesPerPhysicalSector: 'uint32_t', BytesOffsetForSectorAlignment: 'uint32_t',
});

export const OVERLAPPED = koffi.struct('OVERLAPPED', {
  Internal: 'uintptr_t', InternalHigh: 'uintptr_t', Offset: 'uint32_t', OffsetHigh: 'uint32_t', hEvent: 'void *',
});

/** Offset of PartitionEntry[0] in DRIVE_LAYOUT_INFORMATION_EX, and the stride between entries. */
export const DRIVE_LAYOUT_HEADER_BYTES = koffi.offsetof(DRIVE_LAYOUT_INFORMATION_EX, 'PartitionEntry');
export const PARTITION_ENTRY_BYTES = koffi.sizeof(PARTITION_INFORMATION_EX);

/** Bytes of a DRIVE_LAYOUT_INFORMATION_EX holding `count` entries. */
export function driveLayoutSize(count: number): number {
  return DRIVE_LAYOUT_HEADER_BYTES + PARTITION_ENTRY_BYTES * count;
}

/** Bytes of a VOLUME_DISK_EXTENTS holding `count` extents. */
export function volumeDiskExtentsSize(count: number): number {
  return koffi.offsetof(VOLUME_DISK_EXTENTS, 'Extents') + koffi.sizeof(DISK_EXTENT) * count;
}
