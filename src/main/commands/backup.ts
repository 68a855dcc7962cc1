/**
 * `lifeline backup`: image disks (image files or block devices) into a restore point on a Lifeline
 * server. The engine is app/backup/take-backup.ts; this file turns the command line into a request.
 *
 * Snapshots (docs/vss-agent.md): on Windows, disks (`\\.\PhysicalDriveN`) are read from a VSS
 * snapshot set taken with ASR semantics, as a copy backup unless `--backup-kind full`;
 * `--no-snapshot` reads them live. Image files, and every source on Linux, are read as they are,
 * and the restore point records that no snapshot was taken and why.
 */
import { hostname as osHostname } from 'node:os';
import { connectBackupServer } from '../../adapters/node/http-backup-server.ts';
import { systemClock } from '../../adapters/node/system-clock.ts';
import { DEFAULT_BACKUP_OPTIONS, checkBackupOptions, MAX_CHANNELS, MIN_CHANNELS } from '../../app/backup/options.ts';
import { parseRateLimits } from '../../app/backup/rate-limit-text.ts';
import { takeBackup, type BackupResult, type BackupSource } from '../../app/backup/take-backup.ts';
import type { BackupObserver, BackupProgress } from '../../app/backup/observer.ts';
import { BLOCK_SIZES, type Firmware } from '../../core/backup/manifest.ts';
import type { RateSchedule } from '../../core/backup/rate-window.ts';
import { isRecoveryError } from '../../core/errors.ts';
import type { BackupJobOptions } from '../../core/protocol/jobs.ts';
import { formatBytes } from '../../core/units.ts';
import type { BackupServer } from '../../ports/backup-server.ts';
import type { BlockDevice, OpenOptions } from '../../ports/block-device.ts';
import type { Clock } from '../../ports/clock.ts';
import type { BackupKind, VolumeSnapshotter } from '../../ports/volume-snapshot.ts';
import { NodeSetKeys } from '../../adapters/node/set-keys.ts';
import { booleanOption, integerOption, requiredString, stringOption, toJson, UsageError } from '../cli-kit.ts';
import type { Command, CommandIo, ParsedArgs } from '../cli-kit.ts';
import { chooseSnapshot, hostFirmware, makeSnapshotter, openDisk, sourceKinds, type SnapshotChoice, type SourceKind } from '../platform.ts';
import { passphraseFromFile } from './passphrase-file.ts';

/** What the command needs from the outside world; tests pass their own. */
export interface BackupCommandDeps {
  connect(options: { url: string; accessKey?: string; fingerprint?: string }): BackupServer & { close?(): Promise<void> };
  openDisk(path: string, options: OpenOptions): Promise<BlockDevice>;
  readonly clock: Clock;
  readonly env: Readonly<Record<string, string | undefined>>;
  hostname(): string;
  /** The firmware this machine booted with, for block-device sources (default: platform.ts). */
  hostFirmware(): Firmware | 'unknown' | Promise<Firmware | 'unknown'>;
  /** The snapshotter for a choice (default: platform.ts — VSS on Windows, none elsewhere). */
  snapshotter?(choice: SnapshotChoice): Promise<VolumeSnapshotter>;
  /** process.platform unless a test says otherwise. */
  readonly platform?: string;
}

const PROGRESS_EVERY_MS = 5000;

const defaultDeps: BackupCommandDeps = {
  connect: (options) => connectBackupServer(options),
  openDisk,
  clock: systemClock,
  env: process.env,
  hostname: () => osHostname(),
  hostFirmware: () => hostFirmware(),
};

const offeredBlockSizes = BLOCK_SIZES.map(sizeText).join(', ');

