/**
 * The leader's view of each follower (etcd-io/raft's tracker package): how far its log matches,
 * what to send next, and how much may be in flight. Also quorum arithmetic over the voters.
 */
import { assert } from "./assert.js";
import type { ConfState } from "./types.js";

export enum ProgressState {
  /** Unknown match: send one append per heartbeat interval and wait for the answer. */
  Probe = "Probe",
  /** Match known: stream appends optimistically, bounded by Inflights. */
  Replicate = "Replicate",
  /** The follower needs a snapshot; nothing else is sent until it is applied or fails. */
  Snapshot = "Snapshot",
}

/**
 * A bounded window of in-flight appends (flow control). Each entry is the last index of an
 * append message and its size in bytes; acknowledgements free a prefix.
 */
export class Inflights {
  private readonly indexes: number[] = [];
  private readonly sizes: number[] = [];
  private start = 0;
  private count = 0;
  private bytes = 0;

  constructor(
    readonly messagesMax: number,
    readonly bytesMax: number,
  ) {
    assert(messagesMax > 0, "inflight window must allow at least one message");
  }

  add(index: number, sizeBytes: number): void {
    assert(!this.full(), "cannot add into a full inflights window");
    const slot = (this.start + this.count) % this.messagesMax;
    this.indexes[slot] = index;
    this.sizes[slot] = sizeBytes;
    this.count++;
    this.bytes += sizeBytes;
  }

  /** Frees every in-flight message whose last index is ≤ to. */
  freeLE(to: number): void {
    while (this.count > 0 && this.indexes[this.start]! <= to) {
      this.bytes -= this.sizes[this.start]!;
      this.start = (this.start + 1) % this.messagesMax;
      this.count--;
    }
    if (this.count === 0) this.start = 0;
  }

  /** Frees the oldest in-flight message (used when a heartbeat shows the follower is alive). */
  freeFirstOne(): void {
    if (this.count === 0) return;
    this.freeLE(this.indexes[this.start]!);
  }

  full(): boolean {
    return this.count === this.messagesMax || (this.bytesMax > 0 && this.bytes >= this.bytesMax);
  }

  get length(): number {
    return this.count;
  }

  reset(): void {
    this.start = 0;
    this.count = 0;
    this.bytes = 0;
  }
}

export class Progress {
  match = 0;
  next: number;
  state = ProgressState.Probe;
  /** In Snapshot state: the index of the snapshot being sent. */
  pendingSnapshot = 0;
  /** Heard from since the last check-quorum round. */
  recentActive = false;
  /** In Probe state: an append was sent and no answer came yet, so sending is paused. */
  probeSent = false;
  readonly inflights: Inflights;
  isLearner: boolean;

  constructor(next: number, inflightsMessagesMax: number, inflightsBytesMax: number, isLearner: boolean) {
    this.next = next;
    this.inflights = new Inflights(inflightsMessagesMax, inflightsBytesMax);
    this.isLearner = isLearner;
  }

  private resetState(state: ProgressState): void {
    this.probeSent = false;
    this.pendingSnapshot = 0;
    this.state = state;
    this.inflights.reset();
  }

  becomeProbe(): void {
    // After a snapshot, resume from the snapshot index if it is ahead of what matched.
    if (this.state === ProgressState.Snapshot) {
      const pending = this.pendingSnapshot;
      this.resetState(ProgressState.Probe);
      this.next = Math.max(this.match + 1, pending + 1);
    } else {
      this.resetState(ProgressState.Probe);
      this.next = this.match + 1;
    }
  }

  becomeReplicate(): void {
    this.resetState(ProgressState.Replicate);
    this.next = this.match + 1;
  }

  becomeSnapshot(snapshotIndex: number): void {
    this.resetState(ProgressState.Snapshot);
    this.pendingSnapshot = snapshotIndex;
  }

