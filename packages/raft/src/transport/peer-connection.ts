/**
 * The sending side of GrpcTransport for one peer: one gRPC channel (one HTTP/2 connection) that
 * lives as long as the peer is configured, one long-lived SendMessages client stream on it that is
 * reused for every batch, and at most one SendSnapshot stream at a time. Snapshots use a second
 * channel, opened on first use and kept: megabytes of chunks queued in one socket would delay the
 * heartbeats behind them and could cost the leader its followers (etcd's rafthttp likewise sends
 * snapshots on their own connection).
 *
 * Messages queued during one event-loop turn are coalesced into as few MessageBatch writes as the
 * batch byte limit allows. When the stream breaks, the peer is reported unreachable and the stream
 * is reopened after a capped exponential backoff; messages sent while backing off are dropped and
 * reported unreachable too (the leader probes again, Raft §5.3), exactly as a lost packet would be.
 */
import * as grpc from "@grpc/grpc-js";
import type { raftpbTypes } from "@coxswain/proto";
import { EMPTY_BYTES, MessageType, type Message } from "../core/types.js";
import { assert } from "../core/assert.js";
import type { TransportHandler, TransportStats } from "./transport.js";
import type { TransportLogger } from "./log.js";
import { messageSizeBytesEstimate } from "./wire.js";
import {
  SEND_MESSAGES_PATH,
  SEND_SNAPSHOT_PATH,
  deserializeTransportAck,
  serializeMessageBatch,
  serializeSnapshotChunk,
  type WireTransportAck,
} from "./service.js";

/** What a peer connection needs from its transport; resolved options, shared counters. */
export interface PeerConnectionContext {
  readonly localId: number;
  readonly clusterToken: string;
  readonly stats: TransportStats;
  readonly logger: TransportLogger;
  readonly credentials: grpc.ChannelCredentials;
  readonly channelOptions: grpc.ChannelOptions;
  readonly peerQueueMessagesMax: number;
  readonly batchBytesMax: number;
  readonly messageBytesMax: number;
  readonly snapshotChunkBytesMax: number;
  readonly reconnectDelayMsMin: number;
  readonly reconnectDelayMsMax: number;
  /** Null once the transport is closed: nothing is reported after close. */
  handler(): TransportHandler | null;
}

type StreamState = "idle" | "streaming" | "backoff";
type BatchCall = grpc.ClientWritableStream<raftpbTypes.MessageBatch.$Properties>;
type SnapshotCall = grpc.ClientWritableStream<raftpbTypes.SnapshotChunk.$Properties>;

/** A snapshot stream gets this long, plus `SNAPSHOT_DEADLINE_MS_PER_MIB` per MiB of data. */
const SNAPSHOT_DEADLINE_MS_BASE = 10_000;
const SNAPSHOT_DEADLINE_MS_PER_MIB = 1_000;
/** Exponent cap so the backoff arithmetic never overflows; the delay is capped long before. */
const RECONNECT_ATTEMPTS_COUNTED_MAX = 30;

export class PeerConnection {
  private readonly client: grpc.Client;
  private snapshotClient: grpc.Client | null = null;
  /** Messages waiting for the next flush; capped at `peerQueueMessagesMax`. */
  private queue: Message[] = [];
  private state: StreamState = "idle";
  private call: BatchCall | null = null;
  private awaitingDrain = false;
  private reconnectAttempts = 0;
  private backoffTimer: NodeJS.Timeout | null = null;
  private flushImmediate: NodeJS.Immediate | null = null;
  /** At most one snapshot is in flight per peer; the core sends the next only after a status report. */
  private snapshotCall: SnapshotCall | null = null;
  private snapshotToStart: Message | null = null;
  /** MsgSnaps refused because one was already in flight; reported as failed on the next flush. */
  private snapshotsRefused = 0;
  private closed = false;

  constructor(
    readonly id: number,
    readonly address: string,
    private readonly ctx: PeerConnectionContext,
  ) {
    this.client = new grpc.Client(address, ctx.credentials, ctx.channelOptions);
  }

