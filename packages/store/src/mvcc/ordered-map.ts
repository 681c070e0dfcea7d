/**
 * An in-memory B+tree from string keys to values, ordered by JS string comparison (bytewise for
 * the store's byte strings). It backs the MVCC key index: point lookups, ordered range scans, and
 * deletes that give memory back (nodes merge when they fall below a quarter full).
 *
 * Leaves hold the entries and are chained left to right for range scans; branches hold
 * separators: every key under children[i] is < keys[i] <= every key under children[i + 1].
 */
import { assert } from "@coxswain/raft";

/** Entries per node before it splits. 64 keeps a node's binary search within a cache line or two. */
const NODE_ENTRIES_MAX = 64;
/** A non-root node below this borrows from or merges with a sibling. */
const NODE_ENTRIES_MIN = NODE_ENTRIES_MAX / 4;

interface Leaf<V> {
  readonly leaf: true;
  keys: string[];
  values: V[];
  next: Leaf<V> | null;
}

interface Branch<V> {
  readonly leaf: false;
  keys: string[];
  children: TreeNode<V>[];
}

type TreeNode<V> = Leaf<V> | Branch<V>;

function newLeaf<V>(): Leaf<V> {
  return { leaf: true, keys: [], values: [], next: null };
}

/** Index of the first key >= key. */
function lowerBound(keys: readonly string[], key: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid]! < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Index of the first key > key: the child of a branch that may hold key. */
function upperBound(keys: readonly string[], key: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid]! <= key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function entryCount<V>(node: TreeNode<V>): number {
  return node.leaf ? node.keys.length : node.children.length;
}

interface Split<V> {
  separator: string;
  right: TreeNode<V>;
}

