/**
 * The write-ahead log: Raft's hard state, entries and snapshot markers, appended to segment files
 * and fdatasync'ed before a save resolves, so nothing is acknowledged, sent as a vote or counted
 * toward a commit before it is on disk (Raft §5, Figure 2: "updated on stable storage before
 * responding to RPCs"). Shaped after etcd's wal package; the format and the recovery rules are in
 * README.md beside this file.
 */
import type { FileHandle } from "node:fs/promises";
import { open, readdir, readFile, rename, unlink } from "node:fs/promises";
import { join } from "node:path";
import { assert } from "../core/assert.js";
import type { Entry, HardState } from "../core/types.js";
import { emptyHardState, isEmptyHardState } from "../core/types.js";
import { WalClosedError, WalCorruptError, WalFailedError } from "./errors.js";
import { createDirectoryDurably, syncDirectory, writeFully } from "./fsync.js";
import {
  BatchEncoder,
  RecordType,
  type SnapshotMarker,
  type WalRecord,
  decodeEntry,
  decodeHardState,
  decodeSegmentHeader,
  decodeSnapshotMarker,
} from "./record.js";
import { LogReplay, ReplayError } from "./replay.js";
import { type SequenceExpectation, type TornTail, scanSegment } from "./scan.js";

export type { SnapshotMarker } from "./record.js";

export const SEGMENT_SIZE_BYTES_MAX_DEFAULT = 64 * 1024 * 1024;
const SEGMENT_SIZE_BYTES_MIN = 4096;
const SEGMENT_NAME = /^([0-9a-f]{16})-([0-9a-f]{16})\.wal$/;
const TEMP_SUFFIX = ".tmp";

export interface WalOptions {
  /** A new segment is started by the first write after the current one reaches this size. */
  segmentSizeBytesMax?: number;
  /** Told how long each segment fdatasync took (etcd_disk_wal_fsync_duration_seconds). */
  onFsync?: (durationSeconds: number) => void;
}

export interface WalRecovery {
  /** The last hard state written (the empty one for a new WAL). */
  hardState: HardState;
  /** The entries after `snapshot` (after index 0 when it is null), later writes winning. */
  entries: Entry[];
  /** The newest snapshot marker the WAL can continue from, or null. */
  snapshot: SnapshotMarker | null;
  /**
   * Every snapshot marker the WAL can continue from, newest first (`snapshot` is the first). A
   * caller whose snapshot file for the newest is damaged falls back to an older one.
   */
  markers: SnapshotMarker[];
  /** The entries after an older marker (or after index 0 for null); null if the WAL lacks them. */
  entriesAfter(marker: SnapshotMarker | null): Entry[] | null;
  /** What recovery cut off the end of the last segment (a save that was never acknowledged). */
  tornTail: (TornTail & { file: string }) | null;
}

export interface WalStats {
  /** fdatasync/fsync calls, on segment files and on the directory. */
  fsyncs: number;
  recordsWritten: number;
  entriesWritten: number;
  bytesWritten: number;
}

interface Segment {
  seq: number;
  firstIndex: number;
  path: string;
  /** Highest entry index written into this segment (0 if none): releaseTo deletes by it. */
  maxEntryIndex: number;
}

export function segmentFileName(seq: number, firstIndex: number): string {
  return `${hex16(seq)}-${hex16(firstIndex)}.wal`;
}

function hex16(n: number): string {
  return n.toString(16).padStart(16, "0");
}

export class Wal {
  readonly stats: WalStats = { fsyncs: 0, recordsWritten: 0, entriesWritten: 0, bytesWritten: 0 };
  private readonly encoder = new BatchEncoder();
  /** Operations run one at a time, in call order. */
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  private failure: unknown = null;

  private constructor(
    private readonly dir: string,
    private readonly segmentSizeBytesMax: number,
    private readonly segments: Segment[],
    private file: FileHandle | null,
    private fileSizeBytes: number,
    private next: SequenceExpectation,
    private lastIndex: number,
    private hardState: HardState,
    private newestMarker: SnapshotMarker | null,
  ) {}

  /** See WalOptions.onFsync. */
  private onFsync: ((durationSeconds: number) => void) | undefined;

