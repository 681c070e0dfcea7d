/**
 * What a request is about, from its method, path and query, as Kubernetes' RequestInfoFactory
 * derives it: resource requests under /api/v1 and /apis/{group}/{version}, everything else a
 * non-resource request. Authorization and routing both read this.
 *
 *   /api/v1/namespaces/{ns}/pods/{name}/log  → verb get, resource pods, subresource log
 *   /apis/apps/v1/deployments?watch=true      → verb watch, all namespaces
 */
export type Verb = "get" | "list" | "watch" | "create" | "update" | "patch" | "delete" | "deletecollection";

export interface ResourceRequestInfo {
  isResourceRequest: true;
  verb: Verb;
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

/** Thrown for a path that looks like a resource path but is malformed. */
export class MalformedPathError extends Error {
  override readonly name = "MalformedPathError";
}

export function requestInfo(method: string, path: string, query: URLSearchParams): RequestInfo {
  const parts = path.split("/").filter((p) => p.length > 0).map(decodeURIComponent);
  const m = method.toUpperCase();
  let rest: string[];
  let apiGroup: string;
  let apiVersion: string;
  if (parts[0] === "api" && parts.length >= 3) {
    apiGroup = "";
    apiVersion = parts[1]!;
    rest = parts.slice(2);
  } else if (parts[0] === "apis" && parts.length >= 4) {
    apiGroup = parts[1]!;
    apiVersion = parts[2]!;
    rest = parts.slice(3);
  } else {
    return { isResourceRequest: false, verb: m.toLowerCase(), path };
  }
  let namespace = "";
  // /namespaces/{ns}/{resource}... is namespaced; /namespaces/{name} is the Namespace itself.
  if (rest[0] === "namespaces" && rest.length >= 3) {
    namespace = rest[1]!;
    rest = rest.slice(2);
  }
  const [resource = "", name = "", subresource = "", ...extra] = rest;
  if (extra.length > 0) throw new MalformedPathError(`unexpected path segments after ${subresource}: ${extra.join("/")}`);
  if (resource === "namespaces" && namespace === "" && name !== "") {
    // /api/v1/namespaces/{name}[/status|finalize]: the namespace is its own namespace for authorization.
    namespace = name;
  }
  const isWatch = query.get("watch") === "true" || query.get("watch") === "1";
  let verb: Verb;
  switch (m) {
    case "GET":
    case "HEAD":
      verb = isWatch ? "watch" : name === "" ? "list" : "get";
      break;
    case "POST":
      verb = "create";
      break;
    case "PUT":
      verb = "update";
      break;
    case "PATCH":
      verb = "patch";
      break;
    case "DELETE":
      verb = name === "" ? "deletecollection" : "delete";
      break;
    default:
      return { isResourceRequest: false, verb: m.toLowerCase(), path };
  }
  return { isResourceRequest: true, verb, apiGroup, apiVersion, namespace, resource, subresource, name };
}
