/**
 * Sample VSS documents written from the schema (src/core/vss/README.md names the sources): the
 * element and attribute spelling of SaveAsXML output, the ASR writer's component naming from "Using
 * VSS Automated System Recovery for Disaster Recovery". The machine they describe is a UEFI server:
 *
 *   disk 0  ESP (FAT32, system)  ·  C: (NTFS, boot)  ·  WinRE (NTFS)
 *   disk 1  D: data (NTFS)
 *   disk 2  E: local backup target (NTFS)
 */
export const VOL = {
  esp: '4a2b1c3d-0001-4e5f-8a9b-0c1d2e3f4a5b',
  c: '4a2b1c3d-0002-4e5f-8a9b-0c1d2e3f4a5b',
  winre: '4a2b1c3d-0003-4e5f-8a9b-0c1d2e3f4a5b',
  d: '4a2b1c3d-0004-4e5f-8a9b-0c1d2e3f4a5b',
  e: '4a2b1c3d-0005-4e5f-8a9b-0c1d2e3f4a5b',
} as const;

export const ASR_INSTANCE = '7c0e9f1a-5b2d-4c3e-9f80-112233445566';

const volumeGroup = (guid: string, critical: boolean): string =>
  `<FILE_GROUP logicalPath="Volumes" componentName="Volume{${guid}}" caption="This is the path to a volume" ` +
  `restoreMetadata="no" notifyOnBackupComplete="no" selectable="${critical ? 'no' : 'yes'}" selectableForRestore="no" componentFlags="0"/>`;

/** The ASR writer's metadata for the machine above (critical: ESP, C:, WinRE). */
export const ASR_METADATA_XML = `<?xml version="1.0" encoding="UTF-16"?>
<WRITER_METADATA xmlns="x-schema:#VssWriterMetadataInfo" version="1.2">
  <IDENTIFICATION writerId="BE000CBE-11FE-4426-9C58-531AA6355FC4" instanceId="{${ASR_INSTANCE}}" friendlyName="ASR Writer" usage="BOOTABLE_SYSTEM_STATE" dataSource="OTHER" majorVersion="1" minorVersion="0"/>
  <RESTORE_METHOD method="CUSTOM" writerRestore="always" rebootRequired="no"/>
  <BACKUP_LOCATIONS>
    <FILE_GROUP componentName="ASR" caption="ASR component" restoreMetadata="no" notifyOnBackupComplete="no" selectable="no" selectableForRestore="no" componentFlags="0"/>
    <FILE_GROUP logicalPath="Disks" componentName="harddisk0" caption="This is a disk" restoreMetadata="no" notifyOnBackupComplete="no" selectable="yes" selectableForRestore="no" componentFlags="0"/>
    <FILE_GROUP logicalPath="Disks" componentName="harddisk1" caption="This is a disk" restoreMetadata="no" notifyOnBackupComplete="no" selectable="yes" selectableForRestore="no" componentFlags="0"/>
    <FILE_GROUP logicalPath="Disks" componentName="harddisk2" caption="This is a disk" restoreMetadata="no" notifyOnBackupComplete="no" selectable="yes" selectableForRestore="no" componentFlags="0"/>
    ${volumeGroup(VOL.esp, true)}
    ${volumeGroup(VOL.c, true)}
    ${volumeGroup(VOL.winre, true)}
    ${volumeGroup(VOL.d, false)}
    ${volumeGroup(VOL.e, false)}
    <FILE_GROUP logicalPath="BCD" componentName="BCD" caption="This is the path to the boot BCD store and the boot managers...All the files in this directory need to be backed up..." restoreMetadata="no" notifyOnBackupComplete="no" selectable="yes" selectableForRestore="no" componentFlags="0">
      <FILE_LIST path="\\\\?\\Volume{${VOL.esp}}\\EFI\\Microsoft\\Boot" filespec="*.*" recursive="yes"/>
    </FILE_GROUP>
  </BACKUP_LOCATIONS>
</WRITER_METADATA>`;

