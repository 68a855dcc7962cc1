/** The restore pipeline's small parts: retry window, byte budget, resume states, journal batching. */
import { describe, expect, it } from 'vitest';
import { ByteBudget } from '../../../../src/app/restore/byte-budget.ts';
import { isAllZero } from '../../../../src/app/restore/bytes.ts';
import { RestoreJournal, resumeStateOf } from '../../../../src/app/restore/journal.ts';
import { withRetry } from '../../../../src/app/restore/retry.ts';
import { RecoveryError } from '../../../../src/core/errors.ts';
import type { ResumeJournal } from '../../../../src/core/protocol/jobs.ts';
import { codeOf } from '../../../helpers/error-code.ts';
import { FakeClock } from './restore-fixtures.ts';

const transient = () => new RecoveryError('network.reset', 'reset', { retryable: true });

describe('withRetry', () => {
  it('backs off 1, 2, 4, 8, 15, 30, 30 s and gives up at the end of the window', async () => {
    const clock = new FakeClock();
    let calls = 0;
    const failing = () => {
      calls++;
      return Promise.reject(transient());
    };
    await expect(withRetry('x', failing, { clock, windowMs: 120_000 })).rejects.toMatchObject({ code: 'restore.reconnect-window-exceeded', data: { lastCode: 'network.reset' } });
    expect(clock.sleeps).toEqual([1000, 2000, 4000, 8000, 15000, 30000, 30000, 30000]);
    expect(calls).toBe(9);
  });

  it('returns the first success, and passes other errors through at once', async () => {
    const clock = new FakeClock();
    let n = 0;
    await expect(withRetry('x', async () => (++n < 3 ? Promise.reject(transient()) : 'ok'), { clock, windowMs: 60_000 })).resolves.toBe('ok');
    await expect(withRetry('x', () => Promise.reject(new RecoveryError('auth.forbidden', 'no')), { clock, windowMs: 60_000 })).rejects.toMatchObject({ code: 'auth.forbidden' });
    expect(clock.sleeps).toEqual([1000, 2000]);
  });

  it('stops when the signal fired', async () => {
    await expect(withRetry('x', async () => 1, { clock: new FakeClock(), windowMs: 1, signal: { aborted: true } })).rejects.toMatchObject({ code: 'restore.interrupted' });
  });
});

describe('ByteBudget', () => {
  it('grants in order within the capacity, and an oversized request alone', async () => {
    const budget = new ByteBudget(100);
    const a = await budget.acquire(60);
    const order: string[] = [];
    const b = budget.acquire(50).then((n) => (order.push('b'), n));
    const c = budget.acquire(500).then((n) => (order.push('c'), n));
    await Promise.resolve();
    expect(order).toEqual([]);
    budget.release(a);
    expect(await b).toBe(50);
    budget.release(50);
    expect(await c).toBe(100);
    expect(order).toEqual(['b', 'c']);
    expect(budget.peak).toBe(100);
  });
});

describe('resumeStateOf', () => {
  const done = [{ start: 0n, length: 10n * 1024n * 1024n }];
  it('trusts a journaled unit before the tail, re-checks one in it, and redoes the rest', () => {
    expect(resumeStateOf(done, 0n, 65536n, 4 * 1024 * 1024)).toBe('done');
    expect(resumeStateOf(done, 7n * 1024n * 1024n, 65536n, 4 * 1024 * 1024)).toBe('recheck');
    expect(resumeStateOf(done, 10n * 1024n * 1024n - 512n, 1024n, 4 * 1024 * 1024)).toBe('todo');
    expect(resumeStateOf([], 0n, 512n, 0)).toBe('todo');
  });
});

describe('RestoreJournal', () => {
  it('flushes the device before it journals, batches by bytes, and merges ranges', async () => {
    const calls: string[] = [];
    const sent: ResumeJournal[] = [];
    const server = {
      getJournal: async (): Promise<ResumeJournal> => ({ disks: { d: [{ start: '0', length: '512' }] }, marks: ['m'] }),
      mergeJournal: async (_run: string, update: ResumeJournal) => {
        calls.push('merge');
        sent.push(update);
      },
    };
    const clock = new FakeClock();
    const journal = await RestoreJournal.load(server, 'run', clock, { clock, windowMs: 60_000 }, { everyBytes: 1024, everyMs: 60_000, recheckBytes: 0 });
    expect(journal.hasMark('m')).toBe(true);
    expect(journal.doneRanges('d')).toEqual([{ start: 0n, length: 512n }]);
    journal.attach('d', async () => void calls.push('flush'));
    journal.record('d', 512n, 512n);
    await journal.maybeFlush();
    expect(calls).toEqual([]);
    journal.record('d', 1024n, 512n);
    await journal.maybeFlush();
    await journal.flush(); // waits for the batch maybeFlush started
    expect(calls).toEqual(['flush', 'merge']);
    expect(sent[0]).toEqual({ disks: { d: [{ start: '512', length: '1024' }] }, marks: [] });
  });

  it('sends a due batch in the background: the pipeline goes on, ranges recorded meanwhile go in the next batch', async () => {
    const sent: ResumeJournal[] = [];
    let releaseFlush!: () => void;
    const deviceFlushed = new Promise<void>((resolve) => { releaseFlush = resolve; });
    const server = {
      getJournal: async (): Promise<ResumeJournal> => ({ disks: {}, marks: [] }),
      mergeJournal: async (_run: string, update: ResumeJournal) => void sent.push(update),
    };
    const clock = new FakeClock();
    const journal = await RestoreJournal.load(server, 'run', clock, { clock, windowMs: 60_000 }, { everyBytes: 1024, everyMs: 60_000, recheckBytes: 0 });
    journal.attach('d', () => deviceFlushed);
    journal.record('d', 0n, 1024n);
    await journal.maybeFlush(); // returns although the device flush has not finished
    journal.record('d', 1024n, 1024n);
    await journal.maybeFlush(); // one flush at a time: this batch waits
    expect(sent).toEqual([]);
    releaseFlush();
    await journal.flush();
    expect(sent).toEqual([
      { disks: { d: [{ start: '0', length: '1024' }] }, marks: [] },
      { disks: { d: [{ start: '1024', length: '1024' }] }, marks: [] },
    ]);
  });

  it('throws a failed background batch at the next call, so the run fails instead of trusting it', async () => {
    const clock = new FakeClock();
    const server = {
      getJournal: async (): Promise<ResumeJournal> => ({ disks: {}, marks: [] }),
      mergeJournal: async () => undefined,
    };
    const journal = await RestoreJournal.load(server, 'run', clock, { clock, windowMs: 0 }, { everyBytes: 512, everyMs: 60_000, recheckBytes: 0 });
    journal.attach('d', async () => {
      throw new RecoveryError('device.io', 'flush failed');
    });
    journal.record('d', 0n, 512n);
    await journal.maybeFlush();
    await new Promise((r) => setTimeout(r, 0));
    expect(await codeOf(journal.maybeFlush())).toBe('device.io');
    // Thrown once; what it did not save is gone from the batch, nothing claims those bytes.
    await journal.flush();
  });
});

describe('isAllZero', () => {
  it('looks at every byte whatever the alignment', () => {
    const bytes = new Uint8Array(4099);
    expect(isAllZero(bytes.subarray(1))).toBe(true);
    for (const at of [1, 2, 100, 4098]) {
      bytes[at] = 1;
      expect(isAllZero(bytes.subarray(1))).toBe(false);
      bytes[at] = 0;
    }
  });
});
