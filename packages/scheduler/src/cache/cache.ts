/**
 * The scheduler's view of the cluster: every node and every pod bound (or about to be bound) to
 * one, aggregated per node (requested cpu/memory, pod count, host ports), updated incrementally
 * from informer events (kube-scheduler's internal cache).
 *
 * Assumed pods. The scheduler decides faster than the API confirms: after choosing a node it
 * `assumePod`s the pod there at once, so the next decision already sees the node's resources as
 * taken, and binds asynchronously. The pod's life in the cache:
 *
 *   assumePod ──► (bind in flight) ──► finishBinding ──► addPod from the informer: confirmed
 *        │                                   │
 *        └── bind failed: forgetPod           └── no confirmation within the TTL: expired, removed
 *
 * so concurrent decisions never overcommit a node, and a binding whose confirmation is lost does
 * not hold resources forever.
 *
 * Terminated pods (phase Succeeded or Failed) hold no resources: adding or updating a pod into a
 * terminal phase removes it, as kube-scheduler's informer filter does.
 */
import type { Node, Pod } from "@coxswain/api";
import { assert } from "@coxswain/raft";
import { NodeInfo, podCacheKey, PodInfo } from "../framework/types.js";
import { Snapshot } from "./snapshot.js";

/** How long a bound-but-unconfirmed assumed pod is kept (kube-scheduler's historical 30 s). */
export const defaultAssumedPodTtlMs = 30_000;
/** Caps: beyond these the cluster is larger than this scheduler is built and tested for. */
export const cacheNodesMaxDefault = 50_000;
export const cachePodsMaxDefault = 2_000_000;

export interface SchedulerCacheOptions {
  /** 0 keeps assumed pods until confirmed or forgotten. */
  assumedPodTtlMs?: number;
  nodesMax?: number;
  podsMax?: number;
}

export class CacheFullError extends Error {
  override readonly name = "CacheFullError";
}

interface NodeEntry {
  info: NodeInfo;
  /** Toward the head: more recently changed. */
  prev: NodeEntry | undefined;
  next: NodeEntry | undefined;
}

interface PodState {
  pod: PodInfo;
  nodeName: string;
  assumed: boolean;
  bindingFinished: boolean;
  /** When an assumed pod whose binding finished expires; undefined: never. */
  deadlineMs: number | undefined;
}

function isTerminal(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase === "Succeeded" || phase === "Failed";
}

export class SchedulerCache {
  private readonly assumedPodTtlMs: number;
  private readonly nodesMax: number;
  private readonly podsMax: number;
  /** By node name, in first-seen order (the snapshot's list order). */
  private readonly nodes = new Map<string, NodeEntry>();
  /** By pod cache key (UID). */
  private readonly podStates = new Map<string, PodState>();
  private readonly assumedKeys = new Set<string>();
  /** Most recently changed node; the list is in decreasing generation order from here. */
  private head: NodeEntry | undefined = undefined;
  private generation = 0;
  /** Bumped whenever a Node object appears or disappears, so the snapshot rebuilds its list. */
  private nodeSetVersion = 0;
  private nodeObjectCount = 0;

  constructor(options: SchedulerCacheOptions = {}) {
    this.assumedPodTtlMs = options.assumedPodTtlMs ?? defaultAssumedPodTtlMs;
    this.nodesMax = options.nodesMax ?? cacheNodesMaxDefault;
    this.podsMax = options.podsMax ?? cachePodsMaxDefault;
    assert(this.assumedPodTtlMs >= 0, "assumedPodTtlMs is not negative");
  }

  // ---- nodes ----

  /** Adds or replaces a node (informer add and update both land here). */
  addNode(node: Node): void {
    const name = node.metadata.name;
    assert(name !== undefined && name !== "", "a node has a name");
    const entry = this.entryFor(name);
    if (entry.info.node === undefined) {
      if (this.nodeObjectCount >= this.nodesMax) throw new CacheFullError(`the scheduler cache holds at most ${this.nodesMax} nodes`);
      this.nodeObjectCount++;
      this.nodeSetVersion++;
    }
    entry.info.setNode(node);
    this.touch(entry);
  }

