/**
 * The boundary between a Raft node loop and the network. The core produces messages in `Ready`;
 * the node loop hands them to `send` (after persisting, etcd-io/raft's Ready contract) and feeds
 * whatever arrives back into the core through the handler. Raft tolerates loss, duplication and
 * reordering of messages (Raft §5.1), so a transport may drop rather than block.
 */
import type { Message } from "../core/types.js";

export interface TransportHandler {
  /** A message for the local node, already validated (see wire.ts). */
  receive(message: Message): void;
  /** Sending to the peer failed; the node loop steps MsgUnreachable so the leader probes it again. */
  reportUnreachable(peerId: number): void;
  /** A MsgSnap to the peer finished (ok) or failed; the node loop steps MsgSnapStatus. */
  reportSnapshot(peerId: number, ok: boolean): void;
}

export interface Transport {
  start(handler: TransportHandler): Promise<void>;
  /** Queues messages for their `to` peers; never blocks; drops (and counts) when a peer's queue is full — Raft tolerates loss. */
  send(messages: Message[]): void;
  addPeer(id: number, address: string): void;
  removePeer(id: number): void;
  close(): Promise<void>;
}

/** Counters kept by every transport; plain numbers so that metrics exporters can read them. */
export interface TransportStats {
  /** Messages written to a peer stream (or handed to the in-memory network). */
  messagesSent: number;
  /** Messages handed to `TransportHandler.receive`. */
  messagesReceived: number;
  /** Messages dropped before sending: full queue, unknown peer, peer in backoff, oversized. */
  messagesDropped: number;
  batchesSent: number;
  batchesReceived: number;
  /** Incoming batches or snapshot streams refused: malformed, invalid, wrong cluster token. */
  batchesRejected: number;
  snapshotsSent: number;
  snapshotsReceived: number;
  snapshotsFailed: number;
  snapshotChunksSent: number;
  snapshotChunksReceived: number;
  snapshotBytesSent: number;
  snapshotBytesReceived: number;
}

export function emptyTransportStats(): TransportStats {
  return {
    messagesSent: 0,
    messagesReceived: 0,
    messagesDropped: 0,
    batchesSent: 0,
    batchesReceived: 0,
    batchesRejected: 0,
    snapshotsSent: 0,
    snapshotsReceived: 0,
    snapshotsFailed: 0,
    snapshotChunksSent: 0,
    snapshotChunksReceived: 0,
    snapshotBytesSent: 0,
    snapshotBytesReceived: 0,
  };
}
