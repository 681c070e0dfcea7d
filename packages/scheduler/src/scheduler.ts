/**
 * The scheduler: one pod at a time through the framework (kube-scheduler's schedule_one.go).
 *
 *   scheduling cycle (synchronous)                          binding cycle (asynchronous)
 *   snapshot → preFilter → filter (from a rotating offset,  bind ─ ok ──► finishBinding
 *   until enough feasible nodes) → preScore → score →           └ fail ─► unreserve, forget,
 *   pick the best (ties broken by the injected random) →                  backoff, report
 *   assume + reserve → permit ─────────────────────────────►
 *
 * The cycle is synchronous, so decisions are made one after another against a cache that already
 * holds every earlier decision (assumed pods); bindings overlap freely. Nothing here opens a
 * socket or reads a clock: the caller injects `nowMs`, the random source and the bind function
 * (through the DefaultBinder's PluginHandle), and writes the PodScheduled condition and the Event
 * from the `SchedulingFailure` this reports.
 */
import { defaultSchedulerName, type Node, type Pod, type PodCondition } from "@coxswain/api";
import { assert, type RandomSource } from "@coxswain/raft";
import { SchedulerCache } from "./cache/cache.js";
import { Snapshot } from "./cache/snapshot.js";
import { CycleState } from "./framework/cycle-state.js";
import { Diagnosis, FitError, type NodeReasons, type PluginStatus } from "./framework/diagnosis.js";
import type { Framework } from "./framework/framework.js";
import { PluginError } from "./framework/status.js";
import { PodInfo, type NodeInfo } from "./framework/types.js";
import { SchedulingQueue, type PoppedPod } from "./queue/scheduling-queue.js";

/** Below this many nodes every node is checked; above it, at least this many feasible nodes are scored. */
export const minFeasibleNodesToFind = 100;
/** The adaptive percentage never goes below this. */
export const minFeasibleNodesPercentageToFind = 5;
/** Bindings written concurrently at most; scheduleNext() waits (returns undefined) beyond it. */
export const bindingsInFlightMaxDefault = 1_000;
/** Per-node reasons carried in a SchedulingFailure at most (the summary counts them all). */
export const nodeReasonsShownMaxDefault = 20;

/**
 * How many feasible nodes to find before scoring (kube-scheduler's numFeasibleNodesToFind):
 * all of them below 100 nodes; else `percentage`% of the nodes (adaptive when 0 or unset:
 * 50% minus 1% per 125 nodes, at least 5%), and never fewer than 100.
 */
export function numFeasibleNodesToFind(percentage: number | undefined, numAllNodes: number): number {
  if (numAllNodes < minFeasibleNodesToFind) return numAllNodes;
  let pct = percentage ?? 0;
  if (pct === 0) pct = Math.max(minFeasibleNodesPercentageToFind, 50 - Math.trunc(numAllNodes / 125));
  if (pct >= 100) return numAllNodes;
  const num = Math.trunc((numAllNodes * pct) / 100);
  return Math.max(num, minFeasibleNodesToFind);
}

/** What the caller writes for a pod that was not scheduled. */
export interface SchedulingFailure {
  pod: Pod;
  /** PodScheduled's reason: "Unschedulable" (no node fits) or "SchedulerError" (a plugin or the binding failed). */
  reason: "Unschedulable" | "SchedulerError";
  /** The summary: "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't match ...". */
  message: string;
  /** Per-node reasons, sorted by node name, at most nodeReasonsShownMax. */
  nodeReasons: NodeReasons[];
  /** FitError for an unschedulable pod, PluginError otherwise. */
  error: Error;
  /** The PodScheduled=False condition to set in the pod's status. */
  condition: PodCondition;
  /** The Event to record on the pod (type Warning, reason FailedScheduling). */
  event: { type: "Warning"; reason: "FailedScheduling"; action: "Scheduling"; message: string };
}

export type BindingOutcome = { kind: "bound"; nodeName: string } | { kind: "failed"; nodeName: string; failure: SchedulingFailure };

