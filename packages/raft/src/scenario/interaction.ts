/**
 * The scenario interpreter: a small line-based language that drives an in-process Raft cluster
 * deterministically and narrates what happens (in the spirit of etcd-io/raft's datadriven
 * `testdata/*.txt` interaction tests; the language and the output here are our own).
 *
 * There are no timers and no randomness beyond a SeededRandom per node seeded from its id: time
 * passes only on `tick`, messages move only on `stabilize`/`deliver`, and every loop runs in node
 * id order over a FIFO network, so a script produces the same text on every run.
 *
 * Each node runs the loop RawNode documents (persist → send → apply → advance) against a
 * MemoryStorage that plays the part of its disk: what went through a Ready survives `crash`,
 * everything else (unstable entries, an unsent vote) is lost. The application is a list of
 * applied values plus the configuration; its snapshot is that state as JSON. As RawNode's
 * contract asks, a node takes a snapshot after applying a conf change that adds a member.
 *
 * The commands are listed in README.md; `execute` returns the lines a command printed.
 */
import { AssertionFailure, assert } from "../core/assert.js";
import { ProposalDroppedError, StateType, decodeConfChange } from "../core/raft.js";
import { SeededRandom } from "../core/rand.js";
import { RawNode, type Ready } from "../core/rawnode.js";
import { MemoryStorage } from "../core/storage.js";
import { ConfChangeType, type ConfState, type Entry, EntryType, type Message, MessageType, NONE, type Snapshot } from "../core/types.js";

/** A script asked for something that makes no sense (unknown command, bad argument, a down node). */
export class ScriptError extends Error {
  override readonly name = "ScriptError";
}

/** The cluster broke a Raft safety property (Raft paper Figure 3); always a bug in the core. */
export class InvariantViolation extends Error {
  override readonly name = "InvariantViolation";
}

export interface ClusterOptions {
  electionTicks: number;
  heartbeatTicks: number;
  preVote: boolean;
  checkQuorum: boolean;
  learnerPromotionLagEntriesMax: number;
  msgSizeBytesMax: number;
  inflightMessagesMax: number;
}

/** etcd's interaction tests use the same 10/1 ticks: elections take 10–19 ticks, heartbeats 1. */
export const DEFAULT_CLUSTER_OPTIONS: Readonly<ClusterOptions> = {
  electionTicks: 10,
  heartbeatTicks: 1,
  preVote: true,
  checkQuorum: true,
  learnerPromotionLagEntriesMax: 1000,
  msgSizeBytesMax: 1024 * 1024,
  inflightMessagesMax: 256,
};

/** Rounds of "process every Ready, deliver every message" before `stabilize` declares a livelock. */
const STABILIZE_ROUNDS_MAX = 1000;
/** Ready cycles one node may run in one round before we declare that it does not converge. */
const READY_CYCLES_PER_ROUND_MAX = 100;
/** Ticks one `tick` command may ask for. */
const TICKS_PER_COMMAND_MAX = 1000;
/** Nodes one scenario may create. */
const NODES_MAX = 16;
/** Messages the in-process network may hold at once; more means a runaway loop. */
const NETWORK_MESSAGES_MAX = 100_000;

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();

/** The replicated application: every applied non-empty normal entry, in order. */
interface AppState {
  index: number;
  values: string[];
  confState: ConfState;
  removed: number[];
}

function emptyAppState(): AppState {
  return { index: 0, values: [], confState: { voters: [], learners: [] }, removed: [] };
}

function encodeApp(s: AppState): Uint8Array {
  return textEncoder.encode(JSON.stringify(s));
}

function decodeApp(data: Uint8Array): AppState {
  return JSON.parse(textDecoder.decode(data)) as AppState;
}

/** What the narration last reported about a node, so that only changes are printed. */
interface Observed {
  role: StateType;
  term: number;
  lead: number;
  vote: number;
}

class ScenarioNode {
  /** What survived a Ready: the node's disk. Also the RawNode's Storage while it runs. */
  readonly disk = new MemoryStorage();
  raw: RawNode | null = null;
  app: AppState = emptyAppState();
  /** Set when the node applied its own removal and shut down, as an etcd member does. */
  removed = false;
  observed: Observed = { role: StateType.Follower, term: 0, lead: NONE, vote: NONE };

  constructor(readonly id: number) {}

  running(): RawNode {
    if (this.removed) throw new ScriptError(`node ${this.id} was removed from the cluster`);
    if (this.raw === null) throw new ScriptError(`node ${this.id} is down`);
    return this.raw;
  }
}

