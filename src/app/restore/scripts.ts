/**
 * The job's command lines (seed 000 §5.6 table 4): the precondition, called before the job starts
 * (when it does not hold the job goes back to idle), the pre-script before anything is restored and
 * the post-script after. They run through a `ScriptRunner` the composition root provides (the
 * platform's shell); a non-zero exit of a script fails the job with `script.failed`.
 */
import type { StepOutcome } from '../../core/protocol/jobs.ts';
import type { AbortSignalLike } from '../../core/units.ts';

export interface ScriptRunner {
  /** Runs one command line through the platform's shell and waits for it to end. */
  run(commandLine: string, signal?: AbortSignalLike): Promise<{ readonly exitCode: number; readonly output: string }>;
}

const TAIL = 600;

function tail(text: string): string {
  const trimmed = text.trim();
  return trimmed.length <= TAIL ? trimmed : `…${trimmed.slice(-TAIL)}`;
}

export async function runScript(name: 'pre-script' | 'post-script', commandLine: string | undefined, runner: ScriptRunner | undefined, signal?: AbortSignalLike): Promise<StepOutcome> {
  if (commandLine === undefined || commandLine.trim() === '') return { status: 'skipped', why: `the job has no ${name}` };
  if (runner === undefined) return { status: 'failed', code: 'script.unavailable', message: `the job has a ${name} but this appliance cannot run scripts` };
  const { exitCode, output } = await runner.run(commandLine, signal);
  if (exitCode === 0) return { status: 'done', detail: `exit code 0${output.trim() ? `: ${tail(output)}` : ''}` };
  return { status: 'failed', code: 'script.failed', message: `the ${name} exited with code ${exitCode}${output.trim() ? `: ${tail(output)}` : ''}` };
}

/** The precondition's verdict: a step outcome plus whether the job may go on. */
export async function checkPrecondition(commandLine: string | undefined, runner: ScriptRunner | undefined, signal?: AbortSignalLike): Promise<{ holds: boolean; outcome: StepOutcome }> {
  if (commandLine === undefined || commandLine.trim() === '') return { holds: true, outcome: { status: 'skipped', why: 'the job has no precondition' } };
  if (runner === undefined) {
    return { holds: false, outcome: { status: 'failed', code: 'script.unavailable', message: 'the job has a precondition but this appliance cannot run scripts' } };
  }
  const { exitCode, output } = await runner.run(commandLine, signal);
  const said = output.trim() ? `: ${tail(output)}` : '';
  return exitCode === 0
    ? { holds: true, outcome: { status: 'done', detail: `the precondition holds (exit code 0)${said}` } }
    : { holds: false, outcome: { status: 'done', detail: `the precondition does not hold (exit code ${exitCode})${said}; the job goes back to idle` } };
}
