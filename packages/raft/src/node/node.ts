/**
 * RaftNode: the loop around the pure core that does the I/O, in the order the Ready contract
 * requires (see core/rawnode.ts): persist (one fsync per Ready) → send → apply → advance.
 *
 * Batching: proposals that arrive while a Ready is being persisted queue up, and the next turn
 * hands all of them to the core as one MsgProp — one append, one fsync and one message per
 * follower for the whole batch (group commit).
 *
 * The node does not know what the entries mean. The application supplies a StateMachine and
 * matches its own requests to applied entries (e.g. by an id inside the data), as etcd's server
 * does on top of etcd-io/raft.
 */
import { randomInt } from "node:crypto";
import { assert } from "../core/assert.js";
import { ProposalDroppedError, StateType, decodeConfChange, type ReadState } from "../core/raft.js";
import { SeededRandom, type RandomSource } from "../core/rand.js";
import { RawNode, type Ready, type Status } from "../core/rawnode.js";
import { ConfChangeType, type ConfChange, type ConfState, type Entry, EntryType, type Message, type SnapshotMetadata, isEmptySnapshot } from "../core/types.js";
import { silentLogger, type Logger } from "../logging.js";
import type { LogStore } from "../storage/log-store.js";
import type { Transport } from "../transport/transport.js";

export interface StateMachine {
  /**
   * Applies committed entries in log order. Empty entries (a new leader's no-op) are included so
   * that the state machine always knows its applied index. Conf change entries are applied by the
   * node and reported through confChanged.
   */
  apply(entries: Entry[]): void;
  /** The state at the last applied index, serialized, for a snapshot. */
  snapshot(): Uint8Array;
  /** Replaces the state with a snapshot's (at recovery, or sent by the leader). */
  restore(data: Uint8Array, metadata: SnapshotMetadata): void;
  confChanged?(change: ConfChange, confState: ConfState, index: number): void;
}

export interface RaftNodeOptions {
  id: number;
  logStore: LogStore;
  transport: Transport;
  stateMachine: StateMachine;
  /** Members of a new cluster; null when joining an existing one or restarting. */
  bootstrapConfState: ConfState | null;
  /** Wall-clock length of one tick (etcd's --heartbeat-interval with heartbeatTicks=1). */
  tickIntervalMs: number;
  electionTicks: number;
  heartbeatTicks?: number;
  /** Take a snapshot after this many applied entries (etcd's --snapshot-count). */
  snapshotEntriesMin?: number;
  /** Entries kept in the log behind a snapshot, for slow followers (etcd keeps 5000). */
  snapshotRetainEntries?: number;
  /** Proposals handed to the core in one batch. */
  proposalBatchEntriesMax?: number;
  /** Proposals waiting for the next batch; beyond this, propose() fails fast. */
  proposalQueueEntriesMax?: number;
  /** Messages received and not yet stepped; beyond this, arrivals are dropped (Raft tolerates it). */
  inboxMessagesMax?: number;
  readIndexTimeoutMs?: number;
  msgSizeBytesMax?: number;
  inflightMessagesMax?: number;
  preVote?: boolean;
  checkQuorum?: boolean;
  random?: RandomSource;
  logger?: Logger;
  /** Called on every change of leader or role. */
  onLeaderChange?: (leader: number, state: StateType, term: number) => void;
}

export class NodeStoppedError extends Error {
  override readonly name = "NodeStoppedError";
  constructor() {
    super("raft node is stopped");
  }
}

export class ProposalQueueFullError extends Error {
  override readonly name = "ProposalQueueFullError";
  constructor(limit: number) {
    super(`too many pending proposals (limit ${limit})`);
  }
}

export class ReadIndexTimeoutError extends Error {
  override readonly name = "ReadIndexTimeoutError";
  constructor(ms: number) {
    super(`linearizable read point not confirmed within ${ms} ms (no leader or no quorum)`);
  }
}

/** Counters for metrics (named after etcd's etcd_server_* where the meaning matches). */
export interface RaftNodeStats {
  proposalsCommitted: number;
  proposalsApplied: number;
  proposalsFailed: number;
  leaderChanges: number;
  readies: number;
  entriesPersisted: number;
  snapshotsTaken: number;
  snapshotsRestored: number;
  messagesDroppedInbox: number;
}

interface PendingProposal {
  data: Uint8Array;
  resolve: () => void;
  reject: (err: Error) => void;
}

