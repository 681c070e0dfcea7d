/**
 * The pods waiting for a node (kube-scheduler's PriorityQueue), in three parts:
 *
 * - activeQ: ready to be tried now, highest spec.priority first, then the longest waiting.
 * - backoffQ: tried and failed recently; each waits out its own backoff (1 s, 2 s, 4 s, ...
 *   capped at 10 s, by attempt count) before it returns to activeQ.
 * - unschedulable: found to fit nowhere. They stay here until a cluster event that could help
 *   them (a node added or changed, an assigned pod deleted; only events the rejecting plugins
 *   registered for) moves them back, or until they have waited `unschedulableMaxMs` anyway.
 *
 * A pod popped for scheduling is "in flight" until the scheduler hands it back (failed) or calls
 * `done` (bound). If a cluster event arrives while it is in flight, a failure sends it to backoffQ
 * instead of the unschedulable set, so the event that might have helped it is not missed
 * (moveRequestCycle, as kube-scheduler does).
 *
 * Pure: time comes from the injected `nowMs`; the caller calls `flush()` periodically (every
 * second or so) and sleeps until `nextWakeMs()` when nothing is active.
 */
import type { Pod } from "@coxswain/api";
import { assert } from "@coxswain/raft";
import type { ClusterEvent } from "../framework/interfaces.js";
import { podKey, PodInfo } from "../framework/types.js";
import { KeyedHeap } from "./keyed-heap.js";

export const podInitialBackoffMsDefault = 1_000;
export const podMaxBackoffMsDefault = 10_000;
/** kube-scheduler's podMaxInUnschedulablePodsDuration. */
export const unschedulableMaxMsDefault = 5 * 60_000;
/** Pending pods held at most (active + backoff + unschedulable); beyond it add() throws. */
export const queuedPodsMaxDefault = 500_000;

export interface QueuedPodInfo {
  podInfo: PodInfo;
  /** When the pod last entered a queue: orders pods of equal priority. */
  timestampMs: number;
  /** When the pod first entered the queue (for the scheduling latency metric). */
  initialAttemptMs: number;
  /** Scheduling attempts so far; the backoff doubles with each. */
  attempts: number;
  /** The plugins that rejected the pod last time: only their events move it back. */
  unschedulablePlugins: Set<string>;
  /** Until when the pod backs off (timestampMs + backoff(attempts)); 0 before its first failure. */
  backoffExpiresMs: number;
}

/** What pop() hands out: the pod and the scheduling cycle it was popped in. */
export interface PoppedPod {
  info: QueuedPodInfo;
  cycle: number;
}

export interface SchedulingQueueOptions {
  nowMs: () => number;
  podInitialBackoffMs?: number;
  podMaxBackoffMs?: number;
  unschedulableMaxMs?: number;
  queuedPodsMax?: number;
  /** Framework.requeueEvents(): which events may help a pod each plugin rejected (undefined: any). */
  requeueEvents?: ReadonlyMap<string, readonly ClusterEvent[] | undefined>;
}

export class QueueFullError extends Error {
  override readonly name = "QueueFullError";
}

export interface QueueCounts {
  active: number;
  backoff: number;
  unschedulable: number;
  inFlight: number;
}

function moreUrgent(a: QueuedPodInfo, b: QueuedPodInfo): boolean {
  // PrioritySort: higher priority first, then earlier timestamp.
  if (a.podInfo.priority !== b.podInfo.priority) return a.podInfo.priority > b.podInfo.priority;
  return a.timestampMs < b.timestampMs;
}

const keyOf = (q: QueuedPodInfo): string => q.podInfo.key;

export class SchedulingQueue {
  private readonly nowMs: () => number;
  private readonly podInitialBackoffMs: number;
  private readonly podMaxBackoffMs: number;
  private readonly unschedulableMaxMs: number;
  private readonly queuedPodsMax: number;
  private readonly requeueEvents: ReadonlyMap<string, readonly ClusterEvent[] | undefined>;

