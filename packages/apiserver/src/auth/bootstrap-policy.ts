/**
 * The ClusterRoles and ClusterRoleBindings a cluster starts with, after Kubernetes' bootstrap
 * policy (plugin/pkg/auth/authorizer/rbac/bootstrappolicy/policy.go), cut to the resources
 * Coxswain serves. Every API server creates the missing ones at startup; existing ones are left
 * as an administrator may have changed them.
 *
 * Differences from Kubernetes, on purpose:
 * - admin, edit and view carry their rules directly instead of being aggregated from
 *   `system:aggregate-to-*` roles (no aggregation controller yet).
 * - system:node is bound to the group system:nodes, because there is no Node authorizer to
 *   narrow a node's access to its own pods' objects (Kubernetes before 1.8 bound it the same way).
 * - system:kube-controller-manager grants what every controller needs under the manager's own
 *   identity, since Coxswain's controllers do not run as per-controller ServiceAccounts.
 */
import { isApiStatusError, type ClusterRole, type ClusterRoleBinding, type PolicyRule, type Subject } from "@coxswain/api";
import { controllerManagerUser, schedulerUser, systemNodesGroup } from "./pki.js";
import { rbacApiGroup } from "./rbac.js";
import { systemAuthenticatedGroup, systemMastersGroupName, systemServiceAccountsGroup } from "./user.js";

export const bootstrappingLabel = "kubernetes.io/bootstrapping";
export const bootstrappingLabelValue = "rbac-defaults";
export const autoUpdateAnnotation = "rbac.authorization.kubernetes.io/autoupdate";
export const systemUnauthenticatedGroup = "system:unauthenticated";
export const systemMonitoringGroup = "system:monitoring";

const read = ["get", "list", "watch"];
const write = ["create", "delete", "deletecollection", "patch", "update"];
const readWrite = [...read, ...write];

function rule(verbs: string[], apiGroups: string[], resources: string[], resourceNames?: string[]): PolicyRule {
  const r: PolicyRule = { verbs, apiGroups, resources };
  if (resourceNames !== undefined) r.resourceNames = resourceNames;
  return r;
}

function urls(verbs: string[], nonResourceURLs: string[]): PolicyRule {
  return { verbs, nonResourceURLs };
}

function clusterRole(name: string, rules: PolicyRule[]): ClusterRole {
  return {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRole",
    metadata: { name, labels: { [bootstrappingLabel]: bootstrappingLabelValue }, annotations: { [autoUpdateAnnotation]: "true" } },
    rules,
  };
}

function group(name: string): Subject {
  return { apiGroup: rbacApiGroup, kind: "Group", name };
}

function user(name: string): Subject {
  return { apiGroup: rbacApiGroup, kind: "User", name };
}

function clusterRoleBinding(roleName: string, subjects: Subject[], bindingName = roleName): ClusterRoleBinding {
  return {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRoleBinding",
    metadata: { name: bindingName, labels: { [bootstrappingLabel]: bootstrappingLabelValue }, annotations: { [autoUpdateAnnotation]: "true" } },
    roleRef: { apiGroup: rbacApiGroup, kind: "ClusterRole", name: roleName },
    subjects,
  };
}

/** What `view` may read (no Secrets, as in Kubernetes: they would let a viewer act as a ServiceAccount). */
const viewRules: PolicyRule[] = [
  rule(
    read,
    [""],
    [
      "configmaps",
      "endpoints",
      "persistentvolumeclaims",
      "persistentvolumeclaims/status",
      "pods",
      "replicationcontrollers",
      "replicationcontrollers/scale",
      "serviceaccounts",
      "services",
      "services/status",
    ],
  ),
  rule(
    read,
    [""],
    [
      "bindings",
      "events",
      "limitranges",
      "namespaces/status",
      "pods/log",
      "pods/status",
      "replicationcontrollers/status",
      "resourcequotas",
      "resourcequotas/status",
    ],
  ),
  rule(read, [""], ["namespaces"]),
  rule(read, ["discovery.k8s.io"], ["endpointslices"]),
  rule(
    read,
    ["apps"],
    [
      "controllerrevisions",
      "daemonsets",
      "daemonsets/status",
      "deployments",
      "deployments/scale",
      "deployments/status",
      "replicasets",
      "replicasets/scale",
      "replicasets/status",
      "statefulsets",
      "statefulsets/scale",
      "statefulsets/status",
    ],
  ),
  rule(read, ["autoscaling"], ["horizontalpodautoscalers", "horizontalpodautoscalers/status"]),
  rule(read, ["batch"], ["cronjobs", "cronjobs/status", "jobs", "jobs/status"]),
  rule(read, ["networking.k8s.io"], ["ingresses", "ingresses/status", "networkpolicies"]),
  rule(read, ["policy"], ["poddisruptionbudgets", "poddisruptionbudgets/status"]),
  rule(read, ["coordination.k8s.io"], ["leases"]),
  rule(read, ["metrics.k8s.io"], ["pods", "nodes"]),
];

