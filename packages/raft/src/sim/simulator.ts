/**
 * Deterministic simulation of a Raft cluster (in the spirit of TigerBeetle's VOPR and FoundationDB's
 * simulator). Everything — message delay, loss, duplication, reordering, partitions, crashes that
 * lose unsynced state, restarts, membership changes, leadership transfers, compaction and reads — is
 * drawn from one seeded generator over a virtual clock, so a seed replays a run exactly.
 *
 * After every step the invariants of the Raft paper (Figure 3) are checked:
 *   - election safety: at most one leader per term;
 *   - log matching: an (index, term) pair identifies one entry and the same predecessor term,
 *     hence identical prefixes;
 *   - leader completeness: a new leader holds every entry known to be committed;
 *   - state machine safety: every node applies the same entry at the same index, and snapshots
 *     carry the same state;
 *   - read safety: a ReadIndex answer covers every write committed before the read was asked;
 *   - durability: a node's persisted term never decreases and its vote never changes within a term.
 * Finally the network heals, every node restarts, and the cluster must elect a leader and commit a
 * new entry on every member within a bounded number of ticks (liveness).
 */
import { AssertionFailure, assert } from "../core/assert.js";
import { ProposalDroppedError, StateType, decodeConfChange } from "../core/raft.js";
import { SeededRandom } from "../core/rand.js";
import { RawNode, type Ready } from "../core/rawnode.js";
import { MemoryStorage } from "../core/storage.js";
import { ConfChangeType, type ConfState, type Entry, EntryType, type Message, MessageType, type Snapshot } from "../core/types.js";

export interface SimOptions {
  seed: number;
  /** Initial voters (3 or 5). */
  clusterSize: number;
  /** Steps (ticks) of faults before the final heal. */
  chaosSteps: number;
  /** Ticks allowed after healing to elect a leader and commit on every member. */
  livenessTicksMax: number;
  electionTicks: number;
  heartbeatTicks: number;
  /** Called with a line of text for each notable event (verbose replay). */
  trace?: (line: string) => void;
}

export class InvariantViolation extends Error {
  override readonly name = "InvariantViolation";
}

export interface SimResult {
  seed: number;
  steps: number;
  committed: number;
  elections: number;
  crashes: number;
  snapshotsSent: number;
  confChanges: number;
  transfers: number;
  reads: number;
  messagesDelivered: number;
}

interface InFlight {
  deliverAt: number;
  seq: number;
  message: Message;
}

const textDecoder = new TextDecoder();
const textEncoder = new TextEncoder();

/** The replicated application: a rolling hash of every applied normal entry. */
interface AppState {
  index: number;
  hash: number;
  confState: ConfState;
  removed: number[];
}

function hashStep(hash: number, data: Uint8Array): number {
  let h = hash ^ 0x9e3779b9;
  for (let i = 0; i < data.length; i++) h = Math.imul(h ^ data[i]!, 0x01000193) >>> 0;
  return h >>> 0;
}

function encodeApp(s: AppState): Uint8Array {
  return textEncoder.encode(JSON.stringify(s));
}

function decodeApp(data: Uint8Array): AppState {
  return JSON.parse(textDecoder.decode(data)) as AppState;
}

function entryKey(e: Entry): string {
  return `${e.type}:${textDecoder.decode(e.data)}`;
}

class SimNode {
  /** What survived fsync: the node's disk. */
  readonly disk = new MemoryStorage();
  raft: RawNode | null = null;
  app: AppState;
  /** Persisted (term, vote) as last written, for the durability invariant. */
  persistedTerm = 0;
  persistedVote = 0;
  shutDown = false;

  constructor(
    readonly id: number,
    initial: AppState,
  ) {
    this.app = initial;
  }

  get up(): boolean {
    return this.raft !== null;
  }
}

export class Simulation {
  private readonly rng: SeededRandom;
  private readonly nodes = new Map<number, SimNode>();
  private network: InFlight[] = [];
  private seq = 0;
  private now = 0;
  private nextNodeId: number;
  private proposalSeq = 0;
  private partition: Map<number, number> | null = null;
  private dropRate: number;
  private dupRate: number;
  private delayTicksMax: number;
  private healing = false;
  private readonly msgSizeBytesMax: number;

