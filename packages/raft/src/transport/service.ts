/**
 * The gRPC service `coxswain.raft.RaftTransport` (proto/raft/transport.proto), defined by hand
 * with the generated protobufjs codecs instead of proto-loader: the wire types stay the ones
 * generated from proto/ (one source of truth) and no .proto is parsed at run time.
 *
 * Requests are decoded into a `DecodeResult<T>` instead of throwing: grpc-js would turn a throwing
 * deserializer into status INTERNAL, while garbage from a peer is the peer's fault and deserves
 * INVALID_ARGUMENT with a clear message (see grpc-transport.ts).
 */
import * as grpc from "@grpc/grpc-js";
import { raftpb, type raftpbTypes } from "@coxswain/proto";

export const RAFT_TRANSPORT_SERVICE_NAME = "coxswain.raft.RaftTransport";
export const SEND_MESSAGES_PATH = `/${RAFT_TRANSPORT_SERVICE_NAME}/SendMessages`;
export const SEND_SNAPSHOT_PATH = `/${RAFT_TRANSPORT_SERVICE_NAME}/SendSnapshot`;

export type DecodeResult<T> = { ok: true; value: T } | { ok: false; error: string };

export type WireMessageBatch = raftpbTypes.MessageBatch;
export type WireSnapshotChunk = raftpbTypes.SnapshotChunk;
export type WireTransportAck = raftpbTypes.TransportAck;

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function decodeSafely<T>(decode: (bytes: Uint8Array) => T): (bytes: Buffer) => DecodeResult<T> {
  return (bytes) => {
    try {
      return { ok: true, value: decode(bytes) };
    } catch (err) {
      return { ok: false, error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
    }
  };
}

export const serializeMessageBatch = (batch: raftpbTypes.MessageBatch.$Properties): Buffer => toBuffer(raftpb.MessageBatch.encode(batch).finish());
export const serializeSnapshotChunk = (chunk: raftpbTypes.SnapshotChunk.$Properties): Buffer => toBuffer(raftpb.SnapshotChunk.encode(chunk).finish());
export const serializeTransportAck = (ack: raftpbTypes.TransportAck.$Properties): Buffer => toBuffer(raftpb.TransportAck.encode(ack).finish());
export const decodeMessageBatch = decodeSafely((b) => raftpb.MessageBatch.decode(b));
export const decodeSnapshotChunk = decodeSafely((b) => raftpb.SnapshotChunk.decode(b));
/** The ack is empty; a client that cannot decode it has a broken peer, so this one may throw. */
export const deserializeTransportAck = (bytes: Buffer): WireTransportAck => raftpb.TransportAck.decode(bytes);

/** Server-side method shapes (what `grpc.Server.addService` sees). */
export interface RaftTransportServer extends grpc.UntypedServiceImplementation {
  SendMessages: grpc.handleClientStreamingCall<DecodeResult<WireMessageBatch>, raftpbTypes.TransportAck.$Properties>;
  SendSnapshot: grpc.handleClientStreamingCall<DecodeResult<WireSnapshotChunk>, raftpbTypes.TransportAck.$Properties>;
}

export const raftTransportServiceDefinition = {
  SendMessages: {
    path: SEND_MESSAGES_PATH,
    requestStream: true,
    responseStream: false,
    requestSerialize: serializeMessageBatch,
    requestDeserialize: decodeMessageBatch,
    responseSerialize: serializeTransportAck,
    responseDeserialize: deserializeTransportAck,
    originalName: "sendMessages",
  },
  SendSnapshot: {
    path: SEND_SNAPSHOT_PATH,
    requestStream: true,
    responseStream: false,
    requestSerialize: serializeSnapshotChunk,
    requestDeserialize: decodeSnapshotChunk,
    responseSerialize: serializeTransportAck,
    responseDeserialize: deserializeTransportAck,
    originalName: "sendSnapshot",
  },
} satisfies grpc.ServiceDefinition<RaftTransportServer>;

/**
 * A generic client class for the service, for tools and tests. Its methods are untyped
 * (`client.SendMessages(callback)` returns a writable stream); GrpcTransport itself uses
 * `grpc.Client.makeClientStreamRequest` with the definitions above, which is typed.
 */
export const RaftTransportClient = grpc.makeGenericClientConstructor(raftTransportServiceDefinition, RAFT_TRANSPORT_SERVICE_NAME);
