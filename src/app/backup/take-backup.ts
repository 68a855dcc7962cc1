/**
 * The backup use case (DESIGN flow 4): image the source disks into one restore point of the
 * resource's backup set.
 *
 *   open the set (keys)  →  survey each disk (table, partitions, used-block maps)  →  plan the reads
 *   →  begin a point  →  read each piece: all zero → zero extent, else a chunk (ChunkSink: held by
 *   the server? else encode + upload on `channels` puts)  →  commit the manifest
 *
 * With a snapshotter (VSS on Windows) the table is read first, from the live disk; then the
 * snapshot is taken and everything from the partition survey to the last upload runs inside it:
 * each partition's metadata (NTFS $Bitmap, FAT) and used blocks are read from its frozen volume,
 * the bytes outside partitions (MBR, GPT, gaps) and partitions the snapshot does not cover (the EFI
 * system partition, MSR) from the live disk (snapshot-reads.ts). The uploads finish before the
 * snapshotter is told the copy succeeded, so writers hear "backup complete" only once the data is
 * stored; the snapshotter's record (kind, snapshot ids, restore methods) goes into the manifest's
 * `vss` field, and its two XML documents are stored as chunks the manifest references.
 *
 * The point becomes visible only when `commitPoint` succeeds, after every chunk is stored, so an
 * interrupted backup leaves nothing restorable; running it again uploads only what the server
 * still lacks (the server reports the chunks it holds, see chunk-stats.ts). Reads and uploads follow
 * the job's rate windows on the injected clock; retryable server failures are retried within the
 * reconnect window.
 */
import { encodeManifest, MANIFEST_FORMAT_VERSION } from '../../core/backup/manifest.ts';
import type {
  BackupManifest, ChunkedDocument, DataExtent, Firmware, ManifestDisk, ManifestExtent, ManifestVss, TableSectorRun,
} from '../../core/backup/manifest.ts';
import { splitExtents } from '../../core/blockmap/extents.ts';
import { isRecoveryError, RecoveryError } from '../../core/errors.ts';
import type { BackupJobOptions } from '../../core/protocol/jobs.ts';
import type { BackupKind } from '../../core/vss/backup-schema.ts';
import { encodeDocument } from '../../core/vss/document-bytes.ts';
import type { WriterRestoreRecord } from '../../core/vss/restore-methods.ts';
import type { BackupServer } from '../../ports/backup-server.ts';
import type { BlockDevice } from '../../ports/block-device.ts';
import type { Clock } from '../../ports/clock.ts';
import type { SetKeys } from '../../ports/set-keys.ts';
import type { SnapshotRecord, SnapshotRequest, SnapshotView, VolumeSnapshotter } from '../../ports/volume-snapshot.ts';
import { openBackupSet } from './backup-set.ts';
import { ChunkSink } from './chunk-sink.ts';
import { combineSurvey, manifestPartition, readDiskTable, surveyPartitions, type DiskReader, type DiskSurvey, type DiskTable } from './disk-survey.ts';
import type { BackupNotice, BackupObserver, BackupStage } from './observer.ts';
import { checkBackupOptions } from './options.ts';
import { RateLimiter } from './rate-limiter.ts';
import { withRetry } from './retry.ts';
import { routeDisk, type PartitionRoute } from './snapshot-reads.ts';
import { planSourceReads, type SourcePlan } from './source-plan.ts';
import { isAllZero } from './zero.ts';

export type { BackupObserver } from './observer.ts';

export interface BackupSource { readonly device: BlockDevice; readonly number: number }

