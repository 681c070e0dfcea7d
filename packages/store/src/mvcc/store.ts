/**
 * etcd's multi-version key-value store, in memory (etcd's server/storage/mvcc, without bbolt).
 *
 * - One revision counter for the whole key space. It starts at 1 (as etcd's does) and every write
 *   transaction that changes something takes the next one; the n-th change inside it has sub n.
 * - Every key keeps its versions (KeyHistory) so reads at past revisions work until compaction.
 *   A delete writes a tombstone version.
 * - The key index is a B+tree ordered bytewise (range scans) plus a hash map (point lookups).
 * - A change log holds every change since the last compaction in revision order: the history
 *   that watchers replay, and the worklist of the next compaction (only keys changed since the
 *   previous compaction can have versions to drop, so compaction costs what was written, not what
 *   is stored).
 *
 * Everything here is deterministic: no clock, no randomness. Writes happen inside a WriteTxn; at
 * most one is open at a time, and nothing can read its uncommitted changes except itself (reads
 * outside it see the committed revision only).
 */
import { assert } from "@coxswain/raft";
import type { ByteString, KeySpan } from "../bytes.js";
import { CompactedError, FutureRevisionError } from "../errors.js";
import { KeyHistory, KeyVersion, versionSizeBytes } from "./key-history.js";
import { OrderedMap } from "./ordered-map.js";

export { KeyHistory, KeyVersion } from "./key-history.js";

/** The lessor's side of key attachment: keys follow their lease, and a revoke deletes them. */
export interface LeaseAttachments {
  attach(leaseId: number, key: ByteString): void;
  detach(leaseId: number, key: ByteString): void;
}

/** Called once per committed revision with its changes in sub order. */
export type CommitObserver = (revision: number, changes: readonly KeyVersion[]) => void;

export interface RangeOptions {
  /** <= 0 (or absent): the newest revision. */
  revision?: number;
  /** <= 0 (or absent): no limit. `count` is unaffected. */
  limit?: number;
  /** Count only; return no versions. */
  countOnly?: boolean;
}

export interface RangeResult {
  /** Live versions at the revision, in key order. */
  versions: KeyVersion[];
  /** Live keys in the span at the revision, regardless of limit. */
  count: number;
  /** The store revision the read was served at (etcd puts the current revision here, not the one asked for). */
  revision: number;
}

/** What a snapshot needs to rebuild the store. */
export interface MvccSnapshotState {
  currentRevision: number;
  compactRevision: number;
  /** In strictly increasing key order, versions oldest first. */
  histories: readonly { key: ByteString; versions: readonly KeyVersion[] }[];
}

export class SnapshotCorruptError extends Error {
  override readonly name = "SnapshotCorruptError";
}

export class MvccStore {
  private readonly index = new OrderedMap<KeyHistory>();
  private readonly histories = new Map<ByteString, KeyHistory>();
  private changeLog: KeyVersion[] = [];
  private revision = 1;
  private compactedAt = -1;
  private approximateSizeBytes = 0;
  private openTxn: WriteTxn | null = null;
  private readonly commitObservers: CommitObserver[] = [];
  private readonly restoreObservers: (() => void)[] = [];
  /** Set by the lessor; null in stores without leases (tests). */
  leaseAttachments: LeaseAttachments | null = null;

  /** The newest committed revision. */
  get currentRevision(): number {
    return this.revision;
  }

  /** The revision of the last compaction; -1 before any. Reads below it fail. */
  get compactRevision(): number {
    return this.compactedAt;
  }

  /** Approximate bytes held (keys, values and per-version overhead): the quota's measure. */
  get sizeBytes(): number {
    return this.approximateSizeBytes;
  }

  /** Keys in the index, tombstoned ones included until compaction drops them. */
  get keyCount(): number {
    return this.histories.size;
  }

  /** Changes held for replay (since the last compaction). */
  get changeLogLength(): number {
    return this.changeLog.length;
  }

  onCommit(observer: CommitObserver): void {
    this.commitObservers.push(observer);
  }

  /** Called after restore() replaced the contents. */
  onRestore(observer: () => void): void {
    this.restoreObservers.push(observer);
  }

