/**
 * `lifeline appliance --simulate`: the appliance on any machine, with nothing changed on it.
 * Adapters, drives, drivers, network configuration, reboot and the agent are pretend (in memory);
 * settings (the state folder), the disk table (`--disk`, read-only) and the command prompt are
 * the host's own, passed in as `host`. Loading the sample NetKVM driver brings up a second
 * adapter, as a real NIC driver would.
 */
import { RecoveryError } from '../../core/errors.ts';
import type { AgentEvent, AgentHandle, ApplianceServices } from '../../tui/services.ts';
import type { DriverInfo } from '../../tui/state/driver-update.ts';
import type { DiskInfo } from '../../tui/state/driver-tools.ts';
import type { DirEntry, DriveInfo } from '../../tui/state/file-browser.ts';
import type { NetworkConfig } from '../../tui/state/network-config.ts';
import type { Nic } from '../../tui/state/network-form.ts';
import type { ServerSettings } from '../../tui/state/server-form.ts';
import { splitWindowsPath } from './host-files.ts';
import type { SettingsStore } from './settings-store.ts';
import { DEFAULT_TIMING, startSimulatedAgent, type SimulatedAgentTiming } from './simulated-agent.ts';

export interface SimulationHost {
  readonly settings: SettingsStore;
  /** The disk table; pretend disks when absent. */
  readonly listDisks?: () => Promise<DiskInfo[]>;
  readonly openShell: () => Promise<number | null>;
  /** A real agent session instead of the pretend one. */
  readonly startAgent?: (settings: ServerSettings, onEvent: (e: AgentEvent) => void) => Promise<AgentHandle>;
  readonly timing?: SimulatedAgentTiming;
  /** Delay of each pretend tool run, so "busy" states show. Default 300 ms. */
  readonly toolDelayMs?: number;
}

type Tree = { readonly [name: string]: Tree | number };

/** The pretend drives: D: the boot CD, E: a USB stick with drivers, X: the RAM disk. */
const DRIVES: readonly (DriveInfo & { readonly tree: Tree })[] = [
  { root: 'D:\\', label: 'LIFELINE', kind: 'cdrom', freeBytes: 0, readOnly: true, tree: { sources: { 'boot.wim': 420_000_000 } } },
  {
    root: 'E:\\', label: 'USB', kind: 'removable', freeBytes: 7_500_000_000, readOnly: false,
    tree: {
      drivers: {
        NetKVM: { 'netkvm.inf': 13_000, 'netkvm.sys': 190_000, 'netkvm.cat': 11_000 },
        viostor: { 'viostor.inf': 6_000, 'viostor.sys': 98_000 },
        'readme.txt': 1_200,
      },
    },
  },
  { root: 'X:\\', label: 'Boot', kind: 'ram', freeBytes: 480_000_000, readOnly: false, tree: { Windows: { System32: {} } } },
];

const SAMPLE_DRIVERS: Readonly<Record<string, DriverInfo>> = {
  'netkvm.inf': { publishedName: '', originalName: 'netkvm.inf', className: 'Net', provider: 'Red Hat, Inc.', version: '100.92.104.22900' },
  'viostor.inf': { publishedName: '', originalName: 'viostor.inf', className: 'SCSIAdapter', provider: 'Red Hat, Inc.', version: '100.92.104.22900' },
};

const PRETEND_DISKS: readonly DiskInfo[] = [
  {
    number: 0, model: 'Virtual Disk', sizeBytes: 64n * 1024n ** 3n, logicalSectorSize: 512, physicalSectorSize: 4096, bus: 'SAS', style: 'raw', partitions: [],
  },
  {
    number: 1, model: 'USB Flash', sizeBytes: 8n * 1024n ** 3n, logicalSectorSize: 512, physicalSectorSize: 512, bus: 'USB', style: 'mbr',
    partitions: [{ number: 1, sizeBytes: 8n * 1024n ** 3n - 1024n ** 2n, type: 'FAT32 (LBA)', letter: 'E', fileSystem: 'FAT32' }],
  },
];

function badPath(path: string, why: string): RecoveryError {
  return new RecoveryError('files.bad-path', `${path}: ${why}`, { data: { path } });
}

function node(path: string): { drive: DriveInfo; value: Tree | number } {
  const { letter, parts } = splitWindowsPath(path);
  const drive = DRIVES.find((d) => d.root[0] === letter);
  if (drive === undefined) throw badPath(path, 'the drive is not ready');
  let value: Tree | number = drive.tree;
  for (const part of parts) {
    const next: Tree | number | undefined = typeof value === 'number' ? undefined : Object.entries(value).find(([k]) => k.toLowerCase() === part.toLowerCase())?.[1];
    if (next === undefined) throw badPath(path, 'the system cannot find the path specified');
    value = next;
  }
  return { drive, value };
}

