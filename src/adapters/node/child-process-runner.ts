/** ProcessRunner over node:child_process spawn: no shell, bounded output, timeouts that really end the run. */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { RecoveryError } from '../../core/errors.ts';
import type { ProcessErrorCode, ProcessRunner, RunOptions, RunResult } from '../../ports/process-runner.ts';

const DEFAULT_MAX_OUTPUT = 16 * 1024 * 1024;
/** Between SIGTERM and SIGKILL when a run times out. */
const KILL_GRACE_MS = 2_000;
/** After the tool exited, how long a grandchild may keep its stdout open before we stop listening. */
const STDIO_DRAIN_MS = 500;
const TAIL_CHARS = 2_000;

/** Collects one stream's bytes up to a cap. */
class OutputBuffer {
  private readonly chunks: Buffer[] = [];
  private bytes = 0;
  constructor(private readonly cap: number) {}

  /** False once the cap is passed. */
  add(chunk: Buffer): boolean {
    this.bytes += chunk.length;
    if (this.bytes > this.cap) return false;
    this.chunks.push(chunk);
    return true;
  }

  text(encoding: BufferEncoding): string {
    return Buffer.concat(this.chunks).toString(encoding);
  }
}

export interface ChildProcessRunnerOptions {
  /** Default cap for runs that do not set `maxOutputBytes`. */
  readonly maxOutputBytes?: number;
}

export class ChildProcessRunner implements ProcessRunner {
  constructor(private readonly defaults: ChildProcessRunnerOptions = {}) {}

  run(file: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    return new Promise<RunResult>((resolve, reject) => {
      new Run(file, args, options, this.defaults.maxOutputBytes ?? DEFAULT_MAX_OUTPUT, resolve, reject).start();
    });
  }
}

type Failure = { code: ProcessErrorCode; message: string; cause?: unknown };

/** One run's state machine: start → (output | timeout | cap) → close → settle once. */
class Run {
  private child: ChildProcess | undefined;
  private readonly stdout: OutputBuffer;
  private readonly stderr: OutputBuffer;
  private failure: Failure | undefined;
  private settled = false;
  private readonly timers: ReturnType<typeof setTimeout>[] = [];

  constructor(
    private readonly file: string,
    private readonly args: readonly string[],
    private readonly options: RunOptions,
    maxOutput: number,
    private readonly resolve: (r: RunResult) => void,
    private readonly reject: (e: RecoveryError) => void,
  ) {
    const cap = options.maxOutputBytes ?? maxOutput;
    this.stdout = new OutputBuffer(cap);
    this.stderr = new OutputBuffer(cap);
  }

  start(): void {
    let child: ChildProcess;
    try {
      child = spawn(this.file, [...this.args], {
        shell: false,
        windowsHide: true,
        cwd: this.options.cwd,
        env: this.options.env === undefined ? process.env : { ...process.env, ...this.options.env },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
    } catch (e) {
      // Synchronous refusals (bad cwd type, .bat without a shell on Windows, NUL in an argument).
      this.fail({ code: 'process.spawn-failed', message: `${this.file} could not be started`, cause: e });
      this.finish(null, null);
      return;
    }
    this.child = child;
    child.on('error', (e: NodeJS.ErrnoException) => {
      // 'error' without a pid means spawn failed; 'close' may or may not follow, so settle here.
      if (child.pid === undefined) {
        const code: ProcessErrorCode = e.code === 'ENOENT' ? 'process.not-found' : 'process.spawn-failed';
        this.fail({ code, message: `${this.file} could not be started: ${e.message}`, cause: e });
        this.finish(null, null);
      }
    });
    child.stdout?.on('data', (c: Buffer) => this.collect(this.stdout, c));
    child.stderr?.on('data', (c: Buffer) => this.collect(this.stderr, c));
    child.on('exit', () => this.afterExit());
    child.on('close', (code: number | null, signal: NodeJS.Signals | null) => this.finish(code, signal));
    this.writeInput(child);
    if (this.options.timeoutMs !== undefined) {
      this.timers.push(setTimeout(() => {
        this.fail({ code: 'process.timeout', message: `${this.file} ran longer than ${this.options.timeoutMs} ms and was killed` });
        this.kill();
      }, this.options.timeoutMs));
    }
  }

  private writeInput(child: ChildProcess): void {
    const stdin = child.stdin;
    if (stdin === null) return;
    // A tool that exits without reading its input makes the pipe fail with EPIPE; its exit status tells the story.
    stdin.on('error', () => undefined);
    if (this.options.input === undefined) stdin.end();
    else stdin.end(this.options.input);
  }

  private collect(buffer: OutputBuffer, chunk: Buffer): void {
    if (!buffer.add(chunk) && this.failure === undefined) {
      this.fail({ code: 'process.output-limit', message: `${this.file} printed more than the output limit and was killed` });
      this.kill();
    }
  }

  private fail(f: Failure): void {
    this.failure ??= f;
  }

  private kill(): void {
    const child = this.child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    this.timers.push(setTimeout(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }, KILL_GRACE_MS));
  }

  /** The tool is gone; if a grandchild still holds its pipes, stop waiting for them after a moment. */
  private afterExit(): void {
    this.timers.push(setTimeout(() => {
      this.child?.stdout?.destroy();
      this.child?.stderr?.destroy();
    }, STDIO_DRAIN_MS));
  }

  private finish(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.settled) return;
    this.settled = true;
    for (const t of this.timers) clearTimeout(t);
    const encoding = this.options.encoding ?? 'utf8';
    const stdout = this.stdout.text(encoding);
    const stderr = this.stderr.text(encoding);
    const failure = this.failure
      ?? (code === null && signal !== null
        ? { code: 'process.killed' as const, message: `${this.file} was killed by ${signal}` }
        : undefined);
    if (failure === undefined) {
      this.resolve({ exitCode: code ?? 0, stdout, stderr });
      return;
    }
    this.reject(new RecoveryError(failure.code, failure.message, {
      cause: failure.cause,
      data: {
        file: this.file,
        args: [...this.args],
        ...(signal === null ? {} : { signal }),
        stdoutTail: stdout.slice(-TAIL_CHARS),
        stderrTail: stderr.slice(-TAIL_CHARS),
      },
    }));
  }
}
