/**
 * The WinPE media build on a synthetic base (dummy Microsoft boot files, a real boot.wim and a
 * real FAT12 efisys.bin), checked with the tools that read the results: xorriso's El Torito
 * report and file list, wimlib's wiminfo/wimdir/wimextract on the boot.wim taken back out of the
 * ISO. Needs wimtools and xorriso (and dosfstools + mtools for efisys.bin); skipped without them.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cp, mkdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildIso, REPO_ROOT } from '../../../iso-build/build-iso.ts';
import type { BuildIsoResult } from '../../../iso-build/build-iso.ts';
import { writeIso } from '../../../iso-build/steps/iso-image.ts';
import { findWinpeBase, listFiles } from '../../../iso-build/steps/winpe-base.ts';
import { checkFat32Size, FAT32_MAX_FILE_BYTES } from '../../../iso-build/steps/usb-layout.ts';
import { ChildProcessRunner } from '../../../src/adapters/node/child-process-runner.ts';
import { parseApplianceSettings } from '../../../src/core/appliance-settings.ts';
import { RecoveryError } from '../../../src/core/errors.ts';
import { dummyBytes, makeSyntheticWinpe } from '../../helpers/synthetic-winpe.ts';
import { mustRun, runTool, tempDir } from '../../helpers/run.ts';

const TOOLS = ['xorriso', 'wimcapture', 'wimappend', 'wimupdate', 'wimexport', 'wimdir', 'wimextract', 'wiminfo', 'wimverify', 'mkfs.fat', 'mmd', 'mcopy'];
const missingTools = TOOLS.filter((t) => {
  try { execFileSync('sh', ['-c', `command -v ${t}`], { stdio: 'ignore' }); return false; } catch { return true; }
});
if (missingTools.length > 0) console.info(`iso-build.test.ts skipped: missing ${missingTools.join(', ')} (apt-get install wimtools xorriso dosfstools mtools)`);

const EPOCH = 1_700_000_000;
const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

async function hashTree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const rel of await listFiles(dir)) out[rel] = sha(await readFile(join(dir, rel)));
  return out;
}

const isoFiles = async (iso: string) => (await mustRun('xorriso', ['-indev', iso, '-find', '/', '-type', 'f']))
  .split('\n').filter((l) => l.startsWith("'")).map((l) => l.slice(1, -1)).sort();

describe.skipIf(missingTools.length > 0)('WinPE ISO and USB layout', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let base: string;
  let baseHashes: Record<string, string>;
  let drivers: string;
  let exe: string;
  let settings: string;
  let result: BuildIsoResult;
  let extracted: string;

  const wimText = (path: string) => mustRun('wimextract', [join(extracted, 'boot.wim'), '1', path, '--to-stdout']);

  beforeAll(async () => {
    dir = await tempDir('lifeline-iso-');
    base = join(dir.path, 'WinPE');
    await makeSyntheticWinpe(base, join(dir.path, 'scratch'), 'copype');
    baseHashes = await hashTree(base);
    exe = join(dir.path, 'lifeline.exe');
    await writeFile(exe, dummyBytes('MZ lifeline.exe', 256 * 1024));
    drivers = join(dir.path, 'drivers');
    await cp(join(REPO_ROOT, 'drivers'), drivers, { recursive: true });
    await mkdir(join(drivers, '.staging-leftover'));
    await writeFile(join(drivers, '.staging-leftover', 'half.inf'), 'x');
    settings = join(dir.path, 'unattended.json');
    await writeFile(settings, `${JSON.stringify({ version: 1, server: { address: '10.0.0.5' }, disks: ['\\\\.\\PhysicalDrive0'], once: true }, null, 2)}\n`);
    result = await buildIso({
      base, exe, drivers, settings, out: join(dir.path, 'out', 'lifeline.iso'), usbDir: join(dir.path, 'usb'),
      sourceDateEpoch: EPOCH, log: () => {},
    });
    extracted = join(dir.path, 'extracted');
    await mkdir(extracted);
    await mustRun('xorriso', ['-osirrox', 'on', '-indev', result.iso, '-extract', '/sources/boot.wim', join(extracted, 'boot.wim')]);
  });

  afterAll(async () => {
    await dir?.cleanup();
  });

  it('boots BIOS from etfsboot.com (8 sectors) and UEFI from efisys.bin, volume LIFELINE_RECOVERY', async () => {
    const report = await mustRun('xorriso', ['-indev', result.iso, '-report_el_torito', 'plain']);
    expect(await mustRun('xorriso', ['-indev', result.iso, '-pvd_info'])).toMatch(/^Volume Id\s+: LIFELINE_RECOVERY$/m);
    const entries = report.split('\n').filter((l) => l.startsWith('El Torito boot img :')).map((l) => l.split(':')[1]!.trim().split(/\s+/));
    expect(entries).toHaveLength(2);
    // N Pltf B Emul Ld_seg Hdpt Ldsiz LBA
    expect(entries[0]!.slice(0, 4)).toEqual(['1', 'BIOS', 'y', 'none']);
    expect(entries[0]![6]).toBe('8');
    expect(entries[1]!.slice(0, 4)).toEqual(['2', 'UEFI', 'y', 'none']);
    expect(entries[1]![6]).toBe('2880');
    expect(report).toMatch(/El Torito img path :\s+1\s+\/boot\/etfsboot.com/);
    expect(report).toMatch(/El Torito img path :\s+2\s+\/efi\/microsoft\/boot\/efisys.bin/);
    // The UEFI image is the base's FAT12 efisys.bin, unchanged.
    const imgs = join(dir.path, 'bootimgs');
    await mustRun('xorriso', ['-osirrox', 'on', '-indev', result.iso, '-extract_boot_images', imgs]);
    const efi = await readFile(join(imgs, 'eltorito_img2_uefi.img'));
    expect(sha(efi)).toBe(baseHashes['fwfiles/efisys.bin']);
    expect(await mustRun('mdir', ['-b', '-i', join(imgs, 'eltorito_img2_uefi.img'), '::/EFI/BOOT'])).toContain('BOOTX64.EFI');
  });

  it('holds the base media files under lower-case names, and no catalog file', async () => {
    expect(await isoFiles(result.iso)).toEqual([
      '/boot/bcd', '/boot/boot.sdi', '/boot/etfsboot.com', '/boot/fonts/wgl4_boot.ttf', '/bootmgr', '/bootmgr.efi',
      '/efi/boot/bootx64.efi', '/efi/microsoft/boot/bcd', '/efi/microsoft/boot/efisys.bin', '/sources/boot.wim',
    ]);
    const bcd = await mustRun('xorriso', ['-osirrox', 'on', '-indev', result.iso, '-extract', '/boot/bcd', join(extracted, 'bcd')]);
    expect(bcd).toBeDefined();
    expect(sha(await readFile(join(extracted, 'bcd')))).toBe(baseHashes['media/Boot/BCD']);
  });

  it('puts Lifeline into the bootable image of boot.wim, which verifies', async () => {
    const wim = join(extracted, 'boot.wim');
    const info = await mustRun('wiminfo', [wim]);
    expect(info).toMatch(/^Image Count:\s+1$/m);
    expect(info).toMatch(/^Boot Index:\s+1$/m);
    expect((await runTool('wimverify', [wim])).exitCode).toBe(0);
    const files = (await mustRun('wimdir', [wim, '1'])).split('\n').filter((l) => l !== '');
    expect(files).toEqual(expect.arrayContaining([
      '/Windows/System32/winpeshl.ini', '/Windows/System32/wpeinit.exe', '/Windows/System32/startnet.cmd',
      '/Lifeline/lifeline.exe', '/Lifeline/start.cmd', '/Lifeline/settings.json', '/Lifeline/drivers/manifest.json',
    ]));
    // Only what the manifest lists goes in.
    expect(files.filter((f) => f.startsWith('/Lifeline/drivers/'))).toEqual(['/Lifeline/drivers/manifest.json']);
    expect(result.sourceImageIndex).toBe(1);
  });

  it('winpeshl.ini runs wpeinit, then the restarting launcher, in CRLF', async () => {
    const ini = await wimText('/Windows/System32/winpeshl.ini');
    expect(ini.replace(/\r\n/g, '')).not.toMatch(/\n/);
    const lines = ini.split('\r\n').filter((l) => l !== '' && !l.startsWith(';'));
    expect(lines).toEqual(['[LaunchApps]', '%SYSTEMROOT%\\System32\\wpeinit.exe', '%SYSTEMROOT%\\System32\\cmd.exe, /c X:\\Lifeline\\start.cmd']);
    const start = await wimText('/Lifeline/start.cmd');
    expect(start.replace(/\r\n/g, '')).not.toMatch(/\n/);
    expect(start).toContain('"%LIFELINE%\\lifeline.exe" %ARGS%');
    expect(start).toContain('set "LIFELINE=X:\\Lifeline"');
    expect(start).toContain('--settings %LIFELINE%\\settings.json');
    expect(start).toMatch(/^goto run\r$/m);
  });

  it('carries the settings file, the driver manifest and lifeline.exe byte for byte', async () => {
    expect(await wimText('/Lifeline/settings.json')).toBe(await readFile(settings, 'utf8'));
    expect(await wimText('/Lifeline/drivers/manifest.json')).toBe(await readFile(join(drivers, 'manifest.json'), 'utf8'));
    await mustRun('wimextract', [join(extracted, 'boot.wim'), '1', '/Lifeline/lifeline.exe', `--dest-dir=${extracted}`, '--no-acls']);
    expect(sha(await readFile(join(extracted, 'lifeline.exe')))).toBe(sha(await readFile(exe)));
  });

  it('writes the USB layout: the ISO tree without its El Torito images, same boot.wim', async () => {
    const usb = join(dir.path, 'usb');
    const fromIso = (await isoFiles(result.iso)).map((f) => f.slice(1));
    const onUsb = await listFiles(usb);
    expect(onUsb).toEqual(fromIso.filter((f) => f !== 'boot/etfsboot.com' && f !== 'efi/microsoft/boot/efisys.bin'));
    expect(onUsb).toContain('efi/boot/bootx64.efi');
    expect(result.usbFiles).toBe(onUsb.length);
    expect(sha(await readFile(join(usb, 'sources/boot.wim')))).toBe(sha(await readFile(join(extracted, 'boot.wim'))));
  });

  it('leaves the user\'s base unchanged', async () => {
    expect(await hashTree(base)).toEqual(baseHashes);
  });

  it('refuses a bad settings file before writing anything', async () => {
    const bad = join(dir.path, 'bad.json');
    await writeFile(bad, JSON.stringify({ version: 1, server: { address: '10.0.0.5', prot: 1 } }));
    const out = join(dir.path, 'never', 'x.iso');
    const error = await buildIso({ base, exe, drivers, settings: bad, out, log: () => {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RecoveryError);
    expect((error as RecoveryError).code).toBe('settings.invalid');
    expect((error as RecoveryError).message).toContain('server.prot');
    await expect(stat(join(dir.path, 'never'))).rejects.toThrow();
  });

  it('builds from a Windows ISO tree, taking its bootable Setup image', async () => {
    const winIso = join(dir.path, 'WinISO');
    await makeSyntheticWinpe(winIso, join(dir.path, 'scratch-iso'), 'windows-iso');
    const built = await buildIso({ base: winIso, exe, drivers, out: join(dir.path, 'win.iso'), log: () => {} });
    expect(built.layout).toBe('windows-iso');
    expect(built.sourceImageIndex).toBe(2);
    expect(built.withSettings).toBe(false);
    const files = await isoFiles(built.iso);
    expect(files).not.toContain('/setup.exe');
    expect(files).toContain('/efi/microsoft/boot/efisys.bin');
    const wim = join(dir.path, 'win-boot.wim');
    await mustRun('xorriso', ['-osirrox', 'on', '-indev', built.iso, '-extract', '/sources/boot.wim', wim]);
    expect(await mustRun('wiminfo', [wim])).toMatch(/^Image Count:\s+1$/m);
    const inside = await mustRun('wimdir', [wim, '1']);
    expect(inside).toContain('/sources/setup.exe');
    expect(inside).toContain('/Windows/System32/winpeshl.ini');
    expect(inside).not.toContain('/Lifeline/settings.json');
  });

  it('writes the same ISO bytes from the same tree, whatever the file dates', async () => {
    const a = join(dir.path, 'repro-a');
    const b = join(dir.path, 'repro-b');
    await cp(join(dir.path, 'usb'), a, { recursive: true });
    await cp(join(dir.path, 'usb'), b, { recursive: true });
    for (const [rel, to] of [['fwfiles/etfsboot.com', 'boot/etfsboot.com'], ['fwfiles/efisys.bin', 'efi/microsoft/boot/efisys.bin']] as const) {
      await cp(join(base, rel), join(a, to));
      await cp(join(base, rel), join(b, to));
    }
    await utimes(join(b, 'bootmgr'), new Date(1e12), new Date(1e12));
    const runner = new ChildProcessRunner();
    await writeIso(runner, a, join(dir.path, 'a.iso'), EPOCH);
    await writeIso(runner, b, join(dir.path, 'b.iso'), EPOCH);
    expect(sha(await readFile(join(dir.path, 'a.iso')))).toBe(sha(await readFile(join(dir.path, 'b.iso'))));
    await rm(join(dir.path, 'b.iso'));
    await writeIso(runner, b, join(dir.path, 'b.iso'), EPOCH + 1);
    expect(sha(await readFile(join(dir.path, 'a.iso')))).not.toBe(sha(await readFile(join(dir.path, 'b.iso'))));
  });
});

describe('WinPE base detection', () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  beforeAll(async () => { dir = await tempDir('lifeline-base-'); });
  afterAll(async () => { await dir?.cleanup(); });

  const COPYPE = ['media/bootmgr', 'media/bootmgr.efi', 'media/Boot/BCD', 'media/Boot/boot.sdi', 'fwfiles/etfsboot.com',
    'media/EFI/Boot/bootx64.efi', 'media/EFI/Microsoft/Boot/BCD', 'fwfiles/efisys.bin', 'media/sources/boot.wim'];
  const WINDOWS_ISO = ['bootmgr', 'bootmgr.efi', 'boot/bcd', 'boot/boot.sdi', 'boot/etfsboot.com',
    'efi/boot/bootx64.efi', 'efi/microsoft/boot/bcd', 'efi/microsoft/boot/efisys.bin', 'sources/boot.wim'];

  async function tree(name: string, files: readonly string[]): Promise<string> {
    const root = join(dir.path, name);
    for (const f of files) {
      await mkdir(join(root, f, '..'), { recursive: true });
      await writeFile(join(root, f), f);
    }
    return root;
  }

  for (const [layout, files] of [['copype', COPYPE], ['windows-iso', WINDOWS_ISO]] as const) {
    it(`${layout}: each missing file is named with where it belongs and how to get it`, async () => {
      for (const [i, gone] of files.entries()) {
        const root = await tree(`${layout}-${i}`, files.filter((f) => f !== gone));
        const error = await findWinpeBase(root).catch((e: unknown) => e);
        expect(error, gone).toBeInstanceOf(RecoveryError);
        const { code, message, data } = error as RecoveryError;
        expect(code).toBe('iso.base-incomplete');
        expect(data.file).toBe(gone.split('/').at(-1));
        expect(message).toContain(gone.replaceAll('/', '\\'));
        expect(message).toContain('copype');
        expect(message).toContain('Windows 10/11 x64 installation ISO');
      }
    });
  }

  it('matches names without case and maps them to lower-case media paths', async () => {
    const root = await tree('upper', WINDOWS_ISO.map((f) => f.toUpperCase()));
    const found = await findWinpeBase(root);
    expect(found.layout).toBe('windows-iso');
    expect(found.bootWim).toBe(join(root, 'SOURCES/BOOT.WIM'));
    expect(found.files.map((f) => f.target)).toEqual(WINDOWS_ISO.filter((f) => f !== 'sources/boot.wim').sort());
  });

  it('refuses a folder that is neither layout', async () => {
    const root = await tree('empty', ['readme.txt']);
    await expect(findWinpeBase(root)).rejects.toMatchObject({ code: 'iso.base-missing' });
  });

  it('refuses files of 4 GiB or more for FAT32', () => {
    expect(() => checkFat32Size('sources/boot.wim', FAT32_MAX_FILE_BYTES)).not.toThrow();
    expect(() => checkFat32Size('sources/boot.wim', FAT32_MAX_FILE_BYTES + 1)).toThrow(/sources\/boot.wim.*4 GiB/);
  });

  it('ships an example settings file the appliance accepts', async () => {
    const text = await readFile(join(REPO_ROOT, 'pe/lifeline-settings.example.json'), 'utf8');
    expect(parseApplianceSettings(JSON.parse(text)).version).toBe(1);
  });
});
