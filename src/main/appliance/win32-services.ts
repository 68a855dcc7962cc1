/**
 * The appliance in WinPE: the Windows tool runners of src/adapters/win32/tools put behind the UI.
 *   adapters        ipconfig /all (parsed), names as netsh wants them
 *   network         netsh interface ipv4|ipv6 (static or DHCP, DNS servers)
 *   drivers         drvload, one INF per run (a folder: every .inf under it); Get: dism /Online /Get-Drivers
 *   disks           \\.\PhysicalDrive0…31 opened read-only (or the `--disk` paths), tables read by us
 *   reboot/off      wpeutil Reboot | Shutdown
 *   files, logs     drive letters as Windows has them
 *   prompt          %ComSpec% in this console
 * Loaded only on Windows (koffi comes with the disk opener).
 */
import { Win32BlockDeviceOpener } from '../../adapters/win32/win32-opener.ts';
import { parseDismDrivers, parseDismError } from '../../adapters/win32/parse/dism.ts';
import { parseIpconfigAll, type IpconfigAdapter } from '../../adapters/win32/parse/ipconfig.ts';
import { runDrvload } from '../../adapters/win32/tools/drvload.ts';
import { maskToPrefix } from '../../adapters/win32/tools/ip-address.ts';
import {
  automaticIpv6Commands, dhcpIpv4Commands, runNetsh, staticIpv4Commands, staticIpv6Commands,
} from '../../adapters/win32/tools/netsh.ts';
import { runChecked, type ToolCommand } from '../../adapters/win32/tools/tool-error.ts';
import { runWpeutil } from '../../adapters/win32/tools/wpeutil.ts';
import { RecoveryError } from '../../core/errors.ts';
import type { ProcessRunner } from '../../ports/process-runner.ts';
import type { ApplianceServices } from '../../tui/services.ts';
import type { NetworkConfig } from '../../tui/state/network-config.ts';
import type { Nic } from '../../tui/state/network-form.ts';
import { describeDisks } from './disk-list.ts';
import { findInfFiles, windowsFiles, writeLogFile } from './host-files.ts';
import { platformShell, runShell } from './host-shell.ts';
import type { StartAgent } from './linux-services.ts';
import type { SettingsStore } from './settings-store.ts';

export interface Win32ServicesOptions {
  readonly settings: SettingsStore;
  /** `--disk` paths; empty: every \\.\PhysicalDriveN that opens. */
  readonly disks: readonly string[];
  readonly runner: ProcessRunner;
  readonly startAgent: StartAgent;
  readonly now?: () => Date;
}

/** Disk numbers tried when no `--disk` is given. */
export const PROBED_DISKS = 32;

/** One ipconfig adapter as a NIC row: "192.168.1.20/24" where the mask is known. */
export function nicFromIpconfig(a: IpconfigAdapter): Nic {
  const ipv4 = a.ipv4.map((entry, i) => {
    const mask = a.subnetMasks[i];
    const prefix = mask === undefined ? undefined : maskToPrefix(mask);
    return prefix === undefined ? entry.address : `${entry.address}/${prefix}`;
  });
  return {
    name: a.name,
    mac: a.physicalAddress ?? '',
    link: a.mediaDisconnected ? 'down' : 'up',
    ipv4,
    ipv6: a.ipv6.map((entry) => entry.address),
  };
}

/** The netsh commands for one adapter and configuration. */
export function netshCommands(interfaceName: string, config: NetworkConfig): ToolCommand[] {
  if (config.mode === 'dhcp') return config.family === 4 ? dhcpIpv4Commands(interfaceName) : automaticIpv6Commands({ iface: interfaceName });
  const common = { iface: interfaceName, ...(config.gateway === null ? {} : { gateway: config.gateway }), dnsServers: config.dns };
  return config.family === 4
    ? staticIpv4Commands({ ...common, address: config.address, mask: config.prefixLength })
    : staticIpv6Commands({ ...common, address: config.address, prefixLength: config.prefixLength });
}

/** `dism /Online /English /Get-Drivers /Format:List`: the drivers drvload added to this WinPE. */
export const DISM_ONLINE_DRIVERS: ToolCommand = { file: 'dism.exe', args: ['/Online', '/English', '/Get-Drivers', '/Format:List'] };

export function createWin32Services(o: Win32ServicesOptions): ApplianceServices {
  const files = windowsFiles();
  const opener = new Win32BlockDeviceOpener();
  const now = o.now ?? (() => new Date());
  return {
    startAgent: o.startAgent,
    saveServerSettings: (settings) => o.settings.saveServer(settings),
    saveLanguage: (lang) => o.settings.saveLanguage(lang),
    async refreshNics() {
      const r = await runChecked(o.runner, { file: 'ipconfig.exe', args: ['/all'] }, { code: 'tool.ipconfig-failed', options: { timeoutMs: 30_000 } });
      return parseIpconfigAll(r.stdout).adapters.filter((a) => a.kind !== 'Tunnel').map(nicFromIpconfig);
    },
    configureNetwork: (interfaceName, config) => runNetsh(o.runner, netshCommands(interfaceName, config)),
    listDrives: () => files.listDrives(),
    listDirectory: (path) => files.listDirectory(path),
    async loadDriver(source, path) {
      const infs = source === 'inf' ? [path] : await findInfFiles(files, path);
      if (infs.length === 0) throw new RecoveryError('drivers.none-found', `${path}: no .inf file in this folder or below it`, { data: { path } });
      let loaded = 0;
      const failures: { inf: string; message: string }[] = [];
      for (const inf of infs) {
        try {
          await runDrvload(o.runner, inf);
          loaded++;
        } catch (e) {
          failures.push({ inf, message: (e as Error).message });
        }
      }
      if (loaded === 0 && source === 'inf') throw new RecoveryError('tool.drvload-failed', failures[0]?.message ?? `${path}: not loaded`, { data: { path } });
      return { loaded, failures };
    },
    async listDrivers() {
      const r = await runChecked(o.runner, DISM_ONLINE_DRIVERS, {
        code: 'tool.dism-failed',
        failureIn: (run) => {
          const e = parseDismError(run.stdout);
          return e === undefined ? undefined : `Error: ${e.code}${e.message === '' ? '' : ` ${e.message}`}`;
        },
        options: { timeoutMs: 600_000 },
      });
      return parseDismDrivers(r.stdout).drivers.map((d) => ({
        publishedName: d.publishedName, originalName: d.originalFileName ?? '', className: d.className ?? '',
        provider: d.providerName ?? '', version: d.version ?? '',
      }));
    },
    listDisks() {
      const explicit = o.disks.length > 0;
      const paths = explicit ? o.disks : Array.from({ length: PROBED_DISKS }, (_, n) => `\\\\.\\PhysicalDrive${n}`);
      return describeDisks(opener, paths.map((path, number) => ({ path, number: physicalNumber(path) ?? number, bus: 'Unknown' })), !explicit);
    },
    saveLogs: (drive, text) => writeLogFile(files, drive, text, now()),
    reboot: () => runWpeutil(o.runner, { op: 'Reboot' }),
    shutdown: () => runWpeutil(o.runner, { op: 'Shutdown' }),
    openShell: () => runShell(platformShell('win32')),
  };
}

function physicalNumber(path: string): number | undefined {
  const m = /PhysicalDrive(\d+)$/i.exec(path);
  return m === null ? undefined : Number(m[1]);
}
