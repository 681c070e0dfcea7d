/** A bounded FIFO that evicts its oldest element when full (the watch cache's event window). */
import { assert } from "@coxswain/raft";

export class Ring<T> {
  private readonly slots: Array<T | undefined>;
  private start = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    assert(Number.isSafeInteger(capacity) && capacity > 0, "a ring holds at least one element");
    this.slots = new Array<T | undefined>(capacity);
  }

  get length(): number {
    return this.count;
  }

  /** Appends; returns the element evicted to make room, if any. */
  push(value: T): T | undefined {
    if (this.count < this.capacity) {
      this.slots[(this.start + this.count) % this.capacity] = value;
      this.count++;
      return undefined;
    }
    const evicted = this.slots[this.start];
    this.slots[this.start] = value;
    this.start = (this.start + 1) % this.capacity;
    return evicted;
  }

  /** The i-th oldest element (0 = oldest). */
  at(i: number): T {
    assert(i >= 0 && i < this.count, "ring index within its length");
    return this.slots[(this.start + i) % this.capacity] as T;
  }

  /** Index of the first element for which `isAfter` holds, given it is false then true along the ring. */
  firstIndexWhere(isAfter: (value: T) => boolean): number {
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (isAfter(this.at(mid))) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  clear(): void {
    this.slots.fill(undefined);
    this.start = 0;
    this.count = 0;
  }
}
