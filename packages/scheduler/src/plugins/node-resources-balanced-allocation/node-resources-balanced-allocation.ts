/**
 * NodeResourcesBalancedAllocation: prefer the node whose cpu and memory would be used in equal
 * proportion after placing the pod, so that neither runs out while the other sits idle
 * (noderesources/balanced_allocation.go):
 *
 *   fraction_r = min(1, (requested_r + pod_r) / allocatable_r)   for r in cpu, memory (skipped if allocatable is 0)
 *   std        = |fraction_cpu - fraction_memory| / 2            (the standard deviation of two values)
 *   score      = trunc((1 - std) * 100)
 *
 * Requests are the real ones (no non-zero defaults), and best-effort pods (requesting nothing) are
 * not scored at all: they would otherwise all pile onto the node this score happens to favour.
 */
import type { CycleState } from "../../framework/cycle-state.js";
import type { PreScorePlugin, ScorePlugin } from "../../framework/interfaces.js";
import { Status } from "../../framework/status.js";
import { maxNodeScore, type NodeInfo, type PodInfo } from "../../framework/types.js";
import { pluginNames } from "../names.js";

/** The score from requested and allocatable amounts, index-aligned per resource. */
export function balancedResourceScore(requested: readonly number[], allocatable: readonly number[]): number {
  const fractions: number[] = [];
  for (let i = 0; i < requested.length; i++) {
    const capacity = allocatable[i] ?? 0;
    if (capacity === 0) continue;
    fractions.push(Math.min(1, (requested[i] ?? 0) / capacity));
  }
  let std = 0;
  if (fractions.length === 2) {
    std = Math.abs(((fractions[0] ?? 0) - (fractions[1] ?? 0)) / 2);
  } else if (fractions.length > 2) {
    const mean = fractions.reduce((a, b) => a + b, 0) / fractions.length;
    std = Math.sqrt(fractions.reduce((a, f) => a + (f - mean) * (f - mean), 0) / fractions.length);
  }
  return Math.trunc((1 - std) * maxNodeScore);
}

export class NodeResourcesBalancedAllocation implements PreScorePlugin, ScorePlugin {
  readonly name = pluginNames.nodeResourcesBalancedAllocation;

  preScore(_state: CycleState, pod: PodInfo): Status {
    const { cpuMilli, memoryBytes } = pod.requests.requested;
    return cpuMilli === 0 && memoryBytes === 0 ? Status.skip : Status.success;
  }

  score(_state: CycleState, pod: PodInfo, node: NodeInfo): number {
    const want = pod.requests.requested;
    const cpuCapacity = node.allocatable.cpuMilli;
    const memoryCapacity = node.allocatable.memoryBytes;
    // balancedResourceScore for exactly cpu and memory, without its arrays (this runs per node per pod).
    if (cpuCapacity === 0 || memoryCapacity === 0) return maxNodeScore;
    const cpuFraction = Math.min(1, (node.requested.cpuMilli + want.cpuMilli) / cpuCapacity);
    const memoryFraction = Math.min(1, (node.requested.memoryBytes + want.memoryBytes) / memoryCapacity);
    return Math.trunc((1 - Math.abs((cpuFraction - memoryFraction) / 2)) * maxNodeScore);
  }
}