export interface BackupRequest {
  readonly sources: readonly BackupSource[];
  readonly resource: string;
  readonly hostname: string;
  readonly firmware: Firmware;
  readonly options: BackupJobOptions;
  readonly passphrase?: string;
  readonly now?: () => Date;
  /** Paces rate limits and retry backoff. Without one, rate limits are refused and failures are not retried. */
  readonly clock?: Clock;
  /**
   * Freezes the partitions while they are read (VSS on Windows, docs/vss-agent.md). Without one the
   * disks are read live and the manifest has no `vss` record; with one, its record becomes `vss`.
   */
  readonly snapshotter?: VolumeSnapshotter;
  /** VSS_BT_FULL or VSS_BT_COPY, for the snapshotter; default copy (docs/vss-agent.md says why). */
  readonly backupKind?: BackupKind;
}

export interface BackupResult {
  readonly setId: string;
  readonly pointId: string;
  readonly sequence: number;
  readonly manifest: BackupManifest;
  /** Bytes read from the sources (table sectors, gaps, used blocks). */
  readonly bytesRead: bigint;
  /** Stored (compressed, encrypted) bytes sent to the server. */
  readonly bytesUploaded: bigint;
  /** Distinct chunks the manifest references. */
  readonly chunksTotal: number;
  readonly chunksUploaded: number;
  /** Bytes recorded as zero extents (read, not stored). */
  readonly zeroBytes: bigint;
  /** Highest plaintext + blob bytes held at once. */
  readonly peakBufferedBytes: number;
}

interface PlannedDisk {
  readonly source: BackupSource;
  readonly survey: DiskSurvey;
  readonly plan: SourcePlan;
  /** The disk, or the disk with its partitions frozen. */
  readonly reader: DiskReader;
}

/** A manifest entry whose chunk stat is known only once every upload finished. */
type PendingExtent =
  | { readonly kind: 'zero'; readonly diskOffset: bigint; readonly length: bigint }
  | { readonly kind: 'data'; readonly diskOffset: bigint; readonly length: bigint; readonly chunkId: string };

