/**
 * A work queue with `addAfter` (client-go util/workqueue/delaying_queue.go): the item joins the
 * queue once its delay has passed. An item already waiting keeps the earlier of its two ready
 * times, so waiting items are bounded by distinct keys too. One clock timer, for the earliest.
 */
import type { CancelTimer } from "../clock/clock.js";
import { MinHeap } from "./heap.js";
import { WorkQueue, type QueueItem, type WorkQueueOptions } from "./queue.js";

export class DelayingQueue<T extends QueueItem = string> extends WorkQueue<T> {
  private readonly heap = new MinHeap<T>();
  /** The one live ready time of each waiting item; heap entries that disagree are stale. */
  private readonly readyAtMs = new Map<T, number>();
  private sequence = 0;
  private cancelTimer: CancelTimer | null = null;
  private timerAtMs = Number.POSITIVE_INFINITY;

  constructor(options: WorkQueueOptions = {}) {
    super(options);
  }

  /** Adds `item` after `delayMs` (at once when it is not positive). */
  addAfter(item: T, delayMs: number): void {
    if (this.shuttingDown()) return;
    this.metrics.retry();
    if (delayMs <= 0) {
      this.add(item);
      return;
    }
    const readyAtMs = this.clock.now() + delayMs;
    const existing = this.readyAtMs.get(item);
    if (existing !== undefined && existing <= readyAtMs) return;
    this.readyAtMs.set(item, readyAtMs);
    this.heap.push({ item, readyAtMs, sequence: this.sequence++ });
    // Moving items earlier leaves stale entries; sweep them before they outnumber live ones.
    if (this.heap.size > 2 * this.readyAtMs.size + 64) this.heap.filter((e) => this.readyAtMs.get(e.item) === e.readyAtMs);
    this.arm();
  }

  /** Items waiting for their delay to pass. */
  waitingCount(): number {
    return this.readyAtMs.size;
  }

  /** Waiting items are dropped, as client-go's delaying queue drops them. */
  override shutDown(): void {
    this.cancelTimer?.();
    this.cancelTimer = null;
    this.timerAtMs = Number.POSITIVE_INFINITY;
    this.heap.clear();
    this.readyAtMs.clear();
    super.shutDown();
  }

  private arm(): void {
    for (let top = this.heap.peek(); top !== undefined && this.readyAtMs.get(top.item) !== top.readyAtMs; top = this.heap.peek()) this.heap.pop();
    const top = this.heap.peek();
    if (top === undefined || this.timerAtMs <= top.readyAtMs) return;
    this.cancelTimer?.();
    this.timerAtMs = top.readyAtMs;
    this.cancelTimer = this.clock.setTimer(top.readyAtMs - this.clock.now(), () => {
      this.cancelTimer = null;
      this.timerAtMs = Number.POSITIVE_INFINITY;
      this.releaseReady();
    });
  }

  private releaseReady(): void {
    const now = this.clock.now();
    for (let top = this.heap.peek(); top !== undefined && top.readyAtMs <= now; top = this.heap.peek()) {
      this.heap.pop();
      if (this.readyAtMs.get(top.item) !== top.readyAtMs) continue;
      this.readyAtMs.delete(top.item);
      this.add(top.item);
    }
    this.arm();
  }
}
