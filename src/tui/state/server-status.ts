/**
 * The Backup server status line as a state machine:
 *
 *   not-configured ─Apply→ configured ─Start→ connecting ─→ online-unbound ⇄ bound ─→ job-running
 *                                           │    ↑ (reconnect)                          ↓
 *                                           ↓    │                               job-done | job-failed
 *                                     trust-pending (first TLS contact: pin or reject)
 *   any ─server error→ error (with the server's own words and code); Start again leaves it.
 *
 * The controller reports what happened; these functions only decide what the line says next.
 */
import { asParam, msg, rawText, type Msg } from './i18n.ts';

export type ServerStatus =
  | { readonly state: 'not-configured' }
  | { readonly state: 'configured' }
  | { readonly state: 'connecting'; readonly reason: Msg | null }
  | { readonly state: 'trust-pending'; readonly fingerprint: string; readonly pinned: string | null }
  | { readonly state: 'online-unbound' }
  | { readonly state: 'bound' }
  | { readonly state: 'job-running'; readonly job: string }
  | { readonly state: 'job-done'; readonly job: string }
  | { readonly state: 'job-failed'; readonly job: string; readonly detail: Msg }
  | { readonly state: 'error'; readonly code: string; readonly detail: Msg };

/** Reports from the agent (the controller turns protocol answers into these). */
export type ServerEvent =
  /** First attempt, or reconnecting after a cut; `reason` is what broke, in the OS's or server's words. */
  | { readonly type: 'server/connecting'; readonly reason?: string }
  /** The TLS certificate is not the pinned one (`pinned` null: first contact). */
  | { readonly type: 'server/certificate'; readonly fingerprint: string; readonly pinned: string | null }
  | { readonly type: 'server/registered'; readonly bound: boolean }
  /** A heartbeat answer: the operator bound or unbound this machine. */
  | { readonly type: 'server/binding'; readonly bound: boolean }
  | { readonly type: 'server/error'; readonly code: string; readonly message: string };

/** Job lifecycle as the server status line sees it (the Restore tab sees more). */
export type JobLifecycle =
  | { readonly type: 'job/started'; readonly job: { readonly id: string; readonly name: string } }
  | { readonly type: 'job/finished'; readonly outcome: 'succeeded' | 'failed' | 'cancelled'; readonly message?: string };

/** True while the agent is started: connecting, registered, or running a job. */
export function agentActive(status: ServerStatus): boolean {
  return !['not-configured', 'configured', 'error'].includes(status.state);
}

export function nextServerStatus(status: ServerStatus, event: ServerEvent | JobLifecycle): ServerStatus {
  switch (event.type) {
    case 'server/connecting':
      return { state: 'connecting', reason: event.reason === undefined ? null : rawText(event.reason) };
    case 'server/certificate':
      return { state: 'trust-pending', fingerprint: event.fingerprint, pinned: event.pinned };
    case 'server/registered':
      return event.bound ? { state: 'bound' } : { state: 'online-unbound' };
    case 'server/binding':
      if (status.state === 'job-running') return status;
      if ((status.state === 'job-done' || status.state === 'job-failed') && event.bound) return status;
      return event.bound ? { state: 'bound' } : { state: 'online-unbound' };
    case 'server/error':
      return { state: 'error', code: event.code, detail: rawText(event.message) };
    case 'job/started':
      return { state: 'job-running', job: event.job.name };
    case 'job/finished': {
      const job = status.state === 'job-running' ? status.job : '';
      if (event.outcome === 'succeeded') return { state: 'job-done', job };
      const fallback = event.outcome === 'failed' ? msg('job.outcome.failed') : msg('job.outcome.cancelled');
      const detail = event.message === undefined ? fallback : rawText(event.message);
      return { state: 'job-failed', job, detail };
    }
  }
}

/** The status line: words for every state, never colour alone. */
export function serverStatusText(status: ServerStatus): Msg {
  switch (status.state) {
    case 'not-configured': return msg('server.status.not-configured');
    case 'configured': return msg('server.status.configured');
    case 'connecting':
      return status.reason === null ? msg('server.status.connecting') : msg('server.status.reconnecting', { reason: asParam(status.reason) });
    case 'trust-pending': return msg('server.status.trust-pending');
    case 'online-unbound': return msg('server.status.online-unbound');
    case 'bound': return msg('server.status.bound');
    case 'job-running': return msg('server.status.job-running', { job: status.job });
    case 'job-done': return msg('server.status.job-done', { job: status.job });
    case 'job-failed': return msg('server.status.job-failed', { job: status.job, detail: asParam(status.detail) });
    case 'error': return msg('server.status.error', { detail: asParam(status.detail), code: status.code });
  }
}
