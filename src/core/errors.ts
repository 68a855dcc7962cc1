/**
 * One error type for the whole domain. `code` is stable (shown to technicians, used in the
 * protocol and in docs/errors.md); `message` is for people; `data` carries the specifics.
 */
export class RecoveryError extends Error {
  readonly code: string;
  readonly data: Readonly<Record<string, unknown>>;
  readonly retryable: boolean;

  constructor(code: string, message: string, options: { data?: Record<string, unknown>; cause?: unknown; retryable?: boolean } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RecoveryError';
    this.code = code;
    this.data = options.data ?? {};
    this.retryable = options.retryable ?? false;
  }
}

export function isRecoveryError(e: unknown): e is RecoveryError {
  return e instanceof RecoveryError;
}
