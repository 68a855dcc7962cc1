/**
 * The finishing steps of a restore as a Linux host can honestly answer them: they need Windows
 * tools (dism, bcdboot, reg) run from WinPE, so each says "skipped" and why. Nothing is changed.
 */
import type { StepOutcome } from '../../core/protocol/jobs.ts';
import type { AsrSession } from '../../ports/asr-session.ts';
import type { BootTool } from '../../ports/boot-tool.ts';
import type { DriverTool } from '../../ports/driver-tool.ts';

function skipped(why: string): StepOutcome {
  return { status: 'skipped', why };
}

export const linuxDriverTool: DriverTool = {
  injectDrivers: async () => skipped('driver injection needs Windows (dism /Image /Add-Driver); this appliance runs on Linux'),
};

export const linuxBootTool: BootTool = {
  makeBootable: async () => skipped('boot repair needs Windows (bcdboot, bcdedit); this appliance runs on Linux'),
};

export const linuxAsrSession: AsrSession = {
  setRestoreSession: async () => skipped('ASR RestoreSession values need the Windows registry tools (reg load); this appliance runs on Linux'),
};
