/**
 * NodeAffinity: the pod's spec.nodeSelector and its required node affinity must both match the
 * node (filter); its preferred node affinity terms add their weights to the nodes they match
 * (score). Matching follows k8s.io/component-helpers/scheduling/corev1/nodeaffinity:
 *
 * - nodeSelector: every key must equal the node's label;
 * - required affinity: the terms are ORed, the requirements inside a term ANDed; an empty term
 *   matches nothing; matchFields knows only `metadata.name`;
 * - operators In, NotIn, Exists, DoesNotExist, Gt, Lt (Gt/Lt compare integers; a label that is not
 *   an integer, or a malformed requirement, does not match).
 */
import type { Node, NodeSelectorRequirement, NodeSelectorTerm, PreferredSchedulingTerm } from "@coxswain/api";
import { StateKey, type CycleState } from "../../framework/cycle-state.js";
import type { FilterPlugin, NodeScore, PreFilterPlugin, PreScorePlugin, ScorePlugin } from "../../framework/interfaces.js";
import { defaultNormalizeScore } from "../../framework/normalize.js";
import { Status } from "../../framework/status.js";
import { maxNodeScore, type NodeInfo, type PodInfo } from "../../framework/types.js";
import { pluginNames } from "../names.js";

export const nodeAffinityReason = "node(s) didn't match Pod's node affinity/selector";
const rejected = Status.unresolvable(nodeAffinityReason);

const integerRe = /^[+-]?[0-9]+$/;

/** Does one requirement hold for this set of values (labels, or the node's fields)? */
export function requirementMatches(r: NodeSelectorRequirement, values: Readonly<Record<string, string>>): boolean {
  const has = Object.hasOwn(values, r.key);
  const value = values[r.key];
  const wanted = r.values ?? [];
  switch (r.operator) {
    case "In":
      return has && value !== undefined && wanted.includes(value);
    case "NotIn":
      return !has || value === undefined || !wanted.includes(value);
    case "Exists":
      return has;
    case "DoesNotExist":
      return !has;
    case "Gt":
    case "Lt": {
      const bound = wanted[0];
      if (wanted.length !== 1 || bound === undefined || !integerRe.test(bound)) return false;
      if (!has || value === undefined || !integerRe.test(value)) return false;
      const actual = Number(value);
      return r.operator === "Gt" ? actual > Number(bound) : actual < Number(bound);
    }
    default:
      return false;
  }
}

/** The fields matchFields may select on. */
function nodeFields(node: Node): Record<string, string> {
  return { "metadata.name": node.metadata.name ?? "" };
}

export function termMatches(term: NodeSelectorTerm, node: Node): boolean {
  const expressions = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (expressions.length === 0 && fields.length === 0) return false;
  const labels = node.metadata.labels ?? {};
  for (const r of expressions) if (!requirementMatches(r, labels)) return false;
  if (fields.length > 0) {
    const values = nodeFields(node);
    for (const r of fields) if (!requirementMatches(r, values)) return false;
  }
  return true;
}

/** What the filter checks, computed once per pod. */
interface RequiredAffinity {
  nodeSelector: ReadonlyArray<readonly [string, string]>;
  /** Undefined when the pod has no required node affinity; otherwise ORed terms. */
  terms: readonly NodeSelectorTerm[] | undefined;
}

export function requiredAffinityMatches(required: RequiredAffinity, node: Node): boolean {
  const labels = node.metadata.labels ?? {};
  for (const [key, value] of required.nodeSelector) if (labels[key] !== value) return false;
  if (required.terms === undefined) return true;
  for (const term of required.terms) if (termMatches(term, node)) return true;
  return false;
}

const requiredKey = new StateKey<RequiredAffinity>("NodeAffinity/required");
const preferredKey = new StateKey<readonly PreferredSchedulingTerm[]>("NodeAffinity/preferred");

export class NodeAffinity implements PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin {
  readonly name = pluginNames.nodeAffinity;
  // Labels change by node update; a new node may carry them.
  readonly requeueOn = ["NodeAdd", "NodeUpdate"] as const;

  preFilter(state: CycleState, pod: PodInfo): Status {
    const spec = pod.pod.spec;
    const nodeSelector = Object.entries(spec?.nodeSelector ?? {});
    const terms = spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
    if (nodeSelector.length === 0 && terms === undefined) return Status.skip;
    state.write(requiredKey, { nodeSelector, terms });
    return Status.success;
  }

  filter(state: CycleState, _pod: PodInfo, node: NodeInfo): Status {
    const required = state.read(requiredKey);
    if (required === undefined || node.node === undefined) return Status.success;
    return requiredAffinityMatches(required, node.node) ? Status.success : rejected;
  }

  preScore(state: CycleState, pod: PodInfo): Status {
    const preferred = pod.pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [];
    const weighted = preferred.filter((t) => t.weight > 0);
    if (weighted.length === 0) return Status.skip;
    state.write(preferredKey, weighted);
    return Status.success;
  }

  /** The sum of the weights of the preferred terms this node matches. */
  score(state: CycleState, _pod: PodInfo, node: NodeInfo): number {
    const preferred = state.read(preferredKey);
    if (preferred === undefined || node.node === undefined) return 0;
    let sum = 0;
    for (const term of preferred) if (termMatches(term.preference, node.node)) sum += term.weight;
    return sum;
  }

  normalizeScore(_state: CycleState, _pod: PodInfo, scores: NodeScore[]): void {
    defaultNormalizeScore(maxNodeScore, false, scores);
  }
}
