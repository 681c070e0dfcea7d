/**
 * Every expected failure of a store request, with the gRPC status code and the exact status
 * message etcd sends (etcd's api/v3rpc/rpctypes). etcd clients turn the message back into their
 * own typed errors (clientv3 matches on it, etcdctl prints it), so the text is part of the wire
 * contract: never reword it.
 *
 * `message` is the error as the layer that raised it names it (the MVCC layer says "mvcc: ...",
 * like etcd's Go errors); `grpcMessage` is what goes on the wire.
 */
import { status as GrpcStatus } from "@grpc/grpc-js";

export { GrpcStatus };

export class EtcdError extends Error {
  override readonly name: string = "EtcdError";
  readonly code: GrpcStatus;
  readonly grpcMessage: string;

  constructor(code: GrpcStatus, message: string, grpcMessage: string = message, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.grpcMessage = grpcMessage;
  }
}

// ---- request validation (etcd checks these before proposing) ----

export class EmptyKeyError extends EtcdError {
  override readonly name = "EmptyKeyError";
  constructor() {
    super(GrpcStatus.INVALID_ARGUMENT, "etcdserver: key is not provided");
  }
}

/** etcd's answer to put with ignore_value/ignore_lease on a missing key, and to an empty txn op. */
export class KeyNotFoundError extends EtcdError {
  override readonly name = "KeyNotFoundError";
  constructor() {
    super(GrpcStatus.INVALID_ARGUMENT, "etcdserver: key not found");
  }
}

export class ValueProvidedError extends EtcdError {
  override readonly name = "ValueProvidedError";
  constructor() {
    super(GrpcStatus.INVALID_ARGUMENT, "etcdserver: value is provided");
  }
}

export class LeaseProvidedError extends EtcdError {
  override readonly name = "LeaseProvidedError";
  constructor() {
    super(GrpcStatus.INVALID_ARGUMENT, "etcdserver: lease is provided");
  }
}

export class TooManyOpsError extends EtcdError {
  override readonly name = "TooManyOpsError";
  constructor() {
    super(GrpcStatus.INVALID_ARGUMENT, "etcdserver: too many operations in txn request");
  }
}

export class DuplicateKeyError extends EtcdError {
  override readonly name = "DuplicateKeyError";
  constructor() {
    super(GrpcStatus.INVALID_ARGUMENT, "etcdserver: duplicate key given in txn request");
  }
}

export class RequestTooLargeError extends EtcdError {
  override readonly name = "RequestTooLargeError";
  constructor(
    readonly sizeBytes: number,
    readonly sizeBytesMax: number,
  ) {
    super(GrpcStatus.INVALID_ARGUMENT, "etcdserver: request is too large");
  }
}

export class TooManyRequestsError extends EtcdError {
  override readonly name = "TooManyRequestsError";
  constructor() {
    super(GrpcStatus.RESOURCE_EXHAUSTED, "etcdserver: too many requests");
  }
}

/** A request that decodes but makes no sense (for example a log entry with no operation). */
export class InvalidRequestError extends EtcdError {
  override readonly name = "InvalidRequestError";
  constructor(message: string) {
    super(GrpcStatus.INVALID_ARGUMENT, message);
  }
}

// ---- MVCC ----

export class CompactedError extends EtcdError {
  override readonly name = "CompactedError";
  constructor(readonly compactRevision: number) {
    super(GrpcStatus.OUT_OF_RANGE, "mvcc: required revision has been compacted", "etcdserver: mvcc: required revision has been compacted");
  }
}

export class FutureRevisionError extends EtcdError {
  override readonly name = "FutureRevisionError";
  constructor(readonly currentRevision: number) {
    super(GrpcStatus.OUT_OF_RANGE, "mvcc: required revision is a future revision", "etcdserver: mvcc: required revision is a future revision");
  }
}

export class NoSpaceError extends EtcdError {
  override readonly name = "NoSpaceError";
  constructor() {
    super(GrpcStatus.RESOURCE_EXHAUSTED, "mvcc: database space exceeded", "etcdserver: mvcc: database space exceeded");
  }
}

// ---- leases ----

export class LeaseNotFoundError extends EtcdError {
  override readonly name = "LeaseNotFoundError";
  constructor(readonly leaseId: number) {
    super(GrpcStatus.NOT_FOUND, "lease not found", "etcdserver: requested lease not found");
  }
}

export class LeaseExistsError extends EtcdError {
  override readonly name = "LeaseExistsError";
  constructor(readonly leaseId: number) {
    super(GrpcStatus.FAILED_PRECONDITION, "lease already exists", "etcdserver: lease already exists");
  }
}

export class LeaseTtlTooLargeError extends EtcdError {
  override readonly name = "LeaseTtlTooLargeError";
  constructor() {
    super(GrpcStatus.OUT_OF_RANGE, "too large lease TTL", "etcdserver: too large lease TTL");
  }
}

/** Keep-alives and expiry are the leader's business; a follower's lessor refuses them. */
export class LeaseNotPrimaryError extends EtcdError {
  override readonly name = "LeaseNotPrimaryError";
  constructor() {
    super(GrpcStatus.FAILED_PRECONDITION, "not a primary lessor", "etcdserver: not leader");
  }
}

