/**
 * grpc-js service definitions for etcd's v3 services, built from the generated protobuf codecs
 * (no proto-loader at run time). Method paths are etcd's ("/etcdserverpb.KV/Range"), which is
 * what makes etcdctl and the etcd3 client reach these handlers.
 */
import { Buffer } from "node:buffer";
import type { MethodDefinition, ServiceDefinition } from "@grpc/grpc-js";
import { etcdserverpb, type protobuf } from "@coxswain/proto";

interface MessageCodec<T> {
  encode(message: T, writer?: protobuf.Writer): protobuf.Writer;
  decode(reader: Uint8Array): T;
}

function method<Req, Res>(
  service: string,
  name: string,
  request: MessageCodec<Req>,
  response: MessageCodec<Res>,
  requestStream: boolean,
  responseStream: boolean,
): MethodDefinition<Req, Res> {
  const toBuffer = (bytes: Uint8Array): Buffer => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    path: `/etcdserverpb.${service}/${name}`,
    originalName: name,
    requestStream,
    responseStream,
    requestSerialize: (value: Req) => toBuffer(request.encode(value).finish()),
    requestDeserialize: (bytes: Buffer) => request.decode(bytes),
    responseSerialize: (value: Res) => toBuffer(response.encode(value).finish()),
    responseDeserialize: (bytes: Buffer) => response.decode(bytes),
  };
}

const pb = etcdserverpb;

export const KVServiceDefinition = {
  Range: method("KV", "Range", pb.RangeRequest, pb.RangeResponse, false, false),
  Put: method("KV", "Put", pb.PutRequest, pb.PutResponse, false, false),
  DeleteRange: method("KV", "DeleteRange", pb.DeleteRangeRequest, pb.DeleteRangeResponse, false, false),
  Txn: method("KV", "Txn", pb.TxnRequest, pb.TxnResponse, false, false),
  Compact: method("KV", "Compact", pb.CompactionRequest, pb.CompactionResponse, false, false),
} satisfies ServiceDefinition;

export const WatchServiceDefinition = {
  Watch: method("Watch", "Watch", pb.WatchRequest, pb.WatchResponse, true, true),
} satisfies ServiceDefinition;

export const LeaseServiceDefinition = {
  LeaseGrant: method("Lease", "LeaseGrant", pb.LeaseGrantRequest, pb.LeaseGrantResponse, false, false),
  LeaseRevoke: method("Lease", "LeaseRevoke", pb.LeaseRevokeRequest, pb.LeaseRevokeResponse, false, false),
  LeaseKeepAlive: method("Lease", "LeaseKeepAlive", pb.LeaseKeepAliveRequest, pb.LeaseKeepAliveResponse, true, true),
  LeaseTimeToLive: method("Lease", "LeaseTimeToLive", pb.LeaseTimeToLiveRequest, pb.LeaseTimeToLiveResponse, false, false),
  LeaseLeases: method("Lease", "LeaseLeases", pb.LeaseLeasesRequest, pb.LeaseLeasesResponse, false, false),
} satisfies ServiceDefinition;

export const ClusterServiceDefinition = {
  MemberAdd: method("Cluster", "MemberAdd", pb.MemberAddRequest, pb.MemberAddResponse, false, false),
  MemberRemove: method("Cluster", "MemberRemove", pb.MemberRemoveRequest, pb.MemberRemoveResponse, false, false),
  MemberUpdate: method("Cluster", "MemberUpdate", pb.MemberUpdateRequest, pb.MemberUpdateResponse, false, false),
  MemberList: method("Cluster", "MemberList", pb.MemberListRequest, pb.MemberListResponse, false, false),
  MemberPromote: method("Cluster", "MemberPromote", pb.MemberPromoteRequest, pb.MemberPromoteResponse, false, false),
} satisfies ServiceDefinition;

export const MaintenanceServiceDefinition = {
  Alarm: method("Maintenance", "Alarm", pb.AlarmRequest, pb.AlarmResponse, false, false),
  Status: method("Maintenance", "Status", pb.StatusRequest, pb.StatusResponse, false, false),
  Defragment: method("Maintenance", "Defragment", pb.DefragmentRequest, pb.DefragmentResponse, false, false),
  Hash: method("Maintenance", "Hash", pb.HashRequest, pb.HashResponse, false, false),
  HashKV: method("Maintenance", "HashKV", pb.HashKVRequest, pb.HashKVResponse, false, false),
  Snapshot: method("Maintenance", "Snapshot", pb.SnapshotRequest, pb.SnapshotResponse, false, true),
  MoveLeader: method("Maintenance", "MoveLeader", pb.MoveLeaderRequest, pb.MoveLeaderResponse, false, false),
  Downgrade: method("Maintenance", "Downgrade", pb.DowngradeRequest, pb.DowngradeResponse, false, false),
} satisfies ServiceDefinition;

export const AuthServiceDefinition = {
  AuthEnable: method("Auth", "AuthEnable", pb.AuthEnableRequest, pb.AuthEnableResponse, false, false),
  AuthDisable: method("Auth", "AuthDisable", pb.AuthDisableRequest, pb.AuthDisableResponse, false, false),
  AuthStatus: method("Auth", "AuthStatus", pb.AuthStatusRequest, pb.AuthStatusResponse, false, false),
  Authenticate: method("Auth", "Authenticate", pb.AuthenticateRequest, pb.AuthenticateResponse, false, false),
  UserAdd: method("Auth", "UserAdd", pb.AuthUserAddRequest, pb.AuthUserAddResponse, false, false),
  UserGet: method("Auth", "UserGet", pb.AuthUserGetRequest, pb.AuthUserGetResponse, false, false),
  UserList: method("Auth", "UserList", pb.AuthUserListRequest, pb.AuthUserListResponse, false, false),
  UserDelete: method("Auth", "UserDelete", pb.AuthUserDeleteRequest, pb.AuthUserDeleteResponse, false, false),
  UserChangePassword: method("Auth", "UserChangePassword", pb.AuthUserChangePasswordRequest, pb.AuthUserChangePasswordResponse, false, false),
  UserGrantRole: method("Auth", "UserGrantRole", pb.AuthUserGrantRoleRequest, pb.AuthUserGrantRoleResponse, false, false),
  UserRevokeRole: method("Auth", "UserRevokeRole", pb.AuthUserRevokeRoleRequest, pb.AuthUserRevokeRoleResponse, false, false),
  RoleAdd: method("Auth", "RoleAdd", pb.AuthRoleAddRequest, pb.AuthRoleAddResponse, false, false),
  RoleGet: method("Auth", "RoleGet", pb.AuthRoleGetRequest, pb.AuthRoleGetResponse, false, false),
  RoleList: method("Auth", "RoleList", pb.AuthRoleListRequest, pb.AuthRoleListResponse, false, false),
  RoleDelete: method("Auth", "RoleDelete", pb.AuthRoleDeleteRequest, pb.AuthRoleDeleteResponse, false, false),
  RoleGrantPermission: method("Auth", "RoleGrantPermission", pb.AuthRoleGrantPermissionRequest, pb.AuthRoleGrantPermissionResponse, false, false),
  RoleRevokePermission: method("Auth", "RoleRevokePermission", pb.AuthRoleRevokePermissionRequest, pb.AuthRoleRevokePermissionResponse, false, false),
} satisfies ServiceDefinition;
