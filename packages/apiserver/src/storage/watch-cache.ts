/**
 * The watch cache: ONE store watch per API server, on the whole registry prefix, feeding an
 * in-memory copy of every object and a bounded window of recent events per resource. Every watch
 * an API server serves is answered from here (Kubernetes' cacher and watchCache,
 * k8s.io/apiserver/pkg/storage/cacher), so a thousand watchers cost the store one stream.
 *
 * Semantics, as Kubernetes':
 * - watch at resourceVersion "" or "0": a synthetic ADDED event for every object that matches,
 *   then live events ("" first waits, briefly, for the cache to reach the store's revision);
 * - watch at a revision N: every event after N still in the window, then live events; when N is
 *   older than the window an ERROR event with a 410 Expired Status "too old resource version:
 *   N (M)" and the end of the watch (the client lists again);
 * - selectors see transitions: an object that stops matching is sent as DELETED (its previous,
 *   matching state at the new resourceVersion), one that starts matching as ADDED;
 * - BOOKMARK events every `bookmarkIntervalMs` to watchers that allow them, carrying the cache's
 *   revision;
 * - each watcher buffers at most `watcherEventsBufferedMax` live events; one that cannot keep up is
 *   closed (the client watches again from its last resourceVersion) and nobody else waits for it.
 *
 * Objects handed out are shared between watchers and lists, and frozen: never mutate them.
 * Each event's JSON is encoded once, when the first watcher needs it, whatever the number of
 * watchers (ServedWatchEvent.json).
 */
import { Buffer } from "node:buffer";
import {
  ApiStatusError,
  statusResourceExpired,
  statusTooManyRequests,
  type FieldSelector,
  type KubeObject,
  type Selector,
  type Status,
  type WatchEventType,
} from "@coxswain/api";
import { assert, createLogger, type Logger } from "@coxswain/raft";
import { prefixRangeEnd, type EtcdClient, type StoreWatch, type StoreWatchEvent } from "./etcd-client.js";
import { KeyLayout, registryPrefixDefault, resourceId, type StorageResource } from "./keys.js";
import { decodeStored, parseResourceVersion, tooLargeResourceVersionError } from "./objects.js";
import { Ring } from "./ring.js";

export interface WatchCacheOptions {
  /** Default "/registry/" (must match the Store's). */
  prefix?: string;
  /** Recent events kept per resource for watches that resume from a resourceVersion. */
  watchCacheEventsMax?: number;
  /** Live events one watcher may have waiting; past that it is closed as too slow. */
  watcherEventsBufferedMax?: number;
  /** How often watchers that allow bookmarks get one (Kubernetes: about a minute). */
  bookmarkIntervalMs?: number;
  /** How long a read waits for the cache to reach a resourceVersion before 504 (Kubernetes: 3 s). */
  freshnessTimeoutMs?: number;
  /** Keys per page of the initial list. */
  initialListPageKeys?: number;
  /** Reads waiting for the cache to reach a revision, at most; more get 429. */
  revisionWaitersMax?: number;
  logger?: Logger;
}

export const watchCacheDefaults = {
  prefix: registryPrefixDefault,
  watchCacheEventsMax: 1_000,
  watcherEventsBufferedMax: 1_000,
  bookmarkIntervalMs: 60_000,
  freshnessTimeoutMs: 3_000,
  initialListPageKeys: 1_000,
  revisionWaitersMax: 10_000,
  /** Backoff between attempts at (re)initializing from the store. */
  initBackoffMsInitial: 100,
  initBackoffMsMax: 5_000,
} as const;

export interface CacheWatchOptions {
  namespace?: string;
  labelSelector?: Selector;
  fieldSelector?: FieldSelector;
  /** "" / undefined, "0", or a revision (see the module comment). */
  resourceVersion?: string;
  allowWatchBookmarks?: boolean;
}

export interface CacheListOptions {
  namespace?: string;
  labelSelector?: Selector;
  fieldSelector?: FieldSelector;
  /** "0" / "" / undefined: the cache as it is; a revision: wait until the cache has reached it (504 after `freshnessTimeoutMs`). */
  resourceVersion?: string;
}

