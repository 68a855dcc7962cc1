/**
 * Finds the Microsoft files of the user's WinPE base — we cannot ship them — in either layout,
 * names compared without case:
 * - copype output (`copype amd64 C:\WinPE`): `media/` (bootmgr, bootmgr.efi, Boot/, EFI/,
 *   sources/boot.wim) and `fwfiles/` (etfsboot.com, efisys.bin);
 * - a Windows installation ISO, extracted or mounted: bootmgr, bootmgr.efi, boot/, efi/,
 *   sources/boot.wim, with etfsboot.com in boot/ and efisys.bin in efi/microsoft/boot/.
 * The result is a list of files to copy, each with its place on the media (lower-case paths, as on
 * Windows ISOs; firmware and bootmgr look names up without case). Nothing here writes.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { RecoveryError } from '../../src/core/errors.ts';

export type BaseLayout = 'copype' | 'windows-iso';

/** On the media (and in the ISO): where xorriso's El Torito options point. */
export const ETFSBOOT_PATH = 'boot/etfsboot.com';
export const EFISYS_PATH = 'efi/microsoft/boot/efisys.bin';
export const BOOT_WIM_PATH = 'sources/boot.wim';

export interface MediaFile {
  /** Where the file is in the base. */
  readonly source: string;
  /** Relative path on the media, lower case, `/`-separated. */
  readonly target: string;
}

export interface WinpeBase {
  readonly layout: BaseLayout;
  /** The folder holding bootmgr, boot/, efi/ and sources/ (copype's `media/`). */
  readonly mediaRoot: string;
  /** The user's boot.wim: only read, never changed. */
  readonly bootWim: string;
  /** Every file for the media except boot.wim, El Torito images included. */
  readonly files: readonly MediaFile[];
}

/** The files every base must have, as the media holds them, and where each normally comes from. */
const REQUIRED: readonly { readonly target: string; readonly copype: string; readonly windowsIso: string }[] = [
  { target: 'bootmgr', copype: 'media/bootmgr', windowsIso: 'bootmgr' },
  { target: 'bootmgr.efi', copype: 'media/bootmgr.efi', windowsIso: 'bootmgr.efi' },
  { target: 'boot/bcd', copype: 'media/Boot/BCD', windowsIso: 'boot/bcd' },
  { target: 'boot/boot.sdi', copype: 'media/Boot/boot.sdi', windowsIso: 'boot/boot.sdi' },
  { target: ETFSBOOT_PATH, copype: 'fwfiles/etfsboot.com', windowsIso: 'boot/etfsboot.com' },
  { target: 'efi/boot/bootx64.efi', copype: 'media/EFI/Boot/bootx64.efi', windowsIso: 'efi/boot/bootx64.efi' },
  { target: 'efi/microsoft/boot/bcd', copype: 'media/EFI/Microsoft/Boot/BCD', windowsIso: 'efi/microsoft/boot/bcd' },
  { target: EFISYS_PATH, copype: 'fwfiles/efisys.bin', windowsIso: 'efi/microsoft/boot/efisys.bin' },
  { target: BOOT_WIM_PATH, copype: 'media/sources/boot.wim', windowsIso: 'sources/boot.wim' },
];

const HOW_TO_GET = 'The WinPE base holds Microsoft files Lifeline cannot ship. Either install the Windows ADK and its '
  + 'WinPE add-on, run "copype amd64 C:\\WinPE" in the Deployment and Imaging Tools Environment and pass that folder '
  + '(it holds media\\ and fwfiles\\), or mount or extract a Windows 10/11 x64 installation ISO and pass its root folder.';

function missing(base: string, layout: BaseLayout, file: string, where: string): RecoveryError {
  const kind = layout === 'copype' ? 'copype output' : 'Windows ISO tree';
  return new RecoveryError('iso.base-incomplete',
    `WinPE base ${base} (${kind}) has no ${file}: it is normally at ${where}. ${HOW_TO_GET}`,
    { data: { base, layout, file, expectedAt: where } });
}

async function kindOf(path: string): Promise<'file' | 'dir' | undefined> {
  try {
    const s = await stat(path);
    return s.isDirectory() ? 'dir' : s.isFile() ? 'file' : undefined;
  } catch {
    return undefined;
  }
}

/** `rel` ("media/Boot/BCD") under `root`, each name matched without case; undefined when absent. */
export async function findCaseless(root: string, rel: string): Promise<string | undefined> {
  let here = root;
  for (const name of rel.split('/')) {
    let entries: string[];
    try { entries = await readdir(here); } catch { return undefined; }
    const exact = entries.find((e) => e === name) ?? entries.find((e) => e.toLowerCase() === name.toLowerCase());
    if (exact === undefined) return undefined;
    here = join(here, exact);
  }
  return here;
}

/** Every file under `dir`, as `/`-separated paths relative to it, sorted. */
export async function listFiles(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  const entries = await readdir(dir, { withFileTypes: true });
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const rel = prefix === '' ? e.name : `${prefix}/${e.name}`;
    if (e.isDirectory()) out.push(...await listFiles(join(dir, e.name), rel));
    else if (e.isFile()) out.push(rel);
  }
  return out;
}

async function detectLayout(base: string): Promise<BaseLayout> {
  if (await kindOf(base) !== 'dir') {
    throw new RecoveryError('iso.base-missing', `WinPE base ${base} is not a folder. ${HOW_TO_GET}`, { data: { base } });
  }
  if (await findCaseless(base, 'media') !== undefined) return 'copype';
  if (await findCaseless(base, 'sources') !== undefined || await findCaseless(base, 'bootmgr') !== undefined) return 'windows-iso';
  throw new RecoveryError('iso.base-missing',
    `WinPE base ${base} holds neither copype output (media\\ and fwfiles\\) nor a Windows ISO tree (bootmgr, boot\\, efi\\, sources\\boot.wim). ${HOW_TO_GET}`,
    { data: { base } });
}

/** Locates and checks the base; throws `iso.base-incomplete` naming the first missing file. */
export async function findWinpeBase(base: string): Promise<WinpeBase> {
  const layout = await detectLayout(base);
  const located = new Map<string, string>();
  for (const req of REQUIRED) {
    const rel = layout === 'copype' ? req.copype : req.windowsIso;
    const found = await findCaseless(base, rel);
    if (found === undefined || await kindOf(found) !== 'file') throw missing(base, layout, rel.split('/').at(-1)!, rel.replaceAll('/', '\\'));
    located.set(req.target, found);
  }
  const mediaRoot = layout === 'copype' ? (await findCaseless(base, 'media'))! : base;
  const files = new Map<string, string>();
  // copype's media/ is the whole media, as MakeWinPEMedia copies it; of a Windows ISO only the
  // boot files are taken (install.wim and Setup are not needed and are large).
  const trees = layout === 'copype' ? [''] : ['boot', 'efi'];
  for (const tree of trees) {
    const dir = tree === '' ? mediaRoot : (await findCaseless(mediaRoot, tree))!;
    for (const rel of await listFiles(dir)) {
      const target = (tree === '' ? rel : `${tree}/${rel}`).toLowerCase();
      if (target.startsWith('sources/')) continue;
      files.set(target, join(dir, ...rel.split('/')));
    }
  }
  for (const [target, source] of located) if (target !== BOOT_WIM_PATH) files.set(target, source);
  return {
    layout, mediaRoot, bootWim: located.get(BOOT_WIM_PATH)!,
    files: [...files].sort(([a], [b]) => (a < b ? -1 : 1)).map(([target, source]) => ({ source, target })),
  };
}
