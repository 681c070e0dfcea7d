/**
 * A shared informer for one resource (client-go tools/cache: reflector.go, shared_informer.go):
 * list, then watch from the list's resourceVersion, keeping an indexed cache current and telling
 * handlers what changed.
 *
 * - List in pages (limit/continue); if the continue token expires mid-way, list again in one
 *   request, as client-go's pager falls back.
 * - Watch from the last resourceVersion seen, asking for bookmarks so that the resourceVersion
 *   moves on even when nothing this informer sees changes.
 * - A watch that ends (the server closed it, the connection broke) is reopened from the last
 *   resourceVersion: nothing is lost and nothing is listed again.
 * - A watch answered with 410 (an ERROR event carrying a 410 Status, or the call failing with
 *   one) means the server no longer has the history: list again and tell handlers the
 *   difference, as client-go's Replace does (added, updated, and deleted with
 *   `finalStateUnknown`, since the last state of a deletion missed is not known).
 * - Failures wait a bounded, jittered exponential backoff (client-go's reflector: 800 ms to 30 s).
 *
 * Cached objects are frozen: handlers and listers share them. Handlers are called synchronously
 * and only enqueue keys (CONVENTIONS rule 5); a handler that throws is a programmer error and is
 * rethrown outside the informer's loop, which ends the process (client-go's HandleCrash).
 */
import type { KubeList, KubeObject } from "@coxswain/api";
import { silentLogger, type Logger, type RandomSource, SeededRandom, assert } from "@coxswain/raft";
import { isResourceExpired, watchErrorToError, type ApiClientInterface, type GroupVersionResource } from "../api.js";
import type { ResourceRef, Watch } from "../client.js";
import { realClock, sleep, type Clock } from "../clock/clock.js";
import { Backoff } from "../util/backoff.js";
import { deepFreeze } from "./freeze.js";
import { metaNamespaceKey } from "./keys.js";
import { Indexer, type Indexers, type ReadonlyIndexer } from "./store.js";

export interface ResourceEventHandler<T> {
  /** `isInInitialList`: the object was there when the handler started (first list or late registration). */
  onAdd?(obj: T, isInInitialList: boolean): void;
  onUpdate?(oldObj: T, newObj: T): void;
  /**
   * `finalStateUnknown`: the deletion was found by a relist, so `obj` is the last state this
   * informer saw, not the state the object was deleted in (client-go's DeletedFinalStateUnknown).
   */
  onDelete?(obj: T, finalStateUnknown: boolean): void;
}

export interface HandlerRegistration {
  /** Stops delivering events to the handler. */
  remove(): void;
  /** The handler has been told about every object of the informer's first list. */
  hasSynced(): boolean;
}

export interface InformerSelectors {
  /** Only this namespace; all namespaces when absent or "". */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

export interface SharedInformerOptions<T extends KubeObject> extends InformerSelectors {
  indexers?: Indexers<T>;
  /** Objects per list page. */
  listPageSize?: number;
  /** Every this often, handlers get onUpdate(obj, obj) for every cached object; 0 turns it off. */
  resyncPeriodMs?: number;
  backoffMsInitial?: number;
  backoffMsMax?: number;
  clock?: Clock;
  random?: RandomSource;
  logger?: Logger;
  /** Where a throwing handler's error goes; by default it is rethrown outside the loop. */
  onHandlerError?: (error: unknown) => void;
}

export const informerDefaults = {
  // client-go lists 500 at a time (pager.defaultPageSize).
  listPageSize: 500,
  resyncPeriodMs: 0,
  // client-go's reflector backoff: 800 ms initial, doubling, capped at 30 s, jittered.
  backoffMsInitial: 800,
  backoffMsMax: 30_000,
} as const;

/** A list that needs more pages than this is a runaway continue loop, not a big cluster. */
export const listPagesMax = 100_000;

export class ListPagesExceededError extends Error {
  override readonly name = "ListPagesExceededError";
}

interface Registration<T> {
  handler: ResourceEventHandler<T>;
  removed: boolean;
  synced: boolean;
}

export class SharedInformer<T extends KubeObject> {
  private readonly cache: Indexer<T>;
  private readonly handlers: Registration<T>[] = [];
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly backoff: Backoff;
  private readonly o: Required<Pick<SharedInformerOptions<T>, "listPageSize" | "resyncPeriodMs">> & SharedInformerOptions<T>;
  private synced = false;
  private lastResourceVersion = "";
  private abort: AbortController | null = null;
  private loopDone: Promise<void> | null = null;
  private currentWatch: Watch<T> | null = null;
  private cancelResync: (() => void) | null = null;
  private syncWaiters: (() => void)[] = [];
  private relistCount = 0;

