/**
 * The worker loop of every controller (sample-controller's processNextWorkItem): take a key,
 * sync it, `forget` on success, `addRateLimited` on failure (up to `retriesMax`), always `done`.
 * The sync function is where the controller compares desired with actual state.
 */
import type { QueueItem } from "./queue.js";
import type { RateLimitingQueue } from "./rate-limiting-queue.js";

export interface WorkerOptions<T> {
  /** After this many requeues a failing key is dropped until its next change; unbounded when absent. */
  retriesMax?: number;
  /** Told of every failed sync (to log it); `requeued` is false when the key was dropped. */
  onError?: (item: T, error: unknown, requeued: boolean) => void;
  /**
   * Workers stop taking items once this aborts (the item in hand is finished first). A worker
   * blocked waiting for an item wakes when the queue shuts down, so stop with abort + shutDown.
   */
  signal?: AbortSignal;
}

/** Read through a call: the signal may abort while the worker awaits. */
function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

/** Runs one worker until the queue shuts down (or `signal` aborts). */
export async function runWorker<T extends QueueItem>(
  queue: RateLimitingQueue<T>,
  sync: (item: T) => Promise<void>,
  options: WorkerOptions<T> = {},
): Promise<void> {
  for (;;) {
    if (isAborted(options.signal)) return;
    const item = await queue.get();
    if (item === null) return;
    if (isAborted(options.signal)) {
      queue.done(item);
      return;
    }
    try {
      await sync(item);
      queue.forget(item);
    } catch (err) {
      const requeue = options.retriesMax === undefined || queue.numRequeues(item) < options.retriesMax;
      if (requeue) queue.addRateLimited(item);
      else queue.forget(item);
      options.onError?.(item, err, requeue);
    } finally {
      queue.done(item);
    }
  }
}

/** Runs `count` workers; resolves when all have stopped. */
export async function runWorkers<T extends QueueItem>(
  queue: RateLimitingQueue<T>,
  count: number,
  sync: (item: T) => Promise<void>,
  options: WorkerOptions<T> = {},
): Promise<void> {
  await Promise.all(Array.from({ length: count }, () => runWorker(queue, sync, options)));
}
