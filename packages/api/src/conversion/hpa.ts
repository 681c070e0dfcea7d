/**
 * autoscaling/v1 ⇄ autoscaling/v2 HorizontalPodAutoscaler. Objects are stored as v2; v1 clients
 * see the CPU utilisation target only. A v1 write keeps the stored object's other metrics and
 * behaviour, so a v1 client cannot silently drop what a v2 client set.
 */
import type { HorizontalPodAutoscaler, HorizontalPodAutoscalerV1, MetricSpec } from "../types/autoscaling/hpa.js";
import { deepClone } from "../util/json.js";

const isCpuUtilization = (m: MetricSpec): boolean => m.type === "Resource" && m.resource?.name === "cpu" && m.resource.target.type === "Utilization";

export function hpaV2ToV1(hpa: HorizontalPodAutoscaler): HorizontalPodAutoscalerV1 {
  const out: HorizontalPodAutoscalerV1 = { apiVersion: "autoscaling/v1", kind: "HorizontalPodAutoscaler", metadata: deepClone(hpa.metadata) };
  if (hpa.spec) {
    const cpu = (hpa.spec.metrics ?? []).find(isCpuUtilization);
    out.spec = { scaleTargetRef: deepClone(hpa.spec.scaleTargetRef), maxReplicas: hpa.spec.maxReplicas };
    if (hpa.spec.minReplicas !== undefined) out.spec.minReplicas = hpa.spec.minReplicas;
    const target = cpu?.resource?.target.averageUtilization;
    if (target !== undefined) out.spec.targetCPUUtilizationPercentage = target;
  }
  if (hpa.status) {
    out.status = { currentReplicas: hpa.status.currentReplicas ?? 0, desiredReplicas: hpa.status.desiredReplicas };
    if (hpa.status.observedGeneration !== undefined) out.status.observedGeneration = hpa.status.observedGeneration;
    if (hpa.status.lastScaleTime !== undefined) out.status.lastScaleTime = hpa.status.lastScaleTime;
    const cpu = (hpa.status.currentMetrics ?? []).find((m) => m.type === "Resource" && m.resource?.name === "cpu");
    const current = cpu?.resource?.current.averageUtilization;
    if (current !== undefined) out.status.currentCPUUtilizationPercentage = current;
  }
  return out;
}

export function hpaV1ToV2(hpa: HorizontalPodAutoscalerV1, stored?: HorizontalPodAutoscaler): HorizontalPodAutoscaler {
  const out: HorizontalPodAutoscaler = { apiVersion: "autoscaling/v2", kind: "HorizontalPodAutoscaler", metadata: deepClone(hpa.metadata) };
  if (hpa.spec) {
    const others = (stored?.spec?.metrics ?? []).filter((m) => !isCpuUtilization(m));
    const metrics: MetricSpec[] = [...others];
    const target = hpa.spec.targetCPUUtilizationPercentage;
    if (target !== undefined) metrics.unshift({ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: target } } });
    out.spec = { scaleTargetRef: deepClone(hpa.spec.scaleTargetRef), maxReplicas: hpa.spec.maxReplicas };
    if (hpa.spec.minReplicas !== undefined) out.spec.minReplicas = hpa.spec.minReplicas;
    if (metrics.length > 0) out.spec.metrics = metrics;
    if (stored?.spec?.behavior) out.spec.behavior = deepClone(stored.spec.behavior);
  }
  if (hpa.status) {
    out.status = { currentReplicas: hpa.status.currentReplicas, desiredReplicas: hpa.status.desiredReplicas };
    if (hpa.status.observedGeneration !== undefined) out.status.observedGeneration = hpa.status.observedGeneration;
    if (hpa.status.lastScaleTime !== undefined) out.status.lastScaleTime = hpa.status.lastScaleTime;
    if (hpa.status.currentCPUUtilizationPercentage !== undefined) {
      out.status.currentMetrics = [
        { type: "Resource", resource: { name: "cpu", current: { averageUtilization: hpa.status.currentCPUUtilizationPercentage } } },
      ];
    }
  }
  return out;
}