const MESSAGE_NAMES: ReadonlyMap<MessageType, string> = new Map([
  [MessageType.MSG_HUP, "MsgHup"],
  [MessageType.MSG_BEAT, "MsgBeat"],
  [MessageType.MSG_PROP, "MsgProp"],
  [MessageType.MSG_APP, "MsgApp"],
  [MessageType.MSG_APP_RESP, "MsgAppResp"],
  [MessageType.MSG_VOTE, "MsgVote"],
  [MessageType.MSG_VOTE_RESP, "MsgVoteResp"],
  [MessageType.MSG_SNAP, "MsgSnap"],
  [MessageType.MSG_HEARTBEAT, "MsgHeartbeat"],
  [MessageType.MSG_HEARTBEAT_RESP, "MsgHeartbeatResp"],
  [MessageType.MSG_UNREACHABLE, "MsgUnreachable"],
  [MessageType.MSG_SNAP_STATUS, "MsgSnapStatus"],
  [MessageType.MSG_CHECK_QUORUM, "MsgCheckQuorum"],
  [MessageType.MSG_TRANSFER_LEADER, "MsgTransferLeader"],
  [MessageType.MSG_TIMEOUT_NOW, "MsgTimeoutNow"],
  [MessageType.MSG_READ_INDEX, "MsgReadIndex"],
  [MessageType.MSG_READ_INDEX_RESP, "MsgReadIndexResp"],
  [MessageType.MSG_PRE_VOTE, "MsgPreVote"],
  [MessageType.MSG_PRE_VOTE_RESP, "MsgPreVoteResp"],
]);

/** `trace` kinds: which delivered messages to print. */
const TRACE_KINDS: ReadonlyMap<string, readonly MessageType[]> = new Map([
  ["vote", [MessageType.MSG_VOTE, MessageType.MSG_VOTE_RESP, MessageType.MSG_PRE_VOTE, MessageType.MSG_PRE_VOTE_RESP]],
  ["app", [MessageType.MSG_APP, MessageType.MSG_APP_RESP]],
  ["heartbeat", [MessageType.MSG_HEARTBEAT, MessageType.MSG_HEARTBEAT_RESP]],
  ["snap", [MessageType.MSG_SNAP]],
  ["read", [MessageType.MSG_READ_INDEX, MessageType.MSG_READ_INDEX_RESP]],
  ["prop", [MessageType.MSG_PROP]],
  ["transfer", [MessageType.MSG_TRANSFER_LEADER, MessageType.MSG_TIMEOUT_NOW]],
]);

function messageName(t: MessageType): string {
  return MESSAGE_NAMES.get(t) ?? `Msg(${t})`;
}

function roleName(s: StateType): string {
  switch (s) {
    case StateType.Follower:
      return "follower";
    case StateType.PreCandidate:
      return "pre-candidate";
    case StateType.Candidate:
      return "candidate";
    case StateType.Leader:
      return "leader";
  }
}

function confChangeName(t: ConfChangeType): string {
  switch (t) {
    case ConfChangeType.ADD_VOTER:
      return "add-voter";
    case ConfChangeType.ADD_LEARNER:
      return "add-learner";
    case ConfChangeType.REMOVE_NODE:
      return "remove";
    default:
      return `conf-change(${t})`;
  }
}

function describeEntryData(e: Entry): string {
  if (e.type === EntryType.ENTRY_CONF_CHANGE) {
    const cc = decodeConfChange(e.data);
    return `(${confChangeName(cc.type)} ${cc.nodeId})`;
  }
  return e.data.length === 0 ? "(empty)" : textDecoder.decode(e.data);
}

function describeConfState(cs: ConfState): string {
  const voters = `voters=(${cs.voters.join(" ")})`;
  return cs.learners.length === 0 ? voters : `${voters} learners=(${cs.learners.join(" ")})`;
}

function describeSnapshot(s: Snapshot): string {
  return `${s.metadata.index}@${s.metadata.term}`;
}

function describeContext(ctx: Uint8Array): string {
  return ctx.length === 0 ? "" : ` ctx=${textDecoder.decode(ctx)}`;
}

/** One line per message, naming only the fields that matter for its type. */
export function describeMessage(m: Message): string {
  const head = `${m.from}->${m.to} ${messageName(m.type)}`;
  switch (m.type) {
    case MessageType.MSG_APP: {
      const first = m.entries[0];
      const last = m.entries[m.entries.length - 1];
      const entries = first === undefined || last === undefined ? "none" : first === last ? `${first.index}` : `${first.index}..${last.index}`;
      return `${head} term=${m.term} log=${m.index}@${m.logTerm} entries=${entries} commit=${m.commit}`;
    }
    case MessageType.MSG_APP_RESP:
      if (m.reject) return `${head} term=${m.term} rejected index=${m.index} hint=${m.rejectHint}@${m.logTerm}`;
      return `${head} term=${m.term} index=${m.index}`;
    case MessageType.MSG_VOTE:
    case MessageType.MSG_PRE_VOTE:
      return `${head} term=${m.term} log=${m.index}@${m.logTerm}${m.context.length > 0 ? " (transfer)" : ""}`;
    case MessageType.MSG_VOTE_RESP:
    case MessageType.MSG_PRE_VOTE_RESP:
      return `${head} term=${m.term} ${m.reject ? "rejected" : "granted"}`;
    case MessageType.MSG_HEARTBEAT:
      return `${head} term=${m.term} commit=${m.commit}${describeContext(m.context)}`;
    case MessageType.MSG_HEARTBEAT_RESP:
      return `${head} term=${m.term}${describeContext(m.context)}`;
    case MessageType.MSG_SNAP:
      return `${head} term=${m.term} snapshot=${m.snapshot === null ? "none" : describeSnapshot(m.snapshot)}`;
    case MessageType.MSG_PROP:
      return `${head} entries=${m.entries.map(describeEntryData).join(",")}`;
    case MessageType.MSG_READ_INDEX:
      return `${head}${describeContext(m.context)}`;
    case MessageType.MSG_READ_INDEX_RESP:
      return `${head} term=${m.term} index=${m.index}${describeContext(m.context)}`;
    default:
      return `${head} term=${m.term}`;
  }
}