/** `edit` adds writing workloads, configuration and Secrets, and exec/attach/port-forward. */
const editRules: PolicyRule[] = [
  ...viewRules,
  rule(write, [""], ["pods", "pods/attach", "pods/exec", "pods/portforward", "pods/proxy"]),
  rule(["create"], [""], ["pods/eviction"]),
  rule(
    write,
    [""],
    [
      "configmaps",
      "events",
      "persistentvolumeclaims",
      "replicationcontrollers",
      "replicationcontrollers/scale",
      "secrets",
      "serviceaccounts",
      "services",
      "services/proxy",
    ],
  ),
  rule(["create"], [""], ["serviceaccounts/token"]),
  rule(read, [""], ["secrets", "pods/attach", "pods/exec", "pods/portforward", "pods/proxy", "services/proxy"]),
  rule(["impersonate"], [""], ["serviceaccounts"]),
  rule(
    write,
    ["apps"],
    ["daemonsets", "deployments", "deployments/rollback", "deployments/scale", "replicasets", "replicasets/scale", "statefulsets", "statefulsets/scale"],
  ),
  rule(write, ["autoscaling"], ["horizontalpodautoscalers"]),
  rule(write, ["batch"], ["cronjobs", "jobs"]),
  rule(write, ["networking.k8s.io"], ["ingresses", "networkpolicies"]),
  rule(write, ["policy"], ["poddisruptionbudgets"]),
  rule(write, ["discovery.k8s.io"], ["endpointslices"]),
  rule(write, ["coordination.k8s.io"], ["leases"]),
];

/** `admin` adds managing access inside a namespace (Roles and RoleBindings), not the namespace itself. */
const adminRules: PolicyRule[] = [
  ...editRules,
  rule(["create"], ["authorization.k8s.io"], ["localsubjectaccessreviews"]),
  rule(readWrite, [rbacApiGroup], ["rolebindings", "roles"]),
];

const schedulerRules: PolicyRule[] = [
  rule(["create", "patch", "update"], ["", "events.k8s.io"], ["events"]),
  // Leader election.
  rule(["create"], ["coordination.k8s.io"], ["leases"]),
  rule(["get", "update"], ["coordination.k8s.io"], ["leases"], ["kube-scheduler"]),
  rule(read, [""], ["nodes"]),
  rule(read, [""], ["namespaces"]),
  rule(["delete", "get", "list", "watch"], [""], ["pods"]),
  rule(["create"], [""], ["bindings", "pods/binding"]),
  rule(["patch", "update"], [""], ["pods/status"]),
  rule(read, [""], ["replicationcontrollers", "services", "persistentvolumeclaims", "persistentvolumes", "configmaps"]),
  rule(read, ["apps"], ["replicasets", "statefulsets", "daemonsets", "deployments"]),
  rule(read, ["policy"], ["poddisruptionbudgets"]),
  rule(["create"], ["authentication.k8s.io"], ["tokenreviews"]),
  rule(["create"], ["authorization.k8s.io"], ["subjectaccessreviews"]),
];

/** The API groups of the objects controllers manage (everything but access control). */
const controlledGroups = ["", "apps", "batch", "autoscaling", "networking.k8s.io", "coordination.k8s.io", "discovery.k8s.io", "events.k8s.io", "policy"];

const controllerManagerRules: PolicyRule[] = [
  // The garbage collector and the namespace controller read and delete every kind, RBAC objects included.
  rule(["get", "list", "watch", "delete", "deletecollection"], ["*"], ["*"]),
  rule(["*"], controlledGroups, ["*"]),
  rule(["create"], ["authentication.k8s.io"], ["tokenreviews"]),
  rule(["create"], ["authorization.k8s.io"], ["subjectaccessreviews"]),
];

const nodeRules: PolicyRule[] = [
  rule(["create", "get", "list", "watch", "patch", "update", "delete"], [""], ["nodes"]),
  rule(["patch", "update"], [""], ["nodes/status"]),
  rule(read, [""], ["pods"]),
  // Mirror pods for static manifests.
  rule(["create", "delete"], [""], ["pods"]),
  rule(["patch", "update"], [""], ["pods/status"]),
  rule(["create"], [""], ["pods/eviction"]),
  rule(read, [""], ["services", "endpoints", "namespaces"]),
  rule(["create", "patch", "update"], ["", "events.k8s.io"], ["events"]),
  rule(["get", "list", "watch"], [""], ["configmaps", "secrets", "persistentvolumeclaims", "persistentvolumes", "serviceaccounts"]),
  rule(["create"], [""], ["serviceaccounts/token"]),
  rule(["get", "create", "update", "patch", "delete"], ["coordination.k8s.io"], ["leases"]),
  rule(["create"], ["authentication.k8s.io"], ["tokenreviews"]),
  rule(["create"], ["authorization.k8s.io"], ["subjectaccessreviews", "localsubjectaccessreviews"]),
  rule(read, ["discovery.k8s.io"], ["endpointslices"]),
];

