/**
 * Just enough of the protobuf wire format to cope with real etcd's 64-bit identifiers.
 *
 * The generated codecs decode every 64-bit field as a JS number and throw UnsafeIntegerError
 * above 2^53 − 1 (docs/decisions/64-bit-integers.md). Coxswain's store draws its ids below that;
 * real etcd does not: the cluster and member ids in every ResponseHeader, and the lease ids it
 * picks, use all 64 bits. Two ways out, both here so that no package carries its own walker:
 *   - read such ids as bigint and strip their fields (topLevelFields, uint64Field, withoutFields)
 *     — for tools that need the ids (benchmarks, test harnesses);
 *   - decodeLeniently: when the strict decode refuses a response, drop the fields that may hold
 *     such ids (they then decode as 0) and decode again — for clients that need none of them (the
 *     API server's storage layer). Revisions, versions and counts are never dropped: a refusal
 *     there is a real corruption and surfaces.
 */
import { UnsafeIntegerError } from "./longs.js";

export const WireType = { varint: 0, fixed64: 1, lengthDelimited: 2, fixed32: 5 } as const;

export class WireFormatError extends Error {
  override readonly name = "WireFormatError";
}

/** A varint is at most 10 bytes (64 bits, 7 per byte). */
const VARINT_BYTES_MAX = 10;

export interface Varint {
  value: bigint;
  /** Offset just after the varint. */
  next: number;
}

export function readVarint(bytes: Uint8Array, offset: number): Varint {
  let value = 0n;
  for (let i = 0; i < VARINT_BYTES_MAX; i++) {
    const at = offset + i;
    if (at >= bytes.length) throw new WireFormatError(`truncated varint at offset ${offset}`);
    const byte = bytes[at]!;
    value |= BigInt(byte & 0x7f) << BigInt(7 * i);
    if ((byte & 0x80) === 0) return { value: BigInt.asUintN(64, value), next: at + 1 };
  }
  throw new WireFormatError(`varint longer than ${VARINT_BYTES_MAX} bytes at offset ${offset}`);
}

export interface WireField {
  fieldNumber: number;
  wireType: number;
  /** Offset of the field's tag: [start, end) is the whole field, tag included. */
  start: number;
  end: number;
  /** The value for varint fields; null otherwise. */
  varint: bigint | null;
  /** [payloadStart, end) is the payload of a length-delimited field. */
  payloadStart: number;
}

/** The top-level fields of one encoded message, in wire order. */
export function* topLevelFields(bytes: Uint8Array): Generator<WireField> {
  let offset = 0;
  while (offset < bytes.length) {
    const tag = readVarint(bytes, offset);
    const fieldNumber = Number(tag.value >> 3n);
    const wireType = Number(tag.value & 7n);
    if (fieldNumber === 0) throw new WireFormatError(`field number 0 at offset ${offset}`);
    let end: number;
    let varint: bigint | null = null;
    let payloadStart = tag.next;
    switch (wireType) {
      case WireType.varint: {
        const v = readVarint(bytes, tag.next);
        varint = v.value;
        end = v.next;
        break;
      }
      case WireType.fixed64:
        end = tag.next + 8;
        break;
      case WireType.fixed32:
        end = tag.next + 4;
        break;
      case WireType.lengthDelimited: {
        const length = readVarint(bytes, tag.next);
        payloadStart = length.next;
        end = length.next + Number(length.value);
        break;
      }
      default:
        throw new WireFormatError(`unsupported wire type ${wireType} (field ${fieldNumber}) at offset ${offset}`);
    }
    if (end > bytes.length) throw new WireFormatError(`field ${fieldNumber} runs past the end of the message`);
    yield { fieldNumber, wireType, start: offset, end, varint, payloadStart };
    offset = end;
  }
}

