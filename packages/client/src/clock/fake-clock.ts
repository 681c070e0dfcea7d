/**
 * A clock that moves only when a test says so. `advance(ms)` fires the timers that fall due in
 * time order, letting the promise chains each one starts settle before the next fires, so a test
 * reads as "after 2 s the elector renewed" without ever waiting on real time.
 */
import type { CancelTimer, Clock } from "./clock.js";

interface FakeTimer {
  atMs: number;
  /** Ties at the same instant fire in the order they were set. */
  sequence: number;
  fn: () => void;
  cancelled: boolean;
}

/** Lets every pending promise reaction run: one macrotask turn drains the microtask queue. */
export async function flushPromises(rounds = 3): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

export class FakeClock implements Clock {
  private nowMs: number;
  private sequence = 0;
  private timers: FakeTimer[] = [];

  /** Starts at 2025-01-01T00:00:00Z unless told otherwise, so timestamps in tests are stable. */
  constructor(startMs: number = Date.UTC(2025, 0, 1)) {
    this.nowMs = startMs;
  }

  now(): number {
    return this.nowMs;
  }

  setTimer(delayMs: number, fn: () => void): CancelTimer {
    const timer: FakeTimer = { atMs: this.nowMs + Math.max(0, delayMs), sequence: this.sequence++, fn, cancelled: false };
    this.timers.push(timer);
    return () => {
      timer.cancelled = true;
    };
  }

  /** Timers set and not yet fired or cancelled. */
  pendingTimers(): number {
    return this.timers.filter((t) => !t.cancelled).length;
  }

  /** The instant the next timer fires, if any. */
  nextTimerAtMs(): number | undefined {
    const next = this.earliest();
    return next?.atMs;
  }

  /**
   * Moves time forward by `ms`, firing due timers one at a time in order (each at its own
   * instant) and settling promises after each; timers set while advancing fire too if due.
   */
  async advance(ms: number): Promise<void> {
    const targetMs = this.nowMs + ms;
    await flushPromises();
    for (;;) {
      const next = this.earliest();
      if (next === undefined || next.atMs > targetMs) break;
      this.timers = this.timers.filter((t) => t !== next && !t.cancelled);
      this.nowMs = Math.max(this.nowMs, next.atMs);
      next.fn();
      await flushPromises();
    }
    this.nowMs = targetMs;
    await flushPromises();
  }

  private earliest(): FakeTimer | undefined {
    let best: FakeTimer | undefined;
    for (const t of this.timers) {
      if (t.cancelled) continue;
      if (best === undefined || t.atMs < best.atMs || (t.atMs === best.atMs && t.sequence < best.sequence)) best = t;
    }
    return best;
  }
}