interface PendingRead {
  context: Uint8Array;
  askedAtMs: number;
  /** Set once the core answered: the read may proceed when applied ≥ index. */
  index: number | null;
  resolve: () => void;
  reject: (err: Error) => void;
}

interface PendingConfChange {
  resolve: (cs: ConfState) => void;
  reject: (err: Error) => void;
}

const DEFAULTS = {
  heartbeatTicks: 1,
  snapshotEntriesMin: 10_000,
  snapshotRetainEntries: 5_000,
  proposalBatchEntriesMax: 4096,
  proposalQueueEntriesMax: 65_536,
  inboxMessagesMax: 16_384,
  readIndexTimeoutMs: 5_000,
} as const;

/** Bytes of the waiter token at the start of a ConfChange's context. */
const CONF_CHANGE_TOKEN_BYTES = 8;

function contextKey(ctx: Uint8Array): string {
  return Buffer.from(ctx.buffer, ctx.byteOffset, ctx.byteLength).toString("hex");
}

export class RaftNode {
  readonly id: number;
  private readonly raw: RawNode;
  private readonly opts: RaftNodeOptions;
  private readonly log: Logger;
  private readonly logStore: LogStore;
  private readonly transport: Transport;
  private readonly sm: StateMachine;

  private inbox: Message[] = [];
  private proposals: PendingProposal[] = [];
  private confChanges = new Map<string, PendingConfChange>();
  private reads = new Map<string, PendingRead>();
  private readSeq = 0;
  private ticksPending = 0;
  private unreachable = new Set<number>();
  private snapshotReports: Array<{ id: number; ok: boolean }> = [];

  private running = false;
  private loopDone: Promise<void> = Promise.resolve();
  private wakeUp: (() => void) | null = null;
  private ticker: NodeJS.Timeout | null = null;
  private applied = 0;
  private snapshotIndex = 0;
  private confState: ConfState = { voters: [], learners: [] };
  private memberAddedSinceSnapshot = false;
  private lead = 0;
  private role = StateType.Follower;
  private fatal: Error | null = null;

  readonly stats: RaftNodeStats = {
    proposalsCommitted: 0,
    proposalsApplied: 0,
    proposalsFailed: 0,
    leaderChanges: 0,
    readies: 0,
    entriesPersisted: 0,
    snapshotsTaken: 0,
    snapshotsRestored: 0,
    messagesDroppedInbox: 0,
  };

  private constructor(opts: RaftNodeOptions, raw: RawNode, applied: number, confState: ConfState) {
    this.id = opts.id;
    this.opts = opts;
    this.raw = raw;
    this.log = opts.logger ?? silentLogger;
    this.logStore = opts.logStore;
    this.transport = opts.transport;
    this.sm = opts.stateMachine;
    this.applied = applied;
    this.snapshotIndex = applied;
    this.confState = confState;
  }

  /**
   * Recovers (or bootstraps) and starts the node: restores the state machine from the newest
   * snapshot, then lets the core replay the committed log after it.
   */
  static async start(opts: RaftNodeOptions): Promise<RaftNode> {
    const storage = opts.logStore.storage;
    const fresh = storage.lastIndex() === 0 && isEmptySnapshot(storage.snapshot()) && storage.initialState().hardState.term === 0;
    if (fresh && opts.bootstrapConfState !== null) {
      // Every initial member writes the same bootstrap snapshot at index 1, term 1 holding the
      // initial configuration and the empty state, so they start identical.
      const cs = opts.bootstrapConfState;
      assert(cs.voters.includes(opts.id), `bootstrap configuration must include this member (${opts.id})`);
      const snapshot = { data: opts.stateMachine.snapshot(), metadata: { index: 1, term: 1, confState: cs } };
      await opts.logStore.persist({ term: 1, vote: 0, commit: 1 }, [], snapshot);
    }
    const snap = storage.snapshot();
    if (!isEmptySnapshot(snap)) opts.stateMachine.restore(snap.data, snap.metadata);
    const raw = new RawNode({
      id: opts.id,
      storage,
      electionTicks: opts.electionTicks,
      heartbeatTicks: opts.heartbeatTicks ?? DEFAULTS.heartbeatTicks,
      random: opts.random ?? new SeededRandom(randomInt(2 ** 31)),
      applied: snap.metadata.index,
      preVote: opts.preVote ?? true,
      checkQuorum: opts.checkQuorum ?? true,
      ...(opts.msgSizeBytesMax !== undefined ? { msgSizeBytesMax: opts.msgSizeBytesMax } : {}),
      ...(opts.inflightMessagesMax !== undefined ? { inflightMessagesMax: opts.inflightMessagesMax } : {}),
    });
    const node = new RaftNode(opts, raw, snap.metadata.index, storage.initialState().confState);
    await node.run();
    return node;
  }

