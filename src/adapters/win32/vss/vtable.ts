/**
 * Method slots and koffi prototypes of the VSS COM interfaces the requester calls. A COM object is a
 * pointer to a pointer to its vtable; slot i holds method i in declaration order, IUnknown's three
 * first. The order below is the declaration order of vsbackup.h / vss.h in the Windows SDK, as
 * mirrored by winapi-rs `src/um/vsbackup.rs` and `src/um/vss.rs` (RIDL! interface blocks):
 *
 *   IUnknown                 0 QueryInterface  1 AddRef  2 Release
 *   IVssBackupComponents     3 GetWriterComponentsCount  4 GetWriterComponents  5 InitializeForBackup
 *                            6 SetBackupState  7 InitializeForRestore  8 SetRestoreState
 *                            9 GatherWriterMetadata  10 GetWriterMetadataCount  11 GetWriterMetadata
 *                            12 FreeWriterMetadata  13 AddComponent  14 PrepareForBackup  15 AbortBackup
 *                            16 GatherWriterStatus  17 GetWriterStatusCount  18 FreeWriterStatus
 *                            19 GetWriterStatus  20 SetBackupSucceeded  21 SetBackupOptions
 *                            22 SetSelectedForRestore  23 SetRestoreOptions  24 SetAdditionalRestores
 *                            25 SetPreviousBackupStamp  26 SaveAsXML  27 BackupComplete
 *                            28 AddAlternativeLocationMapping  29 AddRestoreSubcomponent
 *                            30 SetFileRestoreStatus  31 AddNewTarget  32 SetRangesFilePath
 *                            33 PreRestore  34 PostRestore  35 SetContext  36 StartSnapshotSet
 *                            37 AddToSnapshotSet  38 DoSnapshotSet  39 DeleteSnapshots
 *                            40 ImportSnapshots  41 BreakSnapshotSet  42 GetSnapshotProperties
 *                            43 Query  44 IsVolumeSupported  45 DisableWriterClasses
 *                            46 EnableWriterClasses  47 DisableWriterInstances  48 ExposeSnapshot
 *                            49 RevertToSnapshot  50 QueryRevertStatus
 *   IVssBackupComponentsEx   51 GetWriterMetadataEx  52 SetSelectedForRestoreEx
 *   IVssBackupComponentsEx2  53 UnexposeSnapshot  54 SetAuthoritativeRestore  55 SetRollForward
 *                            56 SetRestoreName  57 BreakSnapshotSetEx  58 PreFastRecovery  59 FastRecovery
 *   IVssBackupComponentsEx3  60 GetWriterStatusEx  61 AddSnapshotToRecoverySet  62 RecoverSet  63 GetSessionId
 *   IVssAsync                3 Cancel  4 Wait  5 QueryStatus
 *   IVssExamineWriterMetadata 3 GetIdentity  4 GetFileCounts  5 GetIncludeFile  6 GetExcludeFile
 *                            7 GetComponent  8 GetRestoreMethod  9 GetAlternateLocationMapping
 *                            10 GetBackupSchema  11 GetDocument  12 SaveAsXML  13 LoadFromXML
 *
 * Parameter types (x64): VSS_ID is a GUID passed by value; C++ `bool` is one byte (koffi 'bool'),
 * BOOL/LONG/enums are 32-bit; BSTR and VSS_PWSZ are UTF-16 pointers; out parameters are passed as
 * caller buffers (`void *`). koffi type names are prefixed `Vss` (koffi refuses a name twice).
 */
import koffi, { type TypeObject } from 'koffi';
import { GUID } from '../structs.ts';

export const SLOT = {
  QueryInterface: 0, AddRef: 1, Release: 2,
  InitializeForBackup: 5, SetBackupState: 6, GatherWriterMetadata: 9, GetWriterMetadataCount: 10,
  GetWriterMetadata: 11, FreeWriterMetadata: 12, AddComponent: 13, PrepareForBackup: 14, AbortBackup: 15,
  GatherWriterStatus: 16, GetWriterStatusCount: 17, FreeWriterStatus: 18, GetWriterStatus: 19,
  SetBackupSucceeded: 20, SaveAsXML: 26, BackupComplete: 27, SetContext: 35, StartSnapshotSet: 36,
  AddToSnapshotSet: 37, DoSnapshotSet: 38, DeleteSnapshots: 39, GetSnapshotProperties: 42,
  GetWriterStatusEx: 60,
} as const;

export const ASYNC_SLOT = { Cancel: 3, Wait: 4, QueryStatus: 5 } as const;
export const METADATA_SLOT = { SaveAsXML: 12 } as const;

