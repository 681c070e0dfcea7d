/**
 * The resource registry: one table describing every resource Coxswain serves — where it lives in
 * the REST API (group, version, plural, namespaced), how discovery presents it (short names,
 * categories, verbs, subresources) and the per-kind hooks the apiserver calls (defaulting,
 * validation, strategy, Table printing, field selectors, strategic-merge-patch schema).
 *
 * The apiserver's discovery endpoints and its router read this table and nothing else; adding a
 * kind is adding an entry here.
 */
import { assert } from "@coxswain/raft";
import type { APIGroup, APIGroupList, APIResource, APIResourceList, APIVersions, KubeObject } from "./types/meta/v1.js";
import type { Binding, Pod } from "./types/core/pod.js";
import type { Node } from "./types/core/node.js";
import type { Namespace } from "./types/core/namespace.js";
import type { Secret } from "./types/core/config.js";
import type { Event } from "./types/core/event.js";
import type { Service } from "./types/core/service.js";
import type { ReplicaSet } from "./types/apps/v1.js";
import type { Job } from "./types/batch/v1.js";
import type { FieldError } from "./validation/field.js";
import * as defaults from "./defaulting/index.js";
import * as core from "./validation/core.js";
import * as workloads from "./validation/workloads.js";
import * as other from "./validation/other.js";
import { validatePod, validatePodUpdate } from "./validation/pod.js";
import { defaultPrinter, printers, type TablePrinter } from "./printing/columns.js";
import { patchSchemaFor, type PatchSchema } from "./patch/schema.js";
import type { FieldSet } from "./selectors/fields.js";
import {
  generateJobSelector,
  mergeSecretStringData,
  podInitialStatus,
  prepareNamespaceForCreate,
  prepareNamespaceForUpdate,
  preserveServiceAllocations,
  prepareForCreate as strategyPrepareForCreate,
  prepareForStatusUpdate as strategyPrepareForStatusUpdate,
  prepareForUpdate as strategyPrepareForUpdate,
  type StrategyRules,
} from "./strategy.js";
import { statusInvalid, ApiStatusError } from "./errors.js";
import type { HorizontalPodAutoscaler, HorizontalPodAutoscalerV1 } from "./types/autoscaling/hpa.js";
import { hpaV1ToV2, hpaV2ToV1 } from "./conversion/hpa.js";

export type Verb = "create" | "delete" | "deletecollection" | "get" | "list" | "patch" | "update" | "watch";

export const standardVerbs: readonly Verb[] = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];

export type SubresourceName = "status" | "scale" | "binding" | "log" | "exec";

export interface SubresourceDescriptor {
  name: SubresourceName;
  /** The kind the subresource reads and writes (Scale for `scale`, Binding for `binding`). */
  kind: string;
  group: string;
  version: string;
  verbs: readonly string[];
}

export interface ResourceDescriptor {
  group: string;
  version: string;
  /** `v1` or `apps/v1`: the apiVersion of objects served here. */
  apiVersion: string;
  kind: string;
  listKind: string;
  plural: string;
  singular: string;
  namespaced: boolean;
  shortNames: readonly string[];
  categories: readonly string[];
  verbs: readonly Verb[];
  subresources: readonly SubresourceDescriptor[];
  /** The version objects are stored in; differs from `version` only for HPA v1 (stored as v2). */
  storageVersion: string;
  /**
   * A request body of this version in the storage version (`stored` is the current object on
   * updates, so fields this version cannot express survive). Every hook below takes and returns
   * objects in the storage version; identity where the versions are the same.
   */
  toStorageVersion(obj: KubeObject, stored?: KubeObject): KubeObject;
  /** A stored object as this version serves it (for responses and watch events). */
  fromStorageVersion(obj: KubeObject): KubeObject;
  /** Only the status subresource writes `.status`; updates of the main resource keep it. */
  hasStatus: boolean;
  /** metadata.generation starts at 1 and is bumped when a spec field changes. */
  tracksGeneration: boolean;
  /** Fill in defaults (mutates). Runs on create and update, before prepare and validate. */
  applyDefaults(obj: KubeObject): void;
  /** Reset what a client may not set on create (status, generation); runs after uid and name are assigned. */
  prepareForCreate(obj: KubeObject): void;
  /** Keep status, bump generation, carry allocated fields over; runs before validateUpdate. */
  prepareForUpdate(obj: KubeObject, old: KubeObject): void;
  /** The object a status-subresource write produces: the stored object with the new status. */
  prepareForStatusUpdate(obj: KubeObject, old: KubeObject): KubeObject;
  validate(obj: KubeObject): FieldError[];
  validateUpdate(obj: KubeObject, old: KubeObject): FieldError[];
  printer: TablePrinter;
  /** Fields `?fieldSelector=` may name, with how to read each. */
  fieldSelectors: FieldSet<KubeObject>;
  patchSchema: PatchSchema;
}