  private async run(): Promise<void> {
    this.running = true;
    await this.transport.start({
      receive: (m) => {
        if (this.inbox.length >= (this.opts.inboxMessagesMax ?? DEFAULTS.inboxMessagesMax)) {
          this.stats.messagesDroppedInbox++;
          return;
        }
        this.inbox.push(m);
        this.wake();
      },
      reportUnreachable: (id) => {
        this.unreachable.add(id);
        this.wake();
      },
      reportSnapshot: (id, ok) => {
        this.snapshotReports.push({ id, ok });
        this.wake();
      },
    });
    this.ticker = setInterval(() => {
      // Ticks that pile up while the loop is busy (a long fsync) are applied later, at most an
      // election timeout's worth, so a stalled node does not fire a burst of elections.
      this.ticksPending = Math.min(this.ticksPending + 1, this.opts.electionTicks);
      this.wake();
    }, this.opts.tickIntervalMs);
    this.ticker.unref();
    this.loopDone = this.loop().catch((err: unknown) => {
      // An I/O failure (disk full, fsync error) or a broken invariant: stop rather than risk
      // acknowledging something that is not durable.
      this.fatal = err instanceof Error ? err : new Error(String(err));
      this.log.fatal({ err: this.fatal }, "raft node loop failed; stopping");
      this.failAll(this.fatal);
      this.running = false;
    });
  }

  private wake(): void {
    const w = this.wakeUp;
    if (w !== null) {
      this.wakeUp = null;
      w();
    }
  }

  private async loop(): Promise<void> {
    while (this.running) {
      this.drainInputs();
      if (this.raw.hasReady()) {
        await this.handleReady(this.raw.ready());
        continue;
      }
      this.expireReads();
      if (this.inbox.length > 0 || this.proposals.length > 0 || this.ticksPending > 0) continue;
      await new Promise<void>((resolve) => {
        this.wakeUp = resolve;
      });
    }
  }

  /** Feeds everything that arrived since the last turn into the core. */
  private drainInputs(): void {
    for (; this.ticksPending > 0; this.ticksPending--) this.raw.tick();
    const inbox = this.inbox;
    this.inbox = [];
    for (const m of inbox) this.raw.step(m);
    for (const id of this.unreachable) this.raw.reportUnreachable(id);
    this.unreachable.clear();
    for (const r of this.snapshotReports) this.raw.reportSnapshot(r.id, r.ok);
    this.snapshotReports = [];
    if (this.proposals.length > 0) {
      const batchMax = this.opts.proposalBatchEntriesMax ?? DEFAULTS.proposalBatchEntriesMax;
      const batch = this.proposals.length <= batchMax ? this.proposals : this.proposals.slice(0, batchMax);
      this.proposals = this.proposals.length <= batchMax ? [] : this.proposals.slice(batchMax);
      try {
        this.raw.propose(batch.map((p) => p.data));
        for (const p of batch) p.resolve();
      } catch (err) {
        if (!(err instanceof ProposalDroppedError)) throw err;
        this.stats.proposalsFailed += batch.length;
        for (const p of batch) p.reject(err);
      }
    }
  }

  private async handleReady(rd: Ready): Promise<void> {
    this.stats.readies++;
    // A leader may send before its own write (Raft thesis §10.2.1): its appends and heartbeats
    // do not depend on its durable state, and it counts itself toward a commit only for entries
    // in its log; followers' acknowledgements still come only after their own fsync. This takes
    // the leader's fsync off the commit path, as etcd does.
    const sentEarly = this.raw.isLeader() && rd.softState === null && rd.messages.length > 0;
    if (sentEarly) this.transport.send(rd.messages);
    // 1. Persist: nothing else in this Ready may leave the process before it is durable. A Ready
    // that only moves the commit index need not be fsynced (it can be relearned from the leader).
    if (rd.hardState !== null || rd.entries.length > 0 || rd.snapshot !== null) {
      await this.logStore.persist(rd.hardState, rd.entries, rd.snapshot, rd.mustSync);
      this.stats.entriesPersisted += rd.entries.length;
    }
    // 2. Send.
    if (!sentEarly && rd.messages.length > 0) this.transport.send(rd.messages);
    // 3. Apply.
    if (rd.snapshot !== null) {
      this.sm.restore(rd.snapshot.data, rd.snapshot.metadata);
      this.applied = rd.snapshot.metadata.index;
      this.snapshotIndex = rd.snapshot.metadata.index;
      this.confState = rd.snapshot.metadata.confState;
      this.stats.snapshotsRestored++;
      this.log.info({ index: rd.snapshot.metadata.index }, "restored snapshot from leader");
    }
    if (rd.committedEntries.length > 0) this.applyEntries(rd.committedEntries);
    for (const rs of rd.readStates) this.answerRead(rs);
    if (rd.softState !== null) this.noteSoftState(rd.softState.lead, rd.softState.state);
    // 4. Advance.
    this.raw.advance(rd);
    this.releaseReads();
    await this.maybeSnapshot();
  }

