/**
 * Builds the Lifeline recovery media from a WinPE base the user supplies (copype output or a
 * Windows ISO tree) and lifeline.exe, on Linux with wimlib and xorriso:
 *   1. check    every input before anything is written: the base's files, the exe, the driver
 *               manifest (decodeCatalog), the settings file (parseApplianceSettings);
 *   2. media    the base's boot files copied to `<out>.work/media` (lower-case names);
 *   3. wim      the bootable image of the base's boot.wim, plus pe/ files, lifeline.exe, drivers
 *               and settings (steps/wim-payload.ts), verified;
 *   4. iso      xorriso, hybrid BIOS + UEFI El Torito, volume LIFELINE_RECOVERY;
 *   5. usb      optionally the same tree without El Torito images, for a FAT32 stick.
 * The base is only read.
 *
 *   node --import tsx iso-build/build-iso.ts --base DIR --exe lifeline.exe [--drivers drivers]
 *        [--settings FILE.json] --out lifeline.iso [--usb-dir DIR] [--source-date-epoch N]
 */
import { createHash } from 'node:crypto';
import { copyFile, mkdir, readFile, rm, stat, utimes } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ChildProcessRunner } from '../src/adapters/node/child-process-runner.ts';
import { runIfMain } from './steps/run-as-script.ts';
import { parseApplianceSettings } from '../src/core/appliance-settings.ts';
import { decodeCatalog } from '../src/core/drivers/catalog.ts';
import type { DriverCatalog } from '../src/core/drivers/catalog.ts';
import { RecoveryError } from '../src/core/errors.ts';
import type { ProcessRunner } from '../src/ports/process-runner.ts';
import { writeIso } from './steps/iso-image.ts';
import { writeUsbLayout } from './steps/usb-layout.ts';
import { applyPayload, copyBootImage, stagePayload } from './steps/wim-payload.ts';
import { BOOT_WIM_PATH, findWinpeBase, listFiles } from './steps/winpe-base.ts';
import type { WinpeBase } from './steps/winpe-base.ts';
import { timedSteps } from './steps/timed-steps.ts';

export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface BuildIsoOptions {
  /** copype output folder or Windows ISO tree. */
  readonly base: string;
  readonly exe: string;
  readonly out: string;
  /** Driver catalog folder (holds manifest.json). Default: the repository's drivers/. */
  readonly drivers?: string;
  /** Settings file put into the image for unattended starts; validated first. */
  readonly settings?: string;
  /** Also write the USB layout here (a new or empty folder). */
  readonly usbDir?: string;
  /** Folder with winpeshl.ini and start.cmd. Default: the repository's pe/. */
  readonly peDir?: string;
  /** Dates of the ISO's files and volume (seconds); makes the ISO step reproducible. */
  readonly sourceDateEpoch?: number;
  /** Default `<out>.work`, removed after a good build unless `keepWork`. */
  readonly workDir?: string;
  readonly keepWork?: boolean;
  readonly log?: (line: string) => void;
  readonly runner?: ProcessRunner;
}

export interface BuildIsoResult {
  readonly iso: string;
  readonly bytes: number;
  readonly sha256: string;
  readonly layout: WinpeBase['layout'];
  /** The image of the base's boot.wim that was used (now image 1 of the media's boot.wim). */
  readonly sourceImageIndex: number;
  readonly bootWimBytes: number;
  readonly driverPackages: number;
  readonly withSettings: boolean;
  readonly usbDir?: string;
  readonly usbFiles?: number;
  readonly timings: Readonly<Record<string, number>>;
}

async function readSettings(path: string): Promise<string> {
  let text: string;
  try { text = await readFile(path, 'utf8'); } catch (e) {
    throw new RecoveryError('settings.unreadable', `${path}: ${(e as Error).message}`, { data: { path } });
  }
  let json: unknown;
  try { json = JSON.parse(text); } catch (e) {
    throw new RecoveryError('settings.invalid', `${path}: not JSON: ${(e as Error).message}`, { data: { path: '' } });
  }
  try {
    parseApplianceSettings(json);
  } catch (e) {
    if (e instanceof RecoveryError) throw new RecoveryError(e.code, `${path}: ${e.message}`, { data: { ...e.data, file: path } });
    throw e;
  }
  return text;
}

async function readCatalog(dir: string): Promise<DriverCatalog> {
  const path = join(dir, 'manifest.json');
  let text: string;
  try { text = await readFile(path, 'utf8'); } catch (e) {
    throw new RecoveryError('iso.drivers-incomplete', `${path}: ${(e as Error).message} (the catalog folder holds manifest.json; see drivers/README.md)`, { data: { path } });
  }
  return decodeCatalog(text);
}

async function requireFile(path: string, what: string): Promise<number> {
  const s = await stat(path).catch(() => undefined);
  if (s?.isFile() !== true) throw new RecoveryError('iso.input-missing', `${what} ${path} is not a file`, { data: { path } });
  return s.size;
}