  range(span: KeySpan, options: RangeOptions = {}): RangeResult {
    return this.rangeAt(span, options, this.revision);
  }

  /** The live version of one key at the newest revision. */
  get(key: ByteString): KeyVersion | undefined {
    const history = this.histories.get(key);
    if (!history) return undefined;
    const latest = history.latest;
    return latest.version === 0 || latest.main > this.revision ? undefined : latest;
  }

  /** Opens the write transaction; at most one at a time. */
  write(): WriteTxn {
    assert(this.openTxn === null, "one write transaction at a time");
    const txn = new WriteTxn(this, this.revision + 1);
    this.openTxn = txn;
    return txn;
  }

  /**
   * Forgets every version that no read at or after `revision` can see. Reads below `revision`
   * fail from now on; watches can replay from `revision` on.
   */
  compact(revision: number): void {
    assert(this.openTxn === null, "no compaction inside a write transaction");
    if (revision <= this.compactedAt) throw new CompactedError(this.compactedAt);
    if (revision > this.revision) throw new FutureRevisionError(this.revision);
    this.compactedAt = revision;
    const log = this.changeLog;
    // Keys changed at or below the revision may hold versions to drop; changes at exactly the
    // revision stay in the log (a watch may start there).
    const processEnd = this.changeIndexAtOrAfter(revision + 1);
    const keepFrom = this.changeIndexAtOrAfter(revision);
    const done = new Set<ByteString>();
    for (let i = 0; i < processEnd; i++) {
      const key = log[i]!.key;
      if (done.has(key)) continue;
      done.add(key);
      const history = this.histories.get(key);
      if (!history) continue;
      this.approximateSizeBytes -= history.compact(revision);
      if (history.versions.length === 0) {
        this.histories.delete(key);
        this.index.delete(key);
      }
    }
    this.changeLog = log.slice(keepFrom);
  }

  /**
   * The key as it was just before a change at revision `main` (what a watch's prev_kv carries):
   * undefined when it did not exist then, or when that revision is compacted.
   */
  versionBefore(key: ByteString, main: number): KeyVersion | undefined {
    if (main - 1 < this.compactedAt) return undefined;
    return this.histories.get(key)?.liveAt(main - 1);
  }