export interface CacheListResult {
  /** Shared, frozen objects, in key order (namespace, then name). */
  items: KubeObject[];
  resourceVersion: string;
}

/** Why a watcher ended. */
export type WatcherCloseReason = "stopped" | "tooSlow" | "expired" | "reinitialized" | "cacheStopped";

/**
 * One event as a watcher receives it: the Kubernetes WatchEvent, and its JSON encoding (one line
 * of a watch response body, without the newline), computed once however many watchers send it.
 */
export class ServedWatchEvent {
  private encoded: string | null = null;

  constructor(
    readonly type: WatchEventType,
    /** Frozen; a Status for ERROR. */
    readonly object: KubeObject | Status,
    /** The revision of the change (of the cache, for BOOKMARK; 0 for ERROR). */
    readonly revision: number,
  ) {}

  /** `{"type":"ADDED","object":{...}}` */
  get json(): string {
    this.encoded ??= `{"type":${JSON.stringify(this.type)},"object":${JSON.stringify(this.object)}}`;
    return this.encoded;
  }
}

// ---------------------------------------------------------------------------------------------
// Cache contents
// ---------------------------------------------------------------------------------------------

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/** The object at a new resourceVersion (shallow copies; the nested parts stay shared and frozen). */
function atRevision(obj: KubeObject, revision: number): KubeObject {
  return deepFreeze({ ...obj, metadata: { ...obj.metadata, resourceVersion: String(revision) } });
}

interface CachedObject {
  object: KubeObject;
  namespace: string;
  /** The synthetic ADDED event for watches from "0", made when first needed. */
  added: ServedWatchEvent | null;
}

/** One change in the store, as the cache recorded it. */
class CacheEvent {
  private served: Partial<Record<"ADDED" | "MODIFIED" | "DELETED", ServedWatchEvent>> = {};

  constructor(
    readonly type: "ADDED" | "MODIFIED" | "DELETED",
    readonly revision: number,
    readonly namespace: string,
    /** The new state; for DELETED, the last state at the deletion's revision. */
    readonly object: KubeObject,
    /** For MODIFIED: the state before. */
    readonly previous: KubeObject | null,
  ) {}

  /** The event a watcher gets, by the type its selectors make of it (memoized per type). */
  servedAs(type: "ADDED" | "MODIFIED" | "DELETED"): ServedWatchEvent {
    let served = this.served[type];
    if (served === undefined) {
      let object = this.object;
      if (type === "DELETED" && this.type === "MODIFIED") {
        // Left the selector: Kubernetes sends the previous state, at this event's resourceVersion.
        assert(this.previous !== null, "a MODIFIED event knows the previous state");
        object = atRevision(this.previous, this.revision);
      }
      served = new ServedWatchEvent(type, object, this.revision);
      this.served[type] = served;
    }
    return served;
  }
}

interface WatcherFilter {
  namespace: string;
  labelSelector: Selector | undefined;
  fieldSelector: FieldSelector | undefined;
  fieldSet: StorageResource["fieldSelectors"];
}

function matches(filter: WatcherFilter, namespace: string, obj: KubeObject): boolean {
  if (filter.namespace !== "" && filter.namespace !== namespace) return false;
  if (filter.labelSelector !== undefined && !filter.labelSelector.matches(obj.metadata.labels)) return false;
  if (filter.fieldSelector !== undefined && !filter.fieldSelector.matches(obj, filter.fieldSet)) return false;
  return true;
}

/** What a watcher with this filter sees of an event, or null. */
function eventFor(filter: WatcherFilter, event: CacheEvent): ServedWatchEvent | null {
  if (filter.namespace !== "" && filter.namespace !== event.namespace) return null;
  switch (event.type) {
    case "ADDED":
      return matches(filter, event.namespace, event.object) ? event.servedAs("ADDED") : null;
    case "DELETED":
      return matches(filter, event.namespace, event.object) ? event.servedAs("DELETED") : null;
    case "MODIFIED": {
      const now = matches(filter, event.namespace, event.object);
      const before = event.previous !== null && matches(filter, event.namespace, event.previous);
      if (now && before) return event.servedAs("MODIFIED");
      if (now) return event.servedAs("ADDED");
      if (before) return event.servedAs("DELETED");
      return null;
    }
  }
}