  /**
   * Opens the WAL in dir (creating it if empty), recovers what it holds and truncates a torn tail.
   * Throws WalCorruptError on damage that is not a torn tail.
   */
  static async open(dir: string, options: WalOptions = {}): Promise<{ wal: Wal; recovered: WalRecovery }> {
    const segmentSizeBytesMax = options.segmentSizeBytesMax ?? SEGMENT_SIZE_BYTES_MAX_DEFAULT;
    assert(segmentSizeBytesMax >= SEGMENT_SIZE_BYTES_MIN, `segmentSizeBytesMax is at least ${SEGMENT_SIZE_BYTES_MIN}`);
    await createDirectoryDurably(dir);
    const segments = await listSegments(dir);

    if (segments.length === 0) {
      const wal = new Wal(dir, segmentSizeBytesMax, [], null, 0, { recordSeq: 0, batchSeq: 0 }, 0, emptyHardState(), null);
      wal.onFsync = options.onFsync;
      await wal.startSegment(0, 1);
      const replay = new LogReplay(true);
      return { wal, recovered: recoveryFrom(dir, replay, null) };
    }

    const replay = new LogReplay(segments[0]!.seq === 0);
    let expected: SequenceExpectation | null = segments[0]!.seq === 0 ? { recordSeq: 0, batchSeq: 0 } : null;
    let tornTail: WalRecovery["tornTail"] = null;
    let lastValidEndBytes = 0;
    for (let k = 0; k < segments.length; k++) {
      const segment = segments[k]!;
      const isLast = k === segments.length - 1;
      const buf = await readFile(segment.path);
      const scanned = scanSegment(buf, segment.path, isLast, expected);
      replaySegment(segment, scanned.records, replay);
      expected = scanned.next;
      if (isLast) {
        lastValidEndBytes = scanned.validEndBytes;
        if (scanned.tornTail !== null) tornTail = { ...scanned.tornTail, file: segment.path };
      }
    }
    const recovered = recoveryFrom(dir, replay, tornTail);

    const last = segments.at(-1)!;
    const wal = new Wal(
      dir,
      segmentSizeBytesMax,
      segments,
      null,
      lastValidEndBytes,
      expected!,
      replay.lastIndex(),
      replay.hardState,
      newestOf(replay.markers()),
    );
    wal.onFsync = options.onFsync;
    wal.file = await open(last.path, "r+");
    if (tornTail !== null) {
      // Cut the torn batch off and make the cut durable before anything new is appended after it.
      await wal.file.truncate(lastValidEndBytes);
      await wal.file.datasync();
      wal.stats.fsyncs++;
    }
    return { wal, recovered };
  }

  /**
   * Appends the snapshot marker (if any), the entries and the hard state (if any) as one batch:
   * one write, one fdatasync. Resolves only once they are durable.
   */
  save(hardState: HardState | null, entries: readonly Entry[], snapshotMarker: SnapshotMarker | null = null, sync = true): Promise<void> {
    if (hardState === null && entries.length === 0 && snapshotMarker === null) return Promise.resolve();
    return this.run(async () => {
      await this.startSegmentIfFull();
      const encoder = this.encoder;
      encoder.begin(this.next.recordSeq, this.next.batchSeq);
      if (snapshotMarker !== null) encoder.addSnapshotMarker(snapshotMarker);
      let previousIndex = -1;
      let maxEntryIndex = 0;
      for (const e of entries) {
        assert(previousIndex === -1 || e.index === previousIndex + 1, `entries are contiguous (${e.index} after ${previousIndex})`);
        assert(e.index >= 1, `entry index is positive, got ${e.index}`);
        encoder.addEntry(e);
        previousIndex = e.index;
        if (e.index > maxEntryIndex) maxEntryIndex = e.index;
      }
      if (hardState !== null) encoder.addHardState(hardState);
      const batch = encoder.finish();
      await this.appendAndSync(batch, encoder.recordCount, sync);

      const segment = this.segments.at(-1)!;
      if (maxEntryIndex > segment.maxEntryIndex) segment.maxEntryIndex = maxEntryIndex;
      if (snapshotMarker !== null) this.noteMarker(snapshotMarker);
      if (entries.length > 0) this.lastIndex = previousIndex;
      if (hardState !== null) this.hardState = { ...hardState };
      this.stats.entriesWritten += entries.length;
    });
  }

