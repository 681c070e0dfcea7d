/**
 * Who made a request, as k8s.io/apiserver/pkg/authentication/user.Info describes it, and the
 * well-known user and group names Kubernetes gives meaning to.
 */

export interface UserInfo {
  /** The user name: `admin`, `system:node:worker-1`, `system:serviceaccount:default:builder`. */
  name: string;
  /** A unique id (a ServiceAccount's uid, the token file's uid column); may be empty. */
  uid: string;
  groups: string[];
  /** Authenticator-specific facts, e.g. `authentication.kubernetes.io/pod-name` for a pod's token. */
  extra: Record<string, string[]>;
}

/** Every authenticated user is in this group (Kubernetes' AuthenticatedGroupAdder). */
export const systemAuthenticatedGroup = "system:authenticated";
/** Members may do anything: the authorizer allows them before RBAC is consulted. */
export const systemMastersGroupName = "system:masters";
export const systemServiceAccountsGroup = "system:serviceaccounts";
export const serviceAccountUsernamePrefix = "system:serviceaccount:";

/** `system:serviceaccount:<namespace>:<name>` (k8s.io/apiserver/pkg/authentication/serviceaccount.MakeUsername). */
export function serviceAccountUsername(namespace: string, name: string): string {
  return `${serviceAccountUsernamePrefix}${namespace}:${name}`;
}

/** The namespace and name of a ServiceAccount user name, or undefined for any other user. */
export function parseServiceAccountUsername(username: string): { namespace: string; name: string } | undefined {
  if (!username.startsWith(serviceAccountUsernamePrefix)) return undefined;
  const parts = username.slice(serviceAccountUsernamePrefix.length).split(":");
  if (parts.length !== 2) return undefined;
  const [namespace = "", name = ""] = parts;
  if (namespace === "" || name === "") return undefined;
  return { namespace, name };
}

/** The groups a ServiceAccount user is in: `system:serviceaccounts` and `system:serviceaccounts:<namespace>`. */
export function serviceAccountGroups(namespace: string): string[] {
  return [systemServiceAccountsGroup, `${systemServiceAccountsGroup}:${namespace}`];
}

/** Add `system:authenticated` unless present, as Kubernetes does for every authenticated request. */
export function withAuthenticatedGroup(user: UserInfo): UserInfo {
  if (user.groups.includes(systemAuthenticatedGroup)) return user;
  return { ...user, groups: [...user.groups, systemAuthenticatedGroup] };
}