export function makeBackupCommand(deps: BackupCommandDeps): Command {
  return {
    path: ['backup'],
    summary: 'Image disks (image files or block devices) into a restore point on a Lifeline server.',
    options: {
      server: { type: 'string', valueName: 'URL', description: 'The server, e.g. http://backup:50305 or https://backup:60305 (required).' },
      'access-key': { type: 'string', valueName: 'KEY', description: "The tenant's access key (multi-tenant servers)." },
      fingerprint: { type: 'string', valueName: 'SHA256', description: "Trust the server's self-signed certificate with this SHA-256 fingerprint." },
      source: { type: 'string', multiple: true, valueName: 'PATH', description: 'A disk to image: an image file or a block device (required). Disks are numbered 0, 1, … in order.' },
      resource: { type: 'string', valueName: 'NAME', description: 'The resource (machine) the backup set belongs to (required).' },
      hostname: { type: 'string', valueName: 'NAME', description: "Source hostname recorded in the restore point. Default: this machine's." },
      firmware: { type: 'string', valueName: 'bios|uefi', description: 'How the imaged system boots; required for image files (block devices default to this machine\'s).' },
      compression: { type: 'string', valueName: 'fast|none', description: 'fast = lz4 (default), none = store as read.' },
      channels: { type: 'string', valueName: 'N', description: `Parallel uploads, ${MIN_CHANNELS}–${MAX_CHANNELS}. Default ${DEFAULT_BACKUP_OPTIONS.channels}.` },
      'block-size': { type: 'string', valueName: 'SIZE', description: `Read block and chunk size: ${offeredBlockSizes}. Default ${sizeText(DEFAULT_BACKUP_OPTIONS.blockSize)}.` },
      'all-blocks': { type: 'boolean', description: 'Read every block of every partition, not only the blocks the filesystem uses.' },
      'transfer-limit': { type: 'string', multiple: true, valueName: 'RATE', description: 'Limit upload speed: "10 MiB/s", or "2 MiB/s mon-fri 08:00-18:00" for a window.' },
      'read-limit': { type: 'string', multiple: true, valueName: 'RATE', description: 'Limit disk read speed, written like --transfer-limit.' },
      'utc-offset': { type: 'string', valueName: 'MINUTES', description: 'Minutes east of UTC the rate windows are written in. Default: this machine\'s offset.' },
      'reconnect-minutes': { type: 'string', valueName: 'N', description: `How long lost connections are retried, 1–60 minutes. Default ${DEFAULT_BACKUP_OPTIONS.reconnectWindowMinutes}.` },
      'passphrase-file': { type: 'string', valueName: 'FILE', description: 'Encrypt with the passphrase in FILE (its first line). Else LIFELINE_PASSPHRASE, if set.' },
      'sector-size': { type: 'string', valueName: '512|4096', description: 'Logical sector size image files stand for. Default 512.' },
      'no-snapshot': { type: 'boolean', description: 'Windows: read the disks live instead of from a VSS snapshot (no consistency, writers are not involved).' },
      'backup-kind': { type: 'string', valueName: 'copy|full', description: 'Windows: the VSS backup type. copy (default) leaves every backup history as it is; full lets writers record the backup (SQL Server, Exchange log truncation).' },
      json: { type: 'boolean', description: 'Print the result as JSON.' },
    },
    details: [
      'Only the blocks the NTFS or FAT filesystems use are read, plus the partition tables and every byte',
      'outside partitions; blocks of zeros are recorded, not sent. Chunks the server already holds are not',
      'sent again. The restore point exists only once its manifest is committed: an interrupted backup',
      'leaves none, and running the same command again sends only what is still missing.',
      'An encrypted set keeps the passphrase it was created with; a wrong one is refused before any upload.',
      'On Windows, disks are read from a VSS snapshot (ASR writer, critical volumes; the EFI system partition',
      'is read live) as a copy backup that leaves other products\' backup history alone; --backup-kind full',
      'updates it, --no-snapshot reads the disks live. The restore point records which was done.',
    ].join('\n'),
    run: (args, io) => runBackup(deps, args, io),
  };
}