  // Invariant bookkeeping.
  private readonly leaderOfTerm = new Map<number, number>();
  private readonly entryAt = new Map<string, string>();
  private readonly appliedAt = new Map<number, { key: string; term: number }>();
  private readonly appStateAt = new Map<number, number>();
  private maxApplied = 0;
  private readonly pendingReads = new Map<string, { node: number; committedBefore: number }>();
  private readSeq = 0;

  readonly stats: SimResult;

  constructor(private readonly opts: SimOptions) {
    this.rng = new SeededRandom(opts.seed);
    this.stats = {
      seed: opts.seed,
      steps: 0,
      committed: 0,
      elections: 0,
      crashes: 0,
      snapshotsSent: 0,
      confChanges: 0,
      transfers: 0,
      reads: 0,
      messagesDelivered: 0,
    };
    // Each seed draws its own network weather.
    this.dropRate = this.rng.float() * 0.15;
    this.dupRate = this.rng.float() * 0.05;
    this.delayTicksMax = this.rng.intn(4);
    // From one entry per append up to many.
    this.msgSizeBytesMax = [1, 64, 256, 4096][this.rng.intn(4)]!;
    const voters = Array.from({ length: opts.clusterSize }, (_, i) => i + 1);
    this.nextNodeId = opts.clusterSize + 1;
    // Bootstrap: every initial member starts from the same snapshot at index 1 holding the
    // initial configuration (members added later start empty and receive a snapshot).
    const initial: AppState = { index: 1, hash: 0, confState: { voters, learners: [] }, removed: [] };
    for (const id of voters) {
      const n = new SimNode(id, { ...initial, confState: { voters: [...voters], learners: [] } });
      n.disk.applySnapshot({ data: encodeApp(initial), metadata: { index: 1, term: 1, confState: { voters: [...voters], learners: [] } } });
      n.disk.setHardState({ term: 1, vote: 0, commit: 1 });
      n.persistedTerm = 1;
      this.nodes.set(id, n);
      this.start(n);
    }
  }

  private trace(line: string): void {
    this.opts.trace?.(`[t=${this.now}] ${line}`);
  }

  private fail(what: string): never {
    throw new InvariantViolation(`seed ${this.opts.seed} t=${this.now}: ${what}`);
  }

  private start(n: SimNode): void {
    const snap = n.disk.snapshot();
    n.app = snap.metadata.index > 0 ? decodeApp(snap.data) : { index: 0, hash: 0, confState: { voters: [], learners: [] }, removed: [] };
    n.raft = new RawNode({
      id: n.id,
      storage: n.disk,
      electionTicks: this.opts.electionTicks,
      heartbeatTicks: this.opts.heartbeatTicks,
      random: new SeededRandom(this.rng.nextUint32()),
      applied: snap.metadata.index,
      msgSizeBytesMax: this.msgSizeBytesMax,
      inflightMessagesMax: 4,
      preVote: true,
      checkQuorum: true,
    });
  }

  private crash(n: SimNode): void {
    this.trace(`crash ${n.id}`);
    n.raft = null;
    this.stats.crashes++;
  }

  private liveNodes(): SimNode[] {
    return [...this.nodes.values()].filter((n) => n.up);
  }

  private leader(): SimNode | null {
    let best: SimNode | null = null;
    for (const n of this.liveNodes()) {
      if (n.raft!.isLeader() && (best === null || n.raft!.raft.term > best.raft!.raft.term)) best = n;
    }
    return best;
  }

  private connected(a: number, b: number): boolean {
    if (this.partition === null) return true;
    return (this.partition.get(a) ?? 0) === (this.partition.get(b) ?? 0);
  }

  // ---- the run ------------------------------------------------------------------------------

  run(): SimResult {
    try {
      for (let i = 0; i < this.opts.chaosSteps; i++) {
        this.chaos();
        this.step();
      }
      this.heal();
      this.checkLiveness();
    } catch (err) {
      if (err instanceof InvariantViolation) throw err;
      if (err instanceof AssertionFailure) this.fail(`assertion failed: ${err.message}`);
      throw err;
    }
    return this.stats;
  }

