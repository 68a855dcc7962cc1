/**
 * The steps of a restore run, each answering with its real outcome (report.ts runs them in
 * order and stops at the first failure). Order matters:
 *   1. precondition, pre-checks (nothing written before both passed);
 *   2. pre-script;
 *   3. partition tables: written, flushed, read back and verified before any data write;
 *   4. data, then verification of what was written (and of the tables again);
 *   5. drivers, boot repair, registry: only after every volume was restored and verified, so an
 *      interrupted restore never leaves a disk that looks bootable;
 *   6. post-script.
 */
import type { StepOutcome } from '../../core/protocol/jobs.ts';
import { formatBytes } from '../../core/units.ts';
import { applyTableWrites, verifyTableOnDisk } from './apply-table.ts';
import { restoreBlocks } from './block-restore.ts';
import { injectDrivers, repairBoot, restoredSystem, setRestoreSession } from './finishing.ts';
import { RestoreJournal, tableMark } from './journal.ts';
import { preflight } from './preflight.ts';
import type { PreparedRestore } from './preflight.ts';
import { doneBytes, newRegionStats, ProgressMeter } from './progress.ts';
import type { DiskStats } from './progress.ts';
import { fetcherFor } from './restore-context.ts';
import type { RestoreContext } from './restore-context.ts';
import { checkPrecondition, runScript } from './scripts.ts';
import { verifyRestore } from './verify-restore.ts';

function prepared(ctx: RestoreContext): PreparedRestore {
  if (ctx.prepared === undefined) throw new Error('the pre-checks have not run');
  return ctx.prepared;
}

function statsFor(p: PreparedRestore): DiskStats[] {
  return p.disks.map((d) => ({
    sourceDisk: d.source.number,
    targetDisk: d.mapping.targetDisk,
    mode: d.mode,
    table: d.table.kind === 'none' ? 'no partition table (raw disk)' : d.table.kind === 'intact' ? 'layout intact: not rewritten' : 'not written yet',
    regions: d.plan.regions.map((r) => newRegionStats(r, d.plan.units.filter((u) => u.region === r.index).reduce((s, u) => s + u.length, 0n))),
  }));
}

export async function preconditionStep(ctx: RestoreContext): Promise<StepOutcome> {
  const { holds, outcome } = await checkPrecondition(ctx.spec.options.precondition, ctx.deps.scripts, ctx.signal);
  ctx.idle = !holds && outcome.status === 'done';
  return outcome;
}

export async function precheckStep(ctx: RestoreContext): Promise<StepOutcome> {
  const { deps } = ctx;
  ctx.journal = await RestoreJournal.load(deps.server, ctx.runId, deps.clock, ctx.retry, ctx.tuning.journal);
  const journal = ctx.journal;
  ctx.prepared = await preflight(ctx.spec, { ...deps, journal, retry: ctx.retry, fetcherFor: (codec) => fetcherFor(ctx, codec) });
  const disks = statsFor(ctx.prepared);
  ctx.report.disks.push(...disks);
  ctx.meter = new ProgressMeter(disks, deps.clock, ctx.tuning.progressEveryMs, async (progress) => {
    deps.observer?.progress?.(progress);
    await deps.server.reportProgress(ctx.runId, progress);
  });
  for (const d of ctx.prepared.disks) for (const n of d.notes) ctx.report.event('info', `${d.mapping.targetDisk}: ${n.message}`, { code: n.code });
  const words = ctx.prepared.disks.map((d) => `disk ${d.source.number} -> ${d.mapping.targetDisk}: ${d.mode}, ${formatBytes(d.plan.dataBytes + d.plan.zeroBytes)} to restore`);
  return { status: 'done', detail: words.join('; ') };
}

export function scriptStep(ctx: RestoreContext, name: 'pre-script' | 'post-script'): Promise<StepOutcome> {
  const line = name === 'pre-script' ? ctx.spec.options.preScript : ctx.spec.options.postScript;
  return runScript(name, line, ctx.deps.scripts, ctx.signal);
}

