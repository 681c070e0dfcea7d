/**
 * TaintToleration: a node's NoSchedule and NoExecute taints keep off every pod that does not
 * tolerate them (filter); its PreferNoSchedule taints only count against the node (score: fewer
 * untolerated PreferNoSchedule taints is better, normalized in reverse).
 */
import type { TaintEffect, Toleration } from "@coxswain/api";
import { StateKey, type CycleState } from "../../framework/cycle-state.js";
import type { FilterPlugin, NodeScore, PreScorePlugin, ScorePlugin } from "../../framework/interfaces.js";
import { defaultNormalizeScore } from "../../framework/normalize.js";
import { Status } from "../../framework/status.js";
import { findUntoleratedTaint, toleratesTaint, untoleratedTaintReason } from "../../framework/taints.js";
import { maxNodeScore, type NodeInfo, type PodInfo } from "../../framework/types.js";
import { pluginNames } from "../names.js";

const filterEffects: ReadonlySet<TaintEffect> = new Set<TaintEffect>(["NoSchedule", "NoExecute"]);

/** The pod's tolerations that can apply to PreferNoSchedule taints (empty effect, or PreferNoSchedule). */
const preferNoScheduleTolerationsKey = new StateKey<readonly Toleration[]>("TaintToleration/preferNoSchedule");

export class TaintToleration implements FilterPlugin, PreScorePlugin, ScorePlugin {
  readonly name = pluginNames.taintToleration;
  // Taints are removed by node update; a new node may have none.
  readonly requeueOn = ["NodeAdd", "NodeUpdate"] as const;

  filter(_state: CycleState, pod: PodInfo, node: NodeInfo): Status {
    const taint = findUntoleratedTaint(node.node?.spec?.taints, pod.pod.spec?.tolerations, filterEffects);
    return taint === undefined ? Status.success : Status.unresolvable(untoleratedTaintReason(taint));
  }

  preScore(state: CycleState, pod: PodInfo): Status {
    const tolerations = (pod.pod.spec?.tolerations ?? []).filter((t) => !t.effect || t.effect === "PreferNoSchedule");
    state.write(preferNoScheduleTolerationsKey, tolerations);
    return Status.success;
  }

  /** How many PreferNoSchedule taints the pod does not tolerate (lower is better). */
  score(state: CycleState, _pod: PodInfo, node: NodeInfo): number {
    const tolerations = state.read(preferNoScheduleTolerationsKey) ?? [];
    let count = 0;
    for (const taint of node.node?.spec?.taints ?? []) {
      if (taint.effect === "PreferNoSchedule" && !toleratesTaint(tolerations, taint)) count++;
    }
    return count;
  }

  normalizeScore(_state: CycleState, _pod: PodInfo, scores: NodeScore[]): void {
    defaultNormalizeScore(maxNodeScore, true, scores);
  }
}
