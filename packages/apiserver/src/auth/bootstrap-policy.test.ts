import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ApiStatusError, statusAlreadyExists, type ClusterRole, type ClusterRoleBinding } from "@coxswain/api";
import { bootstrapClusterRoleBindings, bootstrapClusterRoles, ensureBootstrapPolicy, type BootstrapPolicyStore } from "./bootstrap-policy.js";
import { InMemoryRbacObjects, RbacAuthorizer, type AuthorizationUser } from "./rbac.js";
import { authorizationAttributesFor } from "./request-info.js";

function bootstrapAuthorizer(extra: { clusterRoleBindings?: ClusterRoleBinding[] } = {}): RbacAuthorizer {
  return new RbacAuthorizer(
    new InMemoryRbacObjects({
      clusterRoles: bootstrapClusterRoles(),
      clusterRoleBindings: [...bootstrapClusterRoleBindings(), ...(extra.clusterRoleBindings ?? [])],
    }),
  );
}

function can(authorizer: RbacAuthorizer, user: AuthorizationUser, method: string, url: string): boolean {
  return authorizer.authorize(authorizationAttributesFor({ user, method, url })).allowed;
}

const authenticated = "system:authenticated";

describe("bootstrap policy", () => {
  const authorizer = bootstrapAuthorizer();

  it("names every ClusterRole a ClusterRoleBinding refers to, once", () => {
    const roles = bootstrapClusterRoles().map((r) => r.metadata.name);
    assert.equal(new Set(roles).size, roles.length);
    for (const binding of bootstrapClusterRoleBindings()) assert.ok(roles.includes(binding.roleRef.name), binding.roleRef.name);
    for (const role of bootstrapClusterRoles()) assert.equal(role.metadata.labels?.["kubernetes.io/bootstrapping"], "rbac-defaults");
  });

  it("lets any authenticated user discover the API and read /version and /healthz, and nothing else", () => {
    const bob = { name: "bob", groups: [authenticated] };
    for (const url of ["/api", "/api/v1", "/apis", "/apis/apps/v1", "/version", "/healthz", "/readyz", "/openapi/v3"])
      assert.ok(can(authorizer, bob, "GET", url), url);
    assert.ok(!can(authorizer, bob, "GET", "/api/v1/namespaces/default/pods"));
    assert.ok(!can(authorizer, bob, "GET", "/metrics"));
    assert.ok(
      authorizer.authorize({ resourceRequest: true, user: bob, verb: "create", apiGroup: "authorization.k8s.io", resource: "selfsubjectaccessreviews" })
        .allowed,
      "kubectl auth can-i",
    );
  });

  it("gives system:masters everything through cluster-admin as well", () => {
    const rbacOnly = new RbacAuthorizer(
      new InMemoryRbacObjects({ clusterRoles: bootstrapClusterRoles(), clusterRoleBindings: bootstrapClusterRoleBindings() }),
    );
    const admin = { name: "admin", groups: ["system:masters", authenticated] };
    assert.ok(can(rbacOnly, admin, "DELETE", "/api/v1/nodes/n1"));
    assert.ok(can(rbacOnly, admin, "GET", "/metrics"));
  });

  it("lets the scheduler bind pods and read nodes, but not delete nodes or read secrets", () => {
    const scheduler = { name: "system:kube-scheduler", groups: [authenticated] };
    assert.ok(can(authorizer, scheduler, "POST", "/api/v1/namespaces/default/pods/web/binding"));
    assert.ok(can(authorizer, scheduler, "GET", "/api/v1/nodes?watch=true"));
    assert.ok(can(authorizer, scheduler, "GET", "/api/v1/pods?watch=true"));
    assert.ok(can(authorizer, scheduler, "PUT", "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kube-scheduler"));
    assert.ok(!can(authorizer, scheduler, "PUT", "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kube-controller-manager"));
    assert.ok(!can(authorizer, scheduler, "DELETE", "/api/v1/nodes/n1"));
    assert.ok(!can(authorizer, scheduler, "GET", "/api/v1/namespaces/default/secrets"));
  });

  it("lets the controller manager manage workloads and collect garbage, but not grant access", () => {
    const manager = { name: "system:kube-controller-manager", groups: [authenticated] };
    assert.ok(can(authorizer, manager, "POST", "/apis/apps/v1/namespaces/default/replicasets"));
    assert.ok(can(authorizer, manager, "PUT", "/apis/apps/v1/namespaces/default/deployments/web/status"));
    assert.ok(can(authorizer, manager, "DELETE", "/api/v1/namespaces/default/pods/web-1"));
    assert.ok(can(authorizer, manager, "DELETE", "/apis/rbac.authorization.k8s.io/v1/namespaces/gone/roles/r"), "the namespace controller empties namespaces");
    assert.ok(!can(authorizer, manager, "POST", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings"));
  });

  it("lets nodes report their status and read their pods", () => {
    const node = { name: "system:node:worker-1", groups: ["system:nodes", authenticated] };
    assert.ok(can(authorizer, node, "PATCH", "/api/v1/nodes/worker-1/status"));
    assert.ok(can(authorizer, node, "GET", "/api/v1/pods?fieldSelector=spec.nodeName%3Dworker-1&watch=true"));
    assert.ok(can(authorizer, node, "PUT", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/worker-1"));
    assert.ok(!can(authorizer, node, "POST", "/apis/apps/v1/namespaces/default/deployments"));
  });

  it("grants admin, edit and view in a namespace through a RoleBinding, each less than the last", () => {
    const objects = new InMemoryRbacObjects({ clusterRoles: bootstrapClusterRoles() });
    for (const role of ["admin", "edit", "view"]) {
      objects.putRoleBinding({
        metadata: { namespace: "team", name: role },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: role },
        subjects: [{ kind: "User", name: `${role}-user` }],
      });
    }
    const rbac = new RbacAuthorizer(objects);
    const u = (name: string) => ({ name, groups: [authenticated] });
    assert.ok(can(rbac, u("view-user"), "GET", "/apis/apps/v1/namespaces/team/deployments"));
    assert.ok(!can(rbac, u("view-user"), "GET", "/api/v1/namespaces/team/secrets"), "view does not read secrets");
    assert.ok(!can(rbac, u("view-user"), "POST", "/api/v1/namespaces/team/pods"));
    assert.ok(can(rbac, u("edit-user"), "GET", "/api/v1/namespaces/team/secrets"));
    assert.ok(can(rbac, u("edit-user"), "PATCH", "/apis/apps/v1/namespaces/team/deployments/web/scale"));
    assert.ok(can(rbac, u("edit-user"), "POST", "/api/v1/namespaces/team/pods/web/exec"));
    assert.ok(!can(rbac, u("edit-user"), "POST", "/apis/rbac.authorization.k8s.io/v1/namespaces/team/rolebindings"));
    assert.ok(can(rbac, u("admin-user"), "POST", "/apis/rbac.authorization.k8s.io/v1/namespaces/team/rolebindings"));
    assert.ok(!can(rbac, u("admin-user"), "DELETE", "/api/v1/namespaces/team"), "admin does not delete its namespace");
    assert.ok(!can(rbac, u("admin-user"), "GET", "/api/v1/namespaces/other/pods"));
  });
});

class FakeStore implements BootstrapPolicyStore {
  readonly roles = new Map<string, ClusterRole>();
  readonly bindings = new Map<string, ClusterRoleBinding>();
  /** Names another API server "creates" just before this one does. */
  readonly racing = new Set<string>();

  async getClusterRole(name: string) {
    return this.roles.get(name);
  }
  async createClusterRole(role: ClusterRole) {
    const name = role.metadata.name ?? "";
    if (this.racing.has(name)) this.roles.set(name, role);
    if (this.roles.has(name)) throw new ApiStatusError(statusAlreadyExists({ group: "rbac.authorization.k8s.io", resource: "clusterroles" }, name));
    this.roles.set(name, role);
  }
  async getClusterRoleBinding(name: string) {
    return this.bindings.get(name);
  }
  async createClusterRoleBinding(binding: ClusterRoleBinding) {
    const name = binding.metadata.name ?? "";
    if (this.bindings.has(name)) throw new ApiStatusError(statusAlreadyExists({ group: "rbac.authorization.k8s.io", resource: "clusterrolebindings" }, name));
    this.bindings.set(name, binding);
  }
}

describe("ensureBootstrapPolicy", () => {
  it("creates every missing object, and nothing on the second run", async () => {
    const store = new FakeStore();
    const first = await ensureBootstrapPolicy(store);
    assert.equal(first.clusterRoles.length, bootstrapClusterRoles().length);
    assert.equal(first.clusterRoleBindings.length, bootstrapClusterRoleBindings().length);
    assert.deepEqual(await ensureBootstrapPolicy(store), { clusterRoles: [], clusterRoleBindings: [] });
  });

  it("leaves an administrator's change to a bootstrap role alone", async () => {
    const store = new FakeStore();
    const edited: ClusterRole = { kind: "ClusterRole", metadata: { name: "view" }, rules: [] };
    store.roles.set("view", edited);
    const created = await ensureBootstrapPolicy(store);
    assert.ok(!created.clusterRoles.includes("view"));
    assert.equal(store.roles.get("view"), edited);
  });

  it("takes another API server's object when it loses a create race", async () => {
    const store = new FakeStore();
    store.racing.add("edit");
    const created = await ensureBootstrapPolicy(store);
    assert.ok(!created.clusterRoles.includes("edit"));
    assert.ok(store.roles.has("edit"));
  });
});
