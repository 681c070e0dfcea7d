/**
 * RBAC decision tables. The first cases mirror Kubernetes' own
 * (plugin/pkg/auth/authorizer/rbac/rbac_test.go TestAuthorizer, subject_locator_test.go and
 * rbac/v1/evaluation_helpers tests); the rest cover the messages and escalation checks.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, Subject } from "@coxswain/api";
import { isApiStatusError } from "@coxswain/api";
import {
  breakdownRule,
  confirmNoBindingEscalation,
  confirmNoRoleEscalation,
  forbiddenStatus,
  InMemoryRbacObjects,
  RbacAuthorizer,
  ruleAllows,
  ruleCovers,
  subjectMatches,
  type AuthorizationAttributes,
} from "./rbac.js";

/** newRule(verbs, groups, resources, nonResourceURLs) as in Kubernetes' tests: comma lists, "" for none. */
function newRule(verbs: string, apiGroups: string, resources: string, nonResourceURLs: string): PolicyRule {
  const split = (s: string) => (s === "" ? [] : s.split(","));
  const rule: PolicyRule = { verbs: split(verbs) };
  if (resources !== "" || apiGroups !== "") {
    rule.apiGroups = apiGroups === "" ? [""] : split(apiGroups);
    rule.resources = split(resources);
  }
  if (nonResourceURLs !== "") rule.nonResourceURLs = split(nonResourceURLs);
  return rule;
}

function newClusterRole(name: string, ...rules: PolicyRule[]): ClusterRole {
  return { kind: "ClusterRole", metadata: { name }, rules };
}

function newRole(namespace: string, name: string, ...rules: PolicyRule[]): Role {
  return { kind: "Role", metadata: { namespace, name }, rules };
}

/** "User:alice", "Group:dev", "ServiceAccount:ns:name" or "ServiceAccount::name". */
function subjects(...specs: string[]): Subject[] {
  return specs.map((spec) => {
    const colon = spec.indexOf(":");
    const kind = spec.slice(0, colon);
    const rest = spec.slice(colon + 1);
    if (kind === "ServiceAccount") {
      const [namespace = "", name = ""] = rest.split(":");
      return namespace === "" ? { kind, name } : { kind, namespace, name };
    }
    return { kind, apiGroup: "rbac.authorization.k8s.io", name: rest };
  });
}

function newRoleBinding(namespace: string, roleName: string, roleKind: "Role" | "ClusterRole", ...subjectSpecs: string[]): RoleBinding {
  return {
    kind: "RoleBinding",
    metadata: { namespace, name: `${roleName}-binding` },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: roleKind, name: roleName },
    subjects: subjects(...subjectSpecs),
  };
}

function newClusterRoleBinding(roleName: string, ...subjectSpecs: string[]): ClusterRoleBinding {
  return {
    kind: "ClusterRoleBinding",
    metadata: { name: `${roleName}-binding` },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: roleName },
    subjects: subjects(...subjectSpecs),
  };
}

/** defaultAttributes{user, groups, verb, resource, subresource, namespace, name} with apiGroup "". */
function resource(
  user: string,
  groups: string,
  verb: string,
  res: string,
  subresource: string,
  namespace: string,
  name: string,
  apiGroup = "",
): AuthorizationAttributes {
  return {
    resourceRequest: true,
    user: { name: user, groups: groups === "" ? [] : groups.split(",") },
    verb,
    apiGroup,
    resource: res,
    subresource,
    namespace,
    name,
  };
}

function nonResource(user: string, groups: string, verb: string, path: string): AuthorizationAttributes {
  return { resourceRequest: false, user: { name: user, groups: groups === "" ? [] : groups.split(",") }, verb, path };
}

function describeAttributes(a: AuthorizationAttributes): string {
  return a.resourceRequest
    ? `${a.user.name}[${a.user.groups.join(",")}] ${a.verb} ${a.apiGroup}/${a.resource}${a.subresource ? "/" + a.subresource : ""} ns=${a.namespace ?? ""} name=${a.name ?? ""}`
    : `${a.user.name}[${a.user.groups.join(",")}] ${a.verb} ${a.path}`;
}

interface AuthorizerCase {
  name: string;
  roles?: Role[];
  clusterRoles?: ClusterRole[];
  roleBindings?: RoleBinding[];
  clusterRoleBindings?: ClusterRoleBinding[];
  shouldPass: AuthorizationAttributes[];
  shouldFail: AuthorizationAttributes[];
}

