/**
 * wpeutil, one command per run ([CP wpeutil-command-line-options]):
 *   InitializeNetwork [/NoWait]  start networking (without /NoWait it waits for an address; use
 *                                /NoWait when a static address follows)
 *   WaitForNetwork               block until the NIC is up
 *   UpdateBootInfo               refresh PEFirmwareType / PEBootType in the registry
 *   Reboot | Shutdown
 */
import type { ProcessRunner } from '../../../ports/process-runner.ts';
import { runChecked } from './tool-error.ts';
import type { ToolCommand } from './tool-error.ts';

export type WpeutilCommand =
  | { readonly op: 'InitializeNetwork'; readonly noWait?: boolean }
  | { readonly op: 'WaitForNetwork' }
  | { readonly op: 'UpdateBootInfo' }
  | { readonly op: 'Reboot' }
  | { readonly op: 'Shutdown' };

export function wpeutilCommand(c: WpeutilCommand): ToolCommand {
  const args: string[] = [c.op];
  if (c.op === 'InitializeNetwork' && c.noWait === true) args.push('/NoWait');
  return { file: 'wpeutil.exe', args };
}

/** Network start-up can take minutes on slow DHCP; the rest return quickly. */
const TIMEOUTS: Record<WpeutilCommand['op'], number> = {
  InitializeNetwork: 300_000, WaitForNetwork: 300_000, UpdateBootInfo: 60_000, Reboot: 60_000, Shutdown: 60_000,
};

export async function runWpeutil(runner: ProcessRunner, c: WpeutilCommand, timeoutMs = TIMEOUTS[c.op]): Promise<void> {
  await runChecked(runner, wpeutilCommand(c), { code: 'tool.wpeutil-failed', options: { timeoutMs } });
}
