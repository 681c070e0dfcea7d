/**
 * The one place where decoded protobuf messages become the core's plain `Message` shape.
 * Everything that arrives from the network is untrusted: it is validated here, once, and a bad
 * message rejects its whole batch with a `TransportDecodeError` (CONVENTIONS rule 3). The core
 * behind this function can then rely on every field being present and well-typed.
 */
import type { raftpbTypes } from "@coxswain/proto";
import {
  EMPTY_BYTES,
  EntryType,
  MessageType,
  NONE,
  entrySizeBytes,
  isLocalMessage,
  type ConfState,
  type Entry,
  type Message,
  type Snapshot,
} from "../core/types.js";

/** Input from a peer that is not a valid Raft transport message. Maps to gRPC INVALID_ARGUMENT. */
export class TransportDecodeError extends Error {
  override readonly name = "TransportDecodeError";
}

/** A peer from another cluster (etcd's --initial-cluster-token). Maps to gRPC FAILED_PRECONDITION. */
export class ClusterTokenMismatchError extends Error {
  override readonly name = "ClusterTokenMismatchError";
}

/** An incoming snapshot larger than the receiver accepts. Maps to gRPC RESOURCE_EXHAUSTED. */
export class SnapshotTooLargeError extends Error {
  override readonly name = "SnapshotTooLargeError";
}

type WireMessage = raftpbTypes.Message.$Properties;
type WireEntry = raftpbTypes.Entry.$Properties;
type WireSnapshot = raftpbTypes.Snapshot.$Properties;

export interface MessageFromWireOptions {
  /** The receiving node; a message addressed to anyone else is misrouted. */
  localId: number;
  /** MsgSnap is accepted only as the header of a SendSnapshot stream, never inside a batch. */
  snapshotAllowed: boolean;
}

/**
 * Converts and validates one decoded message. Decoded protobufjs objects keep defaults on their
 * prototype and may leave `snapshot` null or undefined; the result is a plain object with every
 * field present, `snapshot: null` when absent, and bytes as plain (copied) Uint8Arrays that do not
 * pin gRPC's receive buffers.
 */
export function messageFromWire(wire: WireMessage, options: MessageFromWireOptions): Message {
  const type = ownField(wire, "type") ?? MessageType.MSG_HUP;
  if (!isKnownEnumValue(MessageType, type)) throw new TransportDecodeError(`unknown message type ${String(type)}`);
  const name = MessageType[type];
  // etcd-io/raft rawnode.Step: local messages (hup, beat, unreachable, ...) never come over the network.
  if (isLocalMessage(type)) throw new TransportDecodeError(`${name} is local to a node and cannot arrive from a peer`);
  const to = u64(ownField(wire, "to"), "to", name);
  const from = u64(ownField(wire, "from"), "from", name);
  if (to === NONE) throw new TransportDecodeError(`${name} has no destination (to=0)`);
  if (from === NONE) throw new TransportDecodeError(`${name} has no sender (from=0)`);
  if (to !== options.localId) throw new TransportDecodeError(`${name} is addressed to node ${to}, this is node ${options.localId}`);
  if (from === options.localId) throw new TransportDecodeError(`${name} claims to come from this node (${from})`);

  const wireSnapshot = ownField(wire, "snapshot");
  let snapshot: Snapshot | null = null;
  if (type === MessageType.MSG_SNAP) {
    if (!options.snapshotAllowed) throw new TransportDecodeError("MSG_SNAP must travel on SendSnapshot, not in a message batch");
    if (wireSnapshot === null || wireSnapshot === undefined) throw new TransportDecodeError("MSG_SNAP without a snapshot");
    snapshot = snapshotFromWire(wireSnapshot);
  } else if (wireSnapshot !== null && wireSnapshot !== undefined) {
    throw new TransportDecodeError(`${name} carries a snapshot; only MSG_SNAP may`);
  }

  const entries: Entry[] = [];
  for (const e of ownField(wire, "entries") ?? []) entries.push(entryFromWire(e, name));

  return {
    type,
    to,
    from,
    term: u64(ownField(wire, "term"), "term", name),
    logTerm: u64(ownField(wire, "logTerm"), "logTerm", name),
    index: u64(ownField(wire, "index"), "index", name),
    entries,
    commit: u64(ownField(wire, "commit"), "commit", name),
    snapshot,
    reject: ownField(wire, "reject") === true,
    rejectHint: u64(ownField(wire, "rejectHint"), "rejectHint", name),
    context: bytesFromWire(ownField(wire, "context")),
  };
}

