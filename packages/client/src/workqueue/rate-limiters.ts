/**
 * How long an item waits before it is retried (client-go util/workqueue/default_rate_limiters.go).
 * The default combines a per-item exponential backoff (5 ms doubling to 1000 s: one failing
 * object backs off alone) with an overall token bucket (10 per second, bursts of 100: many
 * failing objects together cannot flood the API server), taking the longer of the two delays.
 */
import { assert } from "@coxswain/raft";
import { realClock, type Clock } from "../clock/clock.js";

export interface RateLimiter<T> {
  /** The delay before `item` may be processed again; counts one more failure for it. */
  when(item: T): number;
  /** `item` succeeded: its next failure starts from the base delay again. */
  forget(item: T): void;
  /** Failures counted for `item` since it was last forgotten. */
  numRequeues(item: T): number;
}

export const rateLimiterDefaults = {
  itemDelayMsBase: 5,
  itemDelayMsMax: 1_000_000,
  bucketQps: 10,
  bucketBurst: 100,
} as const;

/** baseDelay · 2^failures, capped. Remembers one counter per failing item until forgotten. */
export class ItemExponentialFailureRateLimiter<T> implements RateLimiter<T> {
  private readonly failures = new Map<T, number>();

  constructor(
    private readonly delayMsBase: number = rateLimiterDefaults.itemDelayMsBase,
    private readonly delayMsMax: number = rateLimiterDefaults.itemDelayMsMax,
  ) {
    assert(delayMsBase > 0 && delayMsMax >= delayMsBase, "exponential rate limiter needs 0 < base <= max");
  }

  when(item: T): number {
    const exponent = this.failures.get(item) ?? 0;
    this.failures.set(item, exponent + 1);
    // 2 ** exponent reaches Infinity past 1023 failures; the cap makes that harmless.
    return Math.min(this.delayMsBase * 2 ** exponent, this.delayMsMax);
  }

  forget(item: T): void {
    this.failures.delete(item);
  }

  numRequeues(item: T): number {
    return this.failures.get(item) ?? 0;
  }
}

/**
 * A token bucket over all items (golang.org/x/time/rate's reservation): `burst` tokens refilled
 * at `qps` per second; each retry takes one, and when none is left it waits for its turn.
 */
export class BucketRateLimiter<T> implements RateLimiter<T> {
  private tokens: number;
  private lastMs: number;

  constructor(
    private readonly qps: number = rateLimiterDefaults.bucketQps,
    private readonly burst: number = rateLimiterDefaults.bucketBurst,
    private readonly clock: Clock = realClock,
  ) {
    assert(qps > 0 && burst >= 1, "bucket rate limiter needs qps > 0 and burst >= 1");
    this.tokens = burst;
    this.lastMs = clock.now();
  }

  when(_item: T): number {
    const now = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.lastMs) * this.qps) / 1000);
    this.lastMs = now;
    // A reservation: the token is taken now even if it is only there later (tokens go negative).
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : (-this.tokens * 1000) / this.qps;
  }

  forget(_item: T): void {}

  numRequeues(_item: T): number {
    return 0;
  }
}

/** The longest delay of several limiters; every limiter counts every failure. */
export class MaxOfRateLimiter<T> implements RateLimiter<T> {
  private readonly limiters: readonly RateLimiter<T>[];

  constructor(...limiters: RateLimiter<T>[]) {
    assert(limiters.length > 0, "MaxOfRateLimiter needs at least one limiter");
    this.limiters = limiters;
  }

  when(item: T): number {
    let delay = 0;
    for (const l of this.limiters) delay = Math.max(delay, l.when(item));
    return delay;
  }

  forget(item: T): void {
    for (const l of this.limiters) l.forget(item);
  }

  numRequeues(item: T): number {
    let n = 0;
    for (const l of this.limiters) n = Math.max(n, l.numRequeues(item));
    return n;
  }
}

/** client-go's DefaultControllerRateLimiter. */
export function defaultControllerRateLimiter<T>(clock: Clock = realClock): RateLimiter<T> {
  return new MaxOfRateLimiter<T>(
    new ItemExponentialFailureRateLimiter<T>(),
    new BucketRateLimiter<T>(rateLimiterDefaults.bucketQps, rateLimiterDefaults.bucketBurst, clock),
  );
}