interface ResourceDefinition<T extends KubeObject> {
  group: string;
  version: string;
  kind: string;
  plural: string;
  namespaced: boolean;
  shortNames?: readonly string[];
  categories?: readonly string[];
  verbs?: readonly Verb[];
  subresources?: readonly SubresourceName[];
  storageVersion?: string;
  toStorageVersion?: (obj: KubeObject, stored?: KubeObject) => KubeObject;
  fromStorageVersion?: (obj: KubeObject) => KubeObject;
  strategy?: Partial<StrategyRules>;
  defaults?: (obj: T) => void;
  validate?: (obj: T) => FieldError[];
  validateUpdate?: (obj: T, old: T) => FieldError[];
  fieldSelectors?: Readonly<Record<string, (obj: T) => string>>;
}

const subresourceKinds: Record<SubresourceName, { kind?: string; group?: string; version?: string; verbs: readonly string[] }> = {
  status: { verbs: ["get", "patch", "update"] },
  scale: { kind: "Scale", group: "autoscaling", version: "v1", verbs: ["get", "patch", "update"] },
  binding: { kind: "Binding", group: "", version: "v1", verbs: ["create"] },
  log: { verbs: ["get"] },
  exec: { kind: "PodExecOptions", group: "", version: "v1", verbs: ["create", "get"] },
};

const str = (v: string | number | boolean | null | undefined): string => (v === undefined || v === null ? "" : String(v));

/** Erases the kind's type once, here, so the table can hold every kind. */
function define<T extends KubeObject>(d: ResourceDefinition<T>): ResourceDescriptor {
  const rules: StrategyRules = {
    hasStatus: d.strategy?.hasStatus ?? false,
    tracksGeneration: d.strategy?.tracksGeneration ?? false,
    specFields: d.strategy?.specFields ?? ["spec"],
    ...(d.strategy?.initialStatus ? { initialStatus: d.strategy.initialStatus } : {}),
    ...(d.strategy?.prepareForCreate ? { prepareForCreate: d.strategy.prepareForCreate } : {}),
    ...(d.strategy?.prepareForUpdate ? { prepareForUpdate: d.strategy.prepareForUpdate } : {}),
  };
  const fieldSelectors: Record<string, (obj: KubeObject) => string> = {
    "metadata.name": (o) => str(o.metadata.name),
    "metadata.namespace": (o) => str(o.metadata.namespace),
  };
  for (const [field, getter] of Object.entries(d.fieldSelectors ?? {})) fieldSelectors[field] = getter as (obj: KubeObject) => string;
  const apiVersion = d.group === "" ? d.version : `${d.group}/${d.version}`;
  return {
    group: d.group,
    version: d.version,
    apiVersion,
    kind: d.kind,
    listKind: `${d.kind}List`,
    plural: d.plural,
    singular: d.kind.toLowerCase(),
    namespaced: d.namespaced,
    shortNames: d.shortNames ?? [],
    categories: d.categories ?? [],
    verbs: d.verbs ?? standardVerbs,
    subresources: (d.subresources ?? []).map((name) => {
      const s = subresourceKinds[name];
      return { name, kind: s.kind ?? d.kind, group: s.group ?? d.group, version: s.version ?? d.version, verbs: s.verbs };
    }),
    storageVersion: d.storageVersion ?? d.version,
    toStorageVersion: d.toStorageVersion ?? ((obj) => obj),
    fromStorageVersion: d.fromStorageVersion ?? ((obj) => obj),
    hasStatus: rules.hasStatus,
    tracksGeneration: rules.tracksGeneration,
    applyDefaults: (obj) => d.defaults?.(obj as T),
    prepareForCreate: (obj) => strategyPrepareForCreate(obj, rules),
    prepareForUpdate: (obj, old) => strategyPrepareForUpdate(obj, old, rules),
    prepareForStatusUpdate: (obj, old) => strategyPrepareForStatusUpdate(obj, old),
    validate: (obj) => d.validate?.(obj as T) ?? [],
    validateUpdate: (obj, old) => d.validateUpdate?.(obj as T, old as T) ?? [],
    printer: (printers[d.kind] ?? defaultPrinter) as unknown as TablePrinter,
    fieldSelectors,
    patchSchema: patchSchemaFor(d.kind),
  };
}

