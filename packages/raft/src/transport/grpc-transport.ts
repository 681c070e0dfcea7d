/**
 * Raft peer traffic over gRPC (proto/raft/transport.proto), shaped after etcd's rafthttp: every
 * node runs a server that receives batches and snapshots from its peers, and keeps one client
 * connection per peer (peer-connection.ts) for what it sends.
 *
 * Receiving is the trust boundary: batches with another cluster's token are refused with
 * FAILED_PRECONDITION, malformed or invalid ones with INVALID_ARGUMENT (wire.ts validates), and
 * snapshots are reassembled under a size cap (snapshot-assembler.ts) before the node sees them.
 * A refused stream ends; the server keeps serving everyone else.
 */
import * as grpc from "@grpc/grpc-js";
import type { raftpbTypes } from "@coxswain/proto";
import { NONE, type Message } from "../core/types.js";
import { assert } from "../core/assert.js";
import { emptyTransportStats, type Transport, type TransportHandler, type TransportStats } from "./transport.js";
import { createTransportLogger, type TransportLogger } from "./log.js";
import { ClusterTokenMismatchError, SnapshotTooLargeError, TransportDecodeError, messagesFromWire } from "./wire.js";
import { SnapshotAssembler } from "./snapshot-assembler.js";
import { PeerConnection, type PeerConnectionContext } from "./peer-connection.js";
import { raftTransportServiceDefinition, type DecodeResult, type RaftTransportServer, type WireMessageBatch, type WireSnapshotChunk } from "./service.js";

/** PEM-encoded material. With `ca`, both sides verify each other (mutual TLS). */
export interface GrpcTransportTls {
  /** CA that signed the peers' certificates; when given, the server requires client certificates. */
  ca?: string | Uint8Array;
  cert: string | Uint8Array;
  key: string | Uint8Array;
  /** Name to verify in peer certificates instead of the host in the peer address. */
  serverNameOverride?: string;
}

export interface GrpcTransportOptions {
  localId: number;
  /** `host:port` to listen on; port 0 picks a free port (see `listenAddress` after start). */
  listenAddress: string;
  /** Refuses traffic from other clusters (etcd's --initial-cluster-token). */
  clusterToken: string;
  /** Initial peers, id → `host:port`. */
  peers?: ReadonlyMap<number, string>;
  tls?: GrpcTransportTls;
  /** Largest data chunk of a snapshot stream. */
  snapshotChunkBytesMax?: number;
  /** Largest snapshot this node accepts from a peer. */
  snapshotBytesMax?: number;
  /** Incoming snapshot streams reassembled at once; more are refused with RESOURCE_EXHAUSTED. */
  snapshotsReceivingMax?: number;
  /** Messages waiting to be sent to one peer; more are dropped. */
  peerQueueMessagesMax?: number;
  /** Target size of one MessageBatch (a batch always holds at least one message). */
  batchBytesMax?: number;
  /** Largest single message sent or accepted; also the gRPC message size limit. */
  messageBytesMax?: number;
  /** Reconnect backoff of a broken peer stream: doubles from min up to max, with jitter. */
  reconnectDelayMsMin?: number;
  reconnectDelayMsMax?: number;
  /** Client keepalive pings on idle peer connections; a missing answer breaks the stream. */
  keepaliveTimeMs?: number;
  keepaliveTimeoutMs?: number;
  logger?: TransportLogger;
}

const MIB = 1 << 20;

export const GRPC_TRANSPORT_DEFAULTS = {
  snapshotChunkBytesMax: MIB,
  snapshotBytesMax: 1024 * MIB,
  snapshotsReceivingMax: 4,
  peerQueueMessagesMax: 4096,
  batchBytesMax: MIB,
  messageBytesMax: 32 * MIB,
  reconnectDelayMsMin: 100,
  reconnectDelayMsMax: 2_000,
  keepaliveTimeMs: 10_000,
  keepaliveTimeoutMs: 5_000,
} as const;

