/**
 * The watch hub (etcd's watchableStore + watchStream): many watch streams, each carrying many
 * watchers, fed by the MVCC store's commits and its change log.
 *
 * A watcher is either
 * - synced: it has seen every matching change up to the current revision, so each commit is
 *   pushed to it as it happens; or
 * - unsynced: it is behind (it asked to start in the past, or it fell behind because its client
 *   reads slowly) and catches up by replaying the change log, in bounded batches, until it reaches
 *   the current revision and becomes synced.
 * Live commits never reach an unsynced watcher, and replay only ever moves forward from the
 * watcher's next revision (`minRevision`), so each watcher's events are ordered, unique and
 * complete. Memory is bounded: a watcher whose queued events reach `watcherEventsQueuedMax`, or
 * whose stream holds `streamResponsesQueuedMax` responses, stops receiving live events and replays
 * history instead once its client has read. A watcher that needs history compaction has removed
 * gets the compacted response (compact_revision set, canceled) and ends, as in etcd.
 *
 * Responses carry `header.revision` only; the gRPC layer fills in cluster, member and term.
 */
import { assert } from "@coxswain/raft";
import { etcdserverpb, type etcdserverpbTypes } from "@coxswain/proto";
import { isSingleKey, keySpan, spanContains, type ByteString, type KeySpan } from "../bytes.js";
import { WatcherDuplicateIdError, WatcherRangeEmptyError, WatchStreamOverflowError } from "../errors.js";
import { toEvent, type Event } from "../mvcc/kv.js";
import type { KeyVersion, MvccStore } from "../mvcc/store.js";

const FilterType = etcdserverpb.WatchCreateRequest.FilterType;

export interface WatchHubLimits {
  /** Events queued for one watcher, not yet taken by its stream, before it falls back to replay. */
  watcherEventsQueuedMax: number;
  /** Event responses queued on one stream before its watchers fall back to replay. */
  streamResponsesQueuedMax: number;
  /** Control responses (created, canceled, progress) queued on one stream before it overflows. */
  streamControlResponsesQueuedMax: number;
  /** Events in one replay response; a revision's events are never split, so one may exceed it. */
  replayEventsPerResponseMax: number;
  /** Change-log entries one watcher scans per sync step (keeps each step short). */
  replayScanChangesMax: number;
  /** Unsynced watchers one syncUnsynced() call works on. */
  syncWatchersPerCallMax: number;
}

export const DEFAULT_WATCH_HUB_LIMITS: WatchHubLimits = {
  watcherEventsQueuedMax: 4096,
  streamResponsesQueuedMax: 1024,
  streamControlResponsesQueuedMax: 4096,
  replayEventsPerResponseMax: 1000,
  replayScanChangesMax: 100_000,
  syncWatchersPerCallMax: 512,
};

/** What a watch stream hands to its client (etcdserverpb.WatchResponse without cluster/member). */
export interface WatchResponse {
  header: { revision: number };
  watchId: number;
  created?: boolean;
  canceled?: boolean;
  compactRevision?: number;
  cancelReason?: string;
  events: Event[];
}

/** The id etcd puts on responses that concern the whole stream (progress) or no watcher (errors). */
export const STREAM_WATCH_ID = -1;

export interface WatchCreateOptions {
  key: Uint8Array;
  rangeEnd?: Uint8Array | null;
  startRevision?: number;
  progressNotify?: boolean;
  filters?: readonly etcdserverpbTypes.WatchCreateRequest.FilterType[];
  prevKv?: boolean;
  /** 0 or absent: the stream picks one. */
  watchId?: number;
}

/** One watch on a stream. Internal to the hub; exported for typing only. */
export class Watcher {
  /** The next revision this watcher needs. */
  minRevision: number;
  synced = false;
  removed = false;
  /** Events handed to the stream's queue and not yet taken. */
  queuedEvents = 0;
  /** Something was queued for it since the last progress tick. */
  sentSinceProgressTick = false;

