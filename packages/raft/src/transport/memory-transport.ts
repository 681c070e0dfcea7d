/**
 * An in-process transport for integration tests of the node loop: nodes register with a
 * `MemoryNetwork` by id, and `send` delivers asynchronously (setImmediate, FIFO, so order between
 * two nodes is kept) with hooks to drop messages or partition the network. Every message makes a
 * real encode/decode round trip through the generated codec and the receive-side validation, so
 * what works here would also survive GrpcTransport.
 *
 * The deterministic simulator does not use this: it has its own seeded network and virtual clock.
 */
import { raftpb } from "@coxswain/proto";
import { MessageType, NONE, type Message } from "../core/types.js";
import { assert } from "../core/assert.js";
import { emptyTransportStats, type Transport, type TransportHandler, type TransportStats } from "./transport.js";
import { TransportDecodeError, messageFromWire } from "./wire.js";

/** Return true to drop the message (it is lost silently, like a packet). */
export type MemoryDropRule = (message: Message) => boolean;

export interface MemoryNetworkStats {
  delivered: number;
  /** Lost to a partition or the drop rule. */
  dropped: number;
}

export class MemoryNetwork {
  readonly stats: MemoryNetworkStats = { delivered: 0, dropped: 0 };
  private readonly nodes = new Map<number, MemoryTransport>();
  /** node id → partition group; nodes in no group share one implicit group. */
  private readonly groupOf = new Map<number, number>();
  private dropRule: MemoryDropRule | null = null;

  /** Splits the network: nodes in different groups cannot talk. Replaces any earlier partition. */
  partition(...groups: number[][]): void {
    this.groupOf.clear();
    groups.forEach((group, index) => {
      for (const id of group) {
        assert(!this.groupOf.has(id), `node ${id} is in one partition group only`);
        this.groupOf.set(id, index);
      }
    });
  }

  /** Cuts one node off from all others. */
  isolate(id: number): void {
    this.partition([id]);
  }

  /** Removes partitions and the drop rule. */
  heal(): void {
    this.groupOf.clear();
    this.dropRule = null;
  }

  setDropRule(rule: MemoryDropRule | null): void {
    this.dropRule = rule;
  }

  /** Whether a message would currently get through (partition and drop rule). */
  passes(m: Message): boolean {
    if ((this.groupOf.get(m.from) ?? -1) !== (this.groupOf.get(m.to) ?? -1)) return false;
    return this.dropRule === null || !this.dropRule(m);
  }

  /** @internal Called by MemoryTransport.start. */
  attach(id: number, transport: MemoryTransport): void {
    assert(!this.nodes.has(id), `node ${id} is attached to the network once`);
    this.nodes.set(id, transport);
  }

  /** @internal Called by MemoryTransport.close. */
  detach(id: number, transport: MemoryTransport): void {
    if (this.nodes.get(id) === transport) this.nodes.delete(id);
  }

  /** @internal */
  node(id: number): MemoryTransport | undefined {
    return this.nodes.get(id);
  }
}

export interface MemoryTransportOptions {
  /** Messages in flight to one peer; more are dropped, as GrpcTransport's per-peer queue does. */
  peerQueueMessagesMax?: number;
}

export const MEMORY_TRANSPORT_DEFAULTS = { peerQueueMessagesMax: 4096 } as const;

/**
 * Delivers to any node attached to the network, except peers removed with `removePeer`
 * (`addPeer` undoes that; addresses are ignored). A destination that is not attached counts as
 * unreachable; a message lost to a partition or drop rule is silent, except that a lost MsgSnap
 * is reported as a failed snapshot so the leader retries (a real transport would time out).
 */
export class MemoryTransport implements Transport {
  readonly stats: TransportStats = emptyTransportStats();
  private readonly peerQueueMessagesMax: number;
  private readonly removedPeers = new Set<number>();
  private readonly inFlight = new Map<number, number>();
  private handler: TransportHandler | null = null;
  private closed = false;

