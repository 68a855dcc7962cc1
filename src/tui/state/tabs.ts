/**
 * The tabs across the top, in order. Restore is shown only once a job has started (and stays
 * after it ends, so its outcome can be read). F1–F6 jump to the first six: hypervisor consoles
 * often swallow Alt, and Windows delivers Shift+Tab as Tab, so function keys are the sure way.
 */
import type { MsgKey } from './i18n.ts';

export type TabId = 'server' | 'ipv4' | 'ipv6' | 'driver-update' | 'driver-tools' | 'shell' | 'restore';

export const TABS: readonly TabId[] = ['server', 'ipv4', 'ipv6', 'driver-update', 'driver-tools', 'shell', 'restore'];

export const TAB_LABELS: Readonly<Record<TabId, MsgKey>> = {
  server: 'tab.server', ipv4: 'tab.ipv4', ipv6: 'tab.ipv6', 'driver-update': 'tab.driver-update',
  'driver-tools': 'tab.driver-tools', shell: 'tab.shell', restore: 'tab.restore',
};

/** F1 … F6, in that order. */
export const FUNCTION_KEY_TABS: readonly TabId[] = ['server', 'ipv4', 'ipv6', 'driver-update', 'driver-tools', 'shell'];

export function visibleTabs(restoreVisible: boolean): TabId[] {
  return TABS.filter((t) => t !== 'restore' || restoreVisible);
}
