/**
 * The mounted volumes of the running WinPE, as the finishing steps need them: which volume sits on
 * a restored partition (same disk number, same byte offset), its drive letter, and a free letter
 * for a volume that has none. The lister is injected so the steps are tested without Windows.
 */
import { RecoveryError } from '../../../core/errors.ts';
import type { DiskExtent } from '../ioctl-decode.ts';

export interface MountedVolume {
  /** `\\?\Volume{GUID}\`. */
  readonly name: string;
  /** `C:\`, `D:\mnt\data\`, … possibly none. */
  readonly mountPoints: readonly string[];
  readonly extents: readonly DiskExtent[];
}

export interface VolumeLister {
  listVolumes(): Promise<readonly MountedVolume[]>;
}

/** The real lister: FindFirstVolumeW & co. through koffi, loaded only when first used. */
export function kernelVolumeLister(): VolumeLister {
  return {
    async listVolumes() {
      const [{ kernel32 }, { listVolumes }] = await Promise.all([import('../kernel32.ts'), import('../volumes.ts')]);
      return listVolumes(kernel32());
    },
  };
}

/** `\\.\PhysicalDrive3` → 3. */
export function diskNumberOf(path: string): number {
  const m = /^\\\\[.?]\\PhysicalDrive(\d{1,3})$/i.exec(path.trim());
  if (m === null) {
    throw new RecoveryError('restore.disk-unknown', `"${path}" is not a Windows disk path such as \\\\.\\PhysicalDrive0`, { data: { path } });
  }
  return Number(m[1]);
}

/** The volume whose extent starts where the partition starts on that disk. */
export function volumeOnPartition(volumes: readonly MountedVolume[], diskNumber: number, offset: bigint): MountedVolume | undefined {
  return volumes.find((v) => v.extents.some((e) => e.diskNumber === diskNumber && e.offsetBytes === offset));
}

/** The first drive-letter mount point as `C:`, or undefined. */
export function driveLetterOf(volume: MountedVolume): string | undefined {
  const root = volume.mountPoints.find((mp) => /^[A-Za-z]:\\?$/.test(mp));
  return root === undefined ? undefined : `${root.slice(0, 1).toUpperCase()}:`;
}

/**
 * Letters handed out to restored volumes, last first (S…Z, then R…D): far from the letters the
 * WinPE stick and its data drives get. X: is WinPE's RAM disk and never offered.
 */
const CANDIDATE_LETTERS = [...'ZYWVUTS', ...'RQPONMLKJIHGFED'];

/** A letter no volume uses and `taken` does not hold; undefined when all are in use. */
export function freeDriveLetter(volumes: readonly MountedVolume[], taken: ReadonlySet<string> = new Set(), preferred?: string): string | undefined {
  const used = new Set([...taken].map((l) => l.slice(0, 1).toUpperCase()));
  for (const v of volumes) for (const mp of v.mountPoints) if (/^[A-Za-z]:/.test(mp)) used.add(mp.slice(0, 1).toUpperCase());
  const order = preferred === undefined ? CANDIDATE_LETTERS : [preferred.slice(0, 1).toUpperCase(), ...CANDIDATE_LETTERS];
  const letter = order.find((l) => !used.has(l) && l !== 'X');
  return letter === undefined ? undefined : `${letter}:`;
}
