/**
 * The Backup Components Document (IVssBackupComponents::SaveAsXML): which components were added
 * per writer, whether each backup succeeded, and the writers' backup stamps. It is stored with the
 * restore point (InitializeForRestore needs it) and its stamps are the backup history (seed 004).
 * Namespace "x-schema:#VssComponentMetadata"; README.md beside this file says where each name was checked.
 *
 *   <BACKUP_COMPONENTS version bootableSystemStateBackup selectComponents backupType
 *                      partialFileSupport snapshotSetId>
 *     <WRITER_COMPONENTS instanceId writerId [instanceName] backupSchema>
 *       <COMPONENT [logicalPath] componentName componentType [backupSucceeded] [backupStamp]
 *                  [previousBackupStamp] [backupOptions] …>
 *         <BACKUP_METADATA metadata/>?  (writer-private; kept verbatim)
 *
 * Unknown attributes and child elements are kept (and written back) so a round trip never drops what
 * a writer stored.
 */
import { RecoveryError } from '../errors.ts';
import { isGuid, normalizeGuid } from '../partition/guid.ts';
import { componentKey, type ComponentType } from './writer-metadata.ts';
import { localName, parseXml, serializeXml, type XmlElement } from './xml.ts';

export const BACKUP_COMPONENTS_NAMESPACE = 'x-schema:#VssComponentMetadata';

/** VSS_BACKUP_TYPE as the document spells it. */
export type DocumentBackupType = 'full' | 'incremental' | 'differential' | 'log' | 'copy' | 'other' | 'undefined';

export interface BcComponent {
  readonly logicalPath: string;
  readonly name: string;
  readonly type: ComponentType;
  /** Absent until SetBackupSucceeded was called for it. */
  readonly backupSucceeded?: boolean;
  readonly backupStamp?: string;
  readonly previousBackupStamp?: string;
  readonly backupOptions?: string;
  /** Writer-private BACKUP_METADATA@metadata. */
  readonly backupMetadata?: string;
  /** Attributes not named above, as written. */
  readonly extraAttributes: Readonly<Record<string, string>>;
  /** Child elements other than BACKUP_METADATA, as written. */
  readonly extraChildren: readonly XmlElement[];
}

export interface BcWriter {
  readonly writerId: string;
  readonly instanceId: string;
  readonly instanceName?: string;
  readonly backupSchema: number;
  readonly components: readonly BcComponent[];
}

export interface BackupComponentsDocument {
  readonly version: string;
  readonly bootableSystemStateBackup: boolean;
  readonly selectComponents: boolean;
  readonly backupType: DocumentBackupType;
  readonly partialFileSupport: boolean;
  readonly snapshotSetId?: string;
  readonly writers: readonly BcWriter[];
  /** Root children other than WRITER_COMPONENTS (e.g. the snapshot set description), as written. */
  readonly extraChildren: readonly XmlElement[];
}

const TYPES: readonly DocumentBackupType[] = ['full', 'incremental', 'differential', 'log', 'copy', 'other', 'undefined'];
const COMPONENT_KNOWN = ['logicalPath', 'componentName', 'componentType', 'backupSucceeded', 'backupStamp', 'previousBackupStamp', 'backupOptions'];

function invalid(reason: string): RecoveryError {
  return new RecoveryError('vss.backup-components-invalid', `backup components document is not usable: ${reason}`, { data: { reason } });
}

function flag(el: XmlElement, name: string): boolean | undefined {
  const v = el.attributes[name];
  if (v === undefined) return undefined;
  const t = v.trim().toLowerCase();
  if (t === 'yes' || t === 'true' || t === '1') return true;
  if (t === 'no' || t === 'false' || t === '0') return false;
  throw invalid(`${el.name}@${name} is "${v}", not yes/no`);
}

function guid(el: XmlElement, name: string): string {
  const v = el.attributes[name]?.trim();
  if (v === undefined || !isGuid(v)) throw invalid(`${el.name}@${name} is ${v === undefined ? 'missing' : `"${v}"`}, not a GUID`);
  return normalizeGuid(v);
}

function parseComponent(el: XmlElement): BcComponent {
  const a = el.attributes;
  const name = a['componentName'];
  if (name === undefined || name === '') throw invalid('a COMPONENT has no componentName');
  const type = (a['componentType'] ?? '').toLowerCase();
  if (type !== 'filegroup' && type !== 'database') throw invalid(`component "${name}" has componentType "${a['componentType'] ?? ''}"`);
  const metadata = el.children.find((c) => localName(c.name) === 'BACKUP_METADATA');
  const succeeded = flag(el, 'backupSucceeded');
  const extraAttributes: Record<string, string> = {};
  for (const [k, v] of Object.entries(a)) if (!COMPONENT_KNOWN.includes(k)) extraAttributes[k] = v;
  return {
    logicalPath: a['logicalPath'] ?? '',
    name,
    type,
    ...(succeeded === undefined ? {} : { backupSucceeded: succeeded }),
    ...(a['backupStamp'] === undefined ? {} : { backupStamp: a['backupStamp'] }),
    ...(a['previousBackupStamp'] === undefined ? {} : { previousBackupStamp: a['previousBackupStamp'] }),
    ...(a['backupOptions'] === undefined ? {} : { backupOptions: a['backupOptions'] }),
    ...(metadata?.attributes['metadata'] === undefined ? {} : { backupMetadata: metadata.attributes['metadata'] }),
    extraAttributes,
    extraChildren: el.children.filter((c) => localName(c.name) !== 'BACKUP_METADATA'),
  };
}