/** A system-service writer with one non-selectable component (the shape of the Task Scheduler Writer's). */
export const TASK_SCHEDULER_XML =
  '<WRITER_METADATA xmlns="x-schema:#VssWriterMetadataInfo" version="1.2">' +
  '<IDENTIFICATION writerId="d61d61c8-d73a-4eee-8cdd-f6f9786b7124" instanceId="1e2d3c4b-0000-4a5b-8c7d-000000000001" friendlyName="Task Scheduler Writer" usage="BOOTABLE_SYSTEM_STATE" dataSource="OTHER" majorVersion="0" minorVersion="0"/>' +
  '<RESTORE_METHOD method="REPLACE_AT_REBOOT_IF_CANNOT_REPLACE" writerRestore="never" rebootRequired="no"/>' +
  '<BACKUP_LOCATIONS><FILE_GROUP componentName="TasksStore" caption="Tasks Store" restoreMetadata="no" notifyOnBackupComplete="no" selectable="no" selectableForRestore="no" componentFlags="0">' +
  '<FILE_LIST path="%WinDir%\\System32\\Tasks" filespec="*" recursive="yes" filespecBackupType="3855"/>' +
  '<FILE_LIST path="%WinDir%\\Tasks" filespec="*" recursive="yes" filespecBackupType="3855"/>' +
  '</FILE_GROUP></BACKUP_LOCATIONS></WRITER_METADATA>';

/** A database writer (SQL Server style): DATABASE components, a schema mask, a service to stop. */
export const SQL_WRITER_XML =
  '<WRITER_METADATA xmlns="x-schema:#VssWriterMetadataInfo" version="1.2" backupSchema="881">' +
  '<IDENTIFICATION writerId="a65faa63-5ea8-4ebc-9dbd-a0c4db26912a" instanceId="2f3e4d5c-0000-4a5b-8c7d-000000000002" instanceName="Microsoft SQL Server 2017:SQLWriter" friendlyName="SqlServerWriter" usage="USER_DATA" dataSource="TRANSACTION_DB"/>' +
  '<RESTORE_METHOD method="STOP_RESTART_SERVICE" service="MSSQLSERVER" writerRestore="ifReplaceFails" rebootRequired="no">' +
  '<ALTERNATE_LOCATION_MAPPING path="C:\\Data" filespec="*.mdf" recursive="no" alternatePath="D:\\Restore"/></RESTORE_METHOD>' +
  '<BACKUP_LOCATIONS><DATABASE logicalPath="SQL01" componentName="sales" caption="Sales &amp; Orders" restoreMetadata="no" notifyOnBackupComplete="yes" selectable="yes" selectableForRestore="yes" componentFlags="1">' +
  '<DATABASE_FILES path="C:\\Data" filespec="sales.mdf" recursive="no"/><DATABASE_LOGFILES path="C:\\Logs" filespec="sales_log.ldf" recursive="no"/>' +
  '</DATABASE></BACKUP_LOCATIONS></WRITER_METADATA>';

/** A Backup Components Document after a full backup: ASR components succeeded, a SQL component with stamps. */
export const BACKUP_COMPONENTS_XML = `<?xml version="1.0" encoding="UTF-8"?>
<BACKUP_COMPONENTS xmlns="x-schema:#VssComponentMetadata" version="1.2" bootableSystemStateBackup="yes" selectComponents="yes" backupType="full" partialFileSupport="no" snapshotSetId="5d4c3b2a-1234-4abc-9def-0123456789ab">
  <WRITER_COMPONENTS instanceId="${ASR_INSTANCE}" writerId="be000cbe-11fe-4426-9c58-531aa6355fc4" backupSchema="0">
    <COMPONENT componentName="ASR" componentType="filegroup" backupSucceeded="yes"/>
    <COMPONENT logicalPath="Disks" componentName="harddisk0" componentType="filegroup" backupSucceeded="yes"/>
    <COMPONENT logicalPath="Volumes" componentName="Volume{${VOL.c}}" componentType="filegroup" backupSucceeded="yes"/>
  </WRITER_COMPONENTS>
  <WRITER_COMPONENTS instanceId="2f3e4d5c-0000-4a5b-8c7d-000000000002" writerId="a65faa63-5ea8-4ebc-9dbd-a0c4db26912a" instanceName="Microsoft SQL Server 2017:SQLWriter" backupSchema="881">
    <COMPONENT logicalPath="SQL01" componentName="sales" componentType="database" backupSucceeded="yes" backupStamp="CAAAAMQv3+t4udUB" previousBackupStamp="CAAAAAAA">
      <BACKUP_METADATA xmlns="" metadata="QkNBQQ=="/>
    </COMPONENT>
  </WRITER_COMPONENTS>
</BACKUP_COMPONENTS>`;