  constructor(
    private readonly api: ApiClientInterface,
    readonly resource: GroupVersionResource<T>,
    options: SharedInformerOptions<T> = {},
  ) {
    this.o = { ...informerDefaults, ...options };
    assert(this.o.listPageSize > 0, "listPageSize must be positive");
    this.clock = options.clock ?? realClock;
    this.logger = (options.logger ?? silentLogger).child({ informer: this.description() });
    this.backoff = new Backoff({
      delayMsInitial: options.backoffMsInitial ?? informerDefaults.backoffMsInitial,
      delayMsMax: options.backoffMsMax ?? informerDefaults.backoffMsMax,
      jitter: 1,
      random: options.random ?? new SeededRandom(Date.now() >>> 0),
    });
    this.cache = new Indexer<T>(options.indexers ?? {});
  }

  /** The cache: read it, never change what it returns. */
  get store(): ReadonlyIndexer<T> {
    return this.cache;
  }

  addIndexers(indexers: Indexers<T>): void {
    this.cache.addIndexers(indexers);
  }

  /**
   * Registers a handler. Registered after the first list, it is told about every cached object
   * at once (onAdd with isInInitialList) so it starts from the same state as earlier ones.
   */
  addEventHandler(handler: ResourceEventHandler<T>): HandlerRegistration {
    const registration: Registration<T> = { handler, removed: false, synced: this.synced };
    this.handlers.push(registration);
    if (this.synced) for (const obj of this.cache.list()) this.call(registration, (h) => h.onAdd?.(obj, true));
    return {
      remove: () => {
        registration.removed = true;
        const i = this.handlers.indexOf(registration);
        if (i >= 0) this.handlers.splice(i, 1);
      },
      hasSynced: () => registration.synced,
    };
  }

  /** The first list has been stored and delivered. */
  hasSynced(): boolean {
    return this.synced;
  }

  /** Resolves true once synced, false if `signal` aborts or the informer stops first. */
  waitForSync(signal?: AbortSignal): Promise<boolean> {
    if (this.synced) return Promise.resolve(true);
    if (signal?.aborted === true) return Promise.resolve(false);
    return new Promise((resolve) => {
      const onAbort = (): void => resolve(false);
      signal?.addEventListener("abort", onAbort, { once: true });
      this.syncWaiters.push(() => {
        signal?.removeEventListener("abort", onAbort);
        resolve(this.synced);
      });
    });
  }

  /** The resourceVersion of the last list, event or bookmark seen. */
  lastSyncResourceVersion(): string {
    return this.lastResourceVersion;
  }

  /** How many times the informer listed after its first list (after 410s). */
  get relists(): number {
    return this.relistCount;
  }

  get running(): boolean {
    return this.abort !== null;
  }

  /** Starts listing and watching; does nothing if already running. */
  start(): void {
    if (this.abort !== null) return;
    const abort = new AbortController();
    this.abort = abort;
    this.loopDone = this.loop(abort.signal).catch((err: unknown) => {
      // The loop catches every failure of the API; reaching here is a bug in it.
      this.logger.error({ err }, "informer loop failed");
      throw err;
    });
    this.scheduleResync();
  }

