/** metrics.k8s.io/v1beta1: what `kubectl top` reads. Read-only; produced from agent reports. */
import type { Duration, KubeObject, Time } from "../meta/v1.js";
import type { ResourceList } from "../core/common.js";

export interface NodeMetrics extends KubeObject {
  apiVersion?: "metrics.k8s.io/v1beta1";
  kind?: "NodeMetrics";
  timestamp: Time;
  window: Duration;
  usage: ResourceList;
}

export interface ContainerMetrics {
  name: string;
  usage: ResourceList;
}

export interface PodMetrics extends KubeObject {
  apiVersion?: "metrics.k8s.io/v1beta1";
  kind?: "PodMetrics";
  timestamp: Time;
  window: Duration;
  containers: ContainerMetrics[];
}
