/**
 * Defaulting: the values Kubernetes fills in when a manifest leaves them out (the SetDefaults_*
 * functions of each API group, plus the few admission plugins whose effect users see in every
 * `kubectl get -o yaml`, each marked where it is applied). Every function mutates its argument
 * and is idempotent, so the apiserver can run it on every create and update.
 */
import type { Container, Pod, PodSpec, PodTemplateSpec, Probe, Toleration } from "../types/core/pod.js";
import type { Namespace } from "../types/core/namespace.js";
import type { Node } from "../types/core/node.js";
import type { Endpoints, Service } from "../types/core/service.js";
import type { Secret } from "../types/core/config.js";
import type { DaemonSet, Deployment, ReplicaSet } from "../types/apps/v1.js";
import type { Job } from "../types/batch/v1.js";
import type { HorizontalPodAutoscaler } from "../types/autoscaling/hpa.js";
import type { ClusterRoleBinding, RoleBinding, Subject } from "../types/rbac/v1.js";

export const defaultTerminationGracePeriodSeconds = 30;
export const defaultTerminationMessagePath = "/dev/termination-log";
export const defaultSchedulerName = "default-scheduler";
/** DefaultTolerationSeconds admission: how long pods stay on a NotReady/unreachable node before eviction. */
export const defaultNotReadyTolerationSeconds = 300;
export const defaultDeploymentRevisionHistoryLimit = 10;
export const defaultDeploymentProgressDeadlineSeconds = 600;
export const defaultJobBackoffLimit = 6;
export const defaultSessionAffinityTimeoutSeconds = 10800;
/** configMap/secret volume file mode 0644. */
export const defaultVolumeFileMode = 0o644;

/** The tag of an image reference: "latest" when neither tag nor digest is given (parsers.ParseImageName). */
export function imageTag(image: string): string {
  const withoutDigest = image.split("@")[0] ?? "";
  const hasDigest = image.includes("@");
  const lastSlash = withoutDigest.lastIndexOf("/");
  const colon = withoutDigest.indexOf(":", lastSlash + 1);
  if (colon >= 0) return withoutDigest.slice(colon + 1);
  return hasDigest ? "" : "latest";
}

function defaultProbe(probe: Probe | undefined): void {
  if (probe === undefined) return;
  probe.timeoutSeconds ??= 1;
  probe.periodSeconds ??= 10;
  probe.successThreshold ??= 1;
  probe.failureThreshold ??= 3;
  if (probe.httpGet) {
    probe.httpGet.path ??= "/";
    probe.httpGet.scheme ??= "HTTP";
  }
}

function defaultContainer(c: Container, hostNetwork: boolean): void {
  if (!c.imagePullPolicy) c.imagePullPolicy = imageTag(c.image ?? "") === "latest" ? "Always" : "IfNotPresent";
  c.terminationMessagePath ??= defaultTerminationMessagePath;
  c.terminationMessagePolicy ??= "File";
  for (const port of c.ports ?? []) {
    port.protocol ??= "TCP";
    // SetDefaults_PodSpec: with hostNetwork the container port is the host port.
    if (hostNetwork && (port.hostPort === undefined || port.hostPort === 0)) port.hostPort = port.containerPort;
  }
  for (const env of c.env ?? []) {
    if (env.valueFrom?.fieldRef) env.valueFrom.fieldRef.apiVersion ??= "v1";
  }
  // SetDefaults_Pod: a limit without a request requests the limit.
  const limits = c.resources?.limits;
  if (c.resources && limits && Object.keys(limits).length > 0) {
    c.resources.requests ??= {};
    for (const [name, value] of Object.entries(limits)) c.resources.requests[name] ??= value;
  }
  defaultProbe(c.livenessProbe);
  defaultProbe(c.readinessProbe);
  defaultProbe(c.startupProbe);
}

