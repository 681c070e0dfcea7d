/**
 * RawNode: the Raft state machine behind the Ready/advance contract (etcd-io/raft rawnode.go).
 *
 * The caller loops:
 *   1. `if (node.hasReady()) rd = node.ready()`
 *   2. persist rd.hardState, rd.entries and rd.snapshot to stable storage — fsync if rd.mustSync —
 *      BEFORE sending anything: a vote or an acknowledgement must never outlive a crash that
 *      forgot it (Raft §5.1, Figure 2 "before responding to RPCs");
 *   3. send rd.messages;
 *   4. apply rd.snapshot (if any) and then rd.committedEntries, in order; for a conf change entry,
 *      call applyConfChange;
 *   5. `node.advance(rd)`.
 * The application also takes snapshots (MemoryStorage.createSnapshot) to bound the log, and must
 * take one after applying a conf change that adds a member: a new member starts empty and can
 * only accept a snapshot whose configuration includes it.
 * A second ready() before advance() is a programmer error and fails an assertion.
 */
import { assert } from "./assert.js";
import { ProposalDroppedError, Raft, type RaftConfig, type ReadState, type SoftState, StateType, encodeConfChange } from "./raft.js";
import { ProgressState } from "./progress.js";
import {
  type ConfChange,
  type ConfState,
  type Entry,
  EntryType,
  type HardState,
  type Message,
  MessageType,
  NONE,
  type Snapshot,
  hardStateEqual,
  isLocalMessage,
  isResponseMessage,
  message,
} from "./types.js";

export interface Ready {
  /** Changed volatile state (leader, role); null if unchanged. Not persisted. */
  softState: SoftState | null;
  /** Changed durable state to persist before sending; null if unchanged. */
  hardState: HardState | null;
  /** ReadIndex results: reads at or after `index` may be served once it is applied. */
  readStates: ReadState[];
  /** Entries to append to stable storage before sending. */
  entries: Entry[];
  /** A snapshot to persist and then apply; null if none. */
  snapshot: Snapshot | null;
  /** Committed entries to apply, in order, after persisting. */
  committedEntries: Entry[];
  /** Messages to send after persisting. */
  messages: Message[];
  /** Whether the persisted state must be fsynced (false only for a commit-index-only change). */
  mustSync: boolean;
}

export interface PeerStatus {
  match: number;
  next: number;
  state: ProgressState;
  isLearner: boolean;
  recentActive: boolean;
}

export interface Status {
  id: number;
  hardState: HardState;
  softState: SoftState;
  applied: number;
  leadTransferee: number;
  /** Only on the leader: each member's replication progress. */
  progress: Map<number, PeerStatus>;
  confState: ConfState;
}

export class RawNode {
  readonly raft: Raft;
  private prevSoftState: SoftState;
  private prevHardState: HardState;
  private readyOutstanding = false;

  constructor(config: RaftConfig) {
    this.raft = new Raft(config);
    this.prevSoftState = this.raft.softState();
    this.prevHardState = this.raft.hardState();
  }

  tick(): void {
    this.raft.tick();
  }

  /** Starts an election now (tests, and a single-node bootstrap). */
  campaign(): void {
    this.raft.step(message({ type: MessageType.MSG_HUP, from: this.raft.id }));
  }

  /**
   * Proposes entries as one batch: one append, one fsync and one message per follower for all of
   * them. Throws ProposalDroppedError when they cannot be appended here or forwarded.
   */
  propose(datas: Uint8Array[]): void {
    assert(datas.length > 0, "propose needs at least one entry");
    const entries = datas.map((data) => ({ term: 0, index: 0, type: EntryType.ENTRY_NORMAL, data }));
    this.raft.step(message({ type: MessageType.MSG_PROP, from: this.raft.id, entries }));
  }

  proposeConfChange(cc: ConfChange): void {
    const entries = [{ term: 0, index: 0, type: EntryType.ENTRY_CONF_CHANGE, data: encodeConfChange(cc) }];
    this.raft.step(message({ type: MessageType.MSG_PROP, from: this.raft.id, entries }));
  }

  applyConfChange(cc: ConfChange): ConfState {
    return this.raft.applyConfChange(cc);
  }

  /** Steps a message received from a peer. Local message types from the network are refused. */
  step(m: Message): void {
    if (isLocalMessage(m.type)) return;
    // Responses from peers we no longer track (e.g. just removed) are ignored.
    if (isResponseMessage(m.type) && !this.raft.knowsPeer(m.from)) return;
    try {
      this.raft.step(m);
    } catch (err) {
      // A proposal forwarded by a follower may be dropped here; the follower's client retries.
      if (!(err instanceof ProposalDroppedError)) throw err;
    }
  }