/** Converts a whole batch; any invalid message rejects all of them (no partial delivery). */
export function messagesFromWire(wire: readonly WireMessage[] | null | undefined, options: MessageFromWireOptions): Message[] {
  const out: Message[] = [];
  let i = 0;
  for (const w of wire ?? []) {
    try {
      out.push(messageFromWire(w, options));
    } catch (err) {
      if (err instanceof TransportDecodeError) throw new TransportDecodeError(`message ${i} of the batch: ${err.message}`);
      throw err;
    }
    i++;
  }
  return out;
}

function entryFromWire(wire: WireEntry, messageName: string): Entry {
  const type = ownField(wire, "type") ?? EntryType.ENTRY_NORMAL;
  if (!isKnownEnumValue(EntryType, type)) throw new TransportDecodeError(`${messageName} has an entry of unknown type ${String(type)}`);
  return {
    term: u64(ownField(wire, "term"), "entry.term", messageName),
    index: u64(ownField(wire, "index"), "entry.index", messageName),
    type,
    data: bytesFromWire(ownField(wire, "data")),
  };
}

function snapshotFromWire(wire: WireSnapshot): Snapshot {
  const metadata = ownField(wire, "metadata");
  if (metadata === null || metadata === undefined) throw new TransportDecodeError("MSG_SNAP snapshot without metadata");
  const wireConfState = ownField(metadata, "confState");
  const confState: ConfState = {
    voters: ((wireConfState && ownField(wireConfState, "voters")) ?? []).map((v) => u64(v, "confState.voters", "MSG_SNAP")),
    learners: ((wireConfState && ownField(wireConfState, "learners")) ?? []).map((v) => u64(v, "confState.learners", "MSG_SNAP")),
  };
  return {
    data: bytesFromWire(ownField(wire, "data")),
    metadata: {
      confState,
      index: u64(ownField(metadata, "index"), "snapshot.index", "MSG_SNAP"),
      term: u64(ownField(metadata, "term"), "snapshot.term", "MSG_SNAP"),
    },
  };
}

/**
 * A field's value only if it was on the wire (or set on a plain object), never a default inherited
 * from a decoded message's prototype: those defaults are not data, and for 64-bit fields they may
 * be protobufjs Long objects rather than numbers, depending on when longs were configured.
 */
export function ownField<T extends object, K extends keyof T>(value: T, key: K): T[K] | undefined {
  return Object.hasOwn(value, key) ? value[key] : undefined;
}

/** The decoder already refuses values above 2^53 (packages/proto longs.ts); this guards the type. */
function u64(value: number | null | undefined, field: string, messageName: string): number {
  if (value === null || value === undefined) return 0;
  if (!Number.isSafeInteger(value) || value < 0) throw new TransportDecodeError(`${messageName}.${field} is not a safe unsigned integer: ${String(value)}`);
  return value;
}

function bytesFromWire(value: Uint8Array | null | undefined): Uint8Array {
  if (value === null || value === undefined || value.byteLength === 0) return EMPTY_BYTES;
  return new Uint8Array(value);
}

function isKnownEnumValue(enumObject: object, value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && typeof (enumObject as Record<number, unknown>)[value] === "string";
}

/**
 * Approximate encoded size of a message, for batch byte limits. Over-estimates slightly
 * (fixed 64 bytes for the scalar fields) so that a batch never exceeds the gRPC message limit.
 */
export function messageSizeBytesEstimate(m: Message): number {
  let size = 64 + m.context.byteLength;
  for (const e of m.entries) size += entrySizeBytes(e);
  if (m.snapshot !== null) {
    const cs = m.snapshot.metadata.confState;
    size += 32 + m.snapshot.data.byteLength + 10 * (cs.voters.length + cs.learners.length);
  }
  return size;
}
