/**
 * The Raft consensus algorithm as a pure state machine (Ongaro & Ousterhout, "In Search of an
 * Understandable Consensus Algorithm", and Ongaro's thesis), shaped after etcd-io/raft's raft.go.
 *
 * Nothing here touches a clock, a socket, a file or Math.random: time is `tick()`, input is
 * `step(message)`, output is read from `msgs`, the log's unstable part and `readStates`, and
 * randomness comes from the injected RandomSource. RawNode wraps this into the Ready/advance cycle.
 */
import { raftpb } from "@coxswain/proto";
import { assert } from "./assert.js";
import { RaftLog } from "./log.js";
import { Progress, ProgressState, ProgressTracker, VoteResult } from "./progress.js";
import type { RandomSource } from "./rand.js";
import { CompactedError, SnapshotTemporarilyUnavailableError, type Storage } from "./storage.js";
import {
  ConfChangeType,
  EMPTY_BYTES,
  EntryType,
  MessageType,
  NONE,
  type ConfChange,
  type ConfState,
  type Entry,
  type HardState,
  type Message,
  type Snapshot,
  entrySizeBytes,
  isResponseMessage,
  message,
  voteResponseType,
} from "./types.js";

export enum StateType {
  Follower = "Follower",
  PreCandidate = "PreCandidate",
  Candidate = "Candidate",
  Leader = "Leader",
}

export enum ReadOnlyOption {
  /** ReadIndex confirmed by a quorum heartbeat round (Raft thesis §6.4). Always safe. */
  Safe = "Safe",
  /**
   * Trusts the leader lease (thesis §6.4.1): no round trip, but correctness depends on bounded
   * clock drift. Requires checkQuorum.
   */
  LeaseBased = "LeaseBased",
}

/** The proposal was not appended (no leader, leadership transfer, a pending conf change, ...). */
export class ProposalDroppedError extends Error {
  override readonly name = "ProposalDroppedError";
  constructor(why: string) {
    super(`raft proposal dropped: ${why}`);
  }
}

/** Marks a MsgVote/MsgTimeoutNow campaign caused by a leadership transfer (skips leases). */
export const CAMPAIGN_TRANSFER: Uint8Array = new TextEncoder().encode("CampaignTransfer");

export interface RaftConfig {
  id: number;
  storage: Storage;
  /** Ticks without hearing from a leader before a follower campaigns (randomized in [n, 2n)). */
  electionTicks: number;
  /** Ticks between leader heartbeats; must be much smaller than electionTicks. */
  heartbeatTicks: number;
  random: RandomSource;
  /** The last index the application applied before a restart (0: from the snapshot). */
  applied?: number;
  /** Cap on the entry bytes in one MsgApp. */
  msgSizeBytesMax?: number;
  /** Flow control: in-flight MsgApp per follower in Replicate state. */
  inflightMessagesMax?: number;
  /** Flow control: in-flight bytes per follower (0: unlimited). */
  inflightBytesMax?: number;
  /** Bound on uncommitted proposal bytes at the leader (0: unlimited); more is dropped. */
  uncommittedEntriesBytesMax?: number;
  /** Cap on committed entry bytes handed out in one Ready. */
  committedEntriesBytesMax?: number;
  preVote?: boolean;
  checkQuorum?: boolean;
  readOnlyOption?: ReadOnlyOption;
  /** A learner is promoted only when its match is within this many entries of the commit index. */
  learnerPromotionLagEntriesMax?: number;
}

export interface ReadState {
  index: number;
  context: Uint8Array;
}

export interface SoftState {
  lead: number;
  state: StateType;
}

interface ReadIndexRequest {
  index: number;
  /** The node that asked (the leader itself or a follower that forwarded MsgReadIndex). */
  from: number;
  context: Uint8Array;
  acks: Set<number>;
}

