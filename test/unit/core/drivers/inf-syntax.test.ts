/** INF syntax rules one by one, on small INFs written for the rule, and the byte decodings setup accepts. */
import { describe, expect, it } from 'vitest';
import { decodeInfBytes } from '../../../../src/core/drivers/inf-decode.ts';
import { devicesFor, parseInf, parseTargetOsDecoration } from '../../../../src/core/drivers/inf.ts';
import {
  findInfSection, infLinesWithKey, infValue, parseInfDocument, parseInfNumber, substituteInfStrings,
} from '../../../../src/core/drivers/inf-syntax.ts';

const SAMPLE = [
  '; comment before any section',
  'stray = ignored',
  '[version]',
  'Signature = "$Windows NT$"   ; trailing comment',
  'Provider = %Mfg%',
  '[Strings]',
  'Mfg = "Contoso; Ltd, Inc."',
  'mfg.short = Contoso',
  'Path = "C:\\Drivers\\"',
  '[Install]',
  'AddReg = a, "b, c", d ; not a value',
  'HKR,,Message,,"%%SystemRoot%%\\x.dll;%Mfg.Short%"',
  'HKR,,Quote,,"say ""hi"""',
  'Data = 01, 02, \\',
  '       03, 04',
  'Unknown = %12%\\file.sys, %NoSuchKey%, 100%',
  'Equals = a=b, "c=d"',
  '[INSTALL]',
  'CopyFiles = more',
].join('\r\n');

describe('parseInfDocument', () => {
  const doc = parseInfDocument(SAMPLE);

  it('finds sections and keys without regard to case, merging a section written twice', () => {
    expect(doc.sections.map((s) => s.name)).toEqual(['version', 'Strings', 'Install']);
    const install = findInfSection(doc, 'install');
    expect(infValue(install, 'copyfiles')).toBe('more');
    expect(infValue(findInfSection(doc, 'VERSION'), 'signature')).toBe('$Windows NT$');
  });

  it('substitutes %strkey% (any case) after splitting, so a string with ; and , stays one value', () => {
    expect(infValue(findInfSection(doc, 'Version'), 'Provider')).toBe('Contoso; Ltd, Inc.');
    const [line] = infLinesWithKey(findInfSection(doc, 'Install'), 'AddReg');
    expect(line!.fields).toEqual(['a', 'b, c', 'd']);
    expect(line!.rawKey).toBe('AddReg');
    expect(line!.lineNumber).toBe(11);
  });

  it('reads %% as % and keeps ; inside quotes', () => {
    const message = findInfSection(doc, 'Install')!.lines[1]!;
    expect(message.key).toBeUndefined();
    expect(message.fields).toEqual(['HKR', '', 'Message', '', '%SystemRoot%\\x.dll;Contoso']);
    expect(message.rawFields[4]).toBe('%%SystemRoot%%\\x.dll;%Mfg.Short%');
  });

  it('reads "" inside a quoted string as one quote', () => {
    expect(findInfSection(doc, 'Install')!.lines[2]!.fields[4]).toBe('say "hi"');
  });

  it('joins a line ending in \\ with the next', () => {
    expect(infLinesWithKey(findInfSection(doc, 'Install'), 'Data')[0]!.fields).toEqual(['01', '02', '03', '04']);
  });

  it('keeps DIRIDs, unknown tokens and a lone % as written', () => {
    expect(infLinesWithKey(findInfSection(doc, 'Install'), 'Unknown')[0]!.fields).toEqual(['%12%\\file.sys', '%NoSuchKey%', '100%']);
  });

  it('splits the key at the first unquoted =, later = are data', () => {
    expect(infLinesWithKey(findInfSection(doc, 'Install'), 'Equals')[0]!.fields).toEqual(['a=b', 'c=d']);
  });

  it('keeps a quoted string value exactly, trailing backslash included', () => {
    expect(doc.strings.get('path')).toBe('C:\\Drivers\\');
  });

  it('lets [Strings.<locale>] override [Strings] when asked', () => {
    const text = '[Strings]\nName = "Printer"\nOther = x\n[Strings.0407]\nName = "Drucker"\n[M]\nk = %Name%, %Other%';
    expect(infValue(findInfSection(parseInfDocument(text), 'M'), 'k')).toBe('Printer');
    expect(infLinesWithKey(findInfSection(parseInfDocument(text, { locale: '0407' }), 'M'), 'k')[0]!.fields).toEqual(['Drucker', 'x']);
  });
});

describe('substituteInfStrings', () => {
  const strings = new Map([['a', 'x'], ['b', '%a%']]);

  it('replaces tokens once (a value is not substituted again)', () => {
    expect(substituteInfStrings('%A%-%b%-%%-%', strings)).toBe('x-%a%-%-%');
  });
});