/** The message without the given top-level fields (a copy only when something is removed). */
export function withoutFields(bytes: Uint8Array, fieldNumbers: ReadonlySet<number>): Uint8Array {
  const kept: Array<[number, number]> = [];
  let removed = false;
  for (const f of topLevelFields(bytes)) {
    if (fieldNumbers.has(f.fieldNumber)) removed = true;
    else kept.push([f.start, f.end]);
  }
  if (!removed) return bytes;
  const out = new Uint8Array(kept.reduce((sum, [s, e]) => sum + e - s, 0));
  let at = 0;
  for (const [s, e] of kept) {
    out.set(bytes.subarray(s, e), at);
    at += e - s;
  }
  return out;
}

/** The last occurrence of a top-level varint field (protobuf's "last one wins"), 0n when absent. */
export function uint64Field(bytes: Uint8Array, fieldNumber: number): bigint {
  let value = 0n;
  for (const f of topLevelFields(bytes)) if (f.fieldNumber === fieldNumber && f.varint !== null) value = f.varint;
  return value;
}

/** The payload of the last occurrence of a top-level length-delimited field, or null. */
export function messageField(bytes: Uint8Array, fieldNumber: number): Uint8Array | null {
  let payload: Uint8Array | null = null;
  for (const f of topLevelFields(bytes)) {
    if (f.fieldNumber === fieldNumber && f.wireType === WireType.lengthDelimited) payload = bytes.subarray(f.payloadStart, f.end);
  }
  return payload;
}

/** Nesting of the schemas below (Txn inside Txn is the only recursion; etcd caps it by its txn rules). */
const MESSAGE_DEPTH_MAX = 32;
const SAFE_INTEGER_MAX = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * Which fields of a message to look into: `id` marks a 64-bit identifier dropped when it does not
 * fit in a number; a nested schema marks an embedded message (or each element of a repeated one).
 */
export interface MessageSchema {
  readonly [fieldNumber: number]: "id" | MessageSchema;
}

function varintBytes(value: number): number[] {
  const out: number[] = [];
  let v = value;
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}

