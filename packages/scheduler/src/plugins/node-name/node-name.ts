/**
 * NodeName: a pod that names its node (spec.nodeName) fits only that node. Pods normally arrive
 * here without one (a named pod is already bound), so the preFilter skips the filter for them.
 */
import type { CycleState } from "../../framework/cycle-state.js";
import type { FilterPlugin, PreFilterPlugin } from "../../framework/interfaces.js";
import { Status } from "../../framework/status.js";
import type { NodeInfo, PodInfo } from "../../framework/types.js";
import { pluginNames } from "../names.js";

export const nodeNameReason = "node(s) didn't match the requested node name";
const rejected = Status.unresolvable(nodeNameReason);

export class NodeName implements PreFilterPlugin, FilterPlugin {
  readonly name = pluginNames.nodeName;
  // Only a node with that name appearing can help.
  readonly requeueOn = ["NodeAdd"] as const;

  preFilter(_state: CycleState, pod: PodInfo): Status {
    return pod.nodeName === undefined ? Status.skip : Status.success;
  }

  filter(_state: CycleState, pod: PodInfo, node: NodeInfo): Status {
    const wanted = pod.nodeName;
    return wanted === undefined || wanted === node.name ? Status.success : rejected;
  }
}
