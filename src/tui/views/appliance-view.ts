/**
 * The appliance's full-screen view (blessed): two boxes, the page and the key-hint row, filled
 * from `screenContent(app)`. Keys go to the controller as `{ full, ch }` from `keypress` only; no
 * stock focus handling (Form/Listbar keys, Textbox) is used, see src/tui/README.md. The screen
 * redraws on a fixed tick when something changed, never once per event.
 *
 * `fullUnicode` makes CJK characters take two cells. With no TERM, blessed picks `windows-ansi`
 * on Windows (WinPE sets none) and `xterm` elsewhere; TERM overrides it.
 */
import blessed from 'blessed';
import type { Widgets } from 'blessed';
import type { ApplianceController } from '../controller.ts';
import type { TerminalSuspender } from '../services.ts';
import { screenContent } from './screen-content.ts';

export interface ApplianceViewOptions {
  /** blessed terminal name; default: TERM, else blessed's platform default. */
  readonly terminal?: string;
  /** Redraws per second at most. Default 10. */
  readonly fps?: number;
  /** A key that ends the appliance (a Linux host); null on WinPE, where the appliance is the shell. */
  readonly quitKey?: string | null;
}

/** Whether the terminal description has an alternate screen (smcup); windows-ansi has none. */
function hasAlternateScreen(program: Widgets.Screen['program']): boolean {
  const strings = (program as unknown as { tput?: { strings?: Record<string, unknown> } }).tput?.strings;
  const smcup = strings?.['enter_ca_mode'];
  return typeof smcup === 'string' && smcup !== '';
}

export class ApplianceView implements TerminalSuspender {
  private readonly screen: Widgets.Screen;
  private readonly body: Widgets.BoxElement;
  private readonly hint: Widgets.BoxElement;
  private readonly timer: ReturnType<typeof setInterval>;
  private readonly quitKey: string | null;
  private controller: ApplianceController | null = null;
  private dirty = true;
  private paused = false;
  private destroyed = false;

  constructor(options: ApplianceViewOptions = {}) {
    this.quitKey = options.quitKey ?? null;
    this.screen = blessed.screen({
      fullUnicode: true,
      smartCSR: true,
      autoPadding: false,
      warnings: false,
      title: 'Lifeline',
      ...(options.terminal === undefined ? {} : { terminal: options.terminal }),
    });
    this.body = blessed.box({ parent: this.screen, top: 0, left: 0, width: '100%', height: '100%-1', tags: true, wrap: false });
    this.hint = blessed.box({ parent: this.screen, bottom: 0, left: 0, width: '100%', height: 1, tags: true, wrap: false });
    this.screen.program.hideCursor();
    this.screen.on('resize', () => this.invalidate());
    const fps = Math.max(1, Math.min(30, options.fps ?? 10));
    this.timer = setInterval(() => this.draw(), Math.round(1000 / fps));
  }

  /** Forward keys to the controller and draw its state from now on. */
  attach(controller: ApplianceController, onQuit: () => void = () => {}): void {
    this.controller = controller;
    this.screen.on('keypress', (ch: string | undefined, key: Widgets.Events.IKeyEventArg | undefined) => {
      if (key === undefined || this.paused) return;
      if (this.quitKey !== null && key.full === this.quitKey) { onQuit(); return; }
      try {
        controller.key({ full: key.full, ...(ch === undefined ? {} : { ch }) });
      } catch {
        // The controller does not throw; a bug there must not take the console down either.
      }
    });
    this.invalidate();
    this.draw();
  }

  invalidate(): void {
    this.dirty = true;
  }

  /** Hand the console to a child process (the command prompt); the returned function takes it back. */
  suspend(): () => void {
    if (this.paused || this.destroyed) return () => {};
    const program = this.screen.program;
    const wasAlt = (program as unknown as { isAlt?: boolean }).isAlt === true;
    // Back to the normal screen where the terminal has two; where it has one (windows-ansi, as in
    // WinPE) clear the page instead, or the prompt would start on top of it. Flushed now: blessed
    // buffers output until the next tick, and pause() silences the output before that.
    if (wasAlt) program.normalBuffer();
    if (!hasAlternateScreen(program)) program.clear();
    program.showCursor();
    program.flush();
    const resume = program.pause();
    this.paused = true;
    return () => {
      if (!this.paused || this.destroyed) return;
      this.paused = false;
      resume();
      if (wasAlt) program.alternateBuffer();
      program.hideCursor();
      this.screen.realloc();
      this.dirty = true;
      this.draw();
    };
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    clearInterval(this.timer);
    this.screen.destroy();
  }

  private draw(): void {
    if (!this.dirty || this.paused || this.destroyed || this.controller === null) return;
    this.dirty = false;
    const content = screenContent(this.controller.app, this.controller.notice, Number(this.screen.width));
    this.body.setContent(content.body);
    this.hint.setContent(content.hint);
    this.screen.render();
  }
}