const withStatus = (tracksGeneration: boolean): Partial<StrategyRules> => ({ hasStatus: true, tracksGeneration });

/** Kubernetes' `all` category: what `kubectl get all` lists. */
const all = ["all"] as const;

export const resources: readonly ResourceDescriptor[] = [
  // ---- core/v1 ----
  define<Namespace>({
    group: "",
    version: "v1",
    kind: "Namespace",
    plural: "namespaces",
    namespaced: false,
    shortNames: ["ns"],
    verbs: ["create", "delete", "get", "list", "patch", "update", "watch"],
    subresources: ["status"],
    strategy: {
      hasStatus: true,
      initialStatus: () => ({ phase: "Active" }),
      prepareForCreate: prepareNamespaceForCreate,
      prepareForUpdate: prepareNamespaceForUpdate,
    },
    defaults: defaults.defaultNamespace,
    validate: core.validateNamespace,
    validateUpdate: core.validateNamespaceUpdate,
    fieldSelectors: { "status.phase": (n) => str(n.status?.phase) },
  }),
  define<Node>({
    group: "",
    version: "v1",
    kind: "Node",
    plural: "nodes",
    namespaced: false,
    shortNames: ["no"],
    subresources: ["status"],
    // Nodes register with their status: the agent sends capacity and addresses on create.
    strategy: { hasStatus: true, initialStatus: (o) => (o as Node).status },
    defaults: defaults.defaultNode,
    validate: core.validateNode,
    validateUpdate: core.validateNodeUpdate,
    fieldSelectors: { "spec.unschedulable": (n) => str(n.spec?.unschedulable ?? false) },
  }),
  define<Pod>({
    group: "",
    version: "v1",
    kind: "Pod",
    plural: "pods",
    namespaced: true,
    shortNames: ["po"],
    categories: all,
    subresources: ["status", "binding", "log", "exec"],
    strategy: { hasStatus: true, initialStatus: podInitialStatus },
    defaults: defaults.defaultPod,
    validate: validatePod,
    validateUpdate: validatePodUpdate,
    fieldSelectors: {
      "spec.nodeName": (p) => str(p.spec?.nodeName),
      "spec.restartPolicy": (p) => str(p.spec?.restartPolicy),
      "spec.schedulerName": (p) => str(p.spec?.schedulerName),
      "spec.serviceAccountName": (p) => str(p.spec?.serviceAccountName),
      "spec.hostNetwork": (p) => str(p.spec?.hostNetwork ?? false),
      "status.phase": (p) => str(p.status?.phase),
      "status.podIP": (p) => str(p.status?.podIP),
      "status.nominatedNodeName": (p) => str(p.status?.nominatedNodeName),
    },
  }),
  define<Binding>({
    group: "",
    version: "v1",
    kind: "Binding",
    plural: "bindings",
    namespaced: true,
    verbs: ["create"],
    validate: core.validateBinding,
  }),
  define<Service>({
    group: "",
    version: "v1",
    kind: "Service",
    plural: "services",
    namespaced: true,
    shortNames: ["svc"],
    categories: all,
    subresources: ["status"],
    strategy: { hasStatus: true, prepareForUpdate: preserveServiceAllocations },
    defaults: defaults.defaultService,
    validate: core.validateService,
    validateUpdate: core.validateServiceUpdate,
    fieldSelectors: { "spec.clusterIP": (s) => str(s.spec?.clusterIP), "spec.type": (s) => str(s.spec?.type) },
  }),
  define({
    group: "",
    version: "v1",
    kind: "Endpoints",
    plural: "endpoints",
    namespaced: true,
    shortNames: ["ep"],
    defaults: defaults.defaultEndpoints,
    validate: core.validateEndpoints,
    validateUpdate: core.validateEndpointsUpdate,
  }),
  define({
    group: "",
    version: "v1",
    kind: "ConfigMap",
    plural: "configmaps",
    namespaced: true,
    shortNames: ["cm"],
    validate: core.validateConfigMap,
    validateUpdate: core.validateConfigMapUpdate,
  }),
  define<Secret>({
    group: "",
    version: "v1",
    kind: "Secret",
    plural: "secrets",
    namespaced: true,
    strategy: { prepareForCreate: mergeSecretStringData, prepareForUpdate: mergeSecretStringData },
    defaults: defaults.defaultSecret,
    validate: core.validateSecret,
    validateUpdate: core.validateSecretUpdate,
    fieldSelectors: { type: (s) => str(s.type) },
  }),
  define<Event>({
    group: "",
    version: "v1",
    kind: "Event",
    plural: "events",
    namespaced: true,
    shortNames: ["ev"],
    validate: core.validateEvent,
    validateUpdate: core.validateEventUpdate,
    fieldSelectors: {
      "involvedObject.kind": (e) => str(e.involvedObject?.kind),
      "involvedObject.namespace": (e) => str(e.involvedObject?.namespace),
      "involvedObject.name": (e) => str(e.involvedObject?.name),
      "involvedObject.uid": (e) => str(e.involvedObject?.uid),
      "involvedObject.apiVersion": (e) => str(e.involvedObject?.apiVersion),
      "involvedObject.resourceVersion": (e) => str(e.involvedObject?.resourceVersion),
      "involvedObject.fieldPath": (e) => str(e.involvedObject?.fieldPath),
      reason: (e) => str(e.reason),
      reportingComponent: (e) => str(e.reportingComponent),
      source: (e) => str(e.source?.component),
      type: (e) => str(e.type),
    },
  }),
  define({
    group: "",
    version: "v1",
    kind: "ServiceAccount",
    plural: "serviceaccounts",
    namespaced: true,
    shortNames: ["sa"],
    validate: core.validateServiceAccount,
    validateUpdate: core.validateServiceAccountUpdate,
  }),
  // ---- apps/v1 ----
  define({
    group: "apps",
    version: "v1",
    kind: "Deployment",
    plural: "deployments",
    namespaced: true,
    shortNames: ["deploy"],
    categories: all,
    subresources: ["status", "scale"],
    strategy: withStatus(true),
    defaults: defaults.defaultDeployment,
    validate: workloads.validateDeployment,
    validateUpdate: workloads.validateDeploymentUpdate,
  }),
  define<ReplicaSet>({
    group: "apps",
    version: "v1",
    kind: "ReplicaSet",
    plural: "replicasets",
    namespaced: true,
    shortNames: ["rs"],
    categories: all,
    subresources: ["status", "scale"],
    strategy: withStatus(true),
    defaults: defaults.defaultReplicaSet,
    validate: workloads.validateReplicaSet,
    validateUpdate: workloads.validateReplicaSetUpdate,
    fieldSelectors: { "status.replicas": (r) => str(r.status?.replicas ?? 0) },
  }),
  define({
    group: "apps",
    version: "v1",
    kind: "DaemonSet",
    plural: "daemonsets",
    namespaced: true,
    shortNames: ["ds"],
    categories: all,
    subresources: ["status"],
    strategy: withStatus(true),
    defaults: defaults.defaultDaemonSet,
    validate: workloads.validateDaemonSet,
    validateUpdate: workloads.validateDaemonSetUpdate,
  }),
  // ---- batch/v1 ----
  define<Job>({
    group: "batch",
    version: "v1",
    kind: "Job",
    plural: "jobs",
    namespaced: true,
    categories: all,
    subresources: ["status"],
    strategy: { ...withStatus(true), prepareForCreate: generateJobSelector },
    defaults: defaults.defaultJob,
    validate: workloads.validateJob,
    validateUpdate: workloads.validateJobUpdate,
    fieldSelectors: { "status.successful": (j) => str(j.status?.succeeded ?? 0) },
  }),
  // ---- networking.k8s.io/v1 ----
  define({
    group: "networking.k8s.io",
    version: "v1",
    kind: "Ingress",
    plural: "ingresses",
    namespaced: true,
    shortNames: ["ing"],
    subresources: ["status"],
    strategy: withStatus(true),
    validate: other.validateIngress,
    validateUpdate: other.validateIngressUpdate,
  }),
  // ---- coordination.k8s.io/v1 ----
  define({
    group: "coordination.k8s.io",
    version: "v1",
    kind: "Lease",
    plural: "leases",
    namespaced: true,
    validate: other.validateLease,
    validateUpdate: other.validateLeaseUpdate,
  }),
  // ---- autoscaling/v2 (stored) and autoscaling/v1 (converted; see conversion/hpa.ts) ----
  define({
    group: "autoscaling",
    version: "v2",
    kind: "HorizontalPodAutoscaler",
    plural: "horizontalpodautoscalers",
    namespaced: true,
    shortNames: ["hpa"],
    categories: all,
    subresources: ["status"],
    strategy: withStatus(true),
    defaults: defaults.defaultHorizontalPodAutoscaler,
    validate: other.validateHorizontalPodAutoscaler,
    validateUpdate: other.validateHorizontalPodAutoscalerUpdate,
  }),
  define({
    group: "autoscaling",
    version: "v1",
    kind: "HorizontalPodAutoscaler",
    plural: "horizontalpodautoscalers",
    namespaced: true,
    shortNames: ["hpa"],
    categories: all,
    subresources: ["status"],
    storageVersion: "v2",
    toStorageVersion: (obj, stored) => hpaV1ToV2(obj as HorizontalPodAutoscalerV1, stored as HorizontalPodAutoscaler | undefined),
    fromStorageVersion: (obj) => hpaV2ToV1(obj as HorizontalPodAutoscaler),
    strategy: withStatus(true),
    defaults: defaults.defaultHorizontalPodAutoscaler,
    validate: other.validateHorizontalPodAutoscaler,
    validateUpdate: other.validateHorizontalPodAutoscalerUpdate,
  }),
  // ---- rbac.authorization.k8s.io/v1 ----
  define({
    group: "rbac.authorization.k8s.io",
    version: "v1",
    kind: "Role",
    plural: "roles",
    namespaced: true,
    validate: other.validateRole,
    validateUpdate: other.validateRoleUpdate,
  }),
  define({
    group: "rbac.authorization.k8s.io",
    version: "v1",
    kind: "ClusterRole",
    plural: "clusterroles",
    namespaced: false,
    validate: other.validateClusterRole,
    validateUpdate: other.validateClusterRoleUpdate,
  }),
  define({
    group: "rbac.authorization.k8s.io",
    version: "v1",
    kind: "RoleBinding",
    plural: "rolebindings",
    namespaced: true,
    defaults: defaults.defaultRoleBinding,
    validate: other.validateRoleBinding,
    validateUpdate: other.validateRoleBindingUpdate,
  }),
  define({
    group: "rbac.authorization.k8s.io",
    version: "v1",
    kind: "ClusterRoleBinding",
    plural: "clusterrolebindings",
    namespaced: false,
    defaults: defaults.defaultRoleBinding,
    validate: other.validateClusterRoleBinding,
    validateUpdate: other.validateClusterRoleBindingUpdate,
  }),
  // ---- metrics.k8s.io/v1beta1: read-only, computed from agent reports ----
  define({ group: "metrics.k8s.io", version: "v1beta1", kind: "NodeMetrics", plural: "nodes", namespaced: false, verbs: ["get", "list"] }),
  define({ group: "metrics.k8s.io", version: "v1beta1", kind: "PodMetrics", plural: "pods", namespaced: true, verbs: ["get", "list"] }),
];