  private applyEntries(entries: Entry[]): void {
    let run: Entry[] = [];
    const flush = (): void => {
      if (run.length === 0) return;
      this.sm.apply(run);
      for (const e of run) if (e.data.length > 0) this.stats.proposalsApplied++;
      run = [];
    };
    for (const e of entries) {
      if (e.index <= this.applied) continue;
      if (e.type === EntryType.ENTRY_CONF_CHANGE) {
        flush();
        this.applyConfChangeEntry(e);
      } else {
        run.push(e);
      }
      this.applied = e.index;
    }
    flush();
    this.stats.proposalsCommitted = this.stats.proposalsApplied;
  }

  private applyConfChangeEntry(e: Entry): void {
    const cc = decodeConfChange(e.data);
    this.confState = this.raw.applyConfChange(cc);
    if (cc.type === ConfChangeType.ADD_LEARNER || cc.type === ConfChangeType.ADD_VOTER) this.memberAddedSinceSnapshot = true;
    this.log.info(
      { type: ConfChangeType[cc.type], node: cc.nodeId, index: e.index, voters: this.confState.voters, learners: this.confState.learners },
      "applied configuration change",
    );
    // Conf changes proposed through proposeConfChange carry a token before the payload; ones
    // written by other means (or older members) may be shorter.
    const hasToken = cc.context.byteLength >= CONF_CHANGE_TOKEN_BYTES;
    const payload = hasToken ? cc.context.subarray(CONF_CHANGE_TOKEN_BYTES) : cc.context;
    this.sm.confChanged?.({ ...cc, context: payload }, this.confState, e.index);
    const key = hasToken ? contextKey(cc.context.subarray(0, CONF_CHANGE_TOKEN_BYTES)) : "";
    const waiter = this.confChanges.get(key);
    if (waiter !== undefined) {
      this.confChanges.delete(key);
      waiter.resolve(this.confState);
    }
  }

  private noteSoftState(lead: number, state: StateType): void {
    if (lead !== this.lead) this.stats.leaderChanges++;
    this.lead = lead;
    this.role = state;
    this.log.info({ leader: lead, state, term: this.raw.raft.term }, "raft role changed");
    this.opts.onLeaderChange?.(lead, state, this.raw.raft.term);
    if (state !== StateType.Leader) {
      // Reads waiting for a leader's answer are asked again on the next turn via expireReads.
      for (const r of this.reads.values()) if (r.index === null) r.askedAtMs = 0;
    }
  }

  private async maybeSnapshot(): Promise<void> {
    const every = this.opts.snapshotEntriesMin ?? DEFAULTS.snapshotEntriesMin;
    if (this.applied <= this.snapshotIndex) return;
    // A new member can only accept a snapshot that includes it (see RawNode's contract).
    if (this.applied - this.snapshotIndex < every && !this.memberAddedSinceSnapshot) return;
    const data = this.sm.snapshot();
    await this.logStore.createSnapshot(this.applied, this.confState, data, this.opts.snapshotRetainEntries ?? DEFAULTS.snapshotRetainEntries);
    this.snapshotIndex = this.applied;
    this.memberAddedSinceSnapshot = false;
    this.stats.snapshotsTaken++;
    this.log.info({ index: this.applied, bytes: data.byteLength }, "took snapshot");
  }

  private answerRead(rs: ReadState): void {
    const read = this.reads.get(contextKey(rs.context));
    if (read !== undefined && read.index === null) read.index = rs.index;
  }

  private releaseReads(): void {
    for (const [key, r] of this.reads) {
      if (r.index !== null && this.applied >= r.index) {
        this.reads.delete(key);
        r.resolve();
      }
    }
  }