/** IID_IVssBackupComponentsEx3 (vsbackup.h): GetWriterStatusEx gives the writer's own failure message. */
export const IID_IVSS_BACKUP_COMPONENTS_EX3 = 'c191bfbc-b602-4675-8bd1-67d642f529d5';

const HR = 'int32_t';
const P = 'void *';
const STR = 'const char16_t *';

type TypeSpec = Parameters<typeof koffi.sizeof>[0];

function proto(name: string, args: readonly TypeSpec[], result: string = HR): TypeObject {
  return koffi.proto('__stdcall', `Vss${name}`, result, [P, ...args]);
}

/** Prototypes by method; the first argument of each is the interface pointer (`this`). */
export const PROTO = {
  QueryInterface: proto('QueryInterface', [P, P]),
  AddRef: proto('AddRef', [], 'uint32_t'),
  Release: proto('Release', [], 'uint32_t'),
  InitializeForBackup: proto('InitializeForBackup', [P]),
  SetBackupState: proto('SetBackupState', ['bool', 'bool', 'int32_t', 'bool']),
  GatherWriterMetadata: proto('GatherWriterMetadata', [P]),
  GetWriterMetadataCount: proto('GetWriterMetadataCount', [P]),
  GetWriterMetadata: proto('GetWriterMetadata', ['uint32_t', P, P]),
  FreeWriterMetadata: proto('FreeWriterMetadata', []),
  AddComponent: proto('AddComponent', [GUID, GUID, 'int32_t', STR, STR]),
  PrepareForBackup: proto('PrepareForBackup', [P]),
  AbortBackup: proto('AbortBackup', []),
  GatherWriterStatus: proto('GatherWriterStatus', [P]),
  GetWriterStatusCount: proto('GetWriterStatusCount', [P]),
  FreeWriterStatus: proto('FreeWriterStatus', []),
  GetWriterStatus: proto('GetWriterStatus', ['uint32_t', P, P, P, P, P]),
  SetBackupSucceeded: proto('SetBackupSucceeded', [GUID, GUID, 'int32_t', STR, STR, 'bool']),
  SaveAsXML: proto('SaveAsXML', [P]),
  BackupComplete: proto('BackupComplete', [P]),
  SetContext: proto('SetContext', ['int32_t']),
  StartSnapshotSet: proto('StartSnapshotSet', [P]),
  AddToSnapshotSet: proto('AddToSnapshotSet', [STR, GUID, P]),
  DoSnapshotSet: proto('DoSnapshotSet', [P]),
  DeleteSnapshots: proto('DeleteSnapshots', [GUID, 'int32_t', 'int32_t', P, P]),
  GetSnapshotProperties: proto('GetSnapshotProperties', [GUID, P]),
  GetWriterStatusEx: proto('GetWriterStatusEx', ['uint32_t', P, P, P, P, P, P, P]),
  AsyncCancel: proto('AsyncCancel', []),
  AsyncWait: proto('AsyncWait', ['uint32_t']),
  AsyncQueryStatus: proto('AsyncQueryStatus', [P, P]),
  MetadataSaveAsXML: proto('MetadataSaveAsXML', [P]),
} as const;

/**
 * VSS_SNAPSHOT_PROP (vss.h), 128 bytes on x64. Filled by GetSnapshotProperties; its strings belong to
 * VSS and are freed with VssFreeSnapshotProperties.
 */
export const VSS_SNAPSHOT_PROP = koffi.struct('VssSnapshotProp', {
  m_SnapshotId: GUID,
  m_SnapshotSetId: GUID,
  m_lSnapshotsCount: 'int32_t',
  m_pwszSnapshotDeviceObject: 'char16_t *',
  m_pwszOriginalVolumeName: 'char16_t *',
  m_pwszOriginatingMachine: 'char16_t *',
  m_pwszServiceMachine: 'char16_t *',
  m_pwszExposedName: 'char16_t *',
  m_pwszExposedPath: 'char16_t *',
  m_ProviderId: GUID,
  m_lSnapshotAttributes: 'int32_t',
  m_tsCreationTimestamp: 'int64_t',
  m_eStatus: 'int32_t',
});

/** VSS_SNAPSHOT_CONTEXT: VSS_CTX_BACKUP — non-persistent, writers involved, released with the object. */
export const VSS_CTX_BACKUP = 0;
/** VSS_OBJECT_TYPE */
export const VSS_OBJECT_SNAPSHOT_SET = 2;
/** VSS_COMPONENT_TYPE */
export const VSS_CT = { database: 1, filegroup: 2 } as const;