export const backup: Command = makeBackupCommand(defaultDeps);

async function runBackup(deps: BackupCommandDeps, args: ParsedArgs, io: CommandIo): Promise<number> {
  if (args.positionals.length > 0) throw new UsageError(`unexpected argument "${args.positionals[0]}": give disks with --source`);
  const url = requiredString(args, 'server');
  const resource = requiredString(args, 'resource');
  const paths = listOption(args, 'source');
  if (paths.length === 0) throw new UsageError('--source is required (repeat it for several disks)');
  const options = optionsOf(args, deps);
  const sectorSize = sectorSizeOf(args);
  const passphrase = await passphraseOf(args, deps.env);
  const firmwareText = stringOption(args, 'firmware');
  if (firmwareText !== undefined && firmwareText !== 'bios' && firmwareText !== 'uefi') throw new UsageError(`--firmware must be bios or uefi, not "${firmwareText}"`);
  const kinds = await sourceKinds(paths);
  if (firmwareText === undefined && kinds.includes('image')) throw new UsageError('--firmware bios|uefi is required for image files: an image does not say how its system boots');
  const firmware = (firmwareText as Firmware | undefined) ?? await deps.hostFirmware();
  if (firmware === 'unknown') throw new UsageError('this machine\'s firmware could not be detected: give --firmware bios|uefi');
  const hostname = stringOption(args, 'hostname') ?? deps.hostname();
  const backupKind = backupKindOf(args);
  const choice = snapshotChoiceOf(deps.platform ?? process.platform, booleanOption(args, 'no-snapshot'), kinds);
  if (choice.kind === 'none' && stringOption(args, 'backup-kind') !== undefined) {
    io.err(`note: --backup-kind ${backupKind} has no effect: no VSS snapshot is taken (${choice.reason})`);
  }

  const sources: BackupSource[] = [];
  const server = deps.connect({
    url,
    ...(stringOption(args, 'access-key') ? { accessKey: stringOption(args, 'access-key') as string } : {}),
    ...(stringOption(args, 'fingerprint') ? { fingerprint: stringOption(args, 'fingerprint') as string } : {}),
  });
  try {
    for (const [i, path] of paths.entries()) {
      sources.push({ device: await deps.openDisk(path, { writable: false, ...(kinds[i] === 'image' ? { logicalSectorSize: sectorSize } : {}) }), number: i });
    }
    await server.register({
      machineId: `lifeline-backup:${hostname}`,
      hostname,
      inventory: {
        firmware,
        disks: sources.map((s) => ({
          path: s.device.path, sizeBytes: s.device.geometry.sizeBytes.toString(),
          logicalSectorSize: s.device.geometry.logicalSectorSize, physicalSectorSize: s.device.geometry.physicalSectorSize, protected: false,
        })),
        nics: [],
      },
    });
    const snapshotter = await (deps.snapshotter ?? makeSnapshotter)(choice);
    const result = await takeBackup(server, new NodeSetKeys(), {
      sources, resource, hostname, firmware, options, clock: deps.clock, snapshotter, backupKind,
      ...(passphrase === undefined ? {} : { passphrase }),
    }, consoleObserver(io, deps.clock));
    io.out(booleanOption(args, 'json') ? toJson(summaryOf(result)) : renderResult(result));
    return 0;
  } finally {
    for (const s of sources) await s.device.close();
    await server.close?.();
  }
}

/** The shared choice (platform.ts); a mix of disks and image files is a usage error here. */
function snapshotChoiceOf(platform: string, noSnapshot: boolean, kinds: readonly SourceKind[]): SnapshotChoice {
  try {
    return chooseSnapshot(platform, noSnapshot, kinds);
  } catch (e) {
    if (isRecoveryError(e) && e.code === 'snapshot.mixed-sources') throw new UsageError(e.message);
    throw e;
  }
}