/** SetDefaults_PodSpec (also applied to every workload's pod template). */
export function defaultPodSpec(spec: PodSpec | undefined): void {
  if (spec === undefined) return;
  spec.dnsPolicy ??= "ClusterFirst";
  spec.restartPolicy ??= "Always";
  spec.terminationGracePeriodSeconds ??= defaultTerminationGracePeriodSeconds;
  spec.securityContext ??= {};
  spec.schedulerName ??= defaultSchedulerName;
  spec.enableServiceLinks ??= true;
  if (!spec.serviceAccountName && spec.serviceAccount) spec.serviceAccountName = spec.serviceAccount;
  const hostNetwork = spec.hostNetwork === true;
  for (const c of spec.initContainers ?? []) defaultContainer(c, hostNetwork);
  for (const c of spec.containers ?? []) defaultContainer(c, hostNetwork);
  for (const v of spec.volumes ?? []) {
    const hasSource = ["emptyDir", "configMap", "secret", "hostPath", "persistentVolumeClaim", "downwardAPI", "projected"].some(
      (k) => (v as unknown as Record<string, unknown>)[k] !== undefined,
    );
    if (!hasSource) v.emptyDir = {};
    if (v.configMap) v.configMap.defaultMode ??= defaultVolumeFileMode;
    if (v.secret) v.secret.defaultMode ??= defaultVolumeFileMode;
    if (v.hostPath) v.hostPath.type ??= "";
  }
}

export function defaultPodTemplate(template: PodTemplateSpec | undefined): void {
  defaultPodSpec(template?.spec);
}

const notReadyTaintKey = "node.kubernetes.io/not-ready";
const unreachableTaintKey = "node.kubernetes.io/unreachable";

export function defaultPod(pod: Pod): void {
  defaultPodSpec(pod.spec);
  const spec = pod.spec;
  if (spec === undefined) return;
  // ServiceAccount admission: every pod runs as a service account, "default" unless named.
  if (!spec.serviceAccountName) spec.serviceAccountName = "default";
  spec.serviceAccount = spec.serviceAccountName;
  // Priority admission: no priority class means priority 0.
  spec.priority ??= 0;
  spec.preemptionPolicy ??= "PreemptLowerPriority";
  // DefaultTolerationSeconds admission: tolerate a NotReady or unreachable node for 300 s, then be evicted.
  const tolerations: Toleration[] = spec.tolerations ?? [];
  for (const key of [notReadyTaintKey, unreachableTaintKey]) {
    const tolerated = tolerations.some((t) => (t.key === key || (!t.key && t.operator === "Exists")) && (!t.effect || t.effect === "NoExecute"));
    if (!tolerated) tolerations.push({ key, operator: "Exists", effect: "NoExecute", tolerationSeconds: defaultNotReadyTolerationSeconds });
  }
  spec.tolerations = tolerations;
}

export function defaultNamespace(ns: Namespace): void {
  // SetDefaults_Namespace: the immutable name label that namespace selectors rely on.
  const name = ns.metadata.name;
  if (name) {
    ns.metadata.labels ??= {};
    ns.metadata.labels["kubernetes.io/metadata.name"] = name;
  }
}

export function defaultNode(node: Node): void {
  const status = node.status;
  if (status?.capacity && !status.allocatable) status.allocatable = { ...status.capacity };
}

export function defaultService(svc: Service): void {
  const spec = (svc.spec ??= {});
  spec.type ??= "ClusterIP";
  spec.sessionAffinity ??= "None";
  if (spec.sessionAffinity === "ClientIP") {
    spec.sessionAffinityConfig ??= {};
    spec.sessionAffinityConfig.clientIP ??= {};
    spec.sessionAffinityConfig.clientIP.timeoutSeconds ??= defaultSessionAffinityTimeoutSeconds;
  }
  for (const port of spec.ports ?? []) {
    port.protocol ??= "TCP";
    if (port.targetPort === undefined || port.targetPort === 0 || port.targetPort === "") port.targetPort = port.port;
  }
  if (spec.type === "NodePort" || spec.type === "LoadBalancer") spec.externalTrafficPolicy ??= "Cluster";
  if (spec.type === "LoadBalancer") spec.allocateLoadBalancerNodePorts ??= true;
  if (spec.type !== "ExternalName") {
    spec.internalTrafficPolicy ??= "Cluster";
    spec.ipFamilyPolicy ??= "SingleStack";
    spec.ipFamilies ??= ["IPv4"];
    if (spec.clusterIP && !spec.clusterIPs) spec.clusterIPs = [spec.clusterIP];
  }
}

export function defaultEndpoints(ep: Endpoints): void {
  for (const subset of ep.subsets ?? []) for (const port of subset.ports ?? []) port.protocol ??= "TCP";
}