function contextKey(ctx: Uint8Array): string {
  let s = "";
  for (let i = 0; i < ctx.length; i++) s += String.fromCharCode(ctx[i]!);
  return s;
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function decodeConfChange(data: Uint8Array): ConfChange {
  const cc = raftpb.ConfChange.decode(data);
  return { type: cc.type, nodeId: cc.nodeId, context: cc.context ?? EMPTY_BYTES };
}

export function encodeConfChange(cc: ConfChange): Uint8Array {
  return raftpb.ConfChange.encode(cc).finish();
}

export class Raft {
  readonly id: number;
  term = 0;
  vote = NONE;
  readStates: ReadState[] = [];
  readonly log: RaftLog;
  readonly tracker: ProgressTracker;
  state = StateType.Follower;
  isLearner = false;
  /** Outgoing messages, taken by RawNode.ready(). */
  msgs: Message[] = [];
  lead = NONE;
  /** While set, the leader is handing leadership to this node and drops proposals. */
  leadTransferee = NONE;
  /**
   * Index of the last conf change proposed; a new one waits until this is applied (single-server
   * changes one at a time, thesis §4.1). Set to lastIndex on election, so a new leader first
   * commits an entry of its own term (the fix in Ongaro's 2015 raft-dev post).
   */
  pendingConfIndex = 0;
  private uncommittedSizeBytes = 0;
  private readonly readIndexRequests = new Map<string, ReadIndexRequest>();
  private readonly readIndexQueue: string[] = [];
  /** ReadIndex requests that arrived before this leader committed an entry of its term. */
  private pendingReadIndexMessages: Message[] = [];

  electionElapsed = 0;
  private heartbeatElapsed = 0;
  private randomizedElectionTimeout = 0;
  readonly electionTimeout: number;
  readonly heartbeatTimeout: number;
  readonly checkQuorum: boolean;
  readonly preVote: boolean;
  readonly readOnlyOption: ReadOnlyOption;
  private readonly msgSizeBytesMax: number;
  private readonly uncommittedEntriesBytesMax: number;
  private readonly learnerPromotionLagEntriesMax: number;
  private readonly random: RandomSource;

  constructor(c: RaftConfig) {
    assert(c.id !== NONE, "cannot use none as id");
    assert(c.heartbeatTicks > 0, "heartbeat tick must be greater than 0");
    assert(c.electionTicks > c.heartbeatTicks, "election tick must be greater than heartbeat tick");
    this.id = c.id;
    this.electionTimeout = c.electionTicks;
    this.heartbeatTimeout = c.heartbeatTicks;
    this.random = c.random;
    this.checkQuorum = c.checkQuorum ?? true;
    this.preVote = c.preVote ?? true;
    this.readOnlyOption = c.readOnlyOption ?? ReadOnlyOption.Safe;
    assert(this.readOnlyOption !== ReadOnlyOption.LeaseBased || this.checkQuorum, "lease-based reads require checkQuorum");
    this.msgSizeBytesMax = c.msgSizeBytesMax ?? 1024 * 1024;
    this.uncommittedEntriesBytesMax = c.uncommittedEntriesBytesMax ?? 0;
    this.learnerPromotionLagEntriesMax = c.learnerPromotionLagEntriesMax ?? 1000;
    this.log = new RaftLog(c.storage, c.committedEntriesBytesMax ?? 8 * 1024 * 1024);
    this.tracker = new ProgressTracker(c.inflightMessagesMax ?? 256, c.inflightBytesMax ?? 0);

    const { hardState, confState } = c.storage.initialState();
    this.applyConfState(confState);
    if (hardState.term !== 0 || hardState.vote !== NONE || hardState.commit !== 0) this.loadState(hardState);
    if (c.applied !== undefined && c.applied > 0) this.log.appliedTo(c.applied);
    this.becomeFollower(this.term, NONE);
  }

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.log.committed };
  }

  softState(): SoftState {
    return { lead: this.lead, state: this.state };
  }

  private loadState(hs: HardState): void {
    assert(
      hs.commit >= this.log.committed && hs.commit <= this.log.lastIndex(),
      `${this.id} state.commit ${hs.commit} is out of range [${this.log.committed}, ${this.log.lastIndex()}]`,
    );
    this.log.committed = hs.commit;
    this.term = hs.term;
    this.vote = hs.vote;
  }

  promotable(): boolean {
    return this.tracker.voters.has(this.id);
  }

  // ---- sending -----------------------------------------------------------------------------

  private send(m: Message): void {
    m.from = this.id;
    if (
      m.type === MessageType.MSG_VOTE ||
      m.type === MessageType.MSG_VOTE_RESP ||
      m.type === MessageType.MSG_PRE_VOTE ||
      m.type === MessageType.MSG_PRE_VOTE_RESP
    ) {
      // Vote messages carry the term they are about (for pre-votes, the future term).
      assert(m.term !== 0, `term should be set when sending ${MessageType[m.type]}`);
    } else {
      assert(m.term === 0, `term should not be set when sending ${MessageType[m.type]} (was ${m.term})`);
      // Proposals and ReadIndex requests are forwarded to the leader as local messages without a term.
      if (m.type !== MessageType.MSG_PROP && m.type !== MessageType.MSG_READ_INDEX) m.term = this.term;
    }
    this.msgs.push(m);
  }

  /** Sends an append (or a snapshot when the needed entries are compacted). Returns whether it sent. */
  private sendAppend(to: number, sendIfEmpty = true): boolean {
    const pr = this.tracker.progress.get(to);
    if (pr === undefined || pr.isPaused()) return false;
    const prevIndex = pr.next - 1;
    const prevTerm = this.log.termOrNull(prevIndex);
    let ents: Entry[] | null = null;
    if (prevTerm !== null) {
      try {
        ents = this.log.entriesFrom(pr.next, this.msgSizeBytesMax);
      } catch (err) {
        if (!(err instanceof CompactedError)) throw err;
      }
    }
    if (prevTerm === null || ents === null) return this.sendSnapshot(to, pr);
    if (ents.length === 0 && !sendIfEmpty) return false;
    let bytes = 0;
    for (const e of ents) bytes += entrySizeBytes(e);
    this.send(message({ type: MessageType.MSG_APP, to, index: prevIndex, logTerm: prevTerm, entries: ents, commit: this.log.committed }));
    pr.sentEntries(ents.length > 0 ? ents[ents.length - 1]!.index : prevIndex, ents.length, bytes);
    return true;
  }

  private sendSnapshot(to: number, pr: Progress): boolean {
    // A follower that has not answered recently may be down; do not ship a snapshot into the void.
    if (!pr.recentActive) return false;
    let snapshot: Snapshot;
    try {
      snapshot = this.log.snapshot();
    } catch (err) {
      if (err instanceof SnapshotTemporarilyUnavailableError) return false;
      throw err;
    }
    assert(snapshot.metadata.index !== 0, "need non-empty snapshot");
    const cs = snapshot.metadata.confState;
    if (!cs.voters.includes(to) && !cs.learners.includes(to)) {
      // The recipient would refuse a snapshot that predates its own addition. The application
      // takes a snapshot after applying a conf change that adds a member (see RawNode's contract),
      // so a usable one appears soon; until then, wait.
      return false;
    }
    pr.becomeSnapshot(snapshot.metadata.index);
    this.send(message({ type: MessageType.MSG_SNAP, to, snapshot }));
    return true;
  }

  private sendHeartbeat(to: number, context: Uint8Array): void {
    const pr = this.tracker.progress.get(to);
    // Never tell a follower to commit beyond what it is known to have (it may not have it yet).
    const commit = Math.min(pr?.match ?? 0, this.log.committed);
    this.send(message({ type: MessageType.MSG_HEARTBEAT, to, commit, context }));
  }

  private bcastAppend(): void {
    for (const id of this.tracker.progress.keys()) if (id !== this.id) this.sendAppend(id);
  }

  private bcastHeartbeat(context: Uint8Array = EMPTY_BYTES): void {
    for (const id of this.tracker.progress.keys()) if (id !== this.id) this.sendHeartbeat(id, context);
  }

  /** Advances the commit index from the quorum's matches. */
  private maybeCommit(): boolean {
    return this.log.maybeCommit(this.tracker.committed(), this.term);
  }

  // ---- role transitions ---------------------------------------------------------------------

  private reset(term: number): void {
    if (this.term !== term) {
      this.term = term;
      this.vote = NONE;
    }
    this.lead = NONE;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.resetRandomizedElectionTimeout();
    this.abortLeaderTransfer();
    this.tracker.resetVotes();
    const last = this.log.lastIndex();
    for (const [id, old] of this.tracker.progress) {
      const pr = new Progress(last + 1, this.tracker.inflightsMessagesMax, this.tracker.inflightsBytesMax, old.isLearner);
      if (id === this.id) pr.match = last;
      this.tracker.progress.set(id, pr);
    }
    this.pendingConfIndex = 0;
    this.uncommittedSizeBytes = 0;
    this.readIndexRequests.clear();
    this.readIndexQueue.length = 0;
    this.pendingReadIndexMessages = [];
  }

  private resetRandomizedElectionTimeout(): void {
    // Randomized in [electionTimeout, 2*electionTimeout) so that split votes resolve (Raft §5.2).
    this.randomizedElectionTimeout = this.electionTimeout + this.random.intn(this.electionTimeout);
  }

  becomeFollower(term: number, lead: number): void {
    this.reset(term);
    this.lead = lead;
    this.state = StateType.Follower;
  }

  private becomeCandidate(): void {
    assert(this.state !== StateType.Leader, "invalid transition [leader -> candidate]");
    this.reset(this.term + 1);
    this.vote = this.id;
    this.state = StateType.Candidate;
  }

  private becomePreCandidate(): void {
    assert(this.state !== StateType.Leader, "invalid transition [leader -> pre-candidate]");
    // A pre-candidate changes neither its term nor its vote (thesis §9.6); it only asks.
    this.tracker.resetVotes();
    this.lead = NONE;
    this.state = StateType.PreCandidate;
  }

  becomeLeader(): void {
    assert(this.state !== StateType.Follower, "invalid transition [follower -> leader]");
    this.reset(this.term);
    this.lead = this.id;
    this.state = StateType.Leader;
    this.tracker.progress.get(this.id)?.becomeReplicate();
    this.pendingConfIndex = this.log.lastIndex();
    // An empty entry of the new term: committing it commits everything before it (§5.4.2) and
    // tells this leader which of its entries are committed (needed before serving ReadIndex).
    const ok = this.appendEntries([{ term: 0, index: 0, type: EntryType.ENTRY_NORMAL, data: EMPTY_BYTES }]);
    assert(ok, "empty entry was dropped");
  }

  private hup(transfer: boolean): void {
    if (this.state === StateType.Leader) return;
    if (!this.promotable()) return;
    if (this.hasUnappliedConfChanges()) return; // our configuration may be about to change
    this.campaign(transfer ? "transfer" : this.preVote ? "pre-election" : "election");
  }

  private hasUnappliedConfChanges(): boolean {
    if (this.log.applied >= this.log.committed) return false;
    const lo = Math.max(this.log.applied + 1, this.log.firstIndex());
    const ents = this.log.slice(lo, this.log.committed + 1, Number.MAX_SAFE_INTEGER);
    return ents.some((e) => e.type === EntryType.ENTRY_CONF_CHANGE);
  }

  private campaign(kind: "pre-election" | "election" | "transfer"): void {
    let voteMsg: MessageType;
    let term: number;
    if (kind === "pre-election") {
      this.becomePreCandidate();
      voteMsg = MessageType.MSG_PRE_VOTE;
      term = this.term + 1; // the term we would campaign for
    } else {
      this.becomeCandidate();
      voteMsg = MessageType.MSG_VOTE;
      term = this.term;
    }
    if (this.poll(this.id, voteResponseType(voteMsg), true) === VoteResult.Won) {
      // A single-voter cluster wins at once.
      if (kind === "pre-election") this.campaign("election");
      else this.becomeLeader();
      return;
    }
    const context = kind === "transfer" ? CAMPAIGN_TRANSFER : EMPTY_BYTES;
    for (const id of [...this.tracker.voters].sort((a, b) => a - b)) {
      if (id === this.id) continue;
      this.send(message({ type: voteMsg, to: id, term, index: this.log.lastIndex(), logTerm: this.log.lastTerm(), context }));
    }
  }

  private poll(id: number, _t: MessageType, granted: boolean): VoteResult {
    this.tracker.recordVote(id, granted);
    return this.tracker.tallyVotes().result;
  }

  // ---- step ---------------------------------------------------------------------------------

  /** Feeds one message (local or from a peer) into the state machine. */
  step(m: Message): void {
    // Term handling first (Raft §5.1: a higher term always wins; a lower one is stale).
    if (m.term === 0) {
      // local message
    } else if (m.term > this.term) {
      if (m.type === MessageType.MSG_VOTE || m.type === MessageType.MSG_PRE_VOTE) {
        const force = bytesEqual(m.context, CAMPAIGN_TRANSFER);
        const inLease = this.checkQuorum && this.lead !== NONE && this.electionElapsed < this.electionTimeout;
        // Check-quorum: a follower that heard from a live leader recently ignores a disruptive
        // candidate (thesis §4.2.3), unless the leader itself asked for the transfer.
        if (!force && inLease) return;
      }
      if (m.type === MessageType.MSG_PRE_VOTE) {
        // Never change our term in response to a pre-vote.
      } else if (m.type === MessageType.MSG_PRE_VOTE_RESP && !m.reject) {
        // A granted pre-vote carries the future term; we bump our term only when we win.
      } else if (m.type === MessageType.MSG_APP || m.type === MessageType.MSG_HEARTBEAT || m.type === MessageType.MSG_SNAP) {
        this.becomeFollower(m.term, m.from);
      } else {
        this.becomeFollower(m.term, NONE);
      }
    } else if (m.term < this.term) {
      if ((this.checkQuorum || this.preVote) && (m.type === MessageType.MSG_HEARTBEAT || m.type === MessageType.MSG_APP)) {
        // A stale leader (e.g. healed from a partition) learns the new term from this response;
        // otherwise, with pre-vote or check-quorum, it could stay stuck with a lower term.
        this.send(message({ type: MessageType.MSG_APP_RESP, to: m.from }));
      } else if (m.type === MessageType.MSG_PRE_VOTE) {
        this.send(message({ type: MessageType.MSG_PRE_VOTE_RESP, to: m.from, term: this.term, reject: true }));
      }
      return;
    }

    switch (m.type) {
      case MessageType.MSG_HUP:
        this.hup(false);
        return;
      case MessageType.MSG_VOTE:
      case MessageType.MSG_PRE_VOTE: {
        // We can vote if we already voted for this candidate, or have not voted and know no
        // leader in this term, or it is a pre-vote for a future term.
        const canVote = this.vote === m.from || (this.vote === NONE && this.lead === NONE) || (m.type === MessageType.MSG_PRE_VOTE && m.term > this.term);
        if (canVote && this.log.isUpToDate(m.index, m.logTerm)) {
          // Granted pre-votes answer with the candidate's term so that it counts them (etcd does
          // the same); real votes reset our election timer and are persisted before sending.
          this.send(message({ type: voteResponseType(m.type), to: m.from, term: m.term }));
          if (m.type === MessageType.MSG_VOTE) {
            this.electionElapsed = 0;
            this.vote = m.from;
          }
        } else {
          this.send(message({ type: voteResponseType(m.type), to: m.from, term: this.term, reject: true }));
        }
        return;
      }
      default:
        switch (this.state) {
          case StateType.Leader:
            this.stepLeader(m);
            return;
          case StateType.Candidate:
          case StateType.PreCandidate:
            this.stepCandidate(m);
            return;
          case StateType.Follower:
            this.stepFollower(m);
            return;
        }
    }
  }

  private stepLeader(m: Message): void {
    switch (m.type) {
      case MessageType.MSG_BEAT:
        this.bcastHeartbeat();
        return;
      case MessageType.MSG_CHECK_QUORUM:
        if (!this.tracker.quorumActive(this.id)) {
          // Thesis §6.2: a leader that cannot reach a quorum steps down so clients go elsewhere.
          this.becomeFollower(this.term, NONE);
          return;
        }
        for (const [id, pr] of this.tracker.progress) if (id !== this.id) pr.recentActive = false;
        return;
      case MessageType.MSG_PROP:
        this.stepLeaderProposal(m);
        return;
      case MessageType.MSG_READ_INDEX:
        this.stepLeaderReadIndex(m);
        return;
      case MessageType.MSG_TRANSFER_LEADER:
        this.stepLeaderTransfer(m);
        return;
      default:
        break;
    }

    // Everything below is a response from a follower.
    const pr = this.tracker.progress.get(m.from);
    if (pr === undefined) return;
    switch (m.type) {
      case MessageType.MSG_APP_RESP:
        this.handleAppendResponse(m, pr);
        return;
      case MessageType.MSG_HEARTBEAT_RESP:
        pr.recentActive = true;
        pr.probeSent = false;
        // A full window may be full of lost messages: free one so that replication resumes.
        if (pr.state === ProgressState.Replicate && pr.inflights.full()) pr.inflights.freeFirstOne();
        if (pr.match < this.log.lastIndex()) this.sendAppend(m.from);
        if (this.readOnlyOption === ReadOnlyOption.Safe && m.context.length > 0) this.ackReadIndex(m.from, m.context);
        return;
      case MessageType.MSG_SNAP_STATUS:
        if (pr.state !== ProgressState.Snapshot) return;
        if (m.reject) pr.pendingSnapshot = 0;
        pr.becomeProbe();
        // Wait for a heartbeat response before probing: the snapshot may still be applying.
        pr.probeSent = true;
        return;
      case MessageType.MSG_UNREACHABLE:
        // An unreachable follower loses its optimistic window; probe again.
        if (pr.state === ProgressState.Replicate) pr.becomeProbe();
        return;
      default:
        return;
    }
  }

  private handleAppendResponse(m: Message, pr: Progress): void {
    pr.recentActive = true;
    if (m.reject) {
      let nextProbeIndex = m.rejectHint;
      if (m.logTerm > 0) {
        // Fast backtracking: skip every entry of ours whose term is above the follower's.
        nextProbeIndex = this.log.findConflictByTerm(m.rejectHint, m.logTerm).index;
      }
      if (pr.maybeDecrTo(m.index, nextProbeIndex)) {
        if (pr.state === ProgressState.Replicate) pr.becomeProbe();
        this.sendAppend(m.from);
      }
      return;
    }
    const oldPaused = pr.isPaused();
    if (!pr.maybeUpdate(m.index)) return;
    switch (pr.state) {
      case ProgressState.Probe:
        pr.becomeReplicate();
        break;
      case ProgressState.Snapshot:
        // The follower caught up past our first index: it can be served from the log again.
        if (pr.match + 1 >= this.log.firstIndex()) {
          pr.becomeProbe();
          pr.becomeReplicate();
        }
        break;
      case ProgressState.Replicate:
        pr.inflights.freeLE(m.index);
        break;
    }
    if (this.maybeCommit()) {
      this.releasePendingReadIndexMessages();
      this.bcastAppend();
    } else if (oldPaused) {
      this.sendAppend(m.from);
    }
    // Fill the window: send as many appends as flow control allows.
    while (this.sendAppend(m.from, false)) {
      // keep sending
    }
    if (m.from === this.leadTransferee && pr.match === this.log.lastIndex()) {
      this.send(message({ type: MessageType.MSG_TIMEOUT_NOW, to: m.from }));
    }
  }

  private stepLeaderProposal(m: Message): void {
    assert(m.entries.length > 0, "stepped empty MsgProp");
    if (!this.tracker.progress.has(this.id)) throw new ProposalDroppedError("this node was removed from the configuration");
    if (this.leadTransferee !== NONE) throw new ProposalDroppedError(`leadership is being transferred to ${this.leadTransferee}`);
    for (const e of m.entries) {
      if (e.type !== EntryType.ENTRY_CONF_CHANGE) continue;
      if (this.pendingConfIndex > this.log.applied) {
        throw new ProposalDroppedError(`a configuration change at index ${this.pendingConfIndex} is not applied yet (applied ${this.log.applied})`);
      }
      const cc = decodeConfChange(e.data);
      this.checkConfChange(cc);
    }
    const entries = m.entries.map((e) => ({ term: 0, index: 0, type: e.type, data: e.data }));
    if (!this.appendEntries(entries)) throw new ProposalDroppedError("too many uncommitted entry bytes");
    for (const e of entries) if (e.type === EntryType.ENTRY_CONF_CHANGE) this.pendingConfIndex = e.index;
    this.bcastAppend();
  }

  private checkConfChange(cc: ConfChange): void {
    assert(cc.nodeId !== NONE, "conf change for node 0");
    if (cc.type === ConfChangeType.ADD_VOTER && this.tracker.learners.has(cc.nodeId)) {
      // Thesis §4.2.1: a new server catches up as a non-voter before it counts toward quorums.
      const pr = this.tracker.progress.get(cc.nodeId);
      const lag = this.log.committed - (pr?.match ?? 0);
      if (lag > this.learnerPromotionLagEntriesMax) {
        throw new ProposalDroppedError(`learner ${cc.nodeId} is ${lag} entries behind and cannot be promoted yet`);
      }
    }
    if (cc.type === ConfChangeType.ADD_LEARNER && this.tracker.voters.has(cc.nodeId)) {
      throw new ProposalDroppedError(`node ${cc.nodeId} is a voter; demotion to learner is not supported`);
    }
    if (cc.type === ConfChangeType.REMOVE_NODE && this.tracker.voters.has(cc.nodeId) && this.tracker.voters.size === 1) {
      throw new ProposalDroppedError("cannot remove the last voter");
    }
  }

  private stepLeaderReadIndex(m: Message): void {
    if (this.tracker.isSingleton()) {
      // A lone voter is its own quorum.
      this.respondToReadIndex(m, this.log.committed);
      return;
    }
    // Thesis §6.4: the leader must know the commit index of its term before serving reads.
    if (!this.committedEntryInCurrentTerm()) {
      this.pendingReadIndexMessages.push(m);
      return;
    }
    this.sendReadIndex(m);
  }

  private sendReadIndex(m: Message): void {
    if (this.readOnlyOption === ReadOnlyOption.LeaseBased) {
      this.respondToReadIndex(m, this.log.committed);
      return;
    }
    const key = contextKey(m.context);
    if (!this.readIndexRequests.has(key)) {
      this.readIndexRequests.set(key, { index: this.log.committed, from: m.from, context: m.context, acks: new Set([this.id]) });
      this.readIndexQueue.push(key);
    }
    this.bcastHeartbeat(m.context);
  }

  private ackReadIndex(from: number, context: Uint8Array): void {
    const key = contextKey(context);
    const req = this.readIndexRequests.get(key);
    if (req === undefined) return;
    req.acks.add(from);
    let votersAcked = 0;
    for (const id of req.acks) if (this.tracker.voters.has(id)) votersAcked++;
    if (votersAcked < this.tracker.quorum()) return;
    // A quorum confirmed leadership at this point: every request queued up to this one is safe.
    let n = 0;
    for (const k of this.readIndexQueue) {
      n++;
      const r = this.readIndexRequests.get(k)!;
      this.readIndexRequests.delete(k);
      this.respondToReadIndex(message({ type: MessageType.MSG_READ_INDEX, from: r.from, context: r.context }), r.index);
      if (k === key) break;
    }
    this.readIndexQueue.splice(0, n);
  }

  private respondToReadIndex(req: Message, index: number): void {
    if (req.from === NONE || req.from === this.id) {
      this.readStates.push({ index, context: req.context });
    } else {
      this.send(message({ type: MessageType.MSG_READ_INDEX_RESP, to: req.from, index, context: req.context }));
    }
  }

  private committedEntryInCurrentTerm(): boolean {
    return this.log.zeroTermOnOutOfRange(this.log.committed) === this.term;
  }

  private releasePendingReadIndexMessages(): void {
    if (this.pendingReadIndexMessages.length === 0 || !this.committedEntryInCurrentTerm()) return;
    const pending = this.pendingReadIndexMessages;
    this.pendingReadIndexMessages = [];
    for (const m of pending) this.sendReadIndex(m);
  }

  private stepLeaderTransfer(m: Message): void {
    const transferee = m.from;
    const pr = this.tracker.progress.get(transferee);
    if (pr === undefined || pr.isLearner) return;
    if (this.leadTransferee !== NONE) {
      if (this.leadTransferee === transferee) return; // already in progress
      this.abortLeaderTransfer();
    }
    if (transferee === this.id) return;
    // Thesis §3.10: stop accepting proposals, bring the transferee up to date, then tell it to
    // campaign at once. Abandoned after an election timeout.
    this.electionElapsed = 0;
    this.leadTransferee = transferee;
    if (pr.match === this.log.lastIndex()) this.send(message({ type: MessageType.MSG_TIMEOUT_NOW, to: transferee }));
    else this.sendAppend(transferee);
  }

  private abortLeaderTransfer(): void {
    this.leadTransferee = NONE;
  }

  private stepCandidate(m: Message): void {
    const myVoteResp = this.state === StateType.PreCandidate ? MessageType.MSG_PRE_VOTE_RESP : MessageType.MSG_VOTE_RESP;
    switch (m.type) {
      case MessageType.MSG_PROP:
        throw new ProposalDroppedError("no leader (election in progress)");
      case MessageType.MSG_APP:
        this.becomeFollower(m.term, m.from);
        this.handleAppendEntries(m);
        return;
      case MessageType.MSG_HEARTBEAT:
        this.becomeFollower(m.term, m.from);
        this.handleHeartbeat(m);
        return;
      case MessageType.MSG_SNAP:
        this.becomeFollower(m.term, m.from);
        this.handleSnapshot(m);
        return;
      case myVoteResp: {
        const result = this.poll(m.from, m.type, !m.reject);
        if (result === VoteResult.Won) {
          if (this.state === StateType.PreCandidate) {
            this.campaign("election");
          } else {
            this.becomeLeader();
            this.bcastAppend();
          }
        } else if (result === VoteResult.Lost) {
          // A pre-candidate that lost stays in its term; a candidate already bumped it.
          this.becomeFollower(this.term, NONE);
        }
        return;
      }
      default:
        return;
    }
  }

  private stepFollower(m: Message): void {
    switch (m.type) {
      case MessageType.MSG_PROP:
        if (this.lead === NONE) throw new ProposalDroppedError("no leader");
        m.to = this.lead;
        this.forward(m);
        return;
      case MessageType.MSG_APP:
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleAppendEntries(m);
        return;
      case MessageType.MSG_HEARTBEAT:
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleHeartbeat(m);
        return;
      case MessageType.MSG_SNAP:
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleSnapshot(m);
        return;
      case MessageType.MSG_TRANSFER_LEADER:
        if (this.lead === NONE) return;
        m.to = this.lead;
        this.forward(m);
        return;
      case MessageType.MSG_TIMEOUT_NOW:
        // The leader chose us: campaign at once, without pre-vote, overriding leases.
        this.hup(true);
        return;
      case MessageType.MSG_READ_INDEX:
        if (this.lead === NONE) return;
        m.to = this.lead;
        this.forward(m);
        return;
      case MessageType.MSG_READ_INDEX_RESP:
        this.readStates.push({ index: m.index, context: m.context });
        return;
      default:
        return;
    }
  }

  /** Forwards a message to the leader unchanged (its term stays 0; `from` stays the originator's). */
  private forward(m: Message): void {
    const copy = { ...m, term: 0 };
    if (copy.from === NONE) copy.from = this.id;
    this.msgs.push(copy);
  }

  private handleAppendEntries(m: Message): void {
    if (m.index < this.log.committed) {
      this.send(message({ type: MessageType.MSG_APP_RESP, to: m.from, index: this.log.committed }));
      return;
    }
    const lastNew = this.log.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
    if (lastNew !== null) {
      this.send(message({ type: MessageType.MSG_APP_RESP, to: m.from, index: lastNew }));
      return;
    }
    // Reject with a hint: the largest index ≤ min(m.index, lastIndex) whose term ≤ m.logTerm, so
    // the leader can skip past a whole conflicting term at once.
    const hintIndex = Math.min(m.index, this.log.lastIndex());
    const hint = this.log.findConflictByTerm(hintIndex, m.logTerm);
    this.send(message({ type: MessageType.MSG_APP_RESP, to: m.from, index: m.index, reject: true, rejectHint: hint.index, logTerm: hint.term }));
  }

  private handleHeartbeat(m: Message): void {
    this.log.commitTo(m.commit);
    this.send(message({ type: MessageType.MSG_HEARTBEAT_RESP, to: m.from, context: m.context }));
  }

  private handleSnapshot(m: Message): void {
    const snapshot = m.snapshot;
    if (snapshot === null) return;
    if (this.restore(snapshot)) {
      this.send(message({ type: MessageType.MSG_APP_RESP, to: m.from, index: this.log.lastIndex() }));
    } else {
      this.send(message({ type: MessageType.MSG_APP_RESP, to: m.from, index: this.log.committed }));
    }
  }

  /** Installs a snapshot from the leader. Returns false if it is stale or already covered. */
  private restore(s: Snapshot): boolean {
    if (s.metadata.index <= this.log.committed) return false;
    if (this.state !== StateType.Follower) {
      // Defensive, as etcd: only followers restore; become one without changing the term.
      this.becomeFollower(this.term + 1, NONE);
      return false;
    }
    const cs = s.metadata.confState;
    if (!cs.voters.includes(this.id) && !cs.learners.includes(this.id)) return false;
    if (this.log.matchTerm(s.metadata.index, s.metadata.term)) {
      // We already have the snapshot's last entry: fast-forward the commit index instead.
      this.log.commitTo(s.metadata.index);
      return false;
    }
    this.log.restore(s);
    this.tracker.progress.clear();
    this.applyConfState(cs);
    return true;
  }

  // ---- configuration ------------------------------------------------------------------------

  private applyConfState(cs: ConfState): void {
    this.tracker.voters = new Set(cs.voters);
    this.tracker.learners = new Set(cs.learners);
    const next = this.log.lastIndex() + 1;
    for (const id of [...cs.voters, ...cs.learners]) {
      if (!this.tracker.progress.has(id)) {
        const pr = new Progress(next, this.tracker.inflightsMessagesMax, this.tracker.inflightsBytesMax, cs.learners.includes(id));
        if (id === this.id) pr.match = next - 1;
        this.tracker.progress.set(id, pr);
      }
    }
    this.isLearner = this.tracker.learners.has(this.id);
  }

  /** Applies a committed configuration change (called by the application as it applies it). */
  applyConfChange(cc: ConfChange): ConfState {
    const t = this.tracker;
    const id = cc.nodeId;
    switch (cc.type) {
      case ConfChangeType.ADD_VOTER: {
        t.learners.delete(id);
        t.voters.add(id);
        const pr = t.progress.get(id);
        if (pr !== undefined) pr.isLearner = false;
        else this.addProgress(id, false);
        break;
      }
      case ConfChangeType.ADD_LEARNER:
        if (t.voters.has(id)) break; // refused at proposal time; ignore if it slipped through
        t.learners.add(id);
        if (!t.progress.has(id)) this.addProgress(id, true);
        break;
      case ConfChangeType.REMOVE_NODE:
        t.voters.delete(id);
        t.learners.delete(id);
        t.progress.delete(id);
        if (this.leadTransferee === id) this.abortLeaderTransfer();
        break;
    }
    this.isLearner = t.learners.has(this.id);
    if (this.state === StateType.Leader) {
      // Contact a new member at once rather than at the next heartbeat (etcd does the same).
      if (cc.type !== ConfChangeType.REMOVE_NODE && id !== this.id) this.sendAppend(id);
      if (!t.voters.has(this.id)) {
        // A leader removed from the voters steps down; the rest elect a new one (thesis §4.2.2).
        this.becomeFollower(this.term, NONE);
      } else if (t.voters.size > 0 && this.maybeCommit()) {
        // A smaller quorum may commit more now.
        this.bcastAppend();
      }
    }
    return t.confState();
  }

  private addProgress(id: number, isLearner: boolean): void {
    const pr = new Progress(this.log.lastIndex() + 1, this.tracker.inflightsMessagesMax, this.tracker.inflightsBytesMax, isLearner);
    // Treat a new member as active so that the leader sends it a snapshot at once.
    pr.recentActive = true;
    this.tracker.progress.set(id, pr);
  }

  // ---- proposals and ticks ------------------------------------------------------------------

  /** Appends entries as the leader. Returns false (and appends nothing) if over the byte bound. */
  private appendEntries(es: Entry[]): boolean {
    let payload = 0;
    for (const e of es) payload += e.data.byteLength;
    if (
      this.uncommittedEntriesBytesMax > 0 &&
      payload > 0 &&
      this.uncommittedSizeBytes > 0 &&
      this.uncommittedSizeBytes + payload > this.uncommittedEntriesBytesMax
    ) {
      return false;
    }
    this.uncommittedSizeBytes += payload;
    const last = this.log.lastIndex();
    for (let i = 0; i < es.length; i++) {
      es[i]!.term = this.term;
      es[i]!.index = last + 1 + i;
    }
    const newLast = this.log.append(es);
    this.tracker.progress.get(this.id)?.maybeUpdate(newLast);
    this.maybeCommit();
    return true;
  }

  /** Called as committed entries are handed to the application. */
  reduceUncommittedSize(ents: Entry[]): void {
    if (this.uncommittedSizeBytes === 0) return;
    let payload = 0;
    for (const e of ents) payload += e.data.byteLength;
    this.uncommittedSizeBytes = Math.max(0, this.uncommittedSizeBytes - payload);
  }

  tick(): void {
    if (this.state === StateType.Leader) this.tickHeartbeat();
    else this.tickElection();
  }

  private tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      this.step(message({ type: MessageType.MSG_HUP, from: this.id }));
    }
  }

  private tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.electionTimeout) {
      this.electionElapsed = 0;
      if (this.checkQuorum) this.step(message({ type: MessageType.MSG_CHECK_QUORUM, from: this.id }));
      // A transfer that did not finish within an election timeout is abandoned.
      if (this.state === StateType.Leader && this.leadTransferee !== NONE) this.abortLeaderTransfer();
    }
    if (this.state !== StateType.Leader) return;
    if (this.heartbeatElapsed >= this.heartbeatTimeout) {
      this.heartbeatElapsed = 0;
      this.step(message({ type: MessageType.MSG_BEAT, from: this.id }));
    }
  }

  /** Responses from nodes we do not track are dropped by RawNode; this exposes the check. */
  knowsPeer(id: number): boolean {
    return this.tracker.progress.has(id);
  }
}

export { isResponseMessage };
