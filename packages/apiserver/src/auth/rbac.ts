/**
 * Authorization by RBAC with Kubernetes' semantics (k8s.io/kubernetes/plugin/pkg/auth/authorizer/rbac
 * and pkg/apis/rbac/v1/evaluation_helpers.go):
 *
 * - A user's rules are those of the ClusterRoles bound to them by ClusterRoleBindings, and — for a
 *   namespaced request — those of the Roles or ClusterRoles bound by RoleBindings in the request's
 *   namespace. Subjects are Users (by name), Groups, and ServiceAccounts (namespace defaulting to
 *   the RoleBinding's).
 * - A rule allows a resource request when its verbs, apiGroups, resources (`resource/subresource`,
 *   `*`, `* /subresource`) and resourceNames all match; a non-resource request when its verbs and
 *   nonResourceURLs (exact, `*`, or a prefix ending in `*`) match. Any allowing rule allows;
 *   nothing ever denies.
 * - Members of `system:masters` are allowed everything before RBAC is asked, as Kubernetes'
 *   privileged-group authorizer does.
 * - A denied request gets 403 with Kubernetes' message: `pods is forbidden: User "alice" cannot
 *   list resource "pods" in API group "" in the namespace "default"`, followed by `: RBAC: ...`
 *   naming roles that bindings refer to but that do not exist.
 */
import {
  ApiStatusError,
  statusForbidden,
  type ClusterRole,
  type ClusterRoleBinding,
  type PolicyRule,
  type Role,
  type RoleBinding,
  type Status,
  type Subject,
} from "@coxswain/api";
import { parseServiceAccountUsername, systemMastersGroupName } from "./user.js";

export const rbacApiGroup = "rbac.authorization.k8s.io";
/** The wildcard for verbs, apiGroups, resources and nonResourceURLs. */
export const wildcard = "*";

/** The user as the authorizer sees it: a name and groups (UserInfo fits). */
export interface AuthorizationUser {
  name: string;
  groups: readonly string[];
}

export interface ResourceAttributes {
  resourceRequest: true;
  user: AuthorizationUser;
  /** get, list, watch, create, update, patch, delete, deletecollection, or a special verb (bind, escalate, impersonate, use, ...). */
  verb: string;
  /** "" for the core group. */
  apiGroup: string;
  apiVersion?: string;
  resource: string;
  subresource?: string;
  /** "" or absent for cluster-scoped resources and requests across all namespaces. */
  namespace?: string;
  name?: string;
}

export interface NonResourceAttributes {
  resourceRequest: false;
  user: AuthorizationUser;
  /** The lowercase HTTP method: get, post, put, patch, delete, head. */
  verb: string;
  path: string;
}

export type AuthorizationAttributes = ResourceAttributes | NonResourceAttributes;

export interface AuthorizationDecision {
  allowed: boolean;
  /** For an allow: which binding allowed it. For a deny: "" or `RBAC: <errors>`, as Kubernetes appends to the 403. */
  reason: string;
}

/** The current RBAC objects; the apiserver feeds it from its watch cache. Getters are synchronous so a check never waits. */
export interface RbacObjectSource {
  getRole(namespace: string, name: string): Role | undefined;
  getClusterRole(name: string): ClusterRole | undefined;
  listRoleBindings(namespace: string): readonly RoleBinding[];
  listClusterRoleBindings(): readonly ClusterRoleBinding[];
}

/** An RbacObjectSource over plain maps: for tests, bootstrap, and a watch cache that keeps maps. */
export class InMemoryRbacObjects implements RbacObjectSource {
  private readonly roles = new Map<string, Role>();
  private readonly clusterRoles = new Map<string, ClusterRole>();
  private readonly roleBindings = new Map<string, RoleBinding>();
  private readonly clusterRoleBindings = new Map<string, ClusterRoleBinding>();

  constructor(objects: { roles?: Role[]; clusterRoles?: ClusterRole[]; roleBindings?: RoleBinding[]; clusterRoleBindings?: ClusterRoleBinding[] } = {}) {
    for (const o of objects.roles ?? []) this.putRole(o);
    for (const o of objects.clusterRoles ?? []) this.putClusterRole(o);
    for (const o of objects.roleBindings ?? []) this.putRoleBinding(o);
    for (const o of objects.clusterRoleBindings ?? []) this.putClusterRoleBinding(o);
  }

