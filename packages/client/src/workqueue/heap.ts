/** A binary min-heap by `readyAtMs`, for the delaying queue's waiting items. */
export interface HeapEntry<T> {
  item: T;
  readyAtMs: number;
  /** Entries ready at the same instant come out in the order they went in. */
  sequence: number;
}

export class MinHeap<T> {
  private readonly entries: HeapEntry<T>[] = [];

  get size(): number {
    return this.entries.length;
  }

  peek(): HeapEntry<T> | undefined {
    return this.entries[0];
  }

  push(entry: HeapEntry<T>): void {
    this.entries.push(entry);
    let i = this.entries.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  pop(): HeapEntry<T> | undefined {
    const top = this.entries[0];
    const last = this.entries.pop();
    if (top === undefined || last === undefined || this.entries.length === 0) return top;
    this.entries[0] = last;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      if (left < this.entries.length && this.less(left, smallest)) smallest = left;
      if (right < this.entries.length && this.less(right, smallest)) smallest = right;
      if (smallest === i) break;
      this.swap(i, smallest);
      i = smallest;
    }
    return top;
  }

  /** Keeps only entries `keep` accepts (drops stale ones) and restores heap order. */
  filter(keep: (entry: HeapEntry<T>) => boolean): void {
    const kept = this.entries.filter(keep);
    this.entries.length = 0;
    for (const e of kept) this.push(e);
  }

  clear(): void {
    this.entries.length = 0;
  }

  private less(a: number, b: number): boolean {
    const x = this.entries[a]!;
    const y = this.entries[b]!;
    return x.readyAtMs < y.readyAtMs || (x.readyAtMs === y.readyAtMs && x.sequence < y.sequence);
  }

  private swap(a: number, b: number): void {
    const t = this.entries[a]!;
    this.entries[a] = this.entries[b]!;
    this.entries[b] = t;
  }
}
