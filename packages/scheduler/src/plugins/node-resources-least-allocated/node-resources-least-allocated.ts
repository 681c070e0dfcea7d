/**
 * NodeResourcesLeastAllocated: prefer the node with the most room left, which spreads pods.
 * Per resource (cpu and memory, weight 1 each):
 *
 *   score_r = (allocatable_r - requested_r) * 100 / allocatable_r      (integer division; 0 if over)
 *   score   = (Σ score_r * weight_r) / Σ weight_r                       (integer division)
 *
 * where requested_r is the node's pods plus this pod, counted with the non-zero defaults
 * (100m cpu, 200Mi memory for a container that requests nothing) so that best-effort pods spread
 * too (noderesources/least_allocated.go).
 */
import type { CycleState } from "../../framework/cycle-state.js";
import type { ScorePlugin } from "../../framework/interfaces.js";
import { maxNodeScore, type NodeInfo, type PodInfo } from "../../framework/types.js";
import { pluginNames } from "../names.js";

/** Resource weights (NodeResourcesLeastAllocatedArgs' default: cpu 1, memory 1). */
export const leastAllocatedWeights = { cpu: 1, memory: 1 } as const;

export function leastRequestedScore(requested: number, capacity: number): number {
  if (capacity === 0 || requested > capacity) return 0;
  return Math.trunc(((capacity - requested) * maxNodeScore) / capacity);
}

export class NodeResourcesLeastAllocated implements ScorePlugin {
  readonly name = pluginNames.nodeResourcesLeastAllocated;

  score(_state: CycleState, pod: PodInfo, node: NodeInfo): number {
    const podRequest = pod.requests.nonZeroRequested;
    const cpu = leastRequestedScore(node.nonZeroRequested.cpuMilli + podRequest.cpuMilli, node.allocatable.cpuMilli);
    const memory = leastRequestedScore(node.nonZeroRequested.memoryBytes + podRequest.memoryBytes, node.allocatable.memoryBytes);
    const { cpu: cpuWeight, memory: memoryWeight } = leastAllocatedWeights;
    return Math.trunc((cpu * cpuWeight + memory * memoryWeight) / (cpuWeight + memoryWeight));
  }
}