  putRole(role: Role): void {
    this.roles.set(namespacedKey(role.metadata.namespace, role.metadata.name), role);
  }
  deleteRole(namespace: string, name: string): void {
    this.roles.delete(namespacedKey(namespace, name));
  }
  putClusterRole(role: ClusterRole): void {
    this.clusterRoles.set(role.metadata.name ?? "", role);
  }
  deleteClusterRole(name: string): void {
    this.clusterRoles.delete(name);
  }
  putRoleBinding(binding: RoleBinding): void {
    this.roleBindings.set(namespacedKey(binding.metadata.namespace, binding.metadata.name), binding);
  }
  deleteRoleBinding(namespace: string, name: string): void {
    this.roleBindings.delete(namespacedKey(namespace, name));
  }
  putClusterRoleBinding(binding: ClusterRoleBinding): void {
    this.clusterRoleBindings.set(binding.metadata.name ?? "", binding);
  }
  deleteClusterRoleBinding(name: string): void {
    this.clusterRoleBindings.delete(name);
  }

  getRole(namespace: string, name: string): Role | undefined {
    return this.roles.get(namespacedKey(namespace, name));
  }
  getClusterRole(name: string): ClusterRole | undefined {
    return this.clusterRoles.get(name);
  }
  listRoleBindings(namespace: string): readonly RoleBinding[] {
    return [...this.roleBindings.values()].filter((b) => b.metadata.namespace === namespace);
  }
  listClusterRoleBindings(): readonly ClusterRoleBinding[] {
    return [...this.clusterRoleBindings.values()];
  }
}

function namespacedKey(namespace: string | undefined, name: string | undefined): string {
  return `${namespace ?? ""}/${name ?? ""}`;
}

// ---------------------------------------------------------------------------------------------
// Rule matching (rbacv1helpers), one function per Kubernetes helper.

export function verbMatches(rule: PolicyRule, requestedVerb: string): boolean {
  return rule.verbs.some((v) => v === wildcard || v === requestedVerb);
}

export function apiGroupMatches(rule: PolicyRule, requestedGroup: string): boolean {
  return (rule.apiGroups ?? []).some((g) => g === wildcard || g === requestedGroup);
}

/** `combinedResource` is `resource` or `resource/subresource`; a rule's `* /sub` matches any resource's `sub`. */
export function resourceMatches(rule: PolicyRule, combinedResource: string, requestedSubresource: string): boolean {
  for (const ruleResource of rule.resources ?? []) {
    if (ruleResource === wildcard || ruleResource === combinedResource) return true;
    if (requestedSubresource === "") continue;
    if (ruleResource.length === requestedSubresource.length + 2 && ruleResource.startsWith("*/") && ruleResource.endsWith(requestedSubresource)) return true;
  }
  return false;
}

/** No resourceNames means any name; otherwise the request must name one of them (a list, with no name, never matches). */
export function resourceNameMatches(rule: PolicyRule, requestedName: string): boolean {
  const names = rule.resourceNames ?? [];
  if (names.length === 0) return true;
  return names.includes(requestedName);
}

export function nonResourceUrlMatches(rule: PolicyRule, requestedUrl: string): boolean {
  for (const ruleUrl of rule.nonResourceURLs ?? []) {
    if (ruleUrl === wildcard || ruleUrl === requestedUrl) return true;
    if (ruleUrl.endsWith("*") && requestedUrl.startsWith(ruleUrl.replace(/\*+$/, ""))) return true;
  }
  return false;
}

export function ruleAllows(attributes: AuthorizationAttributes, rule: PolicyRule): boolean {
  if (attributes.resourceRequest) {
    const subresource = attributes.subresource ?? "";
    const combined = subresource === "" ? attributes.resource : `${attributes.resource}/${subresource}`;
    return (
      verbMatches(rule, attributes.verb) &&
      apiGroupMatches(rule, attributes.apiGroup) &&
      resourceMatches(rule, combined, subresource) &&
      resourceNameMatches(rule, attributes.name ?? "")
    );
  }
  return verbMatches(rule, attributes.verb) && nonResourceUrlMatches(rule, attributes.path);
}

