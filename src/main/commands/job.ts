/** `lifeline job restore|backup|list|show|start|cancel|wait|logs`: restore and backup jobs and their runs. */
import { readFile } from 'node:fs/promises';
import type { OperatorClient } from '../../adapters/node/http-operator-client.ts';
import { checkBackupOptions, DEFAULT_BACKUP_OPTIONS } from '../../app/backup/options.ts';
import { parseRateLimits } from '../../app/backup/rate-limit-text.ts';
import { isRecoveryError, RecoveryError } from '../../core/errors.ts';
import {
  DEFAULT_RESTORE_OPTIONS, type BackupJobOptions, type BackupJobSpec, type DiskMapping, type RestoreJobSpec, type RestoreOptions,
} from '../../core/protocol/jobs.ts';
import type { JobView, LogEntry, RunView } from '../../core/protocol/schemas.ts';
import { parseSchedule, type Schedule } from '../../core/schedule.ts';
import { UsageError, booleanOption, integerOption, requiredString, stringOption } from '../cli-kit.ts';
import type { Command, CommandIo, ParsedArgs } from '../cli-kit.ts';
import { connectionOptions, onePositional, orDash, print, table, withClient } from './operator-options.ts';

const FINAL = new Set(['succeeded', 'failed', 'cancelled', 'idle']);

export const jobRestore: Command = {
  path: ['job', 'restore'],
  summary: 'Create a restore job: a restore point onto a bound machine\'s disks.',
  options: {
    ...connectionOptions,
    target: { type: 'string', valueName: 'AGENT', description: 'The machine to restore (agent id; required).' },
    set: { type: 'string', valueName: 'SET', description: 'Backup set id (required).' },
    point: { type: 'string', valueName: 'POINT', description: 'Restore point id, or "latest" (default).' },
    disk: { type: 'string', multiple: true, valueName: 'SRC=TARGET', description: 'Source disk number onto a target disk, e.g. 0=\\\\.\\PhysicalDrive0 (required).' },
    partitions: { type: 'string', multiple: true, valueName: '[SRC=]N,N', description: 'Restore only these partitions (default all).' },
    rebuild: { type: 'string', multiple: true, valueName: '[SRC=]full|partial', description: 'full: the whole source table; partial: only the chosen partitions (default full).' },
    schedule: { type: 'string', valueName: 'WHEN', description: 'now (default), manual, or an ISO 8601 time with offset, e.g. 2026-12-01T02:00:00+08:00.' },
    name: { type: 'string', valueName: 'NAME', description: 'Job name (default: "restore <set> onto <agent>").' },
    passphrase: { type: 'string', valueName: 'TEXT', description: 'Passphrase of an encrypted set (else the technician types it).' },
    'passphrase-file': { type: 'string', valueName: 'FILE', description: 'Read the passphrase from the first line of FILE.' },
    'no-driver-update': { type: 'boolean', description: 'Do not inject NIC and storage drivers.' },
    'write-block-size': { type: 'string', valueName: 'SIZE', description: 'Write block size, 64K–2M (default 256K).' },
    channels: { type: 'string', valueName: 'N', description: 'Parallel chunk fetches, 1–64 (default 4).' },
    'reconnect-window': { type: 'string', valueName: 'MIN', description: 'Minutes network loss is retried, 1–60 (default 10).' },
    'resume-buffer': { type: 'string', valueName: 'SIZE', description: 'Bytes in flight between fetch and write (default 10M).' },
    'transfer-limit': { type: 'string', multiple: true, valueName: 'RATE', description: 'Network rate limit, e.g. "10 MiB/s" or "2 MiB/s mon-fri 08:00-18:00".' },
    'write-limit': { type: 'string', multiple: true, valueName: 'RATE', description: 'Disk write rate limit, same form.' },
    'no-verify': { type: 'boolean', description: 'Do not re-read and compare what was written.' },
    precondition: { type: 'string', valueName: 'CMD', description: 'Run first; when it fails the job goes back to idle.' },
    'pre-script': { type: 'string', valueName: 'CMD', description: 'Run before the restore.' },
    'post-script': { type: 'string', valueName: 'CMD', description: 'Run after the restore.' },
    'no-asr': { type: 'boolean', description: 'Do not write the ASR RestoreSession values.' },
    'utc-offset': { type: 'string', valueName: 'MIN', description: 'Minutes east of UTC the rate windows are written in (default 0).' },
    disabled: { type: 'boolean', description: 'Create the job disabled.' },
  },
  async run(args, io) {
    const spec = await restoreSpec(args);
    const agentId = requiredString(args, 'target');
    const schedule = scheduleOf(stringOption(args, 'schedule') ?? 'now');
    const job = await withClient(args, async (client) => {
      const pointId = spec.pointId === 'latest' ? await latestPoint(client, spec.setId) : spec.pointId;
      return client.createJob({
        name: stringOption(args, 'name') ?? `restore ${spec.setId.slice(0, 8)} onto ${agentId.slice(0, 8)}`,
        agentId, schedule, spec: { ...spec, pointId }, ...(booleanOption(args, 'disabled') ? { enabled: false } : {}),
      });
    });
    print(args, io, job, (j) => `Created job ${j.jobId} (${j.name}); next run ${orDash(j.nextRunAt)}.`);
    return 0;
  },
};

