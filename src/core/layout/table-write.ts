/**
 * The planned table as sector writes. planTableWrite refuses (throws) on tables verify rejects;
 * the planner must never throw for a refusal, so the table is verified here first and anything
 * the codec still rejects comes back as a refusal too.
 */
import { isRecoveryError } from '../errors.ts';
import type { DiskGeometry, PartitionTable, WriteOp } from '../partition/types.ts';
import { planTableWrite } from '../partition/write-plan.ts';
import { refuse } from './refusal.ts';
import type { Refusal } from './refusal.ts';
import { tableErrors } from './table-checks.ts';

export function planCheckedWrite(table: PartitionTable, geometry: DiskGeometry, options: { clearGpt: boolean }): WriteOp[] | Refusal {
  const errors = tableErrors(table, geometry);
  if (errors.length > 0) return refuse.unwritable(errors);
  try {
    return planTableWrite(table, geometry, options);
  } catch (e) {
    if (isRecoveryError(e)) return refuse.unwritable([{ code: e.code, severity: 'error', message: e.message }]);
    throw e;
  }
}
