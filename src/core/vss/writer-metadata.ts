/**
 * Writer Metadata Documents, as IVssExamineWriterMetadata::SaveAsXML returns them, and the ASR
 * writer's view of one. The element and attribute names are those of VSS's writer metadata schema
 * (namespace "x-schema:#VssWriterMetadataInfo"); README.md beside this file says where each was checked.
 *
 *   <WRITER_METADATA version="1.2" [backupSchema="…"]>
 *     <IDENTIFICATION writerId instanceId [instanceName] friendlyName usage dataSource …/>
 *     <RESTORE_METHOD method [service] [userProcedure] writerRestore rebootRequired>
 *       <ALTERNATE_LOCATION_MAPPING path filespec recursive alternatePath/>*
 *     <BACKUP_LOCATIONS>
 *       <FILE_GROUP | DATABASE  logicalPath? componentName caption restoreMetadata notifyOnBackupComplete
 *                               selectable selectableForRestore componentFlags>
 *         <FILE_LIST | DATABASE_FILES | DATABASE_LOGFILES  path filespec recursive [alternatePath]/>*
 *       <INCLUDE_FILES | EXCLUDE_FILES | EXCLUDE_FILES_FROM_SNAPSHOT path filespec recursive/>*
 *
 * ASR writer (Using VSS Automated System Recovery for Disaster Recovery): one "ASR" component, one
 * component per fixed disk under logical path "Disks" (componentName "harddisk<n>"), one per volume
 * under "Volumes" ("Volume{GUID}") and the boot store under "BCD". System-critical components are
 * not selectable for backup ("not selectable" means "not optional") unless VSS_CF_NOT_SYSTEM_STATE
 * is set.
 */
import { RecoveryError } from '../errors.ts';
import { isGuid, normalizeGuid } from '../partition/guid.ts';
import { childrenNamed, firstChild, localName, parseXml, type XmlElement } from './xml.ts';
import { restoreMethodFromXml, writerRestoreFromXml, type RestoreMethod, type WriterRestore } from './restore-methods.ts';

export const ASR_WRITER_ID = 'be000cbe-11fe-4426-9c58-531aa6355fc4';
export const ASR_WRITER_NAME = 'ASR Writer';

/** VSS_COMPONENT_FLAGS */
export const VSS_CF = { BACKUP_RECOVERY: 0x1, APP_ROLLBACK_RECOVERY: 0x2, NOT_SYSTEM_STATE: 0x4 } as const;

export type WriterUsage = 'BOOTABLE_SYSTEM_STATE' | 'SYSTEM_SERVICE' | 'USER_DATA' | 'OTHER' | 'UNDEFINED';
export type ComponentType = 'filegroup' | 'database';

export interface WriterIdentity {
  /** Lower-case GUID without braces. */
  readonly writerId: string;
  readonly instanceId: string;
  readonly instanceName: string;
  readonly friendlyName: string;
  readonly usage: WriterUsage;
  readonly dataSource: string;
}

export interface FileSpec {
  readonly path: string;
  readonly filespec: string;
  readonly recursive: boolean;
  readonly alternatePath?: string;
}

export interface WriterComponent {
  readonly type: ComponentType;
  /** '' when the component has no logical path. */
  readonly logicalPath: string;
  readonly name: string;
  readonly caption: string;
  readonly restoreMetadata: boolean;
  readonly notifyOnBackupComplete: boolean;
  readonly selectable: boolean;
  readonly selectableForRestore: boolean;
  /** VSS_COMPONENT_FLAGS bits. */
  readonly flags: number;
  /** FILE_LIST for file groups, DATABASE_FILES + DATABASE_LOGFILES for databases. */
  readonly files: readonly FileSpec[];
}

export interface WriterRestoreMethod {
  readonly method: RestoreMethod;
  /** The XML value as written (e.g. "REPLACE_AT_REBOOT_IF_CANNOT_REPLACE"). */
  readonly methodText: string;
  readonly service: string;
  readonly userProcedure: string;
  readonly writerRestore: WriterRestore;
  readonly rebootRequired: boolean;
  readonly alternateLocationMappings: readonly FileSpec[];
}

export interface WriterMetadata {
  readonly version: string;
  /** VSS_BACKUP_SCHEMA bits; 0 (full backups only) when the attribute is absent. */
  readonly backupSchema: number;
  readonly identity: WriterIdentity;
  /** Absent when the writer declared none. */
  readonly restoreMethod?: WriterRestoreMethod;
  readonly components: readonly WriterComponent[];
  readonly excludeFiles: readonly FileSpec[];
}

function invalid(reason: string, data: Record<string, unknown> = {}): RecoveryError {
  return new RecoveryError('vss.metadata-invalid', `writer metadata is not usable: ${reason}`, { data: { reason, ...data } });
}