const authorizerCases: AuthorizerCase[] = [
  {
    name: "a RoleBinding to a ClusterRole grants it in that namespace only, to the bound user and group",
    clusterRoles: [newClusterRole("admin", newRule("*", "*", "*", "*"))],
    roleBindings: [newRoleBinding("ns1", "admin", "ClusterRole", "User:admin", "Group:admins")],
    shouldPass: [
      resource("admin", "", "get", "Pods", "", "ns1", ""),
      resource("admin", "", "watch", "Pods", "", "ns1", ""),
      resource("admin", "group1", "watch", "Foobar", "", "ns1", ""),
      resource("joe", "admins", "watch", "Foobar", "", "ns1", ""),
      resource("joe", "group1,admins", "watch", "Foobar", "", "ns1", ""),
    ],
    shouldFail: [
      resource("admin", "", "GET", "Pods", "", "ns2", ""),
      resource("admin", "", "GET", "Nodes", "", "", ""),
      resource("admin", "admins", "GET", "Pods", "", "ns2", ""),
      resource("admin", "admins", "GET", "Nodes", "", "", ""),
    ],
  },
  {
    name: "non-resource URLs match exactly, by wildcard verb, or by a prefix ending in *",
    clusterRoles: [
      newClusterRole("non-resource-url-getter", newRule("get", "", "", "/apis")),
      newClusterRole("non-resource-url", newRule("*", "", "", "/apis")),
      newClusterRole("non-resource-url-prefix", newRule("get", "", "", "/apis/*")),
    ],
    clusterRoleBindings: [
      newClusterRoleBinding("non-resource-url-getter", "User:foo", "Group:bar"),
      newClusterRoleBinding("non-resource-url", "User:admin", "Group:admin"),
      newClusterRoleBinding("non-resource-url-prefix", "User:prefixed", "Group:prefixed"),
    ],
    shouldPass: [
      nonResource("foo", "", "get", "/apis"),
      nonResource("", "bar", "get", "/apis"),
      nonResource("admin", "", "get", "/apis"),
      nonResource("", "admin", "get", "/apis"),
      nonResource("admin", "", "watch", "/apis"),
      nonResource("", "admin", "watch", "/apis"),
      nonResource("prefixed", "", "get", "/apis/v1"),
      nonResource("", "prefixed", "get", "/apis/v1"),
      nonResource("prefixed", "", "get", "/apis/v1/foobar"),
      nonResource("", "prefixed", "get", "/apis/v1/foorbar"),
    ],
    shouldFail: [
      // wrong verb
      nonResource("foo", "", "watch", "/apis"),
      nonResource("", "bar", "watch", "/apis"),
      // wrong path
      nonResource("foo", "", "get", "/api/v1"),
      nonResource("", "bar", "get", "/api/v1"),
      nonResource("admin", "", "get", "/api/v1"),
      nonResource("", "admin", "get", "/api/v1"),
      // not covered by the prefix
      nonResource("prefixed", "", "get", "/api/v1"),
      nonResource("", "prefixed", "get", "/api/v1"),
    ],
  },
  {
    name: "a rule on a resource does not cover its subresources",
    clusterRoles: [newClusterRole("admin", newRule("*", "*", "pods", "*"))],
    roleBindings: [newRoleBinding("ns1", "admin", "ClusterRole", "User:admin", "Group:admins")],
    shouldPass: [resource("admin", "", "get", "pods", "", "ns1", "")],
    shouldFail: [resource("admin", "", "get", "pods", "status", "ns1", "")],
  },
  {
    name: "resource/subresource and */subresource rules cover only that subresource",
    clusterRoles: [newClusterRole("admin", newRule("*", "*", "pods/status", "*"), newRule("*", "*", "*/scale", "*"))],
    roleBindings: [newRoleBinding("ns1", "admin", "ClusterRole", "User:admin", "Group:admins")],
    shouldPass: [
      resource("admin", "", "get", "pods", "status", "ns1", ""),
      resource("admin", "", "get", "pods", "scale", "ns1", ""),
      resource("admin", "", "get", "deployments", "scale", "ns1", ""),
      resource("admin", "", "get", "anything", "scale", "ns1", ""),
    ],
    shouldFail: [
      resource("admin", "", "get", "pods", "", "ns1", ""),
      resource("admin", "", "get", "deployments", "", "ns1", ""),
      resource("admin", "", "get", "anything", "", "ns1", ""),
      resource("admin", "", "get", "deployments", "status", "ns1", ""),
    ],
  },
  {
    name: "a ClusterRoleBinding grants in every namespace and at the cluster scope",
    clusterRoles: [newClusterRole("reader", newRule("get,list,watch", "", "pods,nodes", ""))],
    clusterRoleBindings: [newClusterRoleBinding("reader", "User:alice")],
    shouldPass: [
      resource("alice", "", "list", "pods", "", "", ""),
      resource("alice", "", "list", "pods", "", "any-namespace", ""),
      resource("alice", "", "get", "nodes", "", "", "node-1"),
    ],
    shouldFail: [resource("alice", "", "delete", "pods", "", "ns1", "p"), resource("bob", "", "list", "pods", "", "", "")],
  },
  {
    name: "a Role grants only in its namespace, and only through a RoleBinding there",
    roles: [newRole("dev", "pod-reader", newRule("get,list", "", "pods", ""))],
    roleBindings: [newRoleBinding("dev", "pod-reader", "Role", "User:alice"), newRoleBinding("prod", "pod-reader", "Role", "User:alice")],
    shouldPass: [resource("alice", "", "list", "pods", "", "dev", "")],
    shouldFail: [
      resource("alice", "", "list", "pods", "", "prod", ""), // the binding in prod names a Role prod lacks
      resource("alice", "", "list", "pods", "", "", ""), // all namespaces is the cluster scope
      resource("alice", "", "create", "pods", "", "dev", ""),
    ],
  },
  {
    name: "API groups must match: core rules do not grant apps resources",
    clusterRoles: [newClusterRole("core-only", newRule("*", "", "*", "")), newClusterRole("apps-deployments", newRule("get", "apps", "deployments", ""))],
    clusterRoleBindings: [newClusterRoleBinding("core-only", "User:core"), newClusterRoleBinding("apps-deployments", "User:apps")],
    shouldPass: [resource("core", "", "delete", "pods", "", "ns", "p"), resource("apps", "", "get", "deployments", "", "ns", "d", "apps")],
    shouldFail: [
      resource("core", "", "get", "deployments", "", "ns", "d", "apps"),
      resource("apps", "", "get", "deployments", "", "ns", "d", "extensions"),
      resource("apps", "", "get", "deployments", "", "ns", "d"),
    ],
  },
  {
    name: "resourceNames restrict to named objects and never grant list or create without a name",
    clusterRoles: [
      newClusterRole("one-configmap", { verbs: ["get", "update", "list", "create"], apiGroups: [""], resources: ["configmaps"], resourceNames: ["settings"] }),
    ],
    roleBindings: [newRoleBinding("ns1", "one-configmap", "ClusterRole", "User:alice")],
    shouldPass: [resource("alice", "", "get", "configmaps", "", "ns1", "settings"), resource("alice", "", "update", "configmaps", "", "ns1", "settings")],
    shouldFail: [
      resource("alice", "", "get", "configmaps", "", "ns1", "other"),
      resource("alice", "", "list", "configmaps", "", "ns1", ""),
      resource("alice", "", "create", "configmaps", "", "ns1", ""),
    ],
  },
  {
    name: "ServiceAccount subjects: the RoleBinding's namespace fills in a missing one",
    clusterRoles: [newClusterRole("edit", newRule("*", "*", "*", ""))],
    roleBindings: [
      newRoleBinding("ns1", "edit", "ClusterRole", "ServiceAccount::builder"),
      newRoleBinding("ns2", "edit", "ClusterRole", "ServiceAccount:ns1:deployer"),
    ],
    shouldPass: [
      resource("system:serviceaccount:ns1:builder", "system:serviceaccounts", "create", "pods", "", "ns1", ""),
      resource("system:serviceaccount:ns1:deployer", "system:serviceaccounts", "create", "pods", "", "ns2", ""),
    ],
    shouldFail: [
      resource("system:serviceaccount:ns2:builder", "system:serviceaccounts", "create", "pods", "", "ns1", ""),
      resource("system:serviceaccount:ns1:builder", "system:serviceaccounts", "create", "pods", "", "ns2", ""),
      resource("builder", "", "create", "pods", "", "ns1", ""),
    ],
  },
  {
    name: "a group ServiceAccount subject: every ServiceAccount of a namespace",
    clusterRoles: [newClusterRole("view", newRule("get", "", "pods", ""))],
    clusterRoleBindings: [newClusterRoleBinding("view", "Group:system:serviceaccounts:ns1")],
    shouldPass: [resource("system:serviceaccount:ns1:anything", "system:serviceaccounts,system:serviceaccounts:ns1", "get", "pods", "", "ns9", "p")],
    shouldFail: [resource("system:serviceaccount:ns2:anything", "system:serviceaccounts,system:serviceaccounts:ns2", "get", "pods", "", "ns9", "p")],
  },
  {
    name: "system:masters may do anything without any binding",
    shouldPass: [
      resource("root", "system:masters", "delete", "nodes", "", "", "n1"),
      resource("root", "system:masters", "escalate", "clusterroles", "", "", "x", "rbac.authorization.k8s.io"),
      nonResource("root", "system:masters", "post", "/anything"),
    ],
    shouldFail: [resource("root", "system:authenticated", "delete", "nodes", "", "", "n1")],
  },
  {
    name: "a binding to a missing role grants nothing",
    roleBindings: [newRoleBinding("ns1", "gone", "ClusterRole", "User:alice"), newRoleBinding("ns1", "gone-role", "Role", "User:alice")],
    clusterRoleBindings: [newClusterRoleBinding("gone-too", "User:alice")],
    shouldPass: [],
    shouldFail: [resource("alice", "", "get", "pods", "", "ns1", "p")],
  },
];

