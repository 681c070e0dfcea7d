/**
 * A ReplicatedLog for one in-process member that applies each proposal at once: the reference
 * behaviour the Raft-backed log must match (encode, size check, decode, apply in order), and the
 * fake the service tests run against.
 */
import { storepb, type storepbTypes } from "@coxswain/proto";
import { DEFAULT_REQUEST_LIMITS, type RequestLimits } from "../apply/validate.js";
import type { ApplyResult, StoreStateMachine } from "../apply/state-machine.js";
import {
  DEFAULT_QUOTA_BYTES,
  ETCD_COMPATIBLE_VERSION,
  encodeProposal,
  RequestIdGenerator,
  type RaftStatus,
  type ReplicatedLog,
  type StoreServerContext,
} from "./context.js";

export class ImmediateLog implements ReplicatedLog, RaftStatus {
  private index = 0;

  constructor(
    private readonly stateMachine: StoreStateMachine,
    private readonly limits: RequestLimits = DEFAULT_REQUEST_LIMITS,
  ) {}

  async propose(request: storepbTypes.IInternalRequest): Promise<ApplyResult> {
    const bytes = encodeProposal(request, this.limits);
    this.index++;
    return this.stateMachine.apply(storepb.InternalRequest.decode(bytes));
  }

  async readIndex(): Promise<void> {}

  isLeader(): boolean {
    return true;
  }

  leaderId(): number {
    return 1;
  }

  term(): number {
    return 1;
  }

  committedIndex(): number {
    return this.index;
  }

  appliedIndex(): number {
    return this.index;
  }

  isLearner(): boolean {
    return false;
  }
}

/** A single-member context around an ImmediateLog (member 1 of cluster 1000). */
export function immediateContext(stateMachine: StoreStateMachine, overrides: Partial<StoreServerContext> = {}): StoreServerContext {
  const log = new ImmediateLog(stateMachine, overrides.limits ?? DEFAULT_REQUEST_LIMITS);
  const ids = new RequestIdGenerator(1, Date.now());
  stateMachine.lessor.promote(0);
  return {
    stateMachine,
    log,
    raft: log,
    clusterId: 1000,
    memberId: 1,
    limits: DEFAULT_REQUEST_LIMITS,
    quotaBytes: DEFAULT_QUOTA_BYTES,
    version: ETCD_COMPATIBLE_VERSION,
    nextRequestId: () => ids.next(),
    now: Date.now,
    ...overrides,
  };
}
