/**
 * etcd's Maintenance, Cluster and Auth services. Membership changes and leader moves belong to the
 * Raft wiring (ClusterControl); without it they answer UNIMPLEMENTED. Auth is not implemented:
 * AuthStatus says it is disabled, which is what clients check.
 */
import type { ServerWritableStream, UntypedServiceImplementation } from "@grpc/grpc-js";
import { etcdserverpb, type etcdserverpbTypes as Pb } from "@coxswain/proto";
import { AuthNotEnabledError } from "../errors.js";
import { memberToProto } from "../cluster/members.js";
import { fillHeader, propose, serviceError, unimplemented, type StoreServerContext } from "./context.js";
import { unary } from "./kv-service.js";

/** Snapshot bytes per SnapshotResponse message. */
export const SNAPSHOT_STREAM_CHUNK_BYTES = 64 * 1024;

function notImplemented(name: string) {
  return (_call: unknown, callback: (error: Error) => void): void => callback(unimplemented(name));
}

function requireCluster(ctx: StoreServerContext): NonNullable<StoreServerContext["cluster"]> {
  if (!ctx.cluster) throw unimplemented("cluster membership changes");
  return ctx.cluster;
}

export function maintenanceService(ctx: StoreServerContext): UntypedServiceImplementation {
  return {
    Status: unary<Pb.IStatusRequest, Pb.IStatusResponse>(ctx, async () => {
      const sm = ctx.stateMachine;
      return {
        header: { revision: sm.currentRevision },
        version: ctx.version,
        dbSize: sm.mvcc.sizeBytes,
        dbSizeInUse: sm.mvcc.sizeBytes,
        leader: ctx.raft.leaderId(),
        raftIndex: ctx.raft.committedIndex(),
        raftTerm: ctx.raft.term(),
        raftAppliedIndex: ctx.raft.appliedIndex(),
        isLearner: ctx.raft.isLearner(),
        dbSizeQuota: ctx.quotaBytes,
        errors: sm.alarms.list().map((a) => `memberID:${a.memberID.toString(16)} alarm:${etcdserverpb.AlarmType[a.alarm]} `),
      };
    }),
    Alarm: unary<Pb.IAlarmRequest, Pb.IAlarmResponse>(ctx, async (r) => propose(ctx, "alarm", r)),
    // Memory needs no defragmenting: compaction already gave the space back.
    Defragment: unary<Pb.IDefragmentRequest, Pb.IDefragmentResponse>(ctx, async () => ({ header: {} })),
    Hash: unary<Pb.IHashRequest, Pb.IHashResponse>(ctx, async () => {
      const h = ctx.stateMachine.hashKV(0);
      return { header: { revision: ctx.stateMachine.currentRevision }, hash: h.hash };
    }),
    HashKV: unary<Pb.IHashKVRequest, Pb.IHashKVResponse>(ctx, async (r) => {
      const h = ctx.stateMachine.hashKV(r.revision ?? 0);
      return { header: { revision: ctx.stateMachine.currentRevision }, hash: h.hash, compactRevision: h.compactRevision, hashRevision: h.hashRevision };
    }),
    Snapshot: (call: ServerWritableStream<Pb.ISnapshotRequest, Pb.ISnapshotResponse>) => {
      void streamSnapshot(ctx, call).catch((error: unknown) => call.destroy(serviceError(error)));
    },
    MoveLeader: unary<Pb.IMoveLeaderRequest, Pb.IMoveLeaderResponse>(ctx, async (r) => {
      await requireCluster(ctx).moveLeader(r.targetID ?? 0);
      return { header: {} };
    }),
    Downgrade: notImplemented("Downgrade"),
  };
}

async function streamSnapshot(ctx: StoreServerContext, call: ServerWritableStream<Pb.ISnapshotRequest, Pb.ISnapshotResponse>): Promise<void> {
  await ctx.log.readIndex();
  const data = ctx.stateMachine.snapshot();
  const revision = ctx.stateMachine.currentRevision;
  for (let offset = 0; offset < data.byteLength || offset === 0; offset += SNAPSHOT_STREAM_CHUNK_BYTES) {
    const blob = data.subarray(offset, offset + SNAPSHOT_STREAM_CHUNK_BYTES);
    const response = fillHeader(ctx, {
      header: { revision },
      remainingBytes: data.byteLength - offset - blob.byteLength,
      blob,
      version: ctx.version,
    });
    if (!call.write(response)) await new Promise<void>((resolve) => call.once("drain", resolve));
    if (data.byteLength === 0) break;
  }
  call.end();
}

export function clusterService(ctx: StoreServerContext): UntypedServiceImplementation {
  const members = (): Pb.IMember[] => ctx.stateMachine.members.toProto();
  return {
    MemberList: unary<Pb.IMemberListRequest, Pb.IMemberListResponse>(ctx, async (r) => {
      if (r.linearizable) await ctx.log.readIndex();
      return { header: {}, members: members() };
    }),
    MemberAdd: unary<Pb.IMemberAddRequest, Pb.IMemberAddResponse>(ctx, async (r) => {
      const added = await requireCluster(ctx).addMember([...(r.peerURLs ?? [])], r.isLearner ?? false);
      return { header: {}, member: memberToProto(added), members: members() };
    }),
    MemberRemove: unary<Pb.IMemberRemoveRequest, Pb.IMemberRemoveResponse>(ctx, async (r) => {
      await requireCluster(ctx).removeMember(r.ID ?? 0);
      return { header: {}, members: members() };
    }),
    MemberUpdate: unary<Pb.IMemberUpdateRequest, Pb.IMemberUpdateResponse>(ctx, async (r) => {
      await requireCluster(ctx).updateMember(r.ID ?? 0, [...(r.peerURLs ?? [])]);
      return { header: {}, members: members() };
    }),
    MemberPromote: unary<Pb.IMemberPromoteRequest, Pb.IMemberPromoteResponse>(ctx, async (r) => {
      await requireCluster(ctx).promoteMember(r.ID ?? 0);
      return { header: {}, members: members() };
    }),
  };
}

export function authService(ctx: StoreServerContext): UntypedServiceImplementation {
  const implementation: UntypedServiceImplementation = {
    AuthStatus: unary<Pb.IAuthStatusRequest, Pb.IAuthStatusResponse>(ctx, async () => ({ header: {}, enabled: false, authRevision: 0 })),
    Authenticate: unary<Pb.IAuthenticateRequest, Pb.IAuthenticateResponse>(ctx, async () => {
      throw new AuthNotEnabledError();
    }),
  };
  for (const name of [
    "AuthEnable",
    "AuthDisable",
    "UserAdd",
    "UserGet",
    "UserList",
    "UserDelete",
    "UserChangePassword",
    "UserGrantRole",
    "UserRevokeRole",
    "RoleAdd",
    "RoleGet",
    "RoleList",
    "RoleDelete",
    "RoleGrantPermission",
    "RoleRevokePermission",
  ]) {
    implementation[name] = notImplemented(`Auth.${name}`);
  }
  return implementation;
}
