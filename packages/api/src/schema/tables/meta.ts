/**
 * meta.k8s.io/v1 and the scalar types every API group uses (Time, Quantity, IntOrString), with the
 * fields of k8s.io/apimachinery v0.32.
 */
import type { PackageTable } from "../model.js";

export const meta: PackageTable = {
  prefix: "io.k8s.apimachinery.pkg.apis.meta.v1",
  leaves: {
    Time: {
      schema: { type: "string", format: "date-time" },
      description: "Time is a wrapper around time.Time which supports correct marshaling to YAML and JSON.",
    },
    MicroTime: { schema: { type: "string", format: "date-time" }, description: "MicroTime is version of Time with microsecond level precision." },
    Duration: { schema: { type: "string" }, description: "Duration is a wrapper around time.Duration which supports correct marshaling to YAML and JSON." },
    FieldsV1: { schema: { type: "object" }, description: "FieldsV1 stores a set of fields in a data structure like a Trie, in JSON format." },
    Patch: { schema: { type: "object" }, description: "Patch is provided to give a concrete name and type to the Kubernetes PATCH request body." },
  },
  structs: {
    ObjectMeta: {
      description: "ObjectMeta is metadata that all persisted resources must have, which includes all objects users must create.",
      fields: {
        name: "string",
        generateName: "string",
        namespace: "string",
        selfLink: "string",
        uid: "string",
        resourceVersion: "string",
        generation: "int64",
        creationTimestamp: "Time",
        deletionTimestamp: "Time",
        deletionGracePeriodSeconds: "int64",
        labels: "map[string]string",
        annotations: "map[string]string",
        ownerReferences: "[]OwnerReference",
        finalizers: "[]string",
        managedFields: "[]ManagedFieldsEntry",
      },
    },
    OwnerReference: {
      required: ["apiVersion", "kind", "name", "uid"],
      fields: { apiVersion: "string", kind: "string", name: "string", uid: "string", controller: "bool", blockOwnerDeletion: "bool" },
    },
    ManagedFieldsEntry: {
      fields: { manager: "string", operation: "string", apiVersion: "string", time: "Time", fieldsType: "string", fieldsV1: "FieldsV1", subresource: "string" },
    },
    ListMeta: { fields: { selfLink: "string", resourceVersion: "string", continue: "string", remainingItemCount: "int64" } },
    LabelSelector: { fields: { matchLabels: "map[string]string", matchExpressions: "[]LabelSelectorRequirement" } },
    LabelSelectorRequirement: { required: ["key", "operator"], fields: { key: "string", operator: "string", values: "[]string" } },
    Condition: {
      required: ["type", "status", "lastTransitionTime", "reason", "message"],
      fields: { type: "string", status: "string", observedGeneration: "int64", lastTransitionTime: "Time", reason: "string", message: "string" },
    },
    Status: {
      description: "Status is a return value for calls that don't return other objects.",
      fields: {
        apiVersion: "string",
        kind: "string",
        metadata: "ListMeta",
        status: "string",
        message: "string",
        reason: "string",
        details: "StatusDetails",
        code: "int32",
      },
    },
    StatusDetails: { fields: { name: "string", group: "string", kind: "string", uid: "string", causes: "[]StatusCause", retryAfterSeconds: "int32" } },
    StatusCause: { fields: { reason: "string", message: "string", field: "string" } },
    DeleteOptions: {
      description: "DeleteOptions may be provided when deleting an API object.",
      fields: {
        apiVersion: "string",
        kind: "string",
        gracePeriodSeconds: "int64",
        preconditions: "Preconditions",
        orphanDependents: "bool",
        propagationPolicy: "string",
        dryRun: "[]string",
        ignoreStoreReadErrorWithClusterBreakingPotential: "bool",
      },
    },
    Preconditions: { fields: { uid: "string", resourceVersion: "string" } },
    WatchEvent: { required: ["type", "object"], fields: { type: "string", object: "runtime.RawExtension" } },
    APIResourceList: {
      required: ["groupVersion", "resources"],
      fields: { apiVersion: "string", kind: "string", groupVersion: "string", resources: "[]APIResource" },
    },
    APIResource: {
      required: ["name", "singularName", "namespaced", "kind", "verbs"],
      fields: {
        name: "string",
        singularName: "string",
        namespaced: "bool",
        group: "string",
        version: "string",
        kind: "string",
        verbs: "[]string",
        shortNames: "[]string",
        categories: "[]string",
        storageVersionHash: "string",
      },
    },
  },
};

export const runtime: PackageTable = {
  prefix: "io.k8s.apimachinery.pkg.runtime",
  leaves: { RawExtension: { schema: { type: "object" }, description: "RawExtension is used to hold extensions in external versions." } },
  structs: {},
};

export const resource: PackageTable = {
  prefix: "io.k8s.apimachinery.pkg.api.resource",
  leaves: {
    // Kubernetes' v3 documents publish Quantity as "string or number"; kubectl only reads it for explain.
    Quantity: {
      schema: { oneOf: [{ type: "string" }, { type: "number" }] },
      description: "Quantity is a fixed-point representation of a number, e.g. 100m, 128Mi, 1.5.",
    },
  },
  structs: {},
};

export const intstr: PackageTable = {
  prefix: "io.k8s.apimachinery.pkg.util.intstr",
  leaves: {
    IntOrString: { schema: { type: "string", format: "int-or-string" }, description: "IntOrString is a type that can hold an int32 or a string." },
  },
  structs: {},
};

/** Names every package may use unqualified. */
export const sharedNames: Readonly<Record<string, string>> = {
  ObjectMeta: `${meta.prefix}.ObjectMeta`,
  ListMeta: `${meta.prefix}.ListMeta`,
  LabelSelector: `${meta.prefix}.LabelSelector`,
  Condition: `${meta.prefix}.Condition`,
  Time: `${meta.prefix}.Time`,
  MicroTime: `${meta.prefix}.MicroTime`,
  Duration: `${meta.prefix}.Duration`,
  Quantity: `${resource.prefix}.Quantity`,
  IntOrString: `${intstr.prefix}.IntOrString`,
};
