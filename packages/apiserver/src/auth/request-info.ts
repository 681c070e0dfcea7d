/**
 * The authorization attributes of an HTTP request, derived from its method and URL as Kubernetes'
 * RequestInfoFactory derives them (k8s.io/apiserver/pkg/endpoints/request/requestinfo.go), so
 * that RBAC rules written for Kubernetes mean the same here:
 *
 *   GET    /api/v1/namespaces/default/pods          → list pods in "default"
 *   GET    /api/v1/pods?watch=true                  → watch pods (all namespaces)
 *   GET    /api/v1/watch/namespaces/default/pods    → watch (legacy form)
 *   DELETE /apis/apps/v1/namespaces/x/deployments   → deletecollection
 *   POST   /api/v1/namespaces/x/pods/p/binding      → create pods/binding, name p
 *   GET    /api/v1/namespaces/foo                   → get namespaces "foo", namespace "foo"
 *   GET    /healthz                                 → non-resource: get path "/healthz"
 */
import { MalformedPathError, requestInfo } from "../rest/request-info.js";
import type { AuthorizationAttributes, AuthorizationUser } from "./rbac.js";

/** The attributes could not be derived (Kubernetes answers such requests with 500 "unable to determine ..."). */
export class RequestInfoError extends Error {
  override readonly name = "RequestInfoError";
}

/** Authorization attributes of an HTTP request, from the API server's one request parser. */
export function authorizationAttributesFor(request: { user: AuthorizationUser; method: string; url: string }): AuthorizationAttributes {
  const url = new URL(request.url, "https://apiserver.invalid");
  try {
    return authorizationAttributesOf(request.user, requestInfo(request.method, url.pathname, url.searchParams));
  } catch (err) {
    if (err instanceof MalformedPathError) throw new RequestInfoError(err.message);
    throw err;
  }
}

/** The request description the REST front end derives (rest/request-info.ts), structurally. */
export type FrontEndRequestInfo =
  | { isResourceRequest: true; verb: string; apiGroup: string; apiVersion: string; namespace: string; resource: string; subresource: string; name: string }
  | { isResourceRequest: false; verb: string; path: string };

/** Authorization attributes from a request the front end has already parsed, so the URL is parsed once. */
export function authorizationAttributesOf(user: AuthorizationUser, info: FrontEndRequestInfo): AuthorizationAttributes {
  if (!info.isResourceRequest) return { resourceRequest: false, user, verb: info.verb, path: info.path };
  const attributes: AuthorizationAttributes = {
    resourceRequest: true,
    user,
    verb: info.verb,
    apiGroup: info.apiGroup,
    apiVersion: info.apiVersion,
    resource: info.resource,
  };
  if (info.subresource !== "") attributes.subresource = info.subresource;
  if (info.namespace !== "") attributes.namespace = info.namespace;
  if (info.name !== "") attributes.name = info.name;
  return attributes;
}