class ResourceCache {
  readonly objects = new Map<string, CachedObject>();
  readonly events: Ring<CacheEvent>;
  readonly watchers = new Set<CacheWatcher>();
  /** Events after this revision are all in `events` (the list revision, or the last evicted event's). */
  oldestReplayable: number;
  private sortedKeys: string[] | null = null;

  constructor(
    readonly id: string,
    eventsMax: number,
    listRevision: number,
  ) {
    this.events = new Ring(eventsMax);
    this.oldestReplayable = listRevision;
  }

  set(key: string, entry: CachedObject): void {
    if (!this.objects.has(key)) this.sortedKeys = null;
    this.objects.set(key, entry);
  }

  remove(key: string): void {
    if (this.objects.delete(key)) this.sortedKeys = null;
  }

  record(event: CacheEvent): void {
    const evicted = this.events.push(event);
    if (evicted !== undefined) this.oldestReplayable = evicted.revision;
  }

  /** Keys in order, optionally only those under `prefix` (a namespace). */
  keysUnder(prefix: string | null): string[] {
    this.sortedKeys ??= [...this.objects.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    if (prefix === null) return this.sortedKeys;
    const keys = this.sortedKeys;
    let lo = 0;
    let hi = keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (keys[mid]! < prefix) lo = mid + 1;
      else hi = mid;
    }
    const out: string[] = [];
    for (let i = lo; i < keys.length && keys[i]!.startsWith(prefix); i++) out.push(keys[i]!);
    return out;
  }
}

// ---------------------------------------------------------------------------------------------
// Watchers
// ---------------------------------------------------------------------------------------------

/**
 * One watch served from the cache: an async iterator of ServedWatchEvents. Iterate it (or call
 * next()) to drain; `stop()` ends it. It also ends by itself (`closeReason`) when it falls more
 * than the buffer behind, after a 410 ERROR event, or when the cache re-initializes or stops.
 */
export class CacheWatcher implements AsyncIterableIterator<ServedWatchEvent> {
  /** Events queued at creation (the initial state or the replay), delivered before live ones. */
  private initial: ServedWatchEvent[];
  private initialIndex = 0;
  private readonly live: ServedWatchEvent[] = [];
  private liveHead = 0;
  private waiting: ((result: IteratorResult<ServedWatchEvent>) => void) | null = null;
  private reason: WatcherCloseReason | null = null;
  /** Set for a watcher made only to deliver an ERROR: it ends after its initial events. */
  private endAfterInitial = false;
  private readonly closedListeners: Array<(reason: WatcherCloseReason) => void> = [];
  /** @internal */
  onClose: ((watcher: CacheWatcher) => void) | null = null;

  /** @internal */
  constructor(
    readonly resource: StorageResource,
    /** @internal */ readonly filter: WatcherFilter,
    /** Events at or below this revision are not sent (a watch from a resourceVersion ahead of the cache). */
    /** @internal */ readonly minRevision: number,
    readonly allowBookmarks: boolean,
    private readonly bufferedMax: number,
    initial: ServedWatchEvent[],
  ) {
    this.initial = initial;
  }

  /** @internal A watcher that sends one ERROR event, then ends. */
  static failed(resource: StorageResource, status: Status): CacheWatcher {
    const filter: WatcherFilter = { namespace: "", labelSelector: undefined, fieldSelector: undefined, fieldSet: resource.fieldSelectors };
    const watcher = new CacheWatcher(resource, filter, 0, false, 1, [new ServedWatchEvent("ERROR", deepFreeze(status), 0)]);
    watcher.endAfterInitial = true;
    return watcher;
  }

  /** Why it ended, or null while open. */
  get closeReason(): WatcherCloseReason | null {
    return this.reason;
  }

  /** Live events waiting to be read. */
  get bufferedCount(): number {
    return this.live.length - this.liveHead;
  }

  /** Calls `listener` once when the watcher ends (at once if it has). */
  onClosed(listener: (reason: WatcherCloseReason) => void): void {
    if (this.reason !== null) listener(this.reason);
    else this.closedListeners.push(listener);
  }

  /** Ends the watch (the consumer went away). */
  stop(): void {
    this.close("stopped");
  }