  constructor(
    readonly id: number,
    readonly stream: WatchStream,
    readonly span: KeySpan,
    readonly prevKv: boolean,
    readonly noPut: boolean,
    readonly noDelete: boolean,
    readonly progressNotify: boolean,
    minRevision: number,
  ) {
    this.minRevision = minRevision;
  }

  accepts(change: KeyVersion): boolean {
    return change.version === 0 ? !this.noDelete : !this.noPut;
  }
}

interface QueuedResponse {
  response: WatchResponse;
  watcher: Watcher | null;
  eventCount: number;
  control: boolean;
}

export class WatchHub {
  readonly limits: WatchHubLimits;
  private readonly syncedSingle = new Map<ByteString, Set<Watcher>>();
  private readonly syncedRanges = new Set<Watcher>();
  private readonly unsynced = new Set<Watcher>();
  private watcherTotal = 0;

  constructor(
    readonly store: MvccStore,
    limits: Partial<WatchHubLimits> = {},
  ) {
    this.limits = { ...DEFAULT_WATCH_HUB_LIMITS, ...limits };
    store.onCommit((revision, changes) => this.onCommit(revision, changes));
    store.onRestore(() => this.onRestore());
  }

  get watcherCount(): number {
    return this.watcherTotal;
  }

  get unsyncedCount(): number {
    return this.unsynced.size;
  }

  openStream(): WatchStream {
    return new WatchStream(this);
  }

  /**
   * Moves unsynced watchers forward through the change log (bounded work). Returns whether some
   * are still unsynced; the caller runs it again soon (etcd does every 100 ms) or after clients read.
   */
  syncUnsynced(): boolean {
    let budget = this.limits.syncWatchersPerCallMax;
    for (const watcher of [...this.unsynced]) {
      if (budget-- <= 0) break;
      this.catchUp(watcher);
    }
    return this.unsynced.size > 0;
  }

  /**
   * Periodic progress notification (etcd's progress_notify): every synced watcher that asked for
   * it and got nothing since the last tick receives an empty response at the current revision.
   */
  progressTick(): void {
    const revision = this.store.currentRevision;
    const visit = (w: Watcher): void => {
      if (w.progressNotify && !w.sentSinceProgressTick && w.queuedEvents === 0) {
        w.stream.enqueueAdvisory({ header: { revision }, watchId: w.id, events: [] }, w);
      }
      w.sentSinceProgressTick = false;
    };
    for (const set of this.syncedSingle.values()) for (const w of set) visit(w);
    for (const w of this.syncedRanges) visit(w);
    for (const w of this.unsynced) w.sentSinceProgressTick = false;
  }

  // ---- used by WatchStream ----

  /** @internal */
  register(watcher: Watcher, startRevision: number): void {
    this.watcherTotal++;
    const current = this.store.currentRevision;
    // etcd: a watch from now (0) or from the future starts synced; one from the past replays first.
    if (startRevision === 0 || startRevision > current) {
      watcher.minRevision = Math.max(current + 1, startRevision);
      this.addSynced(watcher);
    } else {
      watcher.minRevision = startRevision;
      this.unsynced.add(watcher);
      this.catchUp(watcher);
    }
  }

  /** @internal */
  unregister(watcher: Watcher): void {
    if (watcher.removed) return;
    watcher.removed = true;
    this.watcherTotal--;
    if (watcher.synced) this.removeSynced(watcher);
    else this.unsynced.delete(watcher);
  }

  /** @internal Catch up this stream's unsynced watchers (its client just made room). */
  syncStream(stream: WatchStream): void {
    for (const watcher of [...this.unsynced]) {
      if (watcher.stream === stream) this.catchUp(watcher);
    }
  }

  private addSynced(watcher: Watcher): void {
    watcher.synced = true;
    if (isSingleKey(watcher.span)) {
      let set = this.syncedSingle.get(watcher.span.start);
      if (!set) {
        set = new Set();
        this.syncedSingle.set(watcher.span.start, set);
      }
      set.add(watcher);
    } else {
      this.syncedRanges.add(watcher);
    }
  }