function yes(el: XmlElement, name: string, fallback = false): boolean {
  const v = el.attributes[name];
  if (v === undefined) return fallback;
  const t = v.trim().toLowerCase();
  if (t === 'yes' || t === 'true' || t === '1') return true;
  if (t === 'no' || t === 'false' || t === '0') return false;
  throw invalid(`${el.name}@${name} is "${v}", not yes/no`, { element: el.name, attribute: name });
}

function integer(el: XmlElement, name: string): number {
  const v = el.attributes[name];
  if (v === undefined || v.trim() === '') return 0;
  const n = Number(v.trim());
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw invalid(`${el.name}@${name} is "${v}", not an unsigned integer`, { element: el.name, attribute: name });
  return n;
}

function guidAttr(el: XmlElement, name: string): string {
  const v = el.attributes[name];
  if (v === undefined || !isGuid(v.trim())) throw invalid(`${el.name}@${name} is ${v === undefined ? 'missing' : `"${v}"`}, not a GUID`, { element: el.name, attribute: name });
  return normalizeGuid(v.trim());
}

function fileSpec(el: XmlElement): FileSpec {
  const alternatePath = el.attributes['alternatePath'];
  return {
    path: el.attributes['path'] ?? '',
    filespec: el.attributes['filespec'] ?? '',
    recursive: yes(el, 'recursive'),
    ...(alternatePath === undefined ? {} : { alternatePath }),
  };
}

const USAGES: readonly WriterUsage[] = ['BOOTABLE_SYSTEM_STATE', 'SYSTEM_SERVICE', 'USER_DATA', 'OTHER'];

function identity(el: XmlElement): WriterIdentity {
  const usage = (el.attributes['usage'] ?? '').toUpperCase();
  return {
    writerId: guidAttr(el, 'writerId'),
    instanceId: guidAttr(el, 'instanceId'),
    instanceName: el.attributes['instanceName'] ?? '',
    friendlyName: el.attributes['friendlyName'] ?? '',
    usage: (USAGES as readonly string[]).includes(usage) ? (usage as WriterUsage) : 'UNDEFINED',
    dataSource: el.attributes['dataSource'] ?? '',
  };
}

function component(el: XmlElement): WriterComponent {
  const type: ComponentType = localName(el.name) === 'DATABASE' ? 'database' : 'filegroup';
  const name = el.attributes['componentName'];
  if (name === undefined || name === '') throw invalid(`a ${el.name} has no componentName`, { element: el.name });
  const lists = type === 'database' ? ['DATABASE_FILES', 'DATABASE_LOGFILES'] : ['FILE_LIST'];
  return {
    type,
    logicalPath: el.attributes['logicalPath'] ?? '',
    name,
    caption: el.attributes['caption'] ?? '',
    restoreMetadata: yes(el, 'restoreMetadata'),
    notifyOnBackupComplete: yes(el, 'notifyOnBackupComplete'),
    selectable: yes(el, 'selectable', true),
    selectableForRestore: yes(el, 'selectableForRestore'),
    flags: integer(el, 'componentFlags'),
    files: el.children.filter((c) => lists.includes(localName(c.name))).map(fileSpec),
  };
}

function restoreMethod(el: XmlElement): WriterRestoreMethod {
  const methodText = el.attributes['method'] ?? '';
  return {
    method: restoreMethodFromXml(methodText),
    methodText,
    service: el.attributes['service'] ?? '',
    userProcedure: el.attributes['userProcedure'] ?? '',
    writerRestore: writerRestoreFromXml(el.attributes['writerRestore'] ?? ''),
    rebootRequired: yes(el, 'rebootRequired'),
    alternateLocationMappings: childrenNamed(el, 'ALTERNATE_LOCATION_MAPPING').map(fileSpec),
  };
}

/** Parses a Writer Metadata Document; throws vss.xml-malformed or vss.metadata-invalid. */
export function parseWriterMetadata(xml: string): WriterMetadata {
  let root = parseXml(xml);
  // SaveAsXML output is the bare WRITER_METADATA element; tolerate a wrapper such as <root>.
  if (localName(root.name) !== 'WRITER_METADATA') {
    const inner = firstChild(root, 'WRITER_METADATA');
    if (inner === undefined) throw invalid(`the root element is <${root.name}>, not <WRITER_METADATA>`);
    root = inner;
  }
  const id = firstChild(root, 'IDENTIFICATION');
  if (id === undefined) throw invalid('there is no IDENTIFICATION element');
  const locations = firstChild(root, 'BACKUP_LOCATIONS');
  const method = firstChild(root, 'RESTORE_METHOD');
  const components = (locations?.children ?? [])
    .filter((c) => ['FILE_GROUP', 'DATABASE'].includes(localName(c.name)))
    .map(component);
  const seen = new Set<string>();
  for (const c of components) {
    const key = componentKey(c);
    if (seen.has(key)) throw invalid(`component "${key}" appears twice`, { component: key });
    seen.add(key);
  }
  return {
    version: root.attributes['version'] ?? '',
    backupSchema: integer(root, 'backupSchema'),
    identity: identity(id),
    ...(method === undefined ? {} : { restoreMethod: restoreMethod(method) }),
    components,
    excludeFiles: (locations?.children ?? []).filter((c) => localName(c.name) === 'EXCLUDE_FILES').map(fileSpec),
  };
}

