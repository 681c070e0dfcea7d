/** The `scale` subresource (autoscaling/v1 Scale) of Deployments and ReplicaSets. */
import type { Scale } from "./types/apps/v1.js";
import type { KubeObject, LabelSelector } from "./types/meta/v1.js";
import { labelSelectorToSelector } from "./selectors/labels.js";
import { deepClone } from "./util/json.js";

interface Scalable extends KubeObject {
  spec?: { replicas?: number; selector?: LabelSelector };
  status?: { replicas?: number };
}

export function scaleOf(obj: KubeObject): Scale {
  const target = obj as Scalable;
  const metadata = { ...(target.metadata.name !== undefined ? { name: target.metadata.name } : {}) } as Scale["metadata"];
  for (const key of ["namespace", "uid", "resourceVersion", "creationTimestamp"] as const) {
    const value = target.metadata[key];
    if (value !== undefined && value !== null) (metadata as Record<string, unknown>)[key] = value;
  }
  let selector = "";
  try {
    selector = labelSelectorToSelector(target.spec?.selector).toString();
  } catch {
    selector = "";
  }
  return {
    apiVersion: "autoscaling/v1",
    kind: "Scale",
    metadata,
    spec: { replicas: target.spec?.replicas ?? 0 },
    status: { replicas: target.status?.replicas ?? 0, selector },
  };
}

/** The object with the replica count a Scale asks for; nothing else changes. */
export function applyScale<T extends KubeObject>(obj: T, scale: Scale): T {
  const result = deepClone(obj) as unknown as Scalable;
  result.spec ??= {};
  result.spec.replicas = scale.spec?.replicas ?? 0;
  return result as unknown as T;
}