  private readonly activeQ = new KeyedHeap<QueuedPodInfo>(keyOf, moreUrgent);
  private readonly backoffQ = new KeyedHeap<QueuedPodInfo>(keyOf, (a, b) => a.backoffExpiresMs < b.backoffExpiresMs);
  private readonly unschedulable = new Map<string, QueuedPodInfo>();
  private readonly inFlight = new Map<string, QueuedPodInfo>();
  /** Incremented by every pop. */
  private schedulingCycle = 0;
  /** The cycle at the last cluster event; pods popped at or before it failed "after" that event. */
  private moveRequestCycle = -1;

  constructor(options: SchedulingQueueOptions) {
    this.nowMs = options.nowMs;
    this.podInitialBackoffMs = options.podInitialBackoffMs ?? podInitialBackoffMsDefault;
    this.podMaxBackoffMs = options.podMaxBackoffMs ?? podMaxBackoffMsDefault;
    this.unschedulableMaxMs = options.unschedulableMaxMs ?? unschedulableMaxMsDefault;
    this.queuedPodsMax = options.queuedPodsMax ?? queuedPodsMaxDefault;
    this.requeueEvents = options.requeueEvents ?? new Map();
    assert(this.podInitialBackoffMs > 0 && this.podInitialBackoffMs <= this.podMaxBackoffMs, "0 < initial backoff <= max backoff");
  }

  // ---- informer events for unassigned pods ----

  /** A new pending pod. Throws QueueFullError at the cap (the caller retries on its next resync). */
  add(pod: Pod): void {
    const key = podKey(pod);
    if (this.contains(key)) {
      this.update(pod);
      return;
    }
    if (this.pendingCount() >= this.queuedPodsMax) throw new QueueFullError(`the scheduling queue holds at most ${this.queuedPodsMax} pods`);
    const now = this.nowMs();
    this.activeQ.push({ podInfo: PodInfo.of(pod), timestampMs: now, initialAttemptMs: now, attempts: 0, unschedulablePlugins: new Set(), backoffExpiresMs: 0 });
  }

  /**
   * A pending pod changed. In activeQ/backoffQ it keeps its place with the new object; in the
   * unschedulable set the change may be what it needed (new tolerations, smaller requests), so
   * it moves back; in flight, the newer object is kept for its next attempt.
   */
  update(pod: Pod): void {
    const key = podKey(pod);
    const podInfo = PodInfo.of(pod);
    const inActive = this.activeQ.get(key);
    if (inActive !== undefined) {
      this.activeQ.push({ ...inActive, podInfo });
      return;
    }
    const inBackoff = this.backoffQ.get(key);
    if (inBackoff !== undefined) {
      this.backoffQ.push({ ...inBackoff, podInfo });
      return;
    }
    const unschedulable = this.unschedulable.get(key);
    if (unschedulable !== undefined) {
      this.unschedulable.delete(key);
      this.requeue({ ...unschedulable, podInfo });
      return;
    }
    const inFlight = this.inFlight.get(key);
    if (inFlight !== undefined) {
      inFlight.podInfo = podInfo;
      return;
    }
    this.add(pod);
  }

  /** The pod was deleted or got bound by someone else. */
  delete(pod: Pod): void {
    const key = podKey(pod);
    this.activeQ.remove(key);
    this.backoffQ.remove(key);
    this.unschedulable.delete(key);
    this.inFlight.delete(key);
  }

  // ---- the scheduler's side ----

  /** The most urgent active pod (after moving finished backoffs in), or undefined if none is ready. */
  pop(): PoppedPod | undefined {
    this.flushBackoffCompleted();
    const info = this.activeQ.pop();
    if (info === undefined) return undefined;
    info.attempts++;
    this.schedulingCycle++;
    this.inFlight.set(info.podInfo.key, info);
    return { info, cycle: this.schedulingCycle };
  }

  /** The pod's attempt ended in a binding (or it left the queue's concern). */
  done(key: string): void {
    this.inFlight.delete(key);
  }

  /**
   * The pod fits nowhere. It waits in the unschedulable set for an event that could help, unless
   * such an event already happened while it was being scheduled (then backoff).
   */
  addUnschedulable(info: QueuedPodInfo, podSchedulingCycle: number, rejectedBy: Iterable<string>): void {
    const key = info.podInfo.key;
    if (!this.inFlight.has(key)) return; // deleted while in flight: drop it
    this.inFlight.delete(key);
    assert(!this.activeQ.has(key) && !this.backoffQ.has(key) && !this.unschedulable.has(key), "a popped pod is in no queue");
    const now = this.nowMs();
    info.timestampMs = now;
    info.backoffExpiresMs = now + this.backoffDurationMs(info.attempts);
    info.unschedulablePlugins = new Set(rejectedBy);
    if (this.moveRequestCycle >= podSchedulingCycle) this.backoffQ.push(info);
    else this.unschedulable.set(key, info);
  }