/** Whether a binding's subject is this user. `bindingNamespace` is "" for ClusterRoleBindings. */
export function subjectMatches(subject: Subject, user: AuthorizationUser, bindingNamespace: string): boolean {
  switch (subject.kind) {
    case "User":
      return subject.name === user.name;
    case "Group":
      return user.groups.includes(subject.name);
    case "ServiceAccount": {
      // A RoleBinding may leave the namespace out: it means the binding's own namespace.
      const namespace = subject.namespace !== undefined && subject.namespace !== "" ? subject.namespace : bindingNamespace;
      if (namespace === "") return false;
      const sa = parseServiceAccountUsername(user.name);
      return sa !== undefined && sa.namespace === namespace && sa.name === subject.name;
    }
    default:
      return false;
  }
}

// ---------------------------------------------------------------------------------------------
// The authorizer.

/** One binding that applies to the user, with the rules of the role it refers to. */
interface BoundRules {
  /** `ClusterRoleBinding "x" of ClusterRole "y"` or `RoleBinding "x/ns" of Role "y"`, as Kubernetes describes the source. */
  source: string;
  subject: Subject;
  rules: readonly PolicyRule[];
}

/** The rules a user holds in a namespace ("" for cluster scope), and errors for roles that bindings name but that are missing. */
export interface ResolvedRules {
  rules: PolicyRule[];
  errors: string[];
}

export class RbacAuthorizer {
  private readonly objects: RbacObjectSource;

  constructor(objects: RbacObjectSource) {
    this.objects = objects;
  }

  authorize(attributes: AuthorizationAttributes): AuthorizationDecision {
    // Kubernetes puts the privileged-group authorizer before RBAC: system:masters may do anything.
    if (attributes.user.groups.includes(systemMastersGroupName)) return { allowed: true, reason: `allowed by group "${systemMastersGroupName}"` };
    const namespace = attributes.resourceRequest ? (attributes.namespace ?? "") : "";
    const errors: string[] = [];
    for (const bound of this.visitBindings(attributes.user, namespace, errors)) {
      if (bound.rules.some((rule) => ruleAllows(attributes, rule))) {
        return { allowed: true, reason: `RBAC: allowed by ${bound.source} to ${bound.subject.kind} "${bound.subject.name}"` };
      }
    }
    return { allowed: false, reason: errors.length === 0 ? "" : `RBAC: ${aggregateMessage(errors)}` };
  }

  /** Authorize, or throw ApiStatusError with the 403 Kubernetes sends. */
  authorizeOrThrow(attributes: AuthorizationAttributes): void {
    const decision = this.authorize(attributes);
    if (!decision.allowed) throw new ApiStatusError(forbiddenStatus(attributes, decision.reason));
  }

  /** Every rule the user holds in `namespace` (cluster-wide ones included): SelfSubjectRulesReview, `kubectl auth can-i --list`. */
  rulesFor(user: AuthorizationUser, namespace: string): ResolvedRules {
    const errors: string[] = [];
    const rules: PolicyRule[] = [];
    if (user.groups.includes(systemMastersGroupName)) {
      rules.push({ verbs: [wildcard], apiGroups: [wildcard], resources: [wildcard] }, { verbs: [wildcard], nonResourceURLs: [wildcard] });
    }
    for (const bound of this.visitBindings(user, namespace, errors)) rules.push(...bound.rules);
    return { rules, errors };
  }