// One plural per group-version, one kind per group-version: the router depends on both.
for (const r of resources) {
  assert(
    resources.filter((o) => o.apiVersion === r.apiVersion && o.plural === r.plural).length === 1,
    `registry: ${r.apiVersion} ${r.plural} is defined twice`,
  );
  assert(resources.filter((o) => o.apiVersion === r.apiVersion && o.kind === r.kind).length === 1, `registry: ${r.apiVersion} ${r.kind} is defined twice`);
}

/** The preferred version of each group, first in the APIGroup version list. */
const preferredVersions: Readonly<Record<string, string>> = { autoscaling: "v2" };

/** Looks a resource up the way the REST router sees it: `/apis/{group}/{version}/.../{plural}`. */
export function findResource(group: string, version: string, plural: string): ResourceDescriptor | undefined {
  return resources.find((r) => r.group === group && r.version === version && r.plural === plural);
}

/** Looks a resource up by an object's apiVersion and kind (e.g. to decode a request body or an owner reference). */
export function findResourceByKind(apiVersion: string, kind: string): ResourceDescriptor | undefined {
  return resources.find((r) => r.apiVersion === apiVersion && r.kind === kind);
}

/**
 * Resolves what a person types (`po`, `pod`, `pods`, `Deployment`, `deployments.apps`,
 * `hpa.v1.autoscaling`) to the preferred version of a resource, as kubectl's RESTMapper does.
 */
