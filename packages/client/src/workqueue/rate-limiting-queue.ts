/**
 * The queue controllers use (client-go util/workqueue/rate_limiting_queue.go): a failed sync
 * calls `addRateLimited(key)` to retry after the limiter's delay; a successful one calls
 * `forget(key)` so the next failure starts from the base delay.
 */
import { defaultControllerRateLimiter, type RateLimiter } from "./rate-limiters.js";
import { DelayingQueue } from "./delaying-queue.js";
import type { QueueItem, WorkQueueOptions } from "./queue.js";

export interface RateLimitingQueueOptions<T> extends WorkQueueOptions {
  /** client-go's default controller limiter when absent. */
  rateLimiter?: RateLimiter<T>;
}

export class RateLimitingQueue<T extends QueueItem = string> extends DelayingQueue<T> {
  readonly rateLimiter: RateLimiter<T>;

  constructor(options: RateLimitingQueueOptions<T> = {}) {
    super(options);
    this.rateLimiter = options.rateLimiter ?? defaultControllerRateLimiter<T>(this.clock);
  }

  addRateLimited(item: T): void {
    this.addAfter(item, this.rateLimiter.when(item));
  }

  forget(item: T): void {
    this.rateLimiter.forget(item);
  }

  numRequeues(item: T): number {
    return this.rateLimiter.numRequeues(item);
  }
}