describe("RBAC authorizer decision table", () => {
  for (const testCase of authorizerCases) {
    it(testCase.name, () => {
      const authorizer = new RbacAuthorizer(new InMemoryRbacObjects(testCase));
      for (const attributes of testCase.shouldPass)
        assert.equal(authorizer.authorize(attributes).allowed, true, `should pass: ${describeAttributes(attributes)}`);
      for (const attributes of testCase.shouldFail)
        assert.equal(authorizer.authorize(attributes).allowed, false, `should fail: ${describeAttributes(attributes)}`);
    });
  }

  it("follows changes in the objects it reads", () => {
    const objects = new InMemoryRbacObjects({ clusterRoles: [newClusterRole("reader", newRule("get", "", "pods", ""))] });
    const authorizer = new RbacAuthorizer(objects);
    const request = resource("alice", "", "get", "pods", "", "ns1", "p");
    assert.equal(authorizer.authorize(request).allowed, false);
    objects.putRoleBinding(newRoleBinding("ns1", "reader", "ClusterRole", "User:alice"));
    assert.equal(authorizer.authorize(request).allowed, true);
    objects.deleteClusterRole("reader");
    assert.equal(authorizer.authorize(request).allowed, false);
  });

  it("says which binding allowed a request", () => {
    const authorizer = new RbacAuthorizer(
      new InMemoryRbacObjects({
        clusterRoles: [newClusterRole("reader", newRule("get", "", "pods", ""))],
        roleBindings: [newRoleBinding("ns1", "reader", "ClusterRole", "Group:devs")],
      }),
    );
    assert.deepEqual(authorizer.authorize(resource("alice", "devs", "get", "pods", "", "ns1", "p")), {
      allowed: true,
      reason: 'RBAC: allowed by RoleBinding "reader-binding/ns1" of ClusterRole "reader" to Group "devs"',
    });
  });
});

