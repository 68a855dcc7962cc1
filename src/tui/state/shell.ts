/**
 * Command prompt tab: one button that opens cmd.exe. The controller suspends the TUI, runs the
 * shell in the console and resumes when it exits (Alt+Tab reaches other windows meanwhile).
 */
import type { Control, ControlAction, Result } from './controls.ts';
import { result } from './controls.ts';
import { msg, type Msg } from './i18n.ts';

export interface ShellState {
  readonly open: boolean;
  readonly message: Msg | null;
}

export type ShellEvent = { readonly type: 'shell/exited'; readonly exitCode: number | null };

export type ShellAction = ControlAction | ShellEvent;

export function initialShell(): ShellState {
  return { open: false, message: null };
}

export function shellControls(): Control[] {
  return [{ kind: 'button', id: 'open-shell', label: msg('shell.open') }];
}

export function reduceShell(s: ShellState, a: ShellAction): Result<ShellState> {
  if (a.type === 'shell/exited') {
    return result({ open: false, message: a.exitCode === null ? msg('shell.closed') : msg('shell.exited', { code: a.exitCode }) });
  }
  if (a.type === 'control/press' && a.id === 'open-shell' && !s.open) {
    return result({ open: true, message: null }, [{ type: 'open-shell' }]);
  }
  return result(s);
}