function droppedReason(err: ProposalDroppedError): string {
  return err.message.replace(/^raft proposal dropped: /, "");
}

type Handler = (args: string[]) => void;

export class Interaction {
  private options: ClusterOptions = { ...DEFAULT_CLUSTER_OPTIONS };
  private readonly nodes = new Map<number, ScenarioNode>();
  /** In-flight messages, delivered first in, first out. */
  private network: Message[] = [];
  /** Node id → side of the partition; null when every node can reach every other. */
  private partition: Map<number, number> | null = null;
  private readonly traced = new Set<MessageType>();
  private out: string[] = [];

  // Counters for `messages`, reset each time it prints.
  private deliveredByType = new Map<MessageType, number>();
  private appRejections = 0;
  private droppedTotal = 0;

  // Safety bookkeeping (Raft Figure 3), checked as the cluster runs.
  private readonly leaderOfTerm = new Map<number, number>();
  private readonly appliedAt = new Map<number, string>();

  private readonly commands: ReadonlyMap<string, Handler> = new Map<string, Handler>([
    ["cluster", (a) => this.cmdCluster(a)],
    ["campaign", (a) => this.cmdCampaign(a)],
    ["tick", (a) => this.cmdTick(a)],
    ["stabilize", (a) => this.cmdStabilize(a)],
    ["process-ready", (a) => this.cmdProcessReady(a)],
    ["deliver", (a) => this.cmdDeliver(a)],
    ["drop", (a) => this.cmdDrop(a)],
    ["partition", (a) => this.cmdPartition(a)],
    ["heal", (a) => this.cmdHeal(a)],
    ["propose", (a) => this.cmdPropose(a)],
    ["read", (a) => this.cmdRead(a)],
    ["crash", (a) => this.cmdCrash(a)],
    ["restart", (a) => this.cmdRestart(a)],
    ["compact", (a) => this.cmdCompact(a)],
    ["add-learner", (a) => this.cmdConfChange(a, ConfChangeType.ADD_LEARNER)],
    ["promote", (a) => this.cmdConfChange(a, ConfChangeType.ADD_VOTER)],
    ["remove", (a) => this.cmdConfChange(a, ConfChangeType.REMOVE_NODE)],
    ["transfer", (a) => this.cmdTransfer(a)],
    ["status", (a) => this.cmdStatus(a)],
    ["log", (a) => this.cmdLog(a)],
    ["members", (a) => this.cmdMembers(a)],
    ["trace", (a) => this.cmdTrace(a)],
    ["messages", (a) => this.cmdMessages(a)],
  ]);

  /** Runs one command line and returns what it printed. */
  execute(line: string): string[] {
    this.out = [];
    const [name, ...args] = line.trim().split(/\s+/);
    const handler = name === undefined ? undefined : this.commands.get(name);
    if (handler === undefined) throw new ScriptError(`unknown command "${name ?? ""}"`);
    if (name !== "cluster" && this.nodes.size === 0) throw new ScriptError(`"${name}" before "cluster"`);
    try {
      handler(args);
    } catch (err) {
      if (err instanceof AssertionFailure) throw new InvariantViolation(`a core assertion failed: ${err.message}`, { cause: err });
      throw err;
    }
    return this.out;
  }

  private print(line: string): void {
    this.out.push(line);
  }

  // ---- argument parsing ---------------------------------------------------------------------

  private parseCount(arg: string | undefined, what: string): number {
    if (arg === undefined || !/^\d+$/.test(arg)) throw new ScriptError(`${what} must be a non-negative integer, got "${arg ?? ""}"`);
    return Number(arg);
  }

  private node(arg: string | undefined): ScenarioNode {
    const id = this.parseCount(arg, "a node id");
    const n = this.nodes.get(id);
    if (n === undefined) throw new ScriptError(`there is no node ${id}`);
    return n;
  }