export type ScheduleAttempt =
  | {
      kind: "assumed";
      pod: PodInfo;
      nodeName: string;
      /** Nodes the filters looked at, and how many of them fit (scoring saw only those). */
      evaluatedNodes: number;
      feasibleNodes: number;
      /** Settles when the binding is written or has failed; never rejects. */
      binding: Promise<BindingOutcome>;
    }
  | { kind: "unschedulable"; pod: PodInfo; failure: SchedulingFailure; diagnosis: Diagnosis }
  | { kind: "error"; pod: PodInfo; failure: SchedulingFailure }
  | { kind: "skipped"; pod: PodInfo; reason: string };

export interface SchedulerOptions {
  framework: Framework;
  random: RandomSource;
  nowMs: () => number;
  cache?: SchedulerCache;
  /** Created from nowMs and the framework's requeue events when not given. */
  queue?: SchedulingQueue;
  /** Called for every failed attempt with the condition and event to write. Must not throw. */
  onFailure?: (failure: SchedulingFailure) => void;
  /** Called when a binding was written. Must not throw. */
  onBound?: (pod: Pod, nodeName: string) => void;
  bindingsInFlightMax?: number;
  nodeReasonsShownMax?: number;
}

/** RFC 3339 with second precision, as metav1.Time serialises. */
function formatTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.[0-9]{3}Z$/, "Z");
}

function isTerminal(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase === "Succeeded" || phase === "Failed";
}

/** Did anything change that can turn a rejection into a fit? (Heartbeats alone do not.) */
export function nodeSchedulingPropertiesChanged(oldNode: Node | undefined, newNode: Node): boolean {
  if (oldNode === undefined) return true;
  const ready = (n: Node): string | undefined => n.status?.conditions?.find((c) => c.type === "Ready")?.status;
  return (
    (oldNode.spec?.unschedulable ?? false) !== (newNode.spec?.unschedulable ?? false) ||
    ready(oldNode) !== ready(newNode) ||
    JSON.stringify(oldNode.status?.allocatable ?? {}) !== JSON.stringify(newNode.status?.allocatable ?? {}) ||
    JSON.stringify(oldNode.metadata.labels ?? {}) !== JSON.stringify(newNode.metadata.labels ?? {}) ||
    JSON.stringify(oldNode.spec?.taints ?? []) !== JSON.stringify(newNode.spec?.taints ?? [])
  );
}

export class Scheduler {
  readonly framework: Framework;
  readonly cache: SchedulerCache;
  readonly queue: SchedulingQueue;
  private readonly random: RandomSource;
  private readonly nowMs: () => number;
  private readonly onFailure: (failure: SchedulingFailure) => void;
  private readonly onBound: (pod: Pod, nodeName: string) => void;
  private readonly bindingsInFlightMax: number;
  private readonly nodeReasonsShownMax: number;
  private readonly snapshot = new Snapshot();
  /** Where the next filter pass starts, so that every node gets its turn across pods. */
  private nextStartNodeIndex = 0;
  private bindingsInFlightCount = 0;

  constructor(options: SchedulerOptions) {
    this.framework = options.framework;
    this.random = options.random;
    this.nowMs = options.nowMs;
    this.cache = options.cache ?? new SchedulerCache();
    this.queue = options.queue ?? new SchedulingQueue({ nowMs: options.nowMs, requeueEvents: options.framework.requeueEvents() });
    this.onFailure = options.onFailure ?? (() => {});
    this.onBound = options.onBound ?? (() => {});
    this.bindingsInFlightMax = options.bindingsInFlightMax ?? bindingsInFlightMaxDefault;
    this.nodeReasonsShownMax = options.nodeReasonsShownMax ?? nodeReasonsShownMaxDefault;
    assert(this.bindingsInFlightMax > 0, "at least one binding may be in flight");
  }

  get bindingsInFlight(): number {
    return this.bindingsInFlightCount;
  }

  /** Is this pod for this scheduler's profile? */
  responsibleFor(pod: Pod): boolean {
    return (pod.spec?.schedulerName || defaultSchedulerName) === this.framework.schedulerName;
  }

  // ---- informer glue: handlers only update the cache and the queue ----

  onNodeAdd(node: Node): void {
    this.cache.addNode(node);
    this.queue.moveAllToActiveOrBackoff("NodeAdd");
  }

  onNodeUpdate(oldNode: Node | undefined, node: Node): void {
    this.cache.updateNode(node);
    if (nodeSchedulingPropertiesChanged(oldNode, node)) this.queue.moveAllToActiveOrBackoff("NodeUpdate");
  }