export async function takeBackup(server: BackupServer, keys: SetKeys, request: BackupRequest, observer: BackupObserver = {}): Promise<BackupResult> {
  const options = checkBackupOptions(request.options);
  checkRequest(request);
  const clock = request.clock;
  const notice = (n: BackupNotice): void => observer.notice?.(n);
  const call = <T>(what: string, f: () => Promise<T>): Promise<T> => withRetry({
    windowMs: options.reconnectWindowMinutes * 60_000,
    ...(clock ? { clock } : {}),
    onRetry: (_what, error, attempt, delayMs) => notice({
      level: 'warning', code: 'backup.retrying',
      message: `could not ${what} (${error.message}); retry ${attempt} in ${Math.ceil(delayMs / 1000)} s`,
      data: { attempt, delayMs },
    }),
  }, what, f);

  const counters = { stage: 'opening-set' as BackupStage, disk: undefined as number | undefined, bytesRead: 0n, bytesTotal: 0n, zeroBytes: 0n };
  // The sink exists once the set is open; progress before that reports no chunks.
  const live: { sink?: ChunkSink } = {};
  const report = (): void => observer.progress?.({
    stage: counters.stage,
    ...(counters.disk === undefined ? {} : { disk: counters.disk }),
    bytesRead: counters.bytesRead,
    bytesTotal: counters.bytesTotal,
    bytesUploaded: live.sink?.bytesUploaded ?? 0n,
    zeroBytes: counters.zeroBytes,
    chunksTotal: live.sink?.chunkCount ?? 0,
    chunksUploaded: live.sink?.chunksUploaded ?? 0,
    bufferedBytes: live.sink?.bufferedBytes ?? 0,
  });
  const stage = (s: BackupStage): void => {
    counters.stage = s;
    report();
  };

  stage('opening-set');
  const opened = await openBackupSet(server, keys, {
    resource: request.resource, compression: options.compression, blockSize: options.blockSize,
    ...(request.passphrase === undefined ? {} : { passphrase: request.passphrase }),
  }, call);
  const codecName = options.compression === 'fast' ? 'lz4' : 'none';
  if (opened.set.blockSize !== options.blockSize || opened.set.codec !== codecName) {
    notice({
      level: 'info', code: 'backup.set-options-differ',
      message: `the set was created with block size ${opened.set.blockSize} and codec ${opened.set.codec}; this point uses ${options.blockSize} and ${codecName}, so unchanged data dedups less against earlier points`,
      data: { setBlockSize: opened.set.blockSize, setCodec: opened.set.codec },
    });
  }

  stage('surveying');
  const tables: DiskTable[] = [];
  for (const source of request.sources) {
    const table = await readDiskTable(source.device, source.number);
    table.notices.forEach(notice);
    tables.push(table);
  }

  const burst = options.blockSize;
  const readLimit = options.readLimit && clock ? new RateLimiter(options.readLimit, clock, options.utcOffsetMinutes, burst) : undefined;
  const transferLimit = options.transferLimit && clock ? new RateLimiter(options.transferLimit, clock, options.utcOffsetMinutes, burst) : undefined;
  const read = async (device: DiskReader, offset: bigint, length: number): Promise<Uint8Array> => {
    await readLimit?.take(length);
    const data = await device.read(offset, length);
    counters.bytesRead += BigInt(length);
    return data;
  };
  const nowDate = request.now ?? (() => new Date(clock ? clock.now() : Date.now()));

  /** Everything that reads partitions: survey, plan, point, transfer, uploads finished. */
  const copy = async (view: SnapshotView | undefined) => {
    const disks: PlannedDisk[] = [];
    const routes: PartitionRoute[] = [];
    for (const [i, source] of request.sources.entries()) {
      const table = tables[i]!;
      let reader: DiskReader = source.device;
      if (view !== undefined) {
        const routed = routeDisk(source.device, source.number, table, view, notice);
        reader = routed.reader;
        routes.push(...routed.routes);
      }
      const parts = await surveyPartitions(reader, source.number, table);
      parts.notices.forEach(notice);
      const survey = combineSurvey(table, parts);
      const plan = planSourceReads({
        geometry: source.device.geometry,
        tableSectors: survey.tableSectors,
        partitions: survey.partitions.map((p) => ({
          number: p.summary.number, startLba: p.summary.startLba, sectorCount: p.summary.sectorCount, used: p.map.extents,
        })),
        blockSize: options.blockSize,
        onlyUsedBlocks: options.onlyUsedBlocks,
      });
      disks.push({ source, survey, plan, reader });
      counters.bytesTotal += plan.totalBytes + plan.tableBytes;
    }

    const point = await call('begin a restore point', () => server.beginPoint(opened.set.setId));
    const sink = new ChunkSink({
      server, codec: opened.codec, channels: options.channels, call, onChange: report,
      ...(transferLimit ? { transferLimit } : {}),
    });
    live.sink = sink;

    stage('transferring');
    const pending: { tables: { lba: bigint; count: number; chunks: { id: string; length: number }[] }[]; extents: PendingExtent[] }[] = [];
    try {
      for (const { source, survey, plan, reader } of disks) {
        counters.disk = source.number;
        const sector = BigInt(source.device.geometry.logicalSectorSize);
        const tableRuns = [];
        // Partition tables always come from the live disk: they are outside every volume.
        for (const run of survey.tableSectors) {
          const chunks = [];
          for (const piece of splitExtents([{ start: run.lba * sector, length: BigInt(run.count) * sector }], BigInt(options.blockSize))) {
            const data = await read(source.device, piece.start, Number(piece.length));
            chunks.push({ id: await sink.add(data), length: data.length });
          }
          tableRuns.push({ lba: run.lba, count: run.count, chunks });
        }
        const extents: PendingExtent[] = [];
        for (const piece of plan.pieces) {
          const data = await read(reader, piece.start, Number(piece.length));
          if (isAllZero(data)) {
            counters.zeroBytes += piece.length;
            extents.push({ kind: 'zero', diskOffset: piece.start, length: piece.length });
          } else {
            extents.push({ kind: 'data', diskOffset: piece.start, length: piece.length, chunkId: await sink.add(data) });
          }
          report();
        }
        pending.push({ tables: tableRuns, extents });
      }
      counters.disk = undefined;
      await sink.finish();
    } catch (e) {
      await sink.settle();
      throw e;
    }
    return { disks, pending, point, sink, routes };
  };

  let copied: Awaited<ReturnType<typeof copy>>;
  let vss: ManifestVss | undefined;
  if (request.snapshotter === undefined) {
    copied = await copy(undefined);
  } else {
    let takenAt = '';
    const outcome = await request.snapshotter.run(snapshotRequest(request, tables), (view) => {
      takenAt = nowDate().toISOString();
      return copy(view);
    });
    copied = outcome.value;
    vss = await vssRecord(outcome.record, takenAt, copied.routes, copied.sink, options.blockSize, notice);
  }
  const { disks, pending, point, sink } = copied;

  const manifestDisks: ManifestDisk[] = disks.map(({ source, survey }, i) => {
    const p = pending[i]!;
    const tableSectors: TableSectorRun[] = p.tables.map((t) => ({
      lba: t.lba, count: t.count, chunks: t.chunks.map((c) => ({ ...sink.refOf(c.id), length: c.length })),
    }));
    return {
      number: source.number,
      style: survey.style,
      identity: survey.identity,
      geometry: source.device.geometry,
      tableSectors,
      layout: { partitions: survey.partitions.map(manifestPartition), ...layoutExtra(survey) },
      extents: mergeZeroExtents(p.extents.map((e): ManifestExtent => (e.kind === 'zero' ? e : dataExtent(e, sink)))),
    };
  });
  const manifest: BackupManifest = {
    formatVersion: MANIFEST_FORMAT_VERSION,
    setId: opened.set.setId,
    pointSequence: point.sequence,
    createdAt: nowDate().toISOString(),
    source: { hostname: request.hostname, firmware: request.firmware },
    options: { codec: codecName, blockSize: options.blockSize, encrypted: opened.encryption !== undefined, onlyUsedBlocks: options.onlyUsedBlocks },
    ...(opened.encryption ? { encryption: opened.encryption } : {}),
    disks: manifestDisks,
    ...(vss === undefined ? {} : { vss }),
  };
  // Refuse to send a manifest that would not validate: the error names the field.
  encodeManifest(manifest);

  stage('committing');
  await commit(server, point.pointId, manifest, call);
  stage('done');
  return {
    setId: opened.set.setId,
    pointId: point.pointId,
    sequence: point.sequence,
    manifest,
    bytesRead: counters.bytesRead,
    bytesUploaded: sink.bytesUploaded,
    chunksTotal: sink.chunkCount,
    chunksUploaded: sink.chunksUploaded,
    zeroBytes: counters.zeroBytes,
    peakBufferedBytes: sink.peakBufferedBytes,
  };
}

