/**
 * Taints and tolerations (k8s.io/api/core/v1 toleration.go ToleratesTaint), shared by the plugins
 * that read them: TaintToleration, NodeUnschedulable and NodeReady.
 */
import type { Taint, TaintEffect, Toleration } from "@coxswain/api";

/** Set by the node lifecycle controller (and on registration) while a node's Ready condition is False. */
export const taintNodeNotReady = "node.kubernetes.io/not-ready";
/** Set while a node's Ready condition is Unknown: its agent stopped reporting. */
export const taintNodeUnreachable = "node.kubernetes.io/unreachable";
/** The taint `kubectl cordon` amounts to: pods tolerating it may still land on an unschedulable node. */
export const taintNodeUnschedulable = "node.kubernetes.io/unschedulable";

/** Does this one toleration tolerate the taint? */
export function tolerates(toleration: Toleration, taint: Taint): boolean {
  // An empty effect tolerates every effect; otherwise the effects must be equal.
  if (toleration.effect && toleration.effect !== taint.effect) return false;
  // An empty key (only valid with Exists) matches every key.
  if (toleration.key && toleration.key !== taint.key) return false;
  switch (toleration.operator ?? "Equal") {
    case "Exists":
      return true;
    case "Equal":
      return (toleration.value ?? "") === (taint.value ?? "");
    default:
      return false;
  }
}

export function toleratesTaint(tolerations: readonly Toleration[] | undefined, taint: Taint): boolean {
  if (tolerations === undefined) return false;
  for (const t of tolerations) if (tolerates(t, taint)) return true;
  return false;
}

/** The first taint with one of `effects` that no toleration tolerates (v1helper.FindMatchingUntoleratedTaint). */
export function findUntoleratedTaint(
  taints: readonly Taint[] | undefined,
  tolerations: readonly Toleration[] | undefined,
  effects: ReadonlySet<TaintEffect>,
): Taint | undefined {
  if (taints === undefined) return undefined;
  for (const taint of taints) {
    if (!effects.has(taint.effect)) continue;
    if (!toleratesTaint(tolerations, taint)) return taint;
  }
  return undefined;
}

/** "{key: value}", as kube-scheduler prints a taint in its reasons. */
export function formatTaint(taint: Pick<Taint, "key" | "value">): string {
  return `{${taint.key}: ${taint.value ?? ""}}`;
}

/** The reason TaintToleration (and NodeReady, for the readiness taints) gives. */
export function untoleratedTaintReason(taint: Pick<Taint, "key" | "value">): string {
  return `node(s) had untolerated taint ${formatTaint(taint)}`;
}