  /** Queues one message; never blocks. Returns false when the message was dropped. */
  enqueue(m: Message): boolean {
    assert(m.to === this.id, "message queued on the connection of its destination");
    if (this.closed) return this.drop(1);
    if (m.type === MessageType.MSG_SNAP) {
      assert(m.snapshot !== null, "MSG_SNAP carries a snapshot");
      if (this.snapshotCall !== null || this.snapshotToStart !== null) {
        this.snapshotsRefused++;
        this.scheduleFlush();
        return this.drop(1);
      }
      this.snapshotToStart = m;
      this.scheduleFlush();
      return true;
    }
    if (this.queue.length >= this.ctx.peerQueueMessagesMax) return this.drop(1);
    const sizeBytes = messageSizeBytesEstimate(m);
    if (sizeBytes > this.ctx.messageBytesMax) {
      this.ctx.logger.warn("dropped oversized message", { peer: this.id, type: MessageType[m.type], sizeBytes, messageBytesMax: this.ctx.messageBytesMax });
      return this.drop(1);
    }
    this.queue.push(m);
    this.scheduleFlush();
    return true;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.backoffTimer !== null) clearTimeout(this.backoffTimer);
    if (this.flushImmediate !== null) clearImmediate(this.flushImmediate);
    this.backoffTimer = null;
    this.flushImmediate = null;
    this.drop(this.queue.length + (this.snapshotToStart === null ? 0 : 1));
    this.queue = [];
    this.snapshotToStart = null;
    const call = this.call;
    const snapshotCall = this.snapshotCall;
    this.call = null;
    this.snapshotCall = null;
    call?.cancel();
    snapshotCall?.cancel();
    this.client.close();
    this.snapshotClient?.close();
    this.snapshotClient = null;
  }

  /** Coalesces everything queued in this event-loop turn into one flush. */
  private scheduleFlush(): void {
    if (this.flushImmediate !== null || this.closed) return;
    this.flushImmediate = setImmediate(() => {
      this.flushImmediate = null;
      this.flush();
    });
  }

  private flush(): void {
    const handler = this.ctx.handler();
    if (this.closed || handler === null) return;
    for (; this.snapshotsRefused > 0; this.snapshotsRefused--) handler.reportSnapshot(this.id, false);
    if (this.snapshotToStart !== null && this.snapshotCall === null) {
      const m = this.snapshotToStart;
      this.snapshotToStart = null;
      this.startSnapshot(m);
    }

    if (this.queue.length === 0) return;
    if (this.state === "backoff") {
      this.drop(this.queue.length);
      this.queue = [];
      handler.reportUnreachable(this.id);
      return;
    }
    const call = this.call ?? this.openStream();
    while (this.queue.length > 0 && !this.awaitingDrain) {
      const messages = this.takeBatch();
      const more = call.write({ clusterToken: this.ctx.clusterToken, messages });
      this.ctx.stats.batchesSent++;
      this.ctx.stats.messagesSent += messages.length;
      if (!more) {
        // HTTP/2 flow control pushes back: keep queueing (bounded) and coalesce into bigger batches.
        this.awaitingDrain = true;
        call.once("drain", () => {
          if (this.call !== call) return;
          this.awaitingDrain = false;
          this.scheduleFlush();
        });
      }
    }
  }

  /** Takes messages from the head of the queue up to `batchBytesMax` (at least one). */
  private takeBatch(): Message[] {
    let sizeBytes = 0;
    let count = 0;
    for (const m of this.queue) {
      const s = messageSizeBytesEstimate(m);
      if (count > 0 && sizeBytes + s > this.ctx.batchBytesMax) break;
      sizeBytes += s;
      count++;
    }
    return this.queue.splice(0, count);
  }

  private openStream(): BatchCall {
    assert(this.call === null, "one message stream per peer");
    const call: BatchCall = this.client.makeClientStreamRequest<raftpbTypes.MessageBatch.$Properties, WireTransportAck>(
      SEND_MESSAGES_PATH,
      serializeMessageBatch,
      deserializeTransportAck,
      new grpc.Metadata(),
      {},
      (err) => this.onStreamClosed(call, err),
    );
    // The receiver sends headers as soon as it accepts the stream: proof that the peer is reachable.
    call.on("metadata", () => {
      if (this.call !== call) return;
      if (this.reconnectAttempts > 0) this.ctx.logger.info("peer stream connected", { peer: this.id, address: this.address, attempts: this.reconnectAttempts });
      this.reconnectAttempts = 0;
    });
    // Failures arrive through the callback above; this keeps a stray stream error from being unhandled.
    call.on("error", (err: Error) => this.ctx.logger.debug("peer stream error event", { peer: this.id, error: err.message }));
    this.call = call;
    this.state = "streaming";
    return call;
  }

  private onStreamClosed(call: BatchCall, err: grpc.ServiceError | null): void {
    if (this.call !== call) return; // cancelled by close(): not a failure
    this.call = null;
    this.awaitingDrain = false;
    const handler = this.ctx.handler();
    if (this.closed || handler === null) return;
    if (err !== null) {
      const fields = { peer: this.id, address: this.address, code: grpc.status[err.code], details: err.details, attempts: this.reconnectAttempts };
      if (this.reconnectAttempts === 0) this.ctx.logger.warn("peer stream failed", fields);
      else this.ctx.logger.debug("peer stream failed", fields);
      handler.reportUnreachable(this.id);
    }
    this.startBackoff();
  }

  private startBackoff(): void {
    assert(this.backoffTimer === null, "one backoff at a time");
    const capMs = Math.min(this.ctx.reconnectDelayMsMax, this.ctx.reconnectDelayMsMin * 2 ** this.reconnectAttempts);
    // Jitter (half to full delay) so that peers restarted together do not reconnect in lockstep.
    const delayMs = capMs / 2 + (Math.random() * capMs) / 2;
    this.reconnectAttempts = Math.min(this.reconnectAttempts + 1, RECONNECT_ATTEMPTS_COUNTED_MAX);
    this.state = "backoff";
    this.backoffTimer = setTimeout(() => {
      this.backoffTimer = null;
      this.state = "idle";
      if (this.queue.length > 0) this.scheduleFlush();
    }, delayMs);
  }

  private startSnapshot(m: Message): void {
    assert(m.snapshot !== null, "MSG_SNAP carries a snapshot");
    assert(this.snapshotCall === null, "one snapshot in flight per peer");
    const snapshot = m.snapshot;
    const data = snapshot.data;
    const header: Message = { ...m, snapshot: { ...snapshot, data: EMPTY_BYTES } };
    const deadlineMs = SNAPSHOT_DEADLINE_MS_BASE + Math.ceil(data.byteLength / (1 << 20)) * SNAPSHOT_DEADLINE_MS_PER_MIB;
    this.snapshotClient ??= new grpc.Client(this.address, this.ctx.credentials, this.ctx.channelOptions);
    const call: SnapshotCall = this.snapshotClient.makeClientStreamRequest<raftpbTypes.SnapshotChunk.$Properties, WireTransportAck>(
      SEND_SNAPSHOT_PATH,
      serializeSnapshotChunk,
      deserializeTransportAck,
      new grpc.Metadata(),
      { deadline: Date.now() + deadlineMs },
      (err) => this.onSnapshotDone(call, m, err),
    );
    call.on("error", (err: Error) => this.ctx.logger.debug("snapshot stream error event", { peer: this.id, error: err.message }));
    this.snapshotCall = call;
    this.ctx.logger.info("sending snapshot", { peer: this.id, index: snapshot.metadata.index, term: snapshot.metadata.term, sizeBytes: data.byteLength });

    let offset = 0;
    const writeChunks = (): void => {
      while (this.snapshotCall === call) {
        const end = Math.min(offset + this.ctx.snapshotChunkBytesMax, data.byteLength);
        const last = end === data.byteLength;
        const more = call.write({ clusterToken: this.ctx.clusterToken, header: offset === 0 ? header : null, data: data.subarray(offset, end), offset, last });
        this.ctx.stats.snapshotChunksSent++;
        offset = end;
        if (last) {
          call.end();
          return;
        }
        if (!more) {
          call.once("drain", writeChunks);
          return;
        }
      }
    };
    writeChunks();
  }

  private onSnapshotDone(call: SnapshotCall, m: Message, err: grpc.ServiceError | null): void {
    if (this.snapshotCall !== call) return;
    this.snapshotCall = null;
    const handler = this.ctx.handler();
    if (this.closed || handler === null) return;
    const sizeBytes = m.snapshot?.data.byteLength ?? 0;
    if (err === null) {
      this.ctx.stats.snapshotsSent++;
      this.ctx.stats.snapshotBytesSent += sizeBytes;
      this.ctx.logger.info("snapshot sent", { peer: this.id, index: m.snapshot?.metadata.index, sizeBytes });
      handler.reportSnapshot(this.id, true);
    } else {
      this.ctx.stats.snapshotsFailed++;
      this.ctx.logger.warn("snapshot send failed", { peer: this.id, address: this.address, code: grpc.status[err.code], details: err.details, sizeBytes });
      // As etcd's snapshot sender does: the peer is unreachable and the snapshot failed.
      handler.reportUnreachable(this.id);
      handler.reportSnapshot(this.id, false);
    }
    if (this.snapshotToStart !== null) this.scheduleFlush();
  }

  private drop(count: number): false {
    this.ctx.stats.messagesDropped += count;
    return false;
  }
}