function listOption(args: ParsedArgs, name: string): string[] {
  const value = args.values[name];
  return Array.isArray(value) ? value : typeof value === 'string' ? [value] : [];
}

function optionsOf(args: ParsedArgs, deps: BackupCommandDeps): BackupJobOptions {
  const compression = stringOption(args, 'compression') ?? DEFAULT_BACKUP_OPTIONS.compression;
  if (compression !== 'fast' && compression !== 'none') throw new UsageError(`--compression must be fast or none, not "${compression}"`);
  const channels = integerOption(args, 'channels', { min: MIN_CHANNELS, max: MAX_CHANNELS }) ?? DEFAULT_BACKUP_OPTIONS.channels;
  const blockSizeText = stringOption(args, 'block-size');
  const blockSize = blockSizeText === undefined ? DEFAULT_BACKUP_OPTIONS.blockSize : parseSize(blockSizeText);
  const utcOffsetText = stringOption(args, 'utc-offset');
  if (utcOffsetText !== undefined && !/^[+-]?\d+$/.test(utcOffsetText)) throw new UsageError(`--utc-offset must be whole minutes, like 480 or -300, not "${utcOffsetText}"`);
  const utcOffsetMinutes = utcOffsetText === undefined ? -new Date(deps.clock.now()).getTimezoneOffset() : Number(utcOffsetText);
  const transferLimit = rateOption(args, 'transfer-limit');
  const readLimit = rateOption(args, 'read-limit');
  const options: BackupJobOptions = {
    ...DEFAULT_BACKUP_OPTIONS,
    compression,
    channels,
    blockSize,
    onlyUsedBlocks: !booleanOption(args, 'all-blocks'),
    reconnectWindowMinutes: integerOption(args, 'reconnect-minutes', { min: 1, max: 60 }) ?? DEFAULT_BACKUP_OPTIONS.reconnectWindowMinutes,
    utcOffsetMinutes,
    ...(transferLimit ? { transferLimit } : {}),
    ...(readLimit ? { readLimit } : {}),
  };
  try {
    return checkBackupOptions(options);
  } catch (e) {
    if (isRecoveryError(e) && e.code === 'backup.bad-option') throw new UsageError(e.message);
    throw e;
  }
}

function rateOption(args: ParsedArgs, name: string): RateSchedule | undefined {
  try {
    return parseRateLimits(listOption(args, name));
  } catch (e) {
    if (isRecoveryError(e) && e.code === 'rate.invalid') throw new UsageError(`--${name}: ${e.message}`);
    throw e;
  }
}

/** "256KiB", "1 MiB", "65536" → bytes. */
function parseSize(text: string): number {
  const m = /^\s*(\d+)\s*(KiB|MiB|K|M)?\s*$/i.exec(text);
  if (!m?.[1]) throw new UsageError(`--block-size must be one of ${offeredBlockSizes}, not "${text}"`);
  const unit = (m[2] ?? '').toLowerCase().startsWith('m') ? 1024 * 1024 : m[2] ? 1024 : 1;
  const bytes = Number(m[1]) * unit;
  if (!BLOCK_SIZES.includes(bytes)) throw new UsageError(`--block-size must be one of ${offeredBlockSizes}, not "${text}"`);
  return bytes;
}

