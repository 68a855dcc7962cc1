/**
 * A stand-in for the Microsoft WinPE base (which cannot be shipped): the file layout of copype
 * output or of a Windows ISO, with dummy boot files but a real boot.wim (wimcapture --boot from a
 * small Windows/System32 tree) and a real FAT12 efisys.bin holding EFI/BOOT/BOOTX64.EFI.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { mustRun } from './run.ts';

export type SyntheticLayout = 'copype' | 'windows-iso';

/** Recognisable dummy content: the name repeated to `size` bytes. */
export function dummyBytes(name: string, size = 512): Uint8Array {
  const text = new TextEncoder().encode(`${name}\n`);
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = text[i % text.length]!;
  return out;
}

async function put(path: string, bytes: Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, bytes);
}

/** A 1.44 MB FAT12 image with EFI/BOOT/BOOTX64.EFI, as efisys.bin is. */
export async function makeEfisys(path: string, bootx64: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await mustRun('mkfs.fat', ['-C', '-n', 'EFISYS', '-i', '12345678', path, '1440']);
  const env = ['-i', path];
  await mustRun('mmd', [...env, '::/EFI', '::/EFI/BOOT']);
  await mustRun('mcopy', [...env, bootx64, '::/EFI/BOOT/BOOTX64.EFI']);
}

/** A real boot.wim: one WinPE image, or (windows-iso) WinPE + Setup with Setup bootable, as Windows ISOs have. */
export async function makeBootWim(path: string, work: string, images: 1 | 2): Promise<void> {
  const pe = join(work, 'wim-pe');
  await put(join(pe, 'Windows/System32/wpeinit.exe'), dummyBytes('wpeinit.exe'));
  await put(join(pe, 'Windows/System32/startnet.cmd'), new TextEncoder().encode('wpeinit\r\n'));
  await mkdir(dirname(path), { recursive: true });
  await mustRun('wimcapture', [pe, path, 'Microsoft Windows PE (amd64)', '--boot', '--compress=LZX']);
  if (images === 2) {
    const setup = join(work, 'wim-setup');
    await put(join(setup, 'Windows/System32/wpeinit.exe'), dummyBytes('wpeinit.exe'));
    await put(join(setup, 'sources/setup.exe'), dummyBytes('setup.exe'));
    await mustRun('wimappend', [setup, path, 'Microsoft Windows Setup (amd64)', '--boot']);
  }
}

export interface SyntheticBase {
  readonly root: string;
  readonly layout: SyntheticLayout;
  /** Paths of every file, relative to root. */
  readonly files: readonly string[];
}

/** Builds a base of `layout` in `root` (`work` takes scratch trees). */
export async function makeSyntheticWinpe(root: string, work: string, layout: SyntheticLayout): Promise<SyntheticBase> {
  const copype = layout === 'copype';
  const media = copype ? 'media/' : '';
  const fw = copype ? 'fwfiles/' : '';
  const names = copype
    ? { bcd: 'Boot/BCD', sdi: 'Boot/boot.sdi', font: 'Boot/Fonts/wgl4_boot.ttf', efiBoot: 'EFI/Boot/bootx64.efi', efiBcd: 'EFI/Microsoft/Boot/BCD', etfs: 'etfsboot.com', efisys: 'efisys.bin' }
    : { bcd: 'boot/bcd', sdi: 'boot/boot.sdi', font: 'boot/fonts/wgl4_boot.ttf', efiBoot: 'efi/boot/bootx64.efi', efiBcd: 'efi/microsoft/boot/bcd', etfs: 'boot/etfsboot.com', efisys: 'efi/microsoft/boot/efisys.bin' };
  const files: string[] = [];
  const dummy = async (rel: string, size?: number) => {
    await put(join(root, rel), dummyBytes(rel.split('/').at(-1)!, size));
    files.push(rel);
  };
  await dummy(`${media}bootmgr`);
  await dummy(`${media}bootmgr.efi`);
  await dummy(`${media}${names.bcd}`);
  await dummy(`${media}${names.sdi}`);
  await dummy(`${media}${names.font}`);
  await dummy(`${media}${names.efiBoot}`);
  await dummy(`${media}${names.efiBcd}`);
  await dummy(`${fw}${names.etfs}`, 4096);
  if (!copype) await dummy('setup.exe');
  await makeEfisys(join(root, fw, names.efisys), join(root, media, names.efiBoot));
  files.push(`${fw}${names.efisys}`);
  await makeBootWim(join(root, media, 'sources/boot.wim'), work, copype ? 1 : 2);
  files.push(`${media}sources/boot.wim`);
  return { root, layout, files };
}
