/**
 * The kinds whose Kubernetes protobuf bodies the server decodes: what kubectl's imperative
 * commands (`kubectl create configmap|secret|deployment|namespace|service|job|serviceaccount|role|
 * rolebinding|clusterrole|clusterrolebinding|ingress|quota|priorityclass|poddisruptionbudget`,
 * `kubectl autoscale`) send, and Pod for Go clients (`kubectl run` itself sends JSON). Every other kind is answered 415 with a pointer to JSON, which works for all.
 */
import { k8spb, type protobuf } from "@coxswain/proto";

/** A generated message codec: decodes one message from a reader positioned at its first byte. */
export interface MessageCodec {
  decode(reader: protobuf.Reader): object;
}

/** apiVersion and kind as they appear in runtime.Unknown.typeMeta. */
export interface SupportedKind {
  apiVersion: string;
  kind: string;
  codec: MessageCodec;
}

const core = k8spb.api.core.v1;
const rbac = k8spb.api.rbac.v1;

export const SUPPORTED_KINDS: readonly SupportedKind[] = [
  { apiVersion: "v1", kind: "ConfigMap", codec: core.ConfigMap },
  { apiVersion: "v1", kind: "Secret", codec: core.Secret },
  { apiVersion: "v1", kind: "Namespace", codec: core.Namespace },
  { apiVersion: "v1", kind: "Service", codec: core.Service },
  { apiVersion: "v1", kind: "ServiceAccount", codec: core.ServiceAccount },
  { apiVersion: "v1", kind: "ResourceQuota", codec: core.ResourceQuota },
  { apiVersion: "v1", kind: "Pod", codec: core.Pod },
  { apiVersion: "apps/v1", kind: "Deployment", codec: k8spb.api.apps.v1.Deployment },
  { apiVersion: "batch/v1", kind: "Job", codec: k8spb.api.batch.v1.Job },
  { apiVersion: "autoscaling/v1", kind: "HorizontalPodAutoscaler", codec: k8spb.api.autoscaling.v1.HorizontalPodAutoscaler },
  { apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role", codec: rbac.Role },
  { apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole", codec: rbac.ClusterRole },
  { apiVersion: "rbac.authorization.k8s.io/v1", kind: "RoleBinding", codec: rbac.RoleBinding },
  { apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRoleBinding", codec: rbac.ClusterRoleBinding },
  { apiVersion: "networking.k8s.io/v1", kind: "Ingress", codec: k8spb.api.networking.v1.Ingress },
  { apiVersion: "policy/v1", kind: "PodDisruptionBudget", codec: k8spb.api.policy.v1.PodDisruptionBudget },
  { apiVersion: "scheduling.k8s.io/v1", kind: "PriorityClass", codec: k8spb.api.scheduling.v1.PriorityClass },
];

const byKey = new Map(SUPPORTED_KINDS.map((k) => [`${k.apiVersion}\u0000${k.kind}`, k]));

export function findSupportedKind(apiVersion: string, kind: string): SupportedKind | undefined {
  return byKey.get(`${apiVersion}\u0000${kind}`);
}

/** "v1 ConfigMap, Secret, ...; apps/v1 Deployment; ..." for error messages. */
export function supportedKindsText(): string {
  const groups = new Map<string, string[]>();
  for (const k of SUPPORTED_KINDS) groups.set(k.apiVersion, [...(groups.get(k.apiVersion) ?? []), k.kind]);
  return [...groups].map(([apiVersion, kinds]) => `${apiVersion} ${kinds.join(", ")}`).join("; ");
}
