/**
 * Bounded exponential backoff with jitter, for loops that retry a remote call (the informer's
 * list and watch). Jitter spreads the retries of many clients after one API server restarts.
 */
import type { RandomSource } from "@coxswain/raft";
import { assert } from "@coxswain/raft";

export interface BackoffOptions {
  delayMsInitial: number;
  delayMsMax: number;
  /** Each delay is the previous one times this. */
  factor?: number;
  /** A delay d becomes a value in [d, d * (1 + jitter)), before the cap. */
  jitter?: number;
  random?: RandomSource;
}

export class Backoff {
  private delayMs: number;
  private readonly factor: number;
  private readonly jitter: number;

  constructor(private readonly options: BackoffOptions) {
    assert(options.delayMsInitial > 0, "backoff needs a positive initial delay");
    assert(options.delayMsMax >= options.delayMsInitial, "backoff cap below its initial delay");
    this.delayMs = options.delayMsInitial;
    this.factor = options.factor ?? 2;
    this.jitter = options.jitter ?? 0;
  }

  /** The delay before the next attempt; each call grows the following one up to the cap. */
  next(): number {
    const base = this.delayMs;
    this.delayMs = Math.min(this.delayMs * this.factor, this.options.delayMsMax);
    const spread = this.jitter > 0 && this.options.random !== undefined ? (base * this.jitter * this.options.random.intn(1_000)) / 1_000 : 0;
    return Math.min(base + spread, this.options.delayMsMax);
  }

  /** After a success the next failure waits the initial delay again. */
  reset(): void {
    this.delayMs = this.options.delayMsInitial;
  }
}
