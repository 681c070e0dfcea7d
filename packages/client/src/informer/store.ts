/**
 * The informer's cache (client-go tools/cache thread_safe_store.go + index.go): objects by key,
 * plus named indexes that map an index value to the keys of the objects that produce it, such as
 * `namespace → keys` or `nodeName → pod keys`. JavaScript runs one thing at a time, so the only
 * hazard is re-entrancy: every write updates the items and all indexes before it returns, and
 * every read returns a fresh array, so a handler that reads or lists during an event sees a
 * consistent cache and cannot disturb an iteration in progress.
 */
import type { KubeObject } from "@coxswain/api";
import { deepFreeze } from "./freeze.js";
import { metaNamespaceKey } from "./keys.js";

/** The values an object is indexed under (an object may have several, or none). */
export type IndexFunc<T> = (obj: T) => readonly string[];
export type Indexers<T> = Readonly<Record<string, IndexFunc<T>>>;

export class IndexerConflictError extends Error {
  override readonly name = "IndexerConflictError";
}

export class UnknownIndexError extends Error {
  override readonly name = "UnknownIndexError";
}

/** Index name for `namespaceIndexFunc`, present on every informer (client-go's NamespaceIndex). */
export const namespaceIndex = "namespace";

export const namespaceIndexFunc: IndexFunc<KubeObject> = (obj) => [obj.metadata.namespace ?? ""];

/** What listers and handlers may do with a cache: read. */
export interface ReadonlyIndexer<T extends KubeObject> {
  readonly size: number;
  get(key: string): T | undefined;
  /** The cached object with `obj`'s key, e.g. the current version of a possibly stale object. */
  getByObject(obj: Pick<KubeObject, "metadata">): T | undefined;
  has(key: string): boolean;
  list(): T[];
  listKeys(): string[];
  listInNamespace(namespace: string): T[];
  /** Objects whose index function returned `value` for the index `indexName`. */
  byIndex(indexName: string, value: string): T[];
  indexKeys(indexName: string, value: string): string[];
  /** The values present in an index. */
  indexValues(indexName: string): string[];
}

export class Indexer<T extends KubeObject> implements ReadonlyIndexer<T> {
  private readonly items = new Map<string, T>();
  private readonly indexers = new Map<string, IndexFunc<T>>();
  /** index name → index value → keys. */
  private readonly indices = new Map<string, Map<string, Set<string>>>();

  constructor(indexers: Indexers<T> = {}) {
    this.addIndexers({ [namespaceIndex]: namespaceIndexFunc, ...indexers });
  }

  /**
   * Adds indexes, indexing what is already cached. Adding the same function under the same name
   * again is a no-op (two components sharing an informer may both ask for the standard index);
   * a different function under a taken name is a conflict.
   */
  addIndexers(indexers: Indexers<T>): void {
    for (const [name, fn] of Object.entries(indexers)) {
      const existing = this.indexers.get(name);
      if (existing !== undefined && existing !== fn) throw new IndexerConflictError(`index ${JSON.stringify(name)} already exists with another function`);
    }
    for (const [name, fn] of Object.entries(indexers)) {
      if (this.indexers.has(name)) continue;
      this.indexers.set(name, fn);
      const index = new Map<string, Set<string>>();
      this.indices.set(name, index);
      for (const [key, obj] of this.items) addToIndex(index, fn(obj), key);
    }
  }

  get size(): number {
    return this.items.size;
  }

  get(key: string): T | undefined {
    return this.items.get(key);
  }

  getByObject(obj: Pick<KubeObject, "metadata">): T | undefined {
    return this.items.get(metaNamespaceKey(obj));
  }

  has(key: string): boolean {
    return this.items.has(key);
  }

  list(): T[] {
    return [...this.items.values()];
  }

  listKeys(): string[] {
    return [...this.items.keys()];
  }

  listInNamespace(namespace: string): T[] {
    return this.byIndex(namespaceIndex, namespace);
  }

  byIndex(indexName: string, value: string): T[] {
    return this.indexKeys(indexName, value).map((key) => this.items.get(key)!);
  }

  indexKeys(indexName: string, value: string): string[] {
    const index = this.indices.get(indexName);
    if (index === undefined) throw new UnknownIndexError(`index ${JSON.stringify(indexName)} does not exist`);
    return [...(index.get(value) ?? [])];
  }

  indexValues(indexName: string): string[] {
    const index = this.indices.get(indexName);
    if (index === undefined) throw new UnknownIndexError(`index ${JSON.stringify(indexName)} does not exist`);
    return [...index.keys()];
  }

  /**
   * Stores `obj` (frozen from here on) under its key and returns the object it replaced. Index
   * functions run before anything changes, so one that throws leaves the cache as it was.
   */
  upsert(obj: T): T | undefined {
    const key = metaNamespaceKey(obj);
    deepFreeze(obj);
    const newValues = [...this.indexers].map(([name, fn]) => [name, fn(obj)] as const);
    const old = this.items.get(key);
    if (old !== undefined) this.unindex(key, old);
    this.items.set(key, obj);
    for (const [name, values] of newValues) addToIndex(this.indices.get(name)!, values, key);
    return old;
  }

  /** Removes the object with `key`; returns it, or undefined when there was none. */
  delete(key: string): T | undefined {
    const old = this.items.get(key);
    if (old === undefined) return undefined;
    this.unindex(key, old);
    this.items.delete(key);
    return old;
  }

  private unindex(key: string, obj: T): void {
    for (const [name, fn] of this.indexers) {
      const index = this.indices.get(name)!;
      for (const value of fn(obj)) {
        const keys = index.get(value);
        if (keys === undefined) continue;
        keys.delete(key);
        // Drop empty sets so indexValues lists only values some object has, and memory follows the cache.
        if (keys.size === 0) index.delete(value);
      }
    }
  }
}

function addToIndex(index: Map<string, Set<string>>, values: readonly string[], key: string): void {
  for (const value of values) {
    let keys = index.get(value);
    if (keys === undefined) {
      keys = new Set();
      index.set(value, keys);
    }
    keys.add(key);
  }
}
