/**
 * Puts Lifeline into a copy of the base's boot.wim with wimlib (wiminfo, wimexport, wimupdate,
 * wimdir, wimverify); the user's boot.wim is only read. Inside the image:
 *   /Windows/System32/winpeshl.ini   replaces the shell: wpeinit, then X:\Lifeline\start.cmd
 *   /Lifeline/lifeline.exe, /Lifeline/start.cmd
 *   /Lifeline/drivers/               manifest.json + the packages it lists (the exe looks beside itself)
 *   /Lifeline/settings.json          only when a settings file was given
 * A Windows ISO's boot.wim holds two images (1 WinPE, 2 Setup, the bootable one); only the
 * bootable image is exported, so the media boots it and carries no unused image.
 */
import { copyFile, cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DriverCatalog } from '../../src/core/drivers/catalog.ts';
import { RecoveryError } from '../../src/core/errors.ts';
import type { ProcessRunner } from '../../src/ports/process-runner.ts';

/** Files in pe/ that go into the image, with their place there. */
export const PE_FILES: readonly { readonly name: string; readonly wimPath: string }[] = [
  { name: 'winpeshl.ini', wimPath: '/Windows/System32/winpeshl.ini' },
  { name: 'start.cmd', wimPath: '/Lifeline/start.cmd' },
];
export const EXE_WIM_PATH = '/Lifeline/lifeline.exe';
export const DRIVERS_WIM_PATH = '/Lifeline/drivers';
export const SETTINGS_WIM_PATH = '/Lifeline/settings.json';
/** What the image must already hold for winpeshl.ini to work. */
export const REQUIRED_IN_IMAGE = '/Windows/System32/wpeinit.exe';

// Windows images spell folders either way ("Windows" or "windows").
const WIM_ENV = { WIMLIB_IMAGEX_IGNORE_CASE: '1', LC_ALL: 'C' } as const;

async function wim(runner: ProcessRunner, tool: string, args: readonly string[], options: { input?: string; cwd?: string } = {}): Promise<string> {
  const result = await runner.run(tool, args, { ...options, env: WIM_ENV, maxOutputBytes: 64 * 1024 * 1024 });
  if (result.exitCode !== 0) {
    throw new RecoveryError('iso.wim-failed', `${tool} ${args.join(' ')} exited ${result.exitCode}: ${(result.stderr.trim() || result.stdout.trim()).slice(-2000)}`,
      { data: { tool, args, exitCode: result.exitCode } });
  }
  return result.stdout;
}

export interface WimInfo {
  readonly imageCount: number;
  /** 0 when no image is marked bootable. */
  readonly bootIndex: number;
}

/** Reads "Image Count" and "Boot Index" from `wiminfo` output. */
export function parseWimInfo(text: string): WimInfo {
  const field = (name: string): number => {
    const m = new RegExp(`^${name}:\\s+(\\d+)\\s*$`, 'm').exec(text);
    if (m === null) throw new RecoveryError('iso.wim-failed', `wiminfo printed no "${name}"`, { data: { output: text.slice(0, 2000) } });
    return Number(m[1]);
  };
  return { imageCount: field('Image Count'), bootIndex: field('Boot Index') };
}

export async function wimInfo(runner: ProcessRunner, path: string): Promise<WimInfo> {
  return parseWimInfo(await wim(runner, 'wiminfo', [path]));
}

/** Paths in one image, one per line as `wimdir` prints them. */
export async function wimFiles(runner: ProcessRunner, path: string, index = 1): Promise<string[]> {
  return (await wim(runner, 'wimdir', [path, String(index)])).split('\n').filter((l) => l !== '');
}

/**
 * Writes the bootable image of `source` to `dest` as image 1, marked bootable. Which image: the
 * one marked bootable, else image 1. Returns that source index.
 */
export async function copyBootImage(runner: ProcessRunner, source: string, dest: string): Promise<number> {
  const info = await wimInfo(runner, source);
  const index = info.bootIndex > 0 ? info.bootIndex : 1;
  if (info.imageCount === 1) {
    await copyFile(source, dest);
    if (info.bootIndex !== 1) await wim(runner, 'wiminfo', [dest, '1', '--boot']);
  } else {
    await wim(runner, 'wimexport', [source, String(index), dest, '--boot']);
  }
  const files = new Set((await wimFiles(runner, dest)).map((f) => f.toLowerCase()));
  if (!files.has(REQUIRED_IN_IMAGE.toLowerCase())) {
    throw new RecoveryError('iso.base-incomplete',
      `image ${index} of ${source} has no ${REQUIRED_IN_IMAGE}: it is not a WinPE image (use the boot.wim of copype's media\\sources or of a Windows ISO)`,
      { data: { file: source, index, missing: REQUIRED_IN_IMAGE } });
  }
  return index;
}

export interface Payload {
  readonly exe: string;
  /** The pe/ folder (winpeshl.ini, start.cmd). */
  readonly peDir: string;
  readonly driversDir: string;
  readonly catalog: DriverCatalog;
  /** Already validated settings text, or none. */
  readonly settingsText?: string;
}

/** CRLF everywhere: cmd.exe and winpeshl read the files as Windows text, whatever git did to them. */
export const toCrlf = (text: string): string => text.replace(/\r?\n/g, '\r\n');

/** Lays the payload out in `stageDir` and returns the wimupdate commands (paths relative to it). */
export async function stagePayload(payload: Payload, stageDir: string): Promise<string[]> {
  const commands: string[] = [];
  const add = (rel: string, wimPath: string) => commands.push(`add "${rel}" "${wimPath}"`);
  await mkdir(join(stageDir, 'pe'), { recursive: true });
  for (const f of PE_FILES) {
    await writeFile(join(stageDir, 'pe', f.name), toCrlf(await readFile(join(payload.peDir, f.name), 'utf8')));
    add(`pe/${f.name}`, f.wimPath);
  }
  await copyFile(payload.exe, join(stageDir, 'lifeline.exe'));
  add('lifeline.exe', EXE_WIM_PATH);
  // Only what the manifest lists: no README, no leftover .staging-* folders.
  await mkdir(join(stageDir, 'drivers'));
  await copyFile(join(payload.driversDir, 'manifest.json'), join(stageDir, 'drivers', 'manifest.json'));
  for (const pkg of payload.catalog.packages) {
    try {
      await cp(join(payload.driversDir, ...pkg.path.split('/')), join(stageDir, 'drivers', ...pkg.path.split('/')), { recursive: true, errorOnExist: true });
    } catch (e) {
      throw new RecoveryError('iso.drivers-incomplete', `driver package ${pkg.id}: ${(e as Error).message}`, { data: { package: pkg.id, path: pkg.path }, cause: e });
    }
  }
  add('drivers', DRIVERS_WIM_PATH);
  if (payload.settingsText !== undefined) {
    await writeFile(join(stageDir, 'settings.json'), payload.settingsText);
    add('settings.json', SETTINGS_WIM_PATH);
  }
  return commands;
}

/** Adds the staged payload to image 1 of `wimPath` and verifies the whole WIM. */
export async function applyPayload(runner: ProcessRunner, wimPath: string, stageDir: string, commands: readonly string[]): Promise<void> {
  await wim(runner, 'wimupdate', [wimPath, '1'], { input: `${commands.join('\n')}\n`, cwd: stageDir });
  await wim(runner, 'wimverify', [wimPath]);
}