  private removeSynced(watcher: Watcher): void {
    watcher.synced = false;
    if (isSingleKey(watcher.span)) {
      const set = this.syncedSingle.get(watcher.span.start);
      set?.delete(watcher);
      if (set && set.size === 0) this.syncedSingle.delete(watcher.span.start);
    } else {
      this.syncedRanges.delete(watcher);
    }
  }

  private makeUnsynced(watcher: Watcher, minRevision: number): void {
    this.removeSynced(watcher);
    watcher.minRevision = minRevision;
    this.unsynced.add(watcher);
  }

  private onCommit(revision: number, changes: readonly KeyVersion[]): void {
    if (this.syncedSingle.size === 0 && this.syncedRanges.size === 0) return;
    const batches = new Map<Watcher, Event[]>();
    const shared = new Array<Event | undefined>(changes.length);
    const offer = (w: Watcher, change: KeyVersion, i: number): void => {
      if (w.minRevision > revision || !w.accepts(change)) return;
      let event: Event;
      if (w.prevKv) {
        event = toEvent(change, this.store.versionBefore(change.key, change.main));
      } else {
        event = shared[i] ??= toEvent(change, undefined);
      }
      let batch = batches.get(w);
      if (!batch) {
        batch = [];
        batches.set(w, batch);
      }
      batch.push(event);
    };
    for (let i = 0; i < changes.length; i++) {
      const change = changes[i]!;
      const single = this.syncedSingle.get(change.key);
      if (single) for (const w of single) offer(w, change, i);
      for (const w of this.syncedRanges) if (spanContains(w.span, change.key)) offer(w, change, i);
    }
    for (const [w, events] of batches) {
      if (!w.stream.hasRoomFor(w, events.length)) {
        // Too far ahead of its reader: replay this revision from the change log later.
        this.makeUnsynced(w, revision);
        continue;
      }
      w.stream.enqueueEvents({ header: { revision }, watchId: w.id, events }, w);
      w.minRevision = revision + 1;
    }
  }

  /**
   * Replays the change log for one unsynced watcher from its next revision, in responses of whole
   * revisions, until it is current (then it becomes synced), its stream is full, or this step's
   * scan budget is spent.
   */
  private catchUp(w: Watcher): void {
    if (w.removed || w.synced) return;
    const store = this.store;
    if (w.minRevision < store.compactRevision) {
      // etcd: the history this watcher needs is gone; tell it where history now starts and end it.
      const response: WatchResponse = {
        header: { revision: store.currentRevision },
        watchId: w.id,
        compactRevision: store.compactRevision,
        canceled: true,
        events: [],
      };
      w.stream.removeWatcher(w);
      w.stream.enqueueControl(response);
      return;
    }
    const current = store.currentRevision;
    const { replayEventsPerResponseMax, replayScanChangesMax } = this.limits;
    let i = store.changeIndexAtOrAfter(w.minRevision);
    let scanned = 0;
    for (;;) {
      const events: Event[] = [];
      let lastRevision = w.minRevision - 1;
      let next = i;
      while (scanned < replayScanChangesMax) {
        const first = store.changeAt(next);
        if (!first) break;
        const revision = first.main;
        const revisionEvents: Event[] = [];
        let j = next;
        for (let change = store.changeAt(j); change && change.main === revision; change = store.changeAt(++j)) {
          if (!w.accepts(change) || !spanContains(w.span, change.key)) continue;
          revisionEvents.push(toEvent(change, w.prevKv ? store.versionBefore(change.key, change.main) : undefined));
        }
        if (events.length > 0 && events.length + revisionEvents.length > replayEventsPerResponseMax) break;
        for (const e of revisionEvents) events.push(e);
        scanned += j - next;
        next = j;
        lastRevision = revision;
        if (events.length >= replayEventsPerResponseMax) break;
      }
      if (events.length > 0) {
        if (!w.stream.hasRoomFor(w, events.length)) return; // resumes from minRevision once the client reads
        w.stream.enqueueEvents({ header: { revision: current }, watchId: w.id, events }, w);
      }
      w.minRevision = lastRevision + 1;
      i = next;
      if (!store.changeAt(i)) {
        w.minRevision = current + 1;
        this.unsynced.delete(w);
        this.addSynced(w);
        w.stream.watcherSynced();
        return;
      }
      if (scanned >= replayScanChangesMax) return;
    }
  }

