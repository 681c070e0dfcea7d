/**
 * Where objects live in the store: `/registry/<group-or-core>/<resource>/<namespace>/<name>`, and
 * `/registry/<group-or-core>/<resource>/<name>` for cluster-scoped resources. The core group's
 * segment is `core` (an empty segment would make `//` keys). Keys sort by namespace, then name,
 * which is the order lists and continue tokens follow.
 */
import { ApiStatusError, statusBadRequest, type FieldSet, type KubeObject } from "@coxswain/api";

/**
 * What the storage layer needs to know about a resource. `ResourceDescriptor` from @coxswain/api
 * has all of it; both served versions of a resource (HPA v1 and v2) share one key space, since
 * the key names the group and resource, not the version.
 */
export interface StorageResource {
  group: string;
  plural: string;
  namespaced: boolean;
  /** For bookmark objects of watches (kind and apiVersion of the served version). */
  kind: string;
  apiVersion: string;
  /** Fields `?fieldSelector=` may name, with how to read each. */
  fieldSelectors: FieldSet<KubeObject>;
}

export const registryPrefixDefault = "/registry/";

/** `core/pods`, `apps/deployments`: identifies a resource's key space (and its watch cache). */
export function resourceId(resource: Pick<StorageResource, "group" | "plural">): string {
  return `${resource.group === "" ? "core" : resource.group}/${resource.plural}`;
}

export interface ParsedKey {
  /** As resourceId(). */
  resourceId: string;
  /** "" for cluster-scoped objects. */
  namespace: string;
  name: string;
}

/** Refuses names that would break the key layout: 400, worded as Kubernetes' path segment check. */
function checkSegment(what: string, value: string): void {
  let problem: string | null = null;
  if (value === ".") problem = "may not be '.'";
  else if (value === "..") problem = "may not be '..'";
  else if (value.includes("/")) problem = "may not contain '/'";
  else if (value.includes("%")) problem = "may not contain '%'";
  if (problem !== null) throw new ApiStatusError(statusBadRequest(`${what} ${JSON.stringify(value)} ${problem}`));
}

export class KeyLayout {
  constructor(readonly prefix: string = registryPrefixDefault) {}

  /** Every key of a resource: `/registry/apps/deployments/`. */
  resourcePrefix(resource: Pick<StorageResource, "group" | "plural">): string {
    return `${this.prefix}${resourceId(resource)}/`;
  }

  /** The keys a list covers: one namespace's, or (namespace "" or undefined) the whole resource's. */
  listPrefix(resource: StorageResource, namespace: string | undefined): string {
    if (!resource.namespaced || namespace === undefined || namespace === "") return this.resourcePrefix(resource);
    checkSegment("namespace", namespace);
    return `${this.resourcePrefix(resource)}${namespace}/`;
  }

  objectKey(resource: StorageResource, namespace: string | undefined, name: string): string {
    if (name === "") throw new ApiStatusError(statusBadRequest("resource name may not be empty"));
    checkSegment("name", name);
    if (!resource.namespaced) return `${this.resourcePrefix(resource)}${name}`;
    if (namespace === undefined || namespace === "")
      throw new ApiStatusError(statusBadRequest("the namespace of the object does not match the namespace on the request"));
    checkSegment("namespace", namespace);
    return `${this.resourcePrefix(resource)}${namespace}/${name}`;
  }

  /** The parts of a key under the prefix, or null for a key that is not an object's. */
  parse(key: string): ParsedKey | null {
    if (!key.startsWith(this.prefix)) return null;
    const parts = key.slice(this.prefix.length).split("/");
    if (parts.some((p) => p === "")) return null;
    if (parts.length === 3) return { resourceId: `${parts[0]}/${parts[1]}`, namespace: "", name: parts[2]! };
    if (parts.length === 4) return { resourceId: `${parts[0]}/${parts[1]}`, namespace: parts[2]!, name: parts[3]! };
    return null;
  }
}