describe("rule matching", () => {
  const request = (verb: string, res: string, subresource = "", name = "", apiGroup = "") => resource("u", "", verb, res, subresource, "ns", name, apiGroup);
  const cases: [string, PolicyRule, AuthorizationAttributes, boolean][] = [
    ["exact verb, group and resource", newRule("get", "", "pods", ""), request("get", "pods"), true],
    ["verbs are case-sensitive", newRule("get", "", "pods", ""), request("GET", "pods"), false],
    ["resources are case-sensitive", newRule("get", "", "pods", ""), request("get", "Pods"), false],
    ["wildcard verb", newRule("*", "", "pods", ""), request("deletecollection", "pods"), true],
    ["wildcard group", newRule("get", "*", "pods", ""), request("get", "pods", "", "", "anything.example"), true],
    ["wildcard resource covers subresources", newRule("get", "", "*", ""), request("get", "pods", "log"), true],
    ["*/subresource needs the same subresource", newRule("get", "", "*/log", ""), request("get", "pods", "exec"), false],
    ["a rule with no apiGroups matches no group", { verbs: ["get"], resources: ["pods"] }, request("get", "pods"), false],
    ["a rule with only URLs matches no resource", newRule("get", "", "", "*"), request("get", "pods"), false],
    [
      "resourceNames match the name",
      { verbs: ["get"], apiGroups: [""], resources: ["pods"], resourceNames: ["a", "b"] },
      request("get", "pods", "", "b"),
      true,
    ],
    [
      "resourceNames do not match another name",
      { verbs: ["get"], apiGroups: [""], resources: ["pods"], resourceNames: ["a"] },
      request("get", "pods", "", "c"),
      false,
    ],
    ["URL wildcard matches every path", newRule("get", "", "", "*"), nonResource("u", "", "get", "/metrics"), true],
    ["URL prefix needs the prefix", newRule("get", "", "", "/healthz/*"), nonResource("u", "", "get", "/healthz"), false],
    ["URL prefix matches below it", newRule("get", "", "", "/healthz/*"), nonResource("u", "", "get", "/healthz/etcd"), true],
    ["a resource rule matches no URL", newRule("*", "*", "*", ""), nonResource("u", "", "get", "/healthz"), false],
  ];
  for (const [name, rule, attributes, expected] of cases) {
    it(`${name}: ${expected ? "allows" : "does not allow"}`, () => assert.equal(ruleAllows(attributes, rule), expected));
  }
});