  /** `all` (every node that exists) or a comma-separated list such as `2,3`. */
  private nodeList(arg: string | undefined): ScenarioNode[] {
    if (arg === "all") return this.sortedNodes();
    if (arg === undefined) throw new ScriptError("expected a node list (`all` or ids like `2,3`)");
    return arg.split(",").map((s) => this.node(s));
  }

  private sortedNodes(): ScenarioNode[] {
    return [...this.nodes.values()].sort((a, b) => a.id - b.id);
  }

  private runningNodes(): ScenarioNode[] {
    return this.sortedNodes().filter((n) => n.raw !== null);
  }

  private expectArgs(args: string[], min: number, max: number, usage: string): void {
    if (args.length < min || args.length > max) throw new ScriptError(`usage: ${usage}`);
  }

  // ---- commands -----------------------------------------------------------------------------

  /** `cluster N [election=10] [heartbeat=1] [prevote=true] [checkquorum=true] [learner-lag=N] [max-msg-bytes=N] [inflight=N]` */
  private cmdCluster(args: string[]): void {
    if (this.nodes.size > 0) throw new ScriptError("the cluster already exists");
    const size = this.parseCount(args[0], "the cluster size");
    if (size < 1 || size > NODES_MAX) throw new ScriptError(`cluster size must be in [1, ${NODES_MAX}]`);
    for (const option of args.slice(1)) {
      const [key, value] = option.split("=");
      const bool = (): boolean => {
        if (value !== "true" && value !== "false") throw new ScriptError(`${key} must be true or false`);
        return value === "true";
      };
      switch (key) {
        case "election":
          this.options.electionTicks = this.parseCount(value, key);
          break;
        case "heartbeat":
          this.options.heartbeatTicks = this.parseCount(value, key);
          break;
        case "prevote":
          this.options.preVote = bool();
          break;
        case "checkquorum":
          this.options.checkQuorum = bool();
          break;
        case "learner-lag":
          this.options.learnerPromotionLagEntriesMax = this.parseCount(value, key);
          break;
        case "max-msg-bytes":
          this.options.msgSizeBytesMax = this.parseCount(value, key);
          break;
        case "inflight":
          this.options.inflightMessagesMax = this.parseCount(value, key);
          break;
        default:
          throw new ScriptError(`unknown cluster option "${option}"`);
      }
    }
    // Bootstrap as the simulator does: every initial member starts from the same snapshot at
    // index 1 (term 1) holding the initial configuration.
    const voters = Array.from({ length: size }, (_, i) => i + 1);
    const initial: AppState = { index: 1, values: [], confState: { voters, learners: [] }, removed: [] };
    for (const id of voters) {
      const n = new ScenarioNode(id);
      n.disk.applySnapshot({ data: encodeApp(initial), metadata: { index: 1, term: 1, confState: { voters: [...voters], learners: [] } } });
      n.disk.setHardState({ term: 1, vote: NONE, commit: 1 });
      this.nodes.set(id, n);
      this.start(n);
    }
  }

  private start(n: ScenarioNode): void {
    const snap = n.disk.snapshot();
    n.app = snap.metadata.index > 0 ? decodeApp(snap.data) : emptyAppState();
    const raw = new RawNode({
      id: n.id,
      storage: n.disk,
      electionTicks: this.options.electionTicks,
      heartbeatTicks: this.options.heartbeatTicks,
      // Seeded from the id alone, so a script's elections do not depend on anything else.
      random: new SeededRandom(n.id),
      applied: snap.metadata.index,
      msgSizeBytesMax: this.options.msgSizeBytesMax,
      inflightMessagesMax: this.options.inflightMessagesMax,
      preVote: this.options.preVote,
      checkQuorum: this.options.checkQuorum,
      learnerPromotionLagEntriesMax: this.options.learnerPromotionLagEntriesMax,
    });
    n.raw = raw;
    const r = raw.raft;
    n.observed = { role: r.state, term: r.term, lead: r.lead, vote: r.vote };
  }

  /** `campaign ID`: the node starts an election now (a pre-vote first when pre-vote is on). */
  private cmdCampaign(args: string[]): void {
    this.expectArgs(args, 1, 1, "campaign ID");
    this.node(args[0]).running().campaign();
  }

  /**
   * `tick NODES [N]`: N times, tick the nodes (in id order), then stabilize the cluster. With
   * N > 1 the events of each tick are printed under a `tick I:` heading.
   */
  private cmdTick(args: string[]): void {
    this.expectArgs(args, 1, 2, "tick all|IDS [N]");
    const nodes = this.nodeList(args[0]);
    const ticks = args[1] === undefined ? 1 : this.parseCount(args[1], "the tick count");
    if (ticks > TICKS_PER_COMMAND_MAX) throw new ScriptError(`at most ${TICKS_PER_COMMAND_MAX} ticks per command`);
    for (let i = 1; i <= ticks; i++) {
      for (const n of nodes) n.raw?.tick();
      if (ticks === 1) {
        this.stabilize();
        continue;
      }
      // Over several ticks, say when things happened: events go under a "tick I:" heading.
      const before = this.out;
      this.out = [];
      this.stabilize();
      const events = this.out;
      this.out = before;
      if (events.length === 0) continue;
      this.print(`tick ${i}:`);
      for (const e of events) this.print(`  ${e}`);
    }
  }