/** The server pings idle clients less often than clients ping it; peers mostly detect failure as senders. */
const SERVER_KEEPALIVE_TIME_MS = 30_000;
const SERVER_KEEPALIVE_TIMEOUT_MS = 10_000;
/** Streams per connection: one message stream and one snapshot stream, plus room for reconnect overlap. */
const SERVER_STREAMS_PER_CONNECTION_MAX = 16;
/** Room for the header message and framing on top of a chunk or message. */
const GRPC_MESSAGE_SLACK_BYTES = 64 * 1024;
/** Unknown destination ids remembered for log de-duplication. */
const UNKNOWN_PEERS_LOGGED_MAX = 1024;

/** The listen address could not be bound. */
export class TransportListenError extends Error {
  override readonly name = "TransportListenError";
}

type Resolved = Required<Omit<GrpcTransportOptions, "peers" | "tls" | "logger">>;

export class GrpcTransport implements Transport {
  readonly stats: TransportStats = emptyTransportStats();
  private readonly options: Resolved;
  private readonly logger: TransportLogger;
  private readonly peers = new Map<number, PeerConnection>();
  private readonly peerContext: PeerConnectionContext;
  private readonly serverCredentials: grpc.ServerCredentials;
  private readonly tlsEnabled: boolean;
  private readonly unknownPeersLogged = new Set<number>();
  private handler: TransportHandler | null = null;
  private server: grpc.Server | null = null;
  private boundPort: number | null = null;
  private snapshotsReceiving = 0;
  private closed = false;

