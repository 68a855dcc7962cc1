/**
 * `lifeline appliance`: the recovery console (the TUI WinPE starts). Picks the services for this
 * platform (WinPE tools, a Linux host, or `--simulate`), loads the saved and boot-media settings,
 * and runs the screen until the process ends (on WinPE it never quits: it is the shell).
 */
import { existsSync } from 'node:fs';
import { ChildProcessRunner } from '../../adapters/node/child-process-runner.ts';
import { LinuxBlockDeviceOpener } from '../../adapters/linux/linux-opener.ts';
import type { BlockDeviceOpener } from '../../ports/block-device.ts';
import { ApplianceController } from '../../tui/controller.ts';
import type { ApplianceServices } from '../../tui/services.ts';
import { initialApp } from '../../tui/state/app-state.ts';
import { parseLanguage } from '../../tui/state/i18n.ts';
import { ApplianceView } from '../../tui/views/appliance-view.ts';
import { agentStarter } from '../appliance/agent-link.ts';
import { finishingToolsForPlatform } from '../appliance/finishing-tools.ts';
import { describeDisks } from '../appliance/disk-list.ts';
import { platformShell, runShell } from '../appliance/host-shell.ts';
import { createLinuxServices } from '../appliance/linux-services.ts';
import { SettingsStore, readMediaSettings, startupSettings, type MediaSettings } from '../appliance/settings-store.ts';
import { createSimulatedServices } from '../appliance/simulate-services.ts';
import { booleanOption, stringOption, UsageError } from '../cli-kit.ts';
import type { Command, ParsedArgs } from '../cli-kit.ts';

interface ApplianceOptions {
  readonly disks: readonly string[];
  readonly firmware: 'bios' | 'uefi' | undefined;
  readonly settingsFile: string | undefined;
  readonly stateDir: string | undefined;
  readonly lang: 'en' | 'zh-CN' | undefined;
  readonly simulate: boolean;
}

function parseOptions(args: ParsedArgs): ApplianceOptions {
  if (args.positionals.length > 0) throw new UsageError(`unexpected argument: ${args.positionals[0]}`);
  const disk = args.values['disk'];
  const firmware = stringOption(args, 'firmware');
  if (firmware !== undefined && firmware !== 'bios' && firmware !== 'uefi') throw new UsageError('--firmware must be bios or uefi');
  const langText = stringOption(args, 'lang');
  const lang = langText === undefined ? undefined : parseLanguage(langText);
  if (lang === null) throw new UsageError('--lang must be en or zh-CN');
  return {
    disks: Array.isArray(disk) ? disk : [], firmware, settingsFile: stringOption(args, 'settings'),
    stateDir: stringOption(args, 'state'), lang, simulate: booleanOption(args, 'simulate'),
  };
}

async function diskOpener(): Promise<BlockDeviceOpener> {
  if (process.platform !== 'win32') return new LinuxBlockDeviceOpener();
  const { Win32BlockDeviceOpener } = await import('../../adapters/win32/win32-opener.ts');
  return new Win32BlockDeviceOpener();
}

/** --firmware, else the boot media's, else what this host booted with. */
function firmwareOf(o: ApplianceOptions, media: MediaSettings | undefined): 'bios' | 'uefi' {
  if (o.firmware !== undefined) return o.firmware;
  if (media?.firmware !== undefined) return media.firmware;
  return process.platform === 'linux' && !existsSync('/sys/firmware/efi') ? 'bios' : 'uefi';
}