export const jobBackup: Command = {
  path: ['job', 'backup'],
  summary: "Create a backup job: a machine's disks into its backup set, now, once, by hand or on a recurring plan.",
  options: {
    ...connectionOptions,
    target: { type: 'string', valueName: 'AGENT', description: 'The machine to back up: the agent id of its `lifeline agent --role backup` (required).' },
    source: { type: 'string', multiple: true, valueName: 'DISK', description: 'A disk to image, as the machine registered it (its --disk path); repeat for several, numbered 0, 1, … in order (required).' },
    resource: { type: 'string', valueName: 'NAME', description: "The resource the backup set belongs to (default: the machine's hostname)." },
    firmware: { type: 'string', valueName: 'bios|uefi', description: "How the imaged system boots (default: the machine's firmware)." },
    encrypted: { type: 'boolean', description: "Back up into the resource's encrypted set; the agent must hold its passphrase, and creates the set on its first run if it has none." },
    'backup-kind': { type: 'string', valueName: 'copy|full', description: "Windows: the VSS backup type. copy (default) leaves every backup history as it is; full lets writers record the backup (log truncation)." },
    compression: { type: 'string', valueName: 'fast|none', description: 'fast = lz4 (default), none = store as read.' },
    channels: { type: 'string', valueName: 'N', description: `Parallel uploads, 1–64 (default ${DEFAULT_BACKUP_OPTIONS.channels}).` },
    'block-size': { type: 'string', valueName: 'SIZE', description: 'Read block and chunk size, 64K–2M (default 256K).' },
    'all-blocks': { type: 'boolean', description: 'Read every block, not only the blocks the file systems use.' },
    'reconnect-window': { type: 'string', valueName: 'MIN', description: `Minutes network loss is retried, 1–60 (default ${DEFAULT_BACKUP_OPTIONS.reconnectWindowMinutes}).` },
    'resume-buffer': { type: 'string', valueName: 'SIZE', description: 'Buffer between reading and uploading (default 10M).' },
    'transfer-limit': { type: 'string', multiple: true, valueName: 'RATE', description: 'Upload rate limit, e.g. "10 MiB/s" or "2 MiB/s mon-fri 08:00-18:00".' },
    'read-limit': { type: 'string', multiple: true, valueName: 'RATE', description: 'Disk read rate limit, same form.' },
    precondition: { type: 'string', valueName: 'CMD', description: 'Run first on the machine; when it fails the run goes back to idle.' },
    'pre-script': { type: 'string', valueName: 'CMD', description: 'Run before the disks are read.' },
    'post-script': { type: 'string', valueName: 'CMD', description: 'Run after the backup, also when it failed.' },
    'utc-offset': { type: 'string', valueName: 'MIN', description: 'Minutes east of UTC the rate windows are written in (default 0).' },
    schedule: { type: 'string', valueName: 'WHEN', description: 'now (default), manual, an ISO 8601 time with offset, or a recurring plan as JSON (docs/server-admin.md).' },
    name: { type: 'string', valueName: 'NAME', description: 'Job name (default: "backup <resource>").' },
    disabled: { type: 'boolean', description: 'Create the job disabled.' },
  },
  details: [
    'The set of an unencrypted job is created with the job if the machine has none yet; an encrypted set is created by the',
    "machine's first run, its key wrapped with the agent's passphrase. The machine runs the job when `lifeline agent --role backup` polls.",
  ].join('\n'),
  async run(args, io) {
    const agentId = requiredString(args, 'target');
    const sources = (args.values['source'] as string[] | undefined) ?? [];
    if (sources.length === 0) throw new UsageError('give at least one --source DISK (the disk as the machine registered it)');
    const firmware = stringOption(args, 'firmware');
    if (firmware !== undefined && firmware !== 'bios' && firmware !== 'uefi') throw new UsageError(`--firmware must be bios or uefi, not "${firmware}"`);
    const options = backupOptions(args);
    const schedule = scheduleOf(stringOption(args, 'schedule') ?? 'now', true);
    const job = await withClient(args, async (client) => {
      const resource = stringOption(args, 'resource') ?? (await client.getTarget(agentId)).hostname;
      const spec: BackupJobSpec = {
        kind: 'backup', resource, sources, encrypted: booleanOption(args, 'encrypted'), options,
        ...(firmware === undefined ? {} : { firmware: firmware as 'bios' | 'uefi' }),
      };
      return client.createJob({
        name: stringOption(args, 'name') ?? `backup ${resource}`,
        agentId, schedule, spec, ...(booleanOption(args, 'disabled') ? { enabled: false } : {}),
      });
    });
    print(args, io, job, (j) => `Created job ${j.jobId} (${j.name}); next run ${orDash(j.nextRunAt)}.`);
    return 0;
  },
};

