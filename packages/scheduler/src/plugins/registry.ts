/**
 * The default registry and profile. Registration order is running order at every extension point.
 *
 * Filters, in this order, and why:
 *   1. NodeUnschedulable  one boolean field: the cheapest check, and a cordoned node is the
 *                         first thing an operator wants to see named.
 *   2. NodeName           one string compare, and skipped by its preFilter for nearly every pod.
 *   3. NodeReady          a scan of a handful of conditions; not-ready nodes are ruled out before
 *                         any label or taint work is spent on them.
 *   4. TaintToleration    taints × tolerations, both short lists.
 *   5. NodeAffinity       label matching; skipped when the pod has no selector or affinity.
 *   6. NodePorts          map lookups; skipped when the pod claims no host port.
 *   7. NodeResourcesFit   arithmetic, cheap too, but last on purpose: filters stop at the first
 *                         rejection, so a node that fails a permanent check (labels, taints) is
 *                         reported with that reason rather than with a transient shortage, which
 *                         is also what the requeue logic keys on (NodeResourcesFit rejections are
 *                         retried when pods go away; affinity rejections are not).
 * This is kube-scheduler's default filter order, with NodeReady added where Kubernetes applies the
 * not-ready taint (just before TaintToleration).
 *
 * Scores (weights as kube-scheduler's defaults: taints count most, then preferred affinity):
 *   NodeResourcesLeastAllocated ×1, NodeResourcesBalancedAllocation ×1, NodeAffinity ×2,
 *   TaintToleration ×3.
 *
 * Bind: DefaultBinder.
 */
import { defaultSchedulerName } from "@coxswain/api";
import type { Profile } from "../framework/profile.js";
import { Registry } from "../framework/registry.js";
import { DefaultBinder } from "./default-binder/default-binder.js";
import { pluginNames } from "./names.js";
import { NodeAffinity } from "./node-affinity/node-affinity.js";
import { NodeName } from "./node-name/node-name.js";
import { NodePorts } from "./node-ports/node-ports.js";
import { NodeReady } from "./node-ready/node-ready.js";
import { NodeResourcesBalancedAllocation } from "./node-resources-balanced-allocation/node-resources-balanced-allocation.js";
import { NodeResourcesFit } from "./node-resources-fit/node-resources-fit.js";
import { NodeResourcesLeastAllocated } from "./node-resources-least-allocated/node-resources-least-allocated.js";
import { NodeUnschedulable } from "./node-unschedulable/node-unschedulable.js";
import { TaintToleration } from "./taint-toleration/taint-toleration.js";

export function defaultRegistry(): Registry {
  return (
    new Registry()
      // Filters: permanent, cheap checks first; see the comment at the top.
      .register(pluginNames.nodeUnschedulable, () => new NodeUnschedulable())
      .register(pluginNames.nodeName, () => new NodeName())
      .register(pluginNames.nodeReady, () => new NodeReady())
      .register(pluginNames.taintToleration, () => new TaintToleration())
      .register(pluginNames.nodeAffinity, () => new NodeAffinity())
      .register(pluginNames.nodePorts, () => new NodePorts())
      .register(pluginNames.nodeResourcesFit, () => new NodeResourcesFit())
      // Score-only plugins.
      .register(pluginNames.nodeResourcesLeastAllocated, () => new NodeResourcesLeastAllocated())
      .register(pluginNames.nodeResourcesBalancedAllocation, () => new NodeResourcesBalancedAllocation())
      // Bind.
      .register(pluginNames.defaultBinder, (handle) => new DefaultBinder(handle))
  );
}

/** kube-scheduler's default weights; score plugins not listed weigh 1. */
export const defaultScoreWeights: Readonly<Record<string, number>> = { [pluginNames.taintToleration]: 3, [pluginNames.nodeAffinity]: 2 };

/** The default profile; `overrides` replace fields whole (default weights are kept for the enabled plugins). */
export function defaultProfile(overrides: Partial<Profile> = {}): Profile {
  const plugins = overrides.plugins ?? Object.values(pluginNames);
  const scoreWeights = overrides.scoreWeights ?? Object.fromEntries(Object.entries(defaultScoreWeights).filter(([name]) => plugins.includes(name)));
  return { schedulerName: defaultSchedulerName, ...overrides, plugins, scoreWeights };
}
