/** Table-only disk images for the layout tests, written by the real tools (sgdisk, sfdisk). */
import { createImage, sfdiskWrite, sgdisk } from '../../../helpers/partition-images.ts';

export const MiB = 1024n * 1024n;
export const LAYOUT_DISK_BYTES = 128n * MiB;
export const LAYOUT_DISK_GUID = '5d1e2f30-4a5b-4c6d-8e7f-901a2b3c4d5e';
export const LAYOUT_MBR_SIGNATURE = 0x4c1f3e2d;

/** A Windows UEFI layout: ESP, MSR, Windows, WinRE (attributes 0x8000000000000001). */
export async function makeGptTableImage(dir: string, name = 'gpt.img'): Promise<string> {
  const image = await createImage(dir, name, LAYOUT_DISK_BYTES);
  await sgdisk([
    '-o', '-U', LAYOUT_DISK_GUID,
    '-n', '1:2048:+100M', '-t', '1:c12a7328-f81f-11d2-ba4b-00a0c93ec93b', '-u', '1:0c1d2e3f-0001-4a4b-8c8d-000000000001', '-c', '1:EFI system partition',
    '-n', '2:0:+16M', '-t', '2:e3c9e316-0b5c-4db8-817d-f92df00215ae', '-u', '2:0c1d2e3f-0002-4a4b-8c8d-000000000002', '-c', '2:Microsoft reserved partition',
    '-n', '3:0:+8M', '-t', '3:ebd0a0a2-b9e5-4433-87c0-68b6b72699c7', '-u', '3:0c1d2e3f-0003-4a4b-8c8d-000000000003', '-c', '3:Basic data partition',
    '-n', '4:0:0', '-t', '4:de94bba4-06d1-4d40-a16a-bfd50179d6ac', '-u', '4:0c1d2e3f-0004-4a4b-8c8d-000000000004', '-c', '4:Recovery',
    '-A', '4:set:0', '-A', '4:set:63', image,
  ]);
  return image;
}

/** MBR: active System Reserved, Windows, and an extended partition holding three logical partitions. */
export async function makeMbrTableImage(dir: string, name = 'mbr.img'): Promise<string> {
  const image = await createImage(dir, name, LAYOUT_DISK_BYTES);
  await sfdiskWrite(image, [
    'label: dos', `label-id: 0x${LAYOUT_MBR_SIGNATURE.toString(16)}`,
    'start=2048, size=20480, type=7, bootable', 'start=22528, size=61440, type=7', 'start=83968, type=f',
    'size=8192, type=7', 'size=8192, type=b', 'type=83', '',
  ].join('\n'));
  return image;
}
