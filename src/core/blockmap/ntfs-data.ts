/**
 * Finding the unnamed $DATA of an MFT record, including data split over extension records by an
 * $ATTRIBUTE_LIST (how Windows stores a badly fragmented $MFT or $Bitmap).
 */
import { RecoveryError } from '../errors.ts';
import type { ByteReader } from './reader.ts';
import { decodeDataRuns, readThroughRuns, type DataRun } from './ntfs-runs.ts';
import {
  assertPlainData, ATTR_ATTRIBUTE_LIST, ATTR_DATA, parseAttributeList,
  type MftRecord, type NonResidentAttribute, type NtfsAttribute,
} from './ntfs-record.ts';

/** Where a record's data is: inline in the record, or clusters described by runs. */
export type AttributeData =
  | { readonly resident: true; readonly value: Uint8Array }
  | { readonly resident: false; readonly first: NonResidentAttribute; readonly runs: DataRun[] };

export interface VolumeContext {
  readonly read: ByteReader;
  readonly clusterSize: number;
  readonly clusterCount: bigint;
}

/** Largest $ATTRIBUTE_LIST we read: real ones are a few KiB even for very fragmented files. */
const MAX_ATTRIBUTE_LIST_BYTES = 1024 * 1024;

function listError(owner: bigint, message: string, data: Record<string, unknown> = {}): RecoveryError {
  return new RecoveryError('blockmap.ntfs-attribute-list', `MFT record ${owner}: ${message}`, { data: { record: owner.toString(), ...data } });
}

function isUnnamedData(a: NtfsAttribute): boolean {
  return a.type === ATTR_DATA && a.name === '';
}

function isNonResidentDataAt(vcn: bigint): (a: NtfsAttribute) => a is NonResidentAttribute {
  return (a): a is NonResidentAttribute => isUnnamedData(a) && !a.resident && a.lowestVcn === vcn;
}

async function attributeValue(volume: VolumeContext, record: MftRecord, attr: NtfsAttribute): Promise<Uint8Array> {
  if (attr.resident) return attr.value;
  if (attr.lowestVcn !== 0n || attr.dataSize > BigInt(MAX_ATTRIBUTE_LIST_BYTES)) {
    throw listError(record.number, 'non-resident $ATTRIBUTE_LIST is split or implausibly large', { dataSize: attr.dataSize.toString() });
  }
  assertPlainData(attr, record.number);
  const runs = decodeDataRuns(attr.mappingPairs, 0n, attr.highestVcn, volume.clusterCount);
  const bytes = await readThroughRuns(volume.read, runs, volume.clusterSize, 0n, Number(attr.initializedSize));
  const value = new Uint8Array(Number(attr.dataSize));
  value.set(bytes);
  return value;
}

/** Decodes one extent's runs and appends them, checking it starts where the previous one ended. */
function appendExtent(volume: VolumeContext, record: MftRecord, attr: NtfsAttribute, runs: DataRun[]): void {
  if (attr.resident) throw listError(record.number, 'a resident $DATA piece in a split attribute');
  assertPlainData(attr, record.number);
  const last = runs[runs.length - 1];
  const nextVcn = last === undefined ? 0n : last.vcn + last.length;
  if (attr.lowestVcn !== nextVcn) {
    throw new RecoveryError('blockmap.ntfs-data-runs', `MFT record ${record.number}: $DATA piece starts at VCN ${attr.lowestVcn}, expected ${nextVcn}`, {
      data: { record: record.number.toString() },
    });
  }
  runs.push(...decodeDataRuns(attr.mappingPairs, attr.lowestVcn, attr.highestVcn, volume.clusterCount));
}

/**
 * The unnamed $DATA of `base`. Runs are appended to `runs` as each piece is found, so a caller
 * reading the $MFT itself can map later extension records through the pieces found so far.
 * Extension records are read once each and must name `base` as their base record, so a list
 * pointing in circles or at unrelated records is rejected instead of followed.
 */
export async function unnamedData(
  volume: VolumeContext, base: MftRecord, readRecord: (n: bigint) => Promise<MftRecord>, runs: DataRun[] = [],
): Promise<AttributeData> {
  const list = base.attributes.find((a) => a.type === ATTR_ATTRIBUTE_LIST);
  if (list === undefined) {
    const pieces = base.attributes.filter(isUnnamedData);
    const only = pieces[0];
    if (only === undefined) throw new RecoveryError('blockmap.ntfs-attribute-missing', `MFT record ${base.number} has no unnamed $DATA`, { data: { record: base.number.toString() } });
    if (only.resident) return { resident: true, value: only.value };
    for (const piece of pieces) appendExtent(volume, base, piece, runs);
    return { resident: false, first: only, runs };
  }
  const entries = parseAttributeList(await attributeValue(volume, base, list), base.number).filter((e) => e.type === ATTR_DATA && e.name === '');
  const extensions = new Map<bigint, MftRecord>();
  let first: NonResidentAttribute | undefined;
  for (const entry of entries) {
    let holder = base;
    if (entry.recordNumber !== base.number) {
      holder = extensions.get(entry.recordNumber) ?? await readRecord(entry.recordNumber);
      if (holder.baseRecord !== base.number) throw listError(base.number, `extension record ${entry.recordNumber} belongs to record ${holder.baseRecord}`);
      extensions.set(entry.recordNumber, holder);
    }
    const piece = holder.attributes.find(isNonResidentDataAt(entry.lowestVcn));
    if (piece === undefined) {
      // Small data can stay resident even in a record that needs a list for other attributes.
      const resident = entries.length === 1 ? holder.attributes.find(isUnnamedData) : undefined;
      if (resident?.resident) return { resident: true, value: resident.value };
      throw listError(base.number, `record ${entry.recordNumber} lacks the $DATA piece at VCN ${entry.lowestVcn}`);
    }
    appendExtent(volume, base, piece, runs);
    first ??= piece;
  }
  if (first === undefined) throw new RecoveryError('blockmap.ntfs-attribute-missing', `MFT record ${base.number} lists no unnamed $DATA`, { data: { record: base.number.toString() } });
  return { resident: false, first, runs };
}