  /** Requests a linearizable read point; the answer arrives as a ReadState with this context. */
  readIndex(context: Uint8Array): void {
    this.raft.step(message({ type: MessageType.MSG_READ_INDEX, from: this.raft.id, entries: [], context }));
  }

  /** Asks the leader to hand leadership to transferee (thesis §3.10). */
  transferLeadership(transferee: number): void {
    this.raft.step(message({ type: MessageType.MSG_TRANSFER_LEADER, from: transferee }));
  }

  reportUnreachable(id: number): void {
    this.raft.step(message({ type: MessageType.MSG_UNREACHABLE, from: id }));
  }

  reportSnapshot(id: number, ok: boolean): void {
    this.raft.step(message({ type: MessageType.MSG_SNAP_STATUS, from: id, reject: !ok }));
  }

  hasReady(): boolean {
    const r = this.raft;
    const ss = r.softState();
    if (ss.lead !== this.prevSoftState.lead || ss.state !== this.prevSoftState.state) return true;
    const hs = r.hardState();
    if (!hardStateEqual(hs, this.prevHardState)) return true;
    if (r.log.hasPendingSnapshot()) return true;
    if (r.msgs.length > 0 || r.log.unstableEntries().length > 0 || r.log.hasNextCommittedEntries()) return true;
    return r.readStates.length > 0;
  }

  ready(): Ready {
    assert(!this.readyOutstanding, "ready() called again before advance()");
    this.readyOutstanding = true;
    const r = this.raft;
    const ss = r.softState();
    const hs = r.hardState();
    const softChanged = ss.lead !== this.prevSoftState.lead || ss.state !== this.prevSoftState.state;
    const hardChanged = !hardStateEqual(hs, this.prevHardState);
    const entries = r.log.unstableEntries().slice();
    const rd: Ready = {
      softState: softChanged ? ss : null,
      hardState: hardChanged ? hs : null,
      readStates: r.readStates,
      entries,
      snapshot: r.log.hasPendingSnapshot() ? r.log.unstable.snapshot : null,
      committedEntries: r.log.nextCommittedEntries(),
      messages: r.msgs,
      // Only a change of term or vote, or new entries, must hit the disk before sending; a new
      // commit index alone can be recovered from the leader (Raft §5.3).
      mustSync: entries.length > 0 || hs.term !== this.prevHardState.term || hs.vote !== this.prevHardState.vote,
    };
    r.msgs = [];
    r.readStates = [];
    if (softChanged) this.prevSoftState = ss;
    return rd;
  }

  advance(rd: Ready): void {
    assert(this.readyOutstanding, "advance() without a ready()");
    this.readyOutstanding = false;
    const r = this.raft;
    if (rd.hardState !== null) this.prevHardState = rd.hardState;
    if (rd.entries.length > 0) {
      const last = rd.entries[rd.entries.length - 1]!;
      r.log.stableTo(last.index, last.term);
    }
    if (rd.snapshot !== null) r.log.stableSnapTo(rd.snapshot.metadata.index);
    if (rd.committedEntries.length > 0) {
      const last = rd.committedEntries[rd.committedEntries.length - 1]!;
      r.log.appliedTo(last.index);
      r.reduceUncommittedSize(rd.committedEntries);
    } else if (rd.snapshot !== null) {
      // Applying a snapshot applies everything up to its index.
      if (rd.snapshot.metadata.index > r.log.applied) r.log.applied = rd.snapshot.metadata.index;
    }
  }

  status(): Status {
    const r = this.raft;
    const progress = new Map<number, PeerStatus>();
    if (r.state === StateType.Leader) {
      for (const [id, pr] of r.tracker.progress) {
        progress.set(id, { match: pr.match, next: pr.next, state: pr.state, isLearner: pr.isLearner, recentActive: pr.recentActive });
      }
    }
    return {
      id: r.id,
      hardState: r.hardState(),
      softState: r.softState(),
      applied: r.log.applied,
      leadTransferee: r.leadTransferee,
      progress,
      confState: r.tracker.confState(),
    };
  }

  isLeader(): boolean {
    return this.raft.state === StateType.Leader;
  }

  leader(): number {
    return this.raft.lead;
  }

  hasLeader(): boolean {
    return this.raft.lead !== NONE;
  }
}