  /** Records, durably, that a snapshot at (index, term) is on disk. */
  saveSnapshotMarker(marker: SnapshotMarker): Promise<void> {
    return this.save(null, [], marker);
  }

  /**
   * Deletes the oldest segments that hold only entries below index. A snapshot at ≥ index must
   * already be durable and marked in the WAL (the marker is what recovery starts from). The
   * segment being written is never deleted.
   */
  releaseTo(index: number): Promise<void> {
    return this.run(async () => {
      assert(
        this.newestMarker !== null && this.newestMarker.index >= index,
        `releaseTo(${index}) needs a snapshot marker at ≥ ${index}, newest is ${this.newestMarker?.index ?? "none"}`,
      );
      // Oldest first, syncing the directory after each, so a crash leaves a contiguous run.
      while (this.segments.length > 1 && this.segments[0]!.maxEntryIndex < index) {
        await unlink(this.segments[0]!.path);
        this.segments.shift();
        await this.syncDir();
      }
    });
  }

  /** Waits for pending operations and closes the file; later operations fail with WalClosedError. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.queue;
    this.closed = true;
    const file = this.file;
    this.file = null;
    await file?.close();
  }

  /** Segment files currently held, oldest first (for tests and diagnostics). */
  segmentFiles(): string[] {
    return this.segments.map((s) => s.path);
  }

  private run<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.queue.then(async () => {
      if (this.closed) throw new WalClosedError();
      if (this.failure !== null) throw new WalFailedError(this.failure);
      try {
        return await operation();
      } catch (error) {
        this.failure = error;
        throw error;
      }
    });
    this.queue = result.catch(() => undefined);
    return result;
  }

  /**
   * Writes a batch and, unless `sync` is false, fdatasyncs it. An unsynced batch is made durable by
   * the next synced one (fdatasync flushes every earlier write to the file); until then a crash can
   * only tear it at the tail, which recovery cuts off like any unacknowledged save.
   */
  private async appendAndSync(batch: Uint8Array, recordCount: number, sync: boolean): Promise<void> {
    const file = this.file;
    assert(file !== null, "a segment is open for writing");
    await writeFully(file, batch, this.fileSizeBytes);
    if (sync) {
      const syncStarted = performance.now();
      await file.datasync();
      this.onFsync?.((performance.now() - syncStarted) / 1000);
      this.stats.fsyncs++;
    }
    this.fileSizeBytes += batch.byteLength;
    this.stats.bytesWritten += batch.byteLength;
    this.stats.recordsWritten += recordCount;
    this.next = { recordSeq: this.next.recordSeq + recordCount, batchSeq: this.next.batchSeq + 1 };
  }

  private async startSegmentIfFull(): Promise<void> {
    if (this.fileSizeBytes < this.segmentSizeBytesMax) return;
    const current = this.segments.at(-1)!;
    await this.startSegment(current.seq + 1, this.lastIndex + 1);
  }

  /**
   * Creates the next segment atomically: its head (segment header, the current hard state and
   * newest snapshot marker, so that older segments can be deleted) is written to a temporary
   * file, synced, and renamed into place, then the directory is synced. A segment file therefore
   * never exists without a complete head.
   */
  private async startSegment(seq: number, firstIndex: number): Promise<void> {
    const path = join(this.dir, segmentFileName(seq, firstIndex));
    const tempPath = path + TEMP_SUFFIX;
    const encoder = this.encoder;
    encoder.begin(this.next.recordSeq, this.next.batchSeq);
    encoder.addSegmentHeader({ segmentSeq: seq, firstIndex });
    if (!isEmptyHardState(this.hardState)) encoder.addHardState(this.hardState);
    if (this.newestMarker !== null) encoder.addSnapshotMarker(this.newestMarker);
    const head = encoder.finish();

    const temp = await open(tempPath, "w");
    try {
      await writeFully(temp, head, 0);
      await temp.datasync();
      this.stats.fsyncs++;
    } finally {
      await temp.close();
    }
    await rename(tempPath, path);
    await this.syncDir();

    const previous = this.file;
    this.file = await open(path, "r+");
    this.fileSizeBytes = head.byteLength;
    this.stats.bytesWritten += head.byteLength;
    this.stats.recordsWritten += encoder.recordCount;
    this.next = { recordSeq: this.next.recordSeq + encoder.recordCount, batchSeq: this.next.batchSeq + 1 };
    this.segments.push({ seq, firstIndex, path, maxEntryIndex: 0 });
    await previous?.close(); // synced by the save that filled it
  }

  private async syncDir(): Promise<void> {
    await syncDirectory(this.dir);
    this.stats.fsyncs++;
  }

  private noteMarker(marker: SnapshotMarker): void {
    if (this.newestMarker === null || marker.index >= this.newestMarker.index) this.newestMarker = { ...marker };
  }
}

