/**
 * Why a pod fits nowhere: the status each rejecting plugin gave each node, and the one-line
 * summary kube-scheduler writes into the PodScheduled condition and the FailedScheduling event:
 *
 *   0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't match Pod's node affinity/selector.
 *
 * Each node counts once per reason its rejecting plugin gave; the "N reason" strings are sorted as
 * strings, as Go's sort.Strings does in FitError.Error().
 */
import type { Status } from "./status.js";

/** The status one plugin gave one node. */
export interface PluginStatus {
  plugin: string;
  status: Status;
}

export interface NodeReasons {
  node: string;
  plugin: string;
  reasons: readonly string[];
}

export class Diagnosis {
  /** The first rejecting filter of each rejected node (filters stop at the first rejection). */
  readonly nodeToStatus = new Map<string, PluginStatus>();
  /** Plugins that rejected at least one node: the queue requeues on their events only. */
  readonly unschedulablePlugins = new Set<string>();
  /** Set when a preFilter rejected the pod before any node was looked at. */
  preFilterMessage: string | undefined = undefined;

  recordNode(node: string, result: PluginStatus): void {
    this.nodeToStatus.set(node, result);
    this.unschedulablePlugins.add(result.plugin);
  }

  /** Every rejected node with its reasons, in node-name order, at most `max` of them. */
  nodeReasons(max = Number.POSITIVE_INFINITY): NodeReasons[] {
    const names = [...this.nodeToStatus.keys()].sort();
    const out: NodeReasons[] = [];
    for (const node of names) {
      if (out.length >= max) break;
      const s = this.nodeToStatus.get(node);
      if (s !== undefined) out.push({ node, plugin: s.plugin, reasons: s.status.reasons });
    }
    return out;
  }
}

/** No node can take the pod. Its message is the kube-scheduler summary. */
export class FitError extends Error {
  override readonly name = "FitError";
  constructor(
    readonly numAllNodes: number,
    readonly diagnosis: Diagnosis,
  ) {
    super(fitErrorMessage(numAllNodes, diagnosis));
  }
}

/** When the cluster has no nodes at all (ErrNoNodesAvailable). */
export const noNodesAvailableMessage = "no nodes available to schedule pods";

export function fitErrorMessage(numAllNodes: number, diagnosis: Diagnosis): string {
  if (numAllNodes === 0) return noNodesAvailableMessage;
  let message = `0/${numAllNodes} nodes are available:`;
  if (diagnosis.preFilterMessage !== undefined && diagnosis.preFilterMessage !== "") {
    // The preFilter rejected the pod for every node; repeating it per node would only duplicate it.
    return `${message} ${diagnosis.preFilterMessage}.`;
  }
  const histogram = new Map<string, number>();
  for (const { status } of diagnosis.nodeToStatus.values()) {
    for (const reason of status.reasons) histogram.set(reason, (histogram.get(reason) ?? 0) + 1);
  }
  const entries = [...histogram].map(([reason, count]) => `${count} ${reason}`);
  // Go's sort.Strings compares bytes; JS's default sort compares UTF-16 units, the same for ASCII reasons.
  entries.sort();
  if (entries.length > 0) message += ` ${entries.join(", ")}.`;
  return message;
}
