/**
 * The wire definition of Coxswain's gRPC API (proto/apiserver/api.proto), built on the generated
 * codecs: the client uses it to call, the API server to serve. Also the mapping of Kubernetes'
 * HTTP codes onto gRPC status codes, and where a failed call's Status travels.
 */
import * as grpc from "@grpc/grpc-js";
import { apiserverpb, type apiserverpbTypes as pb } from "@coxswain/proto";

/** Trailing metadata key carrying the Kubernetes Status of a failed call (JSON). */
export const STATUS_METADATA_KEY = "coxswain-status-bin";

export const PATCH_CONTENT_TYPES: Readonly<Record<string, string>> = {
  json: "application/json-patch+json",
  merge: "application/merge-patch+json",
  strategic: "application/strategic-merge-patch+json",
};

interface Codec<T> {
  encode(message: T): { finish(): Uint8Array };
  decode(bytes: Uint8Array): T;
}

function method<Req, Res>(name: string, req: Codec<Req>, res: Codec<Res>, responseStream = false): grpc.MethodDefinition<Req, Res> {
  const toBuffer = (b: Uint8Array): Buffer => Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  return {
    path: `/coxswain.apiserver.Api/${name}`,
    originalName: name,
    requestStream: false,
    responseStream,
    requestSerialize: (v: Req) => toBuffer(req.encode(v).finish()),
    requestDeserialize: (b: Buffer) => req.decode(b),
    responseSerialize: (v: Res) => toBuffer(res.encode(v).finish()),
    responseDeserialize: (b: Buffer) => res.decode(b),
  };
}

export interface ApiServiceMethods {
  Get: grpc.MethodDefinition<pb.IGetRequest, pb.IObjectResponse>;
  List: grpc.MethodDefinition<pb.IListRequest, pb.IObjectResponse>;
  Watch: grpc.MethodDefinition<pb.IWatchRequest, pb.IWatchEvent>;
  Create: grpc.MethodDefinition<pb.IObjectRequest, pb.IObjectResponse>;
  Update: grpc.MethodDefinition<pb.IObjectRequest, pb.IObjectResponse>;
  Patch: grpc.MethodDefinition<pb.IPatchRequest, pb.IObjectResponse>;
  Delete: grpc.MethodDefinition<pb.IDeleteRequest, pb.IObjectResponse>;
  Bind: grpc.MethodDefinition<pb.IBindRequest, pb.IObjectResponse>;
}

export const ApiServiceDefinition: ApiServiceMethods & grpc.ServiceDefinition = {
  Get: method("Get", apiserverpb.GetRequest, apiserverpb.ObjectResponse),
  List: method("List", apiserverpb.ListRequest, apiserverpb.ObjectResponse),
  Watch: method("Watch", apiserverpb.WatchRequest, apiserverpb.WatchEvent, true),
  Create: method("Create", apiserverpb.ObjectRequest, apiserverpb.ObjectResponse),
  Update: method("Update", apiserverpb.ObjectRequest, apiserverpb.ObjectResponse),
  Patch: method("Patch", apiserverpb.PatchRequest, apiserverpb.ObjectResponse),
  Delete: method("Delete", apiserverpb.DeleteRequest, apiserverpb.ObjectResponse),
  Bind: method("Bind", apiserverpb.BindRequest, apiserverpb.ObjectResponse),
};

/** The gRPC status for an HTTP status code, as Kubernetes' codes map onto gRPC's. */
export function grpcCodeOf(httpCode: number): grpc.status {
  switch (httpCode) {
    case 400:
    case 422:
      return grpc.status.INVALID_ARGUMENT;
    case 401:
      return grpc.status.UNAUTHENTICATED;
    case 403:
      return grpc.status.PERMISSION_DENIED;
    case 404:
      return grpc.status.NOT_FOUND;
    case 405:
    case 415:
      return grpc.status.UNIMPLEMENTED;
    case 409:
      return grpc.status.ABORTED;
    case 410:
      return grpc.status.OUT_OF_RANGE;
    case 413:
    case 429:
      return grpc.status.RESOURCE_EXHAUSTED;
    case 503:
      return grpc.status.UNAVAILABLE;
    case 504:
      return grpc.status.DEADLINE_EXCEEDED;
    default:
      return httpCode >= 200 && httpCode < 300 ? grpc.status.OK : grpc.status.INTERNAL;
  }
}
