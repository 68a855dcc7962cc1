/**
 * How a backup run stops early, without a signal parameter on the engine: the engine gets views of
 * its ports (the server, each source disk) whose every call first asks `RunStop.check()`. The
 * engine already treats a failed call as the end of the backup (nothing is committed, uploads in
 * flight settle), so a stop between two calls ends it the same way, before the commit.
 *
 * Two things stop a run:
 * - the signal the agent session passes to every run (the agent is stopping: SIGINT/SIGTERM, the
 *   console's stop) → `backup.interrupted`, the run ends `failed`, as an interrupted restore does;
 * - the server saying the run is no longer active (an operator cancelled it; progress and event
 *   calls answer `409 conflict`, `reason: catalog.run-not-active`) → `backup.cancelled`, the run
 *   ends `cancelled`.
 *
 * The views also witness what the engine did on the server (the set it opened, the point it began,
 * whether it committed), for the run's report.
 */
import { RecoveryError } from '../../core/errors.ts';
import type { AbortSignalLike } from '../../core/units.ts';
import type { BackupServer, BackupSetInfo } from '../../ports/backup-server.ts';
import type { BlockDevice } from '../../ports/block-device.ts';

export class RunStop {
  private endedByServer: { state: string } | undefined;

  constructor(private readonly signal?: AbortSignalLike) {}

  /** The server ended the run (its state there, e.g. "cancelled"): stop at the next guarded call. */
  serverEnded(state: string): void {
    this.endedByServer ??= { state };
  }

  /** Why the run is stopping, if it is. The agent stopping wins: its run does not end on the server's word. */
  get reason(): 'interrupted' | 'cancelled' | undefined {
    if (this.signal?.aborted === true) return 'interrupted';
    return this.endedByServer === undefined ? undefined : 'cancelled';
  }

  /** The error a stopped run ends with, or undefined while it may go on. */
  error(): RecoveryError | undefined {
    switch (this.reason) {
      case 'interrupted':
        return new RecoveryError('backup.interrupted', 'the backup was interrupted before it finished: the agent is stopping', { cause: this.signal?.reason });
      case 'cancelled':
        return new RecoveryError('backup.cancelled', `the run was ended on the server (${this.endedByServer?.state ?? 'cancelled'}) before the backup finished`, {
          data: { serverState: this.endedByServer?.state },
        });
      default:
        return undefined;
    }
  }

  /** Throws the stop's error once the run is stopping. */
  check(): void {
    const error = this.error();
    if (error !== undefined) throw error;
  }
}

/** What the engine did on the server, as the guarded view saw it. */
export interface ServerWitness {
  set?: BackupSetInfo;
  point?: { readonly pointId: string; readonly sequence: number };
  committed: boolean;
}

/** The server as the engine gets it: every call checks the stop first, and is witnessed. */
export function guardServer(server: BackupServer, stop: RunStop, witness: ServerWitness): BackupServer {
  const guarded = async <T>(call: () => Promise<T>): Promise<T> => {
    stop.check();
    return call();
  };
  return {
    register: (identity) => guarded(() => server.register(identity)),
    heartbeat: (activity, runId) => server.heartbeat(activity, runId),
    nextRun: () => guarded(() => server.nextRun()),
    reportProgress: (runId, progress) => server.reportProgress(runId, progress),
    appendEvents: (runId, events) => server.appendEvents(runId, events),
    getJournal: (runId) => server.getJournal(runId),
    mergeJournal: (runId, update) => server.mergeJournal(runId, update),
    finishRun: (runId, outcome) => server.finishRun(runId, outcome),
    openSet: (request) => guarded(async () => {
      const set = await server.openSet(request);
      witness.set = set;
      return set;
    }),
    getSet: (setId) => guarded(() => server.getSet(setId)),
    beginPoint: (setId) => guarded(async () => {
      const point = await server.beginPoint(setId);
      witness.point = point;
      return point;
    }),
    missingChunks: (ids) => guarded(() => server.missingChunks(ids)),
    statChunks: (ids) => guarded(() => server.statChunks(ids)),
    putChunk: (id, blob, storedHash) => guarded(() => server.putChunk(id, blob, storedHash)),
    putChunks: (items) => guarded(() => server.putChunks(items)),
    commitPoint: (pointId, manifest) => guarded(async () => {
      await server.commitPoint(pointId, manifest);
      witness.committed = true;
    }),
    // A commit whose answer was lost is checked with getManifest: that check is never refused.
    getManifest: (pointId) => server.getManifest(pointId),
    getChunk: (id) => guarded(() => server.getChunk(id)),
    getChunks: (ids) => guarded(() => server.getChunks(ids)),
  };
}

/** A source disk as the engine gets it: reads check the stop first and are counted by `onRead`. */
export function guardDevice(device: BlockDevice, stop: RunStop, onRead: (length: number) => void): BlockDevice {
  return {
    path: device.path,
    geometry: device.geometry,
    readOnly: device.readOnly,
    async read(offset, length) {
      stop.check();
      const data = await device.read(offset, length);
      onRead(length);
      return data;
    },
    write: (offset, data) => device.write(offset, data),
    flush: () => device.flush(),
    close: () => device.close(),
  };
}