  constructor(
    readonly network: MemoryNetwork,
    readonly localId: number,
    options: MemoryTransportOptions = {},
  ) {
    assert(Number.isSafeInteger(localId) && localId > NONE, "localId must be a positive integer");
    this.peerQueueMessagesMax = options.peerQueueMessagesMax ?? MEMORY_TRANSPORT_DEFAULTS.peerQueueMessagesMax;
    assert(this.peerQueueMessagesMax > 0, "peerQueueMessagesMax must be positive");
  }

  async start(handler: TransportHandler): Promise<void> {
    assert(this.handler === null && !this.closed, "start is called once, before close");
    this.handler = handler;
    this.network.attach(this.localId, this);
  }

  send(messages: Message[]): void {
    const outgoing: Message[] = [];
    for (const m of messages) {
      const queued = this.inFlight.get(m.to) ?? 0;
      if (
        this.closed ||
        this.handler === null ||
        m.to === NONE ||
        m.to === this.localId ||
        this.removedPeers.has(m.to) ||
        queued >= this.peerQueueMessagesMax
      ) {
        this.stats.messagesDropped++;
        continue;
      }
      this.inFlight.set(m.to, queued + 1);
      outgoing.push(this.overTheWire(m));
      this.stats.messagesSent++;
    }
    if (outgoing.length === 0) return;
    this.stats.batchesSent++;
    setImmediate(() => {
      for (const m of outgoing) this.deliver(m);
    });
  }

  addPeer(id: number, _address: string): void {
    this.removedPeers.delete(id);
  }

  removePeer(id: number): void {
    this.removedPeers.add(id);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.network.detach(this.localId, this);
  }

  /** @internal Called by the network for a message that reached this node. */
  receiveFromNetwork(m: Message): boolean {
    const handler = this.handler;
    if (this.closed || handler === null) return false;
    this.stats.messagesReceived++;
    if (m.type === MessageType.MSG_SNAP) {
      this.stats.snapshotsReceived++;
      this.stats.snapshotBytesReceived += m.snapshot?.data.byteLength ?? 0;
    }
    handler.receive(m);
    return true;
  }

  /** Encodes and decodes like GrpcTransport does; an invalid message is a bug in the sender. */
  private overTheWire(m: Message): Message {
    try {
      return messageFromWire(raftpb.Message.decode(raftpb.Message.encode(m).finish()), { localId: m.to, snapshotAllowed: true });
    } catch (err) {
      if (err instanceof TransportDecodeError) assert(false, `a real peer would refuse this message: ${err.message}`);
      throw err;
    }
  }

  private deliver(m: Message): void {
    this.inFlight.set(m.to, (this.inFlight.get(m.to) ?? 1) - 1);
    const handler = this.handler;
    if (this.closed || handler === null) return;
    const isSnapshot = m.type === MessageType.MSG_SNAP;
    const target = this.network.node(m.to);
    if (target === undefined) {
      this.stats.messagesDropped++;
      handler.reportUnreachable(m.to);
      if (isSnapshot) this.snapshotFailed(handler, m.to);
      return;
    }
    if (!this.network.passes(m)) {
      this.network.stats.dropped++;
      if (isSnapshot) this.snapshotFailed(handler, m.to);
      return;
    }
    if (!target.receiveFromNetwork(m)) {
      this.stats.messagesDropped++;
      handler.reportUnreachable(m.to);
      if (isSnapshot) this.snapshotFailed(handler, m.to);
      return;
    }
    this.network.stats.delivered++;
    if (isSnapshot) {
      this.stats.snapshotsSent++;
      this.stats.snapshotBytesSent += m.snapshot?.data.byteLength ?? 0;
      handler.reportSnapshot(m.to, true);
    }
  }

  private snapshotFailed(handler: TransportHandler, peerId: number): void {
    this.stats.snapshotsFailed++;
    handler.reportSnapshot(peerId, false);
  }
}
