/** `lifeline set list|show|prune`: backup sets and their restore points. */
import type { SetView } from '../../core/protocol/schemas.ts';
import { formatBytes } from '../../core/units.ts';
import { UsageError, booleanOption, integerOption } from '../cli-kit.ts';
import type { Command } from '../cli-kit.ts';
import { connectionOptions, onePositional, orDash, print, table, withClient } from './operator-options.ts';

export const setList: Command = {
  path: ['set', 'list'],
  summary: 'List backup sets with their newest restore point.',
  options: connectionOptions,
  async run(args, io) {
    const sets = await withClient(args, (c) => c.listSets());
    print(args, io, sets, (list) => list.length === 0 ? 'No backup sets yet.' : table(
      ['SET', 'RESOURCE', 'AGENT', 'POINTS', 'NEWEST', 'ENCRYPTED'],
      list.map((s) => {
        const newest = s.points?.[s.points.length - 1];
        return [s.setId, s.resource, orDash(s.agentId), String(s.points?.length ?? 0), newest ? `#${newest.sequence} ${orDash(newest.committedAt)}` : '-', s.encrypted ? 'yes' : 'no'];
      }),
    ));
    return 0;
  },
};

export const setShow: Command = {
  path: ['set', 'show'],
  summary: "Show a set and its committed restore points.",
  positionals: '<set-id>',
  options: { ...connectionOptions, 'all-points': { type: 'boolean', description: 'Also list points being uploaded or deleted.' } },
  async run(args, io) {
    const setId = onePositional(args, 'set id');
    const set = await withClient(args, (c) => c.getSet(setId, { allPoints: booleanOption(args, 'all-points') }));
    print(args, io, set, renderSet);
    return 0;
  },
};

export const setPrune: Command = {
  path: ['set', 'prune'],
  summary: 'Delete all but the newest N restore points and free the chunks nothing references (admin).',
  positionals: '<set-id>',
  options: { ...connectionOptions, keep: { type: 'string', valueName: 'N', description: 'Restore points to keep (required, at least 1).' } },
  details: [
    'Safe while backups upload: chunks an unfinished backup uses are kept. Points a restore job names are kept too.',
    'Uploads older than the newest committed point (left by a crash) are deleted.',
  ].join('\n'),
  async run(args, io) {
    const setId = onePositional(args, 'set id');
    const keep = integerOption(args, 'keep', { min: 1, max: 100_000 });
    if (keep === undefined) throw new UsageError('--keep is required');
    const result = await withClient(args, (c) => c.prune(setId, keep));
    print(args, io, result, (r) => [
      `Deleted ${r.deletedPoints.length} restore point(s), kept ${r.keptPoints.length}.`,
      ...(r.abandonedUploads.length > 0 ? [`Deleted ${r.abandonedUploads.length} abandoned upload(s).`] : []),
      `Removed ${r.removedChunks} chunk(s), ${formatBytes(r.freedBytes)} freed.`,
    ].join('\n'));
    return 0;
  },
};

function renderSet(s: SetView): string {
  const lines = [
    `Set        ${s.setId}`,
    `Resource   ${s.resource}${s.agentId ? ` (agent ${s.agentId})` : ''}`,
    `Codec      ${s.codec}, ${formatBytes(s.blockSize)} blocks${s.encrypted ? ', encrypted' : ''}`,
    `Created    ${orDash(s.createdAt)}`,
    '',
  ];
  const points = s.points ?? [];
  lines.push(points.length === 0 ? 'No restore points.' : table(
    ['#', 'POINT', 'STATE', 'COMMITTED', 'DATA', 'CHUNKS'],
    points.map((p) => {
      const data = typeof p.stats['dataBytes'] === 'string' ? formatBytes(BigInt(p.stats['dataBytes'])) : '-';
      return [String(p.sequence), p.pointId, p.state, orDash(p.committedAt), data, String(p.stats['chunks'] ?? '-')];
    }),
  ));
  return lines.join('\n');
}
