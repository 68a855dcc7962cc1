/** A ProcessRunner that records each call and answers from a script, for testing the tool runners. */
import type { ProcessRunner, RunOptions, RunResult } from '../../../../src/ports/process-runner.ts';

export interface RecordedCall {
  readonly file: string;
  readonly args: readonly string[];
  readonly options: RunOptions | undefined;
}

export type Responder = (call: RecordedCall) => RunResult | Promise<RunResult>;

export class ScriptedRunner implements ProcessRunner {
  readonly calls: RecordedCall[] = [];

  constructor(private readonly respond: Responder = () => ok('')) {}

  async run(file: string, args: readonly string[], options?: RunOptions): Promise<RunResult> {
    const call = { file, args: [...args], options };
    this.calls.push(call);
    return this.respond(call);
  }
}

export const ok = (stdout: string): RunResult => ({ exitCode: 0, stdout, stderr: '' });
export const exit = (exitCode: number, stdout: string, stderr = ''): RunResult => ({ exitCode, stdout, stderr });

/** The promise's rejection, or a failure when it resolves. */
export async function rejectionOf(promise: Promise<unknown>): Promise<{ code: string; message: string; data: Record<string, unknown> }> {
  const outcome = await promise.then(() => undefined, (e: unknown) => e);
  if (outcome === undefined) throw new Error('expected a rejection, the call succeeded');
  return outcome as { code: string; message: string; data: Record<string, unknown> };
}