  private onRestore(): void {
    // The store jumped to a snapshot. Synced watchers have seen everything up to the revision
    // before the jump; they replay what the snapshot brought (or learn it is compacted).
    const all: Watcher[] = [];
    for (const set of this.syncedSingle.values()) for (const w of set) all.push(w);
    for (const w of this.syncedRanges) all.push(w);
    for (const w of all) this.makeUnsynced(w, w.minRevision);
  }
}

/**
 * One client's watch stream: its watchers and the ordered queue of responses waiting to be sent.
 * The gRPC layer calls watch/cancel/requestProgress as requests arrive and take() to send.
 */
export class WatchStream {
  private readonly watchers = new Map<number, Watcher>();
  private nextWatchId = 0;
  private readonly queue: QueuedResponse[] = [];
  private queueHead = 0;
  private eventResponses = 0;
  private controlResponses = 0;
  private deferredProgress = false;
  private taking = false;
  private closedFlag = false;
  private overflow: WatchStreamOverflowError | null = null;
  /** Called when a response is queued on an empty queue (not while take() runs). */
  onReadable: (() => void) | null = null;

  constructor(private readonly hub: WatchHub) {}

  get closed(): boolean {
    return this.closedFlag;
  }

  /** Set when the client made the stream queue more control responses than allowed; end the stream. */
  get overflowError(): WatchStreamOverflowError | null {
    return this.overflow;
  }

  get pendingCount(): number {
    return this.queue.length - this.queueHead;
  }

  get watcherCount(): number {
    return this.watchers.size;
  }

  /**
   * Creates a watch. The "created" response is queued first (with the id, or with canceled and a
   * reason when the request is invalid), then any replayed history. Returns the id, or -1.
   */
  watch(options: WatchCreateOptions): number {
    assert(!this.closedFlag, "watching on an open stream");
    const store = this.hub.store;
    const revision = store.currentRevision;
    const span = keySpan(options.key, options.rangeEnd);
    let error: Error | null = null;
    if (span.end !== undefined && span.end !== null && span.start >= span.end) error = new WatcherRangeEmptyError();
    let id = options.watchId ?? 0;
    if (!error) {
      if (id !== 0) {
        if (this.watchers.has(id)) error = new WatcherDuplicateIdError();
      } else {
        // etcd's ids on a stream start at 0 and skip ids the client chose itself.
        while (this.watchers.has(this.nextWatchId)) this.nextWatchId++;
        id = this.nextWatchId++;
      }
    }
    if (error) {
      this.enqueueControl({
        header: { revision },
        watchId: STREAM_WATCH_ID,
        created: true,
        canceled: true,
        cancelReason: error.message,
        events: [],
      });
      return STREAM_WATCH_ID;
    }
    const filters = options.filters ?? [];
    const watcher = new Watcher(
      id,
      this,
      span,
      options.prevKv ?? false,
      filters.includes(FilterType.NOPUT),
      filters.includes(FilterType.NODELETE),
      options.progressNotify ?? false,
      0,
    );
    this.watchers.set(id, watcher);
    this.enqueueControl({ header: { revision }, watchId: id, created: true, events: [] });
    this.hub.register(watcher, Math.max(0, options.startRevision ?? 0));
    return id;
  }

  /** Cancels a watch; queues the canceled response. Unknown ids are ignored (as etcd does). */
  cancel(watchId: number): boolean {
    const watcher = this.watchers.get(watchId);
    if (!watcher) return false;
    this.removeWatcher(watcher);
    this.enqueueControl({ header: { revision: this.hub.store.currentRevision }, watchId, canceled: true, events: [] });
    return true;
  }

  /**
   * A client's progress request: an empty response (watch id -1) whose revision promises that
   * every event up to it was sent for every watch on the stream. While some watcher is replaying
   * that promise cannot be made yet, so the response waits until all are synced (etcd 3.5).
   */
  requestProgress(): void {
    if (this.hasUnsyncedWatcher()) {
      this.deferredProgress = true;
      return;
    }
    this.enqueueControl({ header: { revision: this.hub.store.currentRevision }, watchId: STREAM_WATCH_ID, events: [] });
  }

