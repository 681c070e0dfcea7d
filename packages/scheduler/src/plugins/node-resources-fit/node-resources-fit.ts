/**
 * NodeResourcesFit: the pod's requests (framework/resources.ts: init containers and sidecars per
 * Kubernetes' rules) must fit in the node's allocatable minus what the pods already there (and the
 * assumed ones) request, and the node must have room for one more pod. Every shortfall is a
 * reason ("Insufficient cpu", "Insufficient memory", "Too many pods"). A shortfall the node could
 * never cover (the request exceeds its whole allocatable) makes the rejection unresolvable.
 */
import type { CycleState } from "../../framework/cycle-state.js";
import type { FilterPlugin, PreFilterPlugin } from "../../framework/interfaces.js";
import { Status } from "../../framework/status.js";
import type { NodeInfo, PodInfo } from "../../framework/types.js";
import { pluginNames } from "../names.js";

export const tooManyPodsReason = "Too many pods";
export const insufficientCpuReason = "Insufficient cpu";
export const insufficientMemoryReason = "Insufficient memory";

export interface InsufficientResource {
  resource: "pods" | "cpu" | "memory";
  reason: string;
  requested: number;
  used: number;
  capacity: number;
  /** The node could not fit the pod even if it were empty. */
  unresolvable: boolean;
}

/** fitsRequest: the shortfalls of `node` for `pod`, in the order kube-scheduler reports them. */
export function insufficientResources(pod: PodInfo, node: NodeInfo): InsufficientResource[] {
  const out: InsufficientResource[] = [];
  const { allocatable, requested: used } = node;
  if (used.podCount + 1 > allocatable.podCount) {
    out.push({ resource: "pods", reason: tooManyPodsReason, requested: 1, used: used.podCount, capacity: allocatable.podCount, unresolvable: false });
  }
  const want = pod.requests.requested;
  if (want.cpuMilli === 0 && want.memoryBytes === 0) return out;
  if (want.cpuMilli > 0 && want.cpuMilli > allocatable.cpuMilli - used.cpuMilli) {
    out.push({
      resource: "cpu",
      reason: insufficientCpuReason,
      requested: want.cpuMilli,
      used: used.cpuMilli,
      capacity: allocatable.cpuMilli,
      unresolvable: want.cpuMilli > allocatable.cpuMilli,
    });
  }
  if (want.memoryBytes > 0 && want.memoryBytes > allocatable.memoryBytes - used.memoryBytes) {
    out.push({
      resource: "memory",
      reason: insufficientMemoryReason,
      requested: want.memoryBytes,
      used: used.memoryBytes,
      capacity: allocatable.memoryBytes,
      unresolvable: want.memoryBytes > allocatable.memoryBytes,
    });
  }
  return out;
}

export class NodeResourcesFit implements PreFilterPlugin, FilterPlugin {
  readonly name = pluginNames.nodeResourcesFit;
  // Room appears when a pod on the node goes, when a node is added, or when allocatable grows.
  readonly requeueOn = ["NodeAdd", "NodeUpdate", "AssignedPodDelete"] as const;

  preFilter(_state: CycleState, pod: PodInfo): Status {
    // A malformed quantity is the pod's own fault; no node will ever fit it.
    if (pod.invalidRequests !== undefined) return Status.unresolvable(pod.invalidRequests);
    return Status.success;
  }

  filter(_state: CycleState, pod: PodInfo, node: NodeInfo): Status {
    // The common case, allocation-free: it fits.
    const want = pod.requests.requested;
    const { allocatable, requested: used } = node;
    if (
      used.podCount + 1 <= allocatable.podCount &&
      want.cpuMilli <= allocatable.cpuMilli - used.cpuMilli &&
      want.memoryBytes <= allocatable.memoryBytes - used.memoryBytes
    ) {
      return Status.success;
    }
    const shortfalls = insufficientResources(pod, node);
    if (shortfalls.length === 0) return Status.success;
    const reasons = shortfalls.map((s) => s.reason);
    return shortfalls.some((s) => s.unresolvable) ? Status.unresolvable(...reasons) : Status.unschedulable(...reasons);
  }
}