  /** Bindings that apply to the user, cluster-wide first, then those in `namespace`; lazily, so a match stops the walk. */
  private *visitBindings(user: AuthorizationUser, namespace: string, errors: string[]): Generator<BoundRules> {
    for (const binding of this.objects.listClusterRoleBindings()) {
      const subject = (binding.subjects ?? []).find((s) => subjectMatches(s, user, ""));
      if (subject === undefined) continue;
      const rules = this.roleReferenceRules(binding.roleRef, "", errors);
      if (rules === undefined) continue;
      yield {
        source: `ClusterRoleBinding ${JSON.stringify(binding.metadata.name ?? "")} of ClusterRole ${JSON.stringify(binding.roleRef.name)}`,
        subject,
        rules,
      };
    }
    if (namespace === "") return;
    for (const binding of this.objects.listRoleBindings(namespace)) {
      const subject = (binding.subjects ?? []).find((s) => subjectMatches(s, user, namespace));
      if (subject === undefined) continue;
      const rules = this.roleReferenceRules(binding.roleRef, namespace, errors);
      if (rules === undefined) continue;
      yield {
        source: `RoleBinding ${JSON.stringify(`${binding.metadata.name ?? ""}/${namespace}`)} of ${binding.roleRef.kind} ${JSON.stringify(binding.roleRef.name)}`,
        subject,
        rules,
      };
    }
  }

  private roleReferenceRules(roleRef: RoleBinding["roleRef"], bindingNamespace: string, errors: string[]): readonly PolicyRule[] | undefined {
    if (roleRef.kind === "ClusterRole") {
      const role = this.objects.getClusterRole(roleRef.name);
      if (role === undefined) {
        errors.push(`clusterrole.${rbacApiGroup} ${JSON.stringify(roleRef.name)} not found`);
        return undefined;
      }
      return role.rules ?? [];
    }
    if (roleRef.kind === "Role") {
      const role = bindingNamespace === "" ? undefined : this.objects.getRole(bindingNamespace, roleRef.name);
      if (role === undefined) {
        errors.push(`role.${rbacApiGroup} ${JSON.stringify(roleRef.name)} not found`);
        return undefined;
      }
      return role.rules ?? [];
    }
    errors.push(`unsupported role reference kind: ${JSON.stringify(roleRef.kind)}`);
    return undefined;
  }
}

/** utilerrors.NewAggregate's message: one error as is, several as `[a, b]`. */
function aggregateMessage(errors: readonly string[]): string {
  const distinct = [...new Set(errors)];
  return distinct.length === 1 ? (distinct[0] ?? "") : `[${distinct.join(", ")}]`;
}

/**
 * `User "alice" cannot list resource "pods" in API group "" in the namespace "default"` — the
 * apiserver's forbiddenMessage, before a reason is appended.
 */
export function forbiddenMessage(attributes: AuthorizationAttributes): string {
  const user = attributes.user.name;
  if (!attributes.resourceRequest) return `User ${JSON.stringify(user)} cannot ${attributes.verb} path ${JSON.stringify(attributes.path)}`;
  const subresource = attributes.subresource ?? "";
  const resource = subresource === "" ? attributes.resource : `${attributes.resource}/${subresource}`;
  const namespace = attributes.namespace ?? "";
  const scope = namespace === "" ? "at the cluster scope" : `in the namespace ${JSON.stringify(namespace)}`;
  return `User ${JSON.stringify(user)} cannot ${attributes.verb} resource ${JSON.stringify(resource)} in API group ${JSON.stringify(attributes.apiGroup)} ${scope}`;
}

/**
 * The 403 Status for a denied request (responsewriters.ForbiddenStatusError): `<resource>[ "<name>"] is
 * forbidden: <forbiddenMessage>[: <reason>]`, or `forbidden: User "x" cannot get path "/foo"`.
 */
export function forbiddenStatus(attributes: AuthorizationAttributes, reason = ""): Status {
  const message = reason === "" ? forbiddenMessage(attributes) : `${forbiddenMessage(attributes)}: ${reason}`;
  if (!attributes.resourceRequest) {
    const status = statusForbidden({ group: "", resource: "" }, "", message);
    // NewForbidden with an empty GroupResource says just "forbidden: ..." and details name nothing.
    return { ...status, message: `forbidden: ${message}`, details: {} };
  }
  return statusForbidden({ group: attributes.apiGroup, resource: attributes.resource }, attributes.name ?? "", message);
}