  private chaos(): void {
    const r = this.rng;
    const all = [...this.nodes.values()].filter((n) => !n.shutDown);
    if (r.chance(0.35)) this.propose(r.chance(0.8));
    if (this.partition === null && r.chance(0.015)) {
      // Half the time the leader is cut off alone (the classic stale-leader case), else a random split.
      const leader = this.leader();
      this.partition = new Map(all.map((n) => [n.id, leader !== null && r.chance(0.5) ? (n.id === leader.id ? 1 : 0) : r.intn(2)]));
      this.trace(`partition ${[...this.partition].map(([id, side]) => `${id}:${side}`).join(" ")}`);
    } else if (this.partition !== null && r.chance(0.03)) {
      this.partition = null;
      this.trace("heal partition");
    }
    for (const n of all) {
      if (n.up && r.chance(0.004)) this.crash(n);
      else if (!n.up && r.chance(0.05)) {
        this.trace(`restart ${n.id}`);
        this.start(n);
      }
      if (n.up && r.chance(0.01)) this.compact(n);
    }
    if (r.chance(0.006)) this.changeMembership();
    if (r.chance(0.004)) this.transferLeadership();
    if (r.chance(0.15)) this.requestRead();
  }

  private heal(): void {
    this.healing = true;
    this.partition = null;
    this.dropRate = 0;
    this.dupRate = 0;
    // A healed network behaves like the real transport: no loss, in order, prompt.
    this.delayTicksMax = 0;
    for (const n of this.nodes.values()) {
      if (!n.up && !n.shutDown) {
        this.trace(`restart ${n.id} (heal)`);
        this.start(n);
      }
    }
    this.trace("healed");
  }

  private checkLiveness(): void {
    const deadline = this.now + this.opts.livenessTicksMax;
    let marker: string | null = null;
    let markerIndex = 0;
    while (this.now < deadline) {
      const leader = this.leader();
      if (leader !== null && marker === null && leader.raft!.raft.log.committed >= leader.raft!.raft.log.lastIndex()) {
        marker = `liveness-${this.opts.seed}`;
        try {
          leader.raft!.propose([textEncoder.encode(marker)]);
          markerIndex = leader.raft!.raft.log.lastIndex();
        } catch (err) {
          if (!(err instanceof ProposalDroppedError)) throw err;
          marker = null;
        }
      }
      this.step();
      if (marker !== null && markerIndex > 0) {
        const members = this.currentVoters();
        const done = members.every((id) => {
          const n = this.nodes.get(id);
          return n !== undefined && n.up && n.app.index >= markerIndex;
        });
        if (done && this.appliedAt.get(markerIndex)?.key === `${EntryType.ENTRY_NORMAL}:${marker}`) return;
        if (done) {
          // The marker was overwritten by a new leader before committing; propose again.
          marker = null;
        }
      }
    }
    this.fail(`liveness: no leader committed a new entry on every voter within ${this.opts.livenessTicksMax} ticks after healing`);
  }

  /** The voters of the most advanced applied configuration. */
  private currentVoters(): number[] {
    let best: AppState | null = null;
    for (const n of this.nodes.values()) if (!n.shutDown && (best === null || n.app.index > best.index)) best = n.app;
    return best?.confState.voters ?? [];
  }

  // ---- actions ------------------------------------------------------------------------------

  private propose(toLeader: boolean): void {
    const live = this.liveNodes();
    if (live.length === 0) return;
    const target = toLeader ? (this.leader() ?? live[this.rng.intn(live.length)]!) : live[this.rng.intn(live.length)]!;
    const count = 1 + this.rng.intn(4);
    const datas = Array.from({ length: count }, () => textEncoder.encode(`p${++this.proposalSeq}`));
    try {
      target.raft!.propose(datas);
    } catch (err) {
      if (!(err instanceof ProposalDroppedError)) throw err;
    }
  }

  private compact(n: SimNode, force = false): void {
    // Snapshot at the applied index and keep a few entries behind it, as a real store does.
    const applied = n.app.index;
    const snapIndex = n.disk.snapshot().metadata.index;
    if (applied <= snapIndex + (force ? 0 : 2)) return;
    const snap = n.disk.createSnapshot(applied, n.app.confState, encodeApp(n.app));
    const keep = this.rng.intn(3);
    if (applied - keep > n.disk.firstIndex()) n.disk.compact(applied - keep);
    this.trace(`compact ${n.id} at ${snap.metadata.index}`);
  }