export const jobList: Command = {
  path: ['job', 'list'],
  summary: 'List jobs.',
  options: connectionOptions,
  async run(args, io) {
    const jobs = await withClient(args, (c) => c.listJobs());
    print(args, io, jobs, (list) => list.length === 0 ? 'No jobs.' : table(
      ['JOB', 'NAME', 'KIND', 'AGENT', 'SCHEDULE', 'NEXT RUN', 'ENABLED'],
      list.map((j) => [j.jobId, j.name, j.kind, j.agentId, scheduleText(j.schedule), orDash(j.nextRunAt), j.enabled ? 'yes' : 'no']),
    ));
    return 0;
  },
};

export const jobShow: Command = {
  path: ['job', 'show'],
  summary: 'Show a job and its recent runs.',
  positionals: '<job-id>',
  options: connectionOptions,
  async run(args, io) {
    const jobId = onePositional(args, 'job id');
    const shown = await withClient(args, async (c) => ({ job: await c.getJob(jobId), runs: await c.listRuns(jobId) }));
    print(args, io, shown, ({ job, runs }) => renderJob(job, runs));
    return 0;
  },
};

export const jobStart: Command = {
  path: ['job', 'start'],
  summary: 'Queue a run of a job now.',
  positionals: '<job-id>',
  options: connectionOptions,
  async run(args, io) {
    const jobId = onePositional(args, 'job id');
    print(args, io, await withClient(args, (c) => c.startJob(jobId)), (r) => `Queued run ${r.runId}.`);
    return 0;
  },
};

export const jobCancel: Command = {
  path: ['job', 'cancel'],
  summary: "Cancel a job's queued or running run.",
  positionals: '<job-id>',
  options: connectionOptions,
  async run(args, io) {
    const jobId = onePositional(args, 'job id');
    print(args, io, await withClient(args, (c) => c.cancelJob(jobId)), (r) => `Cancelled run ${r.runId}.`);
    return 0;
  },
};

export const jobWait: Command = {
  path: ['job', 'wait'],
  summary: "Wait until the job's latest run ends.",
  positionals: '<job-id>',
  options: { ...connectionOptions, timeout: { type: 'string', valueName: 'SEC', description: 'Give up after SEC seconds (default: wait for ever).' } },
  details: 'Exit status: 0 when the run succeeded, 3 when it ended otherwise (failed, cancelled, idle).',
  async run(args, io) {
    const jobId = onePositional(args, 'job id');
    const timeout = integerOption(args, 'timeout', { min: 1, max: 31 * 86400 });
    const run = await withClient(args, (c) => waitForRun(c, jobId, timeout === undefined ? Infinity : timeout * 1000));
    print(args, io, run, (r) => `Run ${r.runId} ${r.state}${r.error ? `: [${r.error.code}] ${r.error.message}` : ''}.`);
    return run.state === 'succeeded' ? 0 : 3;
  },
};