  private cmdStabilize(args: string[]): void {
    this.expectArgs(args, 0, 0, "stabilize");
    this.stabilize();
  }

  /** Until quiescent: every running node processes its Readies, then every message is delivered. */
  private stabilize(): void {
    for (let round = 0; round < STABILIZE_ROUNDS_MAX; round++) {
      let worked = false;
      for (const n of this.runningNodes()) {
        for (let cycles = 0; n.raw?.hasReady(); cycles++) {
          if (cycles >= READY_CYCLES_PER_ROUND_MAX) throw new InvariantViolation(`node ${n.id} keeps producing Readies`);
          this.processReady(n);
          worked = true;
        }
      }
      if (!worked && this.network.length === 0) return;
      const inFlight = this.network;
      this.network = [];
      for (const m of inFlight) this.deliver(m);
    }
    throw new InvariantViolation(`the cluster did not stabilize within ${STABILIZE_ROUNDS_MAX} rounds`);
  }

  /** `process-ready NODES`: one Ready cycle (persist, send, apply, advance) on each node. */
  private cmdProcessReady(args: string[]): void {
    this.expectArgs(args, 1, 1, "process-ready all|IDS");
    for (const n of this.nodeList(args[0])) if (n.running().hasReady()) this.processReady(n);
  }

  /** `deliver NODES`: step every in-flight message addressed to these nodes, without processing Ready. */
  private cmdDeliver(args: string[]): void {
    this.expectArgs(args, 1, 1, "deliver all|IDS");
    const ids = new Set(this.nodeList(args[0]).map((n) => n.id));
    const now = this.network.filter((m) => ids.has(m.to));
    this.network = this.network.filter((m) => !ids.has(m.to));
    for (const m of now) this.deliver(m);
  }

  /** `drop NODES`: lose every in-flight message addressed to these nodes. */
  private cmdDrop(args: string[]): void {
    this.expectArgs(args, 1, 1, "drop all|IDS");
    const ids = new Set(this.nodeList(args[0]).map((n) => n.id));
    const lost = this.network.filter((m) => ids.has(m.to));
    this.network = this.network.filter((m) => !ids.has(m.to));
    for (const m of lost) this.drop(m, "dropped by the script");
    this.print(`dropped ${lost.length} message${lost.length === 1 ? "" : "s"}`);
  }

  /** `partition 1 | 2 3`: sides separated by `|`; a node on no side is cut off from everyone. */
  private cmdPartition(args: string[]): void {
    const sides = args
      .join(" ")
      .split("|")
      .map((side) => side.split(/[\s,]+/).filter((s) => s.length > 0));
    if (sides.length < 2 || sides.some((s) => s.length === 0)) throw new ScriptError("usage: partition IDS | IDS [| IDS ...]");
    const partition = new Map<number, number>();
    sides.forEach((side, i) => {
      for (const s of side) {
        const n = this.node(s);
        if (partition.has(n.id)) throw new ScriptError(`node ${n.id} is on two sides`);
        partition.set(n.id, i);
      }
    });
    this.partition = partition;
  }

  private cmdHeal(args: string[]): void {
    this.expectArgs(args, 0, 0, "heal");
    this.partition = null;
  }

  private connected(a: number, b: number): boolean {
    if (this.partition === null) return true;
    return (this.partition.get(a) ?? -a) === (this.partition.get(b) ?? -b);
  }

  /** `propose ID DATA...`: proposes the values as one batch at the node (a follower forwards it). */
  private cmdPropose(args: string[]): void {
    if (args.length < 2) throw new ScriptError("usage: propose ID DATA...");
    const n = this.node(args[0]);
    try {
      n.running().propose(args.slice(1).map((d) => textEncoder.encode(d)));
    } catch (err) {
      if (!(err instanceof ProposalDroppedError)) throw err;
      this.print(`${n.id} dropped the proposal: ${droppedReason(err)}`);
    }
  }

  /** `read ID CTX`: a ReadIndex request; its answer appears as "ID read CTX at index I". */
  private cmdRead(args: string[]): void {
    this.expectArgs(args, 2, 2, "read ID CTX");
    this.node(args[0]).running().readIndex(textEncoder.encode(args[1]));
  }

  /** `transfer FROM TO`: asks node FROM (the leader, or a follower that forwards) to hand leadership to TO. */
  private cmdTransfer(args: string[]): void {
    this.expectArgs(args, 2, 2, "transfer FROM TO");
    const from = this.node(args[0]);
    const to = this.node(args[1]);
    from.running().transferLeadership(to.id);
  }

