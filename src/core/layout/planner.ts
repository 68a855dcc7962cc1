/**
 * The layout planner: from the backup's source layout, the selection, the target disk and the
 * mode, decide what the target's partition table becomes. Pure; refusals are returned, not thrown.
 *
 * Order (each step may refuse; nothing is planned for writing before all checks passed):
 *   1. the source has a table, a valid one, and the selection names volumes in it;
 *   2. source and target use the same logical sector size (no silent 512 <-> 4096 conversion);
 *   3. a dynamic source is turned into its basic equivalent (dynamic.ts), which must pass verify;
 *   4. an intact target layout (intact.ts, ASR's rule) is kept: no table write, in either mode;
 *   5. otherwise the full (full.ts) or partial (partial.ts) plan.
 */
import type { PartitionTable } from '../partition/types.ts';
import { toBasicLayout } from './dynamic.ts';
import { byteRangeOf, volumesOf } from './entries.ts';
import { judgeIntact } from './intact.ts';
import type { IntactMatch } from './intact.ts';
import { LAYOUT_INTACT_MESSAGE, refused } from './layout-plan.ts';
import type { IntactLayoutPlan, LayoutNote, LayoutPlan, RestoredPartition } from './layout-plan.ts';
import { planFull } from './full.ts';
import { note } from './notes.ts';
import { planPartial } from './partial.ts';
import { refuse } from './refusal.ts';
import { checkSelection, checkSourceTable } from './source-checks.ts';
import { tableErrors } from './table-checks.ts';
import type { LayoutRequest, RebuildMode } from './source-layout.ts';

function mbrActive(table: PartitionTable, number: number): boolean {
  if (table.style !== 'mbr') return false;
  return [...table.primary, ...table.logical].some((e) => e.number === number && e.type !== 0 && (e.status & 0x80) !== 0);
}

function intactNotes(source: PartitionTable, target: PartitionTable, matches: readonly IntactMatch[]): LayoutNote[] {
  const notes: LayoutNote[] = [
    {
      code: 'layout.intact',
      message:
        `${LAYOUT_INTACT_MESSAGE}: the target has the backup's disk identity, style, sector size and partition offsets, ` +
        'and no partition is smaller, so the partition table is not rewritten.',
    },
  ];
  for (const { source: s, target: t } of matches) {
    if (s.type !== t.type) notes.push(note.typeDiffers(s.number, t.number, s.type, t.type));
    if (mbrActive(source, s.number) && !mbrActive(target, t.number)) notes.push(note.activeNotSet(s.number, t.number));
  }
  const grown = matches.filter((m) => m.target.sectorCount > m.source.sectorCount).map((m) => m.target.number);
  if (grown.length > 0) notes.push(note.grown(grown));
  return notes;
}

function intactPlan(
  mode: RebuildMode,
  source: PartitionTable,
  target: PartitionTable,
  matches: readonly IntactMatch[],
  selected: ReadonlySet<number>,
  sectorSize: number,
): IntactLayoutPlan {
  const chosen = matches.filter((m) => selected.has(m.source.number));
  const restoredPartitions: RestoredPartition[] = chosen.map((m) => ({
    sourceNumber: m.source.number,
    targetNumber: m.target.number,
    source: byteRangeOf(m.source, sectorSize),
    target: byteRangeOf(m.target, sectorSize),
    entry: 'kept',
  }));
  return { kind: 'intact', mode, targetTable: target, restoredPartitions, notes: intactNotes(source, target, chosen) };
}

export function planLayout(request: LayoutRequest): LayoutPlan {
  const { source, target, mode } = request;
  if (source.table === undefined) return refused(refuse.sourceUnpartitioned());
  const sectorSize = source.geometry.logicalSectorSize;
  const invalid = checkSourceTable(source.table, sectorSize) ?? checkSelection(source.table, request.selected, source.dynamicVolumes);
  if (invalid !== undefined) return refused(invalid);
  if (target.geometry.logicalSectorSize !== sectorSize) return refused(refuse.sectorSizeMismatch(sectorSize, target.geometry.logicalSectorSize));

  const selected = [...new Set(request.selected)].sort((a, b) => a - b);
  const chosen = new Set(selected);
  const basic = toBasicLayout(source.table, selected);
  const errors = tableErrors(basic.table, source.geometry);
  if (errors.length > 0) {
    return refused(refuse.sourceInvalid(errors.map((p) => p.message).join('; '), { problems: errors.map((p) => ({ code: p.code, message: p.message })) }));
  }
  const volumes = volumesOf(basic.table);
  const considered = mode === 'full' ? volumes : volumes.filter((e) => chosen.has(e.number));
  const verdict = judgeIntact(basic.table, considered, target);
  if (verdict.intact) return intactPlan(mode, basic.table, target.table!, verdict.matches, chosen, sectorSize);

  const notes = [...basic.notes, ...(target.table === undefined ? [] : [note.notIntact(verdict.why, mode)])];
  const input = { source: basic.table, sectorSize, selected, target, notes };
  return mode === 'full' ? planFull(input) : planPartial(input);
}
