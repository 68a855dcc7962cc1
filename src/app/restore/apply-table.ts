/**
 * The partition-table step of one target disk: run the planner's ordered writes, flush, then read
 * the table back with our own codecs and compare it with the plan before any data is written.
 *
 * Verification after a write (and again at the end of the restore) requires:
 * 1. no error from verify (CRCs of both GPT headers and arrays, bounds, overlaps, MBR signature);
 * 2. the same style and identity (MBR disk signature, GPT disk GUID);
 * 3. the same partitions: numbers, starts, sizes, types, GPT GUIDs, names and attributes, MBR
 *    active flags; on GPT both copies readable (a backup header moved to the new end included).
 */
import { RecoveryError } from '../../core/errors.ts';
import { readPartitionTable } from '../../core/partition/read-table.ts';
import { summarizePartitions } from '../../core/partition/summary.ts';
import type { PartitionSummary, PartitionTable, WriteOp } from '../../core/partition/types.ts';
import type { BlockDevice } from '../../ports/block-device.ts';

function identityOf(table: PartitionTable): string {
  return table.style === 'gpt' ? table.diskGuid : table.diskSignature.toString(16).padStart(8, '0');
}

function describe(p: PartitionSummary): string {
  return JSON.stringify({ n: p.number, start: String(p.startLba), count: String(p.sectorCount), type: p.type, guid: p.uniqueGuid ?? null, name: p.name, attrs: p.attributes === undefined ? null : String(p.attributes), boot: p.bootable });
}

function mismatch(device: BlockDevice, what: string, data: Record<string, unknown> = {}): RecoveryError {
  return new RecoveryError('restore.table-verify-failed', `${device.path}: the partition table read back is not the one planned: ${what}`, { data: { target: device.path, ...data } });
}

/** Reads the target's table and checks it against `expected` (rules 1–3). */
export async function verifyTableOnDisk(device: BlockDevice, expected: PartitionTable): Promise<void> {
  const ss = device.geometry.logicalSectorSize;
  const read = await readPartitionTable((lba, count) => device.read(lba * BigInt(ss), count * ss), device.geometry);
  const errors = read.problems.filter((p) => p.severity === 'error');
  if (errors.length > 0) throw mismatch(device, errors.map((p) => `${p.code}: ${p.message}`).join('; '), { problems: errors.map((p) => p.code) });
  if (expected.style === 'gpt' && (read.gpt?.primaryHeader?.headerCrcValid !== true || read.gpt.backupHeader?.headerCrcValid !== true)) {
    throw mismatch(device, 'both GPT copies must be present and valid');
  }
  const actual = read.table;
  if (actual === undefined || actual.style !== expected.style) throw mismatch(device, `style ${read.style} instead of ${expected.style}`);
  if (identityOf(actual) !== identityOf(expected)) throw mismatch(device, `identity ${identityOf(actual)} instead of ${identityOf(expected)}`);
  const want = summarizePartitions(expected).map(describe);
  const got = summarizePartitions(actual).map(describe);
  if (want.join('\n') !== got.join('\n')) throw mismatch(device, 'the partition entries differ', { expected: want, actual: got });
}

/** Runs the writes in order (stopping at the first failure), flushes, and verifies the result. */
export async function applyTableWrites(device: BlockDevice, writes: readonly WriteOp[], expected: PartitionTable): Promise<void> {
  for (const op of writes) await device.write(op.offset, op.data);
  await device.flush();
  await verifyTableOnDisk(device, expected);
}