  /** Records that entries up to lastIndex were sent (bytes in flight for flow control). */
  sentEntries(lastIndex: number, count: number, bytes: number): void {
    switch (this.state) {
      case ProgressState.Replicate:
        if (count > 0) {
          this.next = lastIndex + 1;
          this.inflights.add(lastIndex, bytes);
        }
        break;
      case ProgressState.Probe:
        if (count > 0) this.probeSent = true;
        break;
      case ProgressState.Snapshot:
        assert(false, "sending entries to a follower in Snapshot state");
    }
  }

  /** An acknowledgement of entries up to n. Returns false if it is stale. */
  maybeUpdate(n: number): boolean {
    let updated = false;
    if (this.match < n) {
      this.match = n;
      updated = true;
      this.probeSent = false;
    }
    this.next = Math.max(this.next, n + 1);
    return updated;
  }

  /**
   * A rejection of the append at index rejected; matchHint is the follower's suggestion of where
   * its log could match. Returns false if the rejection is stale (out of order).
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === ProgressState.Replicate) {
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    // In Probe, only the answer to the last probe (at next-1) counts.
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1, 1);
    this.probeSent = false;
    return true;
  }

  /** Whether sending must wait (flow control). */
  isPaused(): boolean {
    switch (this.state) {
      case ProgressState.Probe:
        return this.probeSent;
      case ProgressState.Replicate:
        return this.inflights.full();
      case ProgressState.Snapshot:
        return true;
    }
  }

  toString(): string {
    return `${this.state} match=${this.match} next=${this.next}${this.isLearner ? " learner" : ""}${this.pendingSnapshot ? ` pendingSnap=${this.pendingSnapshot}` : ""}${this.isPaused() ? " paused" : ""} inflight=${this.inflights.length}`;
  }
}

export enum VoteResult {
  Pending = "Pending",
  Won = "Won",
  Lost = "Lost",
}

/** Progress of every member plus the votes of the current election. */
export class ProgressTracker {
  readonly progress = new Map<number, Progress>();
  voters = new Set<number>();
  learners = new Set<number>();
  readonly votes = new Map<number, boolean>();

  constructor(
    readonly inflightsMessagesMax: number,
    readonly inflightsBytesMax: number,
  ) {}

  confState(): ConfState {
    return { voters: [...this.voters].sort((a, b) => a - b), learners: [...this.learners].sort((a, b) => a - b) };
  }

  isSingleton(): boolean {
    return this.voters.size === 1;
  }

  quorum(): number {
    return Math.floor(this.voters.size / 2) + 1;
  }

  /**
   * The largest index stored on a quorum of voters (Raft §5.3/§5.4): the quorum-th highest match.
   */
  committed(): number {
    const n = this.voters.size;
    if (n === 0) return Number.MAX_SAFE_INTEGER; // an empty config commits nothing it can lose
    const matches: number[] = [];
    for (const id of this.voters) matches.push(this.progress.get(id)?.match ?? 0);
    matches.sort((a, b) => b - a);
    return matches[this.quorum() - 1]!;
  }

  recordVote(id: number, granted: boolean): void {
    if (!this.votes.has(id)) this.votes.set(id, granted);
  }

  resetVotes(): void {
    this.votes.clear();
  }

  tallyVotes(): { granted: number; rejected: number; result: VoteResult } {
    let granted = 0;
    let rejected = 0;
    for (const id of this.voters) {
      const v = this.votes.get(id);
      if (v === true) granted++;
      else if (v === false) rejected++;
    }
    const q = this.quorum();
    let result = VoteResult.Pending;
    if (granted >= q) result = VoteResult.Won;
    else if (this.voters.size - rejected < q) result = VoteResult.Lost;
    return { granted, rejected, result };
  }

  /** Check-quorum: did a quorum of voters (counting self) answer since the last round? */
  quorumActive(selfId: number): boolean {
    let active = 0;
    for (const id of this.voters) {
      if (id === selfId || this.progress.get(id)?.recentActive) active++;
    }
    return active >= this.quorum();
  }

  isVoter(id: number): boolean {
    return this.voters.has(id);
  }
}
