/**
 * Backup options (seed 000 §4.6 tables 1 and 2): the defaults a job starts from and the checks a
 * job or a command line must pass before anything is read.
 */
import { BLOCK_SIZES, DEFAULT_BLOCK_SIZE } from '../../core/backup/manifest.ts';
import { checkRateWindow, type RateSchedule } from '../../core/backup/rate-window.ts';
import { RecoveryError } from '../../core/errors.ts';
import type { BackupJobOptions } from '../../core/protocol/jobs.ts';

export const MIN_CHANNELS = 1;
export const MAX_CHANNELS = 64;

export const DEFAULT_BACKUP_OPTIONS: BackupJobOptions = {
  compression: 'fast',
  channels: 1,
  blockSize: DEFAULT_BLOCK_SIZE,
  onlyUsedBlocks: true,
  reconnectWindowMinutes: 10,
  resumeBufferBytes: 10 * 1024 * 1024,
  utcOffsetMinutes: 0,
};

function badOption(option: string, message: string, value: unknown): RecoveryError {
  return new RecoveryError('backup.bad-option', message, { data: { option, value } });
}

/** Throws backup.bad-option (data.option names it) for the first option out of range. */
export function checkBackupOptions(o: BackupJobOptions): BackupJobOptions {
  if (o.compression !== 'fast' && o.compression !== 'none') {
    throw badOption('compression', `compression must be "fast" or "none", not "${String(o.compression)}"`, o.compression);
  }
  if (!Number.isInteger(o.channels) || o.channels < MIN_CHANNELS || o.channels > MAX_CHANNELS) {
    throw badOption('channels', `channels must be a whole number from ${MIN_CHANNELS} to ${MAX_CHANNELS}, not ${o.channels}`, o.channels);
  }
  if (!BLOCK_SIZES.includes(o.blockSize)) {
    const offered = BLOCK_SIZES.map((b) => (b >= 1024 * 1024 ? `${b / 1024 / 1024} MiB` : `${b / 1024} KiB`)).join(', ');
    throw badOption('blockSize', `block size ${o.blockSize} bytes is not offered; choose one of ${offered}`, o.blockSize);
  }
  if (!Number.isInteger(o.reconnectWindowMinutes) || o.reconnectWindowMinutes < 1 || o.reconnectWindowMinutes > 60) {
    throw badOption('reconnectWindowMinutes', `the reconnect window must be 1–60 minutes, not ${o.reconnectWindowMinutes}`, o.reconnectWindowMinutes);
  }
  if (!Number.isSafeInteger(o.resumeBufferBytes) || o.resumeBufferBytes < o.blockSize) {
    throw badOption('resumeBufferBytes', `the resume buffer must hold at least one block (${o.blockSize} bytes)`, o.resumeBufferBytes);
  }
  if (!Number.isInteger(o.utcOffsetMinutes) || Math.abs(o.utcOffsetMinutes) > 14 * 60) {
    throw badOption('utcOffsetMinutes', `the UTC offset must be within ±14 hours, not ${o.utcOffsetMinutes} minutes`, o.utcOffsetMinutes);
  }
  if (o.backupKind !== undefined && o.backupKind !== 'copy' && o.backupKind !== 'full') {
    throw badOption('backupKind', `the backup kind must be "copy" or "full", not "${String(o.backupKind)}"`, o.backupKind);
  }
  checkSchedule(o.transferLimit);
  checkSchedule(o.readLimit);
  return o;
}

function checkSchedule(s: RateSchedule | undefined): void {
  if (s === undefined) return;
  s.windows.forEach(checkRateWindow);
  const d = s.defaultBytesPerSecond;
  if (d !== undefined && !(d > 0 && Number.isFinite(d))) throw badOption('rate', 'a default rate must be positive', d);
}