export class OrderedMap<V> {
  private root: TreeNode<V> = newLeaf();
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(key: string): V | undefined {
    let node = this.root;
    while (!node.leaf) node = node.children[upperBound(node.keys, key)]!;
    const i = lowerBound(node.keys, key);
    return node.keys[i] === key ? node.values[i] : undefined;
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  /** Inserts or replaces. */
  set(key: string, value: V): void {
    const split = this.insert(this.root, key, value);
    if (split) {
      const root: Branch<V> = { leaf: false, keys: [split.separator], children: [this.root, split.right] };
      this.root = root;
    }
  }

  /** Removes the key; returns whether it was present. */
  delete(key: string): boolean {
    const removed = this.remove(this.root, key);
    if (removed && !this.root.leaf && this.root.children.length === 1) this.root = this.root.children[0]!;
    return removed;
  }

  clear(): void {
    this.root = newLeaf();
    this.count = 0;
  }

  /**
   * Visits entries with start <= key < end in order (end null: no upper bound) until `visit`
   * returns false.
   */
  forEachInRange(start: string, end: string | null, visit: (key: string, value: V) => boolean | void): void {
    let node = this.root;
    while (!node.leaf) node = node.children[upperBound(node.keys, start)]!;
    let leaf: Leaf<V> | null = node;
    let i = lowerBound(leaf.keys, start);
    while (leaf) {
      const keys = leaf.keys;
      for (; i < keys.length; i++) {
        const key = keys[i]!;
        if (end !== null && key >= end) return;
        if (visit(key, leaf.values[i]!) === false) return;
      }
      leaf = leaf.next;
      i = 0;
    }
  }

  /** Every entry in key order. */
  forEach(visit: (key: string, value: V) => boolean | void): void {
    this.forEachInRange("", null, visit);
  }

  /** Checks the tree's structural invariants; for tests. Returns the depth. */
  checkInvariants(): number {
    let leaves = 0;
    const depthOf = (node: TreeNode<V>, low: string | null, high: string | null, isRoot: boolean): number => {
      const keys = node.keys;
      for (let i = 1; i < keys.length; i++) assert(keys[i - 1]! < keys[i]!, "node keys strictly increasing");
      if (keys.length > 0) {
        assert(low === null || keys[0]! >= low, "node keys at or above the separator on the left");
        assert(high === null || keys[keys.length - 1]! < high, "node keys below the separator on the right");
      }
      assert(entryCount(node) <= NODE_ENTRIES_MAX, "node within its capacity");
      assert(isRoot || entryCount(node) >= NODE_ENTRIES_MIN, "non-root node at least a quarter full");
      if (node.leaf) {
        assert(node.values.length === keys.length, "leaf has one value per key");
        leaves += keys.length;
        return 1;
      }
      assert(node.children.length === keys.length + 1, "branch has one more child than separators");
      let depth = -1;
      for (let i = 0; i < node.children.length; i++) {
        const d = depthOf(node.children[i]!, i === 0 ? low : keys[i - 1]!, i === keys.length ? high : keys[i]!, false);
        assert(depth === -1 || depth === d, "all leaves at the same depth");
        depth = d;
      }
      return depth + 1;
    };
    const depth = depthOf(this.root, null, null, true);
    assert(leaves === this.count, "size matches the entries in the leaves");
    return depth;
  }

  private insert(node: TreeNode<V>, key: string, value: V): Split<V> | null {
    if (node.leaf) {
      const i = lowerBound(node.keys, key);
      if (node.keys[i] === key) {
        node.values[i] = value;
        return null;
      }
      node.keys.splice(i, 0, key);
      node.values.splice(i, 0, value);
      this.count++;
      if (node.keys.length <= NODE_ENTRIES_MAX) return null;
      const mid = node.keys.length >>> 1;
      const right: Leaf<V> = { leaf: true, keys: node.keys.splice(mid), values: node.values.splice(mid), next: node.next };
      node.next = right;
      return { separator: right.keys[0]!, right };
    }
    const i = upperBound(node.keys, key);
    const split = this.insert(node.children[i]!, key, value);
    if (!split) return null;
    node.keys.splice(i, 0, split.separator);
    node.children.splice(i + 1, 0, split.right);
    if (node.children.length <= NODE_ENTRIES_MAX) return null;
    const mid = node.children.length >>> 1;
    const rightChildren = node.children.splice(mid);
    const rightKeys = node.keys.splice(mid);
    const separator = node.keys.pop()!;
    return { separator, right: { leaf: false, keys: rightKeys, children: rightChildren } };
  }

  private remove(node: TreeNode<V>, key: string): boolean {
    if (node.leaf) {
      const i = lowerBound(node.keys, key);
      if (node.keys[i] !== key) return false;
      node.keys.splice(i, 1);
      node.values.splice(i, 1);
      this.count--;
      return true;
    }
    const i = upperBound(node.keys, key);
    const child = node.children[i]!;
    if (!this.remove(child, key)) return false;
    if (entryCount(child) < NODE_ENTRIES_MIN) this.rebalance(node, i);
    return true;
  }

  /** Restores the minimum fill of parent.children[i] by borrowing from or merging with a sibling. */
  private rebalance(parent: Branch<V>, i: number): void {
    const child = parent.children[i]!;
    const left = i > 0 ? parent.children[i - 1]! : null;
    const right = i + 1 < parent.children.length ? parent.children[i + 1]! : null;
    if (left && entryCount(left) > NODE_ENTRIES_MIN) {
      if (child.leaf && left.leaf) {
        child.keys.unshift(left.keys.pop()!);
        child.values.unshift(left.values.pop()!);
        parent.keys[i - 1] = child.keys[0]!;
      } else if (!child.leaf && !left.leaf) {
        child.children.unshift(left.children.pop()!);
        child.keys.unshift(parent.keys[i - 1]!);
        parent.keys[i - 1] = left.keys.pop()!;
      }
      return;
    }
    if (right && entryCount(right) > NODE_ENTRIES_MIN) {
      if (child.leaf && right.leaf) {
        child.keys.push(right.keys.shift()!);
        child.values.push(right.values.shift()!);
        parent.keys[i] = right.keys[0]!;
      } else if (!child.leaf && !right.leaf) {
        child.children.push(right.children.shift()!);
        child.keys.push(parent.keys[i]!);
        parent.keys[i] = right.keys.shift()!;
      }
      return;
    }
    // Neither sibling can spare an entry: merge with one (the pair fits in one node).
    const j = left ? i - 1 : i;
    const a = parent.children[j]!;
    const b = parent.children[j + 1];
    if (!b) return; // an only child; the caller collapses the root
    if (a.leaf && b.leaf) {
      for (let k = 0; k < b.keys.length; k++) {
        a.keys.push(b.keys[k]!);
        a.values.push(b.values[k]!);
      }
      a.next = b.next;
    } else if (!a.leaf && !b.leaf) {
      a.keys.push(parent.keys[j]!);
      for (const k of b.keys) a.keys.push(k);
      for (const c of b.children) a.children.push(c);
    }
    parent.keys.splice(j, 1);
    parent.children.splice(j + 1, 1);
  }
}
