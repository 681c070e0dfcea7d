/**
 * The storage the REST and gRPC front ends use: writes go to the Store, reads to the watch cache
 * or the store depending on the resourceVersion asked for, watches to the watch cache — as
 * Kubernetes' Cacher wraps its etcd3 store (k8s.io/apiserver/pkg/storage/cacher/cacher.go).
 *
 * | request | served by |
 * |---|---|
 * | get, resourceVersion unset | the store (linearizable) |
 * | get, "0" | the cache as it is (the store while the cache is not ready) |
 * | get, N | the cache once it has reached N (504 after the freshness timeout) |
 * | list with `continue`, with `limit` (unless "0"), or `resourceVersionMatch=Exact` | the store |
 * | list, unset | the cache once it has caught up with the store's current revision; the store if it does not in time |
 * | list, "0" | the cache as it is (`limit` is ignored, as Kubernetes does for "0"); the store while the cache is not ready |
 * | list, N (NotOlderThan) | the cache once it has reached N (504 after the freshness timeout) |
 * | watch | the cache |
 */
import type { KubeObject } from "@coxswain/api";
import type { StorageResource } from "./keys.js";
import type { DeleteOptions, ListOptions, ListResult, Store, TryUpdate, UpdateOptions } from "./store.js";
import type { CacheWatcher, CacheWatchOptions, WatchCache } from "./watch-cache.js";

export interface CacherOptions {
  /** Serve lists without a resourceVersion from the cache after a freshness check (Kubernetes 1.31+). Default true. */
  consistentListFromCache?: boolean;
}

export interface GetOptions {
  resourceVersion?: string;
}

export class Cacher {
  private readonly consistentListFromCache: boolean;

  constructor(
    readonly store: Store,
    readonly cache: WatchCache,
    options: CacherOptions = {},
  ) {
    this.consistentListFromCache = options.consistentListFromCache ?? true;
  }

  create(resource: StorageResource, obj: KubeObject): Promise<KubeObject> {
    return this.store.create(resource, obj);
  }

  guaranteedUpdate(resource: StorageResource, namespace: string | undefined, name: string, tryUpdate: TryUpdate, options?: UpdateOptions): Promise<KubeObject> {
    return this.store.guaranteedUpdate(resource, namespace, name, tryUpdate, options);
  }

  delete(resource: StorageResource, namespace: string | undefined, name: string, options?: DeleteOptions): Promise<KubeObject> {
    return this.store.delete(resource, namespace, name, options);
  }

  /**
   * One object; 404 when absent. Objects from the cache are frozen and shared: copy before
   * changing one (structuredClone).
   */
  async get(resource: StorageResource, namespace: string | undefined, name: string, options: GetOptions = {}): Promise<KubeObject> {
    const rv = options.resourceVersion ?? "";
    if (rv === "" || (rv === "0" && !this.cache.ready)) return this.store.get(resource, namespace, name);
    const cached = await this.cache.get(resource, namespace, name, { resourceVersion: rv });
    // Absent from the cache: the store words the 404 (and settles a race with a create in flight).
    return cached ?? this.store.get(resource, namespace, name);
  }

  /** A list; items from the cache are frozen and shared (see get). */
  async list(resource: StorageResource, options: ListOptions = {}): Promise<ListResult> {
    const rv = options.resourceVersion ?? "";
    const limit = options.limit ?? 0;
    const paging = (options.continue ?? "") !== "" || (limit > 0 && rv !== "0");
    if (paging || options.resourceVersionMatch === "Exact") return this.store.list(resource, options);
    if (rv === "") {
      if (!this.consistentListFromCache || !(await this.cache.waitUntilFresh().catch(() => false))) return this.store.list(resource, options);
    } else if (rv === "0" && !this.cache.ready) {
      return this.store.list(resource, { ...options, limit: 0 });
    }
    const result = await this.cache.list(resource, {
      ...(options.namespace !== undefined ? { namespace: options.namespace } : {}),
      ...(options.labelSelector !== undefined ? { labelSelector: options.labelSelector } : {}),
      ...(options.fieldSelector !== undefined ? { fieldSelector: options.fieldSelector } : {}),
      resourceVersion: rv,
    });
    return { items: result.items, resourceVersion: result.resourceVersion };
  }

  watch(resource: StorageResource, options: CacheWatchOptions = {}): Promise<CacheWatcher> {
    return this.cache.watch(resource, options);
  }
}