  constructor(opts: GrpcTransportOptions) {
    const o: Resolved = {
      localId: opts.localId,
      listenAddress: opts.listenAddress,
      clusterToken: opts.clusterToken,
      snapshotChunkBytesMax: opts.snapshotChunkBytesMax ?? GRPC_TRANSPORT_DEFAULTS.snapshotChunkBytesMax,
      snapshotBytesMax: opts.snapshotBytesMax ?? GRPC_TRANSPORT_DEFAULTS.snapshotBytesMax,
      snapshotsReceivingMax: opts.snapshotsReceivingMax ?? GRPC_TRANSPORT_DEFAULTS.snapshotsReceivingMax,
      peerQueueMessagesMax: opts.peerQueueMessagesMax ?? GRPC_TRANSPORT_DEFAULTS.peerQueueMessagesMax,
      batchBytesMax: opts.batchBytesMax ?? GRPC_TRANSPORT_DEFAULTS.batchBytesMax,
      messageBytesMax: opts.messageBytesMax ?? GRPC_TRANSPORT_DEFAULTS.messageBytesMax,
      reconnectDelayMsMin: opts.reconnectDelayMsMin ?? GRPC_TRANSPORT_DEFAULTS.reconnectDelayMsMin,
      reconnectDelayMsMax: opts.reconnectDelayMsMax ?? GRPC_TRANSPORT_DEFAULTS.reconnectDelayMsMax,
      keepaliveTimeMs: opts.keepaliveTimeMs ?? GRPC_TRANSPORT_DEFAULTS.keepaliveTimeMs,
      keepaliveTimeoutMs: opts.keepaliveTimeoutMs ?? GRPC_TRANSPORT_DEFAULTS.keepaliveTimeoutMs,
    };
    assert(Number.isSafeInteger(o.localId) && o.localId > NONE, "localId must be a positive integer");
    for (const key of [
      "snapshotChunkBytesMax",
      "snapshotBytesMax",
      "snapshotsReceivingMax",
      "peerQueueMessagesMax",
      "batchBytesMax",
      "messageBytesMax",
      "reconnectDelayMsMin",
      "reconnectDelayMsMax",
      "keepaliveTimeMs",
      "keepaliveTimeoutMs",
    ] as const) {
      assert(Number.isSafeInteger(o[key]) && o[key] > 0, `${key} must be a positive integer`);
    }
    assert(o.batchBytesMax <= o.messageBytesMax, "batchBytesMax must not exceed messageBytesMax");
    assert(o.snapshotChunkBytesMax <= o.messageBytesMax, "snapshotChunkBytesMax must not exceed messageBytesMax");
    assert(o.reconnectDelayMsMin <= o.reconnectDelayMsMax, "reconnectDelayMsMin must not exceed reconnectDelayMsMax");
    this.options = o;
    this.logger = opts.logger ?? createTransportLogger("raft-transport", { fields: { node: o.localId } });

    const grpcMessageBytesMax = o.messageBytesMax + GRPC_MESSAGE_SLACK_BYTES;
    const tls = opts.tls;
    this.tlsEnabled = tls !== undefined;
    this.serverCredentials =
      tls === undefined
        ? grpc.ServerCredentials.createInsecure()
        : grpc.ServerCredentials.createSsl(
            tls.ca === undefined ? null : toBuffer(tls.ca),
            [{ cert_chain: toBuffer(tls.cert), private_key: toBuffer(tls.key) }],
            tls.ca !== undefined,
          );
    const channelOptions: grpc.ChannelOptions = {
      "grpc.max_send_message_length": grpcMessageBytesMax,
      "grpc.keepalive_time_ms": o.keepaliveTimeMs,
      "grpc.keepalive_timeout_ms": o.keepaliveTimeoutMs,
      "grpc.keepalive_permit_without_calls": 1,
      // The channel's own reconnect backoff follows ours, instead of grpc's default of up to 120 s.
      "grpc.initial_reconnect_backoff_ms": o.reconnectDelayMsMin,
      "grpc.max_reconnect_backoff_ms": o.reconnectDelayMsMax,
      // Raft resends what matters; gRPC retries of a client stream would only duplicate.
      "grpc.enable_retries": 0,
      // One connection per peer connection object, not shared with other transports in the process.
      "grpc.use_local_subchannel_pool": 1,
    };
    if (tls?.serverNameOverride !== undefined) channelOptions["grpc.ssl_target_name_override"] = tls.serverNameOverride;
    const clientCredentials =
      tls === undefined
        ? grpc.credentials.createInsecure()
        : grpc.credentials.createSsl(tls.ca === undefined ? null : toBuffer(tls.ca), toBuffer(tls.key), toBuffer(tls.cert));

    this.peerContext = {
      localId: o.localId,
      clusterToken: o.clusterToken,
      stats: this.stats,
      logger: this.logger,
      credentials: clientCredentials,
      channelOptions,
      peerQueueMessagesMax: o.peerQueueMessagesMax,
      batchBytesMax: o.batchBytesMax,
      messageBytesMax: o.messageBytesMax,
      snapshotChunkBytesMax: o.snapshotChunkBytesMax,
      reconnectDelayMsMin: o.reconnectDelayMsMin,
      reconnectDelayMsMax: o.reconnectDelayMsMax,
      handler: () => (this.closed ? null : this.handler),
    };
    for (const [id, address] of opts.peers ?? []) this.addPeer(id, address);
  }

  /** `host:port` actually bound (the real port when listening on port 0). Only after start. */
  get listenAddress(): string {
    assert(this.boundPort !== null, "listenAddress is known once start() resolved");
    const host = this.options.listenAddress.slice(0, this.options.listenAddress.lastIndexOf(":"));
    return `${host}:${this.boundPort}`;
  }

  get port(): number {
    assert(this.boundPort !== null, "port is known once start() resolved");
    return this.boundPort;
  }

