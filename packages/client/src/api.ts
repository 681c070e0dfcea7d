/**
 * The surface of ApiClient that the machinery (informers, leader election) and components use.
 * Taking this interface instead of the class lets tests pass the in-memory FakeApi.
 */
import { ApiStatusError, type KubeObject, type Lease, type Namespace, type Node, type Pod, type ReplicaSet, type Status } from "@coxswain/api";
import type { ApiClient } from "./client.js";

export type ApiClientInterface = Pick<ApiClient, "get" | "list" | "watch" | "create" | "update" | "patch" | "delete" | "bind">;

/**
 * A resource (group, version, plural) with the object type it serves as a phantom parameter, so
 * `factory.forResource(podsResource)` is typed `SharedInformer<Pod>` without a cast.
 */
export interface GroupVersionResource<T extends KubeObject = KubeObject> {
  readonly group: string;
  readonly version: string;
  readonly resource: string;
  /** Never set: carries T for inference only. */
  readonly __object?: T;
}

export const podsResource: GroupVersionResource<Pod> = { group: "", version: "v1", resource: "pods" };
export const nodesResource: GroupVersionResource<Node> = { group: "", version: "v1", resource: "nodes" };
export const namespacesResource: GroupVersionResource<Namespace> = { group: "", version: "v1", resource: "namespaces" };
export const replicaSetsResource: GroupVersionResource<ReplicaSet> = { group: "apps", version: "v1", resource: "replicasets" };
export const leasesResource: GroupVersionResource<Lease> = { group: "coordination.k8s.io", version: "v1", resource: "leases" };

/**
 * The resourceVersion a client asked for is older than what the server keeps: a watch must
 * relist, a paged list must start over (Kubernetes answers 410 with reason Expired or Gone).
 */
export function isResourceExpired(error: unknown): error is ApiStatusError {
  return error instanceof ApiStatusError && error.code === 410;
}

/** The Status a watch ERROR event carries, as a typed error. */
export function watchErrorToError(object: unknown): ApiStatusError {
  return new ApiStatusError((object ?? { status: "Failure", message: "watch failed with an empty ERROR event" }) as Status);
}