  onNodeDelete(node: Node): void {
    this.cache.removeNode(node.metadata.name ?? "");
  }

  onPodAdd(pod: Pod): void {
    if (pod.spec?.nodeName) {
      this.cache.addPod(pod);
      this.queue.delete(pod);
      return;
    }
    if (this.responsibleFor(pod) && !isTerminal(pod) && !pod.metadata.deletionTimestamp) this.queue.add(pod);
  }

  onPodUpdate(oldPod: Pod, pod: Pod): void {
    if (pod.spec?.nodeName) {
      this.cache.updatePod(oldPod, pod);
      if (!oldPod.spec?.nodeName) this.queue.delete(pod);
      // A pod that finished frees its node just as a deleted one does.
      if (isTerminal(pod) && !isTerminal(oldPod)) this.queue.moveAllToActiveOrBackoff("AssignedPodDelete");
      return;
    }
    if (!this.responsibleFor(pod)) return;
    if (isTerminal(pod) || pod.metadata.deletionTimestamp) this.queue.delete(pod);
    else this.queue.update(pod);
  }

  onPodDelete(pod: Pod): void {
    if (pod.spec?.nodeName) {
      this.cache.removePod(pod);
      this.queue.moveAllToActiveOrBackoff("AssignedPodDelete");
      return;
    }
    this.queue.delete(pod);
  }

  /** Periodic work (every second or so): queue flushes, expiry of unconfirmed assumed pods. */
  housekeeping(): PodInfo[] {
    this.queue.flush();
    const expired = this.cache.cleanupExpiredAssumedPods(this.nowMs());
    if (expired.length > 0) this.queue.moveAllToActiveOrBackoff("AssignedPodDelete");
    return expired;
  }

  // ---- scheduling ----

  /**
   * Pops the most urgent pod and schedules it, keeping the queue's books: an unschedulable pod
   * waits for a helpful event, an error backs off, a bound pod leaves. Returns undefined when no
   * pod is ready or too many bindings are in flight.
   */
  scheduleNext(): ScheduleAttempt | undefined {
    if (this.bindingsInFlightCount >= this.bindingsInFlightMax) return undefined;
    const popped = this.queue.pop();
    if (popped === undefined) return undefined;
    return this.attempt(popped.info.podInfo, popped);
  }

  /** Schedules one pod outside the queue (tests, tools); the cache still tracks the decision. */
  scheduleOne(pod: Pod): ScheduleAttempt {
    return this.attempt(PodInfo.of(pod), undefined);
  }

  private attempt(pod: PodInfo, popped: PoppedPod | undefined): ScheduleAttempt {
    const skip = this.skipReason(pod.pod);
    if (skip !== undefined) {
      if (popped !== undefined) this.queue.done(pod.key);
      return { kind: "skipped", pod, reason: skip };
    }
    const state = new CycleState();
    const decision = this.schedulePod(state, pod);
    if (decision.kind === "unschedulable") {
      const failure = this.unschedulableFailure(pod, decision.numAllNodes, decision.diagnosis);
      if (popped !== undefined) this.queue.addUnschedulable(popped.info, popped.cycle, decision.diagnosis.unschedulablePlugins);
      this.onFailure(failure);
      return { kind: "unschedulable", pod, failure, diagnosis: decision.diagnosis };
    }
    if (decision.kind === "error") return this.fail(pod, popped, decision.failure);

    const { nodeName } = decision;
    // Assume before reserving, so that the reservation and every later decision see the pod on its node.
    const assumed = pod.withNodeName(nodeName);
    this.cache.assumePod(assumed);
    const reserved = this.framework.runReserve(state, assumed, nodeName);
    if (!reserved.status.isSuccess()) {
      this.undoAssume(state, assumed, nodeName);
      return this.fail(pod, popped, reserved);
    }
    const permitted = this.framework.runPermit(state, assumed, nodeName);
    if (!permitted.status.isSuccess()) {
      this.undoAssume(state, assumed, nodeName);
      return this.fail(pod, popped, permitted);
    }
    this.bindingsInFlightCount++;
    const binding = this.bind(state, assumed, nodeName, popped);
    return { kind: "assumed", pod, nodeName, evaluatedNodes: decision.evaluatedNodes, feasibleNodes: decision.feasibleNodes, binding };
  }

