/**
 * The appliance on a Linux host (development, a Linux rescue system, tests): settings in the
 * `--state` folder, the disk table from the `--disk` images or devices, adapters from `ip -j addr`,
 * the file browser over host folders (C:\ = "/", S:\ = the state folder), the command prompt in
 * $SHELL. What only WinPE can do is refused with words that say so: changing the network (use
 * the host's own tools, or `--simulate`), loading Windows drivers, rebooting the host.
 */
import { RecoveryError } from '../../core/errors.ts';
import type { BlockDeviceOpener } from '../../ports/block-device.ts';
import type { ProcessRunner } from '../../ports/process-runner.ts';
import type { AgentEvent, AgentHandle, ApplianceServices } from '../../tui/services.ts';
import type { ServerSettings } from '../../tui/state/server-form.ts';
import { describeDisks } from './disk-list.ts';
import { platformShell, runShell } from './host-shell.ts';
import { mappedFiles, writeLogFile, type DriveMount } from './host-files.ts';
import { listLinuxNics } from './linux-network.ts';
import type { SettingsStore } from './settings-store.ts';

export type StartAgent = (settings: ServerSettings, onEvent: (e: AgentEvent) => void) => Promise<AgentHandle>;

export interface LinuxServicesOptions {
  readonly settings: SettingsStore;
  readonly stateDir?: string;
  /** `--disk` paths, in order: disk 0, 1, … */
  readonly disks: readonly string[];
  readonly opener: BlockDeviceOpener;
  readonly runner: ProcessRunner;
  readonly startAgent: StartAgent;
  readonly now?: () => Date;
}

function notOnLinux(code: string, what: string): RecoveryError {
  return new RecoveryError(code, `${what} is not available on Linux; this works in WinPE (or try --simulate)`);
}

/** The drive letters of a Linux host: C:\ is "/", S:\ the state folder. */
export function linuxDriveMounts(stateDir: string | undefined): DriveMount[] {
  const mounts: DriveMount[] = [{ letter: 'C', hostPath: '/', label: 'host /', kind: 'fixed' }];
  if (stateDir !== undefined) mounts.push({ letter: 'S', hostPath: stateDir, label: 'state folder', kind: 'fixed' });
  return mounts;
}

export function createLinuxServices(o: LinuxServicesOptions): ApplianceServices {
  const files = mappedFiles(linuxDriveMounts(o.stateDir));
  const now = o.now ?? (() => new Date());
  return {
    startAgent: o.startAgent,
    saveServerSettings: (settings) => o.settings.saveServer(settings),
    saveLanguage: (lang) => o.settings.saveLanguage(lang),
    refreshNics: () => listLinuxNics(o.runner),
    async configureNetwork(interfaceName) {
      throw new RecoveryError('network.not-on-linux', `changing ${interfaceName} is not available on Linux: use the host's own tools (ip, nmcli), or run with --simulate`);
    },
    listDrives: () => files.listDrives(),
    listDirectory: (path) => files.listDirectory(path),
    async loadDriver() { throw notOnLinux('drivers.not-on-linux', 'loading Windows drivers (drvload)'); },
    async listDrivers() { throw notOnLinux('drivers.not-on-linux', 'listing Windows drivers (dism)'); },
    listDisks: () => describeDisks(o.opener, o.disks.map((path, number) => ({ path, number, bus: path.startsWith('/dev/') ? 'Block' : 'File' }))),
    saveLogs: (drive, text) => writeLogFile(files, drive, text, now()),
    async reboot() { throw notOnLinux('power.not-on-linux', 'rebooting the host'); },
    async shutdown() { throw notOnLinux('power.not-on-linux', 'shutting the host down'); },
    openShell: () => runShell(platformShell('linux')),
  };
}