function checkRequest(request: BackupRequest): void {
  const bad = (message: string, data: Record<string, unknown> = {}): never => {
    throw new RecoveryError('backup.bad-request', message, { data });
  };
  if (request.sources.length === 0) bad('there is nothing to back up: give at least one source disk');
  const numbers = new Set<number>();
  for (const s of request.sources) {
    if (!Number.isInteger(s.number) || s.number < 0 || s.number > 1_000_000) bad(`source disk number ${s.number} is not a whole number from 0 to 1000000`);
    if (numbers.has(s.number)) bad(`source disk number ${s.number} is given twice`, { number: s.number });
    numbers.add(s.number);
  }
  if (request.resource.trim() === '') bad('the resource name is empty');
  if (!/^[^\p{Cc}]{1,255}$/u.test(request.hostname)) bad('the hostname must be 1–255 characters without control characters');
  if (request.firmware !== 'bios' && request.firmware !== 'uefi') bad(`firmware must be "bios" or "uefi", not "${String(request.firmware)}"`);
  if (!request.clock && (request.options.transferLimit || request.options.readLimit)) {
    throw new RecoveryError('backup.bad-option', 'rate limits need a clock to pace themselves', { data: { option: 'clock' } });
  }
}

/** What the snapshotter is asked to freeze: every partition of every source, from the live tables. */
function snapshotRequest(request: BackupRequest, tables: readonly DiskTable[]): SnapshotRequest {
  return {
    kind: request.backupKind ?? 'copy',
    disks: request.sources.map((source, i) => {
      const sector = BigInt(source.device.geometry.logicalSectorSize);
      return {
        number: source.number,
        device: source.device,
        partitions: tables[i]!.summaries.map((p) => ({
          number: p.number,
          offsetBytes: p.startLba * sector,
          lengthBytes: p.sectorCount * sector,
          type: p.type.toLowerCase(),
          ...(p.uniqueGuid === undefined ? {} : { uniqueGuid: p.uniqueGuid.toLowerCase() }),
          bootable: p.bootable,
        })),
      };
    }),
  };
}

