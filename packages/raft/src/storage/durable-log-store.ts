/**
 * The LogStore that survives crashes: snapshot files in <dir>/snap, the WAL in <dir>/wal, and the
 * MemoryStorage the core reads, rebuilt from both on open.
 */
import { join } from "node:path";
import { assert } from "../core/assert.js";
import { MemoryStorage } from "../core/storage.js";
import type { ConfState, Entry, HardState, Snapshot } from "../core/types.js";
import { isEmptySnapshot } from "../core/types.js";
import { createLogger, type Logger } from "../logging.js";
import { type BrokenSnapshotReport, Snapshotter } from "../snap/snapshotter.js";
import { Wal, type WalOptions, type WalStats } from "../wal/wal.js";
import { type LogStore, applyToStorage, checkSnapshotIsNewer, snapshotAndCompact } from "./log-store.js";

export const SNAPSHOTS_KEPT_MAX_DEFAULT = 3;

export interface DurableLogStoreOptions {
  /** Passed to the WAL (default 64 MiB). */
  segmentSizeBytesMax?: number;
  /** Passed to the WAL: the duration of each fdatasync, for metrics. */
  onFsync?: (durationSeconds: number) => void;
  /** Snapshot files kept; at least 2, so a damaged newest one can fall back. */
  snapshotsKeptMax?: number;
  /** Told about damaged snapshot files set aside during recovery (by default they are logged). */
  onBrokenSnapshot?: (report: BrokenSnapshotReport) => void;
  /** Where recovery reports a truncated torn tail or a damaged snapshot (component "raft-storage" if not given). */
  logger?: Logger;
}

/** The files on disk do not add up to a state the node can start from. */
export class LogStoreRecoveryError extends Error {
  override readonly name = "LogStoreRecoveryError";
}

export class DurableLogStore implements LogStore {
  /** Operations run one at a time, in call order. */
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly storage: MemoryStorage,
    private readonly wal: Wal,
    private readonly snapshotter: Snapshotter,
    private readonly snapshotsKeptMax: number,
  ) {}

  /**
   * Opens (or creates) the store in dir and recovers: the newest snapshot whose (index, term) is
   * marked in the WAL and whose file is intact (older ones if not), then the WAL's entries after
   * it, then the last hard state.
   */
  static async open(dir: string, options: DurableLogStoreOptions = {}): Promise<DurableLogStore> {
    const snapshotsKeptMax = options.snapshotsKeptMax ?? SNAPSHOTS_KEPT_MAX_DEFAULT;
    assert(snapshotsKeptMax >= 2, "snapshotsKeptMax is at least 2");
    const walOptions: WalOptions = {
      ...(options.segmentSizeBytesMax === undefined ? {} : { segmentSizeBytesMax: options.segmentSizeBytesMax }),
      ...(options.onFsync === undefined ? {} : { onFsync: options.onFsync }),
    };
    const { wal, recovered } = await Wal.open(join(dir, "wal"), walOptions);
    // Created only when there is something to say: a clean recovery logs nothing.
    let created: Logger | null = null;
    const logger = (): Logger => options.logger ?? (created ??= createLogger("raft-storage"));
    const snapshotter = new Snapshotter(join(dir, "snap"), {
      onBroken: options.onBrokenSnapshot ?? ((report) => logger().warn(report, "damaged snapshot file set aside")),
    });
    if (recovered.tornTail !== null) {
      logger().warn({ ...recovered.tornTail }, "WAL: cut off a torn write at the end of the last segment (a save that was never acknowledged)");
    }
    try {
      let snapshot: Snapshot | null = null;
      let entries: Entry[] | null = null;
      // A snapshot file without a marker was written by a crash before the marker: not trusted,
      // since the WAL does not say it is consistent with the entries.
      for (const marker of recovered.markers) {
        snapshot = await snapshotter.loadAt(marker.index, marker.term);
        if (snapshot === null) continue;
        entries = recovered.entriesAfter(marker);
        break;
      }
      if (snapshot === null) entries = recovered.entriesAfter(null);
      if (entries === null) {
        const marked = recovered.markers.map((m) => `(index ${m.index}, term ${m.term})`).join(", ");
        throw new LogStoreRecoveryError(`${dir}: the WAL continues only from snapshot ${marked}, and no intact snapshot file for it exists`);
      }
      const storage = new MemoryStorage();
      if (snapshot !== null) storage.applySnapshot(snapshot);
      storage.append(entries);
      const hardState = recovered.hardState;
      if (hardState.commit > storage.lastIndex()) {
        throw new LogStoreRecoveryError(`${dir}: the hard state commits index ${hardState.commit} but the log ends at ${storage.lastIndex()}`);
      }
      storage.setHardState(hardState);
      return new DurableLogStore(storage, wal, snapshotter, snapshotsKeptMax);
    } catch (error) {
      await wal.close();
      throw error;
    }
  }

  /** The WAL's counters (fsyncs, records, entries, bytes), for benchmarks. */
  get walStats(): WalStats {
    return this.wal.stats;
  }

  persist(hardState: HardState | null, entries: Entry[], snapshot: Snapshot | null, sync = true): Promise<void> {
    return this.run(async () => {
      const snap = snapshot !== null && !isEmptySnapshot(snapshot) ? snapshot : null;
      const previousSnapshotIndex = this.storage.snapshot().metadata.index;
      if (snap !== null) {
        checkSnapshotIsNewer(this.storage, snap.metadata.index);
        // The file first: a marker in the WAL promises the file exists.
        await this.snapshotter.save(snap);
      }
      const marker = snap === null ? null : { index: snap.metadata.index, term: snap.metadata.term };
      // A snapshot is always synced: its marker promises the file that was just written.
      await this.wal.save(hardState, entries, marker, sync || snap !== null || entries.length > 0);
      applyToStorage(this.storage, hardState, entries, snap);
      if (snap !== null) await this.releaseBefore(previousSnapshotIndex);
    });
  }

  createSnapshot(index: number, confState: ConfState, data: Uint8Array, retainEntries: number): Promise<void> {
    return this.run(async () => {
      checkSnapshotIsNewer(this.storage, index);
      assert(index <= this.storage.lastIndex(), `snapshot ${index} is beyond the last index ${this.storage.lastIndex()}`);
      const previousSnapshotIndex = this.storage.snapshot().metadata.index;
      const term = this.storage.term(index);
      await this.snapshotter.save({ data, metadata: { index, term, confState } });
      await this.wal.saveSnapshotMarker({ index, term });
      snapshotAndCompact(this.storage, index, confState, data, retainEntries);
      await this.releaseBefore(previousSnapshotIndex);
    });
  }

  async close(): Promise<void> {
    await this.queue;
    await this.wal.close();
  }

  /**
   * Lets go of what only snapshots older than the previous one needed. The WAL keeps the entries
   * after the previous snapshot and the previous snapshot file is kept, so a damaged newest
   * snapshot file still leaves a way to recover.
   */
  private async releaseBefore(previousSnapshotIndex: number): Promise<void> {
    await this.wal.releaseTo(previousSnapshotIndex + 1);
    await this.snapshotter.prune(this.snapshotsKeptMax);
  }

  private run(operation: () => Promise<void>): Promise<void> {
    const result = this.queue.then(operation);
    this.queue = result.catch(() => undefined);
    return result;
  }
}
