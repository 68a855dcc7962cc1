/** The shared failure report of the tool runners. */
import { describe, expect, it } from 'vitest';
import { commandLine, outputTail, runChecked, toolError } from '../../../../../src/adapters/win32/tools/tool-error.ts';
import { ScriptedRunner, exit, ok, rejectionOf } from '../fake-runner.ts';

describe('tool errors', () => {
  it('quotes arguments with spaces when showing a command line', () => {
    expect(commandLine({ file: 'netsh.exe', args: ['interface', 'name=Ethernet 2', ''] })).toBe('netsh.exe interface "name=Ethernet 2" ""');
  });

  it('keeps the tail of stdout then stderr', () => {
    expect(outputTail({ stdout: 'a'.repeat(3000), stderr: '' })).toHaveLength(2000);
    expect(outputTail({ stdout: 'out\r\n', stderr: 'err\r\n' })).toBe('out\r\n\nerr');
  });

  it('builds a RecoveryError with the command, exit code and output tail', () => {
    const error = toolError('tool.x-failed', { file: 'x.exe', args: ['/y'] }, exit(2, 'first\r\nsecond\r\n'), 'second', { extra: 1 });
    expect(error).toMatchObject({
      name: 'RecoveryError', code: 'tool.x-failed', message: 'x.exe /y failed (exit 2): second',
      data: { command: ['x.exe', '/y'], exitCode: 2, outputTail: 'first\r\nsecond', extra: 1 },
    });
  });

  it('accepts listed exit codes, fails others with the last output line, and fails on failure text', async () => {
    const command = { file: 'x.exe', args: [] };
    await expect(runChecked(new ScriptedRunner(() => exit(3010, 'done')), command, { code: 'c', okExitCodes: [0, 3010] })).resolves.toMatchObject({ exitCode: 3010 });
    expect((await rejectionOf(runChecked(new ScriptedRunner(() => exit(1, 'one\r\ntwo\r\n\r\n')), command, { code: 'c' }))).message).toBe('x.exe failed (exit 1): two');
    expect((await rejectionOf(runChecked(new ScriptedRunner(() => ok('bad')), command, { code: 'c', failureIn: (r) => (r.stdout === 'bad' ? 'said bad' : undefined) }))).message)
      .toBe('x.exe failed (exit 0): said bad');
  });
});