  /** Stops the loop and closes the watch; the cache keeps its last state. */
  async stop(): Promise<void> {
    const abort = this.abort;
    if (abort === null) return;
    abort.abort();
    this.currentWatch?.close();
    this.cancelResync?.();
    this.cancelResync = null;
    for (const wake of this.syncWaiters.splice(0)) wake();
    await this.loopDone;
    this.abort = null;
    this.loopDone = null;
  }

  description(): string {
    const r = this.resource;
    const gr = r.group === "" ? r.resource : `${r.resource}.${r.group}`;
    const parts = [gr];
    if (this.o.namespace) parts.push(`namespace=${this.o.namespace}`);
    if (this.o.labelSelector) parts.push(`labels=${this.o.labelSelector}`);
    if (this.o.fieldSelector) parts.push(`fields=${this.o.fieldSelector}`);
    return parts.join(" ");
  }

  private ref(): ResourceRef {
    const { group, version, resource } = this.resource;
    return { group, version, resource, ...(this.o.namespace ? { namespace: this.o.namespace } : {}) };
  }

  private selectors(): { labelSelector?: string; fieldSelector?: string } {
    return {
      ...(this.o.labelSelector ? { labelSelector: this.o.labelSelector } : {}),
      ...(this.o.fieldSelector ? { fieldSelector: this.o.fieldSelector } : {}),
    };
  }

  private async loop(signal: AbortSignal): Promise<void> {
    let needList = true;
    let expiredInARow = 0;
    while (!signal.aborted) {
      try {
        if (needList) {
          await this.listAndReplace(signal);
          needList = false;
          this.backoff.reset();
        }
        const delivered = await this.watchOnce(signal);
        expiredInARow = 0;
        if (delivered > 0) {
          // The server closed a watch that was working (a timeout, a restart): reopen at once.
          this.backoff.reset();
          continue;
        }
        // A watch that ends without delivering anything is retried after a backoff, so a server
        // that closes watches at once is not called in a tight loop.
      } catch (err) {
        if (signal.aborted) break;
        if (isResourceExpired(err)) {
          needList = true;
          expiredInARow++;
          this.logger.info({ resourceVersion: this.lastResourceVersion }, "resourceVersion expired; listing again");
          // The first 410 is routine (history compacted while we were away): relist at once.
          if (expiredInARow === 1) continue;
        } else {
          this.logger.warn({ err }, needList ? "list failed" : "watch failed");
        }
      }
      if (signal.aborted) break;
      await sleep(this.clock, this.backoff.next(), signal);
    }
  }

  /** Lists every page, then replaces the cache with the result and tells handlers the difference. */
  private async listAndReplace(signal: AbortSignal): Promise<void> {
    let items: T[] = [];
    let resourceVersion = "";
    let continueToken = "";
    let limit: number | undefined = this.o.listPageSize;
    for (let page = 0; ; page++) {
      if (page >= listPagesMax) throw new ListPagesExceededError(`list of ${this.description()} needed more than ${listPagesMax} pages`);
      let list: KubeList<T>;
      try {
        list = await this.api.list<T>(this.ref(), {
          ...this.selectors(),
          ...(limit !== undefined ? { limit } : {}),
          ...(continueToken !== "" ? { continue: continueToken } : {}),
        });
      } catch (err) {
        if (continueToken !== "" && isResourceExpired(err)) {
          // The snapshot the pages came from is gone: one full list instead (client-go's pager).
          items = [];
          continueToken = "";
          limit = undefined;
          continue;
        }
        throw err;
      }
      if (signal.aborted) return;
      items.push(...list.items);
      resourceVersion = list.metadata.resourceVersion ?? "";
      continueToken = list.metadata.continue ?? "";
      if (continueToken === "") break;
    }
    const initial = !this.synced;
    if (!initial) this.relistCount++;
    this.replace(items, initial);
    this.lastResourceVersion = resourceVersion;
    if (initial) this.markSynced();
  }