  private skipReason(pod: Pod): string | undefined {
    if (pod.metadata.deletionTimestamp) return "pod is being deleted";
    if (pod.spec?.nodeName) return "pod is already bound";
    if (this.cache.isAssumed(pod)) return "pod is already assumed";
    if (!this.responsibleFor(pod)) return `pod is for scheduler ${JSON.stringify(pod.spec?.schedulerName)}`;
    return undefined;
  }

  /** The scheduling cycle proper: choose a node or explain why none fits. */
  private schedulePod(
    state: CycleState,
    pod: PodInfo,
  ):
    | { kind: "node"; nodeName: string; evaluatedNodes: number; feasibleNodes: number }
    | { kind: "unschedulable"; numAllNodes: number; diagnosis: Diagnosis }
    | { kind: "error"; failure: PluginStatus } {
    this.cache.updateSnapshot(this.snapshot);
    const nodes = this.snapshot.list();
    const numAllNodes = nodes.length;
    const diagnosis = new Diagnosis();
    if (numAllNodes === 0) return { kind: "unschedulable", numAllNodes, diagnosis };

    const pre = this.framework.runPreFilter(state, pod);
    if (pre.status.isError()) return { kind: "error", failure: pre };
    if (pre.status.isRejected()) {
      // Every node gets the same status, so the requeue logic and the per-node view stay uniform.
      diagnosis.preFilterMessage = pre.status.message();
      for (const node of nodes) diagnosis.recordNode(node.name, pre);
      return { kind: "unschedulable", numAllNodes, diagnosis };
    }

    const feasible = this.findFeasibleNodes(state, pod, nodes, diagnosis);
    if ("failure" in feasible) return { kind: "error", failure: feasible.failure };
    const { feasibleNodes, evaluated } = feasible;
    if (feasibleNodes.length === 0) return { kind: "unschedulable", numAllNodes, diagnosis };
    const only = feasibleNodes[0];
    if (feasibleNodes.length === 1 && only !== undefined) return { kind: "node", nodeName: only.name, evaluatedNodes: evaluated, feasibleNodes: 1 };

    const preScore = this.framework.runPreScore(state, pod, feasibleNodes);
    if (!preScore.status.isSuccess()) return { kind: "error", failure: preScore };
    const scored = this.framework.runScore(state, pod, feasibleNodes);
    if ("failure" in scored) return { kind: "error", failure: scored.failure };
    const chosen = feasibleNodes[this.selectHost(scored.totals)];
    assert(chosen !== undefined, "the chosen index is within the feasible nodes");
    return { kind: "node", nodeName: chosen.name, evaluatedNodes: evaluated, feasibleNodes: feasibleNodes.length };
  }

  /**
   * Filters nodes starting at the rotating offset until enough feasible ones are found. Each
   * node's check is independent of the others (results go to per-node slots), so the loop could
   * be split across workers as kube-scheduler's Parallelizer does; one thread is enough here.
   */
  private findFeasibleNodes(
    state: CycleState,
    pod: PodInfo,
    nodes: readonly NodeInfo[],
    diagnosis: Diagnosis,
  ): { feasibleNodes: NodeInfo[]; evaluated: number } | { failure: PluginStatus } {
    const numAllNodes = nodes.length;
    // Without score plugins any feasible node is as good as another: stop at the first.
    const wanted = this.framework.hasScorePlugins() ? numFeasibleNodesToFind(this.framework.profile.percentageOfNodesToScore, numAllNodes) : 1;
    const filters = this.framework.activeFilters(state);
    const start = this.nextStartNodeIndex % numAllNodes;
    const feasibleNodes: NodeInfo[] = [];
    let processed = 0;
    let failure: PluginStatus | undefined;
    while (processed < numAllNodes && feasibleNodes.length < wanted) {
      const node = nodes[(start + processed) % numAllNodes];
      assert(node !== undefined, "index within nodes");
      processed++;
      const result = this.framework.runFilter(filters, state, pod, node);
      if (result.status.isSuccess()) {
        feasibleNodes.push(node);
      } else if (result.status.isError()) {
        failure = result;
        break;
      } else {
        diagnosis.recordNode(node.name, result);
      }
    }
    // Advance even on error, so that one failing node does not pin every pod's search.
    this.nextStartNodeIndex = (start + processed) % numAllNodes;
    if (failure !== undefined) return { failure };
    return { feasibleNodes, evaluated: processed };
  }

