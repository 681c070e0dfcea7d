/**
 * The work queue controllers feed keys into (client-go util/workqueue/queue.go), with its
 * guarantees:
 *
 * - Fair: items come out in the order they were added.
 * - Stingy: an item added several times before a worker takes it is processed once (`dirty`).
 * - Never twice at once: an item added while a worker holds it (`processing`) is not handed to
 *   another worker; `done()` puts it back, so the change that arrived meanwhile is not lost.
 * - Shutdown: `add` is ignored from then on; workers still get what was queued, then `null`.
 *
 * No cap on length, deliberately: the queue holds each distinct key at most once (and a delayed
 * key at most once more), so it is bounded by the number of objects in the informer caches, and
 * dropping a key would make a level-triggered controller miss an object until its next change.
 * The workqueue_depth metric shows its size.
 */
import type { Registry } from "prom-client";
import { assert } from "@coxswain/raft";
import { realClock, type Clock } from "../clock/clock.js";
import { Fifo } from "./fifo.js";
import { noopQueueMetrics, prometheusQueueMetrics, type QueueMetrics } from "./metrics.js";

/** Items are compared by value: use keys (`namespace/name`), not objects. */
export type QueueItem = string | number;

export interface WorkQueueOptions {
  /** The `name` label of the queue's metrics; required with `registry`. */
  name?: string;
  /** Where the workqueue_* metrics go; none when absent. */
  registry?: Registry;
  clock?: Clock;
}

export class WorkQueue<T extends QueueItem = string> {
  readonly name: string;
  protected readonly clock: Clock;
  protected readonly metrics: QueueMetrics;
  /** Items waiting for a worker, in order; each is also in `dirty` and not in `processing`. */
  private readonly queue = new Fifo<T>();
  /** Items that need processing (queued, or re-added while being processed). */
  private readonly dirty = new Set<T>();
  /** Items a worker holds, with when it took them. */
  private readonly processing = new Map<T, number>();
  /** When each dirty item was first added, for workqueue_queue_duration_seconds. */
  private readonly addedAtMs = new Map<T, number>();
  /** Workers blocked in get(), first come first served. */
  private readonly getters: ((item: T | null) => void)[] = [];
  private readonly drainWaiters: (() => void)[] = [];
  private shutdown = false;

  constructor(options: WorkQueueOptions = {}) {
    this.name = options.name ?? "";
    this.clock = options.clock ?? realClock;
    if (options.registry !== undefined) {
      assert(this.name !== "", "a work queue that reports metrics needs a name");
      this.metrics = prometheusQueueMetrics(options.registry, this.name, { processingSeconds: () => this.processingSeconds() });
    } else {
      this.metrics = noopQueueMetrics;
    }
  }

  /** Marks `item` as needing processing. */
  add(item: T): void {
    if (this.shutdown) return;
    if (this.dirty.has(item)) return;
    this.metrics.add();
    if (!this.addedAtMs.has(item)) this.addedAtMs.set(item, this.clock.now());
    this.dirty.add(item);
    // A worker holds it: done() queues it again, so it is never processed twice at once.
    if (this.processing.has(item)) return;
    this.queue.push(item);
    this.handOut();
  }

  /**
   * The next item, once there is one; `null` once the queue is shut down and empty. The caller
   * must call `done(item)` when finished with it.
   */
  get(): Promise<T | null> {
    if (this.queue.length > 0) return Promise.resolve(this.take());
    if (this.shutdown) return Promise.resolve(null);
    return new Promise((resolve) => this.getters.push(resolve));
  }

  /** The worker is finished with `item`; if it was added meanwhile, it is queued again. */
  done(item: T): void {
    const startedAtMs = this.processing.get(item);
    assert(startedAtMs !== undefined, `done(${JSON.stringify(item)}) for an item no worker holds`);
    this.metrics.done((this.clock.now() - startedAtMs) / 1000);
    this.processing.delete(item);
    if (this.dirty.has(item)) {
      this.queue.push(item);
      this.handOut();
    } else if (this.processing.size === 0) {
      for (const wake of this.drainWaiters.splice(0)) wake();
    }
  }

  /** Items waiting for a worker (not those being processed or delayed). */
  len(): number {
    return this.queue.length;
  }

  /** Items workers hold now. */
  processingCount(): number {
    return this.processing.size;
  }

  /** Stops accepting items; blocked workers get `null` (those queued are still handed out). */
  shutDown(): void {
    if (this.shutdown) return;
    this.shutdown = true;
    this.metrics.close();
    // Getters wait only while the queue is empty, so each of them gets null.
    for (const getter of this.getters.splice(0)) getter(null);
  }

  /** shutDown, then resolves once no worker holds an item (client-go's ShutDownWithDrain). */
  shutDownWithDrain(): Promise<void> {
    this.shutDown();
    if (this.processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  shuttingDown(): boolean {
    return this.shutdown;
  }

  private take(): T {
    const item = this.queue.shift()!;
    const now = this.clock.now();
    this.dirty.delete(item);
    this.processing.set(item, now);
    this.metrics.get((now - (this.addedAtMs.get(item) ?? now)) / 1000);
    this.addedAtMs.delete(item);
    return item;
  }

  private handOut(): void {
    while (this.getters.length > 0 && this.queue.length > 0) this.getters.shift()!(this.take());
  }

  private processingSeconds(): number[] {
    const now = this.clock.now();
    return [...this.processing.values()].map((startedAtMs) => (now - startedAtMs) / 1000);
  }
}
