/**
 * NodePorts: a pod's host ports must be free on the node (see framework/host-ports.ts for what
 * conflicts). Most pods claim none, and their preFilter skips the filter.
 */
import type { CycleState } from "../../framework/cycle-state.js";
import type { FilterPlugin, PreFilterPlugin } from "../../framework/interfaces.js";
import { Status } from "../../framework/status.js";
import type { NodeInfo, PodInfo } from "../../framework/types.js";
import { pluginNames } from "../names.js";

export const nodePortsReason = "node(s) didn't have free ports for the requested pod ports";
// Unschedulable, not unresolvable: the pod holding the port may go away.
const rejected = Status.unschedulable(nodePortsReason);

export class NodePorts implements PreFilterPlugin, FilterPlugin {
  readonly name = pluginNames.nodePorts;
  readonly requeueOn = ["NodeAdd", "AssignedPodDelete"] as const;

  preFilter(_state: CycleState, pod: PodInfo): Status {
    return pod.hostPorts.length === 0 ? Status.skip : Status.success;
  }

  filter(_state: CycleState, pod: PodInfo, node: NodeInfo): Status {
    if (node.usedPorts.isEmpty()) return Status.success;
    for (const port of pod.hostPorts) if (node.usedPorts.conflicts(port)) return rejected;
    return Status.success;
  }
}