  /** `crash ID`: the process dies; only what went through a Ready (the disk) survives. */
  private cmdCrash(args: string[]): void {
    this.expectArgs(args, 1, 1, "crash ID");
    const n = this.node(args[0]);
    const raw = n.running();
    const unpersisted = raw.raft.log.unstableEntries().length;
    n.raw = null;
    this.print(unpersisted === 0 ? `${n.id} crashed` : `${n.id} crashed, losing ${unpersisted} unpersisted entr${unpersisted === 1 ? "y" : "ies"}`);
  }

  /** `restart ID`: a crashed node starts again from its disk (snapshot, hard state, entries). */
  private cmdRestart(args: string[]): void {
    this.expectArgs(args, 1, 1, "restart ID");
    const n = this.node(args[0]);
    if (n.removed) throw new ScriptError(`node ${n.id} was removed from the cluster`);
    if (n.raw !== null) throw new ScriptError(`node ${n.id} is running`);
    this.start(n);
    const r = n.running().raft;
    this.print(`${n.id} restarted as ${roleName(r.state)} at term ${r.term}: commit=${r.log.committed} applied=${r.log.applied} last=${r.log.lastIndex()}`);
  }

  /** `compact ID`: snapshot the application at its applied index and discard the log up to it. */
  private cmdCompact(args: string[]): void {
    this.expectArgs(args, 1, 1, "compact ID");
    const n = this.node(args[0]);
    n.running();
    const applied = n.app.index;
    if (applied > n.disk.snapshot().metadata.index) n.disk.createSnapshot(applied, n.app.confState, encodeApp(n.app));
    if (applied >= n.disk.firstIndex()) n.disk.compact(applied);
    this.print(`${n.id} compacted its log: snapshot ${describeSnapshot(n.disk.snapshot())}, first index ${n.disk.firstIndex()}`);
  }

  /** `add-learner AT NEW` (also creates the empty node NEW), `promote AT ID`, `remove AT ID`. */
  private cmdConfChange(args: string[], type: ConfChangeType): void {
    this.expectArgs(args, 2, 2, `${confChangeName(type)} AT ID`);
    const at = this.node(args[0]);
    const raw = at.running();
    let nodeId: number;
    if (type === ConfChangeType.ADD_LEARNER) {
      nodeId = this.parseCount(args[1], "the new node's id");
      if (this.nodes.has(nodeId)) throw new ScriptError(`node ${nodeId} already exists`);
      if (this.nodes.size >= NODES_MAX) throw new ScriptError(`at most ${NODES_MAX} nodes`);
      // The new member's process starts empty: it learns everything from the leader's snapshot.
      const fresh = new ScenarioNode(nodeId);
      this.nodes.set(nodeId, fresh);
      this.start(fresh);
    } else {
      nodeId = this.node(args[1]).id;
    }
    try {
      raw.proposeConfChange({ type, nodeId, context: new Uint8Array(0) });
    } catch (err) {
      if (!(err instanceof ProposalDroppedError)) throw err;
      this.print(`${at.id} dropped the proposal: ${droppedReason(err)}`);
    }
  }

  /** `status [NODES]`: one line per node. */
  private cmdStatus(args: string[]): void {
    this.expectArgs(args, 0, 1, "status [all|IDS]");
    for (const n of this.nodeList(args[0] ?? "all")) {
      if (n.removed) {
        this.print(`${n.id}: removed`);
        continue;
      }
      if (n.raw === null) {
        const hs = n.disk.hardStateNow();
        this.print(`${n.id}: down; on disk term=${hs.term} vote=${hs.vote} commit=${hs.commit} last=${n.disk.lastIndex()} first=${n.disk.firstIndex()}`);
        continue;
      }
      const r = n.raw.raft;
      const role = roleName(r.state) + (r.isLearner ? " (learner)" : "");
      this.print(
        `${n.id}: ${role} term=${r.term} lead=${r.lead} commit=${r.log.committed} applied=${r.log.applied} last=${r.log.lastIndex()} first=${r.log.firstIndex()}`,
      );
    }
  }