  async start(handler: TransportHandler): Promise<void> {
    assert(this.handler === null && !this.closed, "start is called once, before close");
    this.handler = handler;
    const grpcMessageBytesMax = this.options.messageBytesMax + GRPC_MESSAGE_SLACK_BYTES;
    const server = new grpc.Server({
      "grpc.max_receive_message_length": grpcMessageBytesMax,
      "grpc.keepalive_time_ms": SERVER_KEEPALIVE_TIME_MS,
      "grpc.keepalive_timeout_ms": SERVER_KEEPALIVE_TIMEOUT_MS,
      "grpc.max_concurrent_streams": SERVER_STREAMS_PER_CONNECTION_MAX,
    });
    const implementation: RaftTransportServer = {
      SendMessages: (call, callback) => this.handleSendMessages(call, callback),
      SendSnapshot: (call, callback) => this.handleSendSnapshot(call, callback),
    };
    server.addService(raftTransportServiceDefinition, implementation);
    this.server = server;
    this.boundPort = await new Promise<number>((resolve, reject) => {
      server.bindAsync(this.options.listenAddress, this.serverCredentials, (err, port) => {
        if (err === null) resolve(port);
        else reject(new TransportListenError(`cannot listen on ${this.options.listenAddress}: ${err.message}`, { cause: err }));
      });
    });
    this.logger.info("raft transport listening", { address: this.listenAddress, tls: this.tlsEnabled, peers: [...this.peers.keys()] });
  }

  send(messages: Message[]): void {
    assert(this.handler !== null, "send is called after start");
    for (const m of messages) {
      if (this.closed) {
        this.stats.messagesDropped++;
        continue;
      }
      const peer = this.peers.get(m.to);
      if (peer === undefined) {
        // etcd's rafthttp drops messages for unknown peers the same way (membership may be changing).
        this.stats.messagesDropped++;
        this.logUnknownPeer(m.to);
        continue;
      }
      peer.enqueue(m);
    }
  }

  addPeer(id: number, address: string): void {
    assert(Number.isSafeInteger(id) && id > NONE, "peer id must be a positive integer");
    assert(id !== this.options.localId, "a node is not its own peer");
    if (this.closed) return;
    const existing = this.peers.get(id);
    if (existing !== undefined) {
      if (existing.address === address) return;
      existing.close();
    }
    this.peers.set(id, new PeerConnection(id, address, this.peerContext));
    this.unknownPeersLogged.delete(id);
  }

