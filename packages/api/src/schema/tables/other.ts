/**
 * networking.k8s.io/v1 Ingress, coordination.k8s.io/v1 Lease, autoscaling v1 and v2, RBAC, and
 * metrics.k8s.io/v1beta1, as k8s.io/api v0.32 (and k8s.io/metrics) define them.
 */
import { objectFields, type PackageTable } from "../model.js";

export const networking: PackageTable = {
  prefix: "io.k8s.api.networking.v1",
  structs: {
    Ingress: {
      description: "Ingress is a collection of rules that allow inbound connections to reach the endpoints defined by a backend.",
      fields: objectFields({ spec: "IngressSpec", status: "IngressStatus" }),
    },
    IngressSpec: { fields: { ingressClassName: "string", defaultBackend: "IngressBackend", tls: "[]IngressTLS", rules: "[]IngressRule" } },
    IngressBackend: { fields: { service: "IngressServiceBackend", resource: "core.TypedLocalObjectReference" } },
    IngressServiceBackend: { required: ["name"], fields: { name: "string", port: "ServiceBackendPort" } },
    ServiceBackendPort: { fields: { name: "string", number: "int32" } },
    IngressTLS: { fields: { hosts: "[]string", secretName: "string" } },
    IngressRule: { fields: { host: "string", http: "HTTPIngressRuleValue" } },
    HTTPIngressRuleValue: { required: ["paths"], fields: { paths: "[]HTTPIngressPath" } },
    HTTPIngressPath: { required: ["pathType", "backend"], fields: { path: "string", pathType: "string", backend: "IngressBackend" } },
    IngressStatus: { fields: { loadBalancer: "IngressLoadBalancerStatus" } },
    IngressLoadBalancerStatus: { fields: { ingress: "[]IngressLoadBalancerIngress" } },
    IngressLoadBalancerIngress: { fields: { ip: "string", hostname: "string", ports: "[]IngressPortStatus" } },
    IngressPortStatus: { required: ["port", "protocol"], fields: { port: "int32", protocol: "string", error: "string" } },
  },
};

export const coordination: PackageTable = {
  prefix: "io.k8s.api.coordination.v1",
  structs: {
    Lease: { description: "Lease defines a lease concept.", fields: objectFields({ spec: "LeaseSpec" }) },
    LeaseSpec: {
      fields: {
        holderIdentity: "string",
        leaseDurationSeconds: "int32",
        acquireTime: "MicroTime",
        renewTime: "MicroTime",
        leaseTransitions: "int32",
        strategy: "string",
        preferredHolder: "string",
      },
    },
  },
};

export const autoscalingV2: PackageTable = {
  prefix: "io.k8s.api.autoscaling.v2",
  structs: {
    HorizontalPodAutoscaler: {
      description: "HorizontalPodAutoscaler is the configuration for a horizontal pod autoscaler.",
      fields: objectFields({ spec: "HorizontalPodAutoscalerSpec", status: "HorizontalPodAutoscalerStatus" }),
    },
    HorizontalPodAutoscalerSpec: {
      required: ["scaleTargetRef", "maxReplicas"],
      fields: {
        scaleTargetRef: "CrossVersionObjectReference",
        minReplicas: "int32",
        maxReplicas: "int32",
        metrics: "[]MetricSpec",
        behavior: "HorizontalPodAutoscalerBehavior",
      },
    },
    CrossVersionObjectReference: { required: ["kind", "name"], fields: { kind: "string", name: "string", apiVersion: "string" } },
    MetricSpec: {
      required: ["type"],
      fields: {
        type: "string",
        object: "ObjectMetricSource",
        pods: "PodsMetricSource",
        resource: "ResourceMetricSource",
        containerResource: "ContainerResourceMetricSource",
        external: "ExternalMetricSource",
      },
    },
    ObjectMetricSource: {
      required: ["describedObject", "target", "metric"],
      fields: { describedObject: "CrossVersionObjectReference", target: "MetricTarget", metric: "MetricIdentifier" },
    },
    PodsMetricSource: { required: ["metric", "target"], fields: { metric: "MetricIdentifier", target: "MetricTarget" } },
    ResourceMetricSource: { required: ["name", "target"], fields: { name: "string", target: "MetricTarget" } },
    ContainerResourceMetricSource: { required: ["name", "target", "container"], fields: { name: "string", target: "MetricTarget", container: "string" } },
    ExternalMetricSource: { required: ["metric", "target"], fields: { metric: "MetricIdentifier", target: "MetricTarget" } },
    MetricIdentifier: { required: ["name"], fields: { name: "string", selector: "LabelSelector" } },
    MetricTarget: { required: ["type"], fields: { type: "string", value: "Quantity", averageValue: "Quantity", averageUtilization: "int32" } },
    HorizontalPodAutoscalerBehavior: { fields: { scaleUp: "HPAScalingRules", scaleDown: "HPAScalingRules" } },
    HPAScalingRules: { fields: { stabilizationWindowSeconds: "int32", selectPolicy: "string", policies: "[]HPAScalingPolicy" } },
    HPAScalingPolicy: { required: ["type", "value", "periodSeconds"], fields: { type: "string", value: "int32", periodSeconds: "int32" } },
    HorizontalPodAutoscalerStatus: {
      required: ["desiredReplicas"],
      fields: {
        observedGeneration: "int64",
        lastScaleTime: "Time",
        currentReplicas: "int32",
        desiredReplicas: "int32",
        currentMetrics: "[]MetricStatus",
        conditions: "[]HorizontalPodAutoscalerCondition",
      },
    },
    MetricStatus: {
      required: ["type"],
      fields: {
        type: "string",
        object: "ObjectMetricStatus",
        pods: "PodsMetricStatus",
        resource: "ResourceMetricStatus",
        containerResource: "ContainerResourceMetricStatus",
        external: "ExternalMetricStatus",
      },
    },
    ObjectMetricStatus: {
      required: ["metric", "current", "describedObject"],
      fields: { metric: "MetricIdentifier", current: "MetricValueStatus", describedObject: "CrossVersionObjectReference" },
    },
    PodsMetricStatus: { required: ["metric", "current"], fields: { metric: "MetricIdentifier", current: "MetricValueStatus" } },
    ResourceMetricStatus: { required: ["name", "current"], fields: { name: "string", current: "MetricValueStatus" } },
    ContainerResourceMetricStatus: {
      required: ["name", "current", "container"],
      fields: { name: "string", current: "MetricValueStatus", container: "string" },
    },
    ExternalMetricStatus: { required: ["metric", "current"], fields: { metric: "MetricIdentifier", current: "MetricValueStatus" } },
    MetricValueStatus: { fields: { value: "Quantity", averageValue: "Quantity", averageUtilization: "int32" } },
    HorizontalPodAutoscalerCondition: {
      required: ["type", "status"],
      fields: { type: "string", status: "string", lastTransitionTime: "Time", reason: "string", message: "string" },
    },
  },
};