// ---------------------------------------------------------------------------------------------
// Escalation prevention (pkg/registry/rbac/validation): a user may create or change a role, or
// bind one, only if they already hold every permission it grants — unless they may `escalate`
// roles or `bind` that role.

/** Split a rule into rules of one verb, one group, one resource (and one name), or one URL: BreakdownRule. */
export function breakdownRule(rule: PolicyRule): PolicyRule[] {
  const out: PolicyRule[] = [];
  for (const group of rule.apiGroups ?? []) {
    for (const resource of rule.resources ?? []) {
      for (const verb of rule.verbs) {
        if ((rule.resourceNames ?? []).length > 0) {
          for (const name of rule.resourceNames ?? []) out.push({ verbs: [verb], apiGroups: [group], resources: [resource], resourceNames: [name] });
        } else {
          out.push({ verbs: [verb], apiGroups: [group], resources: [resource] });
        }
      }
    }
  }
  for (const url of rule.nonResourceURLs ?? []) for (const verb of rule.verbs) out.push({ verbs: [verb], nonResourceURLs: [url] });
  return out;
}

function hasAll(set: readonly string[], contains: readonly string[]): boolean {
  return contains.every((c) => set.includes(c));
}

function resourceCoversAll(setResources: readonly string[], coversResources: readonly string[]): boolean {
  if (setResources.includes(wildcard) || hasAll(setResources, coversResources)) return true;
  for (const resource of coversResources) {
    if (setResources.includes(resource)) continue;
    const slash = resource.indexOf("/");
    if (slash < 0) return false;
    if (!setResources.includes(`*/${resource.slice(slash + 1)}`)) return false;
  }
  return true;
}

function nonResourceUrlCovers(ownerPath: string, subPath: string): boolean {
  if (ownerPath === subPath) return true;
  return ownerPath.endsWith("*") && subPath.startsWith(ownerPath.replace(/\*+$/, ""));
}

/** Whether `owner` grants everything `sub` (a broken-down rule) grants: ruleCovers. */
export function ruleCovers(owner: PolicyRule, sub: PolicyRule): boolean {
  const verbs = owner.verbs.includes(wildcard) || hasAll(owner.verbs, sub.verbs);
  const groups = (owner.apiGroups ?? []).includes(wildcard) || hasAll(owner.apiGroups ?? [], sub.apiGroups ?? []);
  const resources = resourceCoversAll(owner.resources ?? [], sub.resources ?? []);
  const urls = (sub.nonResourceURLs ?? []).every((path) => (owner.nonResourceURLs ?? []).some((o) => nonResourceUrlCovers(o, path)));
  const ownerNames = owner.resourceNames ?? [];
  const subNames = sub.resourceNames ?? [];
  const names = subNames.length === 0 ? ownerNames.length === 0 : ownerNames.length === 0 || hasAll(ownerNames, subNames);
  return verbs && groups && resources && names && urls;
}

/** The parts of `requested` that `owned` does not cover (empty when nothing escalates). */
export function uncoveredRules(owned: readonly PolicyRule[], requested: readonly PolicyRule[]): PolicyRule[] {
  const missing: PolicyRule[] = [];
  for (const rule of requested) for (const simple of breakdownRule(rule)) if (!owned.some((o) => ruleCovers(o, simple))) missing.push(simple);
  return missing;
}

/** A rule as Kubernetes prints it in escalation errors: `{APIGroups:[""], Resources:["pods"], Verbs:["get"]}`. */
export function compactRuleString(rule: PolicyRule): string {
  const list = (values: readonly string[]) => `[${values.map((v) => JSON.stringify(v)).join(" ")}]`;
  const parts: string[] = [];
  if ((rule.apiGroups ?? []).length > 0) parts.push(`APIGroups:${list(rule.apiGroups ?? [])}`);
  if ((rule.resources ?? []).length > 0) parts.push(`Resources:${list(rule.resources ?? [])}`);
  if ((rule.resourceNames ?? []).length > 0) parts.push(`ResourceNames:${list(rule.resourceNames ?? [])}`);
  if ((rule.nonResourceURLs ?? []).length > 0) parts.push(`NonResourceURLs:${list(rule.nonResourceURLs ?? [])}`);
  parts.push(`Verbs:${list(rule.verbs)}`);
  return `{${parts.join(", ")}}`;
}

