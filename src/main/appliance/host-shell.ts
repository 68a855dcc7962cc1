/**
 * The command prompt: the platform's shell in this console, sharing its input and output, until
 * the operator types exit. The caller has released the terminal (blessed paused) before.
 */
import { spawn } from 'node:child_process';
import { RecoveryError } from '../../core/errors.ts';

export interface ShellCommand {
  readonly file: string;
  readonly args: readonly string[];
}

/** Windows: %ComSpec% (cmd.exe); elsewhere $SHELL, else /bin/sh. */
export function platformShell(platform: NodeJS.Platform = process.platform, env: NodeJS.ProcessEnv = process.env): ShellCommand {
  if (platform === 'win32') return { file: env['ComSpec'] ?? 'cmd.exe', args: ['/k', 'prompt Lifeline $P$G'] };
  const shell = env['SHELL'];
  return { file: shell !== undefined && shell !== '' ? shell : '/bin/sh', args: [] };
}

/** Runs the shell with the console's stdio; resolves with its exit code (null when killed). */
export function runShell(command: ShellCommand): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(command.file, [...command.args], { stdio: 'inherit' });
    child.once('error', (e) => reject(new RecoveryError('shell.failed', `${command.file}: ${e.message}`, { data: { file: command.file }, cause: e })));
    child.once('exit', (code) => resolve(code));
  });
}
