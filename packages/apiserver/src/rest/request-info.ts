/**
 * What a request is about, from its method, path and query, derived exactly as Kubernetes'
 * RequestInfoFactory does (k8s.io/apiserver/pkg/endpoints/request/requestinfo.go), so that routing
 * and RBAC rules written for Kubernetes mean the same here. The one parser of the API server:
 * routing uses it, and authorization turns it into attributes (auth/request-info.ts).
 *
 *   GET    /api/v1/namespaces/default/pods          → list pods in "default"
 *   GET    /api/v1/pods?watch=true                  → watch pods (all namespaces)
 *   GET    /api/v1/watch/namespaces/default/pods    → watch (legacy form)
 *   DELETE /apis/apps/v1/namespaces/x/deployments   → deletecollection
 *   POST   /api/v1/namespaces/x/pods/p/binding      → create pods/binding, name p
 *   GET    /api/v1/namespaces/foo                   → get namespaces "foo", namespace "foo"
 *   PUT    /api/v1/namespaces/foo/finalize          → update namespaces/finalize "foo"
 *   GET    /healthz                                 → non-resource: get path "/healthz"
 */
import { isValidPathSegmentName, parseFieldSelector } from "@coxswain/api";

export interface ResourceRequestInfo {
  isResourceRequest: true;
  /** get, list, watch, create, update, patch, delete, deletecollection, or proxy. */
  verb: string;
  /** "" for the core group. */
  apiGroup: string;
  apiVersion: string;
  namespace: string;
  resource: string;
  subresource: string;
  name: string;
}

export interface NonResourceRequestInfo {
  isResourceRequest: false;
  /** Lower-cased HTTP method: get, post, ... */
  verb: string;
  path: string;
}

export type RequestInfo = ResourceRequestInfo | NonResourceRequestInfo;

/** The path could not be understood (Kubernetes answers 500 "unable to determine ..."; we 404). */
export class MalformedPathError extends Error {
  override readonly name = "MalformedPathError";
}

const apiPrefixes = new Set(["api", "apis"]);
const grouplessApiPrefixes = new Set(["api"]);
/** Verbs that appear as a path segment before the resource. */
const specialVerbs = new Set(["proxy", "watch"]);
/** After `/namespaces/<name>/` these are subresources of the namespace, not resources inside it. */
const namespaceSubresources = new Set(["status", "finalize"]);
const verbByMethod: Readonly<Record<string, string>> = { POST: "create", GET: "get", HEAD: "get", PUT: "update", PATCH: "patch", DELETE: "delete" };

/**
 * `?watch=` as apimachinery decodes query booleans: present and not "0" or "false" (any case)
 * means true — even `watch=`.
 */
function isWatch(values: readonly string[]): boolean {
  const [first] = values;
  if (first === undefined) return false;
  return first !== "0" && first.toLowerCase() !== "false";
}

export function requestInfo(method: string, path: string, query: URLSearchParams): RequestInfo {
  const nonResource: NonResourceRequestInfo = { isResourceRequest: false, verb: method.toLowerCase(), path };
  let parts = path
    .replace(/^\/+|\/+$/g, "")
    .split("/")
    .map((p) => decodeURIComponent(p));
  if (parts.length < 3 || !apiPrefixes.has(parts[0] ?? "")) return nonResource;
  const prefix = parts[0] ?? "";
  parts = parts.slice(1);
  let apiGroup = "";
  if (!grouplessApiPrefixes.has(prefix)) {
    // /apis/{group}/{version}/{resource}: fewer parts is discovery, a non-resource request.
    if (parts.length < 3) return nonResource;
    apiGroup = parts[0] ?? "";
    parts = parts.slice(1);
  }
  const apiVersion = parts[0] ?? "";
  parts = parts.slice(1);

  let verb: string;
  if (specialVerbs.has(parts[0] ?? "")) {
    if (parts.length < 2) throw new MalformedPathError(`unable to determine kind and namespace from url, ${path}`);
    verb = parts[0] ?? "";
    parts = parts.slice(1);
  } else {
    verb = verbByMethod[method.toUpperCase()] ?? "";
    if (verb === "") return nonResource;
  }

  let namespace = "";
  if (parts[0] === "namespaces" && parts.length > 1) {
    namespace = parts[1] ?? "";
    // /namespaces/{ns}/{resource}/...: the resource is inside the namespace; /namespaces/{ns}/status is the namespace's own.
    if (parts.length > 2 && !namespaceSubresources.has(parts[2] ?? "")) parts = parts.slice(2);
  }

  const resource = parts[0] ?? "";
  let name = parts[1] ?? "";
  const subresource = parts.length >= 3 && verb !== "proxy" ? (parts[2] ?? "") : "";
  // Only proxy subresources carry a path of their own after the subresource.
  if (parts.length > 3 && verb !== "proxy" && subresource !== "proxy")
    throw new MalformedPathError(`unexpected path segments after ${subresource}: ${parts.slice(3).join("/")}`);

  if (name === "" && verb === "get") {
    verb = isWatch(query.getAll("watch")) ? "watch" : "list";
    // A list or watch pinned to one name by `fieldSelector=metadata.name=x` is authorized as that name.
    const fieldSelector = query.get("fieldSelector");
    if (fieldSelector !== null && fieldSelector !== "") {
      try {
        const pinned = parseFieldSelector(fieldSelector).requiresExactMatch("metadata.name");
        if (pinned !== undefined && isValidPathSegmentName(pinned).length === 0) name = pinned;
      } catch {
        // A bad selector is the handler's 400 to give; the request goes on without a name.
      }
    }
  }
  if (name === "" && verb === "delete") verb = "deletecollection";
  return { isResourceRequest: true, verb, apiGroup, apiVersion, namespace, resource, subresource, name };
}