export function defaultSecret(secret: Secret): void {
  secret.type ??= "Opaque";
}

export function defaultDeployment(d: Deployment): void {
  const spec = d.spec;
  if (spec === undefined) return;
  spec.replicas ??= 1;
  spec.strategy ??= {};
  spec.strategy.type ??= "RollingUpdate";
  if (spec.strategy.type === "RollingUpdate") {
    spec.strategy.rollingUpdate ??= {};
    spec.strategy.rollingUpdate.maxUnavailable ??= "25%";
    spec.strategy.rollingUpdate.maxSurge ??= "25%";
  }
  spec.revisionHistoryLimit ??= defaultDeploymentRevisionHistoryLimit;
  spec.progressDeadlineSeconds ??= defaultDeploymentProgressDeadlineSeconds;
  defaultPodTemplate(spec.template);
}

export function defaultReplicaSet(rs: ReplicaSet): void {
  if (rs.spec === undefined) return;
  rs.spec.replicas ??= 1;
  defaultPodTemplate(rs.spec.template);
}

export function defaultDaemonSet(ds: DaemonSet): void {
  const spec = ds.spec;
  if (spec === undefined) return;
  spec.updateStrategy ??= {};
  spec.updateStrategy.type ??= "RollingUpdate";
  if (spec.updateStrategy.type === "RollingUpdate") {
    spec.updateStrategy.rollingUpdate ??= {};
    spec.updateStrategy.rollingUpdate.maxUnavailable ??= 1;
    spec.updateStrategy.rollingUpdate.maxSurge ??= 0;
  }
  spec.revisionHistoryLimit ??= defaultDeploymentRevisionHistoryLimit;
  defaultPodTemplate(spec.template);
}

export function defaultJob(job: Job): void {
  const spec = job.spec;
  if (spec === undefined) return;
  // A non-parallel job may leave both unset: both become 1.
  if (spec.completions === undefined && spec.parallelism === undefined) {
    spec.completions = 1;
    spec.parallelism = 1;
  }
  spec.parallelism ??= 1;
  spec.backoffLimit ??= spec.backoffLimitPerIndex !== undefined ? 2147483647 : defaultJobBackoffLimit;
  spec.completionMode ??= "NonIndexed";
  spec.suspend ??= false;
  spec.podReplacementPolicy ??= "TerminatingOrFailed";
  // SetDefaults_Job: a job without labels takes its template's.
  const templateLabels = spec.template?.metadata?.labels;
  if (templateLabels && Object.keys(job.metadata.labels ?? {}).length === 0) job.metadata.labels = { ...templateLabels };
  defaultPodTemplate(spec.template);
}

/** autoscaling/v2 SetDefaults_HorizontalPodAutoscaler: 1..max replicas, scaling on 80% CPU. */
export function defaultHorizontalPodAutoscaler(hpa: HorizontalPodAutoscaler): void {
  const spec = hpa.spec;
  if (spec === undefined) return;
  spec.minReplicas ??= 1;
  if ((spec.metrics ?? []).length === 0)
    spec.metrics = [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 80 } } }];
  if (spec.behavior) {
    spec.behavior.scaleUp ??= {};
    spec.behavior.scaleUp.stabilizationWindowSeconds ??= 0;
    spec.behavior.scaleUp.selectPolicy ??= "Max";
    spec.behavior.scaleUp.policies ??= [
      { type: "Pods", value: 4, periodSeconds: 15 },
      { type: "Percent", value: 100, periodSeconds: 15 },
    ];
    spec.behavior.scaleDown ??= {};
    spec.behavior.scaleDown.selectPolicy ??= "Max";
    spec.behavior.scaleDown.policies ??= [{ type: "Percent", value: 100, periodSeconds: 15 }];
  }
}

function defaultSubjects(subjects: Subject[] | undefined): void {
  for (const s of subjects ?? []) {
    if (s.apiGroup === undefined) s.apiGroup = s.kind === "ServiceAccount" ? "" : "rbac.authorization.k8s.io";
  }
}

export function defaultRoleBinding(binding: RoleBinding | ClusterRoleBinding): void {
  defaultSubjects(binding.subjects);
  if (binding.roleRef && !binding.roleRef.apiGroup) binding.roleRef.apiGroup = "rbac.authorization.k8s.io";
}