/** The bootstrap ClusterRoles, in Kubernetes' names. */
export function bootstrapClusterRoles(): ClusterRole[] {
  return [
    clusterRole("cluster-admin", [rule(["*"], ["*"], ["*"]), urls(["*"], ["*"])]),
    clusterRole("admin", adminRules),
    clusterRole("edit", editRules),
    clusterRole("view", viewRules),
    clusterRole("system:discovery", [
      urls(["get"], ["/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi", "/openapi/*", "/readyz", "/version", "/version/"]),
    ]),
    clusterRole("system:basic-user", [
      rule(["create"], ["authorization.k8s.io"], ["selfsubjectaccessreviews", "selfsubjectrulesreviews"]),
      rule(["create"], ["authentication.k8s.io"], ["selfsubjectreviews"]),
    ]),
    clusterRole("system:public-info-viewer", [urls(["get"], ["/healthz", "/livez", "/readyz", "/version", "/version/"])]),
    clusterRole("system:monitoring", [urls(["get"], ["/metrics", "/metrics/slis", "/livez", "/readyz", "/healthz", "/livez/*", "/readyz/*", "/healthz/*"])]),
    clusterRole("system:service-account-issuer-discovery", [
      urls(["get"], ["/.well-known/openid-configuration", "/.well-known/openid-configuration/", "/openid/v1/jwks", "/openid/v1/jwks/"]),
    ]),
    clusterRole("system:kube-scheduler", schedulerRules),
    clusterRole("system:kube-controller-manager", controllerManagerRules),
    clusterRole("system:node", nodeRules),
  ];
}

/** The bootstrap ClusterRoleBindings: who holds the roles above from the start. */
export function bootstrapClusterRoleBindings(): ClusterRoleBinding[] {
  return [
    clusterRoleBinding("cluster-admin", [group(systemMastersGroupName)]),
    clusterRoleBinding("system:discovery", [group(systemAuthenticatedGroup)]),
    clusterRoleBinding("system:basic-user", [group(systemAuthenticatedGroup)]),
    clusterRoleBinding("system:public-info-viewer", [group(systemAuthenticatedGroup), group(systemUnauthenticatedGroup)]),
    clusterRoleBinding("system:monitoring", [group(systemMonitoringGroup)]),
    clusterRoleBinding("system:service-account-issuer-discovery", [group(systemServiceAccountsGroup)]),
    clusterRoleBinding("system:kube-scheduler", [user(schedulerUser)]),
    clusterRoleBinding("system:kube-controller-manager", [user(controllerManagerUser)]),
    clusterRoleBinding("system:node", [group(systemNodesGroup)]),
  ];
}

/** Where the bootstrap objects are written: the apiserver's own storage path, bypassing authorization. */
export interface BootstrapPolicyStore {
  getClusterRole(name: string): Promise<ClusterRole | undefined>;
  createClusterRole(role: ClusterRole): Promise<void>;
  getClusterRoleBinding(name: string): Promise<ClusterRoleBinding | undefined>;
  createClusterRoleBinding(binding: ClusterRoleBinding): Promise<void>;
}

/**
 * Create each bootstrap ClusterRole and ClusterRoleBinding that does not exist. Safe to run on
 * every start and from several API servers at once: one that loses a create race (409
 * AlreadyExists) takes the other's object. Returns the names it created.
 */
export async function ensureBootstrapPolicy(store: BootstrapPolicyStore): Promise<{ clusterRoles: string[]; clusterRoleBindings: string[] }> {
  const created = { clusterRoles: [] as string[], clusterRoleBindings: [] as string[] };
  for (const role of bootstrapClusterRoles()) {
    const name = role.metadata.name ?? "";
    if ((await store.getClusterRole(name)) !== undefined) continue;
    if (await createUnlessExists(() => store.createClusterRole(role))) created.clusterRoles.push(name);
  }
  for (const binding of bootstrapClusterRoleBindings()) {
    const name = binding.metadata.name ?? "";
    if ((await store.getClusterRoleBinding(name)) !== undefined) continue;
    if (await createUnlessExists(() => store.createClusterRoleBinding(binding))) created.clusterRoleBindings.push(name);
  }
  return created;
}

async function createUnlessExists(create: () => Promise<void>): Promise<boolean> {
  try {
    await create();
    return true;
  } catch (error) {
    if (isApiStatusError(error, "AlreadyExists")) return false;
    throw error;
  }
}