  /** Index in the change log of the first change with main >= revision. */
  changeIndexAtOrAfter(revision: number): number {
    const log = this.changeLog;
    let lo = 0;
    let hi = log.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (log[mid]!.main < revision) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The change at an index of the change log (indexes shift on compaction; look them up again). */
  changeAt(i: number): KeyVersion | undefined {
    return this.changeLog[i];
  }

  /** Every key's retained versions, in key order (for snapshots). */
  forEachHistory(visit: (history: KeyHistory) => void): void {
    this.index.forEach((_, history) => {
      visit(history);
    });
  }

  /** Checks a snapshot's contents without touching the store; throws SnapshotCorruptError. */
  validateSnapshot(state: MvccSnapshotState): void {
    const { currentRevision, compactRevision } = state;
    if (!Number.isSafeInteger(currentRevision) || currentRevision < 1) {
      throw new SnapshotCorruptError(`snapshot revision ${currentRevision} is not a positive integer`);
    }
    if (!Number.isSafeInteger(compactRevision) || compactRevision < -1 || compactRevision > currentRevision) {
      throw new SnapshotCorruptError(`snapshot compact revision ${compactRevision} is out of range`);
    }
    const seen = new Set<string>();
    let previousKey: ByteString | null = null;
    for (const { key, versions } of state.histories) {
      if (key.length === 0) throw new SnapshotCorruptError("snapshot holds an empty key");
      if (previousKey !== null && key <= previousKey) throw new SnapshotCorruptError("snapshot keys are not in increasing order");
      if (versions.length === 0) throw new SnapshotCorruptError("snapshot holds a key without versions");
      previousKey = key;
      let previousMain = 0;
      for (const v of versions) {
        if (v.key !== key) throw new SnapshotCorruptError("snapshot version filed under another key");
        if (!Number.isSafeInteger(v.main) || v.main < 1 || v.main > currentRevision || v.sub < 0) {
          throw new SnapshotCorruptError(`snapshot version at revision ${v.main} is out of range`);
        }
        if (v.main <= previousMain) throw new SnapshotCorruptError("snapshot versions are not in revision order");
        previousMain = v.main;
        if (v.version < 0 || (v.version > 0 && (v.createRevision < 1 || v.createRevision > v.main))) {
          throw new SnapshotCorruptError(`snapshot version of a key at revision ${v.main} has inconsistent counters`);
        }
        if (v.main >= compactRevision) {
          const id = `${v.main}.${v.sub}`;
          if (seen.has(id)) throw new SnapshotCorruptError(`snapshot has two changes at revision ${id}`);
          seen.add(id);
        }
      }
    }
  }

  /** Replaces the whole contents with a snapshot's (validated first: it comes from disk or a peer). */
  restore(state: MvccSnapshotState): void {
    assert(this.openTxn === null, "no restore inside a write transaction");
    this.validateSnapshot(state);
    const attachments = this.leaseAttachments;
    if (attachments) {
      // Detach what the old contents attached, so the lessor's key sets match the new contents.
      this.histories.forEach((history) => {
        const latest = history.latest;
        if (latest.version !== 0 && latest.lease !== 0) attachments.detach(latest.lease, history.key);
      });
    }
    this.index.clear();
    this.histories.clear();
    this.revision = state.currentRevision;
    this.compactedAt = state.compactRevision;
    this.approximateSizeBytes = 0;
    const log: KeyVersion[] = [];
    for (const { key, versions } of state.histories) {
      const history = new KeyHistory(key, versions[0]!);
      for (let i = 1; i < versions.length; i++) history.versions.push(versions[i]!);
      for (const v of versions) {
        this.approximateSizeBytes += versionSizeBytes(v);
        if (v.main >= state.compactRevision) log.push(v);
      }
      this.index.set(key, history);
      this.histories.set(key, history);
      const latest = history.latest;
      if (attachments && latest.version !== 0 && latest.lease !== 0) attachments.attach(latest.lease, key);
    }
    log.sort((a, b) => a.main - b.main || a.sub - b.sub);
    this.changeLog = log;
    for (const observer of this.restoreObservers) observer();
  }

  /** Checks internal invariants; for tests. */
  checkInvariants(): void {
    this.index.checkInvariants();
    assert(this.index.size === this.histories.size, "index and map hold the same keys");
    let size = 0;
    this.histories.forEach((history, key) => {
      assert(this.index.get(key) === history, "index and map agree");
      assert(history.versions.length > 0, "no empty history");
      for (let i = 1; i < history.versions.length; i++) {
        assert(history.versions[i - 1]!.main < history.versions[i]!.main, "versions in revision order");
      }
      for (const v of history.versions) size += versionSizeBytes(v);
    });
    assert(size === this.approximateSizeBytes, "size estimate matches the contents");
    for (let i = 1; i < this.changeLog.length; i++) {
      const a = this.changeLog[i - 1]!;
      const b = this.changeLog[i]!;
      assert(a.main < b.main || (a.main === b.main && a.sub < b.sub), "change log in revision order");
    }
  }

  // ---- used by WriteTxn ----

  /** @internal */
  rangeAt(span: KeySpan, options: RangeOptions, viewRevision: number): RangeResult {
    const asked = options.revision ?? 0;
    if (asked > viewRevision) throw new FutureRevisionError(viewRevision);
    const at = asked <= 0 ? viewRevision : asked;
    if (at < this.compactedAt) throw new CompactedError(this.compactedAt);
    const limit = options.limit ?? 0;
    const countOnly = options.countOnly ?? false;
    const versions: KeyVersion[] = [];
    let count = 0;
    if (span.end === undefined) {
      const v = this.histories.get(span.start)?.liveAt(at);
      if (v) {
        count = 1;
        if (!countOnly) versions.push(v);
      }
      return { versions, count, revision: viewRevision };
    }
    if (span.end !== null && span.end <= span.start) return { versions, count, revision: viewRevision };
    this.index.forEachInRange(span.start, span.end, (_, history) => {
      const v = history.liveAt(at);
      if (!v) return;
      count++;
      if (!countOnly && (limit <= 0 || versions.length < limit)) versions.push(v);
    });
    return { versions, count, revision: viewRevision };
  }

  /** @internal */
  writeVersion(v: KeyVersion): void {
    const history = this.histories.get(v.key);
    if (history) {
      history.append(v);
    } else {
      const created = new KeyHistory(v.key, v);
      this.histories.set(v.key, created);
      this.index.set(v.key, created);
    }
    this.approximateSizeBytes += versionSizeBytes(v);
  }

  /** @internal */
  historyOf(key: ByteString): KeyHistory | undefined {
    return this.histories.get(key);
  }

  /** @internal */
  forEachHistoryInSpan(span: KeySpan, visit: (history: KeyHistory) => void): void {
    if (span.end === undefined) {
      const history = this.histories.get(span.start);
      if (history) visit(history);
      return;
    }
    if (span.end !== null && span.end <= span.start) return;
    this.index.forEachInRange(span.start, span.end, (_, history) => {
      visit(history);
    });
  }

  /** @internal */
  commit(txn: WriteTxn, changes: readonly KeyVersion[]): void {
    assert(this.openTxn === txn, "committing the open transaction");
    this.openTxn = null;
    if (changes.length === 0) return;
    assert(txn.revision === this.revision + 1, "transactions commit in revision order");
    this.revision = txn.revision;
    for (const change of changes) this.changeLog.push(change);
    for (const observer of this.commitObservers) observer(this.revision, changes);
  }
}

/**
 * The one open write transaction: its changes share one revision. Reads inside it see its own
 * writes (as etcd's do). It cannot fail half-way: callers validate before writing.
 */
export class WriteTxn {
  private readonly changes: KeyVersion[] = [];
  private ended = false;