export async function partitionStep(ctx: RestoreContext): Promise<StepOutcome> {
  const done: string[] = [];
  const skipped: string[] = [];
  for (const [i, d] of prepared(ctx).disks.entries()) {
    const stats = ctx.report.disks[i]!;
    if (d.table.kind === 'write') {
      await applyTableWrites(d.device, d.table.writes, d.table.expected);
      await ctx.journal!.mark(tableMark(d.mapping.targetDisk));
      stats.table = `${d.mode}: written and verified`;
      done.push(`${d.mapping.targetDisk}: ${d.table.writes.length} table sectors written and verified`);
    } else if (d.table.kind === 'written-earlier') {
      await verifyTableOnDisk(d.device, d.table.expected);
      stats.table = `${d.mode}: written by an earlier attempt of this run, verified`;
      done.push(`${d.mapping.targetDisk}: table written by an earlier attempt, verified again`);
    } else {
      skipped.push(`${d.mapping.targetDisk}: ${d.table.kind === 'intact' ? 'layout intact, the table is not recreated' : 'no partition table (raw disk)'}`);
    }
  }
  if (done.length === 0) return { status: 'skipped', why: skipped.join('; ') };
  return { status: 'done', detail: [...done, ...skipped].join('; ') };
}

export async function dataStep(ctx: RestoreContext): Promise<StepOutcome> {
  const p = prepared(ctx);
  const o = ctx.spec.options;
  ctx.meter!.stage = 'data';
  for (const [i, d] of p.disks.entries()) {
    const stats = ctx.report.disks[i]!;
    stats.startedAt = ctx.deps.clock.now();
    try {
      await restoreBlocks({
        targetDisk: d.mapping.targetDisk, device: d.device, plan: d.plan, stats, fetcher: p.fetcher, codec: p.codec,
        journal: ctx.journal!, budget: ctx.budget, writeLimiter: ctx.writes, meter: ctx.meter!, clock: ctx.deps.clock,
        writeBlockSize: o.writeBlockSize, channels: o.channels, recheckBytes: ctx.tuning.journal.recheckBytes,
        ...(ctx.signal === undefined ? {} : { signal: ctx.signal }),
      });
    } finally {
      stats.endedAt = ctx.deps.clock.now();
    }
  }
  const all = ctx.report.disks.flatMap((d) => d.regions);
  const sum = (f: (r: (typeof all)[number]) => bigint) => all.reduce((s, r) => s + f(r), 0n);
  return {
    status: 'done',
    detail: `${formatBytes(sum(doneBytes))} restored: ${formatBytes(sum((r) => r.writtenBytes))} written, ` +
      `${formatBytes(sum((r) => r.alreadyZeroBytes))} already zero, ${formatBytes(sum((r) => r.resumedBytes))} done by an earlier attempt`,
  };
}

export async function verifyStep(ctx: RestoreContext): Promise<StepOutcome> {
  if (!ctx.spec.options.verify) return { status: 'skipped', why: 'verification is off in the job options' };
  const p = prepared(ctx);
  ctx.meter!.stage = 'verify';
  for (const [i, d] of p.disks.entries()) {
    await verifyRestore({
      device: d.device, plan: d.plan, stats: ctx.report.disks[i]!, codec: p.codec, fetcher: p.fetcher, budget: ctx.budget,
      readBlockSize: ctx.spec.options.writeBlockSize, channels: Math.min(ctx.spec.options.channels, 4),
      ...(ctx.signal === undefined ? {} : { signal: ctx.signal }),
    });
    if (d.table.kind !== 'none') await verifyTableOnDisk(d.device, d.table.expected);
  }
  return { status: 'done', detail: `every restored byte read back and matched the backup on ${p.disks.map((d) => d.mapping.targetDisk).join(', ')}` };
}

export function driversStep(ctx: RestoreContext): Promise<StepOutcome> {
  const p = prepared(ctx);
  return injectDrivers(ctx.spec.options, ctx.deps.drivers, restoredSystem(p.manifest.source.firmware, p.disks), ctx.deps.inventory.hardwareIds ?? [], ctx.signal);
}

export function bootStep(ctx: RestoreContext): Promise<StepOutcome> {
  const p = prepared(ctx);
  return repairBoot(ctx.deps.boot, restoredSystem(p.manifest.source.firmware, p.disks), ctx.signal);
}

export function registryStep(ctx: RestoreContext): Promise<StepOutcome> {
  const p = prepared(ctx);
  return setRestoreSession(ctx.spec.options, ctx.deps.asr, restoredSystem(p.manifest.source.firmware, p.disks), ctx.signal);
}