export const jobLogs: Command = {
  path: ['job', 'logs'],
  summary: "Print the events of a job's latest run (or of --run).",
  positionals: '<job-id>',
  options: {
    ...connectionOptions,
    run: { type: 'string', valueName: 'RUN', description: 'A run of the job other than the latest.' },
    follow: { type: 'boolean', short: 'f', description: 'Keep printing new events until the run ends.' },
  },
  async run(args, io) {
    const jobId = onePositional(args, 'job id');
    await withClient(args, async (client) => {
      const runId = stringOption(args, 'run') ?? (await client.listRuns(jobId))[0]?.runId;
      if (runId === undefined) throw new RecoveryError('not-found', `job ${jobId} has not run yet`);
      await printLogs(client, runId, booleanOption(args, 'follow'), args, io);
    });
    return 0;
  },
};

// ---------------------------------------------------------------- runs and logs

async function waitForRun(client: OperatorClient, jobId: string, timeoutMs: number): Promise<RunView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const latest = (await client.listRuns(jobId))[0];
    if (latest !== undefined && FINAL.has(latest.state)) return latest;
    if (Date.now() >= deadline) throw new RecoveryError('job.wait-timeout', `job ${jobId} did not finish in time`, { data: { jobId, state: latest?.state ?? 'not started' } });
    await sleep(Math.min(1000, Math.max(0, deadline - Date.now())));
  }
}

async function printLogs(client: OperatorClient, runId: string, follow: boolean, args: ParsedArgs, io: CommandIo): Promise<void> {
  let after = 0;
  for (;;) {
    const page = await client.logs(runId, after);
    for (const entry of page.entries) io.out(booleanOption(args, 'json') ? JSON.stringify(entry) : logLine(entry));
    after = page.next;
    if (!follow || page.final) break;
    if (page.entries.length === 0) await sleep(1000);
  }
  if (follow && !booleanOption(args, 'json')) {
    const run = await client.getRun(runId);
    io.out(`— run ${run.state}${run.error ? `: [${run.error.code}] ${run.error.message}` : ''}`);
  }
}

function logLine(e: LogEntry): string {
  return `${e.time} ${e.level.toUpperCase().padEnd(7)} ${e.message}${e.data ? ` ${JSON.stringify(e.data)}` : ''}`;
}

function renderJob(job: JobView, runs: readonly RunView[]): string {
  const lines = [
    `Job        ${job.jobId}`,
    `Name       ${job.name}`,
    `Kind       ${job.kind}, agent ${job.agentId}`,
    `Schedule   ${scheduleText(job.schedule)}${job.enabled ? '' : ' (disabled)'}, next run ${orDash(job.nextRunAt)}`,
  ];
  if (job.spec.kind === 'restore') {
    lines.push(`Restore    set ${job.spec.setId}, point ${job.spec.pointId}`);
    for (const d of job.spec.disks) {
      lines.push(`  disk ${d.sourceDisk} → ${d.targetDisk}: ${d.partitions.length === 0 ? 'all partitions' : `partitions ${d.partitions.join(', ')}`}, ${d.rebuild} rebuild`);
    }
  } else {
    lines.push(`Backup     resource ${job.spec.resource}${job.spec.encrypted ? ' (encrypted set)' : ''}${job.spec.firmware ? `, ${job.spec.firmware.toUpperCase()}` : ''}${job.spec.options.backupKind === 'full' ? ', VSS full backup' : ''}`);
    job.spec.sources.forEach((source, i) => lines.push(`  disk ${i} ← ${source}`));
  }
  lines.push('', runs.length === 0 ? 'No runs yet.' : table(
    ['RUN', 'STATE', 'TRIGGER', 'QUEUED', 'ENDED', 'PROGRESS', 'ERROR'],
    runs.map((r) => [r.runId, r.state, r.trigger, r.queuedAt, orDash(r.endedAt), progressText(r), r.error ? r.error.code : '']),
  ));
  return lines.join('\n');
}

function progressText(r: RunView): string {
  if (r.progress === null) return '-';
  const total = BigInt(r.progress.bytesTotal);
  const pct = total === 0n ? 0 : Number((BigInt(r.progress.bytesDone) * 1000n) / total) / 10;
  return `${r.progress.stage} ${pct}%`;
}