  /** `log NODES`: a header line per node, then one indented line per entry. */
  private cmdLog(args: string[]): void {
    this.expectArgs(args, 1, 1, "log all|IDS");
    for (const n of this.nodeList(args[0])) {
      if (n.removed) {
        this.print(`${n.id}: removed`);
        continue;
      }
      let entries: Entry[];
      let header: string;
      let committed: number;
      let unstableFrom: number;
      if (n.raw === null) {
        committed = n.disk.hardStateNow().commit;
        unstableFrom = Number.MAX_SAFE_INTEGER;
        entries = n.disk.lastIndex() >= n.disk.firstIndex() ? n.disk.entries(n.disk.firstIndex(), n.disk.lastIndex() + 1, Number.MAX_SAFE_INTEGER) : [];
        header = `${n.id} (down, on disk): snapshot ${describeSnapshot(n.disk.snapshot())} commit=${committed}`;
      } else {
        const log = n.raw.raft.log;
        committed = log.committed;
        unstableFrom = log.unstable.offset;
        entries = log.allEntries();
        header = `${n.id}: snapshot ${describeSnapshot(log.snapshot())} commit=${committed}`;
      }
      this.print(entries.length === 0 ? `${header}, no entries` : header);
      for (const e of entries) {
        const notes: string[] = [];
        if (e.index > committed) notes.push("uncommitted");
        if (e.index >= unstableFrom) notes.push("unpersisted");
        this.print(`  ${e.index}@${e.term} ${describeEntryData(e)}${notes.length > 0 ? ` [${notes.join(", ")}]` : ""}`);
      }
    }
  }

  /** `members [NODES]`: each node's view of the configuration. */
  private cmdMembers(args: string[]): void {
    this.expectArgs(args, 0, 1, "members [all|IDS]");
    for (const n of this.nodeList(args[0] ?? "all")) {
      if (n.removed) this.print(`${n.id}: removed`);
      else if (n.raw === null) this.print(`${n.id}: down`);
      else this.print(`${n.id}: ${describeConfState(n.raw.raft.tracker.confState())}`);
    }
  }

  /** `trace KIND...` prints delivered (and dropped) messages of these kinds; `trace off` stops. */
  private cmdTrace(args: string[]): void {
    if (args.length === 0) throw new ScriptError(`usage: trace off|all|${[...TRACE_KINDS.keys()].join("|")}...`);
    this.traced.clear();
    for (const kind of args) {
      if (kind === "off") continue;
      const types = kind === "all" ? [...TRACE_KINDS.values()].flat() : TRACE_KINDS.get(kind);
      if (types === undefined) throw new ScriptError(`unknown trace kind "${kind}"`);
      for (const t of types) this.traced.add(t);
    }
  }

  /** `messages [reset]`: counts of messages delivered and dropped since the last `messages`. */
  private cmdMessages(args: string[]): void {
    this.expectArgs(args, 0, 1, "messages [reset]");
    if (args[0] !== undefined && args[0] !== "reset") throw new ScriptError("usage: messages [reset]");
    if (args[0] === undefined) this.printMessageCounts();
    this.deliveredByType = new Map();
    this.appRejections = 0;
    this.droppedTotal = 0;
  }

  private printMessageCounts(): void {
    const counts = [...this.deliveredByType].sort((a, b) => a[0] - b[0]).map(([t, count]) => `${messageName(t)}=${count}`);
    this.print(`delivered: ${counts.length === 0 ? "none" : counts.join(" ")}`);
    this.print(`MsgApp rejections: ${this.appRejections}`);
    this.print(`dropped: ${this.droppedTotal}`);
  }

  // ---- the node loop ------------------------------------------------------------------------

  /** One Ready cycle, in RawNode's order: persist, then send, then apply, then advance. */
  private processReady(n: ScenarioNode): void {
    const raw = n.running();
    const rd = raw.ready();
    this.observe(n);
    this.persist(n, rd);
    for (const m of rd.messages) {
      if (m.type === MessageType.MSG_SNAP && m.snapshot !== null) this.print(`${n.id} sent snapshot ${describeSnapshot(m.snapshot)} to ${m.to}`);
      assert(this.network.length < NETWORK_MESSAGES_MAX, "the in-process network overflowed");
      this.network.push(m);
    }
    if (rd.snapshot !== null) {
      n.app = decodeApp(rd.snapshot.data);
      this.print(`${n.id} restored snapshot ${describeSnapshot(rd.snapshot)}: ${describeConfState(rd.snapshot.metadata.confState)}`);
    }
    let addedMember = false;
    const applied: string[] = [];
    const confLines: string[] = [];
    for (const e of rd.committedEntries) {
      if (e.index <= n.app.index) continue; // already covered by a snapshot
      if (e.index !== n.app.index + 1) throw new InvariantViolation(`node ${n.id} applies ${e.index} after ${n.app.index}`);
      this.checkStateMachineSafety(n, e);
      if (e.type === EntryType.ENTRY_CONF_CHANGE) {
        const cc = decodeConfChange(e.data);
        n.app.confState = raw.applyConfChange(cc);
        if (cc.type === ConfChangeType.REMOVE_NODE) n.app.removed = [...n.app.removed, cc.nodeId];
        else addedMember = true;
        confLines.push(`${n.id} configuration: ${describeConfState(n.app.confState)}`);
      } else if (e.data.length > 0) {
        n.app.values = [...n.app.values, textDecoder.decode(e.data)];
      }
      n.app.index = e.index;
      applied.push(`${e.index}:${describeEntryData(e)}`);
    }
    if (applied.length > 0) this.print(`${n.id} applied ${applied.join(" ")}`);
    for (const line of confLines) this.print(line);
    for (const rs of rd.readStates) this.print(`${n.id} read ${textDecoder.decode(rs.context)} at index ${rs.index}`);
    raw.advance(rd);
    // RawNode's contract: a snapshot that includes the new member, so the leader can catch it up.
    if (addedMember && n.app.index > n.disk.snapshot().metadata.index) n.disk.createSnapshot(n.app.index, n.app.confState, encodeApp(n.app));
    if (n.app.removed.includes(n.id)) {
      // As an etcd member does: a node that applied its own removal shuts down for good.
      this.print(`${n.id} applied its own removal and shut down`);
      n.removed = true;
      n.raw = null;
    }
  }

