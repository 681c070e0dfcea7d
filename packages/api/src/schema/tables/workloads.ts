/** apps/v1 (Deployment, ReplicaSet, DaemonSet) and batch/v1 Job, as k8s.io/api v0.32 defines them. */
import { objectFields, type PackageTable } from "../model.js";

const workloadCondition = (extra: Record<string, string> = {}): { required: string[]; fields: Record<string, string> } => ({
  required: ["type", "status"],
  fields: { type: "string", status: "string", ...extra, lastTransitionTime: "Time", reason: "string", message: "string" },
});

export const apps: PackageTable = {
  prefix: "io.k8s.api.apps.v1",
  structs: {
    Deployment: {
      description: "Deployment enables declarative updates for Pods and ReplicaSets.",
      fields: objectFields({ spec: "DeploymentSpec", status: "DeploymentStatus" }),
    },
    DeploymentSpec: {
      required: ["selector", "template"],
      fields: {
        replicas: "int32",
        selector: "LabelSelector",
        template: "core.PodTemplateSpec",
        strategy: "DeploymentStrategy",
        minReadySeconds: "int32",
        revisionHistoryLimit: "int32",
        paused: "bool",
        progressDeadlineSeconds: "int32",
      },
    },
    DeploymentStrategy: { fields: { type: "string", rollingUpdate: "RollingUpdateDeployment" } },
    RollingUpdateDeployment: { fields: { maxUnavailable: "IntOrString", maxSurge: "IntOrString" } },
    DeploymentStatus: {
      fields: {
        observedGeneration: "int64",
        replicas: "int32",
        updatedReplicas: "int32",
        readyReplicas: "int32",
        availableReplicas: "int32",
        unavailableReplicas: "int32",
        terminatingReplicas: "int32",
        conditions: "[]DeploymentCondition",
        collisionCount: "int32",
      },
    },
    DeploymentCondition: workloadCondition({ lastUpdateTime: "Time" }),
    ReplicaSet: {
      description: "ReplicaSet ensures that a specified number of pod replicas are running at any given time.",
      fields: objectFields({ spec: "ReplicaSetSpec", status: "ReplicaSetStatus" }),
    },
    ReplicaSetSpec: {
      required: ["selector"],
      fields: { replicas: "int32", minReadySeconds: "int32", selector: "LabelSelector", template: "core.PodTemplateSpec" },
    },
    ReplicaSetStatus: {
      required: ["replicas"],
      fields: {
        replicas: "int32",
        fullyLabeledReplicas: "int32",
        readyReplicas: "int32",
        availableReplicas: "int32",
        terminatingReplicas: "int32",
        observedGeneration: "int64",
        conditions: "[]ReplicaSetCondition",
      },
    },
    ReplicaSetCondition: workloadCondition(),
    DaemonSet: {
      description: "DaemonSet represents the configuration of a daemon set.",
      fields: objectFields({ spec: "DaemonSetSpec", status: "DaemonSetStatus" }),
    },
    DaemonSetSpec: {
      required: ["selector", "template"],
      fields: {
        selector: "LabelSelector",
        template: "core.PodTemplateSpec",
        updateStrategy: "DaemonSetUpdateStrategy",
        minReadySeconds: "int32",
        revisionHistoryLimit: "int32",
      },
    },
    DaemonSetUpdateStrategy: { fields: { type: "string", rollingUpdate: "RollingUpdateDaemonSet" } },
    RollingUpdateDaemonSet: { fields: { maxUnavailable: "IntOrString", maxSurge: "IntOrString" } },
    DaemonSetStatus: {
      required: ["currentNumberScheduled", "numberMisscheduled", "desiredNumberScheduled", "numberReady"],
      fields: {
        currentNumberScheduled: "int32",
        numberMisscheduled: "int32",
        desiredNumberScheduled: "int32",
        numberReady: "int32",
        observedGeneration: "int64",
        updatedNumberScheduled: "int32",
        numberAvailable: "int32",
        numberUnavailable: "int32",
        collisionCount: "int32",
        conditions: "[]DaemonSetCondition",
      },
    },
    DaemonSetCondition: workloadCondition(),
  },
};

export const batch: PackageTable = {
  prefix: "io.k8s.api.batch.v1",
  structs: {
    Job: { description: "Job represents the configuration of a single job.", fields: objectFields({ spec: "JobSpec", status: "JobStatus" }) },
    JobSpec: {
      required: ["template"],
      fields: {
        parallelism: "int32",
        completions: "int32",
        activeDeadlineSeconds: "int64",
        podFailurePolicy: "PodFailurePolicy",
        successPolicy: "SuccessPolicy",
        backoffLimit: "int32",
        backoffLimitPerIndex: "int32",
        maxFailedIndexes: "int32",
        selector: "LabelSelector",
        manualSelector: "bool",
        template: "core.PodTemplateSpec",
        ttlSecondsAfterFinished: "int32",
        completionMode: "string",
        suspend: "bool",
        podReplacementPolicy: "string",
        managedBy: "string",
      },
    },
    PodFailurePolicy: { required: ["rules"], fields: { rules: "[]PodFailurePolicyRule" } },
    PodFailurePolicyRule: {
      required: ["action"],
      fields: { action: "string", onExitCodes: "PodFailurePolicyOnExitCodesRequirement", onPodConditions: "[]PodFailurePolicyOnPodConditionsPattern" },
    },
    PodFailurePolicyOnExitCodesRequirement: { required: ["operator", "values"], fields: { containerName: "string", operator: "string", values: "[]int32" } },
    PodFailurePolicyOnPodConditionsPattern: { required: ["type", "status"], fields: { type: "string", status: "string" } },
    SuccessPolicy: { required: ["rules"], fields: { rules: "[]SuccessPolicyRule" } },
    SuccessPolicyRule: { fields: { succeededIndexes: "string", succeededCount: "int32" } },
    JobStatus: {
      fields: {
        conditions: "[]JobCondition",
        startTime: "Time",
        completionTime: "Time",
        active: "int32",
        succeeded: "int32",
        failed: "int32",
        terminating: "int32",
        completedIndexes: "string",
        failedIndexes: "string",
        uncountedTerminatedPods: "UncountedTerminatedPods",
        ready: "int32",
      },
    },
    JobCondition: workloadCondition({ lastProbeTime: "Time" }),
    UncountedTerminatedPods: { fields: { succeeded: "[]string", failed: "[]string" } },
  },
};
