/**
 * What the etcd gRPC handlers need from the member they run on. The Raft wiring implements
 * ReplicatedLog (and, optionally, forwarding and cluster control); tests use ImmediateLog.
 */
import { status as GrpcStatus, type ServerErrorResponse } from "@grpc/grpc-js";
import { storepb, type storepbTypes } from "@coxswain/proto";
import type { etcdserverpbTypes } from "@coxswain/proto";
import { grpcStatusOf, NoSpaceError } from "../errors.js";
import { DEFAULT_REQUEST_LIMITS, validateRequestSize, type RequestLimits } from "../apply/validate.js";
import type { ApplyResponses, ApplyResult, RequestKind, StoreStateMachine } from "../apply/state-machine.js";
import type { MemberRecord } from "../cluster/members.js";
import { assert } from "@coxswain/raft";

/** The store's Raft log as the handlers see it. */
export interface ReplicatedLog {
  /**
   * Appends the request to the log and resolves with the result of applying it on this member
   * (followers forward to the leader, as Raft's MsgProp does). Implementations refuse requests over
   * the size limit with RequestTooLargeError (encodeProposal() does both).
   */
  propose(request: storepbTypes.IInternalRequest): Promise<ApplyResult>;
  /** Resolves once this member has applied everything committed when it was called (ReadIndex). */
  readIndex(): Promise<void>;
  isLeader(): boolean;
}

/** Raft facts that Status and response headers report. */
export interface RaftStatus {
  leaderId(): number;
  term(): number;
  committedIndex(): number;
  appliedIndex(): number;
  isLearner(): boolean;
}

/** Lease calls that only the leader can answer; a follower forwards them (etcd does over HTTP). */
export interface LeaderForwarder {
  renewLease(leaseId: number): Promise<number>;
  leaseTimeToLive(request: etcdserverpbTypes.ILeaseTimeToLiveRequest): Promise<etcdserverpbTypes.ILeaseTimeToLiveResponse>;
}

/** Membership changes go through Raft configuration changes, which the Raft wiring owns. */
export interface ClusterControl {
  addMember(peerUrls: string[], isLearner: boolean): Promise<MemberRecord>;
  removeMember(id: number): Promise<void>;
  promoteMember(id: number): Promise<void>;
  updateMember(id: number, peerUrls: string[]): Promise<void>;
  moveLeader(targetId: number): Promise<void>;
}

export interface StoreServerContext {
  stateMachine: StoreStateMachine;
  log: ReplicatedLog;
  raft: RaftStatus;
  clusterId: number;
  memberId: number;
  limits: RequestLimits;
  /** Backend quota (etcd's --quota-backend-bytes, default 2 GiB); past it NOSPACE is raised. */
  quotaBytes: number;
  /** Version reported by Status; etcdctl prints it. */
  version: string;
  forwarder?: LeaderForwarder;
  cluster?: ClusterControl;
  /** Unique per member: the request ids this member proposes. */
  nextRequestId(): number;
  now(): number;
}

/** etcd's default --quota-backend-bytes. */
export const DEFAULT_QUOTA_BYTES = 2 * 1024 * 1024 * 1024;
/** The etcd version this store answers as: the API level it implements. */
export const ETCD_COMPATIBLE_VERSION = "3.5.0";

/**
 * Request ids unique per member and below 2^53: the member id's low 13 bits above a 40-bit
 * counter that starts at the wall clock (ms), like etcd's idutil, so a restarted member does not
 * reuse the ids of its previous life.
 */
export class RequestIdGenerator {
  private readonly prefix: number;
  private suffix: number;

  constructor(memberId: number, nowMs: number) {
    this.prefix = (memberId % 8192) * 2 ** 40;
    this.suffix = nowMs % 2 ** 40;
  }

  next(): number {
    this.suffix = (this.suffix + 1) % 2 ** 40;
    return this.prefix + this.suffix;
  }
}

/** Encodes a proposal and enforces --max-request-bytes on it (what a ReplicatedLog should do). */
export function encodeProposal(request: storepbTypes.IInternalRequest, limits: RequestLimits = DEFAULT_REQUEST_LIMITS): Uint8Array {
  const bytes = storepb.InternalRequest.encode(request).finish();
  validateRequestSize(bytes.byteLength, limits);
  return bytes;
}

export function fillHeader<T extends { header?: { revision?: number | null } | null }>(ctx: StoreServerContext, response: T): T {
  response.header = {
    clusterId: ctx.clusterId,
    memberId: ctx.memberId,
    revision: response.header?.revision ?? 0,
    raftTerm: ctx.raft.term(),
  } as T["header"];
  return response;
}

/** Proposes one operation and returns its kind's response, or throws the typed error. */
export async function propose<K extends RequestKind>(
  ctx: StoreServerContext,
  kind: K,
  body: NonNullable<storepbTypes.IInternalRequest[K]>,
): Promise<ApplyResponses[K]> {
  const request: storepbTypes.IInternalRequest = {
    id: ctx.nextRequestId(),
    header: { proposerId: ctx.memberId, proposedAtUnixMs: ctx.now() },
    [kind]: body,
  };
  const result = await ctx.log.propose(request);
  if (result.kind === "error") throw result.error;
  assert(result.kind === kind, "the applied result answers the proposed request");
  return (result as unknown as { response: ApplyResponses[K] }).response;
}

/**
 * etcd's quota check before proposing a write: past the quota, raise the NOSPACE alarm (through
 * the log, so every member refuses writes) and refuse this one.
 */
export async function checkQuota(ctx: StoreServerContext, costBytes: number): Promise<void> {
  if (costBytes <= 0) return;
  if (ctx.stateMachine.mvcc.sizeBytes + costBytes <= ctx.quotaBytes) return;
  await propose(ctx, "alarm", { action: 1 /* ACTIVATE */, memberID: ctx.memberId, alarm: 1 /* NOSPACE */ });
  throw new NoSpaceError();
}

export function serviceError(error: unknown): ServerErrorResponse {
  const { code, details } = grpcStatusOf(error);
  return Object.assign(new Error(details), { code, details });
}

export function unimplemented(what: string): ServerErrorResponse {
  return Object.assign(new Error(`${what} is not implemented by Coxswain's store`), {
    code: GrpcStatus.UNIMPLEMENTED,
    details: `${what} is not implemented by Coxswain's store`,
  });
}

export function byteLength(bytes: Uint8Array | null | undefined): number {
  return bytes ? bytes.byteLength : 0;
}