export const autoscalingV1: PackageTable = {
  prefix: "io.k8s.api.autoscaling.v1",
  structs: {
    HorizontalPodAutoscaler: {
      description: "configuration of a horizontal pod autoscaler.",
      fields: objectFields({ spec: "HorizontalPodAutoscalerSpec", status: "HorizontalPodAutoscalerStatus" }),
    },
    HorizontalPodAutoscalerSpec: {
      required: ["scaleTargetRef", "maxReplicas"],
      fields: { scaleTargetRef: "CrossVersionObjectReference", minReplicas: "int32", maxReplicas: "int32", targetCPUUtilizationPercentage: "int32" },
    },
    CrossVersionObjectReference: { required: ["kind", "name"], fields: { kind: "string", name: "string", apiVersion: "string" } },
    HorizontalPodAutoscalerStatus: {
      required: ["currentReplicas", "desiredReplicas"],
      fields: {
        observedGeneration: "int64",
        lastScaleTime: "Time",
        currentReplicas: "int32",
        desiredReplicas: "int32",
        currentCPUUtilizationPercentage: "int32",
      },
    },
    Scale: { description: "Scale represents a scaling request for a resource.", fields: objectFields({ spec: "ScaleSpec", status: "ScaleStatus" }) },
    ScaleSpec: { fields: { replicas: "int32" } },
    ScaleStatus: { required: ["replicas"], fields: { replicas: "int32", selector: "string" } },
  },
};

const binding = (extra: Record<string, string>): Record<string, string> => objectFields({ subjects: "[]Subject", roleRef: "RoleRef", ...extra });

export const rbac: PackageTable = {
  prefix: "io.k8s.api.rbac.v1",
  structs: {
    Role: {
      description: "Role is a namespaced, logical grouping of PolicyRules that can be referenced as a unit by a RoleBinding.",
      fields: objectFields({ rules: "[]PolicyRule" }),
    },
    ClusterRole: {
      description: "ClusterRole is a cluster level, logical grouping of PolicyRules that can be referenced as a unit by a RoleBinding or ClusterRoleBinding.",
      fields: objectFields({ rules: "[]PolicyRule", aggregationRule: "AggregationRule" }),
    },
    RoleBinding: {
      description: "RoleBinding references a role, but does not contain it.",
      required: ["roleRef"],
      fields: binding({}),
    },
    ClusterRoleBinding: {
      description: "ClusterRoleBinding references a ClusterRole, but not contain it.",
      required: ["roleRef"],
      fields: binding({}),
    },
    PolicyRule: {
      required: ["verbs"],
      fields: { verbs: "[]string", apiGroups: "[]string", resources: "[]string", resourceNames: "[]string", nonResourceURLs: "[]string" },
    },
    AggregationRule: { fields: { clusterRoleSelectors: "[]LabelSelector" } },
    Subject: { required: ["kind", "name"], fields: { kind: "string", apiGroup: "string", name: "string", namespace: "string" } },
    RoleRef: { required: ["apiGroup", "kind", "name"], fields: { apiGroup: "string", kind: "string", name: "string" } },
  },
};

export const metrics: PackageTable = {
  prefix: "io.k8s.metrics.pkg.apis.metrics.v1beta1",
  structs: {
    NodeMetrics: {
      description: "NodeMetrics sets resource usage metrics of a node.",
      required: ["timestamp", "window", "usage"],
      fields: objectFields({ timestamp: "Time", window: "Duration", usage: "map[string]Quantity" }),
    },
    PodMetrics: {
      description: "PodMetrics sets resource usage metrics of a pod.",
      required: ["timestamp", "window", "containers"],
      fields: objectFields({ timestamp: "Time", window: "Duration", containers: "[]ContainerMetrics" }),
    },
    ContainerMetrics: { required: ["name", "usage"], fields: { name: "string", usage: "map[string]Quantity" } },
  },
};
