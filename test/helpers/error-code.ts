/** The stable code a failure carries: what tests assert on, never the message. */
import { isRecoveryError } from '../../src/core/errors.ts';

/** The RecoveryError code `p` rejects with; any other rejection, or none, fails the test. */
export async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (isRecoveryError(e)) return e.code;
    throw e;
  }
  throw new Error('expected a rejection');
}

/** The RecoveryError code `fn` throws, a marked text for any other throw, undefined when it does not throw. */
export function thrownCode(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return isRecoveryError(e) ? e.code : `non-RecoveryError: ${String(e)}`;
  }
  return undefined;
}
