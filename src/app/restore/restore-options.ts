/** Restore options (seed 000 §5.6 tables 3 and 4): the ranges a job must respect before anything runs. */
import { checkRateWindow } from '../../core/backup/rate-window.ts';
import type { RateSchedule } from '../../core/backup/rate-window.ts';
import { RecoveryError } from '../../core/errors.ts';
import type { RestoreOptions } from '../../core/protocol/jobs.ts';

/** 64 KiB, 128 KiB, … 2 MiB: the write block sizes the job form offers. */
export const WRITE_BLOCK_SIZES: readonly number[] = [64, 128, 256, 512, 1024, 2048].map((k) => k * 1024);

function bad(option: string, message: string, value: unknown): RecoveryError {
  return new RecoveryError('restore.bad-option', message, { data: { option, value } });
}

function checkSchedule(option: string, s: RateSchedule | undefined): void {
  if (s === undefined) return;
  try {
    s.windows.forEach(checkRateWindow);
  } catch (e) {
    throw bad(option, `${option}: ${e instanceof Error ? e.message : String(e)}`, s);
  }
  const d = s.defaultBytesPerSecond;
  if (d !== undefined && !(d > 0 && Number.isFinite(d))) throw bad(option, `${option}: a default rate must be positive`, d);
}

/** Throws restore.bad-option (data.option names it) for the first option out of range. */
export function checkRestoreOptions(o: RestoreOptions): RestoreOptions {
  if (!WRITE_BLOCK_SIZES.includes(o.writeBlockSize)) {
    throw bad('writeBlockSize', `the write block size must be one of 64 KiB, 128 KiB, 256 KiB, 512 KiB, 1 MiB or 2 MiB, not ${o.writeBlockSize} bytes`, o.writeBlockSize);
  }
  if (!Number.isInteger(o.channels) || o.channels < 1 || o.channels > 64) throw bad('channels', `channels must be 1–64, not ${o.channels}`, o.channels);
  if (!Number.isInteger(o.reconnectWindowMinutes) || o.reconnectWindowMinutes < 1 || o.reconnectWindowMinutes > 60) {
    throw bad('reconnectWindowMinutes', `the reconnect window must be 1–60 minutes, not ${o.reconnectWindowMinutes}`, o.reconnectWindowMinutes);
  }
  if (!Number.isSafeInteger(o.resumeBufferBytes) || o.resumeBufferBytes < o.writeBlockSize) {
    throw bad('resumeBufferBytes', `the resume buffer must hold at least one write block (${o.writeBlockSize} bytes)`, o.resumeBufferBytes);
  }
  if (!Number.isInteger(o.utcOffsetMinutes) || Math.abs(o.utcOffsetMinutes) > 14 * 60) {
    throw bad('utcOffsetMinutes', `the UTC offset must be within ±14 hours, not ${o.utcOffsetMinutes} minutes`, o.utcOffsetMinutes);
  }
  checkSchedule('transferLimit', o.transferLimit);
  checkSchedule('writeLimit', o.writeLimit);
  return o;
}
