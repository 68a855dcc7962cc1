/**
 * The restore log kept in memory: the newest `capacity` lines and a count of what fell off, so a
 * long job cannot grow the state without bound (WinPE's X: is a RAM disk; the full log goes to
 * the server and to Save logs).
 */

export interface LogLine {
  readonly atMs: number;
  readonly level: 'info' | 'warn' | 'error';
  readonly text: string;
}

export interface LogRing {
  readonly capacity: number;
  readonly lines: readonly LogLine[];
  /** Lines dropped from the front since the ring was created. */
  readonly dropped: number;
}

export const DEFAULT_LOG_CAPACITY = 500;

export function emptyLog(capacity = DEFAULT_LOG_CAPACITY): LogRing {
  return { capacity: Math.max(1, Math.floor(capacity)), lines: [], dropped: 0 };
}

export function appendLog(ring: LogRing, lines: readonly LogLine[]): LogRing {
  if (lines.length === 0) return ring;
  const all = [...ring.lines, ...lines];
  const excess = Math.max(0, all.length - ring.capacity);
  return { capacity: ring.capacity, lines: excess === 0 ? all : all.slice(excess), dropped: ring.dropped + excess };
}