function parseWriter(el: XmlElement): BcWriter {
  const schema = el.attributes['backupSchema'];
  const n = schema === undefined ? 0 : Number(schema);
  if (!Number.isInteger(n) || n < 0) throw invalid(`WRITER_COMPONENTS@backupSchema is "${schema ?? ''}"`);
  const instanceName = el.attributes['instanceName'];
  return {
    writerId: guid(el, 'writerId'),
    instanceId: guid(el, 'instanceId'),
    ...(instanceName === undefined ? {} : { instanceName }),
    backupSchema: n,
    components: el.children.filter((c) => localName(c.name) === 'COMPONENT').map(parseComponent),
  };
}

/** Parses a Backup Components Document; throws vss.xml-malformed or vss.backup-components-invalid. */
export function parseBackupComponents(xml: string): BackupComponentsDocument {
  const root = parseXml(xml);
  if (localName(root.name) !== 'BACKUP_COMPONENTS') throw invalid(`the root element is <${root.name}>, not <BACKUP_COMPONENTS>`);
  const type = (root.attributes['backupType'] ?? 'undefined').toLowerCase();
  if (!(TYPES as readonly string[]).includes(type)) throw invalid(`backupType is "${root.attributes['backupType'] ?? ''}"`);
  const set = root.attributes['snapshotSetId'];
  return {
    version: root.attributes['version'] ?? '',
    bootableSystemStateBackup: flag(root, 'bootableSystemStateBackup') ?? false,
    selectComponents: flag(root, 'selectComponents') ?? false,
    backupType: type as DocumentBackupType,
    partialFileSupport: flag(root, 'partialFileSupport') ?? false,
    ...(set === undefined ? {} : { snapshotSetId: guid(root, 'snapshotSetId') }),
    writers: root.children.filter((c) => localName(c.name) === 'WRITER_COMPONENTS').map(parseWriter),
    extraChildren: root.children.filter((c) => localName(c.name) !== 'WRITER_COMPONENTS'),
  };
}

const yesNo = (b: boolean): string => (b ? 'yes' : 'no');

function componentElement(c: BcComponent): XmlElement {
  const attributes: Record<string, string> = {};
  if (c.logicalPath !== '') attributes['logicalPath'] = c.logicalPath;
  attributes['componentName'] = c.name;
  attributes['componentType'] = c.type;
  if (c.backupSucceeded !== undefined) attributes['backupSucceeded'] = yesNo(c.backupSucceeded);
  if (c.backupStamp !== undefined) attributes['backupStamp'] = c.backupStamp;
  if (c.previousBackupStamp !== undefined) attributes['previousBackupStamp'] = c.previousBackupStamp;
  if (c.backupOptions !== undefined) attributes['backupOptions'] = c.backupOptions;
  Object.assign(attributes, c.extraAttributes);
  const children = [...c.extraChildren];
  if (c.backupMetadata !== undefined) children.unshift({ name: 'BACKUP_METADATA', attributes: { xmlns: '', metadata: c.backupMetadata }, children: [], text: '' });
  return { name: 'COMPONENT', attributes, children, text: '' };
}

/** Writes the document back in VSS's own spelling (the form InitializeForRestore loads). */
export function encodeBackupComponents(doc: BackupComponentsDocument): string {
  const root: XmlElement = {
    name: 'BACKUP_COMPONENTS',
    attributes: {
      xmlns: BACKUP_COMPONENTS_NAMESPACE,
      version: doc.version === '' ? '1.2' : doc.version,
      bootableSystemStateBackup: yesNo(doc.bootableSystemStateBackup),
      selectComponents: yesNo(doc.selectComponents),
      backupType: doc.backupType,
      partialFileSupport: yesNo(doc.partialFileSupport),
      ...(doc.snapshotSetId === undefined ? {} : { snapshotSetId: doc.snapshotSetId }),
    },
    children: [
      ...doc.writers.map((w): XmlElement => ({
        name: 'WRITER_COMPONENTS',
        attributes: {
          instanceId: w.instanceId,
          writerId: w.writerId,
          ...(w.instanceName === undefined ? {} : { instanceName: w.instanceName }),
          backupSchema: String(w.backupSchema),
        },
        children: w.components.map(componentElement),
        text: '',
      })),
      ...doc.extraChildren,
    ],
    text: '',
  };
  return serializeXml(root);
}

export interface ComponentOutcome {
  readonly writerId: string;
  readonly instanceId: string;
  /** componentKey(): "\logical\path\name". */
  readonly key: string;
  readonly backupSucceeded: boolean | undefined;
  readonly backupStamp?: string;
}

/** Every component in the document with its succeeded flag and backup stamp. */
export function componentOutcomes(doc: BackupComponentsDocument): ComponentOutcome[] {
  return doc.writers.flatMap((w) => w.components.map((c): ComponentOutcome => ({
    writerId: w.writerId,
    instanceId: w.instanceId,
    key: componentKey(c),
    backupSucceeded: c.backupSucceeded,
    ...(c.backupStamp === undefined ? {} : { backupStamp: c.backupStamp }),
  })));
}

/**
 * What a stored document says is wrong for a restore point: components not marked succeeded, and
 * expected components (writerId + key) that are missing. Empty when the document is complete.
 */
export function verifyBackupComponents(
  doc: BackupComponentsDocument,
  expected: readonly { readonly writerId: string; readonly key: string }[],
): string[] {
  const problems: string[] = [];
  const outcomes = componentOutcomes(doc);
  for (const o of outcomes) {
    if (o.backupSucceeded !== true) problems.push(`${o.writerId} ${o.key}: backupSucceeded is ${o.backupSucceeded === undefined ? 'unset' : 'no'}`);
  }
  for (const e of expected) {
    const writerId = normalizeGuid(e.writerId);
    if (!outcomes.some((o) => o.writerId === writerId && o.key.toLowerCase() === e.key.toLowerCase())) problems.push(`${writerId} ${e.key}: not in the document`);
  }
  return problems;
}
