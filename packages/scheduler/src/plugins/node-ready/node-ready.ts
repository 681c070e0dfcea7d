/**
 * NodeReady: a node whose Ready condition is not True takes no new pods. Kubernetes expresses this
 * as taints the node lifecycle controller adds (node.kubernetes.io/not-ready when Ready is False,
 * node.kubernetes.io/unreachable when it is Unknown, both NoSchedule); this filter reads the
 * condition itself, so a node is excluded the moment its status says so, before (or without) the
 * controller's taint. A pod that tolerates the matching NoSchedule taint may still land there,
 * and the reason is worded as kube-scheduler words the taint, so `describe` reads the same.
 *
 * A node with no Ready condition at all (just registered, its agent has not reported) counts as
 * not ready, as the kubelet registers nodes with the not-ready taint.
 */
import type { Node, Taint } from "@coxswain/api";
import type { CycleState } from "../../framework/cycle-state.js";
import type { FilterPlugin } from "../../framework/interfaces.js";
import { Status } from "../../framework/status.js";
import { taintNodeNotReady, taintNodeUnreachable, toleratesTaint, untoleratedTaintReason } from "../../framework/taints.js";
import type { NodeInfo, PodInfo } from "../../framework/types.js";
import { pluginNames } from "../names.js";

const notReadyTaint: Taint = { key: taintNodeNotReady, effect: "NoSchedule" };
const unreachableTaint: Taint = { key: taintNodeUnreachable, effect: "NoSchedule" };
export const nodeNotReadyReason = untoleratedTaintReason(notReadyTaint);
export const nodeUnreachableReason = untoleratedTaintReason(unreachableTaint);
const rejectedNotReady = Status.unresolvable(nodeNotReadyReason);
const rejectedUnreachable = Status.unresolvable(nodeUnreachableReason);

/** The taint that stands for this node's readiness, or undefined when it is Ready. */
export function readinessTaint(node: Node | undefined): Taint | undefined {
  let status: string | undefined;
  for (const c of node?.status?.conditions ?? []) {
    if (c.type === "Ready") {
      status = c.status;
      break;
    }
  }
  if (status === "True") return undefined;
  return status === "Unknown" ? unreachableTaint : notReadyTaint;
}

export class NodeReady implements FilterPlugin {
  readonly name = pluginNames.nodeReady;
  // A node becoming Ready is a node update.
  readonly requeueOn = ["NodeAdd", "NodeUpdate"] as const;

  filter(_state: CycleState, pod: PodInfo, node: NodeInfo): Status {
    const taint = readinessTaint(node.node);
    if (taint === undefined || toleratesTaint(pod.pod.spec?.tolerations, taint)) return Status.success;
    return taint === unreachableTaint ? rejectedUnreachable : rejectedNotReady;
  }
}