  /**
   * Makes the cache equal to `items`: new objects are added, changed ones updated, missing ones
   * deleted with finalStateUnknown. Objects whose resourceVersion did not change produce no
   * event (client-go emits an update for them; a level-triggered controller loses nothing and
   * skips a sync per object per relist).
   */
  private replace(items: readonly T[], initial: boolean): void {
    const seen = new Set<string>();
    for (const obj of items) {
      const key = metaNamespaceKey(obj);
      seen.add(key);
      const old = this.cache.get(key);
      if (old !== undefined && old.metadata.resourceVersion === obj.metadata.resourceVersion) continue;
      this.cache.upsert(obj);
      if (old === undefined) this.dispatch((h) => h.onAdd?.(obj, initial));
      else this.dispatch((h) => h.onUpdate?.(old, obj));
    }
    for (const key of this.cache.listKeys()) {
      if (seen.has(key)) continue;
      const old = this.cache.delete(key)!;
      this.dispatch((h) => h.onDelete?.(old, true));
    }
  }

  /** Watches until the stream ends; returns how many events it delivered. Throws on ERROR events. */
  private async watchOnce(signal: AbortSignal): Promise<number> {
    // stop() may have run while the list was finishing; an abort listener added now would never fire.
    if (signal.aborted) return 0;
    const watch = this.api.watch<T>(this.ref(), { ...this.selectors(), resourceVersion: this.lastResourceVersion, allowBookmarks: true });
    this.currentWatch = watch;
    const onAbort = (): void => watch.close();
    signal.addEventListener("abort", onAbort, { once: true });
    let delivered = 0;
    try {
      for await (const event of watch) {
        if (signal.aborted) break;
        switch (event.type) {
          case "ADDED":
          case "MODIFIED":
            this.applyUpsert(event.object);
            break;
          case "DELETED":
            this.applyDelete(event.object);
            break;
          case "BOOKMARK":
            break;
          case "ERROR":
            throw watchErrorToError(event.object);
        }
        const resourceVersion = event.object.metadata?.resourceVersion;
        if (resourceVersion !== undefined && resourceVersion !== "") this.lastResourceVersion = resourceVersion;
        delivered++;
      }
    } finally {
      signal.removeEventListener("abort", onAbort);
      watch.close();
      this.currentWatch = null;
    }
    return delivered;
  }

  private applyUpsert(obj: T): void {
    const old = this.cache.upsert(obj);
    // client-go decides add or update by what the cache held, not by the event's type.
    if (old === undefined) this.dispatch((h) => h.onAdd?.(obj, false));
    else this.dispatch((h) => h.onUpdate?.(old, obj));
  }

  private applyDelete(obj: T): void {
    this.cache.delete(metaNamespaceKey(obj));
    // Handlers get the state the object was deleted in (the event's), frozen like cached ones;
    // client-go tells them about every DELETED event, cached or not.
    deepFreeze(obj);
    this.dispatch((h) => h.onDelete?.(obj, false));
  }

  private markSynced(): void {
    this.synced = true;
    for (const r of this.handlers) r.synced = true;
    for (const wake of this.syncWaiters.splice(0)) wake();
  }

  private scheduleResync(): void {
    if (this.o.resyncPeriodMs <= 0) return;
    this.cancelResync = this.clock.setTimer(this.o.resyncPeriodMs, () => {
      if (this.abort === null) return;
      if (this.synced) for (const obj of this.cache.list()) this.dispatch((h) => h.onUpdate?.(obj, obj));
      this.scheduleResync();
    });
  }

  private dispatch(fn: (handler: ResourceEventHandler<T>) => void): void {
    // A copy: a handler may add or remove handlers while being called.
    for (const registration of [...this.handlers]) this.call(registration, fn);
  }

  private call(registration: Registration<T>, fn: (handler: ResourceEventHandler<T>) => void): void {
    if (registration.removed) return;
    try {
      fn(registration.handler);
    } catch (err) {
      if (this.o.onHandlerError !== undefined) this.o.onHandlerError(err);
      else
        queueMicrotask(() => {
          throw err;
        });
    }
  }
}
