/**
 * Effects: what the reducers ask the controller to do, as plain data. The controller runs them in
 * order and reports the outcome back as actions (e.g. `network/applied`, `browser/listing`), so
 * the reducers stay free of I/O, clocks and randomness.
 */
import type { BrowserOwner } from './file-browser.ts';
import type { Lang } from './i18n.ts';
import type { NetworkConfig } from './network-config.ts';
import type { ServerSettings } from './server-form.ts';

export type Effect =
  /** Persist the Backup server settings (Apply, Start, a pinned certificate). */
  | { readonly type: 'save-server-settings'; readonly settings: ServerSettings }
  /** Register with the server and wait for jobs; restarts the agent when it already runs. */
  | { readonly type: 'start-agent'; readonly settings: ServerSettings }
  /** The operator's answer to the first-contact certificate question. */
  | { readonly type: 'answer-certificate'; readonly fingerprint: string; readonly trust: boolean }
  /** netsh interface ipv4|ipv6 set address / dnsservers (or DHCP). */
  | { readonly type: 'configure-network'; readonly interfaceName: string; readonly config: NetworkConfig }
  /** Read the NIC list again (after a driver load, or on request). */
  | { readonly type: 'refresh-nics' }
  | { readonly type: 'list-drives'; readonly owner: BrowserOwner }
  | { readonly type: 'list-directory'; readonly owner: BrowserOwner; readonly path: string }
  /** drvload: one .inf, or every .inf under a folder. */
  | { readonly type: 'load-driver'; readonly source: 'folder' | 'inf'; readonly path: string }
  | { readonly type: 'list-drivers' }
  | { readonly type: 'reboot' }
  | { readonly type: 'shutdown' }
  /** Copy the appliance logs to the root of a drive (e.g. "E:\"). */
  | { readonly type: 'save-logs'; readonly drive: string }
  | { readonly type: 'refresh-disks' }
  /** Suspend the TUI, run cmd.exe, resume when it exits. */
  | { readonly type: 'open-shell' }
  | { readonly type: 'provide-passphrase'; readonly jobId: string; readonly passphrase: string }
  | { readonly type: 'decline-passphrase'; readonly jobId: string }
  /** Remember the UI language in the appliance settings. */
  | { readonly type: 'save-language'; readonly lang: Lang };

export type EffectType = Effect['type'];