// ---- cluster and leadership ----

export class NoLeaderError extends EtcdError {
  override readonly name = "NoLeaderError";
  constructor() {
    super(GrpcStatus.UNAVAILABLE, "etcdserver: no leader");
  }
}

export class NotLeaderError extends EtcdError {
  override readonly name = "NotLeaderError";
  constructor() {
    super(GrpcStatus.FAILED_PRECONDITION, "etcdserver: not leader");
  }
}

export class LeaderChangedError extends EtcdError {
  override readonly name = "LeaderChangedError";
  constructor() {
    super(GrpcStatus.UNAVAILABLE, "etcdserver: leader changed");
  }
}

export class StoppedError extends EtcdError {
  override readonly name = "StoppedError";
  constructor() {
    super(GrpcStatus.UNAVAILABLE, "etcdserver: server stopped");
  }
}

export class RequestTimeoutError extends EtcdError {
  override readonly name = "RequestTimeoutError";
  constructor() {
    super(GrpcStatus.UNAVAILABLE, "etcdserver: request timed out");
  }
}

export class UnhealthyClusterError extends EtcdError {
  override readonly name = "UnhealthyClusterError";
  constructor() {
    super(GrpcStatus.UNAVAILABLE, "etcdserver: unhealthy cluster");
  }
}

export class NotSupportedForLearnerError extends EtcdError {
  override readonly name = "NotSupportedForLearnerError";
  constructor() {
    super(GrpcStatus.UNAVAILABLE, "etcdserver: rpc not supported for learner");
  }
}

export class BadLeaderTransfereeError extends EtcdError {
  override readonly name = "BadLeaderTransfereeError";
  constructor() {
    super(GrpcStatus.FAILED_PRECONDITION, "etcdserver: bad leader transferee");
  }
}

export class MemberExistsError extends EtcdError {
  override readonly name = "MemberExistsError";
  constructor() {
    super(GrpcStatus.FAILED_PRECONDITION, "etcdserver: member ID already exist");
  }
}

export class PeerUrlExistsError extends EtcdError {
  override readonly name = "PeerUrlExistsError";
  constructor() {
    super(GrpcStatus.FAILED_PRECONDITION, "etcdserver: Peer URLs already exists");
  }
}

export class MemberNotFoundError extends EtcdError {
  override readonly name = "MemberNotFoundError";
  constructor() {
    super(GrpcStatus.NOT_FOUND, "etcdserver: member not found");
  }
}

export class MemberBadUrlsError extends EtcdError {
  override readonly name = "MemberBadUrlsError";
  constructor() {
    super(GrpcStatus.INVALID_ARGUMENT, "etcdserver: given member URLs are invalid");
  }
}

export class MemberNotLearnerError extends EtcdError {
  override readonly name = "MemberNotLearnerError";
  constructor() {
    super(GrpcStatus.FAILED_PRECONDITION, "etcdserver: can only promote a learner member");
  }
}

export class LearnerNotReadyError extends EtcdError {
  override readonly name = "LearnerNotReadyError";
  constructor() {
    super(GrpcStatus.FAILED_PRECONDITION, "etcdserver: can only promote a learner member which is in sync with leader");
  }
}

export class TooManyLearnersError extends EtcdError {
  override readonly name = "TooManyLearnersError";
  constructor() {
    super(GrpcStatus.FAILED_PRECONDITION, "etcdserver: too many learner members in cluster");
  }
}

export class AuthNotEnabledError extends EtcdError {
  override readonly name = "AuthNotEnabledError";
  constructor() {
    super(GrpcStatus.FAILED_PRECONDITION, "etcdserver: authentication is not enabled");
  }
}

// ---- watch (these travel as a WatchResponse's cancel_reason, not as an RPC status) ----

export class WatcherRangeEmptyError extends EtcdError {
  override readonly name = "WatcherRangeEmptyError";
  constructor() {
    super(GrpcStatus.INVALID_ARGUMENT, "mvcc: watcher range is empty");
  }
}

export class WatcherDuplicateIdError extends EtcdError {
  override readonly name = "WatcherDuplicateIdError";
  constructor() {
    super(GrpcStatus.INVALID_ARGUMENT, "mvcc: duplicate watch ID provided on the WatchStream");
  }
}

/** A client that asks for more than it reads: its stream is ended rather than buffered without bound. */
export class WatchStreamOverflowError extends EtcdError {
  override readonly name = "WatchStreamOverflowError";
  constructor() {
    super(GrpcStatus.RESOURCE_EXHAUSTED, "etcdserver: watch stream buffer exceeded");
  }
}

/** Status code and wire message for any error thrown while serving a request. */
export function grpcStatusOf(error: unknown): { code: GrpcStatus; details: string } {
  if (error instanceof EtcdError) return { code: error.code, details: error.grpcMessage };
  // Already a gRPC status (for example UNIMPLEMENTED from a handler).
  const status = error as { code?: unknown; details?: unknown };
  if (error instanceof Error && typeof status.code === "number" && typeof status.details === "string") {
    return { code: status.code, details: status.details };
  }
  const text = error instanceof Error ? error.message : String(error);
  return { code: GrpcStatus.UNKNOWN, details: text };
}