function scheduleText(schedule: unknown): string {
  const s = schedule as { kind?: string; at?: string };
  return s.kind === 'once' ? `once at ${s.at}` : (s.kind ?? '?');
}

// ---------------------------------------------------------------- the restore spec from flags

async function restoreSpec(args: ParsedArgs): Promise<RestoreJobSpec> {
  const disks = diskMappings(args);
  const passphrase = await passphraseOf(args);
  return {
    kind: 'restore',
    setId: requiredString(args, 'set'),
    pointId: stringOption(args, 'point') ?? 'latest',
    disks,
    ...(passphrase !== undefined ? { passphrase } : {}),
    options: restoreOptions(args),
  };
}

function diskMappings(args: ParsedArgs): DiskMapping[] {
  const disks = (args.values['disk'] as string[] | undefined) ?? [];
  if (disks.length === 0) throw new UsageError('give at least one --disk SRC=TARGET');
  const perDisk = (option: string): Map<number | 'all', string> => {
    const map = new Map<number | 'all', string>();
    for (const text of (args.values[option] as string[] | undefined) ?? []) {
      const m = /^(\d+)=(.+)$/.exec(text);
      map.set(m ? Number(m[1]) : 'all', m ? (m[2] as string) : text);
    }
    return map;
  };
  const partitions = perDisk('partitions');
  const rebuilds = perDisk('rebuild');
  return disks.map((text) => {
    const m = /^(\d+)=(.+)$/.exec(text);
    if (!m) throw new UsageError(`--disk ${text}: write SOURCE=TARGET, e.g. 0=\\\\.\\PhysicalDrive0`);
    const sourceDisk = Number(m[1]);
    const partText = partitions.get(sourceDisk) ?? partitions.get('all');
    const list = partText === undefined || partText === 'all' ? [] : partText.split(',').map((n) => {
      if (!/^\d+$/.test(n.trim()) || Number(n) < 1) throw new UsageError(`--partitions ${partText}: partition numbers are whole numbers from 1`);
      return Number(n);
    });
    const rebuild = rebuilds.get(sourceDisk) ?? rebuilds.get('all') ?? 'full';
    if (rebuild !== 'full' && rebuild !== 'partial') throw new UsageError(`--rebuild ${rebuild}: full or partial`);
    return { sourceDisk, targetDisk: m[2] as string, partitions: list, rebuild };
  });
}

function restoreOptions(args: ParsedArgs): RestoreOptions {
  const d = DEFAULT_RESTORE_OPTIONS;
  const text = (name: string): string | undefined => stringOption(args, name);
  const transfer = parseRateLimits((args.values['transfer-limit'] as string[] | undefined) ?? []);
  const write = parseRateLimits((args.values['write-limit'] as string[] | undefined) ?? []);
  const offset = text('utc-offset');
  if (offset !== undefined && (!/^[+-]?\d{1,3}$/.test(offset) || Math.abs(Number(offset)) > 840)) throw new UsageError('--utc-offset is minutes east of UTC, -840 to 840');
  return {
    driverAutoUpdate: !booleanOption(args, 'no-driver-update'),
    writeBlockSize: sizeOption(args, 'write-block-size') ?? d.writeBlockSize,
    channels: integerOption(args, 'channels', { min: 1, max: 64 }) ?? d.channels,
    reconnectWindowMinutes: integerOption(args, 'reconnect-window', { min: 1, max: 60 }) ?? d.reconnectWindowMinutes,
    resumeBufferBytes: sizeOption(args, 'resume-buffer') ?? d.resumeBufferBytes,
    ...(transfer ? { transferLimit: transfer } : {}),
    ...(write ? { writeLimit: write } : {}),
    verify: !booleanOption(args, 'no-verify'),
    ...(text('precondition') !== undefined ? { precondition: text('precondition') as string } : {}),
    ...(text('pre-script') !== undefined ? { preScript: text('pre-script') as string } : {}),
    ...(text('post-script') !== undefined ? { postScript: text('post-script') as string } : {}),
    asrRestoreSession: !booleanOption(args, 'no-asr'),
    utcOffsetMinutes: offset === undefined ? d.utcOffsetMinutes : Number(offset),
  };
}

