/**
 * The gRPC front end for Coxswain's components (proto/apiserver/api.proto). Every call becomes the
 * same request the REST front end builds — request info, authentication (the TLS client
 * certificate or a bearer token in the `authorization` metadata), RBAC, then the shared
 * ResourceHandler — so both front ends share one registry, one admission chain and one watch cache.
 */
import * as grpc from "@grpc/grpc-js";
import { ApiStatusError, type Status, statusInternalError } from "@coxswain/api";
import { ApiServiceDefinition, PATCH_CONTENT_TYPES, STATUS_METADATA_KEY, grpcCodeOf } from "@coxswain/client";
import type { apiserverpbTypes as pb } from "@coxswain/proto";
import type { Logger } from "@coxswain/raft";
import { authorizeOrThrow } from "../rest/authorize.js";
import type { Authenticator, Authorizer, UserInfo } from "../rest/ports.js";
import type { ResourceRequestInfo } from "../rest/request-info.js";
import type { ResourceHandler, RestResponse } from "../rest/resource-handler.js";

export interface ApiServiceOptions {
  authenticator: Authenticator;
  authorizer: Authorizer;
  resources: ResourceHandler;
  logger: Logger;
}

type AnyCall = grpc.ServerUnaryCall<unknown, unknown> | grpc.ServerWritableStream<unknown, unknown>;