describe("subjects", () => {
  const alice = { name: "alice", groups: ["dev"] };
  const sa = { name: "system:serviceaccount:ns1:builder", groups: ["system:serviceaccounts"] };
  it("match a User by name and a Group by membership", () => {
    assert.equal(subjectMatches({ kind: "User", name: "alice" }, alice, ""), true);
    assert.equal(subjectMatches({ kind: "User", name: "dev" }, alice, ""), false);
    assert.equal(subjectMatches({ kind: "Group", name: "dev" }, alice, ""), true);
    assert.equal(subjectMatches({ kind: "Group", name: "alice" }, alice, ""), false);
  });
  it("match a ServiceAccount by namespace and name, never without a namespace in a ClusterRoleBinding", () => {
    assert.equal(subjectMatches({ kind: "ServiceAccount", namespace: "ns1", name: "builder" }, sa, ""), true);
    assert.equal(subjectMatches({ kind: "ServiceAccount", name: "builder" }, sa, ""), false);
    assert.equal(subjectMatches({ kind: "ServiceAccount", name: "builder" }, sa, "ns1"), true);
    assert.equal(subjectMatches({ kind: "ServiceAccount", name: "builder" }, sa, "ns2"), false);
    assert.equal(subjectMatches({ kind: "User", name: "system:serviceaccount:ns1:builder" }, sa, ""), true);
  });
  it("match nothing of an unknown kind", () => {
    assert.equal(subjectMatches({ kind: "Robot", name: "alice" }, alice, ""), false);
  });
});