  private changeMembership(): void {
    const leader = this.leader();
    if (leader === null) return;
    const conf = leader.raft!.raft.tracker.confState();
    const r = this.rng;
    let type: ConfChangeType;
    let nodeId: number;
    if (conf.learners.length > 0 && r.chance(0.6)) {
      type = ConfChangeType.ADD_VOTER;
      nodeId = conf.learners[r.intn(conf.learners.length)]!;
    } else if (conf.voters.length > 3 || (conf.voters.length === 3 && r.chance(0.3))) {
      type = ConfChangeType.REMOVE_NODE;
      nodeId = conf.voters[r.intn(conf.voters.length)]!;
    } else if (this.nextNodeId <= 12) {
      type = ConfChangeType.ADD_LEARNER;
      nodeId = this.nextNodeId++;
      // The new member's process starts empty; it learns everything from the leader's snapshot.
      const n = new SimNode(nodeId, { index: 0, hash: 0, confState: { voters: [], learners: [] }, removed: [] });
      this.nodes.set(nodeId, n);
      this.start(n);
    } else {
      return;
    }
    try {
      leader.raft!.proposeConfChange({ type, nodeId, context: new Uint8Array(0) });
      this.trace(`propose conf change ${ConfChangeType[type]} ${nodeId} at leader ${leader.id}`);
    } catch (err) {
      if (!(err instanceof ProposalDroppedError)) throw err;
    }
  }

  private transferLeadership(): void {
    const leader = this.leader();
    if (leader === null) return;
    const voters = leader.raft!.raft.tracker.confState().voters.filter((id) => id !== leader.id);
    if (voters.length === 0) return;
    const target = voters[this.rng.intn(voters.length)]!;
    this.trace(`transfer leadership ${leader.id} -> ${target}`);
    leader.raft!.transferLeadership(target);
    this.stats.transfers++;
  }

  private requestRead(): void {
    const live = this.liveNodes();
    if (live.length === 0) return;
    // Half the reads go to a node that believes it leads (possibly a deposed one).
    const leaders = live.filter((x) => x.raft!.isLeader());
    const pool = leaders.length > 0 && this.rng.chance(0.5) ? leaders : live;
    const n = pool[this.rng.intn(pool.length)]!;
    const key = `read-${++this.readSeq}`;
    // Every entry applied anywhere so far was committed before this read began.
    this.pendingReads.set(key, { node: n.id, committedBefore: this.maxApplied });
    n.raft!.readIndex(textEncoder.encode(key));
  }

  // ---- one step of virtual time -------------------------------------------------------------

  private step(): void {
    this.now++;
    this.stats.steps++;
    this.deliverDue();
    for (const n of this.shuffled(this.liveNodes())) this.processReady(n);
    for (const n of this.liveNodes()) {
      // Clocks drift: a node occasionally misses a tick.
      if (this.healing || !this.rng.chance(0.05)) n.raft!.tick();
    }
    for (const n of this.shuffled(this.liveNodes())) this.processReady(n);
  }

  private shuffled<T>(xs: T[]): T[] {
    for (let i = xs.length - 1; i > 0; i--) {
      const j = this.rng.intn(i + 1);
      [xs[i], xs[j]] = [xs[j]!, xs[i]!];
    }
    return xs;
  }

  private deliverDue(): void {
    const due = this.network.filter((f) => f.deliverAt <= this.now);
    if (due.length === 0) return;
    this.network = this.network.filter((f) => f.deliverAt > this.now);
    // Same-tick messages arrive in any order (reordering), except on a healed network.
    const ordered = this.healing ? due.sort((a, b) => a.seq - b.seq) : this.shuffled(due);
    for (const f of ordered) {
      const m = f.message;
      const to = this.nodes.get(m.to);
      if (to === undefined || !to.up || to.shutDown) continue;
      if (!this.connected(m.from, m.to)) continue;
      // Like etcd's transport, a member refuses traffic from members it knows were removed.
      if (to.app.removed.includes(m.from)) continue;
      this.stats.messagesDelivered++;
      to.raft!.step(m);
      this.processReady(to);
    }
  }