/** Text a manifest accepts: no control characters (a writer's message may hold line breaks), bounded. */
function manifestText(text: string, max: number): string {
  const flat = text.replace(/[\u0000-\u001f\u007f]+/g, ' ');
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

const lowerGuids = (text: string): string => text.replace(/[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}/g, (g) => g.toLowerCase());
const MAX_WARNINGS = 1000;

/**
 * The manifest's `vss` from the snapshotter's record: the XML documents go to the server as chunks
 * (cut like disk data, so an unchanged document dedups with the last point's), texts are made
 * manifest-safe, and the partitions read live are listed with their reasons.
 */
async function vssRecord(
  record: SnapshotRecord, takenAt: string, routes: readonly PartitionRoute[], sink: ChunkSink, blockSize: number, notice: (n: BackupNotice) => void,
): Promise<ManifestVss> {
  if (record.method === 'none') {
    notice({
      level: record.reason === 'not-volumes' ? 'info' : 'warning', code: 'backup.no-snapshot',
      message: `no snapshot was taken (${record.reason}): ${record.message}`, data: { reason: record.reason },
    });
    return { method: 'none', reason: record.reason, message: manifestText(record.message, 2000) };
  }
  const byDiskPartition = (a: { disk: number; partition: number }, b: { disk: number; partition: number }): number => a.disk - b.disk || a.partition - b.partition;
  const frozen = new Set(routes.filter((r) => r.from === 'snapshot').map((r) => `${r.disk}:${r.partition}`));
  const snapshots = record.snapshots
    .filter((x) => frozen.has(`${x.disk}:${x.partition}`))
    .map((x) => ({ disk: x.disk, partition: x.partition, volume: lowerGuids(x.volume), snapshotId: x.snapshotId.toLowerCase() }))
    .sort(byDiskPartition);
  const liveReads = routes.flatMap((r) => (r.from === 'live' ? [{ disk: r.disk, partition: r.partition, reason: r.reason }] : [])).sort(byDiskPartition);
  for (const w of record.warnings) notice({ level: 'warning', code: 'vss.warning', message: w });
  notice({
    level: 'info', code: 'backup.snapshot',
    message: `${snapshots.length} partitions were read from VSS snapshot set ${record.snapshotSetId.toLowerCase()} (${record.kind} backup), ${liveReads.length} from the live disk`,
    data: { snapshotSetId: record.snapshotSetId.toLowerCase(), kind: record.kind, snapshots: snapshots.length, liveReads: liveReads.length },
  });

  const store = async (xml: string): Promise<{ length: number; pieces: { id: string; length: number }[] }> => {
    const bytes = encodeDocument(xml);
    const pieces = [];
    for (let at = 0; at < bytes.length; at += blockSize) {
      const piece = bytes.subarray(at, at + blockSize);
      pieces.push({ id: await sink.add(piece), length: piece.length });
    }
    return { length: bytes.length, pieces };
  };
  let asr: Awaited<ReturnType<typeof store>>;
  let components: Awaited<ReturnType<typeof store>>;
  try {
    asr = await store(record.asrMetadataXml);
    components = await store(record.backupComponentsXml);
    await sink.finish();
  } catch (e) {
    await sink.settle();
    throw e;
  }
  const document = (d: typeof asr): ChunkedDocument => ({ length: d.length, chunks: d.pieces.map((c) => ({ ...sink.refOf(c.id), length: c.length })) });
  const restoreRecord = (w: WriterRestoreRecord): WriterRestoreRecord => ({
    writerId: w.writerId.toLowerCase(),
    instanceId: w.instanceId.toLowerCase(),
    writerName: manifestText(w.writerName, 1024),
    method: w.method,
    methodValue: w.methodValue,
    service: manifestText(w.service, 1024),
    userProcedure: manifestText(w.userProcedure, 4096),
    writerRestore: w.writerRestore,
    rebootRequired: w.rebootRequired,
    alternateLocationMappings: w.alternateLocationMappings,
    steps: w.steps.slice(0, 100).map((t) => manifestText(t, 2000)),
    problems: w.problems.slice(0, 100).map((t) => manifestText(t, 2000)),
  });
  const warnings = record.warnings.map((w) => manifestText(w, 2000));
  return {
    method: 'vss',
    kind: record.kind,
    snapshotSetId: record.snapshotSetId.toLowerCase(),
    takenAt,
    snapshots,
    liveReads,
    asrMetadata: document(asr),
    backupComponents: document(components),
    restoreMethods: record.restoreMethods.map(restoreRecord),
    warnings: warnings.length <= MAX_WARNINGS ? warnings : [...warnings.slice(0, MAX_WARNINGS - 1), `… and ${warnings.length - MAX_WARNINGS + 1} more warnings`],
  };
}

function dataExtent(e: Extract<PendingExtent, { kind: 'data' }>, sink: ChunkSink): DataExtent {
  return { kind: 'data', diskOffset: e.diskOffset, length: e.length, ...sink.refOf(e.chunkId) };
}

/** Neighbouring zero pieces are one run of zeros: one extent keeps the manifest small. */
function mergeZeroExtents(extents: readonly ManifestExtent[]): ManifestExtent[] {
  const out: ManifestExtent[] = [];
  for (const e of extents) {
    const last = out[out.length - 1];
    if (e.kind === 'zero' && last?.kind === 'zero' && last.diskOffset + last.length === e.diskOffset) {
      out[out.length - 1] = { kind: 'zero', diskOffset: last.diskOffset, length: last.length + e.length };
    } else {
      out.push(e);
    }
  }
  return out;
}

/** GPT header fields a restore cannot see in the partition list; the raw sectors hold the rest. */
function layoutExtra(survey: DiskSurvey): { extra?: ManifestDisk['layout']['extra'] } {
  const gpt = survey.table.gpt?.table;
  if (survey.style !== 'gpt' || !gpt) return {};
  return {
    extra: {
      gpt: {
        firstUsableLba: String(gpt.firstUsableLba),
        lastUsableLba: String(gpt.lastUsableLba),
        numberOfEntries: gpt.numberOfEntries,
        sizeOfEntry: gpt.sizeOfEntry,
        ...(survey.table.gpt?.source ? { source: survey.table.gpt.source } : {}),
      },
    },
  };
}

/** A commit whose answer was lost may have happened: a retry then meets "already committed". */
async function commit(server: BackupServer, pointId: string, manifest: BackupManifest, call: <T>(what: string, f: () => Promise<T>) => Promise<T>): Promise<void> {
  let attempts = 0;
  try {
    await call('commit the restore point', () => {
      attempts++;
      return server.commitPoint(pointId, manifest);
    });
  } catch (e) {
    if (attempts > 1 && isRecoveryError(e) && e.code === 'conflict') {
      const stored = await call('read back the committed point', () => server.getManifest(pointId));
      if (stored.setId === manifest.setId && stored.pointSequence === manifest.pointSequence) return;
    }
    throw e;
  }
}
