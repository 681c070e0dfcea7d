/**
 * One informer per resource and selectors for a whole process (client-go's
 * SharedInformerFactory): the scheduler's plugins and queue, or the controller manager's
 * controllers, all read the same pod cache fed by one list and one watch.
 */
import type { KubeObject } from "@coxswain/api";
import type { Logger, RandomSource } from "@coxswain/raft";
import type { ApiClientInterface, GroupVersionResource } from "../api.js";
import type { Clock } from "../clock/clock.js";
import { SharedInformer, type InformerSelectors, type SharedInformerOptions } from "./shared-informer.js";
import type { Indexers } from "./store.js";

export interface SharedInformerFactoryOptions {
  /** Default namespace of every informer; all namespaces when absent. */
  namespace?: string;
  resyncPeriodMs?: number;
  listPageSize?: number;
  backoffMsInitial?: number;
  backoffMsMax?: number;
  clock?: Clock;
  random?: RandomSource;
  logger?: Logger;
  onHandlerError?: (error: unknown) => void;
}

export interface ForResourceOptions<T extends KubeObject> extends InformerSelectors {
  /** Added to the shared informer (the same name with another function is a conflict). */
  indexers?: Indexers<T>;
}

export class SharedInformerFactory {
  private readonly informers = new Map<string, SharedInformer<KubeObject>>();
  private started = false;

  constructor(
    private readonly api: ApiClientInterface,
    private readonly options: SharedInformerFactoryOptions = {},
  ) {}

  /**
   * The informer for `resource` with these selectors, created on first use. An informer asked
   * for after `start()` starts at once.
   */
  forResource<T extends KubeObject>(resource: GroupVersionResource<T>, options: ForResourceOptions<T> = {}): SharedInformer<T> {
    const namespace = options.namespace ?? this.options.namespace ?? "";
    const key = [resource.group, resource.version, resource.resource, namespace, options.labelSelector ?? "", options.fieldSelector ?? ""].join("|");
    let informer = this.informers.get(key) as SharedInformer<T> | undefined;
    if (informer === undefined) {
      const informerOptions: SharedInformerOptions<T> = { ...this.options, namespace };
      if (options.labelSelector !== undefined) informerOptions.labelSelector = options.labelSelector;
      if (options.fieldSelector !== undefined) informerOptions.fieldSelector = options.fieldSelector;
      informer = new SharedInformer<T>(this.api, resource, informerOptions);
      this.informers.set(key, informer as unknown as SharedInformer<KubeObject>);
      if (this.started) informer.start();
    }
    if (options.indexers !== undefined) informer.addIndexers(options.indexers);
    return informer;
  }

  /** Starts every informer created so far (and, from now on, every new one). */
  start(): void {
    this.started = true;
    for (const informer of this.informers.values()) informer.start();
  }

  /** Resolves true when every informer has synced, false if `signal` aborts first. */
  async waitForCacheSync(signal?: AbortSignal): Promise<boolean> {
    const results = await Promise.all([...this.informers.values()].map((i) => i.waitForSync(signal)));
    return results.every(Boolean);
  }

  /** Every informer has synced (a readiness check). */
  hasSynced(): boolean {
    return [...this.informers.values()].every((i) => i.hasSynced());
  }

  /** Descriptions of the informers that have not synced yet, for a readiness message. */
  unsynced(): string[] {
    return [...this.informers.values()].filter((i) => !i.hasSynced()).map((i) => i.description());
  }

  async shutdown(): Promise<void> {
    this.started = false;
    await Promise.all([...this.informers.values()].map((i) => i.stop()));
  }
}