/** The message with unrepresentable ids removed; the same array when nothing had to change. */
export function withoutUnsafeIds(bytes: Uint8Array, schema: MessageSchema, depth = 0): Uint8Array {
  if (depth > MESSAGE_DEPTH_MAX) throw new WireFormatError(`messages nested deeper than ${MESSAGE_DEPTH_MAX}`);
  const pieces: Uint8Array[] = [];
  let changed = false;
  let offset = 0;
  while (offset < bytes.length) {
    const tag = readVarint(bytes, offset);
    const fieldNumber = Number(tag.value >> 3n);
    const wireType = Number(tag.value & 7n);
    if (fieldNumber === 0) throw new WireFormatError(`field number 0 at offset ${offset}`);
    const rule = schema[fieldNumber];
    let end: number;
    let piece: Uint8Array | null = null;
    switch (wireType) {
      case WireType.varint: {
        const v = readVarint(bytes, tag.next);
        end = v.next;
        if (rule === "id" && v.value > SAFE_INTEGER_MAX) piece = new Uint8Array(0);
        break;
      }
      case WireType.fixed64:
        end = tag.next + 8;
        break;
      case WireType.fixed32:
        end = tag.next + 4;
        break;
      case WireType.lengthDelimited: {
        const length = readVarint(bytes, tag.next);
        end = length.next + Number(length.value);
        if (end > bytes.length) throw new WireFormatError(`field ${fieldNumber} runs past the end of the message`);
        if (rule !== undefined && rule !== "id") {
          const payload = bytes.subarray(length.next, end);
          const cleaned = withoutUnsafeIds(payload, rule, depth + 1);
          if (cleaned !== payload) {
            const head = [...bytes.subarray(offset, tag.next), ...varintBytes(cleaned.length)];
            piece = new Uint8Array(head.length + cleaned.length);
            piece.set(head, 0);
            piece.set(cleaned, head.length);
          }
        }
        break;
      }
      default:
        throw new WireFormatError(`unsupported wire type ${wireType} (field ${fieldNumber}) at offset ${offset}`);
    }
    if (end > bytes.length) throw new WireFormatError(`field ${fieldNumber} runs past the end of the message`);
    if (piece !== null) changed = true;
    pieces.push(piece ?? bytes.subarray(offset, end));
    offset = end;
  }
  if (!changed) return bytes;
  const out = new Uint8Array(pieces.reduce((sum, p) => sum + p.length, 0));
  let at = 0;
  for (const p of pieces) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

// ---- etcd's response messages (field numbers from proto/etcd/etcdserverpb/rpc.proto and mvccpb/kv.proto) ----

/** ResponseHeader: cluster_id = 1, member_id = 2 (revision and raft_term are counters). */
const header: MessageSchema = { 1: "id", 2: "id" };
/** mvccpb.KeyValue: lease = 6 (real etcd picks lease ids from the whole range). */
const keyValue: MessageSchema = { 6: "id" };

export const rangeResponseSchema: MessageSchema = { 1: header, 2: keyValue };
export const putResponseSchema: MessageSchema = { 1: header, 2: keyValue };
export const deleteRangeResponseSchema: MessageSchema = { 1: header, 3: keyValue };
const responseOp: Record<number, MessageSchema> = { 1: rangeResponseSchema, 2: putResponseSchema, 3: deleteRangeResponseSchema };
export const txnResponseSchema: MessageSchema = { 1: header, 3: responseOp };
responseOp[4] = txnResponseSchema;
/** WatchResponse: events = 11, each mvccpb.Event with kv = 2 and prev_kv = 3. */
export const watchResponseSchema: MessageSchema = { 1: header, 11: { 2: keyValue, 3: keyValue } };
/** Lease responses carry the lease ID in field 2. */
export const leaseResponseSchema: MessageSchema = { 1: header, 2: "id" };
export const headerOnlyResponseSchema: MessageSchema = { 1: header };

interface Decoder<T> {
  decode(reader: Uint8Array): T;
}

/**
 * Decodes with the strict codec; when it refuses a 64-bit value, decodes again without the id
 * fields the schema names. Etcd encodes the header first, so the refused attempt is short.
 */
export function decodeLeniently<T>(codec: Decoder<T>, bytes: Uint8Array, schema: MessageSchema): T {
  try {
    return codec.decode(bytes);
  } catch (err) {
    if (!(err instanceof UnsafeIntegerError)) throw err;
    return codec.decode(withoutUnsafeIds(bytes, schema));
  }
}

// ---- Reading etcd responses that carry 64-bit ids, for tools that talk to real etcd ----

/** Field numbers in etcd's rpc.proto: every response's header, the member id in it, Status.leader. */
const RESPONSE_HEADER_FIELD = 1;
const HEADER_MEMBER_ID_FIELD = 2;
const STATUS_LEADER_FIELD = 4;
const HEADER_ONLY = new Set([RESPONSE_HEADER_FIELD]);
const STATUS_ID_FIELDS = new Set([RESPONSE_HEADER_FIELD, STATUS_LEADER_FIELD]);

/** Decodes an etcd response whose header (and its 64-bit ids) the caller does not need. */
export function decodeWithoutHeader<T>(codec: { decode(bytes: Uint8Array): T }, bytes: Uint8Array): T {
  return codec.decode(withoutFields(bytes, HEADER_ONLY));
}

/**
 * A Maintenance.Status response: the answering member's id and the leader's id as bigint (etcd's
 * use all 64 bits), and the rest decoded by the given codec with those fields removed.
 */
export function decodeStatusWithIds<T>(codec: { decode(bytes: Uint8Array): T }, bytes: Uint8Array): { memberId: bigint; leaderId: bigint; status: T } {
  const header = messageField(bytes, RESPONSE_HEADER_FIELD);
  return {
    memberId: header === null ? 0n : uint64Field(header, HEADER_MEMBER_ID_FIELD),
    leaderId: uint64Field(bytes, STATUS_LEADER_FIELD),
    status: codec.decode(withoutFields(bytes, STATUS_ID_FIELDS)),
  };
}