  /** The index of the highest total; among equal totals each is equally likely (reservoir sampling). */
  private selectHost(totals: readonly number[]): number {
    assert(totals.length > 0, "there is a node to select");
    let best = 0;
    let bestScore = Number.NEGATIVE_INFINITY;
    let ties = 0;
    for (let i = 0; i < totals.length; i++) {
      const score = totals[i] ?? 0;
      if (score > bestScore) {
        bestScore = score;
        best = i;
        ties = 1;
      } else if (score === bestScore) {
        ties++;
        if (this.random.intn(ties) === 0) best = i;
      }
    }
    return best;
  }

  private async bind(state: CycleState, assumed: PodInfo, nodeName: string, popped: PoppedPod | undefined): Promise<BindingOutcome> {
    let result: PluginStatus;
    try {
      result = await this.framework.runBind(state, assumed, nodeName);
    } finally {
      this.bindingsInFlightCount--;
    }
    if (result.status.isSuccess()) {
      this.cache.finishBinding(assumed, this.nowMs());
      if (popped !== undefined) this.queue.done(assumed.key);
      this.onBound(assumed.pod, nodeName);
      return { kind: "bound", nodeName };
    }
    this.undoAssume(state, assumed, nodeName);
    // The node's resources are free again: pods that did not fit because of this one may now.
    this.queue.moveAllToActiveOrBackoff("AssignedPodDelete");
    const failure = this.errorFailure(assumed, result);
    if (popped !== undefined) this.queue.addBackoff(popped.info);
    this.onFailure(failure);
    return { kind: "failed", nodeName, failure };
  }

  private undoAssume(state: CycleState, assumed: PodInfo, nodeName: string): void {
    const failures = this.framework.runUnreserve(state, assumed, nodeName);
    // Unreserve must not fail; a plugin that does is broken, but the cache must still be undone.
    this.cache.forgetPod(assumed);
    assert(failures.length === 0, `unreserve failed: ${failures.map((f) => f.status.message()).join("; ")}`);
  }

  private fail(pod: PodInfo, popped: PoppedPod | undefined, status: PluginStatus): ScheduleAttempt {
    if (status.status.isRejected()) {
      // A reserve or permit rejection: the pod is unschedulable on the chosen node for now.
      const diagnosis = new Diagnosis();
      diagnosis.preFilterMessage = status.status.message();
      diagnosis.unschedulablePlugins.add(status.plugin);
      const failure = this.unschedulableFailure(pod, this.snapshot.numNodes(), diagnosis);
      if (popped !== undefined) this.queue.addUnschedulable(popped.info, popped.cycle, diagnosis.unschedulablePlugins);
      this.onFailure(failure);
      return { kind: "unschedulable", pod, failure, diagnosis };
    }
    const failure = this.errorFailure(pod, status);
    if (popped !== undefined) this.queue.addBackoff(popped.info);
    this.onFailure(failure);
    return { kind: "error", pod, failure };
  }

  private unschedulableFailure(pod: PodInfo, numAllNodes: number, diagnosis: Diagnosis): SchedulingFailure {
    const error = new FitError(numAllNodes, diagnosis);
    return this.failure(pod, "Unschedulable", error.message, diagnosis.nodeReasons(this.nodeReasonsShownMax), error);
  }

  private errorFailure(pod: PodInfo, status: PluginStatus): SchedulingFailure {
    const error = status.status.error ?? new PluginError(status.status.message() || "scheduling failed", { plugin: status.plugin || undefined });
    return this.failure(pod, "SchedulerError", error.message, [], error);
  }

  private failure(pod: PodInfo, reason: SchedulingFailure["reason"], message: string, nodeReasons: NodeReasons[], error: Error): SchedulingFailure {
    const now = formatTime(this.nowMs());
    return {
      pod: pod.pod,
      reason,
      message,
      nodeReasons,
      error,
      condition: { type: "PodScheduled", status: "False", reason, message, lastProbeTime: null, lastTransitionTime: now },
      event: { type: "Warning", reason: "FailedScheduling", action: "Scheduling", message },
    };
  }
}