describe('decodeInfBytes', () => {
  const text = '[Version]\r\nProvider="Müller € Ltd"\r\n';
  const utf16le = (s: string, bom: boolean) => {
    const out = new Uint8Array((bom ? 2 : 0) + s.length * 2);
    if (bom) out.set([0xff, 0xfe]);
    for (let i = 0; i < s.length; i++) {
      out[(bom ? 2 : 0) + 2 * i] = s.charCodeAt(i) & 0xff;
      out[(bom ? 2 : 0) + 2 * i + 1] = s.charCodeAt(i) >> 8;
    }
    return out;
  };
  const utf8 = new TextEncoder().encode(text);

  it('decodes UTF-16LE with and without a BOM, UTF-16BE with a BOM', () => {
    expect(decodeInfBytes(utf16le(text, true))).toEqual({ text, encoding: 'utf-16le', bom: true });
    expect(decodeInfBytes(utf16le(text, false))).toEqual({ text, encoding: 'utf-16le', bom: false });
    const be = utf16le(text, true);
    for (let i = 0; i < be.length; i += 2) [be[i], be[i + 1]] = [be[i + 1]!, be[i]!];
    expect(decodeInfBytes(be)).toEqual({ text, encoding: 'utf-16be', bom: true });
  });

  it('decodes UTF-8 with and without a BOM', () => {
    expect(decodeInfBytes(new Uint8Array([0xef, 0xbb, 0xbf, ...utf8]))).toEqual({ text, encoding: 'utf-8', bom: true });
    expect(decodeInfBytes(utf8)).toEqual({ text, encoding: 'utf-8', bom: false });
  });

  it('falls back to Windows-1252 for bytes that are not UTF-8', () => {
    // "Müller € Ltd" in Windows-1252: ü = 0xFC, € = 0x80.
    const ansi = new Uint8Array([...new TextEncoder().encode('[Version]\r\nProvider="M'), 0xfc, ...new TextEncoder().encode('ller '), 0x80, ...new TextEncoder().encode(' Ltd"\r\n')]);
    expect(decodeInfBytes(ansi)).toEqual({ text, encoding: 'windows-1252', bom: false });
    expect(infValue(findInfSection(parseInfDocument(ansi), 'Version'), 'Provider')).toBe('Müller € Ltd');
  });

  it('rejects overlong UTF-8 and decodes astral characters as surrogate pairs', () => {
    expect(decodeInfBytes(new Uint8Array([0x5b, 0xc0, 0xaf, 0x5d])).encoding).toBe('windows-1252');
    expect(decodeInfBytes(new Uint8Array([0x5b, 0xf0, 0x9f, 0x98, 0x80, 0x5d])).text).toBe('[😀]');
  });
});

describe('small readers', () => {
  it('parseInfNumber reads decimal and 0x hex only', () => {
    expect([parseInfNumber('0x00000002'), parseInfNumber('3'), parseInfNumber(' 0x1A '), parseInfNumber('F9'), parseInfNumber('')]).toEqual([2, 3, 26, undefined, undefined]);
  });

  it('parseTargetOsDecoration reads NT[arch][.major[.minor[.type[.suite[.build]]]]]', () => {
    expect(parseTargetOsDecoration('NTamd64.10.0...16299')).toEqual({ raw: 'NTamd64.10.0...16299', arch: 'amd64', major: 10, minor: 0, build: 16299 });
    expect(parseTargetOsDecoration('NT$ARCH$')).toEqual({ raw: 'NT$ARCH$', arch: 'any' });
    expect(parseTargetOsDecoration('ntx86.6.1')).toMatchObject({ arch: 'x86', major: 6, minor: 1 });
    expect(parseTargetOsDecoration('NT')).toMatchObject({ arch: undefined });
    expect(parseTargetOsDecoration('NTmips')).toBeUndefined();
    expect(parseTargetOsDecoration('Win9x')).toBeUndefined();
  });
});

describe('old-style [Manufacturer] line', () => {
  it('reads `%Name%` alone as the models section `Name` (undecorated, x86 only)', () => {
    const inf = parseInf('[Manufacturer]\n%Acme%\n[Acme]\n%Dev%=Inst,PCI\\VEN_1234&DEV_5678\n[Strings]\nAcme="Acme Corp"\nDev="Acme NIC"\n');
    expect(inf.manufacturers).toEqual([{ name: 'Acme Corp', modelsSection: 'Acme', decorations: [] }]);
    expect(devicesFor(inf, { arch: 'x86' }).map((d) => [d.description, d.hardwareId])).toEqual([['Acme NIC', 'PCI\\VEN_1234&DEV_5678']]);
    expect(devicesFor(inf, { arch: 'amd64' })).toEqual([]);
  });
});