  /** The attempt failed for a reason other than fit (a plugin error, a failed bind): back off and retry. */
  addBackoff(info: QueuedPodInfo): void {
    const key = info.podInfo.key;
    if (!this.inFlight.has(key)) return;
    this.inFlight.delete(key);
    const now = this.nowMs();
    info.timestampMs = now;
    info.backoffExpiresMs = now + this.backoffDurationMs(info.attempts);
    info.unschedulablePlugins = new Set();
    this.backoffQ.push(info);
  }

  /**
   * A cluster event happened: every unschedulable pod it could help goes back to activeQ (or to
   * backoffQ if its backoff has not run out).
   */
  moveAllToActiveOrBackoff(event: ClusterEvent): number {
    let moved = 0;
    for (const [key, info] of this.unschedulable) {
      if (!this.eventMayHelp(info, event)) continue;
      this.unschedulable.delete(key);
      this.requeue(info);
      moved++;
    }
    this.moveRequestCycle = this.schedulingCycle;
    return moved;
  }

  /** Periodic housekeeping: finished backoffs to activeQ, long-unschedulable pods back for another try. */
  flush(): void {
    this.flushBackoffCompleted();
    const now = this.nowMs();
    for (const [key, info] of this.unschedulable) {
      if (now - info.timestampMs < this.unschedulableMaxMs) continue;
      this.unschedulable.delete(key);
      this.requeue(info);
    }
  }

  /** When the caller should look again: now if a pod is active, else the earliest backoff expiry. */
  nextWakeMs(): number | undefined {
    if (this.activeQ.size > 0) return this.nowMs();
    return this.backoffQ.peek()?.backoffExpiresMs;
  }

  counts(): QueueCounts {
    return { active: this.activeQ.size, backoff: this.backoffQ.size, unschedulable: this.unschedulable.size, inFlight: this.inFlight.size };
  }

  /** Where a pod is (tests, debugging). */
  whereIs(key: string): "active" | "backoff" | "unschedulable" | "inFlight" | undefined {
    if (this.activeQ.has(key)) return "active";
    if (this.backoffQ.has(key)) return "backoff";
    if (this.unschedulable.has(key)) return "unschedulable";
    if (this.inFlight.has(key)) return "inFlight";
    return undefined;
  }

  backoffDurationMs(attempts: number): number {
    let duration = this.podInitialBackoffMs;
    for (let i = 1; i < attempts && duration < this.podMaxBackoffMs; i++) duration *= 2;
    return Math.min(duration, this.podMaxBackoffMs);
  }

  // ---- internals ----

  private contains(key: string): boolean {
    return this.activeQ.has(key) || this.backoffQ.has(key) || this.unschedulable.has(key) || this.inFlight.has(key);
  }

  private pendingCount(): number {
    return this.activeQ.size + this.backoffQ.size + this.unschedulable.size;
  }

  private requeue(info: QueuedPodInfo): void {
    if (info.backoffExpiresMs > this.nowMs()) this.backoffQ.push(info);
    else this.activeQ.push(info);
  }

  private flushBackoffCompleted(): void {
    const now = this.nowMs();
    for (let head = this.backoffQ.peek(); head !== undefined && head.backoffExpiresMs <= now; head = this.backoffQ.peek()) {
      // The pod keeps the timestamp of its failure, so among equals the longest waiting goes first.
      this.backoffQ.pop();
      this.activeQ.push(head);
    }
  }

  private eventMayHelp(info: QueuedPodInfo, event: ClusterEvent): boolean {
    // Rejected for no recorded plugin (or by one we cannot ask): any event might help.
    if (info.unschedulablePlugins.size === 0) return true;
    for (const plugin of info.unschedulablePlugins) {
      const events = this.requeueEvents.get(plugin);
      if (events === undefined || events.includes(event)) return true;
    }
    return false;
  }
}
