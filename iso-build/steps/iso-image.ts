/**
 * The ISO: xorriso in mkisofs mode, hybrid BIOS + UEFI El Torito as oscdimg
 * `-bootdata:2#p0,e,betfsboot.com#pEF,e,befisys.bin` makes Windows media: entry 1 BIOS,
 * etfsboot.com, no emulation, 8 sectors of 512 B; entry 2 UEFI, efisys.bin (a FAT image),
 * no emulation, loaded whole. ISO 9660 level 3 + Joliet (long names for Windows) + Rock Ridge,
 * boot catalog hidden. No UDF (xorriso cannot write it; boot.wim stays far below 4 GiB).
 *
 * Reproducible when `sourceDateEpoch` is given: xorriso takes SOURCE_DATE_EPOCH for the volume
 * dates and UUID, and every file's date is set to it too.
 */
import type { ProcessRunner } from '../../src/ports/process-runner.ts';
import { RecoveryError } from '../../src/core/errors.ts';
import { EFISYS_PATH, ETFSBOOT_PATH } from './winpe-base.ts';

export const VOLUME_ID = 'LIFELINE_RECOVERY';
export const BOOT_CATALOG_PATH = 'boot/boot.cat';

export function xorrisoArgs(mediaDir: string, out: string, volumeId = VOLUME_ID): string[] {
  return [
    '-as', 'mkisofs', '-iso-level', '3', '-full-iso9660-filenames', '-N', '-d', '-J', '-joliet-long', '-r',
    '-V', volumeId,
    '-eltorito-catalog', BOOT_CATALOG_PATH, '--boot-catalog-hide',
    '-b', ETFSBOOT_PATH, '-no-emul-boot', '-boot-load-size', '8',
    '-eltorito-alt-boot',
    '-e', EFISYS_PATH, '-no-emul-boot',
    '-o', out, mediaDir,
  ];
}

export async function writeIso(runner: ProcessRunner, mediaDir: string, out: string, sourceDateEpoch: number | undefined): Promise<void> {
  const env: Record<string, string> = { LC_ALL: 'C' };
  if (sourceDateEpoch !== undefined) env.SOURCE_DATE_EPOCH = String(sourceDateEpoch);
  const args = [...xorrisoArgs(mediaDir, out), ...(sourceDateEpoch === undefined ? [] : ['--set_all_file_dates', `=${sourceDateEpoch}`])];
  const result = await runner.run('xorriso', args, { env });
  if (result.exitCode !== 0) {
    throw new RecoveryError('iso.xorriso-failed', `xorriso exited ${result.exitCode}: ${result.stderr.trim().slice(-2000)}`, { data: { args, exitCode: result.exitCode } });
  }
}