async function servicesFor(o: ApplianceOptions, settings: SettingsStore, media: MediaSettings | undefined): Promise<ApplianceServices> {
  const startAgent = agentStarter({
    firmware: firmwareOf(o, media), disks: o.disks, protectedDisks: media?.protectedDisks ?? [], opener: await diskOpener(), tools: await finishingToolsForPlatform(),
    ...(media?.passphrase === undefined ? {} : { passphrase: media.passphrase }),
    ...(media?.machineId === undefined ? {} : { machineId: media.machineId }),
    ...(media?.pollSeconds === undefined ? {} : { pollMs: media.pollSeconds * 1000 }),
  });
  const runner = new ChildProcessRunner();
  if (o.simulate) {
    const opener = o.disks.length > 0 ? await diskOpener() : undefined;
    return createSimulatedServices({
      settings,
      ...(opener === undefined ? {} : { listDisks: () => describeDisks(opener, o.disks.map((path, number) => ({ path, number, bus: 'File' }))) }),
      openShell: () => runShell(platformShell()),
    });
  }
  if (process.platform === 'win32') {
    // Only Windows loads the Windows adapter (and koffi with it).
    const { createWin32Services } = await import('../appliance/win32-services.ts');
    return createWin32Services({ settings, disks: o.disks, runner, startAgent });
  }
  return createLinuxServices({
    settings, disks: o.disks, runner, startAgent, opener: new LinuxBlockDeviceOpener(), ...(o.stateDir === undefined ? {} : { stateDir: o.stateDir }),
  });
}

export const appliance: Command = {
  path: ['appliance'],
  summary: 'Run the recovery console: network, drivers, backup server, restore progress.',
  options: {
    disk: { type: 'string', multiple: true, valueName: 'PATH', description: 'A disk or image offered to the server as a restore target (never implied; default: the settings file\'s).' },
    firmware: { type: 'string', valueName: 'bios|uefi', description: 'Boot firmware reported to the server (default: the settings file, else detected).' },
    settings: { type: 'string', valueName: 'FILE', description: 'Settings file from the boot media (as for lifeline agent): its server is started at once, its network applied first.' },
    state: { type: 'string', valueName: 'DIR', description: 'Folder where Apply saves the settings (default: kept in memory).' },
    lang: { type: 'string', valueName: 'en|zh-CN', description: 'Language of the screens (default: the saved one, else en).' },
    simulate: { type: 'boolean', description: 'Pretend network, drivers, reboot and agent: try every screen without changing this machine.' },
  },
  details: 'Keys: Tab/Down next, Up tab bar, Left/Right switch tabs, Space/Enter press, Esc back, F1-F6 jump to a tab. '
    + 'On Linux, Ctrl+C ends the console; on Windows it never quits (WinPE runs it as the shell).',
  async run(args, io) {
    const o = parseOptions(args);
    if (!process.stdout.isTTY || !process.stdin.isTTY) {
      io.err('lifeline appliance needs a terminal (run it in a console, not with redirected input or output)');
      return 2;
    }
    const store = await SettingsStore.open(o.stateDir);
    const media = o.settingsFile === undefined ? undefined : await readMediaSettings(o.settingsFile);
    const startup = startupSettings(store.settings, media);
    // The disks given here, else the boot media's.
    const options = o.disks.length === 0 && media !== undefined ? { ...o, disks: media.disks } : o;
    const services = await servicesFor(options, store, media);
    const windows = process.platform === 'win32';
    const view = new ApplianceView({ quitKey: windows ? null : 'C-c' });
    const controller = new ApplianceController({
      services, app: initialApp({ lang: o.lang ?? startup.language ?? 'en' }), terminal: view, onChange: () => view.invalidate(),
    });
    // WinPE reboots when its shell ends: a stray exception is shown, never the end of the console.
    const stray = (e: unknown): void => controller.reportProblem(`unexpected error: ${e instanceof Error ? e.message : String(e)}`);
    process.on('uncaughtException', stray);
    process.on('unhandledRejection', stray);
    const quit = new Promise<void>((resolve) => view.attach(controller, resolve));
    controller.start({
      ...(startup.server === undefined ? {} : { settings: startup.server }), autoStart: startup.autoStart,
      network: startup.autoStart ? (media?.network ?? []) : [],
    });
    await quit;
    view.destroy();
    await controller.stop();
    process.off('uncaughtException', stray);
    process.off('unhandledRejection', stray);
    return 0;
  },
};