function backupOptions(args: ParsedArgs): BackupJobOptions {
  const d = DEFAULT_BACKUP_OPTIONS;
  const text = (name: string): string | undefined => stringOption(args, name);
  const compression = text('compression') ?? d.compression;
  if (compression !== 'fast' && compression !== 'none') throw new UsageError(`--compression must be fast or none, not "${compression}"`);
  const transfer = parseRateLimits((args.values['transfer-limit'] as string[] | undefined) ?? []);
  const read = parseRateLimits((args.values['read-limit'] as string[] | undefined) ?? []);
  const offset = text('utc-offset');
  if (offset !== undefined && (!/^[+-]?\d{1,3}$/.test(offset) || Math.abs(Number(offset)) > 840)) throw new UsageError('--utc-offset is minutes east of UTC, -840 to 840');
  const backupKind = text('backup-kind');
  if (backupKind !== undefined && backupKind !== 'copy' && backupKind !== 'full') throw new UsageError(`--backup-kind must be copy or full, not "${backupKind}"`);
  const options: BackupJobOptions = {
    compression,
    channels: integerOption(args, 'channels', { min: 1, max: 64 }) ?? d.channels,
    blockSize: sizeOption(args, 'block-size') ?? d.blockSize,
    onlyUsedBlocks: !booleanOption(args, 'all-blocks'),
    reconnectWindowMinutes: integerOption(args, 'reconnect-window', { min: 1, max: 60 }) ?? d.reconnectWindowMinutes,
    resumeBufferBytes: sizeOption(args, 'resume-buffer') ?? d.resumeBufferBytes,
    ...(transfer ? { transferLimit: transfer } : {}),
    ...(read ? { readLimit: read } : {}),
    ...(text('precondition') !== undefined ? { precondition: text('precondition') as string } : {}),
    ...(text('pre-script') !== undefined ? { preScript: text('pre-script') as string } : {}),
    ...(text('post-script') !== undefined ? { postScript: text('post-script') as string } : {}),
    utcOffsetMinutes: offset === undefined ? d.utcOffsetMinutes : Number(offset),
    ...(backupKind === undefined ? {} : { backupKind }),
  };
  try {
    return checkBackupOptions(options);
  } catch (e) {
    if (isRecoveryError(e) && e.code === 'backup.bad-option') throw new UsageError(e.message);
    throw e;
  }
}

/** "256K", "2M", "10MiB", "65536". */
function sizeOption(args: ParsedArgs, name: string): number | undefined {
  const text = stringOption(args, name);
  if (text === undefined) return undefined;
  const m = /^(\d+)\s*([KMG]?)(i?B)?$/i.exec(text.trim());
  if (!m) throw new UsageError(`--${name} ${text}: a size such as 256K, 2M or 65536`);
  const unit = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 }[(m[2] ?? '').toUpperCase() as '' | 'K' | 'M' | 'G'];
  return Number(m[1]) * unit;
}

/** now, manual, an ISO time; for backup jobs also a recurring plan as JSON (core/schedule.ts). */
function scheduleOf(text: string, recurring = false): Schedule {
  if (recurring && text.trim().startsWith('{')) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      throw new UsageError(`--schedule: the plan is not JSON: ${(e as Error).message}`);
    }
    try {
      return parseSchedule(value);
    } catch (e) {
      throw new UsageError(`--schedule: ${(e as Error).message}`);
    }
  }
  const value = text === 'now' || text === 'manual' ? { kind: text } : { kind: 'once', at: text };
  try {
    return parseSchedule(value);
  } catch {
    throw new UsageError(`--schedule ${text}: now, manual, or an ISO 8601 time with offset${recurring ? ', or a recurring plan as JSON' : ''}`);
  }
}

async function passphraseOf(args: ParsedArgs): Promise<string | undefined> {
  const file = stringOption(args, 'passphrase-file');
  if (file !== undefined) return (await readFile(file, 'utf8')).split(/\r?\n/)[0];
  return stringOption(args, 'passphrase');
}

async function latestPoint(client: OperatorClient, setId: string): Promise<string> {
  const points = (await client.getSet(setId)).points ?? [];
  const newest = points[points.length - 1];
  if (newest === undefined) throw new RecoveryError('not-found', `set ${setId} has no committed restore point`);
  return newest.pointId;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
