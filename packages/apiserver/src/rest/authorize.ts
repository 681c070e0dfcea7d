/**
 * The authorization step both front ends (REST and gRPC) share: ask the authorizer about a
 * request, and refuse with Kubernetes' 403 Status and message when it says no.
 */
import { ApiStatusError } from "@coxswain/api";
import type { Authorizer, UserInfo } from "./ports.js";
import type { RequestInfo } from "./request-info.js";

export async function authorizeOrThrow(authorizer: Authorizer, user: UserInfo, info: RequestInfo): Promise<void> {
  const attrs = info.isResourceRequest
    ? {
        user,
        verb: info.verb,
        isResourceRequest: true,
        apiGroup: info.apiGroup,
        apiVersion: info.apiVersion,
        resource: info.resource,
        subresource: info.subresource,
        namespace: info.namespace,
        name: info.name,
        path: "",
      }
    : {
        user,
        verb: info.verb,
        isResourceRequest: false,
        apiGroup: "",
        apiVersion: "",
        resource: "",
        subresource: "",
        namespace: "",
        name: "",
        path: info.path,
      };
  const decision = await authorizer.authorize(attrs);
  if (decision.allowed) return;
  let message: string;
  if (info.isResourceRequest) {
    const resource = info.subresource ? `${info.resource}/${info.subresource}` : info.resource;
    const qualified = info.apiGroup ? `${info.resource}.${info.apiGroup}` : info.resource;
    const subject = info.name ? `${qualified} "${info.name}"` : qualified;
    const scope = info.namespace ? `in the namespace "${info.namespace}"` : "at the cluster scope";
    message = `${subject} is forbidden: User "${user.name}" cannot ${info.verb} resource "${resource}" in API group "${info.apiGroup}" ${scope}`;
  } else {
    message = `forbidden: User "${user.name}" cannot ${info.verb} path "${info.path}"`;
  }
  if (decision.reason) message += `: ${decision.reason}`;
  throw new ApiStatusError({
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message,
    reason: "Forbidden",
    details: info.isResourceRequest ? { name: info.name, group: info.apiGroup, kind: info.resource } : {},
    code: 403,
  });
}
