/** Which row of the key map applies: the kind of the focused control, in a dialog or not. */
import type { AppState } from './app-state.ts';
import { focusedControl } from './focus.ts';
import type { KeyContext } from './key-actions.ts';

export function keyContext(app: AppState): KeyContext {
  const c = focusedControl(app);
  if (c === null) return 'tabbar';
  if (app.focus.area === 'modal') {
    if (c.kind === 'text') return 'modal-text';
    return c.kind === 'list' && c.selected !== null ? 'modal-list' : 'modal-button';
  }
  if (c.kind === 'dropdown') return app.dropdown?.id === c.id ? 'dropdown-open' : 'dropdown';
  return c.kind;
}