  private expireReads(): void {
    if (this.reads.size === 0) return;
    const now = performance.now();
    const timeoutMs = this.opts.readIndexTimeoutMs ?? DEFAULTS.readIndexTimeoutMs;
    const retryMs = this.opts.tickIntervalMs * this.opts.electionTicks;
    for (const [key, r] of this.reads) {
      if (r.index !== null) continue;
      if (now - r.askedAtMs > timeoutMs && r.askedAtMs !== 0) {
        this.reads.delete(key);
        r.reject(new ReadIndexTimeoutError(timeoutMs));
      } else if (now - r.askedAtMs > retryMs) {
        // The request may have been lost with a leader change: ask again with the same context.
        if (r.askedAtMs === 0) r.askedAtMs = now - retryMs;
        this.raw.readIndex(r.context);
      }
    }
    if (this.raw.hasReady()) this.wake();
  }

  private failAll(err: Error): void {
    for (const p of this.proposals) p.reject(err);
    this.proposals = [];
    for (const r of this.reads.values()) r.reject(err);
    this.reads.clear();
    for (const c of this.confChanges.values()) c.reject(err);
    this.confChanges.clear();
  }

  // ---- public API ---------------------------------------------------------------------------

  private checkRunning(): void {
    if (this.fatal !== null) throw this.fatal;
    if (!this.running) throw new NodeStoppedError();
  }

  /**
   * Queues data for the next batch. Resolves once the core accepted it (appended as leader, or
   * forwarded to the leader); rejects with ProposalDroppedError when there is no leader. The
   * application learns of the commit when the entry reaches StateMachine.apply.
   */
  propose(data: Uint8Array): Promise<void> {
    this.checkRunning();
    const max = this.opts.proposalQueueEntriesMax ?? DEFAULTS.proposalQueueEntriesMax;
    if (this.proposals.length >= max) return Promise.reject(new ProposalQueueFullError(max));
    return new Promise<void>((resolve, reject) => {
      this.proposals.push({ data, resolve, reject });
      this.wake();
    });
  }

  /**
   * Waits until this member's state machine reflects every write committed before the call:
   * the linearizable read point of ReadIndex (thesis §6.4), confirmed by a quorum.
   */
  readIndex(): Promise<void> {
    this.checkRunning();
    const ctx = new Uint8Array(12);
    const view = new DataView(ctx.buffer);
    view.setUint32(0, this.id >>> 0);
    view.setFloat64(4, ++this.readSeq);
    return new Promise<void>((resolve, reject) => {
      this.reads.set(contextKey(ctx), { context: ctx, askedAtMs: performance.now(), index: null, resolve, reject });
      this.raw.readIndex(ctx);
      this.wake();
    });
  }

  /**
   * Proposes a membership change; resolves with the new configuration once it is applied here.
   * `payload` travels in the ConfChange's context (etcd puts the new Member there) and reaches
   * StateMachine.confChanged unchanged; the node prefixes its own token to find the waiter.
   */
  proposeConfChange(type: ConfChangeType, nodeId: number, payload: Uint8Array = new Uint8Array(0)): Promise<ConfState> {
    this.checkRunning();
    const context = new Uint8Array(CONF_CHANGE_TOKEN_BYTES + payload.byteLength);
    new DataView(context.buffer).setFloat64(0, Math.random());
    context.set(payload, CONF_CHANGE_TOKEN_BYTES);
    const token = contextKey(context.subarray(0, CONF_CHANGE_TOKEN_BYTES));
    return new Promise<ConfState>((resolve, reject) => {
      this.confChanges.set(token, { resolve, reject });
      try {
        this.raw.proposeConfChange({ type, nodeId, context });
      } catch (err) {
        this.confChanges.delete(token);
        reject(err instanceof Error ? err : new Error(String(err)));
        return;
      }
      this.wake();
    });
  }

  transferLeadership(transferee: number): void {
    this.checkRunning();
    this.raw.transferLeadership(transferee);
    this.wake();
  }

  campaign(): void {
    this.checkRunning();
    this.raw.campaign();
    this.wake();
  }

  status(): Status {
    return this.raw.status();
  }

  isLeader(): boolean {
    return this.role === StateType.Leader;
  }

  leader(): number {
    return this.lead;
  }

  appliedIndex(): number {
    return this.applied;
  }

  configuration(): ConfState {
    return this.confState;
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    if (this.ticker !== null) clearInterval(this.ticker);
    this.wake();
    await this.loopDone;
    this.failAll(new NodeStoppedError());
    await this.transport.close();
    await this.logStore.close();
  }
}