function infFilesUnder(path: string, tree: Tree): string[] {
  return Object.entries(tree).flatMap(([name, v]) => {
    const child = path.endsWith('\\') ? `${path}${name}` : `${path}\\${name}`;
    if (typeof v !== 'number') return infFilesUnder(child, v);
    return /\.inf$/i.test(name) ? [child] : [];
  });
}

export function createSimulatedServices(host: SimulationHost): ApplianceServices {
  const delay = host.toolDelayMs ?? 300;
  const pause = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, delay));
  let nics: Nic[] = [{ name: 'Ethernet', mac: '00-15-5D-0A-01-02', link: 'up', ipv4: ['192.168.10.50/24'], ipv6: ['fe80::215:5dff:fe0a:102/64'] }];
  const loaded: DriverInfo[] = [];
  const savedLogs: string[] = [];

  const configure = (nic: Nic, config: NetworkConfig): Nic => {
    const addresses = config.mode === 'dhcp'
      ? (config.family === 4 ? ['192.168.10.50/24'] : ['fe80::215:5dff:fe0a:102/64'])
      : [`${config.address}/${config.prefixLength}`];
    return config.family === 4 ? { ...nic, ipv4: addresses } : { ...nic, ipv6: addresses };
  };

  return {
    startAgent: async (settings, onEvent) => host.startAgent?.(settings, onEvent) ?? startSimulatedAgent(settings, onEvent, host.timing ?? DEFAULT_TIMING),
    saveServerSettings: (settings) => host.settings.saveServer(settings),
    saveLanguage: (lang) => host.settings.saveLanguage(lang),
    async refreshNics() {
      await pause();
      return nics;
    },
    async configureNetwork(interfaceName, config) {
      await pause();
      const nic = nics.find((n) => n.name === interfaceName);
      if (nic === undefined) throw new RecoveryError('network.no-such-adapter', `The interface "${interfaceName}" was not found (simulated).`);
      nics = nics.map((n) => (n === nic ? configure(n, config) : n));
    },
    async listDrives() {
      await pause();
      return DRIVES.map(({ tree: _tree, ...drive }) => drive);
    },
    async listDirectory(path) {
      await pause();
      const { value } = node(path);
      if (typeof value === 'number') throw badPath(path, 'not a folder');
      const entries: DirEntry[] = Object.entries(value).map(([name, v]) => (typeof v === 'number' ? { name, kind: 'file', sizeBytes: v } : { name, kind: 'dir' }));
      const logs: DirEntry[] = savedLogs.filter((p) => p.startsWith(path) && !p.slice(path.length).includes('\\')).map((p) => ({ name: p.slice(path.length), kind: 'file', sizeBytes: 4096 }));
      return [...entries, ...logs];
    },
    async loadDriver(source, path) {
      await pause();
      const { value } = node(path);
      const infs = source === 'inf' ? (typeof value === 'number' ? [path] : []) : (typeof value === 'number' ? [] : infFilesUnder(path, value));
      if (infs.length === 0) throw new RecoveryError('drivers.none-found', `${path}: no .inf file there`);
      for (const inf of infs) {
        const name = inf.slice(inf.lastIndexOf('\\') + 1).toLowerCase();
        const info = SAMPLE_DRIVERS[name];
        if (info === undefined || loaded.some((d) => d.originalName === name)) continue;
        loaded.push({ ...info, publishedName: `oem${loaded.length}.inf` });
        if (name === 'netkvm.inf') nics = [...nics, { name: 'Ethernet 2', mac: '52-54-00-12-34-56', link: 'up', ipv4: [], ipv6: [] }];
      }
      return { loaded: infs.length, failures: [] };
    },
    async listDrivers() {
      await pause();
      return [...loaded];
    },
    listDisks: async () => (host.listDisks === undefined ? [...PRETEND_DISKS] : host.listDisks()),
    async saveLogs(drive, _text) {
      await pause();
      const { drive: target } = node(drive);
      if (target.readOnly) throw badPath(drive, 'the media is write protected');
      const path = `${target.root}lifeline-simulated-${savedLogs.length + 1}.log`;
      savedLogs.push(path);
      return path;
    },
    async reboot() {
      await pause();
    },
    async shutdown() {
      await pause();
    },
    openShell: () => host.openShell(),
  };
}