  /** Takes up to `max` queued responses in order, then lets this stream's laggards catch up. */
  take(max = Number.POSITIVE_INFINITY): WatchResponse[] {
    const out: WatchResponse[] = [];
    this.taking = true;
    try {
      while (out.length < max && this.queueHead < this.queue.length) {
        const item = this.queue[this.queueHead]!;
        this.queue[this.queueHead] = undefined as unknown as QueuedResponse; // release for GC
        this.queueHead++;
        if (item.control) this.controlResponses--;
        else this.eventResponses--;
        if (item.watcher) item.watcher.queuedEvents -= item.eventCount;
        out.push(item.response);
      }
      if (this.queueHead === this.queue.length) {
        this.queue.length = 0;
        this.queueHead = 0;
      } else if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
        this.queue.splice(0, this.queueHead);
        this.queueHead = 0;
      }
      if (out.length > 0 && this.hasUnsyncedWatcher()) this.hub.syncStream(this);
    } finally {
      this.taking = false;
    }
    return out;
  }

  /** Ends every watch on the stream (the client went away). */
  close(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    for (const watcher of [...this.watchers.values()]) this.removeWatcher(watcher);
    this.queue.length = 0;
    this.queueHead = 0;
    this.eventResponses = 0;
    this.controlResponses = 0;
  }

  // ---- used by WatchHub ----

  /** @internal */
  hasRoomFor(watcher: Watcher, eventCount: number): boolean {
    if (this.eventResponses >= this.hub.limits.streamResponsesQueuedMax) return false;
    // An idle watcher always takes one response, however large, or a big revision could never pass.
    return watcher.queuedEvents === 0 || watcher.queuedEvents + eventCount <= this.hub.limits.watcherEventsQueuedMax;
  }

  /** @internal */
  enqueueEvents(response: WatchResponse, watcher: Watcher): void {
    if (this.closedFlag) return;
    watcher.queuedEvents += response.events.length;
    watcher.sentSinceProgressTick = true;
    this.eventResponses++;
    this.push({ response, watcher, eventCount: response.events.length, control: false });
  }

  /** @internal A response the client must get; too many of them unread overflows the stream. */
  enqueueControl(response: WatchResponse): void {
    if (this.closedFlag || this.overflow) return;
    if (this.controlResponses >= this.hub.limits.streamControlResponsesQueuedMax) {
      this.overflow = new WatchStreamOverflowError();
      this.close();
      return;
    }
    this.controlResponses++;
    this.push({ response, watcher: null, eventCount: 0, control: true });
  }

  /** @internal A response that may be dropped when the stream is busy (progress notifications). */
  enqueueAdvisory(response: WatchResponse, watcher: Watcher): void {
    if (this.closedFlag || this.controlResponses >= this.hub.limits.streamControlResponsesQueuedMax) return;
    watcher.sentSinceProgressTick = true;
    this.controlResponses++;
    this.push({ response, watcher: null, eventCount: 0, control: true });
  }

  /** @internal */
  removeWatcher(watcher: Watcher): void {
    this.watchers.delete(watcher.id);
    this.hub.unregister(watcher);
    this.watcherSynced(); // a removed laggard may have been all a deferred progress waited for
  }

  /** @internal */
  watcherSynced(): void {
    if (this.deferredProgress && !this.hasUnsyncedWatcher()) {
      this.deferredProgress = false;
      this.enqueueControl({ header: { revision: this.hub.store.currentRevision }, watchId: STREAM_WATCH_ID, events: [] });
    }
  }

  private hasUnsyncedWatcher(): boolean {
    for (const w of this.watchers.values()) if (!w.synced) return true;
    return false;
  }

  private push(item: QueuedResponse): void {
    const wasEmpty = this.pendingCount === 0;
    this.queue.push(item);
    if (wasEmpty && !this.taking && this.onReadable) this.onReadable();
  }
}
