/** reg query and drvload output parsers. */
import { describe, expect, it } from 'vitest';
import { parseDrvload } from '../../../../../src/adapters/win32/parse/drvload.ts';
import { decodeRegData, isRegNotFound, parseRegQuery } from '../../../../../src/adapters/win32/parse/reg-query.ts';
import { crlf, toolOutput } from '../tool-fixtures.ts';

describe('parseRegQuery', () => {
  it('reads one REG_SZ value under its key', () => {
    expect(parseRegQuery(crlf(toolOutput('reg__query__setup-state-imagestate-value.txt')))).toEqual({
      keys: [{
        path: 'HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Setup\\State',
        values: [{ name: 'ImageState', type: 'REG_SZ', text: 'IMAGE_STATE_SPECIALIZE_RESEAL_TO_OOBE', data: { kind: 'string', value: 'IMAGE_STATE_SPECIALIZE_RESEAL_TO_OOBE' } }],
      }],
      error: undefined,
    });
  });

  it('reads several keys of a recursive query, key paths with spaces', () => {
    const result = parseRegQuery(toolOutput('reg__query__globalflag-recursive-s.txt'));
    expect(result.keys.map((k) => [k.path.split('\\').at(-1), k.values[0]!.text])).toEqual([
      ['notepad.exe', '0x00001000'], ['photohse.EXE', '0x00200000'], ['printhse.EXE', '0x00200000'],
    ]);
    expect(result.keys[0]!.path).toBe('HKEY_LOCAL_MACHINE\\Software\\Microsoft\\Windows NT\\CurrentVersion\\Image File Execution Options\\notepad.exe');
  });

  it('decodes REG_BINARY data into bytes', () => {
    const [value] = parseRegQuery(toolOutput('reg__query__reg-binary-value.txt')).keys[0]!.values;
    expect(value!.name).toBe('BadPages');
    expect(value!.data.kind).toBe('bytes');
    const bytes = value!.data.value as Uint8Array;
    expect(bytes).toHaveLength(48);
    expect([...bytes.subarray(8, 12)]).toEqual([0x58, 0x14, 0x02, 0x80]);
    expect([...bytes.subarray(40)]).toEqual([0xaf, 0x52, 0x18, 0x80, 0x00, 0xf0, 0x0f, 0x00]);
  });

  it('reports the not-found error', () => {
    const result = parseRegQuery(toolOutput('reg__query__value-not-found-error.txt'));
    expect(result).toEqual({ keys: [], error: 'The system was unable to find the specified registry key or value.' });
    expect(isRegNotFound(result)).toBe(true);
  });

  it('reads DWORD, QWORD, MULTI_SZ, empty and default values of the layout reg prints', () => {
    const text = [
      '',
      'HKEY_LOCAL_MACHINE\\LIFELINE_SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\ASR\\RestoreSession',
      '    (Default)    REG_SZ    ',
      '    QuickFormat    REG_DWORD    0x1',
      '    RestoredVolumes    REG_MULTI_SZ    \\\\?\\Volume{0b6f0a8e-5d4c-4a8e-9d7e-3f1a2b3c4d5e}\\0\\\\?\\Volume{1c7f1b9f-6e5d-4b9f-8e8f-4a2b3c4d5e6f}',
      '    Big    REG_QWORD    0x100000000',
      '',
    ].join('\r\n');
    const values = parseRegQuery(text).keys[0]!.values;
    expect(values.map((v) => [v.name, v.data])).toEqual([
      ['(Default)', { kind: 'string', value: '' }],
      ['QuickFormat', { kind: 'number', value: 1 }],
      ['RestoredVolumes', { kind: 'strings', value: ['\\\\?\\Volume{0b6f0a8e-5d4c-4a8e-9d7e-3f1a2b3c4d5e}', '\\\\?\\Volume{1c7f1b9f-6e5d-4b9f-8e8f-4a2b3c4d5e6f}'] }],
      ['Big', { kind: 'bigint', value: 0x100000000n }],
    ]);
  });

  it('keeps undecodable data as raw text', () => {
    expect(decodeRegData('REG_DWORD', 'zz')).toEqual({ kind: 'raw', value: 'zz' });
    expect(decodeRegData('REG_BINARY', 'abc')).toEqual({ kind: 'raw', value: 'abc' });
    expect(decodeRegData('REG_RESOURCE_LIST', '00')).toEqual({ kind: 'raw', value: '00' });
  });
});

describe('parseDrvload', () => {
  it('reads the documented success line', () => {
    expect(parseDrvload('DrvLoad: Successfully loaded X:\\drivers\\viostor\\viostor.inf.\r\n')).toEqual({
      loaded: ['X:\\drivers\\viostor\\viostor.inf'], failures: [], errorCode: undefined,
    });
  });

  it('keeps any other DrvLoad line as a failure with its error code', () => {
    // drvload's failure wording is undocumented: this line is illustrative, not captured.
    const report = parseDrvload('DrvLoad: Failed to load E:\\netkvm.inf, Error 0x80070002.\r\n');
    expect(report.loaded).toEqual([]);
    expect(report.failures).toEqual(['Failed to load E:\\netkvm.inf, Error 0x80070002.']);
    expect(report.errorCode).toBe('0x80070002');
  });
});