  private send(m: Message): void {
    if (!this.connected(m.from, m.to)) return;
    if (this.rng.chance(this.dropRate)) {
      if (m.type === MessageType.MSG_SNAP) this.reportSnapshot(m, false);
      return;
    }
    const copies = this.rng.chance(this.dupRate) ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      this.network.push({ deliverAt: this.now + this.rng.intn(this.delayTicksMax + 1), seq: this.seq++, message: m });
    }
    if (m.type === MessageType.MSG_SNAP) {
      this.stats.snapshotsSent++;
      this.reportSnapshot(m, true);
    }
  }

  private reportSnapshot(m: Message, ok: boolean): void {
    const from = this.nodes.get(m.from);
    if (from?.up) from.raft!.reportSnapshot(m.to, ok);
  }

  /** The node loop: persist, then send, then apply, then advance — possibly crashing in between. */
  private processReady(n: SimNode): void {
    for (let rounds = 0; n.up && n.raft!.hasReady(); rounds++) {
      assert(rounds < 1000, "ready loop does not converge");
      const node = n.raft!;
      const rd = node.ready();
      this.checkSoftState(n, rd);
      // As RaftNode does, a leader sends before its own write (thesis §10.2.1).
      const sentEarly = node.isLeader() && rd.softState === null;
      if (sentEarly) for (const m of rd.messages) this.send(m);
      // A crash here loses everything in the Ready that was not sent: nothing was persisted.
      if (!this.healing && this.rng.chance(0.002)) {
        this.crash(n);
        return;
      }
      this.persist(n, rd);
      if (!sentEarly) for (const m of rd.messages) this.send(m);
      if (rd.snapshot !== null) this.applySnapshot(n, rd.snapshot);
      let addedMember = false;
      for (const e of rd.committedEntries) addedMember = this.apply(n, e) || addedMember;
      for (const rs of rd.readStates) this.checkRead(n, rs.index, rs.context);
      node.advance(rd);
      // The contract: a snapshot that includes a newly added member, so it can be caught up.
      if (addedMember) this.compact(n, true);
      if (n.app.removed.includes(n.id) && !n.shutDown) {
        // A member that applied its own removal shuts down, as an etcd member does.
        this.trace(`node ${n.id} removed; shutting down`);
        n.shutDown = true;
        n.raft = null;
        return;
      }
    }
  }

  private persist(n: SimNode, rd: Ready): void {
    if (rd.snapshot !== null) n.disk.applySnapshot(rd.snapshot);
    if (rd.entries.length > 0) {
      n.disk.append(rd.entries);
      for (const e of rd.entries) this.checkLogMatching(n, e);
    }
    if (rd.hardState !== null) {
      const hs = rd.hardState;
      if (hs.term < n.persistedTerm) this.fail(`node ${n.id} persisted term went back from ${n.persistedTerm} to ${hs.term}`);
      if (hs.term === n.persistedTerm && n.persistedVote !== 0 && hs.vote !== n.persistedVote) {
        this.fail(`node ${n.id} changed its vote in term ${hs.term} from ${n.persistedVote} to ${hs.vote}`);
      }
      n.persistedTerm = hs.term;
      n.persistedVote = hs.vote;
      n.disk.setHardState(hs);
    }
  }

  private checkSoftState(n: SimNode, rd: Ready): void {
    if (rd.softState === null || rd.softState.state !== StateType.Leader) return;
    const term = n.raft!.raft.term;
    const prev = this.leaderOfTerm.get(term);
    if (prev !== undefined && prev !== n.id) this.fail(`election safety: ${prev} and ${n.id} both led term ${term}`);
    if (prev === undefined) {
      this.leaderOfTerm.set(term, n.id);
      this.stats.elections++;
      this.trace(`node ${n.id} is leader of term ${term}`);
    }
    // Leader completeness: every entry known committed must be in the new leader's log.
    const log = n.raft!.raft.log;
    if (log.lastIndex() < this.maxApplied)
      this.fail(`leader completeness: leader ${n.id} of term ${term} ends at ${log.lastIndex()} < committed ${this.maxApplied}`);
    for (let i = Math.max(log.firstIndex(), 2); i <= this.maxApplied; i++) {
      const want = this.appliedAt.get(i);
      if (want !== undefined && log.termOrNull(i) !== want.term) {
        this.fail(`leader completeness: leader ${n.id} of term ${term} has term ${log.termOrNull(i)} at committed index ${i} (want ${want.term})`);
      }
    }
  }

  private checkLogMatching(n: SimNode, e: Entry): void {
    const prevTerm = e.index > 1 ? n.disk.term(e.index - 1) : 0;
    const id = `${e.index}/${e.term}`;
    const value = `${prevTerm}|${entryKey(e)}`;
    const seen = this.entryAt.get(id);
    if (seen === undefined) this.entryAt.set(id, value);
    else if (seen !== value) this.fail(`log matching: node ${n.id} has entry ${id} = ${value}, another node has ${seen}`);
  }

  /** Applies one committed entry; returns whether it added a member. */
  private apply(n: SimNode, e: Entry): boolean {
    if (e.index <= n.app.index) return false; // already covered by a snapshot
    if (e.index !== n.app.index + 1) this.fail(`node ${n.id} applies ${e.index} after ${n.app.index}`);
    const key = entryKey(e);
    const first = this.appliedAt.get(e.index);
    if (first === undefined) {
      this.appliedAt.set(e.index, { key, term: e.term });
      if (e.data.length > 0 && e.type === EntryType.ENTRY_NORMAL) this.stats.committed++;
    } else if (first.key !== key || first.term !== e.term) {
      this.fail(`state machine safety: node ${n.id} applies ${key}@${e.term} at ${e.index}, another applied ${first.key}@${first.term}`);
    }
    if (e.type === EntryType.ENTRY_CONF_CHANGE) {
      const cc = decodeConfChange(e.data);
      n.app.confState = n.raft!.applyConfChange(cc);
      if (cc.type === ConfChangeType.REMOVE_NODE) n.app.removed = [...n.app.removed, cc.nodeId];
      this.stats.confChanges++;
      this.trace(
        `node ${n.id} applied ${ConfChangeType[cc.type]} ${cc.nodeId} at ${e.index} -> voters ${n.app.confState.voters} learners ${n.app.confState.learners}`,
      );
    } else {
      n.app.hash = hashStep(n.app.hash, e.data);
    }
    n.app.index = e.index;
    this.checkAppState(n);
    if (e.type !== EntryType.ENTRY_CONF_CHANGE) return false;
    const type = decodeConfChange(e.data).type;
    return type === ConfChangeType.ADD_LEARNER || type === ConfChangeType.ADD_VOTER;
  }

  private applySnapshot(n: SimNode, s: Snapshot): void {
    const state = decodeApp(s.data);
    if (state.index !== s.metadata.index) this.fail(`snapshot at ${s.metadata.index} holds state at ${state.index}`);
    n.app = state;
    this.checkAppState(n);
    this.trace(`node ${n.id} restored snapshot at ${s.metadata.index}`);
  }

  private checkAppState(n: SimNode): void {
    const i = n.app.index;
    if (i > this.maxApplied) this.maxApplied = i;
    const seen = this.appStateAt.get(i);
    if (seen === undefined) this.appStateAt.set(i, n.app.hash);
    else if (seen !== n.app.hash) this.fail(`state machine safety: node ${n.id} state at ${i} differs from another node's`);
  }

  private checkRead(n: SimNode, index: number, context: Uint8Array): void {
    const key = textDecoder.decode(context);
    const read = this.pendingReads.get(key);
    if (read === undefined) return; // a duplicate answer
    this.pendingReads.delete(key);
    this.stats.reads++;
    if (index < read.committedBefore) {
      this.fail(`read safety: read ${key} on node ${n.id} got read index ${index}, but ${read.committedBefore} was committed before it began`);
    }
  }
}

export const DEFAULT_SIM_OPTIONS = {
  chaosSteps: 1500,
  livenessTicksMax: 400,
  electionTicks: 10,
  heartbeatTicks: 1,
} as const;

/** Seeds alternate between 3- and 5-member clusters. */
export function optionsForSeed(seed: number, trace?: (line: string) => void): SimOptions {
  return { seed, clusterSize: seed % 2 === 0 ? 5 : 3, ...DEFAULT_SIM_OPTIONS, ...(trace ? { trace } : {}) };
}

export function runSeed(seed: number, trace?: (line: string) => void): SimResult {
  return new Simulation(optionsForSeed(seed, trace)).run();
}

export function replayCommand(seed: number): string {
  return `make sim SEED=${seed}`;
}