export async function buildIso(options: BuildIsoOptions): Promise<BuildIsoResult> {
  const log = options.log ?? ((line: string) => process.stderr.write(`[build-iso] ${line}\n`));
  const runner = options.runner ?? new ChildProcessRunner();
  const out = resolve(options.out);
  const work = resolve(options.workDir ?? `${out}.work`);
  const peDir = options.peDir ?? join(REPO_ROOT, 'pe');
  const driversDir = options.drivers ?? join(REPO_ROOT, 'drivers');
  const { step, timings } = timedSteps(log);

  // 1. Everything is checked before the first write.
  const { base, catalog, settingsText } = await step('check', async () => {
    const found = await findWinpeBase(options.base);
    await requireFile(options.exe, 'lifeline.exe');
    for (const name of ['winpeshl.ini', 'start.cmd']) await requireFile(join(peDir, name), 'pe file');
    return {
      base: found, catalog: await readCatalog(driversDir),
      settingsText: options.settings === undefined ? undefined : await readSettings(options.settings),
    };
  });
  log(`base: ${base.layout} at ${base.mediaRoot}`);

  await rm(work, { recursive: true, force: true });
  const media = join(work, 'media');
  await step('media', async () => {
    for (const f of base.files) {
      const to = join(media, ...f.target.split('/'));
      await mkdir(dirname(to), { recursive: true });
      await copyFile(f.source, to);
    }
  });

  const bootWim = join(media, ...BOOT_WIM_PATH.split('/'));
  const sourceImageIndex = await step('wim', async () => {
    await mkdir(dirname(bootWim), { recursive: true });
    const index = await copyBootImage(runner, base.bootWim, bootWim);
    const stage = join(work, 'payload');
    const commands = await stagePayload({
      exe: options.exe, peDir, driversDir, catalog, ...(settingsText === undefined ? {} : { settingsText }),
    }, stage);
    await applyPayload(runner, bootWim, stage, commands);
    return index;
  });

  await step('iso', async () => {
    if (options.sourceDateEpoch !== undefined) {
      const at = new Date(options.sourceDateEpoch * 1000);
      for (const rel of await listFiles(media)) await utimes(join(media, ...rel.split('/')), at, at);
    }
    await mkdir(dirname(out), { recursive: true });
    await rm(out, { force: true });
    await writeIso(runner, media, out, options.sourceDateEpoch);
  });

  let usbFiles: number | undefined;
  if (options.usbDir !== undefined) {
    const usbDir = options.usbDir;
    usbFiles = await step('usb', async () => (await writeUsbLayout(media, usbDir)).length);
  }

  const iso = await readFile(out);
  const sha256 = createHash('sha256').update(iso).digest('hex');
  const bootWimBytes = (await stat(bootWim)).size;
  if (options.keepWork !== true) await rm(work, { recursive: true, force: true });
  log(`${out}: ${iso.length} bytes, sha256 ${sha256} (boot.wim ${bootWimBytes} bytes, image ${sourceImageIndex} of the base)`);
  return {
    iso: out, bytes: iso.length, sha256, layout: base.layout, sourceImageIndex, bootWimBytes,
    driverPackages: catalog.packages.length, withSettings: settingsText !== undefined,
    ...(options.usbDir === undefined ? {} : { usbDir: resolve(options.usbDir), usbFiles }),
    timings,
  };
}

function epochFrom(text: string | undefined): number | undefined {
  if (text === undefined || text === '') return undefined;
  if (!/^\d{1,12}$/.test(text)) throw new Error(`--source-date-epoch / SOURCE_DATE_EPOCH must be seconds since 1970, not "${text}"`);
  return Number(text);
}

const USAGE = 'Usage: node --import tsx iso-build/build-iso.ts --base DIR --exe lifeline.exe [--drivers DIR] [--settings FILE.json] '
  + '--out lifeline.iso [--usb-dir DIR] [--source-date-epoch SECONDS] [--keep-work]\n';

async function cli(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      base: { type: 'string' },
      exe: { type: 'string' },
      drivers: { type: 'string' },
      settings: { type: 'string' },
      out: { type: 'string' },
      'usb-dir': { type: 'string' },
      'source-date-epoch': { type: 'string' },
      'keep-work': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (values.base === undefined || values.exe === undefined || values.out === undefined) {
    process.stderr.write(`build-iso: --base, --exe and --out are required\n${USAGE}`);
    return 2;
  }
  const sourceDateEpoch = epochFrom(values['source-date-epoch'] ?? process.env.SOURCE_DATE_EPOCH);
  const result = await buildIso({
    base: values.base, exe: values.exe, out: values.out,
    ...(values.drivers === undefined ? {} : { drivers: values.drivers }),
    ...(values.settings === undefined ? {} : { settings: values.settings }),
    ...(values['usb-dir'] === undefined ? {} : { usbDir: values['usb-dir'] }),
    ...(sourceDateEpoch === undefined ? {} : { sourceDateEpoch }),
    keepWork: values['keep-work'] === true,
  });
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  return 0;
}

runIfMain(import.meta.url, 'build-iso', cli);
