/** dism and drvload: exact argument arrays, and how runs are judged. */
import { describe, expect, it } from 'vitest';
import { dismAddDriverCommand, dismGetDriversCommand, runDismAddDriver, runDismGetDrivers } from '../../../../../src/adapters/win32/tools/dism.ts';
import { drvloadCommand, runDrvload } from '../../../../../src/adapters/win32/tools/drvload.ts';
import { toolOutput } from '../tool-fixtures.ts';
import { ScriptedRunner, exit, ok, rejectionOf } from '../fake-runner.ts';

describe('dism commands', () => {
  it('adds a driver the way the recovery manual does, with /English and a log on a real disk', () => {
    expect(dismAddDriverCommand({ image: 'E:', drivers: ['X:\\drivers\\2k12R2\\amd64\\viostor\\viostor.inf'], logPath: 'E:\\lifeline\\dism.log' })).toEqual({
      file: 'dism.exe',
      args: ['/Image:E:\\', '/English', '/LogPath:E:\\lifeline\\dism.log', '/Add-Driver', '/Driver:X:\\drivers\\2k12R2\\amd64\\viostor\\viostor.inf'],
    });
  });

  it('adds several folders recursively, unsigned allowed, with a scratch folder', () => {
    expect(dismAddDriverCommand({
      image: 'W:\\', drivers: ['D:\\virtio\\viostor\\2k19\\amd64', 'D:\\my drivers\\nic'], recurse: true, forceUnsigned: true, scratchDir: 'W:\\scratch',
    }).args).toEqual([
      '/Image:W:\\', '/English', '/ScratchDir:W:\\scratch', '/Add-Driver',
      '/Driver:D:\\virtio\\viostor\\2k19\\amd64', '/Driver:D:\\my drivers\\nic', '/Recurse', '/ForceUnsigned',
    ]);
  });

  it('lists drivers in list form, optionally inbox ones too', () => {
    expect(dismGetDriversCommand({ image: 'E:\\' }).args).toEqual(['/Image:E:\\', '/English', '/Get-Drivers', '/Format:List']);
    expect(dismGetDriversCommand({ image: 'E:\\', all: true }).args).toEqual(['/Image:E:\\', '/English', '/Get-Drivers', '/All', '/Format:List']);
  });

  it('refuses relative paths, an empty driver list and characters Windows forbids', () => {
    expect(() => dismAddDriverCommand({ image: 'E:\\', drivers: [] })).toThrow(/at least one/);
    expect(() => dismAddDriverCommand({ image: 'E:\\', drivers: ['drivers\\viostor.inf'] })).toThrow(/absolute path/);
    expect(() => dismAddDriverCommand({ image: 'E', drivers: ['X:\\a.inf'] })).toThrow(/absolute path/);
    expect(() => dismAddDriverCommand({ image: 'E:\\', drivers: ['X:\\a|b.inf'] })).toThrow(/forbids/);
    expect(() => dismGetDriversCommand({ image: 'E:\\', logPath: 'X:\\log\n.txt' })).toThrow(/control character/);
  });
});

describe('running dism', () => {
  const add = { image: 'E:\\', drivers: ['X:\\drivers\\viostor.inf'] };

  it('returns the per-package result and notes 3010 as restart required', async () => {
    const out = 'Found 1 driver package(s) to install.\r\nInstalling 1 of 1 - X:\\drivers\\viostor.inf: The driver package was successfully installed.\r\nThe operation completed successfully.\r\n';
    const runner = new ScriptedRunner(() => exit(3010, out));
    const result = await runDismAddDriver(runner, add);
    expect(result).toEqual({
      found: 1, restartRequired: true,
      packages: [{ index: 1, total: 1, path: 'X:\\drivers\\viostor.inf', message: 'The driver package was successfully installed.', installed: true }],
    });
    expect(runner.calls[0]!.options?.timeoutMs).toBe(1_800_000);
  });

  it('fails with tool.dism-failed carrying the DISM error code and message', async () => {
    const runner = new ScriptedRunner(() => exit(87, '\r\nError: 87\r\n\r\nThe add-driver option is unknown.\r\n\r\nThe DISM log file can be found at X:\\Windows\\Logs\\DISM\\dism.log\r\n'));
    const error = await rejectionOf(runDismAddDriver(runner, add));
    expect(error.code).toBe('tool.dism-failed');
    expect(error.message).toBe('dism.exe /Image:E:\\ /English /Add-Driver /Driver:X:\\drivers\\viostor.inf failed (exit 87): Error: 87 The add-driver option is unknown.');
    expect(error.data).toMatchObject({ exitCode: 87, dismExitCode: '87', dismError: { code: '87', message: 'The add-driver option is unknown.' } });
  });

  it('fails on an HRESULT exit code without an Error line', async () => {
    const error = await rejectionOf(runDismGetDrivers(new ScriptedRunner(() => exit(0x800f081f, '')), { image: 'E:\\' }));
    expect(error.message).toContain('DISM exit code 0x800f081f');
  });

  it('parses the listing of a successful /Get-Drivers', async () => {
    const list = await runDismGetDrivers(new ScriptedRunner(() => ok(toolOutput('dism__get-drivers__online-one-oem-driver.txt'))), { image: 'E:\\' });
    expect(list.drivers.map((d) => [d.publishedName, d.providerName, d.version])).toEqual([['oem0.inf', 'Contoso', '10.0.0.1']]);
  });
});

describe('drvload', () => {
  it('loads one INF per run', () => {
    expect(drvloadCommand('X:\\drivers\\NetKVM\\w10\\amd64\\netkvm.inf')).toEqual({ file: 'drvload.exe', args: ['X:\\drivers\\NetKVM\\w10\\amd64\\netkvm.inf'] });
    expect(() => drvloadCommand('X:\\drivers\\netkvm.sys')).toThrow(/\.inf file/);
    expect(() => drvloadCommand('netkvm.inf')).toThrow(/absolute path/);
  });

  it('reports the loaded INF, and fails with the drvload line on a non-zero exit', async () => {
    const loaded = await runDrvload(new ScriptedRunner(() => ok('DrvLoad: Successfully loaded X:\\d\\vmxnet3.inf.\r\n')), 'X:\\d\\vmxnet3.inf');
    expect(loaded.loaded).toEqual(['X:\\d\\vmxnet3.inf']);
    const error = await rejectionOf(runDrvload(new ScriptedRunner(() => exit(1, 'DrvLoad: Failed to load X:\\d\\netkvm.inf, Error 0x80070002.\r\n')), 'X:\\d\\netkvm.inf'));
    expect(error.code).toBe('tool.drvload-failed');
    expect(error.message).toContain('Failed to load X:\\d\\netkvm.inf, Error 0x80070002.');
    expect(error.data).toMatchObject({ inf: 'X:\\d\\netkvm.inf', errorCode: '0x80070002', exitCode: 1 });
  });
});
