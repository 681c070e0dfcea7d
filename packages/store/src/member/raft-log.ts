/**
 * The store's replicated log on top of the Raft node: proposals go into the log as
 * InternalRequest envelopes, every member applies them in order to its StoreStateMachine, and the
 * proposing member hands the result to the RPC waiting for it (matched by the envelope's id and
 * proposer, as etcd's server matches by request id).
 *
 * Also the leader-only duties that etcd's server has: expiring leases (decided by the leader's
 * clock, carried out through the log) and giving every live lease a fresh TTL on election.
 */
import { storepb, type storepbTypes } from "@coxswain/proto";
import { NodeStoppedError, ProposalDroppedError, ProposalQueueFullError, ReadIndexTimeoutError } from "@coxswain/raft";
import {
  ConfChangeType,
  type ConfChange,
  type ConfState,
  type Entry,
  type Logger,
  type RaftNode,
  type SnapshotMetadata,
  type StateMachine,
  assert,
} from "@coxswain/raft";
import type { MemberRecord } from "../cluster/members.js";
import type { ApplyResult, StoreStateMachine } from "../apply/state-machine.js";
import type { RequestLimits } from "../apply/validate.js";
import { NoLeaderError, RequestTimeoutError, StoppedError, TooManyRequestsError } from "../errors.js";
import { encodeProposal, type ReplicatedLog } from "../server/context.js";

/** What a ConfChange's context carries: the member being added (etcd puts its Member there too). */
export interface MemberContext {
  id: number;
  name: string;
  peerUrls: string[];
  isLearner: boolean;
}

export function encodeMemberContext(m: MemberContext): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(m));
}

function decodeMemberContext(data: Uint8Array): MemberContext | null {
  if (data.length === 0) return null;
  return JSON.parse(new TextDecoder().decode(data)) as MemberContext;
}

interface Waiter {
  resolve: (r: ApplyResult) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export interface RaftLogOptions {
  memberId: number;
  stateMachine: StoreStateMachine;
  requestTimeoutMs: number;
  limits: RequestLimits;
  logger: Logger;
  /** Called after a membership change is applied (to update the transport's peers). */
  onMembersChanged?: (members: MemberRecord[]) => void;
}

export class RaftStoreLog implements ReplicatedLog, StateMachine {
  node: RaftNode | null = null;
  private readonly waiters = new Map<number, Waiter>();
  private nextRequestId = 1;
  private readonly sm: StoreStateMachine;
  private readonly opts: RaftLogOptions;
  private stopping = false;
  /** Counters for metrics. */
  readonly stats = { applied: 0, failedProposals: 0 };

  constructor(opts: RaftLogOptions) {
    this.opts = opts;
    this.sm = opts.stateMachine;
  }

  // ---- StateMachine (called by the Raft node, in log order) -------------------------------

  apply(entries: Entry[]): void {
    for (const e of entries) {
      if (e.data.length === 0) continue; // a new leader's empty entry
      // Entries were encoded by a member of this cluster; failing to decode one is a bug or
      // corruption, and continuing would diverge from the other members.
      const request = storepb.InternalRequest.decode(e.data);
      const result = this.sm.apply(request);
      this.stats.applied++;
      const proposer = request.header?.proposerId ?? 0;
      if (proposer === this.opts.memberId && request.id !== 0) {
        const w = this.waiters.get(request.id);
        if (w !== undefined) {
          this.waiters.delete(request.id);
          clearTimeout(w.timer);
          w.resolve(result);
        }
      }
    }
  }

  snapshot(): Uint8Array {
    return this.sm.snapshot();
  }

  restore(data: Uint8Array, _metadata: SnapshotMetadata): void {
    this.sm.restore(data);
    this.opts.onMembersChanged?.(this.sm.members.list());
  }

  confChanged(change: ConfChange, _confState: ConfState, index: number): void {
    const members = this.sm.members;
    switch (change.type) {
      case ConfChangeType.ADD_LEARNER:
      case ConfChangeType.ADD_VOTER: {
        const existing = members.get(change.nodeId);
        if (existing !== undefined) {
          if (existing.isLearner && change.type === ConfChangeType.ADD_VOTER) members.promote(change.nodeId);
          break;
        }
        const ctx = decodeMemberContext(change.context);
        assert(ctx !== null && ctx.id === change.nodeId, `conf change at ${index} adding ${change.nodeId} carries its member`);
        members.add({ id: ctx.id, name: ctx.name, peerUrls: ctx.peerUrls, clientUrls: [], isLearner: change.type === ConfChangeType.ADD_LEARNER });
        break;
      }
      case ConfChangeType.REMOVE_NODE:
        if (members.get(change.nodeId) !== undefined) members.remove(change.nodeId);
        break;
    }
    this.opts.logger.info({ index, type: ConfChangeType[change.type], member: change.nodeId.toString(16) }, "membership changed");
    this.opts.onMembersChanged?.(members.list());
  }

  // ---- ReplicatedLog (called by the RPC handlers) -----------------------------------------

  /**
   * Appends the request (its id and header set by the caller, see server/context.ts propose()) and
   * resolves with the result of applying it here. Refuses requests over --max-request-bytes.
   */
  propose(request: storepbTypes.IInternalRequest): Promise<ApplyResult> {
    const node = this.node;
    if (node === null || this.stopping) return Promise.reject(new StoppedError());
    let data: Uint8Array;
    try {
      data = encodeProposal(request, this.opts.limits);
    } catch (err) {
      return Promise.reject(toEtcdError(err));
    }
    const id = typeof request.id === "number" ? request.id : 0;
    assert(id !== 0 && request.header?.proposerId === this.opts.memberId, "a proposal carries this member's request id and header");
    return new Promise<ApplyResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(id);
        reject(new RequestTimeoutError());
      }, this.opts.requestTimeoutMs);
      this.waiters.set(id, { resolve, reject, timer });
      node.propose(data).then(
        () => undefined,
        (err: unknown) => {
          const w = this.waiters.get(id);
          if (w !== undefined) {
            this.waiters.delete(id);
            clearTimeout(w.timer);
          }
          this.stats.failedProposals++;
          reject(toEtcdError(err));
        },
      );
    });
  }

  async readIndex(): Promise<void> {
    const node = this.node;
    if (node === null || this.stopping) throw new StoppedError();
    try {
      await node.readIndex();
    } catch (err) {
      throw toEtcdError(err);
    }
  }

  isLeader(): boolean {
    return this.node?.isLeader() ?? false;
  }

  pendingCount(): number {
    return this.waiters.size;
  }

  stop(): void {
    this.stopping = true;
    for (const w of this.waiters.values()) {
      clearTimeout(w.timer);
      w.reject(new StoppedError());
    }
    this.waiters.clear();
  }
}

/** Maps the Raft node's typed errors to the etcd errors clients understand. */
function toEtcdError(err: unknown): Error {
  if (err instanceof ProposalDroppedError) return new NoLeaderError();
  if (err instanceof ProposalQueueFullError) return new TooManyRequestsError();
  if (err instanceof NodeStoppedError) return new StoppedError();
  if (err instanceof ReadIndexTimeoutError) return new RequestTimeoutError();
  return err instanceof Error ? err : new Error(String(err));
}
