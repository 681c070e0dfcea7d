/**
 * NodeUnschedulable: a cordoned node (spec.unschedulable) takes no new pods, except pods that
 * tolerate the node.kubernetes.io/unschedulable:NoSchedule taint (DaemonSet pods do).
 */
import type { Taint } from "@coxswain/api";
import type { CycleState } from "../../framework/cycle-state.js";
import type { FilterPlugin } from "../../framework/interfaces.js";
import { Status } from "../../framework/status.js";
import { taintNodeUnschedulable, toleratesTaint } from "../../framework/taints.js";
import type { NodeInfo, PodInfo } from "../../framework/types.js";
import { pluginNames } from "../names.js";

export const nodeUnschedulableReason = "node(s) were unschedulable";
const rejected = Status.unresolvable(nodeUnschedulableReason);
const unschedulableTaint: Taint = { key: taintNodeUnschedulable, effect: "NoSchedule" };

export class NodeUnschedulable implements FilterPlugin {
  readonly name = pluginNames.nodeUnschedulable;
  // Uncordoning is a node update; a new node may be schedulable.
  readonly requeueOn = ["NodeAdd", "NodeUpdate"] as const;

  filter(_state: CycleState, pod: PodInfo, node: NodeInfo): Status {
    if (node.node?.spec?.unschedulable !== true) return Status.success;
    return toleratesTaint(pod.pod.spec?.tolerations, unschedulableTaint) ? Status.success : rejected;
  }
}