/**
 * Throw 403 unless `user` may grant `rules` in `namespace` ("" for a ClusterRole): because they
 * hold them all, are in system:masters, or may `escalate` the role kind. Call before storing a
 * Role or ClusterRole (create and update).
 */
export function confirmNoRoleEscalation(
  authorizer: RbacAuthorizer,
  request: { user: AuthorizationUser; namespace: string; kind: "Role" | "ClusterRole"; name: string; rules: readonly PolicyRule[] },
): void {
  if (request.user.groups.includes(systemMastersGroupName)) return;
  const resource = request.kind === "Role" ? "roles" : "clusterroles";
  const escalate = authorizer.authorize({
    resourceRequest: true,
    user: request.user,
    verb: "escalate",
    apiGroup: rbacApiGroup,
    resource,
    namespace: request.namespace,
    name: request.name,
  });
  if (escalate.allowed) return;
  const owned = authorizer.rulesFor(request.user, request.namespace);
  const missing = uncoveredRules(owned.rules, request.rules);
  if (missing.length === 0) return;
  throw new ApiStatusError(escalationStatus({ group: rbacApiGroup, resource }, request.name, request.user, missing, owned.errors));
}

/**
 * Throw 403 unless `user` may bind `roleRef` in `namespace` ("" for a ClusterRoleBinding): because
 * they hold every rule of the role, are in system:masters, or may `bind` it. Call before storing
 * a RoleBinding or ClusterRoleBinding. A missing role makes the check fail as Kubernetes does.
 */
export function confirmNoBindingEscalation(
  authorizer: RbacAuthorizer,
  objects: RbacObjectSource,
  request: { user: AuthorizationUser; namespace: string; kind: "RoleBinding" | "ClusterRoleBinding"; name: string; roleRef: RoleBinding["roleRef"] },
): void {
  if (request.user.groups.includes(systemMastersGroupName)) return;
  const refResource = request.roleRef.kind === "ClusterRole" ? "clusterroles" : "roles";
  // BindingAuthorized: `bind` on the referenced role, asked in the binding's namespace (a
  // ClusterRoleBinding granting it applies there too).
  const bind = authorizer.authorize({
    resourceRequest: true,
    user: request.user,
    verb: "bind",
    apiGroup: rbacApiGroup,
    resource: refResource,
    namespace: request.namespace,
    name: request.roleRef.name,
  });
  if (bind.allowed) return;
  const bindingResource = { group: rbacApiGroup, resource: request.kind === "RoleBinding" ? "rolebindings" : "clusterrolebindings" };
  const role =
    request.roleRef.kind === "ClusterRole"
      ? objects.getClusterRole(request.roleRef.name)
      : request.namespace === ""
        ? undefined
        : objects.getRole(request.namespace, request.roleRef.name);
  if (role === undefined) {
    const what = request.roleRef.kind === "ClusterRole" ? "clusterrole" : "role";
    throw new ApiStatusError(statusForbidden(bindingResource, request.name, `${what}.${rbacApiGroup} ${JSON.stringify(request.roleRef.name)} not found`));
  }
  const owned = authorizer.rulesFor(request.user, request.namespace);
  const missing = uncoveredRules(owned.rules, role.rules ?? []);
  if (missing.length === 0) return;
  throw new ApiStatusError(escalationStatus(bindingResource, request.name, request.user, missing, owned.errors));
}

function escalationStatus(
  resource: { group: string; resource: string },
  name: string,
  user: AuthorizationUser,
  missing: readonly PolicyRule[],
  ruleErrors: readonly string[],
): Status {
  const groups = `[${user.groups.map((g) => JSON.stringify(g)).join(" ")}]`;
  let message = `user ${JSON.stringify(user.name)} (groups=${groups}) is attempting to grant RBAC permissions not currently held:\n${missing.map(compactRuleString).join("\n")}`;
  if (ruleErrors.length > 0) message += `; resolution errors: ${aggregateMessage(ruleErrors)}`;
  return statusForbidden(resource, name, message);
}