describe("forbidden messages", () => {
  it("names the user, verb, resource, group and namespace as Kubernetes does", () => {
    const status = forbiddenStatus(resource("alice", "", "list", "pods", "", "default", ""));
    assert.equal(status.code, 403);
    assert.equal(status.reason, "Forbidden");
    assert.equal(status.message, 'pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "default"');
    assert.deepEqual(status.details, { kind: "pods" });
  });

  it("names the object and the cluster scope", () => {
    const status = forbiddenStatus(resource("bob", "", "get", "nodes", "", "", "node-1"));
    assert.equal(status.message, 'nodes "node-1" is forbidden: User "bob" cannot get resource "nodes" in API group "" at the cluster scope');
  });

  it("qualifies the resource with its group and includes the subresource", () => {
    const status = forbiddenStatus(resource("bob", "", "update", "deployments", "scale", "web", "api", "apps"));
    assert.equal(
      status.message,
      'deployments.apps "api" is forbidden: User "bob" cannot update resource "deployments/scale" in API group "apps" in the namespace "web"',
    );
    assert.deepEqual(status.details, { name: "api", group: "apps", kind: "deployments" });
  });

  it("says path for non-resource requests", () => {
    const status = forbiddenStatus(nonResource("bob", "", "get", "/metrics"));
    assert.equal(status.message, 'forbidden: User "bob" cannot get path "/metrics"');
  });

  it("appends the RBAC reason when bindings name missing roles", () => {
    const authorizer = new RbacAuthorizer(new InMemoryRbacObjects({ roleBindings: [newRoleBinding("default", "ghost", "ClusterRole", "User:alice")] }));
    const attributes = resource("alice", "", "list", "pods", "", "default", "");
    const decision = authorizer.authorize(attributes);
    assert.equal(decision.allowed, false);
    assert.equal(
      forbiddenStatus(attributes, decision.reason).message,
      'pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "default": RBAC: clusterrole.rbac.authorization.k8s.io "ghost" not found',
    );
  });

  it("is thrown as an ApiStatusError by authorizeOrThrow", () => {
    const authorizer = new RbacAuthorizer(new InMemoryRbacObjects());
    assert.throws(
      () => authorizer.authorizeOrThrow(resource("alice", "", "delete", "secrets", "", "kube-system", "token")),
      (error: unknown) => isApiStatusError(error, "Forbidden") && error.code === 403,
    );
  });
});

describe("rules a user holds", () => {
  it("lists cluster-wide and namespace rules and reports missing roles", () => {
    const authorizer = new RbacAuthorizer(
      new InMemoryRbacObjects({
        clusterRoles: [newClusterRole("a", newRule("get", "", "pods", "")), newClusterRole("b", newRule("list", "", "secrets", ""))],
        clusterRoleBindings: [newClusterRoleBinding("a", "User:alice")],
        roleBindings: [newRoleBinding("ns1", "b", "ClusterRole", "User:alice"), newRoleBinding("ns1", "missing", "Role", "User:alice")],
      }),
    );
    const resolved = authorizer.rulesFor({ name: "alice", groups: [] }, "ns1");
    assert.deepEqual(resolved.rules, [newRule("get", "", "pods", ""), newRule("list", "", "secrets", "")]);
    assert.deepEqual(resolved.errors, ['role.rbac.authorization.k8s.io "missing" not found']);
    assert.deepEqual(authorizer.rulesFor({ name: "alice", groups: [] }, "ns2").rules, [newRule("get", "", "pods", "")]);
  });
});