export function resolveResource(text: string): ResourceDescriptor | undefined {
  const lower = text.toLowerCase();
  const [name = "", ...rest] = lower.split(".");
  let version: string | undefined;
  let group: string | undefined;
  if (rest.length > 0) {
    const first = rest[0] ?? "";
    const tail = rest.slice(1).join(".");
    if (/^v[0-9]+((alpha|beta)[0-9]+)?$/.test(first) && resources.some((r) => r.group === tail && r.version === first)) {
      version = first;
      group = tail;
    } else {
      group = rest.join(".");
    }
  }
  const candidates = resources.filter(
    (r) =>
      (group === undefined || r.group === group) &&
      (version === undefined || r.version === version) &&
      (r.plural === name || r.singular === name || r.kind.toLowerCase() === name || r.shortNames.includes(name)),
  );
  if (candidates.length === 0) return undefined;
  // Prefer the core and built-in groups over metrics (which reuses the plurals "nodes" and "pods"), then the preferred version.
  const rank = (r: ResourceDescriptor): number =>
    (r.group === "metrics.k8s.io" ? 2 : 0) + (preferredVersions[r.group] !== undefined && preferredVersions[r.group] !== r.version ? 1 : 0);
  return [...candidates].sort((a, b) => rank(a) - rank(b))[0];
}

