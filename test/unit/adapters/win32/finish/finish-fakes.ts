/** A restored system and a volume view for the finishing-step tests; the runner records every command. */
import { readFileSync } from 'node:fs';
import type { RestoredSystem, RestoredVolume } from '../../../../../src/ports/boot-tool.ts';
import type { MountedVolume, VolumeLister } from '../../../../../src/adapters/win32/finish/windows-volumes.ts';
import type { RecordedCall } from '../fake-runner.ts';

const MIB = 1024n * 1024n;

export function volume(partitionNumber: number, offsetMib: bigint, over: Partial<RestoredVolume> = {}): RestoredVolume {
  return {
    disk: '\\\\.\\PhysicalDrive0', partitionNumber, offset: offsetMib * MIB, length: 100n * MIB,
    type: '0x07', filesystem: 'ntfs', name: '', bootable: false, ...over,
  };
}

export function system(firmware: 'uefi' | 'bios', volumes: RestoredVolume[]): RestoredSystem {
  return { firmware, disks: [{ path: '\\\\.\\PhysicalDrive0', style: firmware === 'uefi' ? 'gpt' : 'mbr' }], volumes };
}

export function mounted(name: string, offsetMib: bigint, letter?: string): MountedVolume {
  return { name: `\\\\?\\Volume{${name}}\\`, mountPoints: letter === undefined ? [] : [`${letter}:\\`], extents: [{ diskNumber: 0, offsetBytes: offsetMib * MIB, lengthBytes: 100n * MIB }] };
}

/** Answers with `views` in turn (the last one repeats), as a volume list changes after diskpart. */
export function lister(...views: MountedVolume[][]): VolumeLister & { calls: number } {
  const l = {
    calls: 0,
    async listVolumes() {
      const view = views[Math.min(l.calls, views.length - 1)]!;
      l.calls++;
      return view;
    },
  };
  return l;
}

/** The command as one line; diskpart's script file is read while it exists and shown inline. */
export function line(call: RecordedCall): string {
  if (call.file === 'diskpart.exe') return `diskpart /s [${readFileSync(call.args[1]!, 'utf8').trim().split('\r\n').join(' | ')}]`;
  return [call.file, ...call.args].join(' ');
}