  next(): Promise<IteratorResult<ServedWatchEvent>> {
    const event = this.take();
    if (event !== null) return Promise.resolve({ value: event, done: false });
    // A watcher made to deliver an ERROR ends once it has.
    if (this.endAfterInitial) this.close("expired");
    if (this.reason !== null) return Promise.resolve({ value: undefined, done: true });
    assert(this.waiting === null, "one next() at a time on a watcher");
    return new Promise((resolve) => (this.waiting = resolve));
  }

  return(): Promise<IteratorResult<ServedWatchEvent>> {
    this.stop();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** @internal Queues a live event; closes the watcher when its buffer is full. */
  enqueue(event: ServedWatchEvent): void {
    if (this.reason !== null) return;
    if (event.type !== "BOOKMARK" && event.revision <= this.minRevision) return;
    if (this.waiting !== null && this.initialIndex >= this.initial.length && this.bufferedCount === 0) {
      const resolve = this.waiting;
      this.waiting = null;
      resolve({ value: event, done: false });
      return;
    }
    if (this.bufferedCount >= this.bufferedMax) {
      this.close("tooSlow");
      return;
    }
    this.live.push(event);
  }

  /** @internal */
  close(reason: WatcherCloseReason): void {
    if (this.reason !== null) return;
    this.reason = reason;
    // Whatever was buffered is dropped: the client resumes from the last resourceVersion it saw.
    this.initial = [];
    this.initialIndex = 0;
    this.live.length = 0;
    this.liveHead = 0;
    if (this.waiting !== null) {
      const resolve = this.waiting;
      this.waiting = null;
      resolve({ value: undefined, done: true });
    }
    this.onClose?.(this);
    for (const listener of this.closedListeners.splice(0)) listener(reason);
  }

  private take(): ServedWatchEvent | null {
    if (this.initialIndex < this.initial.length) {
      const event = this.initial[this.initialIndex]!;
      this.initialIndex++;
      if (this.initialIndex === this.initial.length) {
        this.initial = [];
        this.initialIndex = 0;
      }
      return event;
    }
    if (this.liveHead < this.live.length) {
      const event = this.live[this.liveHead]!;
      this.live[this.liveHead] = undefined as unknown as ServedWatchEvent;
      this.liveHead++;
      if (this.liveHead === this.live.length) {
        this.live.length = 0;
        this.liveHead = 0;
      }
      return event;
    }
    return null;
  }
}

// ---------------------------------------------------------------------------------------------
// The cache
// ---------------------------------------------------------------------------------------------

export type WatchCacheState = "initializing" | "ready" | "stopped";

export interface WatchCacheStats {
  state: WatchCacheState;
  revision: number;
  resources: number;
  objects: number;
  watchers: number;
  /** Watchers closed because they fell too far behind, since start. */
  watchersClosedTooSlow: number;
  /** Times the cache listed everything again (start, and after its store watch was compacted). */
  initializations: number;
}

interface RevisionWaiter {
  revision: number;
  resolve: (reached: boolean) => void;
  timer: NodeJS.Timeout;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

export class WatchCache {
  readonly keys: KeyLayout;
  private readonly options: Required<Omit<WatchCacheOptions, "logger" | "prefix">>;
  private readonly log: Logger;
  private resources = new Map<string, ResourceCache>();
  private stateValue: WatchCacheState = "initializing";
  /** The revision the cache reflects: the last event applied, or the initial list's revision. */
  private revisionValue = 0;
  /** The list revision of the current initialization (resource caches made later start there). */
  private listRevision = 0;
  /** The highest revision a progress notification reported (freshness checks only). */
  private progressRevision = 0;
  private storeWatch: StoreWatch | null = null;
  private readyWaiters: Array<() => void> = [];
  private revisionWaiters: RevisionWaiter[] = [];
  private bookmarkTimer: NodeJS.Timeout | null = null;
  private started = false;
  private watchersClosedTooSlow = 0;
  private initializations = 0;