  removePeer(id: number): void {
    const peer = this.peers.get(id);
    if (peer === undefined) return;
    peer.close();
    this.peers.delete(id);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const peer of this.peers.values()) peer.close();
    this.peers.clear();
    // Raft needs no graceful drain: whatever is in flight may be lost like any message.
    this.server?.forceShutdown();
    this.server = null;
  }

  private handleSendMessages(
    call: grpc.ServerReadableStream<DecodeResult<WireMessageBatch>, raftpbTypes.TransportAck.$Properties>,
    callback: grpc.sendUnaryData<raftpbTypes.TransportAck.$Properties>,
  ): void {
    let finished = false;
    const refuse = (code: grpc.status, details: string): void => {
      finished = true;
      this.stats.batchesRejected++;
      this.logger.warn("refused peer batch", { remote: call.getPeer(), code: grpc.status[code], reason: details });
      callback({ code, details });
    };
    call.on("data", (decoded: DecodeResult<WireMessageBatch>) => {
      const handler = this.handler;
      if (finished || this.closed || handler === null) return;
      if (!decoded.ok) return refuse(grpc.status.INVALID_ARGUMENT, `malformed MessageBatch: ${decoded.error}`);
      const batch = decoded.value;
      if (batch.clusterToken !== this.options.clusterToken) {
        return refuse(grpc.status.FAILED_PRECONDITION, `cluster token mismatch: batch from another cluster ("${truncate(batch.clusterToken)}")`);
      }
      let messages: Message[];
      try {
        messages = messagesFromWire(batch.messages, { localId: this.options.localId, snapshotAllowed: false });
      } catch (err) {
        if (err instanceof TransportDecodeError) return refuse(grpc.status.INVALID_ARGUMENT, `invalid MessageBatch: ${err.message}`);
        throw err;
      }
      this.stats.batchesReceived++;
      for (const m of messages) {
        this.stats.messagesReceived++;
        handler.receive(m);
      }
    });
    call.on("end", () => {
      if (finished) return;
      finished = true;
      callback(null, {});
    });
    call.on("cancelled", () => {
      finished = true;
    });
    call.on("error", (err: Error) => {
      finished = true;
      this.logger.debug("peer message stream error", { remote: call.getPeer(), error: err.message });
    });
    // Headers now, not at the end: they tell the sender the stream is accepted (peer-connection.ts).
    call.sendMetadata(new grpc.Metadata());
  }

  private handleSendSnapshot(
    call: grpc.ServerReadableStream<DecodeResult<WireSnapshotChunk>, raftpbTypes.TransportAck.$Properties>,
    callback: grpc.sendUnaryData<raftpbTypes.TransportAck.$Properties>,
  ): void {
    if (this.snapshotsReceiving >= this.options.snapshotsReceivingMax) {
      this.stats.batchesRejected++;
      this.logger.warn("refused snapshot: too many in flight", { remote: call.getPeer(), snapshotsReceivingMax: this.options.snapshotsReceivingMax });
      callback({ code: grpc.status.RESOURCE_EXHAUSTED, details: `already receiving ${this.snapshotsReceiving} snapshots` });
      return;
    }
    this.snapshotsReceiving++;
    const assembler = new SnapshotAssembler({
      localId: this.options.localId,
      clusterToken: this.options.clusterToken,
      snapshotBytesMax: this.options.snapshotBytesMax,
    });
    let finished = false;
    const finish = (): boolean => {
      if (finished) return false;
      finished = true;
      this.snapshotsReceiving--;
      return true;
    };
    const refuse = (err: unknown): void => {
      if (!finish()) return;
      const code = statusForReceiveError(err);
      const details = err instanceof Error ? err.message : String(err);
      this.stats.batchesRejected++;
      this.stats.snapshotsFailed++;
      this.logger.warn("refused peer snapshot", {
        remote: call.getPeer(),
        from: assembler.from,
        code: grpc.status[code],
        reason: details,
        receivedBytes: assembler.receivedBytes,
      });
      callback({ code, details });
    };
    call.on("data", (decoded: DecodeResult<WireSnapshotChunk>) => {
      if (finished || this.closed) return;
      if (!decoded.ok) return refuse(new TransportDecodeError(`malformed SnapshotChunk: ${decoded.error}`));
      try {
        assembler.accept(decoded.value);
      } catch (err) {
        return refuse(err);
      }
      this.stats.snapshotChunksReceived++;
    });
    call.on("end", () => {
      const handler = this.handler;
      if (finished || this.closed || handler === null) return;
      let m: Message;
      try {
        m = assembler.finish();
      } catch (err) {
        return refuse(err);
      }
      finish();
      this.stats.snapshotsReceived++;
      this.stats.snapshotBytesReceived += assembler.receivedBytes;
      this.logger.info("snapshot received", {
        from: m.from,
        index: m.snapshot?.metadata.index,
        term: m.snapshot?.metadata.term,
        sizeBytes: assembler.receivedBytes,
        chunks: assembler.receivedChunks,
      });
      handler.receive(m);
      callback(null, {});
    });
    call.on("cancelled", () => void finish());
    call.on("error", () => void finish());
  }

  private logUnknownPeer(id: number): void {
    if (this.unknownPeersLogged.has(id) || this.unknownPeersLogged.size >= UNKNOWN_PEERS_LOGGED_MAX) return;
    this.unknownPeersLogged.add(id);
    this.logger.warn("dropping messages to unknown peer", { peer: id });
  }
}

/** Errors from the receive path that are expected (peer's fault) map to a status; anything else is a bug. */
function statusForReceiveError(err: unknown): grpc.status {
  if (err instanceof ClusterTokenMismatchError) return grpc.status.FAILED_PRECONDITION;
  if (err instanceof SnapshotTooLargeError) return grpc.status.RESOURCE_EXHAUSTED;
  if (err instanceof TransportDecodeError) return grpc.status.INVALID_ARGUMENT;
  throw err;
}

function toBuffer(pem: string | Uint8Array): Buffer {
  return typeof pem === "string" ? Buffer.from(pem) : Buffer.from(pem.buffer, pem.byteOffset, pem.byteLength);
}

function truncate(s: string): string {
  return s.length > 64 ? `${s.slice(0, 64)}...` : s;
}