function sizeText(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${bytes / 1024 / 1024} MiB` : `${bytes / 1024} KiB`;
}

function backupKindOf(args: ParsedArgs): BackupKind {
  const kind = stringOption(args, 'backup-kind') ?? 'copy';
  if (kind !== 'copy' && kind !== 'full') throw new UsageError(`--backup-kind must be copy or full, not "${kind}"`);
  return kind;
}

function sectorSizeOf(args: ParsedArgs): 512 | 4096 {
  const size = integerOption(args, 'sector-size', { min: 512, max: 4096 }) ?? 512;
  if (size !== 512 && size !== 4096) throw new UsageError('--sector-size must be 512 or 4096');
  return size;
}

/** The first line of --passphrase-file, else LIFELINE_PASSPHRASE when set and not empty. */
async function passphraseOf(args: ParsedArgs, env: BackupCommandDeps['env']): Promise<string | undefined> {
  return (await passphraseFromFile(args)) ?? (env.LIFELINE_PASSPHRASE === undefined || env.LIFELINE_PASSPHRASE === '' ? undefined : env.LIFELINE_PASSPHRASE);
}

function consoleObserver(io: CommandIo, clock: Clock): BackupObserver {
  let lastAt = -Infinity;
  return {
    notice: (n) => io.err(`${n.level === 'warning' ? 'warning' : 'note'} [${n.code}]: ${n.message}`),
    progress: (p: BackupProgress) => {
      const now = clock.now();
      if (p.stage === 'transferring' && now - lastAt < PROGRESS_EVERY_MS) return;
      if (p.stage !== 'transferring' && p.stage !== 'committing') return;
      lastAt = now;
      const percent = p.bytesTotal > 0n ? Number((p.bytesRead * 1000n) / p.bytesTotal) / 10 : 100;
      io.err(`${p.stage}: ${formatBytes(p.bytesRead)} of ${formatBytes(p.bytesTotal)} read (${percent}%), ${formatBytes(p.bytesUploaded)} sent in ${p.chunksUploaded} chunks`);
    },
  };
}

function summaryOf(r: BackupResult): Record<string, unknown> {
  return {
    setId: r.setId, pointId: r.pointId, sequence: r.sequence,
    bytesRead: r.bytesRead, bytesUploaded: r.bytesUploaded, zeroBytes: r.zeroBytes,
    chunksTotal: r.chunksTotal, chunksUploaded: r.chunksUploaded,
    encrypted: r.manifest.options.encrypted,
    disks: r.manifest.disks.map((d) => ({ number: d.number, style: d.style, partitions: d.layout.partitions.length, extents: d.extents.length })),
    ...(r.manifest.vss === undefined ? {} : { snapshot: snapshotSummary(r) }),
  };
}

function snapshotSummary(r: BackupResult): Record<string, unknown> {
  const v = r.manifest.vss!;
  if (v.method === 'none') return { method: 'none', reason: v.reason };
  return {
    method: 'vss', kind: v.kind, snapshotSetId: v.snapshotSetId,
    snapshots: v.snapshots.map((x) => ({ disk: x.disk, partition: x.partition })),
    liveReads: v.liveReads.map((x) => ({ disk: x.disk, partition: x.partition, reason: x.reason })),
    warnings: v.warnings.length,
  };
}

function snapshotLine(r: BackupResult): string[] {
  const v = r.manifest.vss;
  if (v === undefined) return [];
  if (v.method === 'none') return [`No snapshot (${v.reason}): ${v.message}.`];
  const live = v.liveReads.map((x) => `${x.disk}:${x.partition} ${x.reason}`).join(', ');
  return [`VSS ${v.kind} backup, snapshot set ${v.snapshotSetId}: ${v.snapshots.length} partitions from the snapshot${live === '' ? '' : `, read live: ${live}`}.`];
}

function renderResult(r: BackupResult): string {
  return [
    `Restore point ${r.sequence} of backup set ${r.setId} committed (point ${r.pointId}).`,
    `Read ${formatBytes(r.bytesRead)} (${formatBytes(r.zeroBytes)} of zeros, not stored).`,
    `Sent ${formatBytes(r.bytesUploaded)} in ${r.chunksUploaded} of ${r.chunksTotal} chunks; the server held the rest.`,
    ...r.manifest.disks.map((d) => `Disk ${d.number}: ${d.style.toUpperCase()}, ${d.layout.partitions.length} partitions (${d.layout.partitions.map((p) => `${p.number} ${p.filesystem}`).join(', ') || 'none'}).`),
    ...snapshotLine(r),
  ].join('\n');
}
