/**
 * Finds the restored Windows among the restored volumes: each restored partition that carries a
 * filesystem is matched to its mounted volume (disk number + byte offset); one without a drive
 * letter gets one through a single diskpart run; the Windows volume is the one holding
 * \Windows\System32\config\SYSTEM. The boot target is the ESP (GPT type c12a7328-…) under UEFI and
 * the active partition under BIOS, preferably on the Windows volume's disk.
 */
import { existsSync } from 'node:fs';
import type { Firmware } from '../../../core/backup/manifest.ts';
import type { RestoredSystem, RestoredVolume } from '../../../ports/boot-tool.ts';
import type { ProcessRunner } from '../../../ports/process-runner.ts';
import { diskpartScript, runDiskpart } from '../tools/diskpart.ts';
import type { DiskpartCommand } from '../tools/diskpart.ts';
import { diskNumberOf, driveLetterOf, freeDriveLetter, kernelVolumeLister, volumeOnPartition } from './windows-volumes.ts';
import type { MountedVolume, VolumeLister } from './windows-volumes.ts';

export const ESP_TYPE = 'c12a7328-f81f-11d2-ba4b-00a0c93ec93b';
const MOUNTABLE = new Set(['ntfs', 'fat', 'fat12', 'fat16', 'fat32', 'vfat', 'exfat', 'refs']);

/** What the finishing steps share: the tool runner, the volume view and a file probe. */
export interface FinishDeps {
  readonly runner: ProcessRunner;
  readonly volumes?: VolumeLister;
  /** Does this Windows path exist? Default: node's existsSync. */
  readonly fileExists?: (path: string) => boolean | Promise<boolean>;
  /** Folder for diskpart's script file (default: the OS temp folder). */
  readonly tempDir?: string;
}

export interface LocatedVolume {
  readonly restored: RestoredVolume;
  readonly diskNumber: number;
  /** `\\?\Volume{GUID}\` as WinPE names it. */
  readonly volumeName: string;
  /** `C:`. */
  readonly letter: string;
}

export interface LocatedSystem {
  readonly firmware: Firmware;
  readonly windows: LocatedVolume;
  /** ESP (UEFI) or active partition (BIOS); undefined when the restore has none. */
  readonly bootTarget: LocatedVolume | undefined;
  /** Every restored volume with a mounted filesystem, in `system.volumes` order. */
  readonly volumes: readonly LocatedVolume[];
  /** Letters this run assigned (`restored partition` → letter), for the outcome's detail. */
  readonly assigned: readonly string[];
  /** The volume lister's answer after any letter was assigned. */
  readonly mounted: readonly MountedVolume[];
}

export type LocateResult = { readonly located: LocatedSystem } | { readonly skipped: string };

export const hasFilesystem = (v: RestoredVolume) => MOUNTABLE.has(v.filesystem.toLowerCase());
const partitionText = (v: RestoredVolume) => `${v.disk} partition ${v.partitionNumber}`;

export function fileProbe(deps: FinishDeps): (path: string) => Promise<boolean> {
  const probe = deps.fileExists ?? existsSync;
  return async (path) => probe(path);
}

/** Assigns a letter to every restored filesystem volume that has none, all in one diskpart script. */
async function assignMissingLetters(deps: FinishDeps, volumes: readonly RestoredVolume[], mounted: readonly MountedVolume[]): Promise<string[]> {
  const commands: DiskpartCommand[] = [];
  const assigned: string[] = [];
  const taken = new Set<string>();
  for (const v of volumes) {
    const disk = diskNumberOf(v.disk);
    const volume = volumeOnPartition(mounted, disk, v.offset);
    if (volume === undefined || driveLetterOf(volume) !== undefined) continue;
    const letter = freeDriveLetter(mounted, taken);
    if (letter === undefined) break;
    taken.add(letter);
    commands.push({ op: 'select-disk', disk }, { op: 'select-partition', partition: v.partitionNumber }, { op: 'assign-letter', letter });
    assigned.push(`${partitionText(v)} → ${letter}`);
  }
  if (commands.length > 0) await runDiskpart(deps.runner, diskpartScript(commands), deps.tempDir === undefined ? {} : { tempDir: deps.tempDir });
  return assigned;
}

function locatedOf(mounted: readonly MountedVolume[], v: RestoredVolume): LocatedVolume | undefined {
  const diskNumber = diskNumberOf(v.disk);
  const volume = volumeOnPartition(mounted, diskNumber, v.offset);
  const letter = volume === undefined ? undefined : driveLetterOf(volume);
  return volume === undefined || letter === undefined ? undefined : { restored: v, diskNumber, volumeName: volume.name, letter };
}

function bootTargetOf(firmware: Firmware, windows: LocatedVolume, located: readonly LocatedVolume[]): LocatedVolume | undefined {
  const isTarget = firmware === 'uefi'
    ? (l: LocatedVolume) => l.restored.type.toLowerCase().replace(/[{}]/g, '') === ESP_TYPE
    : (l: LocatedVolume) => l.restored.bootable;
  const candidates = located.filter(isTarget);
  return candidates.find((l) => l.diskNumber === windows.diskNumber) ?? candidates[0];
}

/** Maps the restored volumes to mounted ones and finds Windows and its boot target; `skipped` says why not. */
export async function locateWindows(system: RestoredSystem, deps: FinishDeps): Promise<LocateResult> {
  const lister = deps.volumes ?? kernelVolumeLister();
  const exists = fileProbe(deps);
  const candidates = system.volumes.filter(hasFilesystem);
  if (candidates.length === 0) return { skipped: 'no restored volume carries a filesystem Windows could be on' };
  let mounted = await lister.listVolumes();
  const assigned = await assignMissingLetters(deps, candidates, mounted);
  if (assigned.length > 0) mounted = await lister.listVolumes();
  const located = candidates.map((v) => locatedOf(mounted, v)).filter((l): l is LocatedVolume => l !== undefined);
  let windows: LocatedVolume | undefined;
  for (const l of located) {
    if (await exists(`${l.letter}\\Windows\\System32\\config\\SYSTEM`)) {
      windows = l;
      break;
    }
  }
  if (windows === undefined) {
    const looked = located.map((l) => `${l.letter} (${partitionText(l.restored)})`).join(', ') || 'none mounted';
    return { skipped: `no restored volume holds \\Windows\\System32\\config\\SYSTEM (looked at: ${looked})` };
  }
  const firmware = system.firmware;
  return { located: { firmware, windows, bootTarget: bootTargetOf(firmware, windows, located), volumes: located, assigned, mounted } };
}