describe("escalation prevention", () => {
  it("breaks a rule down into single grants", () => {
    assert.deepEqual(breakdownRule({ verbs: ["get", "list"], apiGroups: [""], resources: ["pods"] }), [
      { verbs: ["get"], apiGroups: [""], resources: ["pods"] },
      { verbs: ["list"], apiGroups: [""], resources: ["pods"] },
    ]);
    assert.deepEqual(breakdownRule({ verbs: ["get"], nonResourceURLs: ["/a", "/b"] }), [
      { verbs: ["get"], nonResourceURLs: ["/a"] },
      { verbs: ["get"], nonResourceURLs: ["/b"] },
    ]);
  });

  const covers: [string, PolicyRule, PolicyRule, boolean][] = [
    ["a wildcard covers everything", newRule("*", "*", "*", ""), newRule("delete", "apps", "deployments", ""), true],
    ["*/subresource covers that subresource", newRule("get", "", "*/status", ""), newRule("get", "", "pods/status", ""), true],
    ["a resource does not cover its subresource", newRule("get", "", "pods", ""), newRule("get", "", "pods/status", ""), false],
    [
      "a named grant does not cover all names",
      { verbs: ["get"], apiGroups: [""], resources: ["pods"], resourceNames: ["a"] },
      newRule("get", "", "pods", ""),
      false,
    ],
    ["all names cover one name", newRule("get", "", "pods", ""), { verbs: ["get"], apiGroups: [""], resources: ["pods"], resourceNames: ["a"] }, true],
    ["a URL prefix covers paths below it", newRule("get", "", "", "/logs/*"), newRule("get", "", "", "/logs/kube"), true],
    ["another verb is not covered", newRule("get", "", "pods", ""), newRule("list", "", "pods", ""), false],
  ];
  for (const [name, owner, sub, expected] of covers) {
    it(`ruleCovers: ${name}`, () => assert.equal(ruleCovers(owner, sub), expected));
  }

  const objects = new InMemoryRbacObjects({
    clusterRoles: [
      newClusterRole("pod-reader", newRule("get,list", "", "pods", "")),
      newClusterRole("secret-reader", newRule("get", "", "secrets", "")),
      // Not "*": that would include the escalate and bind verbs.
      newClusterRole("role-manager", newRule("create,get,list,update,delete", "rbac.authorization.k8s.io", "roles,rolebindings", "")),
      newClusterRole("binder", { verbs: ["bind"], apiGroups: ["rbac.authorization.k8s.io"], resources: ["clusterroles"], resourceNames: ["secret-reader"] }),
    ],
    roleBindings: [
      newRoleBinding("team", "pod-reader", "ClusterRole", "User:lead"),
      newRoleBinding("team", "role-manager", "ClusterRole", "User:lead"),
      newRoleBinding("team", "binder", "ClusterRole", "User:lead"),
    ],
  });
  const authorizer = new RbacAuthorizer(objects);
  const lead = { name: "lead", groups: ["system:authenticated"] };

  it("lets a user create a Role with permissions they hold", () => {
    confirmNoRoleEscalation(authorizer, { user: lead, namespace: "team", kind: "Role", name: "r", rules: [newRule("get", "", "pods", "")] });
  });

  it("refuses a Role granting more than the user holds, listing what is missing", () => {
    assert.throws(
      () => confirmNoRoleEscalation(authorizer, { user: lead, namespace: "team", kind: "Role", name: "r", rules: [newRule("get,delete", "", "pods", "")] }),
      (error: unknown) =>
        isApiStatusError(error, "Forbidden") &&
        error.status.message ===
          'roles.rbac.authorization.k8s.io "r" is forbidden: user "lead" (groups=["system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:[""], Resources:["pods"], Verbs:["delete"]}',
    );
  });

  it("lets a user who may escalate roles grant what they do not hold", () => {
    const escalating = new InMemoryRbacObjects({
      clusterRoles: [newClusterRole("escalator", newRule("escalate", "rbac.authorization.k8s.io", "roles", ""))],
      roleBindings: [newRoleBinding("team", "escalator", "ClusterRole", "User:lead")],
    });
    const rbac = new RbacAuthorizer(escalating);
    confirmNoRoleEscalation(rbac, { user: lead, namespace: "team", kind: "Role", name: "r", rules: [newRule("*", "*", "*", "")] });
    assert.throws(() => confirmNoRoleEscalation(rbac, { user: lead, namespace: "other", kind: "Role", name: "r", rules: [newRule("get", "", "pods", "")] }));
  });

  it("lets system:masters grant anything", () => {
    confirmNoRoleEscalation(authorizer, {
      user: { name: "root", groups: ["system:masters"] },
      namespace: "",
      kind: "ClusterRole",
      name: "r",
      rules: [newRule("*", "*", "*", "")],
    });
  });

  it("lets a user bind a role they hold, or one they may bind, but not another", () => {
    const roleRef = (name: string) => ({ apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name });
    confirmNoBindingEscalation(authorizer, objects, { user: lead, namespace: "team", kind: "RoleBinding", name: "b", roleRef: roleRef("pod-reader") });
    confirmNoBindingEscalation(authorizer, objects, { user: lead, namespace: "team", kind: "RoleBinding", name: "b", roleRef: roleRef("secret-reader") });
    assert.throws(
      () =>
        confirmNoBindingEscalation(authorizer, objects, {
          user: lead,
          namespace: "team",
          kind: "RoleBinding",
          name: "b",
          roleRef: roleRef("role-manager-plus"),
        }),
      (error: unknown) => isApiStatusError(error, "Forbidden") && /clusterrole.rbac.authorization.k8s.io "role-manager-plus" not found/.test(error.message),
    );
    objects.putClusterRole(newClusterRole("node-admin", newRule("*", "", "nodes", "")));
    assert.throws(
      () => confirmNoBindingEscalation(authorizer, objects, { user: lead, namespace: "team", kind: "RoleBinding", name: "b", roleRef: roleRef("node-admin") }),
      (error: unknown) => isApiStatusError(error, "Forbidden") && /attempting to grant RBAC permissions not currently held/.test(error.message),
    );
  });
});