  updateNode(node: Node): void {
    this.addNode(node);
  }

  /** The node's pods stay accounted (their own delete events follow) but the node is offered no more. */
  removeNode(name: string): void {
    const entry = this.nodes.get(name);
    if (entry === undefined || entry.info.node === undefined) return;
    entry.info.clearNode();
    this.nodeObjectCount--;
    this.nodeSetVersion++;
    if (entry.info.pods.size === 0) this.dropEntry(entry);
    else this.touch(entry);
  }

  // ---- pods from the informer ----

  /** A bound pod seen by the informer. Confirms it if it was assumed; ignores unbound pods. */
  addPod(pod: Pod): void {
    const nodeName = pod.spec?.nodeName;
    if (!nodeName) return;
    if (isTerminal(pod)) {
      this.removePod(pod);
      return;
    }
    const key = podCacheKey(pod);
    const state = this.podStates.get(key);
    if (state !== undefined) {
      // Confirmation of an assumed pod (possibly on another node than assumed, if someone else
      // bound it), or a repeated add after a relist: either way the informer's object wins.
      this.detach(state);
      this.assumedKeys.delete(key);
    } else if (this.podStates.size >= this.podsMax) {
      throw new CacheFullError(`the scheduler cache holds at most ${this.podsMax} pods`);
    }
    this.attach({ pod: PodInfo.of(pod), nodeName, assumed: false, bindingFinished: false, deadlineMs: undefined });
  }

  /** An informer update; requests may change (in-place resize) and the phase may turn terminal. */
  updatePod(_oldPod: Pod, newPod: Pod): void {
    this.addPod(newPod);
  }

  removePod(pod: Pod): void {
    const key = podCacheKey(pod);
    const state = this.podStates.get(key);
    if (state === undefined) return;
    this.detach(state);
    this.podStates.delete(key);
    this.assumedKeys.delete(key);
  }

  // ---- assumed pods ----

  /** Accounts `pod` (its nodeName set by PodInfo.withNodeName) on its node before the binding is written. */
  assumePod(pod: PodInfo): void {
    const nodeName = pod.nodeName;
    assert(nodeName !== undefined, "an assumed pod names its node");
    assert(!this.podStates.has(pod.cacheKey), "a pod is assumed only while the cache does not know it");
    this.attach({ pod, nodeName, assumed: true, bindingFinished: false, deadlineMs: undefined });
    this.assumedKeys.add(pod.cacheKey);
  }

  /** The binding was written; start the clock for the informer's confirmation. */
  finishBinding(pod: PodInfo, nowMs: number): void {
    const state = this.podStates.get(pod.cacheKey);
    // Already confirmed (the informer was faster than the bind call's reply) or removed: nothing to do.
    if (state === undefined || !state.assumed) return;
    state.bindingFinished = true;
    state.deadlineMs = this.assumedPodTtlMs > 0 ? nowMs + this.assumedPodTtlMs : undefined;
  }

  /** Undo assumePod after a failed bind. Returns false if the pod is no longer assumed (confirmed or removed). */
  forgetPod(pod: PodInfo): boolean {
    const state = this.podStates.get(pod.cacheKey);
    if (state === undefined || !state.assumed) return false;
    assert(state.nodeName === pod.nodeName, "a pod is forgotten on the node it was assumed on");
    this.detach(state);
    this.podStates.delete(pod.cacheKey);
    this.assumedKeys.delete(pod.cacheKey);
    return true;
  }

  isAssumed(pod: Pod): boolean {
    return this.assumedKeys.has(podCacheKey(pod));
  }

  /** Removes assumed pods whose binding finished more than the TTL ago and were never confirmed. */
  cleanupExpiredAssumedPods(nowMs: number): PodInfo[] {
    const expired: PodInfo[] = [];
    for (const key of this.assumedKeys) {
      const state = this.podStates.get(key);
      assert(state !== undefined && state.assumed, "assumedKeys lists assumed pods only");
      if (!state.bindingFinished || state.deadlineMs === undefined || nowMs < state.deadlineMs) continue;
      expired.push(state.pod);
    }
    for (const pod of expired) {
      const state = this.podStates.get(pod.cacheKey);
      assert(state !== undefined, "expired pods are known");
      this.detach(state);
      this.podStates.delete(pod.cacheKey);
      this.assumedKeys.delete(pod.cacheKey);
    }
    return expired;
  }

