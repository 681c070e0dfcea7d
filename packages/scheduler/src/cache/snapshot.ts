/**
 * A point-in-time copy of the cache's nodes that one scheduling cycle reads, so that the cycle
 * sees one consistent cluster even if the cache changes meanwhile (kube-scheduler's Snapshot).
 * The scheduler keeps one Snapshot and refreshes it before every cycle with
 * `SchedulerCache.updateSnapshot`, which recopies only the nodes whose generation is newer than
 * the snapshot's: after one pod is assumed, one node is copied, not the whole cluster.
 */
import type { NodeInfo } from "../framework/types.js";

export class Snapshot {
  /** The cache generation this snapshot reflects. */
  generation = 0;
  /** The cache's node-set version when the list was last rebuilt; -1: never. */
  nodeSetVersion = -1;
  /** Every node that has a Node object, by name. Objects are stable: updates copy into them. */
  readonly nodeInfoMap = new Map<string, NodeInfo>();
  /** The same nodes in the cache's order; the scheduler walks it from a rotating offset. */
  nodeInfoList: NodeInfo[] = [];

  get(name: string): NodeInfo | undefined {
    return this.nodeInfoMap.get(name);
  }

  list(): readonly NodeInfo[] {
    return this.nodeInfoList;
  }

  numNodes(): number {
    return this.nodeInfoList.length;
  }
}
