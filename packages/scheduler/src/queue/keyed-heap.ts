/**
 * A binary min-heap whose items also have keys, so that an item can be found, replaced or removed
 * by key in O(log n) (kube-scheduler's internal/heap). `less(a, b)` says a comes out first.
 */
import { assert } from "@coxswain/raft";

export class KeyedHeap<T> {
  private readonly items: T[] = [];
  private readonly indexByKey = new Map<string, number>();

  constructor(
    private readonly keyOf: (item: T) => string,
    private readonly less: (a: T, b: T) => boolean,
  ) {}

  get size(): number {
    return this.items.length;
  }

  has(key: string): boolean {
    return this.indexByKey.has(key);
  }

  get(key: string): T | undefined {
    const i = this.indexByKey.get(key);
    return i === undefined ? undefined : this.items[i];
  }

  peek(): T | undefined {
    return this.items[0];
  }

  /** Adds the item, or replaces the item with the same key and restores the order. */
  push(item: T): void {
    const key = this.keyOf(item);
    const existing = this.indexByKey.get(key);
    if (existing !== undefined) {
      this.items[existing] = item;
      this.fix(existing);
      return;
    }
    this.items.push(item);
    this.indexByKey.set(key, this.items.length - 1);
    this.up(this.items.length - 1);
  }

  pop(): T | undefined {
    if (this.items.length === 0) return undefined;
    return this.removeAt(0);
  }

  remove(key: string): T | undefined {
    const i = this.indexByKey.get(key);
    return i === undefined ? undefined : this.removeAt(i);
  }

  values(): IterableIterator<T> {
    return this.items.values();
  }

  private removeAt(i: number): T {
    const last = this.items.length - 1;
    const item = this.items[i];
    assert(item !== undefined, "index within the heap");
    if (i !== last) this.swap(i, last);
    this.items.pop();
    this.indexByKey.delete(this.keyOf(item));
    if (i < this.items.length) this.fix(i);
    return item;
  }

  private fix(i: number): void {
    if (!this.down(i)) this.up(i);
  }

  private up(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(this.at(i), this.at(parent))) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  /** Returns whether the item moved. */
  private down(start: number): boolean {
    let i = start;
    const n = this.items.length;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      let smallest = left;
      if (right < n && this.less(this.at(right), this.at(left))) smallest = right;
      if (!this.less(this.at(smallest), this.at(i))) break;
      this.swap(i, smallest);
      i = smallest;
    }
    return i > start;
  }

  private at(i: number): T {
    const item = this.items[i];
    assert(item !== undefined, "index within the heap");
    return item;
  }

  private swap(i: number, j: number): void {
    const a = this.at(i);
    const b = this.at(j);
    this.items[i] = b;
    this.items[j] = a;
    this.indexByKey.set(this.keyOf(b), i);
    this.indexByKey.set(this.keyOf(a), j);
  }
}