  constructor(
    private readonly client: EtcdClient,
    options: WatchCacheOptions = {},
  ) {
    this.keys = new KeyLayout(options.prefix ?? watchCacheDefaults.prefix);
    this.options = {
      watchCacheEventsMax: options.watchCacheEventsMax ?? watchCacheDefaults.watchCacheEventsMax,
      watcherEventsBufferedMax: options.watcherEventsBufferedMax ?? watchCacheDefaults.watcherEventsBufferedMax,
      bookmarkIntervalMs: options.bookmarkIntervalMs ?? watchCacheDefaults.bookmarkIntervalMs,
      freshnessTimeoutMs: options.freshnessTimeoutMs ?? watchCacheDefaults.freshnessTimeoutMs,
      initialListPageKeys: options.initialListPageKeys ?? watchCacheDefaults.initialListPageKeys,
      revisionWaitersMax: options.revisionWaitersMax ?? watchCacheDefaults.revisionWaitersMax,
    };
    assert(this.options.watcherEventsBufferedMax > 0, "a watcher buffers at least one event");
    this.log = options.logger ?? createLogger("watch-cache");
  }

  /** Lists everything under the prefix and starts the store watch; see whenReady(). */
  start(): void {
    assert(!this.started, "a watch cache starts once");
    this.started = true;
    void this.initialize();
    this.bookmarkTimer = setInterval(() => this.sendBookmarks(), this.options.bookmarkIntervalMs);
    this.bookmarkTimer.unref();
  }

  /** Closes the store watch and every watcher. */
  stop(): void {
    if (this.stateValue === "stopped") return;
    this.stateValue = "stopped";
    if (this.bookmarkTimer !== null) clearInterval(this.bookmarkTimer);
    this.storeWatch?.close();
    this.storeWatch = null;
    this.closeAllWatchers("cacheStopped");
    for (const waiter of this.revisionWaiters.splice(0)) {
      clearTimeout(waiter.timer);
      waiter.resolve(false);
    }
    for (const resolve of this.readyWaiters.splice(0)) resolve();
  }

  get state(): WatchCacheState {
    return this.stateValue;
  }

  get ready(): boolean {
    return this.stateValue === "ready";
  }

  /** The store revision the cache reflects. */
  get revision(): number {
    return this.revisionValue;
  }

  stats(): WatchCacheStats {
    let objects = 0;
    let watchers = 0;
    for (const rc of this.resources.values()) {
      objects += rc.objects.size;
      watchers += rc.watchers.size;
    }
    return {
      state: this.stateValue,
      revision: this.revisionValue,
      resources: this.resources.size,
      objects,
      watchers,
      watchersClosedTooSlow: this.watchersClosedTooSlow,
      initializations: this.initializations,
    };
  }