/**
 * The segment files in dir, by sequence. Leftover temporary files (a segment whose creation a
 * crash interrupted before the rename) are removed. A gap in the sequence is corruption: a
 * segment in the middle is missing.
 */
async function listSegments(dir: string): Promise<Segment[]> {
  const names = await readdir(dir);
  let removedTemp = false;
  const segments: Segment[] = [];
  for (const name of names) {
    if (name.endsWith(".wal" + TEMP_SUFFIX)) {
      await unlink(join(dir, name));
      removedTemp = true;
      continue;
    }
    const match = SEGMENT_NAME.exec(name);
    if (match === null) continue;
    segments.push({
      seq: Number.parseInt(match[1]!, 16),
      firstIndex: Number.parseInt(match[2]!, 16),
      path: join(dir, name),
      maxEntryIndex: 0,
    });
  }
  if (removedTemp) await syncDirectory(dir);
  segments.sort((a, b) => a.seq - b.seq);
  for (let k = 1; k < segments.length; k++) {
    const previous = segments[k - 1]!;
    const segment = segments[k]!;
    if (segment.seq !== previous.seq + 1) {
      throw new WalCorruptError(segment.path, 0, `segment ${previous.seq + 1} is missing (found ${previous.seq}, then ${segment.seq})`);
    }
  }
  return segments;
}

function replaySegment(segment: Segment, records: readonly WalRecord[], replay: LogReplay): void {
  for (const record of records) {
    try {
      switch (record.type) {
        case RecordType.SEGMENT_HEADER: {
          const header = decodeSegmentHeader(record.payload);
          if (typeof header === "string") throw new ReplayError(header);
          if (header.segmentSeq !== segment.seq || header.firstIndex !== segment.firstIndex) {
            throw new ReplayError(
              `the file is named for segment ${segment.seq} at index ${segment.firstIndex} but its header says ${header.segmentSeq} at ${header.firstIndex}`,
            );
          }
          break;
        }
        case RecordType.ENTRY: {
          const entry = decodeEntry(record.payload);
          replay.entry(entry);
          if (entry.index > segment.maxEntryIndex) segment.maxEntryIndex = entry.index;
          break;
        }
        case RecordType.HARD_STATE:
          replay.hardState = decodeHardState(record.payload);
          break;
        case RecordType.SNAPSHOT_MARKER:
          replay.marker(decodeSnapshotMarker(record.payload));
          break;
      }
    } catch (error) {
      // The checksum held, so the bytes are what was written: a record that does not decode or
      // does not follow is a bug or tampering, and just as fatal.
      const reason = error instanceof Error ? error.message : String(error);
      throw new WalCorruptError(segment.path, record.offsetBytes, reason, { cause: error });
    }
  }
}

function newestOf(markers: readonly SnapshotMarker[]): SnapshotMarker | null {
  let newest: SnapshotMarker | null = null;
  for (const m of markers) if (newest === null || m.index >= newest.index) newest = m;
  return newest;
}

function recoveryFrom(dir: string, replay: LogReplay, tornTail: WalRecovery["tornTail"]): WalRecovery {
  const usable = [...replay.markers()].sort((a, b) => b.index - a.index || b.term - a.term).filter((m) => replay.entriesAfter(m) !== null);
  const snapshot = usable[0] ?? null;
  const entries = replay.entriesAfter(snapshot);
  if (entries === null) {
    throw new WalCorruptError(dir, 0, "no snapshot marker or first entry to continue from: older segments are missing");
  }
  return {
    hardState: replay.hardState,
    entries,
    snapshot,
    markers: usable,
    entriesAfter: (marker) => replay.entriesAfter(marker),
    tornTail,
  };
}
