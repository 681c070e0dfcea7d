/**
 * The extension points (kube-scheduler framework/interface.go), in the order one pod meets them:
 *
 *   scheduling cycle (synchronous, one pod at a time):
 *     preFilter  once per pod: compute shared state, or reject the pod outright
 *     filter     once per node: does the pod fit this node? (Success / Unschedulable + reasons)
 *     preScore   once per pod, over the feasible nodes
 *     score      once per feasible node: 0..maxNodeScore, then normalizeScore over all of them
 *     reserve    the chosen node; unreserve undoes it if a later step fails
 *     permit     last word before binding: allow or reject
 *   binding cycle (asynchronous, many pods in flight):
 *     bind       write the decision (the first bind plugin that does not Skip wins)
 *
 * A plugin implements any subset; the registry decides the order in which plugins run at each
 * point. Plugins are pure functions of their inputs: they never mutate the pod or the NodeInfo.
 */
import type { Pod } from "@coxswain/api";
import type { CycleState } from "./cycle-state.js";
import type { Status } from "./status.js";
import type { NodeInfo, PodInfo } from "./types.js";

export interface Plugin {
  readonly name: string;
  /**
   * The cluster events after which a pod this plugin rejected may fit (QueueingHint's coarse
   * form). Undefined means "any event", so an unknown plugin never strands a pod.
   */
  readonly requeueOn?: readonly ClusterEvent[];
}

/** Cluster changes that can make an unschedulable pod schedulable. */
export type ClusterEvent = "NodeAdd" | "NodeUpdate" | "AssignedPodDelete";

export interface PreFilterPlugin extends Plugin {
  preFilter(state: CycleState, pod: PodInfo): Status;
}

export interface FilterPlugin extends Plugin {
  filter(state: CycleState, pod: PodInfo, node: NodeInfo): Status;
}

export interface PreScorePlugin extends Plugin {
  preScore(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[]): Status;
}

export interface NodeScore {
  readonly name: string;
  score: number;
}

export interface ScorePlugin extends Plugin {
  /** A raw score for one node; throw (PluginError) if the plugin cannot score. */
  score(state: CycleState, pod: PodInfo, node: NodeInfo): number;
  /** Rescales the raw scores of all feasible nodes into 0..maxNodeScore, in place. */
  normalizeScore?(state: CycleState, pod: PodInfo, scores: NodeScore[]): void;
}

export interface ReservePlugin extends Plugin {
  reserve(state: CycleState, pod: PodInfo, nodeName: string): Status;
  /** Must be idempotent and must not fail: it runs on every path that abandons a reservation. */
  unreserve(state: CycleState, pod: PodInfo, nodeName: string): void;
}

export interface PermitPlugin extends Plugin {
  /** Success to allow; a rejection to send the pod back to the queue. (Waiting is not supported.) */
  permit(state: CycleState, pod: PodInfo, nodeName: string): Status;
}

export interface BindPlugin extends Plugin {
  /** Success when bound, Skip when this plugin does not handle the pod, Error when the write failed. */
  bind(state: CycleState, pod: PodInfo, nodeName: string): Promise<Status>;
}

/** Writes the binding (POST pods/{name}/binding with a precondition); injected by the caller. */
export type BindPodFunction = (pod: Pod, nodeName: string) => Promise<void>;

/** What a plugin factory may use from its surroundings. */
export interface PluginHandle {
  bindPod: BindPodFunction;
}

export type PluginFactory = (handle: PluginHandle) => Plugin;

export function isPreFilterPlugin(p: Plugin): p is PreFilterPlugin {
  return typeof (p as Partial<PreFilterPlugin>).preFilter === "function";
}
export function isFilterPlugin(p: Plugin): p is FilterPlugin {
  return typeof (p as Partial<FilterPlugin>).filter === "function";
}
export function isPreScorePlugin(p: Plugin): p is PreScorePlugin {
  return typeof (p as Partial<PreScorePlugin>).preScore === "function";
}
export function isScorePlugin(p: Plugin): p is ScorePlugin {
  return typeof (p as Partial<ScorePlugin>).score === "function";
}
export function isReservePlugin(p: Plugin): p is ReservePlugin {
  return typeof (p as Partial<ReservePlugin>).reserve === "function" && typeof (p as Partial<ReservePlugin>).unreserve === "function";
}
export function isPermitPlugin(p: Plugin): p is PermitPlugin {
  return typeof (p as Partial<PermitPlugin>).permit === "function";
}
export function isBindPlugin(p: Plugin): p is BindPlugin {
  return typeof (p as Partial<BindPlugin>).bind === "function";
}