export function resourcesInCategory(category: string): ResourceDescriptor[] {
  return resources.filter((r) => r.categories.includes(category) && (preferredVersions[r.group] ?? r.version) === r.version);
}

/** Every served group-version: the core group first, then groups in table order, each group's preferred version first. */
export function servedGroupVersions(): { group: string; version: string }[] {
  const groups: string[] = [];
  for (const r of resources) if (!groups.includes(r.group)) groups.push(r.group);
  groups.sort((a, b) => Number(a !== "") - Number(b !== ""));
  const out: { group: string; version: string }[] = [];
  for (const group of groups) {
    const versions = [...new Set(resources.filter((r) => r.group === group).map((r) => r.version))];
    const preferred = preferredVersions[group];
    versions.sort((a, b) => Number(b === preferred) - Number(a === preferred));
    for (const version of versions) out.push({ group, version });
  }
  return out;
}

/** `GET /api`. */
export function apiVersions(serverAddress: string): APIVersions {
  return { kind: "APIVersions", versions: ["v1"], serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress }] };
}

function apiGroup(name: string): APIGroup {
  const versions = servedGroupVersions()
    .filter((gv) => gv.group === name)
    .map((gv) => ({ groupVersion: `${name}/${gv.version}`, version: gv.version }));
  const preferred = versions[0];
  assert(preferred !== undefined, `registry: group ${name} has no versions`);
  return { name, versions, preferredVersion: preferred };
}

/** `GET /apis`: every named group (the core group is served at /api). */
export function apiGroupList(): APIGroupList {
  const names = [...new Set(servedGroupVersions().map((gv) => gv.group))].filter((g) => g !== "");
  return { kind: "APIGroupList", apiVersion: "v1", groups: names.map(apiGroup) };
}

/** `GET /apis/{group}`. */
export function apiGroupDocument(group: string): APIGroup | undefined {
  return servedGroupVersions().some((gv) => gv.group === group && group !== "") ? { kind: "APIGroup", apiVersion: "v1", ...apiGroup(group) } : undefined;
}

/** `GET /api/v1` or `GET /apis/{group}/{version}`: resources with verbs, short names, categories, subresources. */
export function apiResourceList(group: string, version: string): APIResourceList | undefined {
  const served = resources.filter((r) => r.group === group && r.version === version);
  if (served.length === 0) return undefined;
  const list: APIResource[] = [];
  for (const r of served) {
    const entry: APIResource = { name: r.plural, singularName: r.singular, namespaced: r.namespaced, kind: r.kind, verbs: [...r.verbs] };
    if (r.shortNames.length > 0) entry.shortNames = [...r.shortNames];
    if (r.categories.length > 0) entry.categories = [...r.categories];
    list.push(entry);
    for (const s of r.subresources) {
      const sub: APIResource = { name: `${r.plural}/${s.name}`, singularName: "", namespaced: r.namespaced, kind: s.kind, verbs: [...s.verbs] };
      if (s.group !== r.group || s.version !== r.version) {
        sub.group = s.group;
        sub.version = s.version;
      }
      list.push(sub);
    }
  }
  return { kind: "APIResourceList", apiVersion: "v1", groupVersion: group === "" ? version : `${group}/${version}`, resources: list };
}

/** The 422 error for an object that failed validation, ready to throw. */
export function invalidObjectError(resource: ResourceDescriptor, name: string, errors: readonly FieldError[]): ApiStatusError {
  return new ApiStatusError(statusInvalid({ group: resource.group, kind: resource.kind }, name, errors));
}