  /** Prints what changed in the node's role, term, leader or vote since it was last reported. */
  private observe(n: ScenarioNode): void {
    const r = n.running().raft;
    const now: Observed = { role: r.state, term: r.term, lead: r.lead, vote: r.vote };
    const was = n.observed;
    if (now.role !== was.role || now.term !== was.term || now.lead !== was.lead) {
      if (now.role === StateType.Follower && now.lead !== NONE) this.print(`${n.id} follows leader ${now.lead} at term ${now.term}`);
      else if (now.role === StateType.Follower) this.print(`${n.id} became follower at term ${now.term} (no leader)`);
      else this.print(`${n.id} became ${roleName(now.role)} at term ${now.term}`);
    }
    // A candidate votes for itself; only votes for others are news.
    if (now.vote !== was.vote && now.vote !== NONE && now.vote !== n.id) this.print(`${n.id} voted for ${now.vote} at term ${now.term}`);
    if (now.role === StateType.Leader) this.checkElectionSafety(n.id, now.term);
    n.observed = now;
  }

  private persist(n: ScenarioNode, rd: Ready): void {
    if (rd.snapshot !== null) n.disk.applySnapshot(rd.snapshot);
    if (rd.entries.length > 0) n.disk.append(rd.entries);
    if (rd.hardState !== null) n.disk.setHardState(rd.hardState);
  }

  private deliver(m: Message): void {
    const to = this.nodes.get(m.to);
    let dropReason: string | null = null;
    if (to === undefined) dropReason = `there is no node ${m.to}`;
    else if (to.removed) dropReason = `${m.to} was removed`;
    else if (to.raw === null) dropReason = `${m.to} is down`;
    else if (!this.connected(m.from, m.to)) dropReason = "partition";
    // Like etcd's transport, a member refuses traffic from members it knows were removed.
    else if (to.app.removed.includes(m.from)) dropReason = `${m.from} was removed`;
    if (to === undefined || to.raw === null || dropReason !== null) {
      this.drop(m, dropReason ?? "undeliverable");
      return;
    }
    if (this.traced.has(m.type)) this.print(describeMessage(m));
    this.deliveredByType.set(m.type, (this.deliveredByType.get(m.type) ?? 0) + 1);
    if (m.type === MessageType.MSG_APP_RESP && m.reject) this.appRejections++;
    if (m.type === MessageType.MSG_PROP) {
      // RawNode.step swallows a dropped forwarded proposal (the client retries); step the Raft
      // directly instead so that the script shows why it was dropped.
      try {
        to.raw.raft.step(m);
      } catch (err) {
        if (!(err instanceof ProposalDroppedError)) throw err;
        this.print(`${to.id} dropped the proposal from ${m.from}: ${droppedReason(err)}`);
      }
    } else {
      to.raw.step(m);
    }
    // The transport reports a snapshot's fate to the sender, as etcd's does.
    if (m.type === MessageType.MSG_SNAP) this.nodes.get(m.from)?.raw?.reportSnapshot(m.to, true);
  }

  private drop(m: Message, why: string): void {
    this.droppedTotal++;
    if (this.traced.has(m.type)) this.print(`${describeMessage(m)} (dropped: ${why})`);
    if (m.type === MessageType.MSG_SNAP) this.nodes.get(m.from)?.raw?.reportSnapshot(m.to, false);
  }

  // ---- safety -------------------------------------------------------------------------------

  private checkElectionSafety(id: number, term: number): void {
    const leader = this.leaderOfTerm.get(term);
    if (leader !== undefined && leader !== id) throw new InvariantViolation(`election safety: ${leader} and ${id} both led term ${term}`);
    this.leaderOfTerm.set(term, id);
  }

  private checkStateMachineSafety(n: ScenarioNode, e: Entry): void {
    const key = `${e.term}/${e.type}/${describeEntryData(e)}`;
    const first = this.appliedAt.get(e.index);
    if (first === undefined) this.appliedAt.set(e.index, key);
    else if (first !== key) throw new InvariantViolation(`state machine safety: node ${n.id} applies ${key} at ${e.index}, another node applied ${first}`);
  }
}