export function apiServiceImplementation(o: ApiServiceOptions): grpc.UntypedServiceImplementation {
  async function user(call: AnyCall): Promise<UserInfo> {
    const cert = call.getAuthContext().sslPeerCertificate;
    const authorization = call.metadata.get("authorization")[0];
    return o.authenticator.authenticate({
      ...(cert?.raw !== undefined ? { peerCertificateDer: cert.raw } : {}),
      ...(typeof authorization === "string" ? { authorizationHeader: authorization } : {}),
    });
  }

  function failure(err: unknown): grpc.ServerErrorResponse {
    let status: Status;
    if (err instanceof ApiStatusError) status = err.status;
    else {
      o.logger.error({ err }, "internal error serving a gRPC call");
      status = statusInternalError(`an internal error occurred: ${(err as Error)?.message ?? String(err)}`);
    }
    const metadata = new grpc.Metadata();
    metadata.set(STATUS_METADATA_KEY, Buffer.from(JSON.stringify(status)));
    return Object.assign(new Error(status.message ?? "request failed"), { code: grpcCodeOf(status.code ?? 500), details: status.message ?? "", metadata });
  }

  async function run(call: AnyCall, info: ResourceRequestInfo, query: URLSearchParams, contentType: string, body: Uint8Array): Promise<RestResponse> {
    const u = await user(call);
    await authorizeOrThrow(o.authorizer, u, info);
    return o.resources.handle({ info, query, contentType, body: Buffer.from(body), user: u });
  }

  function info(ref: pb.IResourceRef | null | undefined, verb: string, name = ref?.name ?? ""): ResourceRequestInfo {
    return {
      isResourceRequest: true,
      verb,
      apiGroup: ref?.group ?? "",
      apiVersion: ref?.version ?? "v1",
      namespace: ref?.namespace ?? "",
      resource: ref?.resource ?? "",
      subresource: ref?.subresource ?? "",
      name,
    };
  }

  function unary<Req>(
    handler: (req: Req, call: grpc.ServerUnaryCall<Req, pb.IObjectResponse>) => Promise<RestResponse>,
  ): grpc.handleUnaryCall<Req, pb.IObjectResponse> {
    return (call, callback) => {
      handler(call.request, call).then(
        (response) => {
          if (response.kind !== "object") {
            response.stream.close();
            callback(failure(new Error("a unary call produced a stream")));
            return;
          }
          callback(null, { objectJson: Buffer.from(JSON.stringify(response.body)) });
        },
        (err: unknown) => callback(failure(err)),
      );
    };
  }

  const empty = new Uint8Array(0);
  return {
    Get: unary<pb.IGetRequest>((r, call) => run(call, info(r.ref, "get"), new URLSearchParams(), "", empty)),
    List: unary<pb.IListRequest>((r, call) => {
      const q = new URLSearchParams();
      if (r.labelSelector) q.set("labelSelector", r.labelSelector);
      if (r.fieldSelector) q.set("fieldSelector", r.fieldSelector);
      if (r.limit) q.set("limit", String(r.limit));
      if (r.continue) q.set("continue", r.continue);
      if (r.resourceVersion) q.set("resourceVersion", r.resourceVersion);
      return run(call, info(r.ref, "list", ""), q, "", empty);
    }),
    Create: unary<pb.IObjectRequest>((r, call) =>
      run(call, info(r.ref, "create"), r.dryRun ? new URLSearchParams({ dryRun: "All" }) : new URLSearchParams(), "application/json", r.objectJson ?? empty),
    ),
    Update: unary<pb.IObjectRequest>((r, call) =>
      run(call, info(r.ref, "update"), r.dryRun ? new URLSearchParams({ dryRun: "All" }) : new URLSearchParams(), "application/json", r.objectJson ?? empty),
    ),
    Patch: unary<pb.IPatchRequest>((r, call) => {
      const contentType = PATCH_CONTENT_TYPES[r.patchType ?? ""];
      if (contentType === undefined) {
        return Promise.reject(
          new ApiStatusError({
            kind: "Status",
            apiVersion: "v1",
            metadata: {},
            status: "Failure",
            code: 400,
            reason: "BadRequest",
            message: `unknown patch type ${JSON.stringify(r.patchType)}: json, merge or strategic`,
          }),
        );
      }
      return run(call, info(r.ref, "patch"), new URLSearchParams(), contentType, r.patch ?? empty);
    }),
    Delete: unary<pb.IDeleteRequest>((r, call) => run(call, info(r.ref, "delete"), new URLSearchParams(), "application/json", r.optionsJson ?? empty)),
    Bind: unary<pb.IBindRequest>((r, call) => {
      const binding = {
        apiVersion: "v1",
        kind: "Binding",
        metadata: { name: r.pod, namespace: r.namespace, ...(r.podUid ? { uid: r.podUid } : {}) },
        target: { apiVersion: "v1", kind: "Node", name: r.node },
      };
      const ref = { group: "", version: "v1", resource: "pods", namespace: r.namespace ?? "", name: r.pod ?? "", subresource: "binding" };
      return run(call, info(ref, "create"), new URLSearchParams(), "application/json", Buffer.from(JSON.stringify(binding)));
    }),
    Watch: (call: grpc.ServerWritableStream<pb.IWatchRequest, pb.IWatchEvent>) => {
      const r = call.request;
      const q = new URLSearchParams({ watch: "true" });
      if (r.labelSelector) q.set("labelSelector", r.labelSelector);
      if (r.fieldSelector) q.set("fieldSelector", r.fieldSelector);
      if (r.resourceVersion) q.set("resourceVersion", r.resourceVersion);
      if (r.allowBookmarks) q.set("allowWatchBookmarks", "true");
      run(call, info(r.ref, "watch", ""), q, "", empty).then(
        async (response) => {
          if (response.kind !== "watch") {
            call.end();
            return;
          }
          const { stream, resource } = response;
          call.on("cancelled", () => stream.close());
          try {
            for await (const event of stream) {
              const object = event.type === "ERROR" || event.type === "BOOKMARK" ? event.object : resource.fromStorageVersion(event.object);
              if (!call.write({ type: event.type, objectJson: Buffer.from(JSON.stringify(object)) }))
                await new Promise<void>((resolve) => call.once("drain", () => resolve()));
              if (call.cancelled) break;
            }
          } finally {
            stream.close();
            if (!call.cancelled) call.end();
          }
        },
        (err: unknown) => call.destroy(failure(err)),
      );
    },
  };
}

export { ApiServiceDefinition };
