/**
 * Driving a program in a real terminal: tmux on a private socket (so a developer's own tmux is
 * never touched), a detached 80×25 session per program, keys by name, and the screen read back
 * with capture-pane. Every wait polls the screen until a condition holds or a deadline passes,
 * and a timeout shows the last screen.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { textWidth } from '../../src/tui/state/text-width.ts';

export const hasTmux = spawnSync('tmux', ['-V'], { encoding: 'utf8' }).status === 0;

/** This test file's own tmux server, by socket path (removed again by killAll). */
const socket = join(tmpdir(), `lifeline-tmux-${process.pid}-${randomUUID().slice(0, 8)}`);
let sessions = 0;

function tmux(...args: string[]): string {
  return execFileSync('tmux', ['-S', socket, ...args], { encoding: 'utf8' });
}

/** For clean-up: nothing printed, and no error when there is nothing left to end. */
function tmuxQuietly(...args: string[]): void {
  try { execFileSync('tmux', ['-S', socket, ...args], { stdio: 'ignore' }); } catch { /* already gone */ }
}

export class TmuxSession {
  private constructor(readonly name: string) {}

  /**
   * Run `command` (a shell command line) in a new 80×25 session. When the program ends the pane
   * says so and stays, so a crash can still be read.
   */
  static start(command: string, options: { cwd: string; columns?: number; rows?: number }): TmuxSession {
    const name = `s${++sessions}`;
    tmux(
      'new-session', '-d', '-s', name, '-x', String(options.columns ?? 80), '-y', String(options.rows ?? 25), '-c', options.cwd,
      `${command}; echo "[program ended: $?]"; sleep 600`,
    );
    return new TmuxSession(name);
  }

  /** Ends this session; the programs in it get SIGHUP. */
  kill(): void {
    tmuxQuietly('kill-session', '-t', this.name);
  }

  /** Ends the tmux server of this test process and every session in it. */
  static killAll(): void {
    tmuxQuietly('kill-server');
    rmSync(socket, { force: true });
  }

  /** The screen as lines (capture-pane prints a wide character once, in its two cells). */
  screen(): string[] {
    return tmux('capture-pane', '-p', '-t', this.name).replace(/\n$/, '').split('\n');
  }

  text(): string {
    return this.screen().join('\n');
  }

  /** Keys by tmux name: Tab, Up, Down, Left, Right, Space, Enter, Escape, BSpace, F1…F12. */
  keys(...names: string[]): void {
    for (const key of names) tmux('send-keys', '-t', this.name, key);
  }

  /** Characters as typed. */
  type(text: string): void {
    tmux('send-keys', '-t', this.name, '-l', text);
  }

  /** Wait until the screen satisfies `check` (or contains the text); returns the screen. */
  async waitFor(check: string | RegExp | ((lines: string[]) => boolean), timeoutMs = 10_000): Promise<string[]> {
    const ok = typeof check === 'string' ? (l: string[]) => l.join('\n').includes(check)
      : check instanceof RegExp ? (l: string[]) => check.test(l.join('\n'))
        : check;
    const deadline = Date.now() + timeoutMs;
    let lines = this.screen();
    while (!ok(lines)) {
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${String(check)}; the screen was:\n${lines.join('\n')}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
      lines = this.screen();
    }
    return lines;
  }

  /** The row that starts with the focus marker "> ". */
  focusedRow(lines = this.screen()): string | undefined {
    return lines.find((l) => l.startsWith('> '));
  }
}

/** Display width of each screen line (CJK characters count two columns). */
export function lineWidths(lines: readonly string[]): number[] {
  return lines.map((l) => textWidth(l));
}