  // ---- reading ----

  /** Brings `snapshot` up to date, copying only nodes changed since it was last updated. */
  updateSnapshot(snapshot: Snapshot): void {
    let rebuildList = snapshot.nodeSetVersion !== this.nodeSetVersion;
    for (let entry = this.head; entry !== undefined && entry.info.generation > snapshot.generation; entry = entry.next) {
      const info = entry.info;
      if (info.node === undefined) continue;
      const existing = snapshot.nodeInfoMap.get(info.name);
      if (existing !== undefined) {
        existing.copyFrom(info);
      } else {
        snapshot.nodeInfoMap.set(info.name, info.clone());
        rebuildList = true;
      }
    }
    snapshot.generation = this.generation;
    if (!rebuildList) return;
    for (const name of snapshot.nodeInfoMap.keys()) {
      if (this.nodes.get(name)?.info.node === undefined) snapshot.nodeInfoMap.delete(name);
    }
    const list: NodeInfo[] = [];
    for (const entry of this.nodes.values()) {
      if (entry.info.node === undefined) continue;
      const copy = snapshot.nodeInfoMap.get(entry.info.name);
      assert(copy !== undefined, "every node with a Node object is in the snapshot after the walk");
      list.push(copy);
    }
    snapshot.nodeInfoList = list;
    snapshot.nodeSetVersion = this.nodeSetVersion;
  }

  /** A fresh full snapshot (tests, debugging); the scheduler reuses one with updateSnapshot. */
  snapshot(): Snapshot {
    const snapshot = new Snapshot();
    this.updateSnapshot(snapshot);
    return snapshot;
  }

  /** The live NodeInfo of a node, read-only (tests and debugging). */
  nodeInfo(name: string): Readonly<NodeInfo> | undefined {
    return this.nodes.get(name)?.info;
  }

  get nodeCount(): number {
    return this.nodeObjectCount;
  }

  get podCount(): number {
    return this.podStates.size;
  }

  get assumedPodCount(): number {
    return this.assumedKeys.size;
  }

  // ---- internals ----

  private entryFor(name: string): NodeEntry {
    let entry = this.nodes.get(name);
    if (entry === undefined) {
      entry = { info: new NodeInfo(name), prev: undefined, next: undefined };
      this.nodes.set(name, entry);
    }
    return entry;
  }

  private attach(state: PodState): void {
    const entry = this.entryFor(state.nodeName);
    entry.info.addPod(state.pod);
    this.podStates.set(state.pod.cacheKey, state);
    this.touch(entry);
  }

  /** Takes the pod off its node (the state itself is left to the caller). */
  private detach(state: PodState): void {
    const entry = this.nodes.get(state.nodeName);
    assert(entry !== undefined, "a known pod's node has an entry");
    const removed = entry.info.removePod(state.pod.cacheKey);
    assert(removed, "a known pod is on its node");
    if (entry.info.node === undefined && entry.info.pods.size === 0) this.dropEntry(entry);
    else this.touch(entry);
  }

  /** Marks the entry changed: a new generation, moved to the head of the list. */
  private touch(entry: NodeEntry): void {
    entry.info.generation = ++this.generation;
    if (this.head === entry) return;
    this.unlink(entry);
    entry.next = this.head;
    if (this.head !== undefined) this.head.prev = entry;
    this.head = entry;
  }

  private unlink(entry: NodeEntry): void {
    if (entry.prev !== undefined) entry.prev.next = entry.next;
    if (entry.next !== undefined) entry.next.prev = entry.prev;
    if (this.head === entry) this.head = entry.next;
    entry.prev = undefined;
    entry.next = undefined;
  }

  private dropEntry(entry: NodeEntry): void {
    this.unlink(entry);
    this.nodes.delete(entry.info.name);
  }
}
