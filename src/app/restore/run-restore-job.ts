/**
 * Runs one restore run assigned by the server, from pre-checks to report (DESIGN flow 3), and
 * tells the server how it ended with `finishRun`. The outcome is never "succeeded" unless every
 * step that runs succeeded; a failure or an interruption reports `failed` with the steps that ran,
 * the bytes written per disk and partition, and the error's code. A precondition that does not
 * hold sends the run back to `idle` (seed 000 §5.6).
 */
import { isRecoveryError, RecoveryError } from '../../core/errors.ts';
import type { AssignedRun, RunOutcome } from '../../core/protocol/jobs.ts';
import type { AbortSignalLike } from '../../core/units.ts';
import { createRestoreContext } from './restore-context.ts';
import type { RestoreContext, RestoreDeps } from './restore-context.ts';
import {
  bootStep, dataStep, driversStep, partitionStep, precheckStep, preconditionStep, registryStep, scriptStep, verifyStep,
} from './restore-steps.ts';

export type { RestoreDeps } from './restore-context.ts';

async function finish(ctx: RestoreContext, state: 'succeeded' | 'failed' | 'idle', error?: RecoveryError): Promise<RunOutcome> {
  ctx.meter?.tick(true);
  await ctx.meter?.settle();
  return ctx.report.finish(state, error);
}

async function closeTargets(ctx: RestoreContext): Promise<void> {
  await Promise.allSettled((ctx.prepared?.disks ?? []).map((d) => d.device.close()));
}

export async function runRestoreJob(run: AssignedRun, deps: RestoreDeps, signal?: AbortSignalLike): Promise<RunOutcome> {
  const ctx = createRestoreContext(run, deps, signal);
  const { report } = ctx;
  try {
    await report.step('precondition', () => preconditionStep(ctx));
    if (ctx.idle === true) {
      report.notRun('not run: the precondition does not hold');
      return await finish(ctx, 'idle');
    }
    await report.step('prechecks', () => precheckStep(ctx));
    await report.step('pre-script', () => scriptStep(ctx, 'pre-script'));
    await report.step('partition', () => partitionStep(ctx));
    await report.step('data', () => dataStep(ctx));
    await report.step('verify', () => verifyStep(ctx));
    await report.step('drivers', () => driversStep(ctx));
    await report.step('boot', () => bootStep(ctx));
    await report.step('registry', () => registryStep(ctx));
    await report.step('post-script', () => scriptStep(ctx, 'post-script'));
    return await finish(ctx, 'succeeded');
  } catch (e) {
    const error = isRecoveryError(e) ? e : new RecoveryError('restore.internal', e instanceof Error ? e.message : String(e), { cause: e });
    report.notRun(`not run: the restore stopped at "${report.failedStep() ?? 'prechecks'}"`);
    return await finish(ctx, 'failed', error);
  } finally {
    await closeTargets(ctx);
  }
}