/** The full path VSS uses to name a component: "\logical\path\name" (just "\name" without a logical path). */
export function componentKey(c: { readonly logicalPath: string; readonly name: string }): string {
  const path = c.logicalPath.replace(/^\\+|\\+$/g, '');
  return path === '' ? `\\${c.name}` : `\\${path}\\${c.name}`;
}

/**
 * Part of the system state: the writer serves the bootable system state or a system service, and the
 * component is not optional (not selectable for backup) and not flagged VSS_CF_NOT_SYSTEM_STATE.
 */
export function isSystemStateComponent(writer: WriterMetadata, c: WriterComponent): boolean {
  const usage = writer.identity.usage;
  return (usage === 'BOOTABLE_SYSTEM_STATE' || usage === 'SYSTEM_SERVICE') && !c.selectable && (c.flags & VSS_CF.NOT_SYSTEM_STATE) === 0;
}

// ---------------------------------------------------------------- ASR writer

export interface AsrDisk {
  /** The Windows disk number (IOCTL_STORAGE_GET_DEVICE_NUMBER). */
  readonly number: number;
  readonly component: WriterComponent;
}

export interface AsrVolume {
  /** Lower-case volume GUID without braces. */
  readonly guid: string;
  /** "\\?\Volume{…}\" — the form AddToSnapshotSet and CreateFile take. */
  readonly path: string;
  /** Not selectable and not flagged as outside the system state: ASR says the volume is critical. */
  readonly critical: boolean;
  readonly component: WriterComponent;
}

export interface AsrMetadata {
  readonly writer: WriterMetadata;
  /** The "ASR" component itself (system-critical, reported by the ASR writer). */
  readonly asrComponent?: WriterComponent;
  readonly disks: readonly AsrDisk[];
  readonly volumes: readonly AsrVolume[];
  /** The BCD store component; selectable only when the system partition has a volume GUID name. */
  readonly bcd?: WriterComponent;
  /** Components under none of the known logical paths (kept so nothing is silently lost). */
  readonly other: readonly WriterComponent[];
}

const DISK_NAME = /^harddisk(\d{1,4})$/i;
const VOLUME_NAME = /^Volume\{([0-9a-f-]{36})\}$/i;

function sameSegment(a: string, b: string): boolean {
  return a.replace(/^\\+|\\+$/g, '').toLowerCase() === b.toLowerCase();
}

/** The ASR writer's metadata, sorted into its Disks / Volumes / BCD sections. */
export function asrView(writer: WriterMetadata): AsrMetadata {
  if (writer.identity.writerId !== ASR_WRITER_ID) {
    throw new RecoveryError('vss.not-asr-writer', `writer ${writer.identity.writerId} ("${writer.identity.friendlyName}") is not the ASR writer`, {
      data: { writerId: writer.identity.writerId, friendlyName: writer.identity.friendlyName },
    });
  }
  const disks: AsrDisk[] = [];
  const volumes: AsrVolume[] = [];
  const other: WriterComponent[] = [];
  let asrComponent: WriterComponent | undefined;
  let bcd: WriterComponent | undefined;
  for (const c of writer.components) {
    const disk = DISK_NAME.exec(c.name);
    const volume = VOLUME_NAME.exec(c.name);
    if (sameSegment(c.logicalPath, 'Disks') && disk !== null) {
      disks.push({ number: Number(disk[1]), component: c });
    } else if (sameSegment(c.logicalPath, 'Volumes') && volume !== null && isGuid(volume[1]!)) {
      const guid = normalizeGuid(volume[1]!);
      volumes.push({ guid, path: `\\\\?\\Volume{${guid}}\\`, critical: isSystemStateComponent(writer, c), component: c });
    } else if (sameSegment(c.logicalPath, 'BCD') && c.name.toUpperCase() === 'BCD') {
      bcd = c;
    } else if (c.logicalPath === '' && c.name.toUpperCase() === 'ASR') {
      asrComponent = c;
    } else {
      other.push(c);
    }
  }
  disks.sort((a, b) => a.number - b.number);
  return { writer, ...(asrComponent === undefined ? {} : { asrComponent }), disks, volumes, ...(bcd === undefined ? {} : { bcd }), other };
}

/** Parses the ASR writer's Writer Metadata Document (parseWriterMetadata + asrView). */
export function parseAsrMetadata(xml: string): AsrMetadata {
  return asrView(parseWriterMetadata(xml));
}
