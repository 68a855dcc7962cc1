/**
 * The USB layout: the ISO's tree minus its El Torito images, to copy onto a FAT32 stick (what
 * MakeWinPEMedia /UFD does). UEFI boots \efi\boot\bootx64.efi from the stick; BIOS boots bootmgr
 * through the stick's boot sector (the partition must be active with an NT 6 boot sector).
 * FAT32 holds no file of 4 GiB or more, so a boot.wim that large is refused here.
 */
import { copyFile, mkdir, readdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { RecoveryError } from '../../src/core/errors.ts';
import { EFISYS_PATH, ETFSBOOT_PATH, listFiles } from './winpe-base.ts';

/** Largest file FAT32 stores: its size field is 32 bits. */
export const FAT32_MAX_FILE_BYTES = 2 ** 32 - 1;
/** Only the CD boots from these. */
export const EL_TORITO_FILES: readonly string[] = [ETFSBOOT_PATH, EFISYS_PATH];

export function checkFat32Size(rel: string, bytes: number): void {
  if (bytes > FAT32_MAX_FILE_BYTES) {
    throw new RecoveryError('iso.usb-file-too-large',
      `${rel} is ${bytes} bytes: FAT32 cannot hold a file of 4 GiB or more (at most ${FAT32_MAX_FILE_BYTES} bytes); leave drivers out of the image or use the ISO`,
      { data: { file: rel, bytes, limit: FAT32_MAX_FILE_BYTES } });
  }
}

/** Copies `mediaDir` to `usbDir` (missing or empty), El Torito images left out; returns the files copied. */
export async function writeUsbLayout(mediaDir: string, usbDir: string): Promise<string[]> {
  const present = await readdir(usbDir).catch(() => [] as string[]);
  if (present.length > 0) {
    throw new RecoveryError('iso.usb-dir-not-empty', `${usbDir} is not empty: give a new or empty folder for the USB layout`, { data: { dir: usbDir } });
  }
  const files = (await listFiles(mediaDir)).filter((rel) => !EL_TORITO_FILES.includes(rel));
  for (const rel of files) checkFat32Size(rel, (await stat(join(mediaDir, ...rel.split('/')))).size);
  for (const rel of files) {
    const to = join(usbDir, ...rel.split('/'));
    await mkdir(dirname(to), { recursive: true });
    await copyFile(join(mediaDir, ...rel.split('/')), to);
  }
  return files;
}
