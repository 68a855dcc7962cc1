/** RegAsrSession over a scripted runner: exact reg commands, a new cookie per call, unload after a failed write. */
import { describe, expect, it } from 'vitest';
import { RegAsrSession } from '../../../../../src/adapters/win32/finish/reg-asr-session.ts';
import { exit, ok, ScriptedRunner } from '../fake-runner.ts';
import { line, lister, mounted, system, volume } from './finish-fakes.ts';

const KEY = 'HKLM\\LIFELINE_SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\ASR\\RestoreSession';
const restored = system('uefi', [
  volume(1, 1n, { type: 'c12a7328-f81f-11d2-ba4b-00a0c93ec93b', filesystem: 'fat32', uniqueGuid: 'AAAAAAAA-1111-2222-3333-444444444444' }),
  volume(3, 117n, { type: 'ebd0a0a2-b9e5-4433-87c0-68b6b72699c7', uniqueGuid: 'bbbbbbbb-1111-2222-3333-444444444444' }),
]);
const views = [mounted('0000-winpe-a', 1n, 'S'), mounted('0000-winpe-c', 117n, 'C')];

function harness(fail?: (args: readonly string[]) => boolean) {
  const lines: string[] = [];
  const runner = new ScriptedRunner((call) => {
    lines.push(line(call));
    return fail?.(call.args) === true ? exit(1, 'ERROR: Access is denied.\r\n') : ok('The operation completed successfully.\r\n');
  });
  const deps = { runner, volumes: lister(views), fileExists: (p: string) => p === 'C:\\Windows\\System32\\config\\SYSTEM' };
  return { lines, deps };
}

describe('RegAsrSession', () => {
  it('loads the restored SOFTWARE hive, writes RestoreSession and unloads it', async () => {
    const { lines, deps } = harness();
    const outcome = await new RegAsrSession({ ...deps, quickFormat: true, newGuid: () => '0b6f0a8e-5d4c-4a8e-9d7e-3f1a2b3c4d5e' }).setRestoreSession(restored);
    expect(lines).toEqual([
      'reg.exe load HKLM\\LIFELINE_SOFTWARE C:\\Windows\\System32\\config\\SOFTWARE',
      `reg.exe add ${KEY} /v LastInstance /t REG_SZ /d 0b6f0a8e-5d4c-4a8e-9d7e-3f1a2b3c4d5e /f`,
      `reg.exe add ${KEY} /v RestoredVolumes /t REG_MULTI_SZ /d \\\\?\\Volume{aaaaaaaa-1111-2222-3333-444444444444}\\0\\\\?\\Volume{bbbbbbbb-1111-2222-3333-444444444444} /f`,
      `reg.exe add ${KEY} /v QuickFormat /t REG_DWORD /d 1 /f`,
      'reg.exe unload HKLM\\LIFELINE_SOFTWARE',
    ]);
    expect(outcome).toMatchObject({ status: 'done' });
  });

  it('writes a different LastInstance on every call (randomUUID)', async () => {
    const { lines, deps } = harness();
    const session = new RegAsrSession(deps);
    await session.setRestoreSession(restored);
    await session.setRestoreSession(restored);
    const cookies = lines.filter((l) => l.includes('LastInstance')).map((l) => /\/d (\S+)/.exec(l)?.[1]);
    expect(cookies).toHaveLength(2);
    expect(cookies[0]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(cookies[0]).not.toBe(cookies[1]);
  });

  it('fails with reg\'s words when a write fails, and still unloads the hive', async () => {
    const { lines, deps } = harness((args) => args[0] === 'add' && args.includes('RestoredVolumes'));
    const outcome = await new RegAsrSession(deps).setRestoreSession(restored);
    expect(outcome).toMatchObject({ status: 'failed', code: 'tool.reg-failed' });
    expect(outcome.status === 'failed' && outcome.message).toContain('ERROR: Access is denied.');
    expect(lines.at(-1)).toBe('reg.exe unload HKLM\\LIFELINE_SOFTWARE');
  });

  it('fails without writing when the hive cannot be loaded', async () => {
    const { lines, deps } = harness((args) => args[0] === 'load');
    const outcome = await new RegAsrSession(deps).setRestoreSession(restored);
    expect(outcome).toMatchObject({ status: 'failed', code: 'tool.reg-failed' });
    expect(lines).toEqual(['reg.exe load HKLM\\LIFELINE_SOFTWARE C:\\Windows\\System32\\config\\SOFTWARE']);
  });

  it('is skipped when no restored volume holds Windows', async () => {
    const { lines, deps } = harness();
    const outcome = await new RegAsrSession({ ...deps, fileExists: () => false }).setRestoreSession(restored);
    expect(outcome).toMatchObject({ status: 'skipped' });
    expect(lines).toEqual([]);
  });
});