  constructor(
    private readonly store: MvccStore,
    /** The revision this transaction's changes get. */
    readonly revision: number,
  ) {}

  /** The revision reads inside the transaction see: its own, once it has changed something. */
  get readRevision(): number {
    return this.changes.length > 0 ? this.revision : this.revision - 1;
  }

  get changeCount(): number {
    return this.changes.length;
  }

  range(span: KeySpan, options: RangeOptions = {}): RangeResult {
    assert(!this.ended, "transaction still open");
    return this.store.rangeAt(span, options, this.readRevision);
  }

  put(key: ByteString, value: ByteString, lease: number): KeyVersion {
    assert(!this.ended, "transaction still open");
    assert(key.length > 0, "keys are never empty");
    const previous = this.store.historyOf(key)?.latest;
    const live = previous !== undefined && previous.version !== 0 ? previous : undefined;
    const v = new KeyVersion(key, this.revision, this.changes.length, live ? live.createRevision : this.revision, live ? live.version + 1 : 1, value, lease);
    this.store.writeVersion(v);
    this.changes.push(v);
    const oldLease = live ? live.lease : 0;
    const attachments = this.store.leaseAttachments;
    if (attachments && oldLease !== lease) {
      if (oldLease !== 0) attachments.detach(oldLease, key);
      if (lease !== 0) attachments.attach(lease, key);
    }
    return v;
  }

  /** Deletes every live key in the span; returns their tombstones in key order. */
  deleteRange(span: KeySpan): KeyVersion[] {
    assert(!this.ended, "transaction still open");
    const doomed: KeyVersion[] = [];
    this.store.forEachHistoryInSpan(span, (history) => {
      const latest = history.latest;
      if (latest.version !== 0) doomed.push(latest);
    });
    const tombstones: KeyVersion[] = [];
    const attachments = this.store.leaseAttachments;
    for (const live of doomed) {
      const tombstone = new KeyVersion(live.key, this.revision, this.changes.length, 0, 0, "", 0);
      this.store.writeVersion(tombstone);
      this.changes.push(tombstone);
      tombstones.push(tombstone);
      if (attachments && live.lease !== 0) attachments.detach(live.lease, live.key);
    }
    return tombstones;
  }

  /** Commits: the store moves to this revision if anything changed. Returns the changes. */
  end(): readonly KeyVersion[] {
    assert(!this.ended, "a transaction ends once");
    this.ended = true;
    this.store.commit(this, this.changes);
    return this.changes;
  }
}