  /** Resolves true once the cache is ready, false if it is not within `timeoutMs` (or stopped). */
  whenReady(timeoutMs: number): Promise<boolean> {
    if (this.stateValue === "ready") return Promise.resolve(true);
    if (this.stateValue === "stopped") return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.readyWaiters = this.readyWaiters.filter((w) => w !== done);
        resolve(false);
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        resolve(this.stateValue === "ready");
      };
      this.readyWaiters.push(done);
    });
  }

  /**
   * Waits until the cache has caught up with the store's current revision (read now, with a
   * linearizable read), asking the store for a progress notification in case the latest changes
   * were outside the prefix. Resolves whether it got there within `timeoutMs`.
   */
  async waitUntilFresh(timeoutMs: number = this.options.freshnessTimeoutMs): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    if (!(await this.whenReady(timeoutMs))) return false;
    const target = await this.client.currentRevision({ timeoutMs: Math.max(1, deadline - Date.now()) });
    if (this.isFresh(target)) return true;
    this.storeWatch?.requestProgress();
    return this.waitFor(target, Math.max(0, deadline - Date.now()));
  }

  /** Waits until the cache reflects `revision`; 504 Too large resource version after the timeout. */
  async waitForRevision(revision: number, timeoutMs: number = this.options.freshnessTimeoutMs): Promise<void> {
    await this.requireReady();
    if (this.revisionValue >= revision) return;
    if (!(await this.waitFor(revision, timeoutMs))) throw tooLargeResourceVersionError(revision, this.revisionValue);
  }

  /** One object as the cache has it (frozen), or undefined. */
  async get(
    resource: StorageResource,
    namespace: string | undefined,
    name: string,
    options: { resourceVersion?: string } = {},
  ): Promise<KubeObject | undefined> {
    const revision = parseResourceVersion(options.resourceVersion);
    await this.requireReady();
    if (revision > 0) await this.waitForRevision(revision);
    const key = this.keys.objectKey(resource, namespace, name);
    return this.resources.get(resourceId(resource))?.objects.get(key)?.object;
  }

  /** The objects of a resource as the cache has them, filtered (Kubernetes' list at resourceVersion "0"). */
  async list(resource: StorageResource, options: CacheListOptions = {}): Promise<CacheListResult> {
    const revision = parseResourceVersion(options.resourceVersion);
    await this.requireReady();
    if (revision > 0) await this.waitForRevision(revision);
    const rc = this.resourceCache(resourceId(resource));
    const filter = this.filterFor(resource, options);
    const prefix = filter.namespace === "" ? null : this.keys.listPrefix(resource, filter.namespace);
    const items: KubeObject[] = [];
    for (const key of rc.keysUnder(prefix)) {
      const entry = rc.objects.get(key)!;
      if (matches(filter, entry.namespace, entry.object)) items.push(entry.object);
    }
    return { items, resourceVersion: String(this.revisionValue) };
  }

  /**
   * Starts a watch (see the module comment for the semantics). Throws 429 while the cache is
   * (re)initializing and 400 for a malformed resourceVersion; a too old one is reported in the
   * watch, as an ERROR event, as Kubernetes does.
   */
  async watch(resource: StorageResource, options: CacheWatchOptions = {}): Promise<CacheWatcher> {
    const rvText = options.resourceVersion ?? "";
    const requested = parseResourceVersion(rvText);
    if (rvText === "") await this.waitUntilFresh().catch(() => false); // best effort: "most recent"
    await this.requireReady();
    const rc = this.resourceCache(resourceId(resource));
    const filter = this.filterFor(resource, options);
    const initial: ServedWatchEvent[] = [];
    let minRevision = 0;
    if (requested === 0) {
      // Synthetic ADDED events for the current state, then everything after it.
      const prefix = filter.namespace === "" ? null : this.keys.listPrefix(resource, filter.namespace);
      for (const key of rc.keysUnder(prefix)) {
        const entry = rc.objects.get(key)!;
        if (!matches(filter, entry.namespace, entry.object)) continue;
        entry.added ??= new ServedWatchEvent("ADDED", entry.object, Number(entry.object.metadata.resourceVersion));
        initial.push(entry.added);
      }
      minRevision = this.revisionValue;
    } else {
      if (requested < rc.oldestReplayable) {
        return CacheWatcher.failed(resource, statusResourceExpired(`too old resource version: ${requested} (${rc.oldestReplayable})`));
      }
      const from = rc.events.firstIndexWhere((e) => e.revision > requested);
      for (let i = from; i < rc.events.length; i++) {
        const served = eventFor(filter, rc.events.at(i));
        if (served !== null) initial.push(served);
      }
      // Live events are all newer than the cache; a resourceVersion ahead of it skips up to itself.
      minRevision = Math.max(requested, this.revisionValue);
    }
    const watcher = new CacheWatcher(resource, filter, minRevision, options.allowWatchBookmarks === true, this.options.watcherEventsBufferedMax, initial);
    rc.watchers.add(watcher);
    watcher.onClose = (w) => {
      rc.watchers.delete(w);
      if (w.closeReason === "tooSlow") {
        this.watchersClosedTooSlow++;
        this.log.info({ resource: rc.id, buffered: this.options.watcherEventsBufferedMax }, "closed a watcher that could not keep up");
      }
    };
    return watcher;
  }

  // ---- internals ----

  private filterFor(resource: StorageResource, options: { namespace?: string; labelSelector?: Selector; fieldSelector?: FieldSelector }): WatcherFilter {
    return {
      namespace: resource.namespaced ? (options.namespace ?? "") : "",
      labelSelector: options.labelSelector === undefined || options.labelSelector.isEmpty() ? undefined : options.labelSelector,
      fieldSelector: options.fieldSelector === undefined || options.fieldSelector.isEmpty() ? undefined : options.fieldSelector,
      fieldSet: resource.fieldSelectors,
    };
  }

  private async requireReady(): Promise<void> {
    if (this.stateValue === "ready") return;
    if (this.stateValue !== "stopped" && (await this.whenReady(this.options.freshnessTimeoutMs))) return;
    // Kubernetes answers this while its cache (re)initializes; clients retry after a second.
    throw new ApiStatusError(statusTooManyRequests("storage is (re)initializing", 1));
  }

  private isFresh(target: number): boolean {
    return this.revisionValue >= target || this.progressRevision >= target;
  }

  private waitFor(revision: number, timeoutMs: number): Promise<boolean> {
    if (this.isFresh(revision)) return Promise.resolve(true);
    if (this.stateValue === "stopped" || timeoutMs <= 0) return Promise.resolve(false);
    if (this.revisionWaiters.length >= this.options.revisionWaitersMax) {
      return Promise.reject(new ApiStatusError(statusTooManyRequests("too many requests waiting for the watch cache", 1)));
    }
    return new Promise((resolve) => {
      const waiter: RevisionWaiter = {
        revision,
        resolve,
        timer: setTimeout(() => {
          this.revisionWaiters = this.revisionWaiters.filter((w) => w !== waiter);
          resolve(this.isFresh(revision));
        }, timeoutMs),
      };
      this.revisionWaiters.push(waiter);
    });
  }

  private wakeRevisionWaiters(): void {
    if (this.revisionWaiters.length === 0) return;
    const still: RevisionWaiter[] = [];
    for (const waiter of this.revisionWaiters) {
      if (this.isFresh(waiter.revision)) {
        clearTimeout(waiter.timer);
        waiter.resolve(true);
      } else {
        still.push(waiter);
      }
    }
    this.revisionWaiters = still;
  }

  private resourceCache(id: string): ResourceCache {
    let rc = this.resources.get(id);
    if (rc === undefined) {
      rc = new ResourceCache(id, this.options.watchCacheEventsMax, this.listRevision);
      this.resources.set(id, rc);
    }
    return rc;
  }

  private async initialize(): Promise<void> {
    for (let attempt = 1; this.stateValue !== "stopped"; attempt++) {
      try {
        await this.loadAndWatch();
        return;
      } catch (err) {
        const waitMs = Math.min(watchCacheDefaults.initBackoffMsMax, watchCacheDefaults.initBackoffMsInitial * 2 ** Math.min(attempt - 1, 16));
        this.log.warn({ err: (err as Error).message, attempt, waitMs }, "watch cache initialization failed, retrying");
        await sleep(waitMs);
      }
    }
  }

  /** Lists every object at one revision, replaces the cache's contents, and watches from there. */
  private async loadAndWatch(): Promise<void> {
    const prefix = this.keys.prefix;
    const rangeEnd = Buffer.from(prefixRangeEnd(prefix)).toString("utf8");
    const loaded = new Map<string, Map<string, CachedObject>>();
    let revision = 0;
    let startKey = prefix;
    for (;;) {
      const page = await this.client.range({ key: startKey, rangeEnd, limit: this.options.initialListPageKeys, revision });
      if (revision === 0) revision = page.revision;
      for (const kv of page.kvs) {
        const parsed = this.keys.parse(kv.key);
        if (parsed === null) continue;
        const object = this.decode(kv);
        if (object === null) continue;
        let objects = loaded.get(parsed.resourceId);
        if (objects === undefined) loaded.set(parsed.resourceId, (objects = new Map<string, CachedObject>()));
        objects.set(kv.key, { object, namespace: parsed.namespace, added: null });
      }
      if (!page.more) break;
      startKey = `${page.kvs[page.kvs.length - 1]!.key}\u0000`;
    }
    if (this.stateValue === "stopped") return;

    // Watchers of the previous contents cannot be continued consistently: they end, and their
    // clients watch again (and get 410 when their resourceVersion predates this list).
    this.closeAllWatchers("reinitialized");
    this.resources = new Map();
    this.listRevision = revision;
    this.revisionValue = revision;
    for (const [id, objects] of loaded) {
      const rc = this.resourceCache(id);
      for (const [key, entry] of objects) rc.set(key, entry);
    }
    this.initializations++;
    this.storeWatch = this.client.watch(
      { key: prefix, prefix: true, startRevision: revision + 1, prevKv: true, progressNotify: true },
      {
        events: (events) => this.apply(events),
        progress: (rev) => {
          if (rev > this.progressRevision) this.progressRevision = rev;
          this.wakeRevisionWaiters();
        },
        compacted: (compactRevision) => this.reinitialize(compactRevision),
        reconnecting: (reason, attempt) => this.log.warn({ reason, attempt }, "watch cache's store watch reconnecting"),
      },
    );
    this.stateValue = "ready";
    this.log.info({ revision, objects: [...loaded.values()].reduce((n, m) => n + m.size, 0) }, "watch cache ready");
    for (const resolve of this.readyWaiters.splice(0)) resolve();
    this.wakeRevisionWaiters();
  }

  /** The store watch lost history it needed: list again (Kubernetes' reflector relists on 410). */
  private reinitialize(compactRevision: number): void {
    if (this.stateValue === "stopped") return;
    this.log.warn({ revision: this.revisionValue, compactRevision }, "watch cache's store watch was compacted; listing again");
    this.stateValue = "initializing";
    this.storeWatch = null;
    void this.initialize();
  }

  private decode(kv: Parameters<typeof decodeStored>[0]): KubeObject | null {
    try {
      return deepFreeze(decodeStored(kv));
    } catch (err) {
      this.log.error({ key: kv.key, err: (err as Error).message }, "skipping an undecodable stored object");
      return null;
    }
  }

  /** Applies one store watch response: updates contents, records and fans out each event. */
  private apply(events: StoreWatchEvent[]): void {
    if (this.stateValue !== "ready") return;
    for (const e of events) {
      const revision = e.kv.modRevision;
      assert(revision >= this.revisionValue, "store watch events arrive in revision order");
      this.revisionValue = revision;
      const parsed = this.keys.parse(e.kv.key);
      if (parsed === null) continue;
      const rc = this.resourceCache(parsed.resourceId);
      const before = rc.objects.get(e.kv.key);
      let event: CacheEvent;
      if (e.type === "PUT") {
        const object = this.decode(e.kv);
        if (object === null) continue;
        rc.set(e.kv.key, { object, namespace: parsed.namespace, added: null });
        event =
          before === undefined
            ? new CacheEvent("ADDED", revision, parsed.namespace, object, null)
            : new CacheEvent("MODIFIED", revision, parsed.namespace, object, before.object);
      } else {
        // The cache's own copy is the previous state; prev_kv stands in if the cache lacked it.
        const last = before?.object ?? (e.prevKv !== null ? this.decode(e.prevKv) : null);
        rc.remove(e.kv.key);
        if (last === null) continue;
        event = new CacheEvent("DELETED", revision, parsed.namespace, atRevision(last, revision), null);
      }
      rc.record(event);
      for (const watcher of rc.watchers) {
        const served = eventFor(watcher.filter, event);
        if (served !== null) watcher.enqueue(served);
      }
    }
    this.wakeRevisionWaiters();
  }

  private sendBookmarks(): void {
    if (this.stateValue !== "ready") return;
    const revision = this.revisionValue;
    // One bookmark object per served kind and version, shared by its watchers.
    const bookmarks = new Map<string, ServedWatchEvent>();
    for (const rc of this.resources.values()) {
      for (const watcher of rc.watchers) {
        if (!watcher.allowBookmarks || watcher.minRevision > revision) continue;
        const kind = `${watcher.resource.apiVersion}/${watcher.resource.kind}`;
        let bookmark = bookmarks.get(kind);
        if (bookmark === undefined) {
          const object = deepFreeze({ kind: watcher.resource.kind, apiVersion: watcher.resource.apiVersion, metadata: { resourceVersion: String(revision) } });
          bookmark = new ServedWatchEvent("BOOKMARK", object, revision);
          bookmarks.set(kind, bookmark);
        }
        watcher.enqueue(bookmark);
      }
    }
  }

  private closeAllWatchers(reason: WatcherCloseReason): void {
    for (const rc of this.resources.values()) for (const watcher of [...rc.watchers]) watcher.close(reason);
  }
}
